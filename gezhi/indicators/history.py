"""A generated, consistent event history, written in bulk (no services): for benchmarks
(`gezhi gen-events`) and the demo's year of events.

Each event is simulated through the closed loop — report, 自行处置 on the spot, or accept,
escalate, dispatch, return, claim, extension, suspension, handling, failed verification,
close, rating, 督办 — with times drawn from plausible distributions, cut at the present moment
(recent events are still open; a small share is stuck open and overdue). The event row, its
timeline entries, assignments, extensions and supervisions are written as the services would
have written them, so the timeline replays to the event and the indicators equal a recount;
then the indicator rollups are rebuilt from the events. Deadlines are calendar time scaled
to working time (a working day is 8 hours of a 5-day week), not the holiday calendar.
"""

from __future__ import annotations

import datetime as dt
import itertools
import json
import math
import random
import time
from bisect import bisect
from dataclasses import dataclass
from itertools import accumulate

from django.db import connection, transaction
from django.db.models import Max
from django.utils import timezone
from django.utils.translation import gettext as _

from gezhi.accounts.models import Department
from gezhi.core import clock
from gezhi.events.models import (
    Assignment,
    Category,
    Event,
    Extension,
    Level,
    LimitUnit,
    Op,
    Rating,
    SerialCounter,
    Source,
    State,
    Supervision,
    SupervisionLevel,
    TimelineEntry,
)
from gezhi.indicators import rollup
from gezhi.regions.models import Level as RegionLevel
from gezhi.regions.models import PostKind, Region

# Handling units by the first two digits of a category code: the code prefix of the
# department (as in the demo: "cg-370481001" is 北辛街道城管中队) and its name after the
# subdistrict's.
UNIT_KINDS = {
    "cg": "城管中队", "ga": "派出所", "scjg": "市场监管所", "yj": "应急管理办公室",
    "xf": "信访办公室", "sw": "社会事务办公室", "zj": "住建服务站", "water": "供水营业所",
}
CATEGORY_UNITS = {"01": "cg", "02": "cg", "03": "zj", "04": "yj", "05": "cg", "11": "cg",
                  "12": "cg", "13": "cg", "14": "cg", "21": "xf", "22": "yj", "23": "ga",
                  "24": "sw", "25": "sw"}


@dataclass(frozen=True)
class Profile:
    """Shares that shape a history."""

    patrol: float  # reported by grid workers on patrol (the rest: residents, 12345, video …)
    self_resolve: float  # of patrol reports, fixed on the spot (自行处置)
    escalate: float  # of the rest, at community level, handed up to the subdistrict
    to_department: float  # dispatches to a department rather than back to the community
    rated: float  # of closed resident reports, rated by the reporter
    satisfied: float  # of ratings 满意; basic_satisfied of them 基本满意, the rest 不满意
    basic_satisfied: float
    rejected: float = 0.02
    stuck: float = 0.003  # left open at some step, long overdue
    rate_patrol: float = 0.0  # of closed patrol reports, rated by the residents concerned (回访)


# Seed 000: 2,000 events a year, 1,950 self-resolved, 50 sent up, 99.2% satisfied.
DEMO = Profile(patrol=0.99, self_resolve=0.98, escalate=0.95, to_department=0.9, rated=0.8,
               satisfied=0.95, basic_satisfied=0.042, rejected=0.0, stuck=0.002, rate_patrol=0.8)
# A city platform: the 12345 hotline and residents bring a third of the work to departments.
CITY = Profile(patrol=0.7, self_resolve=0.85, escalate=0.2, to_department=0.75, rated=0.6,
               satisfied=0.9, basic_satisfied=0.07)

MINUTE = dt.timedelta(minutes=1)
HOUR = dt.timedelta(hours=1)
DAY = dt.timedelta(days=1)


@dataclass
class _Unit:
    kind: str  # "department" or "region"
    pk: int
    code: str
    name: str


class _Cut(Exception):
    """The simulated event reached the present moment."""


