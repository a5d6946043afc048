"""Reads of the event closed loop: scoped lists, work queues with counts, one event with its
timeline, deadline status, and duplicate suggestions."""

from __future__ import annotations

import math
from dataclasses import dataclass

from django.conf import settings
from django.db.models import Count, Exists, OuterRef, Prefetch, Q, QuerySet
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from gezhi.accounts.roles import Perm
from gezhi.accounts.scope import scope_for, visible_to
from gezhi.core import clock
from gezhi.core.errors import NotFound
from gezhi.events import workcal
from gezhi.events.models import (
    LEVEL_ORDER,
    OPEN_STATES,
    Event,
    Extension,
    LimitUnit,
    Op,
    Photo,
    Rating,
    State,
    TimelineEntry,
)
from gezhi.events.rules import RULES
from gezhi.regions.models import Region

LIST_RELATED = ("category", "grid", "department", "unit_region", "reporter")


def _base(viewer) -> QuerySet[Event]:
    return visible_to(Event.objects.all(), viewer, Perm.EVENT_VIEW)


def _region_levels(paths: tuple[str, ...]) -> dict[str, str]:
    return dict(Region.objects.filter(path__in=paths).values_list("path", "level"))


def dispatcher_q(viewer) -> Q:
    """Events this viewer dispatches: inside a region they hold EVENT_DISPATCH over, at that
    region's level or below (a community's chief does not dispatch what went up to the
    subdistrict)."""
    scope = scope_for(viewer, Perm.EVENT_DISPATCH)
    if scope.everything:
        return Q()
    q = Q(pk__in=[])
    cache = viewer.__dict__.setdefault("_gezhi_region_levels", {})
    if scope.paths not in cache:
        cache[scope.paths] = _region_levels(scope.paths)
    for path, level in cache[scope.paths].items():
        if level in LEVEL_ORDER:
            levels = LEVEL_ORDER[:LEVEL_ORDER.index(level) + 1]
        else:  # a city or other node above the district: every level
            levels = LEVEL_ORDER
        q |= Q(grid__path__startswith=path, level__in=levels)
    return q


def unit_q(viewer) -> Q:
    """Events whose main handling unit is this viewer's department or region."""
    scope = scope_for(viewer, Perm.EVENT_HANDLE)
    if scope.everything:
        return Q(department__isnull=False) | Q(unit_region__isnull=False)
    q = Q(department_id__in=scope.department_ids) if scope.department_ids else Q(pk__in=[])
    for path in scope.paths:
        q |= Q(unit_region__path__startswith=path)
    return q


def _region_q(viewer, perm: str) -> Q:
    return scope_for(viewer, perm).region_q("grid__path")


def overdue_q(now) -> Q:
    return (Q(state__in=(State.REPORTED, State.ACCEPTED), dispatch_deadline__lt=now)
            | Q(state__in=(State.DISPATCHED, State.HANDLING, State.HANDLED, State.VERIFIED),
                handle_deadline__lt=now))


@dataclass(frozen=True)
class Queue:
    key: str
    label: object
    perm: str


QUEUES = [
    Queue("to_accept", _("待受理"), Perm.EVENT_DISPATCH),
    Queue("to_dispatch", _("待派遣"), Perm.EVENT_DISPATCH),
    Queue("to_handle", _("待处置"), Perm.EVENT_HANDLE),
    Queue("to_verify", _("待核查"), Perm.EVENT_VERIFY),
    Queue("to_close", _("待结案"), Perm.EVENT_DISPATCH),
    Queue("extensions", _("延期待批"), Perm.EVENT_EXTEND_DECIDE),
    Queue("overdue", _("超期"), Perm.EVENT_VIEW),
    Queue("supervised", _("督办"), Perm.EVENT_VIEW),
    Queue("open", _("全部在办"), Perm.EVENT_VIEW),
    Queue("all", _("全部事件"), Perm.EVENT_VIEW),
]
QUEUE_KEYS = {q.key for q in QUEUES}


def queue_q(viewer, key: str) -> Q:
    now = clock.now()
    if key == "to_accept":
        return Q(state=State.REPORTED) & dispatcher_q(viewer)
    if key == "to_dispatch":
        return Q(state=State.ACCEPTED) & dispatcher_q(viewer)
    if key == "to_handle":
        return Q(state__in=(State.DISPATCHED, State.HANDLING)) & unit_q(viewer)
    if key == "to_verify":
        return Q(state=State.HANDLED) & (_region_q(viewer, Perm.EVENT_VERIFY)
                                         | dispatcher_q(viewer))
    if key == "to_close":
        return Q(state=State.VERIFIED) & dispatcher_q(viewer)
    if key == "extensions":
        pending = Extension.objects.filter(event=OuterRef("pk"),
                                           status=Extension.Status.PENDING)
        return Q(Exists(pending)) & _region_q(viewer, Perm.EVENT_EXTEND_DECIDE)
    if key == "overdue":
        return overdue_q(now)
    if key == "supervised":
        return Q(supervision_level__isnull=False, state__in=OPEN_STATES + (State.SUSPENDED,))
    if key == "open":
        return Q(state__in=OPEN_STATES + (State.SUSPENDED,))
    return Q()


