"""Reads of the indicators (指标): one report by grid, community, subdistrict, district, city or
department for a period, within the viewer's scope; the totals; and a plain recount from the
timeline that the rollups must always equal.

Definitions (docs/indicators.md): an event belongs to the period it was reported in (local
date). It is *due* (应结案) unless it was rejected or merged, or is suspended (缓办) now; every
count but reported / suspended / rejected / merged is over due events, as of now:

    结案率 close_rate         = closed / due
    按期结案率 on_time_rate    = closed on time / due
    返工率 reopen_rate         = reopened at least once / due
    延期率 extension_rate      = extended (an approved extension) at least once / due
    自行处置率 self_resolve_rate = self-resolved / due events reported by grid workers (both
                                 counted over events reported by grid workers)
    满意率 satisfaction_rate   = (满意 + 基本满意) / rated
    overdue                   = open now and past its deadline now (not in the rollups: read
                                from the events at query time)
    avg_*_hours               = mean hours from report to first acceptance, first dispatch,
                                and closing (closed events)

Scope: Perm.INDICATOR_VIEW. A region role sees its subtree; a department handler (the
permission is department-bound) sees the rows of events whose main unit is now their department.
"""

from __future__ import annotations

import contextlib
import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass, field, replace

from django.db import connection, transaction
from django.db.models import Count, Q
from django.utils import timezone
from django.utils.translation import gettext as _

from gezhi.accounts.models import Department
from gezhi.accounts.roles import Perm
from gezhi.accounts.scope import Scope, scope_for
from gezhi.core import clock
from gezhi.core.errors import NotFound, PermissionDenied, ValidationFailed
from gezhi.events.models import OPEN_STATES, Event, Op, State, TimelineEntry
from gezhi.events.selectors import overdue_q
from gezhi.indicators.models import COUNTS, NodeLevel, Rollup, Span
from gezhi.indicators.rollup import local_bounds, spans
from gezhi.regions.models import Level, Region

# Region levels from the top; a report is by one of these or by department.
LEVELS = [Level.CITY, Level.DISTRICT, Level.SUBDISTRICT, Level.COMMUNITY, Level.GRID]
BY = [*(str(level) for level in LEVELS), "department"]

RATES = {  # name: (numerator, denominator)
    "close_rate": ("closed", "due"),
    "on_time_rate": ("closed_on_time", "due"),
    "reopen_rate": ("reopened", "due"),
    "extension_rate": ("extended", "due"),
    "self_resolve_rate": ("grid_worker_self_resolved", "grid_worker_reported"),
    "satisfaction_rate": ("satisfied_or_basic", "rated"),
}
AVERAGES = {  # name: (microseconds sum, count)
    "avg_accept_hours": ("accept_us", "accepted"),
    "avg_dispatch_hours": ("dispatch_us", "dispatched"),
    "avg_close_hours": ("close_us", "closed"),
}
DURATIONS = {"accept_us", "dispatch_us", "close_us"}
# The counts a report shows, in order (the *_us sums only feed the averages).
SHOWN = [c for c in COUNTS if c not in DURATIONS] + ["overdue"]
KEYS = [*SHOWN, *RATES, *AVERAGES]


def finish(counts: dict) -> dict:
    """Counts (COUNTS + overdue) -> the shown counts, rates (4 decimals, None over 0) and
    average hours (2 decimals, None when nothing was timed)."""
    c = {k: int(counts.get(k) or 0) for k in (*COUNTS, "overdue")}
    c["satisfied_or_basic"] = c["satisfied"] + c["basic_satisfied"]
    out = {k: c[k] for k in SHOWN}
    for name, (num, den) in RATES.items():
        out[name] = round(c[num] / c[den], 4) if c[den] else None
    for name, (total, n) in AVERAGES.items():
        out[name] = round(c[total] / c[n] / 3_600_000_000, 2) if c[n] else None
    return out


def _add(into: dict, counts: dict) -> None:
    for k, v in counts.items():
        if v:
            into[k] = into.get(k, 0) + int(v)


# ---------------------------------------------------------------------------------------------
# Who sees what


@dataclass
class Reach:
    """What a viewer's report covers: whole region subtrees (`roots`), and the rows of some
    departments outside them (a handler's). `within` narrows both to one region."""

    roots: list[Region]
    departments: list[int] = field(default_factory=list)
    within: Region | None = None