class _Sim:
    """One event through the loop; every step checks the present moment first."""

    def __init__(self, row: dict, now: dt.datetime, entries: list | None):
        self.row = row
        self.now = now
        self.entries = entries  # None: events only
        self.state = State.REPORTED

    def step(self, op: str, at: dt.datetime, to: str | None, actor: str, note: str = "",
             data: dict | None = None) -> dt.datetime:
        if at > self.now:
            raise _Cut
        before = self.state
        if to is not None:
            self.state = to
            self.row["state"] = str(to)
        self.row["version"] += 1
        if self.entries is not None:
            self.entries.append((self.row["id"], str(op), actor, str(before), str(self.state),
                                 note, data or {}, at))
        return at


def _work_time(amount: int, unit: str) -> dt.timedelta:
    """A limit in working time as calendar time (8-hour days, 5-day weeks)."""
    if unit == LimitUnit.WORK_HOURS:
        return dt.timedelta(hours=amount * 3)  # a working hour spans about three on the clock
    if unit == LimitUnit.WORK_DAYS:
        return dt.timedelta(days=amount * 7 / 5)
    return dt.timedelta(days=amount)


def _minutes(rng: random.Random, median: float, spread: float = 0.8) -> dt.timedelta:
    return dt.timedelta(minutes=median * math.exp(rng.gauss(0, spread)))


def ensure_departments(subdistricts: list[Region]) -> dict[int, dict[str, _Unit]]:
    """The handling departments of each subdistrict by kind, created where missing."""
    out: dict[int, dict[str, _Unit]] = {}
    for sub in subdistricts:
        units = {}
        for prefix, suffix in UNIT_KINDS.items():
            dept, _created = Department.objects.get_or_create(
                code=f"{prefix}-{sub.code}",
                defaults={"name": f"{sub.name.removesuffix('街道')}{suffix}", "region": sub})
            units[prefix] = _Unit("department", dept.pk, dept.code, dept.name)
        out[sub.pk] = units
    return out


def generate_history(*, grids: list[Region], events: int, days: int = 365, seed: int = 1,
                     profile: Profile = CITY, timeline: bool = True, reporters: dict | None = None,
                     batch: int = 20_000, stdout=None) -> dict:
    """Write `events` events reported over the last `days` days in `grids`, with their
    timelines (unless `timeline` is False), then rebuild the rollups. `reporters` maps a grid
    id to the user who reports its patrol events (default: nobody, named by the grid's
    专职网格员). Returns counts and timings."""
    started = time.monotonic()
    rng = random.Random(f"gezhi-history:{seed}")
    now = clock.now()
    grids = list(grids)
    if not grids or events <= 0:
        return {"events": 0, "timeline": 0, "rollups": 0, "seconds": 0.0}
    with transaction.atomic():
        context = _Context.load(grids, reporters or {}, now)
        written = {"events": 0, "timeline": 0, "assignments": 0}
        first_id = _reserve_ids(Event, events)
        batches = _batches(_report_times(rng, events, days, now, context.tz), batch)
        for times in batches:
            entries, assignments, extras = [] if timeline else None, [], []
            first = first_id + written["events"]
            written["events"] += _write(Event, (
                _simulate(rng, context, first + i, reported, profile, entries, assignments,
                          extras) for i, reported in enumerate(times)), with_id=True)
            if timeline:
                _write_entries(entries)
                _write(Assignment, assignments)
                _write_extras(extras)
                written["timeline"] += len(entries)
                written["assignments"] += len(assignments)
            if stdout is not None:
                stdout.write(f"  {written['events']:>12,} 事件 events · "
                             f"{time.monotonic() - started:.0f} s")
        _save_serials(context.serials)
        generated = time.monotonic() - started
        rows = rollup.rebuild()
    return {**written, "rollups": rows, "generate_seconds": round(generated, 1),
            "seconds": round(time.monotonic() - started, 1)}


def _report_times(rng: random.Random, events: int, days: int, now: dt.datetime, tz):
    """`events` report moments over the last `days` days, in order: weekdays busier than
    weekends, most reports in working hours, none after `now`."""
    today = timezone.localdate(now)
    day_list = [today - dt.timedelta(days=days - 1 - i) for i in range(days)]
    weights = [0.6 if d.weekday() >= 5 else 1.0 for d in day_list]
    total = sum(weights)
    counts = [int(events * w / total) for w in weights]
    for i in rng.sample(range(days), events - sum(counts)) if events > sum(counts) else ():
        counts[i] += 1
    r = rng.random
    for day, n in zip(day_list, counts, strict=True):
        seconds = sorted(
            (8 * 3600 + int(r() * 36000)) if r() < 0.85 else int(r() * 86400) for _ in range(n))
        midnight = dt.datetime.combine(day, dt.time(), tzinfo=tz)
        for second in seconds:
            moment = midnight + dt.timedelta(seconds=second)
            if moment > now:  # today: reports so far only
                moment = now - dt.timedelta(seconds=int(r() * 3600) + 1)
            yield moment


