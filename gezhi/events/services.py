"""Writes of the event closed loop. Every operation runs in one transaction, locks the event,
checks the rule table (rules.py), changes the event, writes its timeline entry, queues its
notifications, and updates the indicator counts — all or nothing.

Concurrent operations on one event have one winner: the event row is locked (SELECT … FOR
UPDATE on PostgreSQL; SQLite's IMMEDIATE transactions serialise writers), the state is checked
again under the lock, and an operation carrying the version the user saw is refused with a
conflict when someone else changed the event meanwhile.
"""

from __future__ import annotations

import contextlib
import copy
import datetime as dt
import threading
import time
import uuid
from dataclasses import dataclass, field

from django.db import IntegrityError, connection, transaction
from django.db.models import F
from django.db.models.signals import post_delete, post_save
from django.utils import timezone
from django.utils.translation import gettext as _

from gezhi.accounts.models import Department, RoleAssignment
from gezhi.accounts.roles import ROLE_PERMS, Perm, Role
from gezhi.accounts.scope import scope_for, user_roles, visible_to
from gezhi.core import clock
from gezhi.core.errors import GezhiError, NotFound, PermissionDenied, ValidationFailed
from gezhi.core.personal import set_sensitive
from gezhi.core.validators import mask_phone, normalise_phone
from gezhi.core.versioning import Conflict
from gezhi.events import stats, workcal
from gezhi.events.models import (
    LEVEL_ORDER,
    ApiKey,
    Assignment,
    Category,
    Event,
    Extension,
    Level,
    LimitUnit,
    Op,
    Photo,
    Rating,
    SerialCounter,
    Source,
    State,
    Supervision,
    SupervisionLevel,
    TimelineEntry,
)
from gezhi.events.photos import CleanPhoto, photos_clean
from gezhi.events.rules import RULES
from gezhi.notify.services import message_enqueue
from gezhi.regions import spatial
from gezhi.regions.models import Level as RegionLevel
from gezhi.regions.models import Region
from gezhi.regions.selectors import check_point

MAX_TEXT = 2000
# Where an event is first dispatched from: the community (社区解) for what grid workers and
# residents find; the subdistrict's command centre for what arrives from outside systems.
FIRST_LEVEL = {Source.HOTLINE: Level.SUBDISTRICT, Source.CITY_MANAGEMENT: Level.SUBDISTRICT,
               Source.DEPARTMENT: Level.SUBDISTRICT, Source.VIDEO: Level.SUBDISTRICT,
               Source.API: Level.SUBDISTRICT}


class InvalidState(GezhiError):
    status = 409
    code = "invalid_state"


# ---------------------------------------------------------------------------------------------
# Who the actor is to an event


def level_path(event: Event) -> str:
    """The materialised path of the region at the event's level (its community, subdistrict …)."""
    cache = event.__dict__.setdefault("_level_paths", {})
    if event.level not in cache:
        loaded = _loaded_ancestor(event.grid, event.level)
        if loaded is not None:
            cache[event.level] = loaded
        else:
            parts = event.grid.path.rstrip(".").split(".")
            prefixes = [".".join(parts[:i]) + "." for i in range(1, len(parts))]
            found = (Region.objects.filter(path__in=prefixes, level=event.level)
                     .values_list("path", flat=True).first())
            # A tree without that level (e.g. no district above): the topmost ancestor.
            cache[event.level] = found or prefixes[0]
    return cache[event.level]


def _loaded_ancestor(grid: Region, level: str) -> str | None:
    """The path of the grid or its ancestor at `level` if it is already in memory (a new
    report's grid comes with its community and subdistrict), else None."""
    node = grid
    while node.level != level:
        if node.parent_id is None:  # the top, without that level: as level_path's fallback
            return node.path
        if not Region.parent.is_cached(node):
            return None
        node = node.parent
    return node.path


def _covers(user, perm: str, path: str) -> bool:
    return scope_for(user, perm).covers_path(path)


def _is_unit(user, event: Event) -> bool:
    if event.department_id:
        scope = scope_for(user, Perm.EVENT_HANDLE)
        return scope.everything or event.department_id in scope.department_ids
    if event.unit_region_id:
        return _covers(user, Perm.EVENT_HANDLE, event.unit_region.path)
    return False


def actor_relations(user, event: Event) -> set[str]:
    """Which of the rule table's actors this user is for this event."""
    if user is None or not getattr(user, "is_authenticated", False):
        return set()
    rel = set()
    lpath = level_path(event)
    if _covers(user, Perm.EVENT_DISPATCH, lpath):
        rel.add("dispatcher")
    if _is_unit(user, event):
        rel.add("unit")
    if _covers(user, Perm.EVENT_VERIFY, event.grid.path):
        rel.add("verifier")
    if _covers(user, Perm.EVENT_ESCALATE, lpath) or (
            "unit" in rel and event.unit_region_id and event.state == State.HANDLING):
        rel.add("escalator")
    if _may_self_resolve(user, event.grid.path):
        rel.add("reporter_place")
    if _covers(user, Perm.EVENT_SUPERVISE, event.grid.path):
        rel.add("leader")
    if _covers(user, Perm.EVENT_EXTEND_DECIDE, event.grid.path):
        rel.add("decider")
    if event.reporter_id and event.reporter_id == user.pk:
        rel.add("reporter")
    if can_view(user, event):
        rel.add("viewer")
    return rel


def _may_self_resolve(user, path: str) -> bool:
    """自行处置 is the grid's own staff fixing something on the spot: grid workers and grid
    chiefs (and administrators) holding EVENT_REPORT over the place."""
    if user is None or not _covers(user, Perm.EVENT_REPORT, path):
        return False
    return user.is_superuser or bool(user_roles(user) & {Role.GRID_WORKER, Role.GRID_CHIEF,
                                                        Role.ADMIN})


