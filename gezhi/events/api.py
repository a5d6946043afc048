"""/api/v1/ events (事件闭环): categories, intake, scoped lists and work queues, one event with
its timeline, duplicate suggestions, every operation, the reporter's own reports, map points
and the in-app inbox.

Handlers stay thin: parse, call one selector or service, shape. Every rule (who, which state,
which fields) lives in gezhi.events.rules and is checked by gezhi.events.services, so the API
and the pages allow exactly the same. An event outside the caller's scope is a 404, as one
that does not exist; errors are {"code", "message", "details"} (details.field names the
field at fault).
"""

from __future__ import annotations

from django.conf import settings
from django.db.models import Prefetch, Q
from django.http import JsonResponse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from ninja import File, Form, Query, Router, Status
from ninja.files import UploadedFile

from gezhi.accounts.models import Department
from gezhi.accounts.roles import Perm
from gezhi.accounts.scope import has_perm, visible_to
from gezhi.core import clock
from gezhi.core.errors import NotFound, PermissionDenied, ValidationFailed
from gezhi.core.pagination import PageParams, paginate
from gezhi.core.schemas import ErrorOut
from gezhi.events import selectors, services
from gezhi.events.models import (
    Category,
    Event,
    Op,
    Photo,
    Source,
    State,
    TimelineEntry,
)
from gezhi.events.rules import RULES
from gezhi.events.schemas import (
    CategoryFilters,
    CategoryOut,
    CategoryPage,
    DuplicateFilters,
    DuplicatesOut,
    EventDetail,
    EventFilters,
    EventForm,
    EventIn,
    EventPage,
    MapFilters,
    MapOut,
    MessageFilters,
    MessagePage,
    MessagesReadIn,
    MessagesReadOut,
    MyEventPage,
    OpForm,
    OpIn,
    QueuesOut,
    TimelinePage,
    UnitsFilters,
    UnitsOut,
)
from gezhi.notify.services import inbox, inbox_mark_read
from gezhi.orgs.models import Organisation
from gezhi.people.models import Person
from gezhi.places.models import House
from gezhi.regions.models import Level as RegionLevel
from gezhi.regions.models import Region

router = Router(tags=["events"])

ERRORS = {401: ErrorOut, 404: ErrorOut, 422: ErrorOut}
WRITE_ERRORS = {**ERRORS, 403: ErrorOut, 409: ErrorOut}
# The operations of POST /events/{serial}/ops/{op}: the rule table's, in its order.
OPS = tuple(RULES)
PHOTO_OPS = (Op.HANDLE, Op.SELF_RESOLVE)


# --- Shaping -------------------------------------------------------------------------------


def _code_name(obj) -> dict:
    return {"code": obj.code, "name": obj.name}


def _unit(department, region) -> dict | None:
    if department is not None:
        return {"kind": "department", "code": department.code, "name": department.name}
    if region is not None:
        return {"kind": "region", "code": region.code, "name": region.name}
    return None


def _deadline(event: Event, now) -> dict:
    status = selectors.deadline_status(event, now)
    return {"kind": status.kind, "deadline": status.deadline,
            "remaining_minutes": None if status.minutes is None else int(status.minutes),
            "remaining": status.parts, "colour": status.colour, "overdue": status.overdue,
            "estimated": status.estimated}


def _event(event: Event, now) -> dict:
    return {
        "serial": event.serial, "state": event.state, "state_label": event.get_state_display(),
        "category": _code_name(event.category), "grid": _code_name(event.grid),
        "unit": _unit(event.department, event.unit_region), "level": event.level,
        "level_label": event.get_level_display(), "source": event.source,
        "source_label": event.get_source_display(), "description": event.description,
        "address": event.address, "lat": event.lat, "lon": event.lon, "urgent": event.urgent,
        "reported_at": event.reported_at, "deadline": _deadline(event, now),
        "supervision_level": event.supervision_level,
        "supervision_label": event.get_supervision_level_display()
        if event.supervision_level else "",
        "version": event.version,
    }


def _photo(request, photo: Photo) -> dict:
    return {"id": photo.id, "url": request.build_absolute_uri(photo.url),
            "stage": photo.stage, "stage_label": photo.get_stage_display(),
            "width": photo.width, "height": photo.height, "lat": photo.lat, "lon": photo.lon,
            "taken_at": photo.taken_at}