def _batches(items, size: int):
    chunk = []
    for item in items:
        chunk.append(item)
        if len(chunk) == size:
            yield chunk
            chunk = []
    if chunk:
        yield chunk


@dataclass
class _Context:
    grids: list
    grid_weights: list[float]  # cumulative
    parents: dict[int, Region]
    departments: dict[int, dict[str, _Unit]]  # subdistrict id -> kind -> unit
    subdistrict_of: dict[int, int]
    workers: dict[int, str]
    reporters: dict
    categories: list[Category]
    category_weights: list[float]  # cumulative
    serials: dict[str, int]
    now: dt.datetime
    last_open: dict[int, tuple[int, str]]  # grid -> an earlier open event (to merge into)
    tz: dt.tzinfo

    @classmethod
    def load(cls, grids: list[Region], reporters: dict, now: dt.datetime) -> _Context:
        parent_ids = {g.parent_id for g in grids if g.parent_id}
        parents = {r.pk: r for r in Region.objects.filter(pk__in=parent_ids)}
        ancestors_paths = set()
        for g in grids:
            segments = g.path.rstrip(".").split(".")
            ancestors_paths.update(".".join(segments[:i]) + "." for i in range(1, len(segments)))
        subs = list(Region.objects.filter(path__in=ancestors_paths,
                                          level=RegionLevel.SUBDISTRICT))
        sub_by_path = {s.path: s for s in subs}
        subdistrict_of = {}
        for g in grids:
            sub = next((s for p, s in sub_by_path.items() if g.path.startswith(p)), None)
            subdistrict_of[g.pk] = sub.pk if sub else 0
        workers = {}
        from gezhi.regions.models import GridPost

        for grid_id, name in (GridPost.objects.filter(grid__in=grids, kind=PostKind.FULL_TIME)
                              .values_list("grid_id", "member__name")):
            workers.setdefault(grid_id, name)
        categories = list(Category.objects.filter(parent__isnull=False, active=True)
                          .select_related("default_department").order_by("code"))
        # Litter, street order and neighbour disputes are most of the work; emergencies rare.
        weights = [0.3 if c.urgent else {"01": 3, "05": 3, "21": 2, "24": 2}.get(c.code[:2], 1)
                   for c in categories]
        grid_weights = list(accumulate(0.5 + random.Random(g.pk).random() for g in grids))
        prefixes = {g.code[:6] for g in grids}
        serials = {}
        for prefix, last in SerialCounter.objects.values_list("prefix", "last"):
            if prefix[:6] in prefixes:
                serials[prefix] = last
        return cls(grids, grid_weights, parents, ensure_departments(subs), subdistrict_of,
                   workers, reporters, categories, list(accumulate(weights)), serials, now, {},
                   timezone.get_default_timezone())


def _reserve_ids(model, n: int) -> int:
    """The first of n consecutive ids nobody else will take."""
    table = model._meta.db_table
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute("SELECT pg_get_serial_sequence(%s, 'id')", [table])
            sequence = cursor.fetchone()[0]
            cursor.execute("SELECT nextval(%s)", [sequence])
            first = cursor.fetchone()[0]
            cursor.execute("SELECT setval(%s, %s)", [sequence, first + n])
            return first
    return (model.objects.aggregate(m=Max("pk"))["m"] or 0) + 1


