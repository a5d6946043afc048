"""Writes of field work: 民情日记 (diary entries), 入户走访 (household visits) and 巡查 (patrols).

Every write is one transaction. Records made on a phone carry the phone's `client_id`: the
same record sent again (an offline retry, an upload interrupted after the server stored it)
returns what the first attempt stored, never a second row; a `client_id` another user already
used is refused (409 client_id_taken). Each service returns `(obj, created)`.

A diary entry may also report an event (source 网格员巡查) in the same transaction, through the
event intake of gezhi.events.services: if the event is refused, the entry is not stored either.
"""

from __future__ import annotations

import datetime as dt
import math
import uuid
from collections.abc import Callable, Iterable

from django.core.files.base import ContentFile
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from gezhi.accounts.roles import Perm
from gezhi.accounts.scope import authorize, has_perm, scope_for
from gezhi.core import clock
from gezhi.core.errors import GezhiError, NotFound, PermissionDenied, ValidationFailed
from gezhi.core.versioning import Conflict
from gezhi.events import services as events
from gezhi.events.models import Category, Event, Source
from gezhi.events.photos import CleanPhoto, photos_clean
from gezhi.fieldwork.models import DiaryEntry, FieldPhoto, Patrol, Visit, VisitOutcome
from gezhi.people.codes import ResidenceKind
from gezhi.people.models import Residence
from gezhi.places.models import House
from gezhi.regions.geometry import EARTH_RADIUS_M
from gezhi.regions.models import Level, Region
from gezhi.regions.selectors import grid_at

MAX_TEXT = 2000
MAX_PLACE = 200
MAX_TRACK_POINTS = 20_000
# A phone's clock may run a little ahead of the server's.
CLOCK_SKEW = dt.timedelta(minutes=10)


class ClientIdTaken(GezhiError):
    status = 409
    code = "client_id_taken"

    def __init__(self, message=None, **kwargs):
        kwargs.setdefault("details", {"field": "client_id"})
        super().__init__(message or _("该客户端编号已被其他用户使用,请重新生成后再提交。"), **kwargs)


# ---------------------------------------------------------------------------------------------
# Checks shared by every write


def _client_id(value) -> uuid.UUID | None:
    if value in (None, ""):
        return None
    try:
        return value if isinstance(value, uuid.UUID) else uuid.UUID(str(value))
    except ValueError:
        raise ValidationFailed(_("客户端编号格式不正确。"), code="bad_client_id",
                               details={"field": "client_id"}) from None


def _existing(model, client_id: uuid.UUID, owner: str, actor):
    """The record an earlier attempt stored under `client_id`, if it was this actor's."""
    found = model.objects.filter(client_id=client_id).first()
    if found is not None and getattr(found, f"{owner}_id") != actor.pk:
        raise ClientIdTaken()
    return found


def _once(model, client_id: uuid.UUID | None, owner: str, actor, create: Callable):
    """Run `create` (which opens its own transaction) unless the record exists; two sends of
    one record that race both reach the insert, and the loser answers with the winner's row."""
    try:
        return create(), True
    except IntegrityError:
        if client_id is None:
            raise
        found = _existing(model, client_id, owner, actor)
        if found is None:
            raise
        return found, False


def _may_record(actor) -> None:
    if actor is None or not has_perm(actor, Perm.FIELD_RECORD):
        raise PermissionDenied(_("只有网格员和网格长可以记录民情日记、走访和巡查。"))


def _authorize(actor, path: str, field: str) -> None:
    try:
        authorize(actor, Perm.FIELD_RECORD, path)
    except GezhiError as exc:
        exc.details = {**exc.details, "field": field}
        if isinstance(exc, PermissionDenied):
            exc.message = _("该地点不在您的网格内,不能在此记录。")
        raise


def _text(value, field: str, *, limit: int = MAX_TEXT, required_message=None) -> str:
    text = (value or "").strip()
    if required_message is not None and not text:
        raise ValidationFailed(required_message, code="required", details={"field": field})
    if len(text) > limit:
        raise ValidationFailed(_("不能超过 %(n)s 字。") % {"n": limit}, code="too_long",
                               details={"field": field})
    return text


