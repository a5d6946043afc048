"""Reads behind Open311: services from categories, service requests from events.

GeoReport requests are public, so what leaves here is what anyone may read: never a
reporter's or resident's name, phone or ID number. Descriptions and notes of the other classes
are scrubbed of phone and ID numbers and of the names the event knows (its contact, its
reporter, its linked person); events of the social-governance classes (矛盾纠纷, 特殊人群服务 …),
whose text is about people, show neither description nor notes nor exact location.
"""

from __future__ import annotations

import datetime as dt
import re
import uuid
from dataclasses import dataclass

from django.db.models import QuerySet
from django.utils import timezone
from django.utils.dateparse import parse_date, parse_datetime
from django.utils.translation import gettext as _

from gezhi.core import clock
from gezhi.core.errors import NotFound, ValidationFailed
from gezhi.events.models import (
    Category,
    CategoryGroup,
    Event,
    LimitUnit,
    Op,
    Photo,
    Source,
    State,
    TimelineEntry,
)
from gezhi.regions.models import Level as RegionLevel
from gezhi.regions.models import Region

MAX_REQUESTS = 1000
WINDOW = dt.timedelta(days=90)
CLOSED_STATES = (State.CLOSED, State.REJECTED, State.MERGED)
# Operations whose note is written for the reporter to read (a result, a reason for refusing);
# the others (督办, 延期, 退回 …) are internal.
PUBLIC_NOTE_OPS = (Op.REJECT, Op.SELF_RESOLVE, Op.HANDLE, Op.CLOSE, Op.REOPEN, Op.SUSPEND,
                   Op.MERGE)
JURISDICTION_LEVELS = (RegionLevel.CITY, RegionLevel.DISTRICT)

_PERSONAL_NUMBERS = re.compile(
    r"(?<![0-9A-Za-z])(?:\d{17}[0-9Xx]|\d{15}"  # ID numbers (18 and old 15 digits)
    r"|(?:\+?86[- ]?)?1[3-9]\d[- ]?\d{4}[- ]?\d{4}"  # mobiles
    r"|0\d{2,3}-?\d{7,8})(?![0-9A-Za-z])")  # landlines


def _mask_number(match: re.Match) -> str:
    text = match.group(0)
    digits = sum(c.isdigit() for c in text)
    return text[:3] + "*" * max(len(text) - 7, 1) + text[-4:] if digits > 8 else "*" * len(text)


def scrub(text: str, names: tuple[str, ...] = ()) -> str:
    """Text with phone and ID numbers masked and the given names reduced to their surname."""
    text = _PERSONAL_NUMBERS.sub(_mask_number, text or "")
    for name in sorted({n.strip() for n in names if n and len(n.strip()) >= 2}, key=len,
                       reverse=True):
        text = text.replace(name, name[0] + "*" * (len(name) - 1))
    return text


# ---------------------------------------------------------------------------------------------
# Services


def limit_text(category: Category) -> str:
    unit = LimitUnit(category.handle_limit_unit).label
    if category.urgent:
        return _("紧急事件;派遣时限 %(d)s 分钟,处置时限 %(n)s %(unit)s。") % {
            "d": category.dispatch_limit_minutes, "n": category.handle_limit, "unit": unit}
    return _("派遣时限 %(d)s 分钟,处置时限 %(n)s %(unit)s。") % {
        "d": category.dispatch_limit_minutes, "n": category.handle_limit, "unit": unit}


def service_categories() -> QuerySet[Category]:
    """The categories requests may be filed under: active 小类, as the intake accepts them."""
    return Category.objects.filter(active=True, parent__isnull=False).select_related("parent") \
        .order_by("parent__sort_order", "parent__code", "sort_order", "code")


def service_dict(category: Category) -> dict:
    keywords = [category.parent.name, CategoryGroup(category.group).label]
    if category.urgent:
        keywords.append(_("紧急"))
    return {
        "service_code": category.code,
        "service_name": category.name,
        "description": limit_text(category),
        "metadata": False,  # no attributes: everything is in description and location
        "type": "realtime",
        "keywords": ",".join(str(k) for k in keywords),
        "group": category.parent.name,
    }


def service_list() -> list[dict]:
    return [service_dict(c) for c in service_categories()]