def _simulate(rng: random.Random, ctx: _Context, pk: int, reported: dt.datetime,
              profile: Profile, entries: list | None, assignments: list,
              extras: list) -> dict:
    r = rng.random
    grid = ctx.grids[bisect(ctx.grid_weights, r() * ctx.grid_weights[-1])]
    category = ctx.categories[bisect(ctx.category_weights, r() * ctx.category_weights[-1])]
    day = reported.astimezone(ctx.tz).date()
    patrol = r() < profile.patrol
    source = Source.PATROL if patrol else rng.choice(
        [Source.RESIDENT, Source.RESIDENT, Source.HOTLINE, Source.HOTLINE, Source.WECHAT,
         Source.CITY_MANAGEMENT, Source.VIDEO])
    prefix = f"{grid.code[:6]}-{day:%Y%m%d}"
    number = ctx.serials.get(prefix, 0) + 1
    ctx.serials[prefix] = number
    worker = ctx.workers.get(grid.pk, "网格员")
    reporter = ctx.reporters.get(grid.pk) if patrol else None
    who = worker if patrol else ("12345热线" if source == Source.HOTLINE else "居民")
    urgent = category.urgent
    dispatch_limit = dt.timedelta(minutes=category.dispatch_limit_minutes)
    row = {
        "id": pk, "serial": f"{prefix}-{number:04d}", "source": str(source),
        "category_id": category.pk, "description": f"{grid.name}:发现{category.name},请处理。",
        "address": grid.name,
        "lat": round((grid.centroid_lat or 0) + rng.uniform(-2e-4, 2e-4), 6),
        "lon": round((grid.centroid_lon or 0) + rng.uniform(-2e-4, 2e-4), 6),
        "grid_id": grid.pk, "urgent": urgent,
        "reporter_id": reporter.pk if reporter else None,
        "reporter_is_grid_worker": patrol, "contact_name": "" if reporter else who,
        "state": str(State.REPORTED), "level": str(
            Level.SUBDISTRICT if source in (Source.HOTLINE, Source.CITY_MANAGEMENT, Source.VIDEO)
            else Level.COMMUNITY),
        "reported_at": reported, "dispatch_deadline": reported + dispatch_limit * (
            1 if urgent else 3),
        "version": 0, "updated_at": ctx.now,
    }
    sim = _Sim(row, ctx.now, entries)
    sim.step(Op.REPORT, reported, State.REPORTED, who,
             data={"source": str(source), "grid": grid.code})
    parent = ctx.parents.get(grid.parent_id)
    try:
        _loop(rng, ctx, sim, grid, parent, category, profile, reported, who, assignments, extras)
    except _Cut:
        pass
    if row["state"] in (State.REPORTED, State.ACCEPTED) and row["level"] == Level.COMMUNITY:
        ctx.last_open[grid.pk] = (pk, row["serial"])
    return row