def can_view(user, event: Event) -> bool:
    if user is None or not getattr(user, "is_authenticated", False):
        return False
    if event.reporter_id == user.pk:
        return True
    return visible_to(Event.objects.filter(pk=event.pk), user, Perm.EVENT_VIEW).exists()


def allowed_ops(*, event: Event, user) -> list[str]:
    """The operations this user may do on this event now, in the table's order."""
    rel = actor_relations(user, event)
    ops = []
    for op, rule in RULES.items():
        if event.state not in rule.from_states or not rel.intersection(rule.actors):
            continue
        if op == Op.ESCALATE and (event.level == LEVEL_ORDER[-1] or (
                event.state == State.HANDLING and not event.unit_region_id)):
            continue
        if op == Op.EXTEND_REQUEST and event.extensions.filter(
                status=Extension.Status.PENDING).exists():
            continue
        if op == Op.EXTEND_DECIDE and not event.extensions.filter(
                status=Extension.Status.PENDING).exists():
            continue
        if op == Op.RATE and event.rating:
            continue
        ops.append(op)
    return ops


def _check(event: Event, op: str, user, *, system: bool = False) -> None:
    rule = RULES[op]
    if event.state not in rule.from_states:
        raise InvalidState(
            _("事件当前状态为“%(state)s”,不能执行“%(op)s”。") % {
                "state": event.get_state_display(), "op": Op(op).label},
            details={"state": event.state, "op": op})
    if system:
        return
    rel = actor_relations(user, event)
    if not rel.intersection(rule.actors):
        if "viewer" not in rel:
            raise NotFound()
        raise PermissionDenied(_("您无权对该事件执行“%(op)s”。") % {"op": Op(op).label},
                               details={"op": op})


def _required(value, name: str, message: str) -> None:
    if value in (None, "", [], ()) or (isinstance(value, str) and not value.strip()):
        raise ValidationFailed(message, code="required", details={"field": name})


def _note(note: str | None, *, required: bool, message: str | None = None) -> str:
    note = (note or "").strip()
    if required:
        _required(note, "note", message or _("请填写说明。"))
    if len(note) > MAX_TEXT:
        raise ValidationFailed(_("说明不能超过 %(n)s 字。") % {"n": MAX_TEXT}, code="too_long",
                               details={"field": "note"})
    return note


# ---------------------------------------------------------------------------------------------
# Plumbing shared by every operation


@dataclass
class _Change:
    event: Event
    before: dict | None
    fields: set[str] = field(default_factory=set)

    def set(self, **values) -> None:
        for name, value in values.items():
            setattr(self.event, name, value)
            self.fields.add(name)


def _lock(event: Event | int, version: int | None) -> _Change:
    pk = event.pk if isinstance(event, Event) else event
    try:
        locked = (Event.objects.select_for_update(of=("self",))
                  .select_related("grid", "category", "department", "unit_region").get(pk=pk))
    except Event.DoesNotExist:
        raise NotFound() from None
    if version is not None and locked.version != version:
        raise Conflict(_("该事件已被他人处理(当前状态:%(state)s),请刷新后再操作。") % {
            "state": locked.get_state_display()},
            details={"current_version": locked.version, "state": locked.state})
    return _Change(locked, stats.snapshot(locked))


def _save(change: _Change) -> Event:
    event = change.event
    event.version += 1
    change.fields |= {"version", "updated_at"}
    event.save(update_fields=sorted(change.fields))
    stats.record(change.before, event)
    return event


def _entry(event: Event, op: str, actor, *, from_state: str, to_state: str, note: str = "",
           data: dict | None = None, at: dt.datetime | None = None) -> TimelineEntry:
    return TimelineEntry.objects.create(
        event=event, op=op, actor=actor, actor_name=actor.name if actor else "",
        from_state=from_state, to_state=to_state, note=note, data=data or {},
        created_at=at or clock.now())


def _store_photos(event: Event, entry: TimelineEntry, photos: list[CleanPhoto],
                  stage: str) -> None:
    for p in photos:
        Photo.objects.create(event=event, entry=entry, stage=stage, image=p.content,
                             size=p.size, lat=p.lat, lon=p.lon, taken_at=p.taken_at)


def _next_serial(grid: Region, at: dt.datetime) -> str:
    prefix = f"{grid.code[:6]}-{timezone.localtime(at):%Y%m%d}"
    table = SerialCounter._meta.db_table
    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {table} (prefix, last) VALUES (%s, 1) "  # noqa: S608 - table name only
            f"ON CONFLICT (prefix) DO UPDATE SET last = {table}.last + 1 RETURNING last",
            [prefix])
        number = cursor.fetchone()[0]
    return f"{prefix}-{number:04d}"


def _users_holding(perm: str, path: str, *, roles: set[str] | None = None) -> list:
    """Users with a role holding `perm` assigned at `path` or one of its ancestors."""
    parts = path.rstrip(".").split(".")
    prefixes = [".".join(parts[:i]) + "." for i in range(1, len(parts) + 1)]
    holding = [r for r, perms in ROLE_PERMS.items() if perm in perms and r != Role.ADMIN]
    if roles is not None:
        holding = [r for r in holding if r in roles]
    return [a.user for a in RoleAssignment.objects.filter(
        role__in=holding, region__path__in=prefixes, user__is_active=True).select_related("user")]


def _unit_users(event: Event) -> list:
    if event.department_id:
        return [a.user for a in RoleAssignment.objects.filter(
            department_id=event.department_id, user__is_active=True).select_related("user")]
    if event.unit_region_id:
        return _users_holding(Perm.EVENT_HANDLE, event.unit_region.path,
                              roles={Role.GRID_WORKER, Role.GRID_CHIEF}) \
            if event.unit_region.level == RegionLevel.GRID else _users_holding(
                Perm.EVENT_HANDLE, event.unit_region.path, roles={Role.GRID_CHIEF})
    return []