def reach_for(viewer, within: str | Region | None = None) -> Reach:
    """The viewer's reach (viewer None: everything). Raises PermissionDenied without the
    permission, NotFound for a region outside the viewer's scope."""
    scope = Scope(everything=True) if viewer is None else scope_for(viewer, Perm.INDICATOR_VIEW)
    if scope.empty:
        raise PermissionDenied(_("您没有查看指标的权限。"))
    region = None
    if within:
        region = within if isinstance(within, Region) else \
            _regions().filter(code=within).first()
        if region is None or not _may_see(viewer, scope, region):
            raise NotFound(_("找不到该区域,或不在您的管辖范围内。"))
    if scope.everything:
        roots = [region] if region else list(_regions().filter(parent__isnull=True))
        return Reach(roots=roots, within=region)
    paths = list(scope.paths)
    if region is not None:
        paths = [region.path] if scope.covers_path(region.path) else \
            [p for p in paths if p.startswith(region.path)]
    roots = list(_regions().filter(path__in=paths)) if paths else []
    return Reach(roots=roots, departments=list(scope.department_ids), within=region)


def _regions():
    """Regions without their boundaries (a city's polygons are megabytes)."""
    return Region.objects.only("code", "name", "level", "path", "parent_id", "depth")


def _may_see(viewer, scope: Scope, region: Region) -> bool:
    if scope.covers_path(region.path) or any(p.startswith(region.path) for p in scope.paths):
        return True
    # A handler picks regions of the area their department serves (as the console shows them).
    return bool(scope.department_ids) and scope_for(viewer, Perm.CONSOLE).covers_path(
        region.path)


def default_by(reach: Reach) -> str:
    """One level below the top of what the viewer sees (grids for a grid worker)."""
    if not reach.roots:
        return "department"
    top = min((LEVELS.index(r.level) for r in reach.roots if r.level in LEVELS),
              default=len(LEVELS) - 1)
    return str(LEVELS[min(top + 1, len(LEVELS) - 1)])


# ---------------------------------------------------------------------------------------------
# Rollup nodes: grids, and grids' parents (communities)


def _subtree_q(regions: Iterable[Region], lookup: str = "path") -> Q:
    q = Q(pk__in=[])
    for r in regions:
        q |= Q(**{f"{lookup}__startswith": r.path})
    return q


def _nodes(roots: list[Region], *, grids: bool) -> tuple[dict[int, str], bool]:
    """{node id: path} of the rollup nodes that cover `roots` exactly once: grids (by grid, or
    a root that is a grid), else the parents of the grids (a grid without one stands alone);
    and whether they are all parents of grids."""
    nodes: dict[int, str] = {r.pk: r.path for r in roots if r.level == Level.GRID}
    parents_only = not nodes
    others = [r for r in roots if r.level != Level.GRID]
    if not others:
        return nodes, False
    qs = Region.objects.filter(_subtree_q(others), level=Level.GRID).order_by()
    if grids:
        nodes.update(qs.values_list("pk", "path"))
        return nodes, False
    nodes.update((pk, path) for pk, path in qs.values_list("parent_id", "parent__path")
                 .distinct() if pk is not None)
    loose = dict(qs.filter(parent__isnull=True).values_list("pk", "path"))  # (rare)
    nodes.update(loose)
    return nodes, parents_only and not loose


@dataclass(frozen=True)
class _Slice:
    """Some rollup rows: of these nodes (None: every node of `level`), all events (departments
    None: department 0) or those of some departments, leaving out `exclude`d nodes."""

    nodes: tuple[int, ...] | None
    level: int
    departments: tuple[int, ...] | None = None
    exclude: tuple[int, ...] = ()


Ranges = list[tuple[int, dt.date | None, dt.date | None]]


def _ranges(start: dt.date | None, end: dt.date | None) -> Ranges:
    if start is None and end is None:
        return [(Span.YEAR, None, None)]  # every event is in exactly one year row
    return spans(start or dt.date(1970, 1, 1), end or dt.date(2999, 12, 31))


def _in(column: str, values, params: list, negate: bool = False) -> str:
    params.extend(values)
    return f"{column} {'NOT IN' if negate else 'IN'} ({', '.join(['%s'] * len(values))})"