def _point(lat, lon) -> tuple[float | None, float | None]:
    if lat is None and lon is None:
        return None, None
    if lat is None or lon is None:
        raise ValidationFailed(_("经度和纬度须同时填写。"), code="required",
                               details={"field": "lat" if lat is None else "lon"})
    lat, lon = float(lat), float(lon)
    if not (-90 <= lat <= 90):
        raise ValidationFailed(_("纬度应在 -90 到 90 之间。"), code="bad_point",
                               details={"field": "lat"})
    if not (-180 <= lon <= 180):
        raise ValidationFailed(_("经度应在 -180 到 180 之间。"), code="bad_point",
                               details={"field": "lon"})
    return round(lat, 7), round(lon, 7)


def _aware(value: dt.datetime) -> dt.datetime:
    return timezone.make_aware(value) if timezone.is_naive(value) else value


def _moment(value, field: str, *, default: dt.datetime) -> dt.datetime:
    """A time the phone sent (ISO text or datetime), not in the future."""
    if value in (None, ""):
        return default
    if isinstance(value, str):
        try:
            value = dt.datetime.fromisoformat(value.replace("Z", "+00:00"))
        except ValueError:
            raise ValidationFailed(_("时间格式不正确。"), code="bad_time",
                                   details={"field": field}) from None
    value = _aware(value).astimezone(dt.UTC)  # as the database gives it back
    if value > clock.now() + CLOCK_SKEW:
        raise ValidationFailed(_("时间不能晚于现在。"), code="in_future", details={"field": field})
    return value


def _day(value, field: str) -> dt.date | None:
    if value in (None, ""):
        return None
    if isinstance(value, dt.datetime):
        return timezone.localdate(_aware(value))
    if isinstance(value, dt.date):
        return value
    try:
        return dt.date.fromisoformat(str(value))
    except ValueError:
        raise ValidationFailed(_("日期格式不正确,应为 YYYY-MM-DD。"), code="bad_date",
                               details={"field": field}) from None


def _house(value, *, required: bool = False) -> House | None:
    if value in (None, ""):
        if required:
            raise ValidationFailed(_("请选择走访的房屋。"), code="required",
                                   details={"field": "house"})
        return None
    if isinstance(value, House):
        return value
    try:
        pk = int(value)
    except (TypeError, ValueError):
        raise NotFound(details={"field": "house"}) from None
    house = House.objects.select_related("grid", "building").filter(pk=pk).first()
    if house is None:
        raise NotFound(details={"field": "house"})
    return house


def own_grids(actor, perm: str = Perm.FIELD_RECORD) -> list[Region]:
    """Grids the actor records in (at most two: enough to tell whether there is only one)."""
    scope = scope_for(actor, perm)
    if scope.everything or scope.empty:
        return []
    return list(Region.objects.filter(scope.region_q("path"), level=Level.GRID)
                .order_by("path")[:2])


def _grid(actor, lat, lon, house: House | None) -> Region:
    """The grid of a record: from its point, else its house, else the actor's only grid."""
    if lat is not None:
        grid = grid_at(lat=lat, lon=lon)
        if grid is None:
            raise ValidationFailed(_("该位置不在任何网格内,请确认位置。"), code="outside_grids",
                                   details={"field": "lat"})
        return grid
    if house is not None:
        return house.grid
    grids = own_grids(actor)
    if len(grids) == 1:
        return grids[0]
    raise ValidationFailed(_("请标出位置或选择房屋,以确定所属网格。"), code="required",
                           details={"field": "lat"})


def _store_photos(clean: list[CleanPhoto], stored: list[str], **owner) -> list[FieldPhoto]:
    photos = []
    for p in clean:
        photo = FieldPhoto.objects.create(image=p.content, size=p.size, lat=p.lat, lon=p.lon,
                                          taken_at=p.taken_at, created_at=clock.now(), **owner)
        stored.append(photo.image.name)
        photos.append(photo)
    return photos


def _forget_files(stored: list[str]) -> None:
    """Files of photos whose rows were rolled back."""
    from django.core.files.storage import default_storage

    for name in stored:
        default_storage.delete(name)


def _photo_files(photos: Iterable[FieldPhoto]) -> list[ContentFile]:
    """Stored photos as uploads again, for the event intake (it cleans and stores its own)."""
    files = []
    for p in photos:
        with p.image.open("rb") as f:
            files.append(ContentFile(f.read(), name=f"field-{p.pk}.jpg"))
    return files


# ---------------------------------------------------------------------------------------------
# 民情日记 → event

# The event intake's field names, as the diary calls them.
_EVENT_FIELDS = {"category": "event_category", "description": "text", "location": "lat",
                 "result": "event_result", "self_resolve": "event_self_resolve",
                 "photos": "photos"}