def _linked(viewer, model, pk: int | None, label) -> dict | None:
    """A related person, house or organisation, named only to those who may see it."""
    if pk is None:
        return None
    obj = visible_to(model.objects.filter(pk=pk), viewer, Perm.BASE_VIEW).first()
    return {"id": obj.pk, "name": label(obj)} if obj is not None else None


def _detail(request, event: Event, *, fresh: bool = False) -> dict:
    """The event as its page shows it. `fresh`: just reported, so it has no duplicates,
    assignments, extensions or supervisions yet, and only the photos sent with the report —
    the intake answers without reading them back."""
    viewer = request.user
    now = clock.now()
    allowed = services.allowed_ops(event=event, user=viewer)
    extensions = [] if fresh else event.extensions.select_related("requested_by", "decided_by")
    supervisions = [] if fresh else event.supervisions.select_related("by", "department",
                                                                      "unit_region")
    photos = [] if fresh and not getattr(event, "photo_count", 1) else event.photos.order_by("id")
    assignments = [] if fresh else event.assignments.select_related(
        "department", "region").order_by("id")
    return {
        **_event(event, now),
        "title": event.title, "external_id": event.external_id,
        "reporter": event.reporter.name if event.reporter_id else event.contact_name,
        "contact_phone_mask": event.contact_phone_mask,
        "person": _linked(viewer, Person, event.person_id, lambda p: p.name),
        "house": _linked(viewer, House, event.house_id, lambda h: h.address or str(h)),
        "organisation": _linked(viewer, Organisation, event.organisation_id,
                                lambda o: o.name),
        "result": event.result, "master": event.master.serial if event.master_id else None,
        "duplicates": [] if fresh else list(event.duplicates.order_by("id")
                                            .values_list("serial", flat=True)),
        "self_resolved": event.self_resolved, "closed_on_time": event.closed_on_time,
        "reopen_count": event.reopen_count, "return_count": event.return_count,
        "escalation_count": event.escalation_count, "extension_count": event.extension_count,
        "rating": event.rating, "rating_label": event.get_rating_display() if event.rating else "",
        "accepted_at": event.accepted_at, "dispatched_at": event.dispatched_at,
        "handled_at": event.handled_at, "closed_at": event.closed_at,
        "rated_at": event.rated_at, "dispatch_deadline": event.dispatch_deadline,
        "handle_deadline": event.handle_deadline,
        "allowed_ops": [{"op": op, "label": str(Op(op).label), "required": list(RULES[op].required),
                         "path": f"/api/v1/events/{event.serial}/ops/{op}"} for op in allowed],
        "photos": [_photo(request, p) for p in photos],
        "assignments": [
            {"role": a.role, "role_label": a.get_role_display(),
             "unit": _unit(a.department, a.region), "outcome": a.outcome,
             "outcome_label": a.get_outcome_display(), "created_at": a.created_at,
             "ended_at": a.ended_at}
            for a in assignments],
        "extensions": [
            {"id": x.id, "days": x.days, "reason": x.reason, "status": x.status,
             "status_label": x.get_status_display(), "requested_by": x.requested_by.name,
             "requested_at": x.requested_at,
             "decided_by": x.decided_by.name if x.decided_by_id else "",
             "decided_at": x.decided_at, "decision_note": x.decision_note}
            for x in extensions],
        "supervisions": [
            {"level": s.level, "level_label": s.get_level_display(), "note": s.note,
             "unit": (s.department.name if s.department_id
                      else s.unit_region.name if s.unit_region_id else ""),
             "by": s.by.name, "created_at": s.created_at}
            for s in supervisions],
    }


def _entry(request, entry: TimelineEntry) -> dict:
    return {"id": entry.id, "op": entry.op, "op_label": entry.get_op_display(),
            "actor": entry.actor_name, "from_state": entry.from_state,
            "from_label": entry.get_from_state_display() if entry.from_state else "",
            "to_state": entry.to_state,
            "to_label": entry.get_to_state_display() if entry.to_state else "",
            "note": entry.note, "data": entry.data, "created_at": entry.created_at,
            "photos": [_photo(request, p) for p in entry.photos.all()]}


