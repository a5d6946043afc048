"""How fast are the indicator pages at 1,000,000 and 10,000,000 events on PostgreSQL, beside a
naive plain GROUP BY over the raw events in the same run?

    .venv/bin/python bench/indicators.py                       # 1,000,000 and 10,000,000
    .venv/bin/python bench/indicators.py --sizes 100000,300000  # quicker

It starts a throwaway PostgreSQL cluster (bench/pgtemp.py), migrates, makes a synthetic city
with `gezhi gen-city --grids 2000 --people 0` (17 subdistricts, 167 communities), then for
each size generates the history with `gezhi gen-events` (cumulatively: the second size adds to
the first; the events beyond --timeline-up-to are written without timelines, which the
benchmark does not read) over the last 3 years, VACUUM ANALYZEs, and in a fresh Python process
times each question three ways, each the best of --repeat runs:

- Gezhi: `gezhi.indicators.selectors.indicator_report` (rollups; the API's work),
- naive: the same counts from one plain GROUP BY over the events (Django ORM, the same
  aggregates as the rollups' definition), for the same period and units,
- page: GET of the console page (Django test client, logged in as an administrator): the
  report, the monthly trend, the charts' data and the ranking table, rendered.

The Gezhi and naive answers must agree exactly (every count, rate and average), or the run
fails.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

from pgtemp import DURABLE, gezhi_database, machine  # bench/, the script's directory

ROOT = Path(__file__).resolve().parent.parent
DISTRICT = "370499"  # gen-city's synthetic district


# ---------------------------------------------------------------------------------------------
# The child: timings against the database in DATABASE_URL


def _questions(today: dt.date):
    from gezhi.regions.models import Level, Region

    district = Region.objects.get(code=DISTRICT)
    subdistrict = Region.objects.filter(parent=district).order_by("code").first()
    year_ago = today.replace(year=today.year - 1) + dt.timedelta(days=1)
    history = today.replace(year=today.year - 3) + dt.timedelta(days=1)
    this_year = dt.date(today.year, 1, 1)
    # (label, by, within, start, end, naive group-by lookup, naive filter)
    return [
        ("whole city by subdistrict, last 12 months", Level.SUBDISTRICT, district, year_ago,
         today, "grid__parent__parent_id", {}),
        ("whole city by community, 3 years", Level.COMMUNITY, district, history, today,
         "grid__parent_id", {}),
        ("whole city by department, last 12 months", "department", district, year_ago, today,
         "department_id", {}),
        ("one subdistrict by grid, this year", Level.GRID, subdistrict, this_year, today,
         "grid_id", {"grid__path__startswith": subdistrict.path}),
        ("one subdistrict by community, last 12 months", Level.COMMUNITY, subdistrict,
         year_ago, today, "grid__parent_id", {"grid__path__startswith": subdistrict.path}),
    ]


def _naive(group: str, extra: dict, start: dt.date, end: dt.date) -> dict:
    """One plain GROUP BY over the events: {unit id: finished indicators}."""
    from django.db.models import Count

    from gezhi.core import clock
    from gezhi.events.models import Event
    from gezhi.events.selectors import overdue_q
    from gezhi.indicators.rollup import event_aggregates, local_bounds
    from gezhi.indicators.selectors import finish

    low, high = local_bounds(start, end)
    aggregates = event_aggregates()
    aggregates["overdue"] = Count("pk", filter=overdue_q(clock.now()))
    # (annotations prefixed: some counts share their name with an event column)
    rows = (Event.objects.filter(reported_at__gte=low, reported_at__lt=high, **extra)
            .order_by().values(group).annotate(**{f"s_{k}": v for k, v in aggregates.items()}))
    out = {}
    us = dt.timedelta(microseconds=1)
    for found in rows:
        unit = found.pop(group)
        row = {k[2:]: v for k, v in found.items()}
        for key in ("accept_us", "dispatch_us", "close_us"):
            row[key] = (row[key] or dt.timedelta()) // us
        out[unit] = finish(row)
    return out


def _best(fn, repeat: int) -> tuple[float, float, object]:
    times, result = [], None
    for _ in range(repeat):
        started = time.perf_counter()
        result = fn()
        times.append((time.perf_counter() - started) * 1000)
    return min(times), statistics.median(times), result


def child_measure(args) -> dict:
    os.environ["DJANGO_SETTINGS_MODULE"] = "gezhi.settings"
    sys.path.insert(0, str(ROOT))
    import django

    django.setup()
    from django.db import connection
    from django.test import Client
    from django.utils import timezone

    from gezhi.accounts.models import Department, User
    from gezhi.events.models import Event, TimelineEntry
    from gezhi.indicators.models import Rollup
    from gezhi.indicators.selectors import indicator_report
    from gezhi.regions.models import Region

    today = timezone.localdate()
    admin, _ = User.objects.get_or_create(username="bench-admin",
                                          defaults={"is_superuser": True, "is_staff": True})
    client = Client()
    client.force_login(admin)
    client.defaults["SERVER_NAME"] = "localhost"
    region_codes = dict(Region.objects.values_list("pk", "code"))
    department_codes = dict(Department.objects.values_list("pk", "code"))
    results = []
    for label, by, within, start, end, group, extra in _questions(today):
        def gezhi(by=by, within=within, start=start, end=end):
            return indicator_report(viewer=None, by=by, within=within, start=start, end=end)

        g_best, g_median, report = _best(gezhi, args.repeat)
        n_best, n_median, naive = _best(lambda g=group, e=extra, s=start, t=end: _naive(
            g, e, s, t), min(args.repeat, 3))
        codes = department_codes if by == "department" else region_codes
        mismatches = []
        by_code = {r["unit"]["code"]: r for r in report.rows}
        for unit, expected in naive.items():
            if unit is None:  # no department: in the total only
                continue
            row = by_code.get(codes[unit])
            got = {k: v for k, v in row.items() if k != "unit"} if row else None
            if got != expected:
                mismatches.append((codes[unit], got, expected))
        if mismatches:
            raise SystemExit(f"{label}: the rollups and the naive GROUP BY differ: "
                             f"{mismatches[:2]}")
        query = {"by": by, "within": within.code, "start": f"{start}", "end": f"{end}"}
        p_best, p_median, response = _best(lambda q=query: client.get("/console/indicators/", q),
                                           args.repeat)
        if response.status_code != 200:
            raise SystemExit(f"page {label}: HTTP {response.status_code}")
        results.append({"label": label, "units": len(report.rows),
                        "reported": report.total["reported"], "gezhi_best": g_best,
                        "gezhi_median": g_median, "naive_best": n_best,
                        "naive_median": n_median, "page_best": p_best,
                        "page_median": p_median, "page_kb": len(response.content) / 1024})
    with connection.cursor() as cursor:
        cursor.execute("SHOW server_version")
        version = cursor.fetchone()[0]
        sizes = {}
        for model in (Event, TimelineEntry, Rollup):
            table = model._meta.db_table
            cursor.execute("SELECT pg_total_relation_size(%s)", [table])
            sizes[table] = cursor.fetchone()[0] / 1024 / 1024
    return {"results": results, "events": Event.objects.count(),
            "timeline": TimelineEntry.objects.count(), "rollups": Rollup.objects.count(),
            "sizes_mib": sizes, "postgresql": version, "django": django.get_version()}


# ---------------------------------------------------------------------------------------------
# The parent: cluster, city, histories


def gezhi(env: dict, *args: str) -> float:
    started = time.perf_counter()
    subprocess.run([sys.executable, "-m", "gezhi", *args], cwd=ROOT, env=env, check=True)
    return time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", default="1000000,10000000",
                        help="total events at each measurement, ascending")
    parser.add_argument("--grids", type=int, default=2000)
    parser.add_argument("--days", type=int, default=1096, help="history length (3 years)")
    parser.add_argument("--timeline-up-to", type=int, default=1_000_000,
                        help="events generated with their timelines; the rest without")
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--database-url", help="an empty PostgreSQL database to use instead "
                        "of a throwaway cluster")
    parser.add_argument("--child", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        print(json.dumps(child_measure(args)))
        return

    sizes = sorted(int(s) for s in args.sizes.split(","))
    print(machine(), file=sys.stderr)
    # Production-like: durable, with the memory and WAL room PostgreSQL advises for loads.
    settings = {**DURABLE, "shared_buffers": "2GB", "max_wal_size": "16GB",
                "effective_cache_size": "16GB"}
    runs = []
    with gezhi_database(database_url=args.database_url, settings=settings) as db:
        city = gezhi(db.env, "gen-city", "--grids", str(args.grids), "--people", "0")
        print(f"city: {city:.0f} s", file=sys.stderr)
        done = 0
        for size in sizes:
            generated = 0.0
            while done < size:
                with_timeline = done < args.timeline_up_to
                step = min(size, args.timeline_up_to) - done if with_timeline else size - done
                generated += gezhi(db.env, "gen-events", "--events", str(step), "--days",
                                   str(args.days), "--seed", str(done + 1),
                                   *([] if with_timeline else ["--no-timeline"]))
                done += step
            import psycopg

            with psycopg.connect(db.url, autocommit=True) as conn:
                conn.execute("VACUUM ANALYZE")
            result = run_child(db.env, args)
            result["generate_seconds"] = generated
            print(json.dumps(result, ensure_ascii=False), file=sys.stderr)
            runs.append(result)

    print(f"\nPostgreSQL {runs[0]['postgresql']}, Django {runs[0]['django']}; {machine()}")
    for run in runs:
        print(f"\n{run['events']:,} events ({run['timeline']:,} timeline entries), "
              f"{run['rollups']:,} rollup rows; "
              + ", ".join(f"{t} {mib:,.0f} MiB" for t, mib in run["sizes_mib"].items())
              + f"; generated in {run['generate_seconds']:.0f} s\n")
        print("| question | units | events in period | Gezhi ms (best / median) | "
              "naive GROUP BY ms (best / median) | naive / Gezhi | page ms (best / median) |")
        print("|---|---:|---:|---:|---:|---:|---:|")
        for r in run["results"]:
            print(f"| {r['label']} | {r['units']:,} | {r['reported']:,} | "
                  f"{r['gezhi_best']:.1f} / {r['gezhi_median']:.1f} | "
                  f"{r['naive_best']:,.0f} / {r['naive_median']:,.0f} | "
                  f"**{r['naive_best'] / r['gezhi_best']:,.0f}×** | "
                  f"{r['page_best']:.0f} / {r['page_median']:.0f} |")


def run_child(env: dict, args) -> dict:
    command = [sys.executable, __file__, "--child", "measure", "--repeat", str(args.repeat)]
    done = subprocess.run(command, cwd=ROOT, env=env, stdout=subprocess.PIPE, check=True)
    return json.loads(done.stdout.decode().strip().splitlines()[-1])


if __name__ == "__main__":
    main()
