"""What an event contributes to the indicator rollups, and keeping the rollups in step.

`contribution(event)` is a pure function of the event's current columns. Every operation takes
it before the change (`gezhi.events.stats.snapshot`) and after (`stats.record`), and `apply`
adds the difference to the rows it touches with one UPSERT, in the operation's transaction.
`rebuild()` recomputes every row from the events (after generating a history, or after a grid
moved to another community).
"""

from __future__ import annotations

import datetime as dt

from django.conf import settings
from django.db import connection, transaction
from django.db.models import Count, F, Q, Sum
from django.db.models.functions import Coalesce, TruncDate
from django.utils import timezone

from gezhi.events.models import Event, State
from gezhi.indicators.models import COUNTS, NodeLevel, Rollup, Span
from gezhi.regions.models import Region

Key = tuple[dt.date, int, int | None, int]  # (reported day, grid, grid's parent, department)
Contribution = tuple[Key, tuple[int, ...]]

NOT_DUE = (State.REJECTED, State.MERGED, State.SUSPENDED)
US = dt.timedelta(microseconds=1)


def contribution(event: Event) -> Contribution:
    """The counts this event adds to the rows of its key, in COUNTS order."""
    state = event.state
    due = state not in NOT_DUE
    closed = due and state == State.CLOSED
    level = event.supervision_level or 0
    gw = event.reporter_is_grid_worker
    accepted = due and event.accepted_at is not None
    dispatched = due and event.dispatched_at is not None
    values = (
        1, due, closed, closed and event.closed_on_time is True,
        due and event.reopen_count > 0, due and event.extension_count > 0,
        due and event.escalation_count > 0,
        due and level > 0, due and level == 2, due and level == 3,
        due and event.self_resolved, due and gw, due and gw and event.self_resolved,
        due and bool(event.rating), due and event.rating == "satisfied",
        due and event.rating == "basic",
        state == State.SUSPENDED, state == State.REJECTED, state == State.MERGED,
        accepted, (event.accepted_at - event.reported_at) // US if accepted else 0,
        dispatched, (event.dispatched_at - event.reported_at) // US if dispatched else 0,
        (event.closed_at - event.reported_at) // US if closed and event.closed_at else 0,
    )
    key = (timezone.localdate(event.reported_at, timezone.get_default_timezone()), event.grid_id,
           event.grid.parent_id,
           event.department_id or 0)
    return key, tuple(int(v) for v in values)


def _rows(key: Key) -> list[tuple[int, int, int, dt.date, int]]:
    """(node, node_level, span, period, department) of every row an event of `key` is in."""
    day, grid, parent, department = key
    periods = ((Span.DAY, day), (Span.MONTH, day.replace(day=1)),
               (Span.YEAR, dt.date(day.year, 1, 1)))
    nodes = [(grid, NodeLevel.GRID)] + ([(parent, NodeLevel.PARENT)] if parent else [])
    departments = (0, department) if department else (0,)
    return [(node, level, span, period, d) for node, level in nodes for span, period in periods
            for d in departments]


def apply(before: Contribution | None, after: Contribution | None) -> None:
    """Add `after` and take away `before` (one UPSERT; nothing when they are equal)."""
    if before == after:
        return
    deltas: dict[tuple, list[int]] = {}
    for contrib, sign in ((before, -1), (after, 1)):
        if contrib is None:
            continue
        key, values = contrib
        for row in _rows(key):
            total = deltas.setdefault(row, [0] * len(COUNTS))
            for i, v in enumerate(values):
                total[i] += sign * v
    # Sorted, so concurrent operations lock shared rows in the same order (no deadlock).
    rows = sorted((row, values) for row, values in deltas.items() if any(values))
    if rows:
        _upsert(rows)


def _upsert(rows: list[tuple[tuple, list[int]]]) -> None:
    table = Rollup._meta.db_table
    columns = ("node", "node_level", "span", "period", "department", *COUNTS)
    updates = ", ".join(f"{c} = {table}.{c} + excluded.{c}" for c in COUNTS)
    conflict = f"ON CONFLICT (node, span, department, period) DO UPDATE SET {updates}"
    params: list = []
    if connection.vendor == "postgresql":
        # One array a column, written as a text literal ('{1,0,2}', '{2026-11-27}'): the same
        # statement for any number of rows, which psycopg parses once (it does not keep
        # statements of more than 50 parameters), and cheaper to pass than lists of numbers.
        # unnest() yields the rows in the arrays' order, so they are still locked in key order.
        flat = [(node, int(level), int(span), period, department, *values)
                for (node, level, span, period, department), values in rows]
        params = ["{" + ",".join(map(str, column)) + "}" for column in zip(*flat, strict=True)]
        arrays = ", ".join("%s::date[]" if c == "period" else "%s::bigint[]" for c in columns)
        sql = (f"INSERT INTO {table} ({', '.join(columns)}) SELECT * FROM unnest({arrays}) "
               f"{conflict}")
    else:
        adapt = connection.ops.adapt_datefield_value
        for (node, level, span, period, department), values in rows:
            params += [node, int(level), int(span), adapt(period), department, *values]
        one = "(" + ", ".join(["%s"] * len(columns)) + ")"
        sql = (f"INSERT INTO {table} ({', '.join(columns)}) "
               f"VALUES {', '.join([one] * len(rows))} {conflict}")
    with connection.cursor() as cursor:
        cursor.execute(sql, params)