def service_definition(*, code: str) -> dict:
    if not service_categories().filter(code=code).exists():
        raise NotFound(_("服务类型 %(code)s 不存在或已停用。") % {"code": code})
    return {"service_code": code, "attributes": []}


# ---------------------------------------------------------------------------------------------
# Requests


def jurisdiction_get(code: str) -> Region | None:
    """The district (or city) a `jurisdiction_id` names; empty means the whole deployment."""
    code = (code or "").strip()
    if not code:
        return None
    region = Region.objects.filter(code=code, level__in=JURISDICTION_LEVELS).first()
    if region is None:
        raise NotFound(_("jurisdiction_id %(code)s 不存在。") % {"code": code},
                       details={"field": "jurisdiction_id"})
    return region


def _moment(value: str, name: str, *, end: bool = False) -> dt.datetime | None:
    value = (value or "").strip()
    if not value:
        return None
    if value.count(" ") == 1 and "T" in value:
        value = value.replace(" ", "+")  # an unencoded "+08:00" in a query arrives as " 08:00"
    moment = None
    try:
        moment = parse_datetime(value)
        if moment is None:
            day = parse_date(value)
            if day is not None:
                moment = dt.datetime.combine(day, dt.time.max if end else dt.time.min)
    except ValueError:
        moment = None
    if moment is None:
        raise ValidationFailed(_("%(name)s 应为 ISO 8601 日期时间,例如 2026-11-27T09:30:00+08:00。")
                               % {"name": name}, code="bad_date", details={"field": name})
    if timezone.is_naive(moment):
        moment = timezone.make_aware(moment)
    return moment


def _split(value: str) -> list[str]:
    return [v.strip() for v in (value or "").split(",") if v.strip()]


@dataclass
class RequestFilters:
    service_request_id: str = ""
    service_code: str = ""
    start_date: str = ""
    end_date: str = ""
    status: str = ""
    external_id: str = ""
    jurisdiction_id: str = ""


def _public_events() -> QuerySet[Event]:
    return Event.objects.select_related("category", "category__parent", "department",
                                        "unit_region", "grid", "reporter", "person")


def request_list(*, filters: RequestFilters) -> list[Event]:
    """Requests newest first, at most 1000. By default those of the last 90 days; asking by
    `service_request_id` (comma list, overrides every other filter, as the spec says) or by the
    `external_id` extension finds them at any age."""
    events = _public_events()
    region = jurisdiction_get(filters.jurisdiction_id)
    ids = _split(filters.service_request_id)
    if ids:
        return list(events.filter(serial__in=ids[:MAX_REQUESTS])
                    .order_by("-reported_at", "-id")[:MAX_REQUESTS])
    if region is not None:
        events = events.filter(grid__path__startswith=region.path)
    codes = _split(filters.service_code)
    if codes:
        events = events.filter(category__code__in=codes)
    statuses = _split(filters.status)
    if any(s not in ("open", "closed") for s in statuses):
        raise ValidationFailed(_("status 只能是 open 或 closed。"), code="bad_status",
                               details={"field": "status"})
    if statuses and len(set(statuses)) == 1:
        events = events.filter(state__in=CLOSED_STATES) if statuses[0] == "closed" \
            else events.exclude(state__in=CLOSED_STATES)
    start = _moment(filters.start_date, "start_date")
    end = _moment(filters.end_date, "end_date", end=True)
    if start and end and end < start:
        raise ValidationFailed(_("end_date 不能早于 start_date。"), code="bad_date",
                               details={"field": "end_date"})
    # A day's slack: a date-only end_date reaches to the end of its day.
    if start and end and end - start > WINDOW + dt.timedelta(days=1):
        raise ValidationFailed(_("start_date 与 end_date 之间不能超过 90 天。"), code="bad_date",
                               details={"field": "end_date"})
    external_id = filters.external_id.strip()
    if external_id:
        # Every source listed, so the (source, external_id) index serves the lookup.
        events = events.filter(source__in=Source.values, external_id=external_id)
    if start or end or not external_id:
        if start is None:
            start = (end or clock.now()) - WINDOW
        if end is None:
            end = start + WINDOW
        events = events.filter(reported_at__gte=start, reported_at__lte=end)
    return list(events.order_by("-reported_at", "-id")[:MAX_REQUESTS])


