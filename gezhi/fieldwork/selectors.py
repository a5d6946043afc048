"""Reads of field work, each through the one scope filter (Perm.FIELD_VIEW).

The visit rule (docs/fieldwork.md): a household — a house where someone currently lives — is
due for a visit when one of its residents carries an active tag with a VisitRule and the last
visit that reached someone (见到住户 or 拒绝入户; 无人在家 does not count) is older than the
shortest interval of those tags, or never happened; a visit may also set an earlier date for
the next one (`next_visit_on`). Restricted (special-group) tags count only for viewers who
may see them there, so nobody learns of a special group from a due list.

`households_due` and `coverage` answer for a whole subdistrict in a handful of queries: the
households' tags, their last visits and the planned dates are read in bulk, never per house.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from django.conf import settings
from django.db.models import Count, Exists, OuterRef, Prefetch, Q, QuerySet, Subquery
from django.utils import timezone
from django.utils.translation import gettext as _

from gezhi.accounts.roles import Perm
from gezhi.accounts.scope import Scope, scope_for, visible_to
from gezhi.core import clock
from gezhi.core.errors import NotFound, ValidationFailed
from gezhi.fieldwork.models import DiaryEntry, Patrol, Visit, VisitOutcome
from gezhi.people.codes import ResidenceKind, TagGroup
from gezhi.people.models import Person, Residence, Tag
from gezhi.places.models import House
from gezhi.regions.models import Region

# Outcomes that count as a visit: someone was reached.
REACHED = (VisitOutcome.MET, VisitOutcome.REFUSED)
MAX_DAYS = 366


# ---------------------------------------------------------------------------------------------
# Lists and single records


def region_in_scope(*, viewer, code: str, field: str = "grid") -> Region | None:
    """A region (grid, community …) the viewer may read field work of; NotFound otherwise."""
    if not code:
        return None
    region = visible_to(Region.objects.filter(code=code), viewer, Perm.FIELD_VIEW).first()
    if region is None:
        raise NotFound(details={"field": field})
    return region


def _within(qs: QuerySet, viewer, grid_code: str, lookup: str = "grid__path") -> QuerySet:
    region = region_in_scope(viewer=viewer, code=grid_code)
    return qs.filter(**{f"{lookup}__startswith": region.path}) if region else qs


def _dates(qs: QuerySet, lookup: str, start: dt.date | None, end: dt.date | None) -> QuerySet:
    if start:
        qs = qs.filter(**{f"{lookup}__gte": start})
    if end:
        qs = qs.filter(**{f"{lookup}__lte": end})
    return qs


def diary_list(*, viewer, author=None, grid_code: str = "", start: dt.date | None = None,
               end: dt.date | None = None) -> QuerySet[DiaryEntry]:
    """民情日记 of the viewer's scope (or by `author`), newest first."""
    qs = visible_to(DiaryEntry.objects.all(), viewer, Perm.FIELD_VIEW)
    if author is not None:
        qs = qs.filter(author=author)
    qs = _dates(_within(qs, viewer, grid_code), "date", start, end)
    return (qs.select_related("grid", "house", "author", "event")
            .prefetch_related("photos").order_by("-date", "-id"))


def diary_get(*, viewer, pk: int) -> DiaryEntry:
    entry = diary_list(viewer=viewer).filter(pk=pk).first()
    if entry is None:
        raise NotFound()
    return entry


def visits_loaded(qs: QuerySet) -> QuerySet[Visit]:
    met = Prefetch("people_met", queryset=Person.objects.only("id", "name").order_by("id"))
    return (qs.select_related("house", "grid", "visitor")
            .prefetch_related(met, "photos").order_by("-visited_at", "-id"))


def visit_list(*, viewer, house: int | None = None, visitor=None, grid_code: str = "",
               outcome: str = "", start: dt.date | None = None,
               end: dt.date | None = None) -> QuerySet[Visit]:
    qs = visible_to(Visit.objects.all(), viewer, Perm.FIELD_VIEW)
    if house is not None:
        qs = qs.filter(house_id=house)
    if visitor is not None:
        qs = qs.filter(visitor=visitor)
    if outcome:
        qs = qs.filter(outcome=outcome)
    qs = _dates(_within(qs, viewer, grid_code), "visited_at__date", start, end)
    return visits_loaded(qs)


def visit_get(*, viewer, pk: int) -> Visit:
    visit = visit_list(viewer=viewer).filter(pk=pk).first()
    if visit is None:
        raise NotFound()
    return visit