def _event_category(value) -> Category:
    category = value if isinstance(value, Category) else (
        Category.objects.select_related("parent").filter(code=value).first() if value else None)
    if category is None or not category.active or category.parent_id is None:
        raise ValidationFailed(_("事件分类不存在或已停用,请选择一个小类。"), code="bad_category",
                               details={"field": "event_category"})
    return category


def _event_point(entry: DiaryEntry) -> tuple[float | None, float | None]:
    if entry.lat is not None:
        return entry.lat, entry.lon
    house = entry.house
    if house is not None:
        if house.lat is not None:
            return house.lat, house.lon
        if house.building.lat is not None:
            return house.building.lat, house.building.lon
    return None, None


def _report(actor, entry: DiaryEntry, *, category: Category, description: str,
            self_resolve: bool, result: str, photos: list) -> Event:
    lat, lon = _event_point(entry)
    if lat is None:
        raise ValidationFailed(_("转为事件须标出位置(或选择房屋)。"), code="required",
                               details={"field": "lat"})
    intake = events.Intake(
        category=category, description=description, lat=lat, lon=lon, source=Source.PATROL,
        address=entry.place or (entry.house.address if entry.house_id else ""),
        house=entry.house, photos=photos, self_resolve=bool(self_resolve),
        result=result or "")
    try:
        return events.event_report(actor=actor, intake=intake)
    except GezhiError as exc:
        field = exc.details.get("field")
        if field in _EVENT_FIELDS:
            exc.details = {**exc.details, "field": _EVENT_FIELDS[field]}
        raise


def diary_create(*, actor, fields: dict, photos=()) -> tuple[DiaryEntry, bool]:
    """记民情日记. `fields`: client_id, date, place, lat, lon, house (id), text, and to report
    an event from it at once: event_category (a category code), event_self_resolve,
    event_result."""
    _may_record(actor)
    client_id = _client_id(fields.get("client_id"))
    if client_id is not None:
        found = _existing(DiaryEntry, client_id, "author", actor)
        if found is not None:
            return found, False
    today = timezone.localdate(clock.now())
    day = _day(fields.get("date"), "date") or today
    if day > today:
        raise ValidationFailed(_("日期不能晚于今天。"), code="in_future", details={"field": "date"})
    text = _text(fields.get("text"), "text", required_message=_("请填写所见所闻。"))
    place = _text(fields.get("place"), "place", limit=MAX_PLACE)
    lat, lon = _point(fields.get("lat"), fields.get("lon"))
    house = _house(fields.get("house"))
    if house is not None:
        _authorize(actor, house.grid.path, "house")
    grid = _grid(actor, lat, lon, house)
    _authorize(actor, grid.path, "lat")
    category = _event_category(fields["event_category"]) if fields.get("event_category") \
        else None
    result = _text(fields.get("event_result"), "event_result")
    clean = photos_clean(photos, field="photos")
    stored: list[str] = []

    def create() -> DiaryEntry:
        with transaction.atomic():
            entry = DiaryEntry.objects.create(
                client_id=client_id, author=actor, grid=grid, date=day, place=place, lat=lat,
                lon=lon, house=house, text=text, created_at=clock.now())
            kept = _store_photos(clean, stored, diary=entry)
            if category is not None:
                entry.event = _report(actor, entry, category=category, description=text,
                                      self_resolve=fields.get("event_self_resolve", False),
                                      result=result, photos=_photo_files(kept))
                entry.save(update_fields=["event"])
            return entry

    try:
        return _once(DiaryEntry, client_id, "author", actor, create)
    except BaseException:
        _forget_files(stored)
        raise


def diary_to_event(*, actor, entry: DiaryEntry, category, description: str = "",
                   self_resolve: bool = False, result: str = "") -> tuple[DiaryEntry, bool]:
    """Turn a diary entry into an event afterwards (its text, point, house and photos).
    An entry becomes one event at most: a second try is a conflict naming the first."""
    _may_record(actor)
    try:
        category = _event_category(category)
        description = _text(description, "text") or entry.text
        result = _text(result, "event_result")
        with transaction.atomic():
            locked = (DiaryEntry.objects.select_for_update(of=("self",))
                      .select_related("grid", "house__building", "event")
                      .filter(pk=entry.pk).first())
            if locked is None:
                raise NotFound()
            _authorize(actor, locked.grid.path, "id")
            if locked.event_id:
                raise Conflict(_("这条民情日记已转为事件 %(serial)s。") % {
                    "serial": locked.event.serial}, code="already_reported",
                    details={"event": locked.event.serial})
            locked.event = _report(actor, locked, category=category, description=description,
                                   self_resolve=self_resolve, result=result,
                                   photos=_photo_files(locked.photos.all()))
            locked.save(update_fields=["event"])
    except GezhiError as exc:
        # This endpoint names the fields without the diary's "event_" prefix.
        back = {"event_category": "category", "text": "description", "event_result": "result",
                "event_self_resolve": "self_resolve"}
        field = exc.details.get("field")
        if field in back:
            exc.details = {**exc.details, "field": back[field]}
        raise
    return locked, True