def _category(c: Category, children=()) -> dict:
    return {"code": c.code, "name": c.name,
            "parent": c.parent.code if c.parent_id else None, "group": c.group,
            "group_label": c.get_group_display(), "leaf": c.parent_id is not None,
            "urgent": c.urgent, "dispatch_limit_minutes": c.dispatch_limit_minutes,
            "handle_limit": c.handle_limit, "handle_limit_unit": c.handle_limit_unit,
            "handle_limit_label": f"{c.handle_limit} {c.get_handle_limit_unit_display()}",
            "reopen_on_dissatisfied": c.reopen_on_dissatisfied,
            "default_department": (_code_name(c.default_department)
                                   if c.default_department_id else None),
            "children": [_category(child) for child in children]}


# --- Lookups that name the field at fault --------------------------------------------------


def _event_get(request, serial: str) -> Event:
    return selectors.event_get(viewer=request.user, serial=serial)


def _category_by_code(code: str) -> Category | None:
    return Category.objects.select_related("parent").filter(code=code).first() if code else None


def _linked_for_write(viewer, model, pk: int | None, field: str):
    if pk is None:
        return None
    obj = visible_to(model.objects.filter(pk=pk), viewer, Perm.BASE_VIEW).first()
    if obj is None:
        raise NotFound(details={"field": field})
    return obj


def _department(code: str, field: str) -> Department:
    department = Department.objects.select_related("region").filter(code=code).first()
    if department is None:
        raise ValidationFailed(_("处置部门不存在:%(code)s") % {"code": code},
                               code="bad_unit", details={"field": field})
    return department


def _region(code: str) -> Region:
    region = Region.objects.filter(code=code).first()
    if region is None:
        raise ValidationFailed(_("区划代码不存在:%(code)s") % {"code": code}, code="bad_unit",
                               details={"field": "region"})
    return region


# --- Categories and dispatch units ---------------------------------------------------------


@router.get("/event-categories", response={200: CategoryPage, **ERRORS},
            summary=gettext_lazy("事件分类(大类/小类)与处置时限"))
def category_list(request, filters: Query[CategoryFilters]):
    qs = Category.objects.filter(active=True).select_related("parent", "default_department")
    if filters.group:
        qs = qs.filter(group=filters.group)
    if filters.view == "tree":
        children = Prefetch("children", to_attr="active_children", queryset=(
            Category.objects.filter(active=True).select_related("parent", "default_department")
            .order_by("sort_order", "code")))
        items, meta = paginate(request, qs.filter(parent=None).prefetch_related(children)
                               .order_by("sort_order", "code"), filters)
        return {**meta, "items": [_category(c, c.active_children) for c in items]}
    if filters.leaf is not None:
        qs = qs.filter(parent__isnull=not filters.leaf)
    items, meta = paginate(request, qs.order_by("code"), filters)  # 01, 0101 … 02, 0201 …
    return {**meta, "items": [_category(c) for c in items]}


@router.get("/event-units", response={200: UnitsOut, 403: ErrorOut, **ERRORS},
            summary=gettext_lazy("可派遣给的单位:部门、事件所在的社区和网格"),
            description=gettext_lazy("只对可派遣该事件的调度员开放,否则 403(看不到该事件为 404)。"))
def unit_list(request, filters: Query[UnitsFilters]):
    event = _event_get(request, filters.event)
    if "dispatcher" not in services.actor_relations(request.user, event):
        raise PermissionDenied(details={"op": Op.DISPATCH})
    parts = event.grid.path.rstrip(".").split(".")
    ancestors = [".".join(parts[:i]) + "." for i in range(1, len(parts) + 1)]
    departments = list(Department.objects.filter(Q(region__isnull=True)
                                                  | Q(region__path__in=ancestors))
                       .order_by("kind", "code"))
    regions = (Region.objects.filter(path__in=ancestors,
                                     level__in=(RegionLevel.COMMUNITY, RegionLevel.GRID))
               .order_by("depth"))
    default = event.category.default_department_id
    return {
        "event": event.serial,
        "departments": [{"code": d.code, "name": d.name, "kind": d.kind,
                         "kind_label": d.get_kind_display()} for d in departments],
        "regions": [{"code": r.code, "name": r.name, "kind": r.level,
                     "kind_label": r.get_level_display()} for r in regions],
        "default_department": next((d.code for d in departments if d.pk == default), None),
    }


# --- Intake --------------------------------------------------------------------------------