def visits_for_house(*, viewer, house) -> QuerySet[Visit]:
    """The visits of one house the viewer may see, newest first."""
    return visit_list(viewer=viewer, house=house.pk)


def patrol_list(*, viewer, worker=None, grid_code: str = "") -> QuerySet[Patrol]:
    qs = visible_to(Patrol.objects.all(), viewer, Perm.FIELD_VIEW)
    if worker is not None:
        qs = qs.filter(worker=worker)
    return _within(qs, viewer, grid_code).select_related("grid", "worker") \
        .order_by("-started_at", "-id")


def patrol_get(*, viewer, client_id) -> Patrol:
    """A patrol the viewer may see (its worker always may)."""
    patrol = (Patrol.objects.select_related("grid", "worker")
              .filter(client_id=client_id).first())
    if patrol is None or not (patrol.worker_id == getattr(viewer, "pk", None) or scope_for(
            viewer, Perm.FIELD_VIEW).covers_path(patrol.grid.path)):
        raise NotFound()
    return patrol


def my_recent(*, user, days: int = 7) -> dict:
    """What the user recorded in the last `days` days: {"diary", "visits", "patrols"}."""
    since = clock.now() - dt.timedelta(days=days)
    return {
        "diary": DiaryEntry.objects.filter(author=user, created_at__gte=since)
        .select_related("grid", "house", "event").prefetch_related("photos")
        .order_by("-date", "-id"),
        "visits": visits_loaded(Visit.objects.filter(visitor=user, visited_at__gte=since)),
        "patrols": Patrol.objects.filter(worker=user, started_at__gte=since)
        .select_related("grid").order_by("-started_at", "-id"),
    }


# ---------------------------------------------------------------------------------------------
# The visit rule


@dataclass
class Household:
    """A house with current residents, as the visit rule sees it."""

    house_id: int
    address: str
    lat: float | None
    lon: float | None
    grid_id: int
    grid_code: str
    grid_name: str
    grid_path: str
    tags: list[Tag] = field(default_factory=list)  # the residents' tags the viewer may see
    interval: int | None = None  # shortest rule interval of those tags (days)
    tagged_since: dt.date | None = None  # when the first of those tags was added
    last_visit_at: dt.datetime | None = None  # the last visit that reached someone
    next_visit_on: dt.date | None = None  # the date that visit planned for the next one
    due_on: dt.date | None = None

    def overdue_days(self, today: dt.date) -> int | None:
        return None if self.due_on is None else (today - self.due_on).days

    def as_dict(self, today: dt.date) -> dict:
        return {
            "house": {"id": self.house_id, "address": self.address, "lat": self.lat,
                      "lon": self.lon},
            "grid": {"code": self.grid_code, "name": self.grid_name},
            "tags": [{"code": t.code, "name": t.name, "colour": t.colour} for t in self.tags],
            "interval_days": self.interval,
            "last_visit_at": self.last_visit_at,
            "next_visit_on": self.next_visit_on,
            "due_on": self.due_on,
            "overdue_days": self.overdue_days(today),
        }


def _default_days() -> int | None:
    """GEZHI_VISIT_DEFAULT_DAYS: the interval of care tags without a rule (unset: none)."""
    default = getattr(settings, "GEZHI_VISIT_DEFAULT_DAYS", None)
    return int(default) if default else None


def _where(prefix: str, scope: Scope, within: Region | None, house_id: int | None) -> Q:
    """Houses of the scope (and region, or one house), through the lookup `prefix`."""
    q = scope.region_q(f"{prefix}grid__path")
    if within is not None:
        q &= Q(**{f"{prefix}grid__path__startswith": within.path})
    if house_id is not None:
        q &= Q(**{f"{prefix}pk": house_id})
    return q


def _current(prefix: str = "") -> Q:
    return Q(**{f"{prefix}kind": ResidenceKind.LIVES, f"{prefix}moved_out__isnull": True})


# A house's details as the due list shows them (the building's point when the house has none).
HOUSE_FIELDS = ("address", "lat", "lon", "building__lat", "building__lon", "grid_id",
                "grid__code", "grid__name", "grid__path")
TAG_FIELDS = ("id", "code", "name", "colour", "sort_order", "group", "sensitivity")


def _household(house_id: int, values) -> Household:
    address, lat, lon, b_lat, b_lon, grid_id, code, name, path = values
    return Household(house_id, address, lat if lat is not None else b_lat,
                     lon if lon is not None else b_lon, grid_id, code, name, path)