def _sums(slices: list[_Slice], ranges: Ranges, group: tuple[str, ...] = ()) -> list[dict]:
    """Sums of the rollup rows of the slices over the ranges, grouped. One SELECT per slice
    and range, each an index range scan (node or level, span, department, period), put
    together with UNION ALL: OR-ed ranges would make the database filter every row of the
    nodes instead."""
    table = Rollup._meta.db_table
    adapt = connection.ops.adapt_datefield_value
    selects, params = [], []
    for part in slices:
        if (part.nodes is not None and not part.nodes) or (
                part.departments is not None and not part.departments):
            continue
        for span, first, last in ranges:
            where = ["span = %s"]
            params.append(int(span))
            if part.nodes is None:
                where.append("node_level = %s")
                params.append(int(part.level))
            else:
                where.append(_in("node", part.nodes, params))
            if part.departments is None:
                where.append("department = 0")
            else:
                where.append(_in("department", part.departments, params))
            if part.exclude:
                where.append(_in("node", part.exclude, params, negate=True))
            if first is not None:
                where.append("period BETWEEN %s AND %s")
                params += [adapt(first), adapt(last)]
            selects.append(f"SELECT node, department, period, {', '.join(COUNTS)} "
                           f"FROM {table} WHERE {' AND '.join(where)}")
    if not selects:
        return [] if group else [{}]
    keys = [*group, *COUNTS]
    sql = (f"SELECT {', '.join([*group, *(f'SUM({c})' for c in COUNTS)])} "
           f"FROM ({' UNION ALL '.join(selects)}) x"
           + (f" GROUP BY {', '.join(group)}" if group else ""))
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return [dict(zip(keys, row, strict=True)) for row in cursor.fetchall()]


def _event_period_q(start: dt.date | None, end: dt.date | None) -> Q:
    q = Q()
    if start is not None:
        q &= Q(reported_at__gte=local_bounds(start, start)[0])
    if end is not None:
        q &= Q(reported_at__lt=local_bounds(end, end)[1])
    return q


@dataclass
class _Parts:
    """What a reach reads: the region part (every event of the region nodes) and the
    department part (the reach's departments' events in nodes outside the region part)."""

    region_nodes: dict[int, str]
    region: _Slice
    department: _Slice | None
    ranges: Ranges
    event_q: Q  # the same events in the events table (for overdue)

    @property
    def slices(self) -> list[_Slice]:
        return [self.region] + ([self.department] if self.department else [])


def _parts(reach: Reach, *, grids: bool, start, end) -> _Parts:
    nodes, parents_only = _nodes(reach.roots, grids=grids)
    level = NodeLevel.GRID if grids else NodeLevel.PARENT
    # The whole tree: every node of the level, without naming them.
    whole = parents_only and all(r.parent_id is None for r in reach.roots) and len(
        reach.roots) == Region.objects.filter(parent__isnull=True).count()
    region = _Slice(None if whole else tuple(nodes), level)
    event_q = _subtree_q(reach.roots, "grid__path")
    department = None
    if reach.departments:
        within = None
        if reach.within is not None:
            within = tuple(_nodes([reach.within], grids=grids)[0])
        department = _Slice(within, level, tuple(reach.departments), exclude=tuple(nodes))
        outside = Q(department_id__in=reach.departments) & ~event_q
        if reach.within is not None:
            outside &= Q(grid__path__startswith=reach.within.path)
        event_q |= outside
    return _Parts(nodes, region, department, _ranges(start, end),
                  event_q & _event_period_q(start, end))


def _overdue(parts: _Parts, group: tuple[str, ...]) -> list[dict]:
    qs = Event.objects.filter(parts.event_q & overdue_q(clock.now())).order_by()
    if not group:
        return [qs.aggregate(overdue=Count("pk"))]
    return list(qs.values(*group).annotate(overdue=Count("pk")))


# ---------------------------------------------------------------------------------------------
# The report


@dataclass
class Report:
    by: str
    start: dt.date
    end: dt.date
    within: Region | None
    rows: list[dict]  # {"unit": {kind, code, name, level, level_label}, **finish(counts)}
    total: dict
    trend: list[dict] = field(default_factory=list)  # {"month": "2026-01", **finish(counts)}


@contextlib.contextmanager
def _serial_plans():
    """A report reads a few thousand rows through index ranges: on PostgreSQL, starting
    parallel workers (which the planner likes for a UNION ALL of them) takes longer than the
    whole query, so a report's queries run without."""
    if connection.vendor != "postgresql":
        yield
        return
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("SET LOCAL max_parallel_workers_per_gather = 0")
        yield