def _tell_reporter(event: Event, text: str, kind: str) -> None:
    from gezhi.core.personal import get_sensitive

    if event.reporter_id:
        message_enqueue(text=text, users=[event.reporter], kind=kind, event=event)
    elif event.contact_phone_ct:
        message_enqueue(text=text, phone=get_sensitive(event, "contact_phone"),
                        name=event.contact_name, kind=kind, event=event)


def _deadline(start: dt.datetime, amount: int, unit: str) -> tuple[dt.datetime, bool]:
    return workcal.add(start, amount, unit)


def _dispatch_deadline(category: Category, at: dt.datetime, *, urgent: bool
                       ) -> tuple[dt.datetime, bool]:
    if urgent:  # urgent events are dispatched round the clock
        return at + dt.timedelta(minutes=category.dispatch_limit_minutes), False
    return workcal.add_minutes(at, category.dispatch_limit_minutes)


# ---------------------------------------------------------------------------------------------
# What every report reads and hardly ever changes, kept in the process


class _Recent:
    """Rows read outside any transaction, kept in this process for up to `seconds` (all of
    them dropped together) or until `tag` changes. Inside a transaction the rows are read
    afresh: it may have changed them itself, and tests roll such changes back. Callers get a
    copy of the row (the rows it holds, e.g. a grid's community, are shared: read them only),
    so nothing they set on it reaches another request."""

    def __init__(self, seconds: float) -> None:
        self.seconds = seconds
        self._lock = threading.Lock()
        self._rows: dict = {}
        self._tag: object = None
        self._since = -float("inf")

    def get(self, key, load, *, tag: object = None):
        if connection.in_atomic_block:
            return load()
        now = time.monotonic()
        with self._lock:
            if tag is not self._tag or now - self._since > self.seconds:
                self._rows, self._tag, self._since = {}, tag, now
            row = self._rows.get(key)
        if row is None:
            row = load()
            if row is None:  # not cached: a category created a moment ago must be found
                return None
            with self._lock:
                self._rows[key] = row
        return copy.copy(row)

    def clear(self) -> None:
        with self._lock:
            self._rows, self._since = {}, -float("inf")


# Other processes see an administrator's change of a category, or a renamed grid, within this.
CACHE_SECONDS = 30
_categories = _Recent(CACHE_SECONDS)
# Grid rows also follow the grid index: a boundary change (any grid saved) drops them at once.
_grids = _Recent(CACHE_SECONDS)


def _categories_changed(**kwargs) -> None:
    _categories.clear()


post_save.connect(_categories_changed, sender=Category, dispatch_uid="events.intake.category")
post_delete.connect(_categories_changed, sender=Category, dispatch_uid="events.intake.category")


def intake_category(code: str) -> Category | None:
    """The category a report names by code (with its 大类), as of at most CACHE_SECONDS ago."""
    if not code:
        return None
    return _categories.get(code, lambda: Category.objects.select_related("parent")
                           .filter(code=code).first())


def _grid_at(lat: float, lon: float) -> Region | None:
    """The grid containing the point, with its community and subdistrict (as
    regions.selectors.grid_at, the rows kept while the grid index stays the same)."""
    check_point(lat, lon)
    index = spatial.grid_index()
    grid_id = index.lookup(lon, lat)
    if grid_id is None:
        return None
    return _grids.get(grid_id, lambda: Region.objects.select_related("parent__parent")
                      .filter(pk=grid_id).first(), tag=index)


def clear_caches() -> None:
    _categories.clear()
    _grids.clear()


# ---------------------------------------------------------------------------------------------
# Intake


@dataclass
class Intake:
    """What a report carries. Exactly one of `reporter` (a user), `api_key` (an application),
    or neither (anonymous, then `contact_phone` is required)."""

    category: Category | None
    description: str
    lat: float | None
    lon: float | None
    source: str = Source.PATROL
    address: str = ""
    title: str = ""
    urgent: bool | None = None
    contact_name: str = ""
    contact_phone: str = ""
    external_id: str = ""
    client_id: uuid.UUID | str | None = None
    person: object = None
    house: object = None
    organisation: object = None
    photos: list = field(default_factory=list)
    # 自行处置: fixed on the spot; the result and its photos
    self_resolve: bool = False
    result: str = ""
    result_photos: list = field(default_factory=list)


def _clean_intake(intake: Intake, actor) -> tuple[Region, str, list, list]:
    category = intake.category
    if category is None or not category.active or category.parent_id is None:
        raise ValidationFailed(_("事件分类不存在或已停用,请选择一个小类。"), code="bad_category",
                               details={"field": "category"})
    if intake.source not in Source.values:
        raise ValidationFailed(_("事件来源无效。"), code="bad_source", details={"field": "source"})
    description = (intake.description or "").strip()
    _required(description, "description", _("请描述问题。"))
    if len(description) > MAX_TEXT:
        raise ValidationFailed(_("描述不能超过 %(n)s 字。") % {"n": MAX_TEXT}, code="too_long",
                               details={"field": "description"})
    if intake.lat is None or intake.lon is None:
        raise ValidationFailed(_("请在地图上标出事件位置。"), code="required",
                               details={"field": "location"})
    grid = _grid_at(intake.lat, intake.lon)
    if grid is None:
        raise ValidationFailed(_("该位置不在任何网格内,请确认事件位置。"), code="outside_grids",
                               details={"field": "location"})
    if actor is not None and not scope_for(actor, Perm.EVENT_REPORT).empty and not _covers(
            actor, Perm.EVENT_REPORT, grid.path):
        raise PermissionDenied(_("该位置(%(grid)s)不在您的辖区内,请转交所在网格上报。") % {
            "grid": grid.name}, details={"field": "location"})
    phone = ""
    if intake.contact_phone:
        try:
            phone = normalise_phone(intake.contact_phone)
        except ValidationFailed as exc:
            exc.details = {"field": "contact_phone"}
            raise
    photos = photos_clean(intake.photos, field="photos")
    result_photos = photos_clean(intake.result_photos, field="result_photos")
    if intake.self_resolve:
        _required((intake.result or "").strip(), "result", _("自行处置请填写处置结果。"))
        if not _may_self_resolve(actor, grid.path):
            raise PermissionDenied(_("只有本网格的工作人员可以自行处置。"),
                                   details={"field": "self_resolve"})
    return grid, phone, photos, result_photos