# ---------------------------------------------------------------------------------------------
# Rebuilding from the events


def _due_q() -> Q:
    return ~Q(state__in=NOT_DUE)


def event_aggregates() -> dict:
    """contribution()'s counts as aggregates over events: summed over a plain GROUP BY of the
    events they equal the rollups (the benchmark's naive way, and rebuild()'s one scan)."""
    due = _due_q()
    closed = due & Q(state=State.CLOSED)
    gw = Q(reporter_is_grid_worker=True)
    accepted = due & Q(accepted_at__isnull=False)
    dispatched = due & Q(dispatched_at__isnull=False)

    def n(q: Q):
        return Count("pk", filter=q)

    def span(q: Q, end: str):
        return Sum(F(end) - F("reported_at"), filter=q)

    return {
        "reported": Count("pk"), "due": n(due), "closed": n(closed),
        "closed_on_time": n(closed & Q(closed_on_time=True)),
        "reopened": n(due & Q(reopen_count__gt=0)),
        "extended": n(due & Q(extension_count__gt=0)),
        "escalated": n(due & Q(escalation_count__gt=0)),
        "supervised": n(due & Q(supervision_level__isnull=False)),
        "supervised_yellow": n(due & Q(supervision_level=2)),
        "supervised_red": n(due & Q(supervision_level=3)),
        "self_resolved": n(due & Q(self_resolved=True)),
        "grid_worker_reported": n(due & gw),
        "grid_worker_self_resolved": n(due & gw & Q(self_resolved=True)),
        "rated": n(due & ~Q(rating="")), "satisfied": n(due & Q(rating="satisfied")),
        "basic_satisfied": n(due & Q(rating="basic")),
        "suspended": n(Q(state=State.SUSPENDED)), "rejected": n(Q(state=State.REJECTED)),
        "merged": n(Q(state=State.MERGED)),
        "accepted": n(accepted), "accept_us": span(accepted, "accepted_at"),
        "dispatched": n(dispatched), "dispatch_us": span(dispatched, "dispatched_at"),
        "close_us": span(closed, "closed_at"),
    }


def _event_sums():
    """The events grouped by (reported day, grid, department or 0)."""
    sums = event_aggregates()
    # Named s_<count>: some counts share their name with an event column.
    return (Event.objects.order_by()
            .annotate(day=TruncDate("reported_at", tzinfo=timezone.get_default_timezone()),
                      dept=Coalesce("department_id", 0))
            .values("day", "grid_id", "dept")
            .annotate(**{f"s_{name}": sums[name] for name in COUNTS})
            .order_by())


def _microseconds(column: str) -> str:
    """A summed duration column of _event_sums() as whole microseconds."""
    if connection.vendor == "postgresql":
        return f"COALESCE((EXTRACT(EPOCH FROM {column}) * 1000000)::bigint, 0)"
    return f"COALESCE({column}, 0)"  # SQLite sums durations as microseconds already


def _trunc(span: int, column: str) -> str:
    """The first day of the month (or year) of a date column."""
    if connection.vendor == "postgresql":
        unit = "DAY" if span == Span.MONTH else "DOY"
        return f"({column} - (EXTRACT({unit} FROM {column})::int - 1))"
    unit = "month" if span == Span.MONTH else "year"
    return f"date({column}, 'start of {unit}')"