def clean_period(start: dt.date | None, end: dt.date | None) -> tuple[dt.date, dt.date]:
    """Default: this year so far. Raises ValidationFailed when start is after end."""
    today = timezone.localdate(clock.now())
    end = end or today
    start = start or dt.date(end.year, 1, 1)
    if start > end:
        raise ValidationFailed(_("开始日期不能晚于结束日期。"), code="bad_period",
                               details={"field": "start"})
    return start, end


def indicator_report(*, viewer, by: str = "", start: dt.date | None = None,
                     end: dt.date | None = None, within: str | Region | None = None,
                     trend: bool = False) -> Report:
    """Indicators for each unit at level `by` (or each department) within the viewer's reach,
    for events reported from `start` to `end` (default: this year so far), with their total
    and, if `trend`, the total month by month."""
    start, end = clean_period(start, end)
    reach = reach_for(viewer, within)
    by = by or default_by(reach)
    if by not in BY:
        raise ValidationFailed(_("统计口径无效。"), code="bad_by", details={"field": "by"})
    with _serial_plans():
        if by == "department":
            rows, total, parts = _by_department(reach, start, end)
        else:
            rows, total, parts = _by_region(reach, by, start, end)
        report = Report(by=by, start=start, end=end, within=reach.within, rows=rows,
                        total=total)
        if trend:
            if by == Level.GRID:  # the month totals are quicker from the communities
                parts = _parts(reach, grids=False, start=start, end=end)
            report.trend = _trend(parts, start, end)
    return report


def indicator_totals(*, viewer=None, start: dt.date | None = None,
                     end: dt.date | None = None) -> dict:
    """The indicators of everything the viewer sees (viewer None: every event), for events
    reported from `start` to `end` (None: no bound). Same keys as recount()."""
    reach = reach_for(viewer)
    with _serial_plans():
        return finish(_total(_parts(reach, grids=False, start=start, end=end)))


def _total(parts: _Parts) -> dict:
    counts: dict = {}
    _add(counts, _sums(parts.slices, parts.ranges)[0])
    _add(counts, _overdue(parts, ())[0])
    return counts


def region_unit(region: Region) -> dict:
    return {"kind": "region", "code": region.code, "name": region.name,
            "level": region.level, "level_label": str(region.get_level_display())}


def _by_region(reach: Reach, by: str, start, end) -> tuple[list[dict], dict, _Parts]:
    parts = _parts(reach, grids=by == Level.GRID, start=start, end=end)
    depth = LEVELS.index(by)
    # Units: every region at level `by` under the roots; a root below that level stands alone.
    clipped = [r for r in reach.roots if r.level in LEVELS and LEVELS.index(r.level) > depth]
    wide = [r for r in reach.roots if r not in clipped]
    units = {r.path: r for r in clipped}
    if wide:
        units.update((r.path, r) for r in _regions().filter(_subtree_q(wide), level=by))
    node_paths = dict(parts.region_nodes)
    node_rows = _sums([parts.region], parts.ranges, ("node",))
    if parts.department is not None:
        extra = _sums([parts.department], parts.ranges, ("node",))
        node_rows += extra
        found = dict(Region.objects.filter(pk__in=[r["node"] for r in extra])
                     .values_list("pk", "path"))
        node_paths.update(found)
        units.update(_ancestors_at(by, list(found.values()), known=units))
    counts: dict[str, dict] = {path: {} for path in units}
    total: dict = {}
    for row in node_rows:
        unit = _unit_of(node_paths.get(row.pop("node"), ""), units)
        if unit is not None:
            _add(counts[unit], row)
        _add(total, row)
    for row in _overdue(parts, ("grid_id", "grid__parent_id")):
        node = row["grid_id"] if row["grid_id"] in node_paths else row["grid__parent_id"]
        unit = _unit_of(node_paths.get(node, ""), units)
        if unit is not None:
            _add(counts[unit], {"overdue": row["overdue"]})
        _add(total, {"overdue": row["overdue"]})
    rows = [{"unit": region_unit(units[path]), **finish(counts[path])} for path in sorted(units)]
    return rows, finish(total), parts


def _unit_of(path: str, units: dict[str, Region]) -> str | None:
    """The unit whose path is the longest prefix of `path` (a node's region at the level)."""
    while path:
        if path in units:
            return path
        path = path[:path.rstrip(".").rfind(".") + 1]
    return None