def queues_for(viewer) -> list[Queue]:
    from gezhi.accounts.scope import has_perm

    return [q for q in QUEUES if has_perm(viewer, q.perm)]


def queue_counts(*, viewer) -> dict[str, int]:
    """How many events wait in each of the viewer's queues, in one query."""
    queues = queues_for(viewer)
    if not queues:
        return {}
    aggregates = {q.key: Count("pk", filter=queue_q(viewer, q.key)) for q in queues}
    return _base(viewer).aggregate(**aggregates)


def event_list(*, viewer, queue: str = "all", state: str = "", grid_code: str = "",
               category_code: str = "", source: str = "", q: str = "",
               department_id: int | None = None, start=None, end=None) -> QuerySet[Event]:
    """The events the viewer may see, in one of their queues, filtered."""
    qs = _base(viewer).select_related(*LIST_RELATED)
    if queue and queue != "all":
        qs = qs.filter(queue_q(viewer, queue))
    if state:
        qs = qs.filter(state=state)
    if grid_code:
        region = Region.objects.filter(code=grid_code).only("path").first()
        qs = qs.filter(grid__path__startswith=region.path) if region else qs.none()
    if category_code:
        qs = qs.filter(Q(category__code=category_code) | Q(category__parent__code=category_code))
    if source:
        qs = qs.filter(source=source)
    if department_id:
        qs = qs.filter(department_id=department_id)
    if start:
        qs = qs.filter(reported_at__date__gte=start)
    if end:
        qs = qs.filter(reported_at__date__lte=end)
    if q:
        q = q.strip()
        qs = qs.filter(Q(serial__icontains=q) | Q(description__icontains=q)
                       | Q(address__icontains=q) | Q(external_id=q))
    return qs.order_by("-reported_at", "-id")


def event_get(*, viewer, serial: str) -> Event:
    """One event by serial number (or numeric id) if the viewer may see it; reporters always
    see their own reports."""
    lookup = Q(serial=serial)
    if serial.isdigit():
        lookup |= Q(pk=int(serial))
    event = (Event.objects.select_related(*LIST_RELATED, "category__parent", "grid__parent",
                                          "master", "person", "house", "organisation")
             .filter(lookup).first())
    if event is None:
        raise NotFound()
    from gezhi.events.services import can_view

    if not can_view(viewer, event):
        raise NotFound()
    return event


def event_timeline(*, event: Event) -> list[TimelineEntry]:
    return list(event.timeline.select_related("actor").prefetch_related(
        Prefetch("photos", queryset=Photo.objects.order_by("id"))).order_by("created_at", "id"))


def my_reports(*, user) -> QuerySet[Event]:
    return Event.objects.filter(reporter=user).select_related(*LIST_RELATED)


@dataclass
class DeadlineStatus:
    kind: str  # "dispatch" or "handle" or ""
    deadline: object
    minutes: float | None  # remaining (negative: overdue)
    colour: str  # green / yellow / red / "" (no running deadline)
    parts: dict
    estimated: bool

    @property
    def overdue(self) -> bool:
        return self.colour == "red"


def deadline_status(event: Event, now=None) -> DeadlineStatus:
    """Which deadline runs now, how much working time is left, and its colour: yellow once
    GEZHI_WARN_SHARE of the limit is used, red when overdue."""
    now = now or clock.now()
    if event.state in (State.REPORTED, State.ACCEPTED):
        kind, deadline, start = "dispatch", event.dispatch_deadline, event.reported_at
        unit = LimitUnit.DAYS if event.urgent else LimitUnit.WORK_HOURS
    elif event.state in (State.DISPATCHED, State.HANDLING, State.HANDLED, State.VERIFIED):
        kind, deadline, start = "handle", event.handle_deadline, event.dispatched_at
        unit = event.category.handle_limit_unit
    else:
        return DeadlineStatus("", None, None, "", {}, False)
    if deadline is None:
        return DeadlineStatus("", None, None, "", {}, False)
    left = workcal.remaining(deadline, unit, now)
    total = workcal.remaining(deadline, unit, start) if start else 0
    share = getattr(settings, "GEZHI_WARN_SHARE", 0.8)
    if left < 0:
        colour = "red"
    elif total > 0 and (total - left) / total >= share:
        colour = "yellow"
    else:
        colour = "green"
    return DeadlineStatus(kind, deadline, left, colour, workcal.describe(left, unit),
                          event.deadline_estimated)