def _loop(rng, ctx: _Context, sim: _Sim, grid, parent, category, profile: Profile,
          t: dt.datetime, who: str, assignments: list, extras: list) -> None:
    r, row = rng.random, sim.row
    patrol = row["reporter_is_grid_worker"]
    if patrol and r() < profile.self_resolve:
        t = sim.step(Op.SELF_RESOLVE, t + _minutes(rng, 2, 1.0), State.CLOSED, who,
                     note="已当场处置")
        row.update(self_resolved=True, result="已当场处置", handled_at=t, closed_at=t,
                   closed_on_time=True)
        _rate(rng, sim, profile, category, None, None, who, "", assignments)
        return
    stuck = r() < profile.stuck
    dispatcher = "指挥中心" if row["level"] != Level.COMMUNITY else "社区网格长"
    if r() < profile.rejected:
        sim.step(Op.REJECT, t + _minutes(rng, 20), State.REJECTED, dispatcher,
                 note="不属于受理范围")
        return
    master = ctx.last_open.get(grid.pk)
    if master and r() < 0.01:
        sim.step(Op.MERGE, t + _minutes(rng, 20), State.MERGED, dispatcher,
                 data={"master": master[1]})
        row["master_id"] = master[0]
        return
    if stuck and r() < 0.3:
        raise _Cut
    t = sim.step(Op.ACCEPT, t + _minutes(rng, 8), State.ACCEPTED, dispatcher)
    row["accepted_at"] = t
    if row["level"] == Level.COMMUNITY and r() < profile.escalate:
        t = sim.step(Op.ESCALATE, t + _minutes(rng, 40), State.ACCEPTED, "社区网格长",
                     note="社区无法协调,请街道协调处置",
                     data={"from_level": "community", "to_level": "subdistrict"})
        row.update(level=str(Level.SUBDISTRICT), escalation_count=1)
        dispatcher = "指挥中心"
    unit = _unit_for(rng, ctx, grid, parent, category, profile)
    t = _dispatch(sim, rng, t, unit, dispatcher, assignments, category)
    if r() < 0.03:  # the unit refuses a wrong dispatch; the dispatcher sends it elsewhere
        t = sim.step(Op.RETURN, t + _minutes(rng, 60), State.ACCEPTED, unit.name,
                     note="不属于本单位职责", data={"unit": unit.name})
        _end_assignments(assignments, row["id"], t, "returned")
        row.update(department_id=None, unit_region_id=None, return_count=1)
        unit = _unit_for(rng, ctx, grid, parent, category, profile)
        t = _dispatch(sim, rng, t + _minutes(rng, 10), unit, dispatcher, assignments, category)
    if stuck:
        raise _Cut
    t = sim.step(Op.CLAIM, t + _minutes(rng, 20), State.HANDLING, unit.name)
    if r() < 0.01:  # 督办, counted against the unit handling it
        level = int(rng.choice([SupervisionLevel.NORMAL, SupervisionLevel.YELLOW,
                                SupervisionLevel.RED]))
        t = sim.step(Op.SUPERVISE, t + _minutes(rng, 30), None, "街道领导", note="请抓紧办理",
                     data={"level": level, "unit": unit.name})
        row["supervision_level"] = level
        extras.append(("supervision", row["id"], level, t, unit))
    if r() < 0.03:
        days = rng.choice([2, 3, 5])
        at = sim.step(Op.EXTEND_REQUEST, t + _minutes(rng, 120), None, unit.name,
                      note="需协调相关单位", data={"days": days})
        at2 = sim.step(Op.EXTEND_DECIDE, at + _minutes(rng, 60), None, "街道领导",
                       data={"approve": True, "days": days})
        row["handle_deadline"] += _work_time(days, LimitUnit.WORK_DAYS)
        row["extension_count"] = 1
        extras.append(("extension", row["id"], days, at, at2))
        t = at2
    if r() < 0.004:
        at = sim.step(Op.SUSPEND, t + _minutes(rng, 60), State.SUSPENDED, dispatcher,
                      note="待相关工程完工后处置")
        row.update(resume_state=str(State.HANDLING), suspended_at=at)
        if r() < 0.5:
            raise _Cut  # still suspended
        paused = _minutes(rng, 3 * 24 * 60, 0.5)
        t = sim.step(Op.RESUME, at + paused, State.HANDLING, dispatcher,
                     data={"paused_minutes": round(paused / MINUTE)})
        row.update(resume_state="", suspended_at=None,
                   handle_deadline=row["handle_deadline"] + paused)
    limit = row["handle_deadline"] - row["dispatched_at"]
    t = _handle(sim, rng, t, limit, unit, assignments)
    while r() < 0.03:  # 核查不通过: back to the unit (返工)
        t = sim.step(Op.VERIFY_FAIL, t + _minutes(rng, 90), State.HANDLING, who,
                     note="现场核查未处理到位")
        row.update(reopen_count=row.get("reopen_count", 0) + 1, closed_at=None,
                   handled_at=None)
        t = _handle(sim, rng, t, limit / 2, unit, assignments)
    _close(sim, rng, t, who, dispatcher, assignments)
    _rate(rng, sim, profile, category, unit, limit, who, dispatcher, assignments)


def _rate(rng, sim: _Sim, profile: Profile, category, unit, limit, who, dispatcher,
          assignments) -> None:
    row = sim.row
    patrol = row["reporter_is_grid_worker"]
    if rng.random() >= (profile.rate_patrol if patrol else profile.rated):
        return
    rating = _rating(rng, profile)
    reopens = rating == Rating.DISSATISFIED and category.reopen_on_dissatisfied
    if reopens and unit is None:
        rating, reopens = Rating.BASIC, False  # nobody to send a self-resolved event back to
    at = sim.step(Op.RATE, row["closed_at"] + _minutes(rng, 300, 1.2), None,
                  "回访居民" if patrol else "反映人", data={"rating": str(rating)})
    row.update(rating=str(rating), rated_at=at)
    if reopens:
        at = sim.step(Op.REOPEN, at, State.HANDLING, "系统",
                      note="反映人评价不满意,按分类规定自动返工。")
        row.update(reopen_count=row.get("reopen_count", 0) + 1, closed_at=None,
                   closed_on_time=None, handled_at=None)
        assignments.append({"event_id": row["id"], "department_id": row.get("department_id"),
                            "region_id": row.get("unit_region_id"), "role": "main",
                            "outcome": "", "created_at": at, "ended_at": None})
        t = _handle(sim, rng, at, limit / 2, unit, assignments)
        _close(sim, rng, t, who, dispatcher, assignments)