def _add_tags(found: dict[int, Household], viewer, where: Q, make) -> None:
    """The current residents' active tags (those the viewer may see), with their rule's
    interval, onto their households: one query, one row per (resident, tag)."""
    special = scope_for(viewer, Perm.SPECIAL_VIEW)
    default = _default_days()
    tags: dict[int, Tag] = {}
    rows = (Residence.objects.filter(_current(), where, person__tags__removed_at__isnull=True,
                                     person__tags__tag__isnull=False)
            .order_by().values_list(
                "house_id", "person__tags__added_at", "person__tags__tag__visit_rule__interval_days",
                *(f"person__tags__tag__{f}" for f in TAG_FIELDS),
                *(f"house__{f}" for f in HOUSE_FIELDS)))
    for row in rows:
        house, added_at, interval = row[:3]
        tag_values, house_values = row[3:3 + len(TAG_FIELDS)], row[3 + len(TAG_FIELDS):]
        tag = tags.get(tag_values[0])
        if tag is None:
            tag = tags[tag_values[0]] = Tag(**dict(zip(TAG_FIELDS, tag_values, strict=True)))
        grid_path = house_values[-1]
        if tag.restricted and not special.covers_path(grid_path):
            continue
        h = found.get(house)
        if h is None:
            h = found[house] = make(house, house_values)
        if tag not in h.tags:
            h.tags.append(tag)
        if interval is None and tag.group == TagGroup.CARE:
            interval = default
        if interval is not None:
            h.interval = interval if h.interval is None else min(h.interval, interval)
            since = timezone.localdate(added_at)
            h.tagged_since = since if h.tagged_since is None else min(h.tagged_since, since)


def households(*, viewer, within: Region | None = None) -> dict[int, Household]:
    """Households the visit rule concerns, by house id: those whose residents carry a tag the
    viewer may see, and those whose last visit planned the next one. Two queries, whatever
    the number of houses: the residents' tags, and the visited houses with their last visit."""
    scope = scope_for(viewer, Perm.FIELD_VIEW)
    if scope.empty:
        return {}
    found: dict[int, Household] = {}
    _add_tags(found, viewer, _where("house__", scope, within, None), _household)

    reached = (Visit.objects.filter(house=OuterRef("pk"), outcome__in=REACHED)
               .order_by("-visited_at", "-id"))
    visited = (House.objects.filter(_where("", scope, within, None)).filter(Exists(reached))
               .annotate(last=Subquery(reached.values("visited_at")[:1]),
                         plan=Subquery(reached.values("next_visit_on")[:1]),
                         lives=Exists(Residence.objects.filter(_current(),
                                                               house=OuterRef("pk"))))
               .order_by().values_list("pk", "last", "plan", "lives", *HOUSE_FIELDS))
    for pk, last, plan, lives, *house_values in visited:
        h = found.get(pk)
        if h is None:
            if plan is None or not lives:
                continue  # no rule and nothing planned, or nobody lives there any more
            h = found[pk] = _household(pk, house_values)
        h.last_visit_at, h.next_visit_on = last, plan
    for h in found.values():
        h.tags.sort(key=lambda t: (t.sort_order, t.code))
        h.due_on = due_on(h)
    return found


def due_on(h: Household) -> dt.date | None:
    """When the household's next visit is due: the last visit that reached someone plus the
    interval (never earlier than the day the household got its tag; at once if never
    visited), or the date that visit planned, whichever comes first."""
    dates = []
    if h.interval is not None:
        if h.last_visit_at is None:
            dates.append(h.tagged_since)
        else:
            by_rule = timezone.localdate(h.last_visit_at) + dt.timedelta(days=h.interval)
            dates.append(max(by_rule, h.tagged_since) if h.tagged_since else by_rule)
    if h.next_visit_on is not None:
        dates.append(h.next_visit_on)
    dates = [d for d in dates if d is not None]
    return min(dates) if dates else None


def today() -> dt.date:
    return timezone.localdate(clock.now())


def households_due(*, viewer, grid_code: str | None = None) -> list[dict]:
    """Households of the viewer's scope (or a grid, a community …) whose visit is due today
    or overdue, most overdue first."""
    within = region_in_scope(viewer=viewer, code=grid_code or "")
    now = today()
    due = [h for h in households(viewer=viewer, within=within).values()
           if h.due_on is not None and h.due_on <= now]
    due.sort(key=lambda h: (h.due_on, h.grid_path, h.address, h.house_id))
    return [h.as_dict(now) for h in due]