def _metres(lat1, lon1, lat2, lon2) -> float:
    r = 6371000.0
    p1, p2 = math.radians(lat1), math.radians(lat2)
    dp, dl = p2 - p1, math.radians(lon2 - lon1)
    a = math.sin(dp / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(dl / 2) ** 2
    return 2 * r * math.asin(math.sqrt(a))


def duplicate_candidates(*, viewer, category, lat: float, lon: float, at=None,
                         exclude: Event | None = None, limit: int = 10) -> list[tuple[Event, int]]:
    """Open events of the same category close in space and time (GEZHI_DUPLICATE_METRES,
    GEZHI_DUPLICATE_HOURS), nearest first, with their distance in metres: offered for merging."""
    import datetime as dt

    metres = getattr(settings, "GEZHI_DUPLICATE_METRES", 100)
    hours = getattr(settings, "GEZHI_DUPLICATE_HOURS", 72)
    at = at or clock.now()
    dlat = metres / 111_320
    dlon = metres / (111_320 * max(math.cos(math.radians(lat)), 0.01))
    qs = _base(viewer).filter(
        category=category, state__in=OPEN_STATES, master__isnull=True,
        lat__range=(lat - dlat, lat + dlat), lon__range=(lon - dlon, lon + dlon),
        reported_at__gte=at - dt.timedelta(hours=hours), reported_at__lte=at + dt.timedelta(
            hours=1)).select_related("category", "grid")
    if exclude is not None:
        qs = qs.exclude(pk=exclude.pk)
    found = []
    for event in qs[:200]:
        distance = _metres(lat, lon, event.lat, event.lon)
        if distance <= metres:
            found.append((event, round(distance)))
    found.sort(key=lambda pair: pair[1])
    return found[:limit]


def map_events(*, viewer, limit: int = 2000) -> list[dict]:
    """Open events for the situation map (作战图): point, state, overdue colour."""
    now = clock.now()
    rows = []
    for event in (_base(viewer).filter(state__in=OPEN_STATES + (State.SUSPENDED,))
                  .select_related("category").order_by("-reported_at")[:limit]):
        status = deadline_status(event, now)
        rows.append({"serial": event.serial, "lat": event.lat, "lon": event.lon,
                     "state": event.state, "state_label": str(event.get_state_display()),
                     "category": event.category.name, "colour": status.colour,
                     "urgent": event.urgent, "supervised": event.supervision_level or 0})
    return rows


def events_about(*, viewer, house=None, person=None, organisation=None,
                 limit: int = 20) -> list[Event]:
    """Events the viewer may see that concern a house, person or organisation (its 画像)."""
    from gezhi.accounts.scope import has_perm

    if not has_perm(viewer, Perm.EVENT_VIEW):
        return []
    qs = _base(viewer).select_related("category", "grid")
    if house is not None:
        qs = qs.filter(house=house)
    elif person is not None:
        qs = qs.filter(person=person)
    elif organisation is not None:
        qs = qs.filter(organisation=organisation)
    else:
        return []
    return list(qs.order_by("-reported_at", "-id")[:limit])


def awaits_rating(event: Event) -> bool:
    """Whether the reporter may rate now: the rule table's states for 评价, not rated yet."""
    return event.state in RULES[Op.RATE].from_states and not event.rating


def plain_step(entry: TimelineEntry, user) -> str | None:
    """The step in words a resident understands; None for internal steps, left out of
    what reporters see (我的反映, the follow page, /api/v1/events/mine)."""
    _ = gettext
    data, note = entry.data or {}, entry.note
    op = entry.op
    if op == Op.REPORT:
        return _("您反映了该问题,已登记。")
    if op == Op.ACCEPT:
        return _("已受理,正在安排处理。")
    if op == Op.REJECT:
        return _("不予受理:%(note)s") % {"note": note}
    if op == Op.DISPATCH:
        return _("已交由“%(unit)s”处理。") % {"unit": data.get("unit", "")}
    if op == Op.CLAIM:
        return _("处理单位已接单。")
    if op in (Op.HANDLE, Op.SELF_RESOLVE):
        return _("已处理:%(note)s") % {"note": note}
    if op == Op.RETURN:
        return _("正在重新安排处理单位。")
    if op == Op.VERIFY:
        return _("处理结果已核实。")
    if op in (Op.VERIFY_FAIL, Op.REOPEN):
        return _("处理结果未达要求,已要求重新处理。")
    if op == Op.CLOSE:
        return _("已办结。")
    if op == Op.ESCALATE:
        return _("已上报上级协调处理。")
    if op == Op.EXTEND_DECIDE and data.get("approve"):
        return _("处理期限已延长。")
    if op == Op.SUSPEND:
        return _("暂缓办理。")
    if op == Op.RESUME:
        return _("已恢复办理。")
    if op == Op.SUPERVISE:
        return _("领导已督办。")
    if op == Op.MERGE and data.get("master"):
        return _("与 %(master)s 为同一问题,已合并办理。") % {"master": data["master"]}
    if op == Op.RATE:
        return _("您的评价:%(rating)s") % {"rating": Rating(data["rating"]).label} \
            if data.get("rating") in Rating.values else None
    if op == Op.COMMENT:
        if entry.actor_id == user.pk:
            return _("您留言:%(note)s") % {"note": note}
        return _("工作人员回复:%(note)s") % {"note": note}
    return None