# ---------------------------------------------------------------------------------------------
# 入户走访


def _people_met(house: House, ids, outcome: str) -> list[int]:
    try:
        wanted = {int(i) for i in ids or ()}
    except (TypeError, ValueError):
        raise ValidationFailed(_("见到的人应为人员编号。"), code="bad_person",
                               details={"field": "people_met"}) from None
    if not wanted:
        return []
    if outcome == VisitOutcome.NOBODY:
        raise ValidationFailed(_("无人在家时不能填写见到的人。"), code="bad_person",
                               details={"field": "people_met"})
    living = set(Residence.objects.filter(
        house=house, kind=ResidenceKind.LIVES, moved_out__isnull=True, person_id__in=wanted)
        .values_list("person_id", flat=True))
    if wanted - living:
        raise ValidationFailed(_("见到的人须是该房屋的现住人员。"), code="bad_person",
                               details={"field": "people_met",
                                        "ids": sorted(wanted - living)})
    return sorted(wanted)


def visit_create(*, actor, fields: dict, photos=()) -> tuple[Visit, bool]:
    """记入户走访. `fields`: client_id, house (id, required), visited_at, outcome (met / nobody /
    refused), people_met (ids of people living in the house), needs, follow_ups, note,
    next_visit_on, lat, lon."""
    _may_record(actor)
    client_id = _client_id(fields.get("client_id"))
    if client_id is not None:
        found = _existing(Visit, client_id, "visitor", actor)
        if found is not None:
            return found, False
    house = _house(fields.get("house"), required=True)
    _authorize(actor, house.grid.path, "house")
    visited_at = _moment(fields.get("visited_at"), "visited_at", default=clock.now())
    outcome = fields.get("outcome") or VisitOutcome.MET
    if outcome not in VisitOutcome.values:
        raise ValidationFailed(_("走访结果应为见到住户、无人在家或拒绝入户。"), code="bad_outcome",
                               details={"field": "outcome"})
    people = _people_met(house, fields.get("people_met"), outcome)
    texts = {name: _text(fields.get(name), name) for name in ("needs", "follow_ups", "note")}
    next_visit_on = _day(fields.get("next_visit_on"), "next_visit_on")
    if next_visit_on is not None and next_visit_on <= timezone.localdate(visited_at):
        raise ValidationFailed(_("下次走访日期应晚于本次走访日期。"), code="bad_date",
                               details={"field": "next_visit_on"})
    lat, lon = _point(fields.get("lat"), fields.get("lon"))
    clean = photos_clean(photos, field="photos")
    stored: list[str] = []

    def create() -> Visit:
        with transaction.atomic():
            visit = Visit.objects.create(
                client_id=client_id, house=house, grid=house.grid, visitor=actor,
                visited_at=visited_at, outcome=outcome, next_visit_on=next_visit_on, lat=lat,
                lon=lon, created_at=clock.now(), **texts)
            if people:
                visit.people_met.set(people)
            _store_photos(clean, stored, visit=visit)
            return visit

    try:
        return _once(Visit, client_id, "visitor", actor, create)
    except BaseException:
        _forget_files(stored)
        raise


# ---------------------------------------------------------------------------------------------
# 巡查


def _at_key(at: dt.datetime) -> str:
    """A point's time as stored: UTC, milliseconds, so resent points compare equal."""
    return at.astimezone(dt.UTC).isoformat(timespec="milliseconds")


def metres(a: tuple[float, float], b: tuple[float, float]) -> float:
    """Great-circle distance between two (lat, lon) points."""
    lat1, lon1, lat2, lon2 = map(math.radians, (a[0], a[1], b[0], b[1]))
    h = (math.sin((lat2 - lat1) / 2) ** 2
         + math.cos(lat1) * math.cos(lat2) * math.sin((lon2 - lon1) / 2) ** 2)
    return 2 * EARTH_RADIUS_M * math.asin(min(1.0, math.sqrt(h)))