def _parse_client_id(value) -> uuid.UUID | None:
    if not value:
        return None
    try:
        return uuid.UUID(str(value))
    except ValueError:
        raise ValidationFailed(_("客户端编号格式不正确。"), code="bad_client_id",
                               details={"field": "client_id"}) from None


def _sent_before(client_id: uuid.UUID | None, actor, api_key: ApiKey | None) -> Event | None:
    """The event an earlier send of this report created, if any (its sender's only)."""
    if client_id is None:
        return None
    existing = Event.objects.filter(client_id=client_id).first()
    if existing is None:
        return None
    if existing.reporter_id != (actor.pk if actor else None) or (
            existing.api_key_id != (api_key.pk if api_key else None)):
        raise ValidationFailed(_("客户端编号已被使用。"), code="client_id_taken",
                               details={"field": "client_id"})
    existing.existing = True  # the API answers 200 instead of 201
    return existing


def event_report(*, actor, intake: Intake, api_key: ApiKey | None = None) -> Event:
    """上报: a new event. With `client_id`, sending the same report again returns the event the
    first attempt created (offline phones retry), whatever the second send carries.

    A first send is the common case, so the client_id is not looked up beforehand: the unique
    column refuses a second event, and only then (or when the report is refused) is the earlier
    one looked for. A repeated send thus costs a serial number (a gap in the day's numbers)."""
    client_id = _parse_client_id(intake.client_id)
    try:
        if actor is None and api_key is None and not intake.contact_phone:
            raise ValidationFailed(_("匿名反映请留下联系电话,以便告知处理结果。"),
                                   code="required", details={"field": "contact_phone"})
        grid, phone, photos, result_photos = _clean_intake(intake, actor)
    except GezhiError:
        existing = _sent_before(client_id, actor, api_key)
        if existing is not None:
            return existing
        raise
    try:
        return _report(actor, intake, api_key, client_id, grid, phone, photos, result_photos)
    except IntegrityError:
        # The client_id is taken: by an earlier send, or by another send of it just now.
        existing = _sent_before(client_id, actor, api_key)
        if existing is None:
            raise
        return existing


def _report(actor, intake: Intake, api_key: ApiKey | None, client_id: uuid.UUID | None,
            grid: Region, phone: str, photos: list, result_photos: list) -> Event:
    category = intake.category
    now = clock.now()
    # The day's serial counter is one row every concurrent report updates: take the number in
    # its own statement (autocommit; one transaction with the caller's if there is one), so
    # reports do not queue behind each other's whole intake. A report that then fails leaves a
    # gap in the day's numbers, never a duplicate.
    serial = _next_serial(grid, now)
    with _sent_with_commit() as send_the_rest_with_commit, transaction.atomic():
        event = Event(
            serial=serial, client_id=client_id, source=intake.source,
            external_id=(intake.external_id or "")[:64], category=category,
            title=(intake.title or "")[:100], description=intake.description.strip(),
            address=(intake.address or "")[:200], lat=intake.lat, lon=intake.lon, grid=grid,
            urgent=category.urgent if intake.urgent is None else bool(intake.urgent),
            reporter=actor, api_key=api_key,
            reporter_is_grid_worker=actor is not None and Role.GRID_WORKER in user_roles(actor),
            contact_name=(intake.contact_name or "")[:50], person=intake.person,
            house=intake.house, organisation=intake.organisation,
            level=FIRST_LEVEL.get(intake.source, Level.COMMUNITY), reported_at=now)
        if phone:
            set_sensitive(event, "contact_phone", phone, mask=mask_phone)
        event.dispatch_deadline, event.deadline_estimated = _dispatch_deadline(
            category, now, urgent=event.urgent)
        event.save()
        entry = _entry(event, Op.REPORT, actor, from_state="", to_state=State.REPORTED,
                       note="", data={"source": intake.source, "grid": grid.code}, at=now)
        _store_photos(event, entry, photos, Photo.Stage.REPORT)
        event.photo_count = len(photos) + (len(result_photos) if intake.self_resolve else 0)
        if intake.self_resolve:
            stats.record(None, event)
            change = _Change(event, stats.snapshot(event))
            _self_resolve(change, actor, intake.result.strip(), result_photos)
            _save(change)
        else:
            send_the_rest_with_commit()
            stats.record(None, event)  # the community's rows: every report there waits on them
    return event


@contextlib.contextmanager
def _sent_with_commit():
    """Yields `start()`: on PostgreSQL, the statements after it go out together with the COMMIT
    of the transaction opened inside this block, without waiting for each answer (psycopg's
    pipeline mode). The rows they lock are then held for the server's work only, not also
    for a round trip through a busy application process. Only for statements whose answer is
    not read, and only when this block's transaction is the outermost one (else the COMMIT
    is someone else's, later)."""
    outermost = not connection.in_atomic_block
    with contextlib.ExitStack() as stack:

        def start() -> None:
            if outermost and connection.vendor == "postgresql":
                stack.enter_context(connection.connection.pipeline())

        yield start


# ---------------------------------------------------------------------------------------------
# Operations


def _run(event, op: str, actor, version: int | None):
    """Open the transaction, lock and check; the caller applies the change."""
    change = _lock(event, version)
    _check(change.event, op, actor)
    return change