def house_due(*, viewer, house, recent: list[Visit] | None = None) -> Household | None:
    """The visit rule for one house (None: it has no rule and nothing planned, or the viewer
    may not read field work there). `recent`: the house's newest visits, newest first, when
    the caller has read them already — if one of them reached someone, or they are all the
    house's visits, the last visit is not read again."""
    scope = scope_for(viewer, Perm.FIELD_VIEW)
    if not scope.covers_path(house.grid.path):
        return None
    found: dict[int, Household] = {}
    _add_tags(found, viewer, _where("house__", scope, None, house.pk), _household)
    last = next((v for v in recent or () if v.outcome in REACHED), None)
    if last is None and recent is None:
        last = (Visit.objects.filter(house=house, outcome__in=REACHED)
                .order_by("-visited_at", "-id").only("visited_at", "next_visit_on").first())
    h = found.get(house.pk)
    if h is None:
        if last is None or last.next_visit_on is None:
            return None
        h = Household(house.pk, house.address, house.lat, house.lon, house.grid_id,
                      house.grid.code, house.grid.name, house.grid.path)
    if last is not None:
        h.last_visit_at, h.next_visit_on = last.visited_at, last.next_visit_on
    h.tags.sort(key=lambda t: (t.sort_order, t.code))
    h.due_on = due_on(h)
    return h


# ---------------------------------------------------------------------------------------------
# Coverage


def _share(part: int, whole: int) -> float | None:
    return round(part / whole, 4) if whole else None


def _row(grid: dict, counts: dict) -> dict:
    return {"grid": grid, **counts,
            "share": _share(counts["visited"], counts["households"]),
            "tagged_share": _share(counts["tagged_visited"], counts["tagged_households"])}


COUNTS = ("households", "visited", "tagged_households", "tagged_visited", "overdue")


def coverage(*, viewer, region_code: str | None = None, days: int = 30) -> dict:
    """走访覆盖 per grid under a region (or the viewer's whole scope): households, households
    visited (someone reached) on one of the last `days` days, today included, and their
    share; the same for households under a visit rule; households whose visit is overdue.
    Grids without households are left out."""
    if isinstance(days, bool) or not isinstance(days, int) or not 1 <= days <= MAX_DAYS:
        raise ValidationFailed(_("天数应为 1 到 %(n)s 之间的整数。") % {"n": MAX_DAYS},
                               code="bad_days", details={"field": "days"})
    within = region_in_scope(viewer=viewer, code=region_code or "", field="region")
    scope = scope_for(viewer, Perm.FIELD_VIEW)
    now = today()
    since = timezone.make_aware(dt.datetime.combine(now - dt.timedelta(days=days - 1),
                                                    dt.time.min))
    out = {"days": days, "since": since.date(),
           "region": {"code": within.code, "name": within.name} if within else None,
           "items": [], "totals": {**dict.fromkeys(COUNTS, 0), "share": None,
                                   "tagged_share": None}}
    if scope.empty:
        return out
    recent = Visit.objects.filter(house=OuterRef("pk"), outcome__in=REACHED,
                                  visited_at__gte=since)
    counts = {row["grid_id"]: row for row in (
        House.objects.filter(_where("", scope, within, None))
        .filter(Exists(Residence.objects.filter(_current(), house=OuterRef("pk"))))
        .order_by().values("grid_id")
        .annotate(households=Count("pk"), visited=Count("pk", filter=Exists(recent))))}
    per_grid = {pk: {**dict.fromkeys(COUNTS, 0), "households": row["households"],
                     "visited": row["visited"]} for pk, row in counts.items()}
    for h in households(viewer=viewer, within=within).values():
        c = per_grid.get(h.grid_id)
        if c is None:
            continue
        if h.interval is not None:
            c["tagged_households"] += 1
            if h.last_visit_at is not None and h.last_visit_at >= since:
                c["tagged_visited"] += 1
        if h.due_on is not None and h.due_on < now:
            c["overdue"] += 1
    grids = (Region.objects.filter(pk__in=list(per_grid)).order_by("path")
             .values_list("pk", "code", "name"))
    totals = dict.fromkeys(COUNTS, 0)
    for pk, code, name in grids:
        c = per_grid[pk]
        out["items"].append(_row({"code": code, "name": name}, c))
        for k in COUNTS:
            totals[k] += c[k]
    out["totals"] = _row(None, totals)
    del out["totals"]["grid"]
    return out