def track_length(track: list) -> int:
    return round(sum(metres(p[:2], q[:2]) for p, q in zip(track, track[1:], strict=False)))


def _clean_points(points) -> list[list]:
    cleaned = []
    for i, p in enumerate(points or ()):
        get = p.get if isinstance(p, dict) else (lambda k, p=p: getattr(p, k, None))
        try:
            lat, lon = _point(get("lat"), get("lon"))
            if lat is None:
                raise ValidationFailed(_("轨迹点缺少经纬度。"), code="required")
            at = _moment(get("at"), "points", default=None)
            if at is None:
                raise ValidationFailed(_("轨迹点缺少时间。"), code="required")
        except ValidationFailed as exc:
            exc.details = {"field": "points", "index": i}
            raise
        cleaned.append([lat, lon, _at_key(at)])
    return cleaned


def _merge(patrol: Patrol, points: list[list]) -> None:
    """Add points to the track: one per moment (a resent point is ignored), in time order,
    none after the patrol ended; the distance follows the merged track."""
    ended = _at_key(patrol.ended_at) if patrol.ended_at else None
    by_time = {p[2]: p for p in patrol.track}
    for p in points:
        if ended is not None and p[2] > ended:
            continue
        by_time.setdefault(p[2], p)
    if len(by_time) > MAX_TRACK_POINTS:
        raise ValidationFailed(_("轨迹点过多(最多 %(n)s 个)。") % {"n": MAX_TRACK_POINTS},
                               code="too_many_points", details={"field": "points"})
    patrol.track = [by_time[k] for k in sorted(by_time)]
    patrol.distance_m = track_length(patrol.track)


def _patrol_for_update(actor, client_id) -> Patrol:
    cid = _client_id(client_id)
    patrol = (Patrol.objects.select_for_update(of=("self",)).select_related("grid", "worker")
              .filter(client_id=cid).first()) if cid else None
    if patrol is None:
        raise NotFound()
    if patrol.worker_id != actor.pk:
        if scope_for(actor, Perm.FIELD_VIEW).covers_path(patrol.grid.path):
            raise PermissionDenied(_("只有巡查人本人可以续记或结束这次巡查。"))
        raise NotFound()
    return patrol


def patrol_start(*, actor, client_id, started_at=None, lat=None, lon=None
                 ) -> tuple[Patrol, bool]:
    """开始巡查. The grid is where it starts (or the worker's only grid)."""
    _may_record(actor)
    cid = _client_id(client_id)
    if cid is None:
        raise ValidationFailed(_("缺少客户端编号。"), code="required",
                               details={"field": "client_id"})
    found = _existing(Patrol, cid, "worker", actor)
    if found is not None:
        return found, False
    started_at = _moment(started_at, "started_at", default=clock.now())
    lat, lon = _point(lat, lon)
    grid = _grid(actor, lat, lon, None)
    _authorize(actor, grid.path, "lat")
    track = [[lat, lon, _at_key(started_at)]] if lat is not None else []

    def create() -> Patrol:
        with transaction.atomic():
            return Patrol.objects.create(client_id=cid, worker=actor, grid=grid,
                                         started_at=started_at, track=track)

    return _once(Patrol, cid, "worker", actor, create)


def patrol_points(*, actor, client_id, points) -> tuple[Patrol, bool]:
    """Points of a patrol's route, in batches that may come late, twice or out of order."""
    cleaned = _clean_points(points)
    with transaction.atomic():
        patrol = _patrol_for_update(actor, client_id)
        _merge(patrol, cleaned)
        patrol.save(update_fields=["track", "distance_m"])
    return patrol, False


def patrol_stop(*, actor, client_id, ended_at=None, note: str = "", points=()
                ) -> tuple[Patrol, bool]:
    """结束巡查, with the last points. Stopping again changes nothing but adds late points
    (and the note, when one is given)."""
    cleaned = _clean_points(points)
    note = _text(note, "note")
    with transaction.atomic():
        patrol = _patrol_for_update(actor, client_id)
        if patrol.ended_at is None:
            ended_at = _moment(ended_at, "ended_at", default=clock.now())
            if ended_at < patrol.started_at:
                raise ValidationFailed(_("结束时间不能早于开始时间。"), code="bad_time",
                                       details={"field": "ended_at"})
            patrol.ended_at = ended_at
        if note:
            patrol.note = note
        _merge(patrol, cleaned)
        patrol.save(update_fields=["ended_at", "note", "track", "distance_m"])
    return patrol, False