def _self_resolve(change: _Change, actor, result: str, photos: list[CleanPhoto]) -> None:
    event = change.event
    now = clock.now()
    before = event.state
    change.set(state=State.CLOSED, self_resolved=True, result=result, handled_at=now,
               closed_at=now, closed_on_time=True)
    entry = _entry(event, Op.SELF_RESOLVE, actor, from_state=before, to_state=State.CLOSED,
                   note=result, at=now)
    _store_photos(event, entry, photos, Photo.Stage.RESULT)


def event_self_resolve(*, event: Event, actor, note: str, photos=(),
                       version: int | None = None) -> Event:
    note = _note(note, required=True, message=_("自行处置请填写处置结果。"))
    clean = photos_clean(photos, field="photos")
    with transaction.atomic():
        change = _run(event, Op.SELF_RESOLVE, actor, version)
        _self_resolve(change, actor, note, clean)
        return _save(change)


def _simple(event, op: str, actor, *, version, note: str = "", to_state: str | None = None,
            note_required: bool = False, note_message: str | None = None, data=None,
            at: dt.datetime | None = None, **values) -> tuple[Event, TimelineEntry]:
    note = _note(note, required=note_required, message=note_message)
    change = _run(event, op, actor, version)
    before = change.event.state
    to_state = to_state or RULES[op].to_state or before
    change.set(state=to_state, **values)
    entry = _entry(change.event, op, actor, from_state=before, to_state=to_state, note=note,
                   data=data, at=at)
    return _save(change), entry


def event_accept(*, event: Event, actor, note: str = "", version: int | None = None) -> Event:
    now = clock.now()
    with transaction.atomic():
        return _simple(event, Op.ACCEPT, actor, version=version, note=note, at=now,
                       accepted_at=now)[0]


def event_reject(*, event: Event, actor, note: str, version: int | None = None) -> Event:
    with transaction.atomic():
        event, _entry_ = _simple(event, Op.REJECT, actor, version=version, note=note,
                                 note_required=True, note_message=_("不予受理须说明理由。"))
        _tell_reporter(event, _("您反映的问题(%(serial)s)不予受理:%(note)s") % {
            "serial": event.serial, "note": _entry_.note}, "rejected")
        _tell_duplicates(event)
        return event


def _check_unit(event: Event, department: Department | None, region: Region | None) -> None:
    if (department is None) == (region is None):
        raise ValidationFailed(_("请选择一个主办单位(部门或社区/网格)。"), code="required",
                               details={"field": "unit"})
    if department is not None and department.region_id and not event.grid.path.startswith(
            department.region.path):
        raise ValidationFailed(_("“%(unit)s”的服务区域不包含事件所在网格。") % {
            "unit": department.name}, code="unit_out_of_area", details={"field": "unit"})
    if region is not None:
        if region.level not in (RegionLevel.COMMUNITY, RegionLevel.GRID) or not \
                event.grid.path.startswith(region.path):
            raise ValidationFailed(_("只能派遣给事件所在的社区或网格。"), code="bad_unit",
                                   details={"field": "unit"})


def event_dispatch(*, event: Event, actor, department: Department | None = None,
                   region: Region | None = None, assist: list[Department] = (),
                   note: str = "", version: int | None = None) -> Event:
    """派遣 to a main unit, with assisting departments (协办). Dispatching again re-assigns
    (改派); the handling deadline runs from the first dispatch."""
    note = _note(note, required=False)
    with transaction.atomic():
        change = _run(event, Op.DISPATCH, actor, version)
        event = change.event
        _check_unit(event, department, region)
        for a in assist:
            _check_unit(event, a, None)
        now = clock.now()
        before = event.state
        event.assignments.filter(ended_at__isnull=True).update(
            ended_at=now, outcome=Assignment.Outcome.REPLACED)
        Assignment.objects.create(event=event, department=department, region=region,
                                  role=Assignment.Role.MAIN, created_at=now)
        for a in assist:
            if a != department:
                Assignment.objects.create(event=event, department=a, role=Assignment.Role.ASSIST,
                                          created_at=now)
        change.set(state=State.DISPATCHED, department=department, unit_region=region)
        if event.dispatched_at is None:
            change.set(dispatched_at=now)
        if event.accepted_at is None:
            change.set(accepted_at=now)
        if event.handle_deadline is None:
            deadline, estimated = _deadline(now, event.category.handle_limit,
                                            event.category.handle_limit_unit)
            change.set(handle_deadline=deadline,
                       deadline_estimated=event.deadline_estimated or estimated)
        _entry(event, Op.DISPATCH, actor, from_state=before, to_state=State.DISPATCHED,
               note=note, data={"department": department.code if department else "",
                                "region": region.code if region else "",
                                "assist": [a.code for a in assist],
                                "unit": (department or region).name}, at=now)
        _save(change)
        message_enqueue(
            text=_("新派遣事件 %(serial)s:%(category)s,%(address)s,请在 %(deadline)s 前处置。") % {
                "serial": event.serial, "category": event.category.name,
                "address": event.address or event.grid.name,
                "deadline": f"{timezone.localtime(event.handle_deadline):%Y-%m-%d %H:%M}"},
            users=_unit_users(event), kind="dispatched", event=event)
        return event


def event_claim(*, event: Event, actor, version: int | None = None) -> Event:
    with transaction.atomic():
        return _simple(event, Op.CLAIM, actor, version=version)[0]


