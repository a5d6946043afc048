"""`gezhi gen-events --events N [--days D] [--within CODE] [--seed S] [--no-timeline]`: a
generated event history for benchmarks (gezhi.indicators.history), written in bulk.

Events are spread over the grids of the region (default: the synthetic district that
`gezhi gen-city` makes) and the last D days, each simulated through the closed loop with its
timeline, then the indicator rollups are rebuilt. --no-timeline writes the events alone (and
the rollups): enough for the indicator benchmark, far quicker for ten million.
"""

from __future__ import annotations

import time

from django.core.management.base import BaseCommand, CommandError
from django.db import connection

from gezhi.demo.citygen import SYNTHETIC_DISTRICT_CODE
from gezhi.indicators.history import CITY, DEMO, generate_history
from gezhi.regions.models import Level, Region

MAX_EVENTS = 20_000_000


class Command(BaseCommand):
    help = ("生成模拟事件历史(含流转记录)并重建指标汇总,用于性能测试 / Generate a consistent event "
            "history (with timelines) and rebuild the indicator rollups, for benchmarks")

    def add_arguments(self, parser):
        parser.add_argument("--events", type=int, default=100_000,
                            help="事件数 / events (default 100000)")
        parser.add_argument("--days", type=int, default=365,
                            help="分布在最近多少天 / over the last N days (default 365)")
        parser.add_argument("--within", default=SYNTHETIC_DISTRICT_CODE,
                            help="区划代码,事件落在其下的网格 / region code whose grids get the "
                                 f"events (default {SYNTHETIC_DISTRICT_CODE}, from gen-city)")
        parser.add_argument("--seed", type=int, default=1, help="随机种子 / seed")
        parser.add_argument("--profile", choices=["city", "demo"], default="city",
                            help="city: 12345 与部门处置较多; demo: 绝大多数由网格员自行处置 / "
                                 "city: much work for departments; demo: mostly self-resolved")
        parser.add_argument("--no-timeline", action="store_true",
                            help="只写事件和指标汇总,不写流转记录 / events and rollups only")

    def handle(self, *args, events, days, within, seed, profile, no_timeline, **options):
        if not 1 <= events <= MAX_EVENTS:
            raise CommandError(f"--events 应在 1 到 {MAX_EVENTS:,} 之间 / --events must be "
                               f"1–{MAX_EVENTS:,}")
        if not 1 <= days <= 3660:
            raise CommandError("--days 应在 1 到 3660 之间 / --days must be 1–3660")
        region = Region.objects.filter(code=within).first()
        if region is None:
            raise CommandError(f"找不到区划 {within};先运行 gezhi gen-city / no region {within}; "
                               "run gezhi gen-city first")
        grids = list(Region.objects.filter(path__startswith=region.path, level=Level.GRID)
                     .order_by("path"))
        if not grids:
            raise CommandError(f"{region.name} 下没有网格 / {within} has no grids")
        out = self.stdout
        out.write(f"数据库 database: {connection.vendor} · {region.name}({within}) · "
                  f"{len(grids):,} 个网格 grids")
        started = time.monotonic()
        counts = generate_history(grids=grids, events=events, days=days, seed=seed,
                                  profile=DEMO if profile == "demo" else CITY,
                                  timeline=not no_timeline, stdout=out)
        out.write("=" * 60)
        out.write(self.style.SUCCESS("事件历史已生成 / event history generated"))
        out.write(f"  {counts['events']:>12,}  事件 events")
        out.write(f"  {counts['timeline']:>12,}  流转记录 timeline entries")
        out.write(f"  {counts['rollups']:>12,}  指标汇总行 rollup rows")
        out.write(f"  {counts['generate_seconds']:>10.1f} s  生成与写入 generate and write "
                  f"({counts['events'] / max(counts['generate_seconds'], 1e-9):,.0f} 事件/秒 "
                  "events/s)")
        out.write(f"  {time.monotonic() - started:>10.1f} s  合计 total (with the rollups)")