def request_get(*, service_request_id: str) -> Event:
    event = _public_events().filter(serial=service_request_id).first()
    if event is None:
        raise NotFound(_("服务请求 %(id)s 不存在。") % {"id": service_request_id})
    return event


def token_get(*, token: str) -> Event:
    """The request a token (given when it was submitted) stands for."""
    try:
        client_id = uuid.UUID(token)
    except ValueError:
        client_id = None
    event = Event.objects.filter(client_id=client_id, api_key__isnull=False).only(
        "serial", "client_id").first() if client_id else None
    if event is None:
        raise NotFound(_("token %(token)s 不存在。") % {"token": token})
    return event


# ---------------------------------------------------------------------------------------------
# Public shape of an event


def _iso(moment: dt.datetime | None) -> str | None:
    return timezone.localtime(moment).isoformat(timespec="seconds") if moment else None


def is_private(event: Event) -> bool:
    """Events of the social-governance classes are about people, not places."""
    return event.category.group == CategoryGroup.SOCIAL


def _names(event: Event) -> tuple[str, ...]:
    names = [event.contact_name]
    if event.reporter_id:
        names.append(event.reporter.name)
    if event.person_id:
        names.append(event.person.name)
    return tuple(names)


def _notes(events: list[Event]) -> dict[int, TimelineEntry]:
    """The newest public timeline entry of each event, in one query."""
    latest: dict[int, TimelineEntry] = {}
    entries = TimelineEntry.objects.filter(
        event_id__in=[e.pk for e in events], op__in=PUBLIC_NOTE_OPS,
    ).only("event_id", "op", "note", "data", "to_state").order_by("event_id", "-created_at", "-id")
    for entry in entries:
        latest.setdefault(entry.event_id, entry)
    return latest


def _photos(events: list[Event]) -> dict[int, Photo]:
    first: dict[int, Photo] = {}
    for photo in Photo.objects.filter(event_id__in=[e.pk for e in events]) \
            .order_by("event_id", "id"):
        first.setdefault(photo.event_id, photo)
    return first


def _status_notes(event: Event, entry: TimelineEntry | None) -> str:
    label = str(event.get_state_display())
    if entry is None or entry.to_state != event.state or is_private(event):
        return label
    if entry.op == Op.MERGE and entry.data.get("master"):
        note = _("并入 %(master)s 办理") % {"master": entry.data["master"]}
    else:
        # Closing seldom carries a note; the result is what the reporter is told then.
        note = scrub(entry.note or (event.result if event.state == State.CLOSED else ""),
                     _names(event))
    return f"{label}:{note}" if note else label


def request_dicts(events: list[Event], *, absolute) -> list[dict]:
    """GeoReport request objects for events; `absolute(path)` makes a URL absolute."""
    notes, photos = _notes(events), _photos(events)
    return [request_dict(e, notes.get(e.pk), photos.get(e.pk), absolute=absolute)
            for e in events]


def request_dict(event: Event, entry: TimelineEntry | None, photo: Photo | None, *,
                 absolute) -> dict:
    private = is_private(event)
    closed = event.state in CLOSED_STATES
    if private:
        address = event.grid.name
    else:
        address = scrub(event.address, _names(event)) or event.grid.name
    return {
        "service_request_id": event.serial,
        "status": "closed" if closed else "open",
        "status_notes": _status_notes(event, entry),
        "service_name": event.category.name,
        "service_code": event.category.code,
        "description": None if private else scrub(event.description, _names(event)),
        "agency_responsible": event.unit_label or None,
        "service_notice": limit_text(event.category),
        "requested_datetime": _iso(event.reported_at),
        "updated_datetime": _iso(event.closed_at if event.state == State.CLOSED and
                                 event.closed_at else event.updated_at),
        "expected_datetime": _iso(event.handle_deadline),
        "address": address,
        "address_id": None,
        "zipcode": None,
        "lat": None if private else event.lat,
        "long": None if private else event.lon,
        "media_url": absolute(photo.public_url) if photo and not private else None,
        # Gezhi extension: the work order number of the system that sent it (e.g. 12345).
        "external_id": event.external_id or None,
    }