def event_handle(*, event: Event, actor, note: str, photos=(), version: int | None = None
                 ) -> Event:
    """处置反馈: the unit reports what it did, with result photos."""
    clean = photos_clean(photos, field="photos")
    with transaction.atomic():
        now = clock.now()
        event, entry = _simple(event, Op.HANDLE, actor, version=version, note=note,
                               note_required=True, note_message=_("请填写处置结果。"), at=now,
                               handled_at=now, result=(note or "").strip())
        _store_photos(event, entry, clean, Photo.Stage.RESULT)
        event.assignments.filter(ended_at__isnull=True, role=Assignment.Role.MAIN).update(
            outcome=Assignment.Outcome.HANDLED)
        verifiers = _users_holding(Perm.EVENT_VERIFY, event.grid.path,
                                   roles={Role.GRID_WORKER}) or _users_holding(
            Perm.EVENT_DISPATCH, level_path(event), roles={Role.DISPATCHER, Role.GRID_CHIEF})
        message_enqueue(text=_("事件 %(serial)s 已处置,请核查。") % {"serial": event.serial},
                        users=verifiers, kind="handled", event=event)
        return event


def event_return(*, event: Event, actor, note: str, version: int | None = None) -> Event:
    """退回: the unit refuses a wrong dispatch; back to the dispatcher."""
    with transaction.atomic():
        change = _run(event, Op.RETURN, actor, version)
        event = change.event
        note = _note(note, required=True, message=_("退回须说明理由。"))
        before = event.state
        event.assignments.filter(ended_at__isnull=True).update(
            ended_at=clock.now(), outcome=Assignment.Outcome.RETURNED)
        unit = event.unit_label
        change.set(state=State.ACCEPTED, department=None, unit_region=None,
                   return_count=event.return_count + 1)
        _entry(event, Op.RETURN, actor, from_state=before, to_state=State.ACCEPTED, note=note,
               data={"unit": unit})
        return _save(change)


def event_verify(*, event: Event, actor, passed: bool = True, note: str = "",
                 version: int | None = None) -> Event:
    """核查: passed, the event waits to be closed; failed, it goes back to the unit (返工)."""
    with transaction.atomic():
        if passed:
            return _simple(event, Op.VERIFY, actor, version=version, note=note)[0]
        change = _run(event, Op.VERIFY_FAIL, actor, version)
        return _reopen(change, actor, Op.VERIFY_FAIL,
                       _note(note, required=True, message=_("核查不通过须说明原因。")))


def _reopen(change: _Change, actor, op: str, note: str) -> Event:
    event = change.event
    before = event.state
    change.set(state=State.HANDLING, reopen_count=event.reopen_count + 1, closed_at=None,
               closed_on_time=None, handled_at=None)
    now = clock.now()
    event.assignments.filter(role=Assignment.Role.MAIN, ended_at__isnull=True).update(
        outcome=Assignment.Outcome.ACTIVE)
    if before == State.CLOSED and (event.department_id or event.unit_region_id):
        Assignment.objects.create(event=event, department=event.department,
                                  region=event.unit_region, role=Assignment.Role.MAIN,
                                  created_at=now)
    _entry(event, op, actor, from_state=before, to_state=State.HANDLING, note=note, at=now)
    _save(change)
    message_enqueue(text=_("事件 %(serial)s 需返工:%(note)s") % {"serial": event.serial,
                                                              "note": note},
                    users=_unit_users(event), kind="reopened", event=event)
    return event


def event_close(*, event: Event, actor, note: str = "", version: int | None = None) -> Event:
    with transaction.atomic():
        now = clock.now()
        change = _run(event, Op.CLOSE, actor, version)
        event = change.event
        on_time = event.handle_deadline is None or now <= event.handle_deadline
        before = event.state
        change.set(state=State.CLOSED, closed_at=now, closed_on_time=on_time)
        event.assignments.filter(ended_at__isnull=True).update(ended_at=now)
        _entry(event, Op.CLOSE, actor, from_state=before, to_state=State.CLOSED,
               note=_note(note, required=False), data={"on_time": on_time}, at=now)
        _save(change)
        values = {"serial": event.serial, "result": event.result or _("已处理")}
        _tell_reporter(event, (_("您反映的问题(%(serial)s)已办结:%(result)s。欢迎评价。")
                               if event.reporter_id else
                               _("您反映的问题(%(serial)s)已办结:%(result)s。")) % values,
                       "closed")
        _tell_duplicates(event)
        return event


def _tell_duplicates(master: Event) -> None:
    for dup in master.duplicates.select_related("reporter"):
        _tell_reporter(dup, _("您反映的问题(%(serial)s)已并入 %(master)s 办理,办理状态:%(state)s。") % {
            "serial": dup.serial, "master": master.serial,
            "state": master.get_state_display()}, "merged_outcome")


def event_reopen(*, event: Event, actor, note: str, version: int | None = None) -> Event:
    with transaction.atomic():
        change = _run(event, Op.REOPEN, actor, version)
        return _reopen(change, actor, Op.REOPEN,
                       _note(note, required=True, message=_("返工须说明原因。")))


def event_escalate(*, event: Event, actor, note: str, version: int | None = None) -> Event:
    """上报: hand the event to the next level up, whose dispatchers dispatch it down again."""
    note = _note(note, required=True, message=_("上报上级须说明原因。"))
    with transaction.atomic():
        change = _run(event, Op.ESCALATE, actor, version)
        event = change.event
        index = LEVEL_ORDER.index(event.level)
        if index + 1 >= len(LEVEL_ORDER):
            raise InvalidState(_("事件已在最高层级,不能再上报。"), details={"op": Op.ESCALATE})
        if event.state == State.HANDLING and not event.unit_region_id:
            raise InvalidState(_("部门处置中的事件请退回,而不是上报。"),
                               details={"op": Op.ESCALATE})
        before, old_level = event.state, event.level
        new_level = LEVEL_ORDER[index + 1]
        now = clock.now()
        event.assignments.filter(ended_at__isnull=True).update(
            ended_at=now, outcome=Assignment.Outcome.RETURNED)
        change.set(state=State.ACCEPTED, level=new_level, department=None, unit_region=None,
                   escalation_count=event.escalation_count + 1)
        if event.accepted_at is None:
            change.set(accepted_at=now)
        event.__dict__.pop("_level_paths", None)
        _entry(event, Op.ESCALATE, actor, from_state=before, to_state=State.ACCEPTED, note=note,
               data={"from_level": old_level, "to_level": new_level}, at=now)
        _save(change)
        message_enqueue(text=_("事件 %(serial)s 由下级上报,请派遣:%(note)s") % {
            "serial": event.serial, "note": note},
            users=_users_holding(Perm.EVENT_DISPATCH, level_path(event),
                                 roles={Role.DISPATCHER}),
            kind="escalated", event=event)
        return event