def _rating(rng: random.Random, profile: Profile) -> str:
    x = rng.random()
    if x < profile.satisfied:
        return Rating.SATISFIED
    if x < profile.satisfied + profile.basic_satisfied:
        return Rating.BASIC
    return Rating.DISSATISFIED


def _unit_for(rng, ctx: _Context, grid, parent, category, profile: Profile) -> _Unit:
    if parent is None or rng.random() < profile.to_department:
        units = ctx.departments.get(ctx.subdistrict_of.get(grid.pk, 0), {})
        default = category.default_department
        if default is not None and default.region_id and grid.path.startswith(
                default.region.path):
            return _Unit("department", default.pk, default.code, default.name)
        unit = units.get(CATEGORY_UNITS.get(category.code[:2], "cg"))
        if unit is not None:
            return unit
    region = parent if parent is not None and rng.random() < 0.5 else grid
    return _Unit("region", region.pk, region.code, region.name)


def _dispatch(sim: _Sim, rng, t, unit: _Unit, dispatcher: str, assignments: list,
              category) -> dt.datetime:
    row = sim.row
    t = sim.step(Op.DISPATCH, t + _minutes(rng, 6), State.DISPATCHED, dispatcher, data={
        "department": unit.code if unit.kind == "department" else "",
        "region": unit.code if unit.kind == "region" else "", "assist": [], "unit": unit.name})
    _end_assignments(assignments, row["id"], t, "replaced")
    assignments.append({"event_id": row["id"],
                        "department_id": unit.pk if unit.kind == "department" else None,
                        "region_id": unit.pk if unit.kind == "region" else None,
                        "role": "main", "outcome": "", "created_at": t, "ended_at": None})
    row.update(department_id=unit.pk if unit.kind == "department" else None,
               unit_region_id=unit.pk if unit.kind == "region" else None)
    row.setdefault("dispatched_at", t)
    if row.get("handle_deadline") is None:
        row["handle_deadline"] = t + _work_time(category.handle_limit,
                                                category.handle_limit_unit)
    return t


def _end_assignments(assignments: list, event_id: int, at, outcome: str) -> None:
    for a in reversed(assignments):
        if a["event_id"] != event_id:
            break
        if a["ended_at"] is None:
            a["ended_at"], a["outcome"] = at, outcome


def _handle(sim: _Sim, rng, t, limit: dt.timedelta, unit: _Unit, assignments) -> dt.datetime:
    # Most units finish within a third of the limit; a few run late.
    share = rng.random() * 0.35 if rng.random() < 0.93 else 0.8 + rng.random() * 0.8
    t = sim.step(Op.HANDLE, t + limit * share + MINUTE, State.HANDLED, unit.name,
                 note="已处置完毕")
    sim.row.update(handled_at=t, result="已处置完毕")
    for a in reversed(assignments):
        if a["event_id"] != sim.row["id"]:
            break
        if a["ended_at"] is None:
            a["outcome"] = "handled"
    return t


def _close(sim: _Sim, rng, t, verifier: str, dispatcher: str, assignments) -> None:
    t = sim.step(Op.VERIFY, t + _minutes(rng, 60), State.VERIFIED, verifier)
    at = t + _minutes(rng, 30)
    on_time = sim.row["handle_deadline"] is None or at <= sim.row["handle_deadline"]
    t = sim.step(Op.CLOSE, at, State.CLOSED, dispatcher, data={"on_time": on_time})
    sim.row.update(closed_at=t, closed_on_time=on_time)
    _end_assignments(assignments, sim.row["id"], t, "handled")


# ---------------------------------------------------------------------------------------------
# Writing


def _write(model, rows, *, with_id: bool = False) -> int:
    """Insert rows (dicts of attribute names; an iterable is consumed as it is written, so on
    PostgreSQL the database stores one row while the next is made). Returns how many."""
    # Every column (the model's defaults where a row says nothing), the id only when given.
    fields = [f for f in model._meta.concrete_fields if with_id or not f.primary_key]
    defaults = {f.attname: f.get_default() for f in fields}
    if connection.vendor == "postgresql":
        written = [0]

        def values():
            for row in rows:
                written[0] += 1
                yield [row.get(f.attname, defaults[f.attname]) for f in fields]

        _copy(model._meta.db_table, [f.column for f in fields], values())
        return written[0]
    objects = [model(**row) for row in rows]
    model.objects.bulk_create(objects, batch_size=500)
    return len(objects)