def _ancestors_at(by: str, paths: list[str], *, known: dict) -> dict[str, Region]:
    """For nodes reached through a department: their region at level `by`, or the top of
    their tree when it has no region at that level."""
    prefixes = set()
    for path in paths:
        segments = path.rstrip(".").split(".")
        prefixes.update(".".join(segments[:i]) + "." for i in range(1, len(segments) + 1))
    found = list(_regions().filter(Q(level=by) | Q(parent__isnull=True),
                                       path__in=prefixes - set(known)))
    at_level = {r.path: r for r in found if r.level == by}
    lacking = [p for p in paths if not _unit_of(p, {**known, **at_level})]
    tops = {r.path: r for r in found if r.level != by and any(p.startswith(r.path)
                                                               for p in lacking)}
    return {**at_level, **tops}


def department_unit(department: Department) -> dict:
    return {"kind": "department", "code": department.code, "name": department.name,
            "level": "department", "level_label": str(department.get_kind_display())}


def _by_department(reach: Reach, start, end) -> tuple[list[dict], dict, _Parts]:
    parts = _parts(reach, grids=False, start=start, end=end)
    total = _total(parts)
    by_department: dict[int, dict] = {}
    # Each department by name (not department > 0), so the rollup's index finds the rows.
    every = tuple(Department.objects.values_list("pk", flat=True))
    slices = [replace(parts.region, departments=every)] + (
        [parts.department] if parts.department else [])
    rows = _sums(slices, parts.ranges, ("department",))
    for row in rows:
        _add(by_department.setdefault(row.pop("department"), {}), row)
    for row in _overdue(parts, ("department_id",)):
        if row["department_id"]:
            _add(by_department.setdefault(row["department_id"], {}),
                 {"overdue": row["overdue"]})
    # Departments serving the area are listed even with nothing to count; a handler sees their
    # own department only.
    wanted = Q(pk__in=list(by_department)) | Q(pk__in=reach.departments)
    if reach.roots:
        wanted |= _subtree_q(reach.roots, "region__path")
    departments = {d.pk: d for d in Department.objects.filter(wanted)}
    out = [{"unit": department_unit(d), **finish(by_department.get(pk, {}))}
           for pk, d in departments.items()]
    out.sort(key=lambda r: r["unit"]["code"])
    return out, finish(total), parts