def _report(request, payload: EventIn, photos=(), result_photos=()):
    viewer = request.user
    resident = not has_perm(viewer, Perm.EVENT_REPORT)
    fields = payload.dict()
    if resident:
        # Residents (随手拍) report as residents: the source, urgency and outside work-order
        # numbers are the staff's to set.
        fields.update(source=Source.RESIDENT, urgent=None, external_id="")
    intake = services.Intake(
        category=services.intake_category(fields["category"]), description=fields["description"],
        lat=fields["lat"], lon=fields["lon"], source=fields["source"] or Source.PATROL,
        address=fields["address"], title=fields["title"], urgent=fields["urgent"],
        contact_name=fields["contact_name"], contact_phone=fields["contact_phone"],
        external_id=fields["external_id"], client_id=fields["client_id"],
        person=_linked_for_write(viewer, Person, fields["person"], "person"),
        house=_linked_for_write(viewer, House, fields["house"], "house"),
        organisation=_linked_for_write(viewer, Organisation, fields["organisation"],
                                       "organisation"),
        photos=list(photos or []), self_resolve=fields["self_resolve"],
        result=fields["result"], result_photos=list(result_photos or []))
    event = services.event_report(actor=viewer, intake=intake)
    known = getattr(event, "existing", False)
    if _prefers_minimal(request):
        # RFC 7240: the client (a hotline system pushing work orders, say) needs only to know
        # the report is in; it reads the event at Location when it wants the rest.
        url = f"{request.path.rstrip('/').removesuffix('/with-photos')}/{event.serial}"
        response = JsonResponse({"serial": event.serial, "state": event.state,
                                 "version": event.version, "url": url},
                                status=200 if known else 201)
        response["Preference-Applied"] = "return=minimal"
        response["Location"] = url
        return response
    return Status(200 if known else 201, _detail(request, event, fresh=not known))


def _prefers_minimal(request) -> bool:
    prefer = request.headers.get("Prefer", "")
    return any(p.strip().lower() == "return=minimal" for p in prefer.replace(";", ",").split(","))


REPORT_DOC = gettext_lazy(
    "工作人员以本人身份上报(须在其辖区内);居民或没有上报权限的用户以居民身份反映(来源 resident)。"
    "带 client_id 重复提交同一上报时返回原事件(200),不会重复登记。"
    "请求头 Prefer: return=minimal 时只返回 serial、state、version 和 url(Location 头同为事件地址),"
    "适合批量推送工单的系统。")


@router.post("/events", response={201: EventDetail, 200: EventDetail, **WRITE_ERRORS},
             summary=gettext_lazy("上报事件(JSON,不带照片)"), description=REPORT_DOC)
def event_create(request, payload: EventIn):
    return _report(request, payload)


@router.post("/events/with-photos",
             response={201: EventDetail, 200: EventDetail, **WRITE_ERRORS},
             summary=gettext_lazy("上报事件(multipart/form-data,带现场照片和处置结果照片)"),
             description=REPORT_DOC)
def event_create_with_photos(request, payload: Form[EventForm],
                             photos: File[list[UploadedFile]] = None,
                             result_photos: File[list[UploadedFile]] = None):
    return _report(request, payload, photos, result_photos)


# --- Lists, queues, map, suggestions (fixed paths before /events/{serial}) -----------------


@router.get("/events", response={200: EventPage, **ERRORS},
            summary=gettext_lazy("事件列表:按工作队列和条件筛选(仅限管辖范围)"))
def event_list(request, filters: Query[EventFilters]):
    if filters.queue not in selectors.QUEUE_KEYS:
        raise ValidationFailed(_("没有这个工作队列:%(queue)s") % {"queue": filters.queue},
                               code="bad_queue", details={"field": "queue"})
    if filters.state and filters.state not in State.values:
        raise ValidationFailed(_("事件状态无效:%(state)s") % {"state": filters.state},
                               code="bad_state", details={"field": "state"})
    department_id = None
    if filters.department:
        department_id = getattr(Department.objects.filter(code=filters.department).first(),
                                "pk", -1)
    qs = selectors.event_list(
        viewer=request.user, queue=filters.queue, state=filters.state, grid_code=filters.grid,
        category_code=filters.category, source=filters.source, q=filters.q,
        department_id=department_id, start=filters.start, end=filters.end)
    items, meta = paginate(request, qs, filters)
    now = clock.now()
    return {**meta, "items": [_event(e, now) for e in items]}


@router.get("/events/queues", response={200: QueuesOut, **ERRORS},
            summary=gettext_lazy("我的工作队列及各队列的事件数"))
def event_queues(request):
    counts = selectors.queue_counts(viewer=request.user)
    return {"items": [{"key": q.key, "label": str(q.label), "count": counts.get(q.key, 0)}
                      for q in selectors.queues_for(request.user)]}