COPY_CHUNK = 5000


def _copy(table: str, columns: list[str], rows) -> None:
    """COPY rows in chunks. Each chunk is made before its COPY starts: making a row may query
    the database (the working calendar loads its tables on first use), and a query on the
    connection while its COPY is open would wait for the COPY forever."""
    raw = connection.connection  # psycopg 3
    rows = iter(rows)
    while chunk := list(itertools.islice(rows, COPY_CHUNK)):
        with raw.cursor() as cursor, cursor.copy(
                f"COPY {table} ({', '.join(columns)}) FROM STDIN") as copy:
            for row in chunk:
                copy.write_row(row)


def _write_entries(entries: list) -> None:
    # COPY takes JSON as text; bulk_create, a dict.
    dump = json.dumps if connection.vendor == "postgresql" else (lambda d: d)
    rows = [{"event_id": e[0], "op": e[1], "actor_id": None, "actor_name": e[2],
             "from_state": e[3] if e[1] != Op.REPORT else "", "to_state": e[4], "note": e[5],
             "data": dump(e[6]), "created_at": e[7]} for e in entries]
    _write(TimelineEntry, rows)


def _write_extras(extras: list) -> None:
    if not extras:
        return
    # Supervisions and extensions name a user: one inactive account stands for the people of
    # a generated history.
    from gezhi.accounts.models import User

    user, _created = User.objects.get_or_create(
        username="history-generator", defaults={"display_name": "历史数据", "is_active": False})
    supervisions, extensions = [], []
    for kind, event_id, value, at, decided in extras:
        if kind == "supervision":
            supervisions.append({
                "event_id": event_id, "level": value, "note": "请抓紧办理", "by_id": user.pk,
                "created_at": at,
                "department_id": decided.pk if decided.kind == "department" else None,
                "unit_region_id": decided.pk if decided.kind == "region" else None})
        else:
            extensions.append({"event_id": event_id, "days": value, "reason": "需协调相关单位",
                               "requested_by_id": user.pk, "requested_at": at,
                               "status": "approved", "decided_by_id": user.pk,
                               "decided_at": decided})
    _write(Supervision, supervisions)
    _write(Extension, extensions)


def _save_serials(serials: dict[str, int]) -> None:
    table = SerialCounter._meta.db_table
    with connection.cursor() as cursor:
        for prefix, last in serials.items():
            cursor.execute(
                f"INSERT INTO {table} (prefix, last) VALUES (%s, %s) "  # noqa: S608
                f"ON CONFLICT (prefix) DO UPDATE SET last = CASE WHEN excluded.last > "
                f"{table}.last THEN excluded.last ELSE {table}.last END", [prefix, last])


DEMO_EVENTS = 2000


def ensure_demo_history(*, subdistrict: Region, reporters: dict[str, str] | None = None,
                        seed: int = 1, stdout=None) -> int:
    """The demo's year of events (seed 000: about 2,000, nearly all 自行处置 by grid workers,
    some 50 sent up, 99% satisfied), unless the subdistrict has events already. `reporters`
    maps a grid code to the username of the grid worker who reports there. Returns how many
    events were made."""
    from gezhi.accounts.models import User

    if Event.objects.filter(grid__path__startswith=subdistrict.path).exists():
        return 0
    grids = list(Region.objects.filter(path__startswith=subdistrict.path,
                                       level=RegionLevel.GRID).order_by("path"))
    by_code = {g.code: g.pk for g in grids}
    users = {u.username: u for u in User.objects.filter(username__in=(reporters or {}).values())}
    chosen = {by_code[code]: users[name] for code, name in (reporters or {}).items()
              if code in by_code and name in users}
    if stdout is not None:
        stdout.write(_("正在生成一年的事件记录(约 %(n)s 件)……") % {"n": f"{DEMO_EVENTS:,}"})
    return generate_history(grids=grids, events=DEMO_EVENTS, days=365, seed=seed,
                            profile=DEMO, reporters=chosen)["events"]