def rebuild() -> int:
    """Recompute every rollup row from the events, in one transaction; return the row count.

    One scan of the events gives a staging table of (grid, day, department or none); every
    rollup row is a sum of those, in SQL, written in key order (a report then reads a node's
    rows from neighbouring pages). On PostgreSQL the rollup's indexes are dropped and
    built again around the load, which is several times quicker than keeping them up to date
    row by row (the table is locked meanwhile; operations wait for the rebuild to finish)."""
    table, stage = Rollup._meta.db_table, "gezhi_rollup_stage"
    region = Region._meta.db_table
    pg = connection.vendor == "postgresql"
    counts = ", ".join(COUNTS)
    sums = ", ".join(f"SUM({c})" for c in COUNTS)
    durations = {"accept_us", "dispatch_us", "close_us"}
    inner_sql, inner_params = _event_sums().query.sql_with_params()
    picked = ", ".join((_microseconds(f"b.s_{c}") if c in durations else f"b.s_{c}") + f" AS {c}"
                       for c in COUNTS)
    insert = f"INSERT INTO {table} (node, node_level, span, period, department, {counts}) "
    grid, parent = NodeLevel.GRID, NodeLevel.PARENT
    with transaction.atomic(), connection.cursor() as cursor:
        if pg:  # big sorts and hashes: keep them in memory
            cursor.execute("SET LOCAL work_mem = '256MB'")
            cursor.execute(f"TRUNCATE {table}")
            cursor.execute("DROP INDEX rollup_level")
            cursor.execute(f"ALTER TABLE {table} DROP CONSTRAINT rollup_key")
        else:
            cursor.execute(f"DELETE FROM {table}")
        cursor.execute(f"DROP TABLE IF EXISTS {stage}")
        cursor.execute(
            f"CREATE TEMP TABLE {stage} AS SELECT b.grid_id AS node, g.parent_id AS parent, "
            f"b.day AS period, b.dept AS department, {picked} "
            f"FROM ({inner_sql}) b JOIN {region} g ON g.id = b.grid_id", inner_params)
        day = Span.DAY
        for level, node, where in ((grid, "node", ""), (parent, "parent", "parent IS NOT NULL")):
            where = f"WHERE {where}" if where else ""
            also = f"{where} {'AND' if where else 'WHERE'} department <> 0"
            # Every event of the node, and each department's.
            cursor.execute(f"{insert} SELECT {node}, {level}, {day}, period, 0, {sums} "
                           f"FROM {stage} {where} GROUP BY {node}, period "
                           f"ORDER BY {node}, period")
            cursor.execute(f"{insert} SELECT {node}, {level}, {day}, period, department, {sums} "
                           f"FROM {stage} {also} GROUP BY {node}, period, department "
                           f"ORDER BY {node}, department, period")
        cursor.execute(f"DROP TABLE {stage}")
        # Months from days, years from months.
        for span, source in ((Span.MONTH, Span.DAY), (Span.YEAR, Span.MONTH)):
            start = _trunc(span, "period")
            cursor.execute(f"{insert} SELECT node, node_level, {span}, {start}, department, "
                           f"{sums} FROM {table} WHERE span = {source} "
                           f"GROUP BY node, node_level, {start}, department "
                           f"ORDER BY node, department, {start}")
        if pg:
            cursor.execute(f"ALTER TABLE {table} ADD CONSTRAINT rollup_key "
                           "UNIQUE (node, span, department, period)")
            cursor.execute(f"CREATE INDEX rollup_level ON {table} "
                           "(node_level, span, department, period)")
            cursor.execute(f"ANALYZE {table}")
        cursor.execute(f"SELECT COUNT(*) FROM {table}")
        return cursor.fetchone()[0]


# ---------------------------------------------------------------------------------------------
# Periods


def spans(start: dt.date, end: dt.date) -> list[tuple[int, dt.date, dt.date]]:
    """[start, end] (inclusive) as few rollup ranges as possible: (span, first, last) with
    whole years, then whole months, then single days at the edges."""
    if start > end:
        return []
    out: list[tuple[int, dt.date, dt.date]] = []
    first_month = start if start.day == 1 else _next_month(start)
    after_last = _next_month(end) if _is_last_day(end) else end.replace(day=1)
    if first_month >= after_last:  # no whole month inside
        return [(Span.DAY, start, end)]
    if start < first_month:
        out.append((Span.DAY, start, first_month - dt.timedelta(days=1)))
    first_year = first_month if first_month.month == 1 else dt.date(first_month.year + 1, 1, 1)
    after_years = dt.date(after_last.year, 1, 1)
    if first_year < after_years:
        if first_month < first_year:
            out.append((Span.MONTH, first_month, _previous_month(first_year)))
        out.append((Span.YEAR, first_year, dt.date(after_years.year - 1, 1, 1)))
        if after_years < after_last:
            out.append((Span.MONTH, after_years, _previous_month(after_last)))
    else:
        out.append((Span.MONTH, first_month, _previous_month(after_last)))
    if after_last <= end:
        out.append((Span.DAY, after_last, end))
    return out


def _next_month(day: dt.date) -> dt.date:
    return dt.date(day.year + day.month // 12, day.month % 12 + 1, 1)


def _previous_month(first: dt.date) -> dt.date:
    """The first day of the month before the month starting at `first`."""
    return dt.date(first.year - (first.month == 1), (first.month - 2) % 12 + 1, 1)


def _is_last_day(day: dt.date) -> bool:
    return (day + dt.timedelta(days=1)).day == 1


def spans_q(start: dt.date | None, end: dt.date | None, prefix: str = "") -> Q:
    """A filter on rollup rows covering every reported day in [start, end] exactly once."""
    if start is None and end is None:
        return Q(**{f"{prefix}span": Span.YEAR})
    start = start or dt.date(1970, 1, 1)
    end = end or dt.date(2999, 12, 31)
    q = Q(pk__in=[])
    for span, first, last in spans(start, end):
        q |= Q(**{f"{prefix}span": span, f"{prefix}period__range": (first, last)})
    return q


def local_bounds(start: dt.date, end: dt.date) -> tuple[dt.datetime, dt.datetime]:
    """The moments [from, to) of the local days start … end."""
    tz = timezone.get_default_timezone() if settings.USE_TZ else None
    return (dt.datetime.combine(start, dt.time(), tzinfo=tz),
            dt.datetime.combine(end + dt.timedelta(days=1), dt.time(), tzinfo=tz))