@router.get("/events/mine", response={200: MyEventPage, **ERRORS},
            summary=gettext_lazy("我反映的问题及办理经过"))
def event_mine(request, page: Query[PageParams]):
    user = request.user
    qs = selectors.my_reports(user=user).prefetch_related(
        Prefetch("timeline", queryset=TimelineEntry.objects.order_by("created_at", "id")))
    items, meta = paginate(request, qs.order_by("-reported_at", "-id"), page)
    out = []
    for e in items:
        steps = []
        for entry in e.timeline.all():
            text = selectors.plain_step(entry, user)
            if text:
                steps.append({"at": entry.created_at, "op": entry.op, "text": text})
        out.append({"serial": e.serial, "category": e.category.name,
                    "description": e.description, "address": e.address, "state": e.state,
                    "state_label": e.get_state_display(), "reported_at": e.reported_at,
                    "closed_at": e.closed_at, "result": e.result, "rating": e.rating,
                    "rating_label": e.get_rating_display() if e.rating else "",
                    "can_rate": selectors.awaits_rating(e), "steps": steps})
    return {**meta, "items": out}


@router.get("/events/map", response={200: MapOut, **ERRORS},
            summary=gettext_lazy("作战图上的在办事件:位置、状态与超期颜色"))
def event_map(request, filters: Query[MapFilters]):
    rows = selectors.map_events(viewer=request.user, limit=filters.limit)
    return {"count": len(rows), "items": rows}


def _duplicates(pairs) -> dict:
    return {
        "metres": int(getattr(settings, "GEZHI_DUPLICATE_METRES", 100)),
        "hours": int(getattr(settings, "GEZHI_DUPLICATE_HOURS", 72)),
        "items": [{"serial": e.serial, "state": e.state, "state_label": e.get_state_display(),
                   "category": _code_name(e.category), "grid": _code_name(e.grid),
                   "description": e.description, "address": e.address,
                   "reported_at": e.reported_at, "distance_m": metres} for e, metres in pairs],
    }


@router.get("/events/duplicates", response={200: DuplicatesOut, **ERRORS},
            summary=gettext_lazy("上报前查重:附近同类在办事件"),
            description=gettext_lazy("同一小类、在设定距离和时间窗内、尚未办结的事件,由近到远。"))
def duplicates_near(request, filters: Query[DuplicateFilters]):
    category = _category_by_code(filters.category)
    if category is None:
        raise ValidationFailed(_("事件分类不存在或已停用,请选择一个小类。"), code="bad_category",
                               details={"field": "category"})
    return _duplicates(selectors.duplicate_candidates(
        viewer=request.user, category=category, lat=filters.lat, lon=filters.lon))


# --- One event -----------------------------------------------------------------------------


@router.get("/events/{serial}", response={200: EventDetail, **ERRORS},
            summary=gettext_lazy("事件详情:照片、派遣、延期、督办与当前可执行的操作"))
def event_detail(request, serial: str):
    return _detail(request, _event_get(request, serial))


@router.get("/events/{serial}/timeline", response={200: TimelinePage, **ERRORS},
            summary=gettext_lazy("事件流转记录(按时间先后)"))
def event_timeline(request, serial: str, page: Query[PageParams]):
    event = _event_get(request, serial)
    items, meta = paginate(request, selectors.event_timeline(event=event), page)
    return {**meta, "items": [_entry(request, e) for e in items]}


@router.get("/events/{serial}/duplicates", response={200: DuplicatesOut, **ERRORS},
            summary=gettext_lazy("该事件可能的重复事件(可合并)"))
def event_duplicates(request, serial: str):
    event = _event_get(request, serial)
    return _duplicates(selectors.duplicate_candidates(
        viewer=request.user, category=event.category, lat=event.lat, lon=event.lon,
        at=event.reported_at, exclude=event))


# --- Operations ----------------------------------------------------------------------------