def event_extend_request(*, event: Event, actor, days: int, note: str,
                         version: int | None = None) -> Extension:
    note = _note(note, required=True, message=_("申请延期须说明理由。"))
    try:
        days = int(days)
    except (TypeError, ValueError):
        days = 0
    if not 1 <= days <= 60:
        raise ValidationFailed(_("延期天数应为 1 到 60 个工作日。"), code="bad_days",
                               details={"field": "days"})
    with transaction.atomic():
        change = _run(event, Op.EXTEND_REQUEST, actor, version)
        event = change.event
        if event.extensions.filter(status=Extension.Status.PENDING).exists():
            raise InvalidState(_("已有一个延期申请在等待审批。"), details={"op": Op.EXTEND_REQUEST})
        extension = Extension.objects.create(event=event, days=days, reason=note,
                                             requested_by=actor, requested_at=clock.now())
        _entry(event, Op.EXTEND_REQUEST, actor, from_state=event.state, to_state=event.state,
               note=note, data={"days": days, "extension": extension.pk})
        _save(change)
        message_enqueue(text=_("事件 %(serial)s 申请延期 %(days)s 个工作日,请审批。") % {
            "serial": event.serial, "days": days},
            users=_users_holding(Perm.EVENT_EXTEND_DECIDE, event.grid.path,
                                 roles={Role.GRID_CHIEF, Role.LEADER}),
            kind="extension_requested", event=event)
        return extension


def event_extend_decide(*, event: Event, actor, approve: bool, note: str = "",
                        version: int | None = None) -> Extension:
    """延期审批: the deadline moves only when the request is approved."""
    note = _note(note, required=not approve, message=_("不批准延期须说明理由。"))
    with transaction.atomic():
        change = _run(event, Op.EXTEND_DECIDE, actor, version)
        event = change.event
        extension = event.extensions.filter(status=Extension.Status.PENDING).first()
        if extension is None:
            raise InvalidState(_("没有待审批的延期申请。"), details={"op": Op.EXTEND_DECIDE})
        now = clock.now()
        extension.status = Extension.Status.APPROVED if approve else Extension.Status.REFUSED
        extension.decided_by, extension.decided_at, extension.decision_note = actor, now, note
        extension.save()
        data = {"approve": bool(approve), "days": extension.days, "extension": extension.pk}
        if approve:
            base = event.handle_deadline or now
            deadline, estimated = _deadline(base, extension.days, LimitUnit.WORK_DAYS)
            change.set(handle_deadline=deadline, extension_count=event.extension_count + 1,
                       deadline_estimated=event.deadline_estimated or estimated)
            data["deadline"] = deadline.isoformat()
        _entry(event, Op.EXTEND_DECIDE, actor, from_state=event.state, to_state=event.state,
               note=note, data=data, at=now)
        _save(change)
        message_enqueue(text=(_("事件 %(serial)s 的延期申请已批准。") if approve
                              else _("事件 %(serial)s 的延期申请未获批准。")) % {
            "serial": event.serial}, users=[extension.requested_by], kind="extension_decided",
            event=event)
        return extension


def event_suspend(*, event: Event, actor, note: str, version: int | None = None) -> Event:
    """缓办: the clock stops; the event is left out of indicator denominators meanwhile."""
    with transaction.atomic():
        change = _lock(event, version)
        _check(change.event, Op.SUSPEND, actor)
        note = _note(note, required=True, message=_("缓办须说明理由。"))
        event = change.event
        before = event.state
        change.set(state=State.SUSPENDED, resume_state=before, suspended_at=clock.now())
        _entry(event, Op.SUSPEND, actor, from_state=before, to_state=State.SUSPENDED, note=note)
        return _save(change)


def event_resume(*, event: Event, actor, note: str = "", version: int | None = None) -> Event:
    """恢复办理: back to where it was, deadlines moved on by the working time it was suspended."""
    with transaction.atomic():
        change = _run(event, Op.RESUME, actor, version)
        event = change.event
        now = clock.now()
        since = event.suspended_at or now
        paused = workcal.minutes_between(since, now)
        to_state = event.resume_state or State.ACCEPTED
        values = {"state": to_state, "resume_state": "", "suspended_at": None}
        units = {"dispatch_deadline": LimitUnit.DAYS if event.urgent else LimitUnit.WORK_HOURS,
                 "handle_deadline": event.category.handle_limit_unit}
        for name, unit in units.items():
            deadline = getattr(event, name)
            if deadline is None:
                continue
            if unit == LimitUnit.DAYS:  # a calendar-time limit stops for the wall time paused
                values[name] = deadline + (now - since)
            elif paused > 0:
                values[name] = workcal.add_minutes(deadline, paused)[0]
        change.set(**values)
        _entry(event, Op.RESUME, actor, from_state=State.SUSPENDED, to_state=to_state,
               note=_note(note, required=False), data={"paused_minutes": round(paused)}, at=now)
        return _save(change)