def _trend(parts: _Parts, start: dt.date, end: dt.date) -> list[dict]:
    """The total month by month: whole months from month rows, the edges from day rows."""
    months: dict[dt.date, dict] = {}
    month = start.replace(day=1)
    while month <= end:
        months[month] = {}
        month = dt.date(month.year + month.month // 12, month.month % 12 + 1, 1)
    ranges = []
    for span, first, last in spans(start, end):
        if span == Span.YEAR:  # a trend wants the months of a whole year one by one
            span, last = Span.MONTH, dt.date(last.year, 12, 1)
        ranges.append((span, first, last))
    for row in _sums(parts.slices, ranges, ("period",)):
        day = row.pop("period")
        if isinstance(day, str):
            day = dt.date.fromisoformat(day)
        _add(months[day.replace(day=1)], row)
    return [{"month": f"{m:%Y-%m}", **finish(c)} for m, c in months.items()]


# ---------------------------------------------------------------------------------------------
# The plain recount


def recount(events) -> dict:
    """The indicators of `events` (a queryset or list), counted plainly from each event's
    timeline: replay the entries to the current state, department, counters, ratings and
    times, then count. Only what never changes (grid, report time, whether a grid worker
    reported it) and the deadlines (for overdue) are read from the event. Same keys as
    indicator_totals(); rollups that drifted from the timeline would show as a difference."""
    return finish(_replay(events)[0])


def recount_departments(events) -> dict[int, dict]:
    """recount() per department the events are now with (from the timeline), for tests of the
    department rows."""
    return {pk: finish(counts) for pk, counts in _replay(events)[1].items()}


def _replay(events) -> tuple[dict, dict[int, dict]]:
    ids = [e.pk for e in events]
    entries: dict[int, list[TimelineEntry]] = {pk: [] for pk in ids}
    for entry in TimelineEntry.objects.filter(event_id__in=ids).order_by("created_at", "pk"):
        entries[entry.event_id].append(entry)
    departments = dict(Department.objects.values_list("code", "pk"))
    now = clock.now()
    total: dict[str, int] = {}
    by_department: dict[int, dict] = {}
    for event in Event.objects.filter(pk__in=ids).order_by():
        department, counts = _recount_one(event, entries[event.pk], departments, now)
        _add(total, counts)
        if department is not None:
            _add(by_department.setdefault(department, {}), counts)
    return total, by_department


def _recount_one(event: Event, entries: list[TimelineEntry], departments: dict,
                 now: dt.datetime) -> tuple[int | None, dict]:
    state, department, rating = "", None, ""
    accepted_at = dispatched_at = closed_at = None
    on_time = self_resolved = reopened = extended = escalated = False
    supervision = 0
    for e in entries:
        state = e.to_state or state
        if e.op in (Op.ACCEPT, Op.DISPATCH, Op.ESCALATE) and accepted_at is None:
            accepted_at = e.created_at
        if e.op == Op.DISPATCH:
            dispatched_at = dispatched_at or e.created_at
            department = departments.get(e.data.get("department") or "")
        elif e.op in (Op.RETURN, Op.ESCALATE):
            department, escalated = None, escalated or e.op == Op.ESCALATE
        elif e.op == Op.SELF_RESOLVE:
            self_resolved, closed_at, on_time = True, e.created_at, True
        elif e.op == Op.CLOSE:
            closed_at, on_time = e.created_at, bool(e.data.get("on_time"))
        elif e.op in (Op.REOPEN, Op.VERIFY_FAIL):
            reopened, closed_at, on_time = True, None, False
        elif e.op == Op.EXTEND_DECIDE and e.data.get("approve"):
            extended = True
        elif e.op == Op.SUPERVISE:
            supervision = max(supervision, int(e.data.get("level") or 0))
        elif e.op == Op.RATE:
            rating = e.data.get("rating") or ""
    out = {"reported": 1}
    if state == State.SUSPENDED:
        out["suspended"] = 1
    if state == State.REJECTED:
        out["rejected"] = 1
    if state == State.MERGED:
        out["merged"] = 1
    if state in (State.SUSPENDED, State.REJECTED, State.MERGED):
        return department, out
    out["due"] = 1
    grid_worker = event.reporter_is_grid_worker
    flags = {
        "closed": state == State.CLOSED,
        "closed_on_time": state == State.CLOSED and on_time,
        "reopened": reopened, "extended": extended, "escalated": escalated,
        "supervised": supervision > 0, "supervised_yellow": supervision == 2,
        "supervised_red": supervision == 3, "self_resolved": self_resolved,
        "grid_worker_reported": grid_worker,
        "grid_worker_self_resolved": grid_worker and self_resolved,
        "rated": bool(rating), "satisfied": rating == "satisfied",
        "basic_satisfied": rating == "basic",
        "accepted": accepted_at is not None, "dispatched": dispatched_at is not None,
        "overdue": _overdue_now(state, event, now),
    }
    out.update({k: 1 for k, v in flags.items() if v})
    us = dt.timedelta(microseconds=1)
    if accepted_at is not None:
        out["accept_us"] = (accepted_at - event.reported_at) // us
    if dispatched_at is not None:
        out["dispatch_us"] = (dispatched_at - event.reported_at) // us
    if state == State.CLOSED and closed_at is not None:
        out["close_us"] = (closed_at - event.reported_at) // us
    return department, out


def _overdue_now(state: str, event: Event, now: dt.datetime) -> bool:
    """Open and past its deadline (the dispatch deadline before dispatch, else the handling
    one), as gezhi.events.selectors.overdue_q says."""
    if state not in OPEN_STATES:
        return False
    if state in (State.REPORTED, State.ACCEPTED):
        return event.dispatch_deadline is not None and event.dispatch_deadline < now
    return event.handle_deadline is not None and event.handle_deadline < now


def within_choices(viewer) -> list[Region]:
    """Regions the viewer may narrow a report to: the tops of their scope and the districts,
    subdistricts and communities below (a handler: those of the area their department serves,
    for the console shows them)."""
    scope = scope_for(viewer, Perm.INDICATOR_VIEW)
    if scope.everything:
        tops = Q(parent__isnull=True)
        below = Q()
    else:
        paths = set(scope.paths)
        if scope.department_ids:
            paths |= set(scope_for(viewer, Perm.CONSOLE).paths)
        if not paths:
            return []
        tops = Q(path__in=paths)
        below = Q(pk__in=[])
        for p in paths:
            below |= Q(path__startswith=p)
    wide = [Level.CITY, Level.DISTRICT, Level.SUBDISTRICT, Level.COMMUNITY]
    return list(Region.objects.filter(tops | (below & Q(level__in=wide))).order_by("path")
                .only("code", "name", "path", "depth", "level"))