def _run_op(request, serial: str, op: str, body: OpIn, photos=None):
    if op not in OPS:
        raise NotFound(_("没有这个操作:%(op)s") % {"op": op}, code="unknown_op",
                       details={"op": op, "ops": list(OPS)})
    event = _event_get(request, serial)
    actor, version, note = request.user, body.version, body.note
    common = {"event": event, "actor": actor}
    if op == Op.COMMENT:
        services.event_comment(**common, note=note)
    elif op in (Op.VERIFY, Op.VERIFY_FAIL):
        services.event_verify(**common, passed=op == Op.VERIFY, note=note, version=version)
    elif op == Op.CLAIM:
        services.event_claim(**common, version=version)
    elif op in PHOTO_OPS:
        services.OPERATIONS[op](**common, note=note, photos=photos or [], version=version)
    elif op == Op.DISPATCH:
        services.event_dispatch(
            **common, note=note, version=version,
            department=_department(body.department, "department") if body.department else None,
            region=_region(body.region) if body.region else None,
            assist=[_department(code, "assist") for code in body.assist])
    elif op == Op.EXTEND_REQUEST:
        services.event_extend_request(**common, days=body.days, note=note, version=version)
    elif op == Op.EXTEND_DECIDE:
        if body.approve is None:
            raise ValidationFailed(_("请选择批准或不批准。"), code="required",
                                   details={"field": "approve"})
        services.event_extend_decide(**common, approve=body.approve, note=note,
                                     version=version)
    elif op == Op.SUPERVISE:
        services.event_supervise(**common, level=body.level, note=note, version=version)
    elif op == Op.MERGE:
        master = Event.objects.filter(serial=body.master).first() if body.master else None
        if master is None or not services.can_view(actor, master):
            raise ValidationFailed(_("要并入的事件不存在或不在您的管辖范围内。"),
                                   code="bad_master", details={"field": "master"})
        services.event_merge(**common, master=master, note=note, version=version)
    elif op == Op.RATE:
        services.event_rate(**common, rating=body.rating, note=note, version=version)
    else:
        services.OPERATIONS[op](**common, note=note, version=version)
    return _detail(request, _event_get(request, event.serial))


OPS_DOC = gettext_lazy(
    "op 为 accept、reject、dispatch、claim、handle、verify、verify_fail、close、reopen、return、"
    "escalate、extend_request、extend_decide、suspend、resume、supervise、merge、rate、comment、"
    "self_resolve 之一(规则见 docs/events.md)。不认识的 op 返回 404 unknown_op;当前状态不允许返回 "
    "409 invalid_state;带上的 version 已过时返回 409 conflict;缺少必填字段返回 422(details.field)。"
    "成功时返回操作后的事件。")


@router.post("/events/{serial}/ops/{op}", response={200: EventDetail, **WRITE_ERRORS},
             summary=gettext_lazy("对事件执行一个操作"), description=OPS_DOC)
def event_op(request, serial: str, op: str, payload: OpIn | None = None):
    return _run_op(request, serial, op, payload or OpIn())


@router.post("/events/{serial}/ops/{op}/with-photos",
             response={200: EventDetail, **WRITE_ERRORS},
             summary=gettext_lazy("处置反馈或自行处置,带结果照片(multipart/form-data)"),
             description=gettext_lazy("只用于 handle 和 self_resolve;字段 note、version,文件 photos。"))
def event_op_with_photos(request, serial: str, op: str, payload: Form[OpForm],
                         photos: File[list[UploadedFile]] = None):
    if op in OPS and op not in PHOTO_OPS:
        raise ValidationFailed(_("只有处置反馈和自行处置可以附带照片。"), code="photos_not_accepted",
                               details={"field": "photos", "op": op})
    return _run_op(request, serial, op, OpIn(version=payload.version, note=payload.note),
                   photos=photos)


# --- Inbox ---------------------------------------------------------------------------------


@router.get("/messages", response={200: MessagePage, **ERRORS},
            summary=gettext_lazy("我的站内消息(新的在前)"))
def message_list(request, filters: Query[MessageFilters]):
    qs = inbox(user=request.user, unread_only=filters.unread).select_related("event")
    items, meta = paginate(request, qs.order_by("-created_at", "-id"), filters)
    return {**meta, "items": [{"id": m.id, "kind": m.kind, "text": m.text,
                               "event": m.event.serial if m.event_id else None,
                               "created_at": m.created_at, "read_at": m.read_at}
                              for m in items]}


@router.post("/messages/read", response={200: MessagesReadOut, **ERRORS},
             summary=gettext_lazy("把站内消息标为已读"))
def message_read(request, payload: MessagesReadIn | None = None):
    ids = payload.ids if payload is not None else None
    return {"marked": inbox_mark_read(user=request.user, ids=ids)}


CategoryOut.model_rebuild()