def event_supervise(*, event: Event, actor, level: int, note: str,
                    version: int | None = None) -> Supervision:
    """督办 by a leader: shown on the event, counted against the unit handling it."""
    note = _note(note, required=True, message=_("请填写督办意见。"))
    try:
        level = SupervisionLevel(int(level))
    except (TypeError, ValueError):
        raise ValidationFailed(_("督办级别无效。"), code="bad_level",
                               details={"field": "level"}) from None
    with transaction.atomic():
        change = _run(event, Op.SUPERVISE, actor, version)
        event = change.event
        supervision = Supervision.objects.create(
            event=event, level=level, note=note, department=event.department,
            unit_region=event.unit_region, by=actor, created_at=clock.now())
        change.set(supervision_level=max(level, event.supervision_level or 0))
        _entry(event, Op.SUPERVISE, actor, from_state=event.state, to_state=event.state,
               note=note, data={"level": int(level), "unit": event.unit_label})
        _save(change)
        users = _unit_users(event) or _users_holding(Perm.EVENT_DISPATCH, level_path(event),
                                                     roles={Role.DISPATCHER, Role.GRID_CHIEF})
        message_enqueue(text=_("事件 %(serial)s 被%(level)s:%(note)s") % {
            "serial": event.serial, "level": level.label, "note": note},
            users=users, kind="supervised", event=event)
        return supervision


def event_merge(*, event: Event, actor, master: Event, note: str = "",
                version: int | None = None) -> Event:
    """合并: a duplicate joins a master event; its reporter is told the master's outcome."""
    with transaction.atomic():
        change = _run(event, Op.MERGE, actor, version)
        event = change.event
        if master is None or master.pk == event.pk:
            raise ValidationFailed(_("请选择要并入的另一个事件。"), code="bad_master",
                                   details={"field": "master"})
        master = Event.objects.select_for_update(of=("self",)).get(pk=master.pk)
        if not can_view(actor, master):
            raise ValidationFailed(_("要并入的事件不存在或不在您的管辖范围内。"), code="bad_master",
                                   details={"field": "master"})
        if master.state in (State.REJECTED, State.MERGED, State.CLOSED) or master.master_id:
            raise ValidationFailed(_("只能并入尚未办结的事件。"), code="bad_master",
                                   details={"field": "master"})
        before = event.state
        note = _note(note, required=False)
        change.set(state=State.MERGED, master=master)
        _entry(event, Op.MERGE, actor, from_state=before, to_state=State.MERGED, note=note,
               data={"master": master.serial})
        _save(change)
        master_change = _Change(master, stats.snapshot(master))
        _entry(master, Op.MERGE, actor, from_state=master.state, to_state=master.state,
               note=note, data={"duplicate": event.serial})
        _save(master_change)
        _tell_reporter(event, _("您反映的问题(%(serial)s)与 %(master)s 为同一问题,已合并办理,"
                                "办结后会告知您结果。") % {"serial": event.serial,
                                                 "master": master.serial}, "merged")
        return event


def event_rate(*, event: Event, actor, rating: str, note: str = "",
               version: int | None = None, anonymous_reporter: bool = False) -> Event:
    """评价 by the reporter, once. 不满意 reopens the event when its category says so.

    `anonymous_reporter`: the caller has proven that the (anonymous) reporter is rating, by
    the secret follow link the portal gave them; then `actor` is None."""
    if rating not in Rating.values:
        raise ValidationFailed(_("请选择满意、基本满意或不满意。"), code="bad_rating",
                               details={"field": "rating"})
    note = _note(note, required=False)
    with transaction.atomic():
        change = _lock(event, version)
        event = change.event
        if event.rating:
            raise InvalidState(_("该事件已经评价过了,不能重复评价。"), code="already_rated",
                               details={"op": Op.RATE})
        if anonymous_reporter:
            if actor is not None or event.reporter_id or event.api_key_id:
                raise PermissionDenied(_("只有反映人可以评价。"), details={"op": Op.RATE})
            _check(event, Op.RATE, None, system=True)
        else:
            if actor is None or event.reporter_id != actor.pk:
                if not can_view(actor, event):
                    raise NotFound()
                raise PermissionDenied(_("只有反映人可以评价。"), details={"op": Op.RATE})
            _check(event, Op.RATE, actor)
        now = clock.now()
        change.set(rating=rating, rated_at=now)
        _entry(event, Op.RATE, actor, from_state=event.state, to_state=event.state, note=note,
               data={"rating": rating}, at=now)
        _save(change)
        if rating == Rating.DISSATISFIED and event.category.reopen_on_dissatisfied:
            again = _Change(event, stats.snapshot(event))
            _reopen(again, None, Op.REOPEN, _("反映人评价不满意,按分类规定自动返工。"))
        return event


def event_comment(*, event: Event, actor, note: str) -> TimelineEntry:
    note = _note(note, required=True, message=_("请填写留言内容。"))
    with transaction.atomic():
        change = _run(event, Op.COMMENT, actor, None)
        entry = _entry(change.event, Op.COMMENT, actor, from_state=change.event.state,
                       to_state=change.event.state, note=note)
        Event.objects.filter(pk=change.event.pk).update(version=F("version") + 1)
        return entry


# One name per operation, for the API and pages that take the operation as a parameter.
OPERATIONS = {
    Op.ACCEPT: event_accept, Op.REJECT: event_reject, Op.SELF_RESOLVE: event_self_resolve,
    Op.DISPATCH: event_dispatch, Op.CLAIM: event_claim, Op.HANDLE: event_handle,
    Op.RETURN: event_return, Op.CLOSE: event_close, Op.REOPEN: event_reopen,
    Op.ESCALATE: event_escalate, Op.EXTEND_REQUEST: event_extend_request,
    Op.EXTEND_DECIDE: event_extend_decide, Op.SUSPEND: event_suspend, Op.RESUME: event_resume,
    Op.SUPERVISE: event_supervise, Op.MERGE: event_merge, Op.RATE: event_rate,
    Op.COMMENT: event_comment,
}
