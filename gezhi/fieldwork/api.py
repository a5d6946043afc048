"""JSON API of field work (/api/v1/fieldwork/): diary entries (民情日记), household visits (入户走访),
patrols (巡查), the households due for a visit and visit coverage.

Creates are idempotent by `client_id` (201 the first time, 200 with the stored record after),
so a phone may resend whatever it is not sure arrived. Handlers parse, call one service or
selector and shape; errors are {"code", "message", "details"} with details.field.
"""

from __future__ import annotations

from uuid import UUID

from django.urls import reverse
from django.utils.translation import gettext_lazy
from ninja import File, Form, Query, Router, Status
from ninja.files import UploadedFile

from gezhi.core.pagination import paginate
from gezhi.core.schemas import ErrorOut
from gezhi.fieldwork import selectors, services
from gezhi.fieldwork.models import DiaryEntry, Patrol, Visit
from gezhi.fieldwork.schemas import (
    CoverageFilters,
    CoverageOut,
    DiaryEventIn,
    DiaryFilters,
    DiaryForm,
    DiaryIn,
    DiaryOut,
    DiaryPage,
    DueFilters,
    DuePage,
    PatrolFilters,
    PatrolOut,
    PatrolPage,
    PatrolStartIn,
    PatrolStopIn,
    PointsIn,
    VisitFilters,
    VisitForm,
    VisitIn,
    VisitOut,
    VisitPage,
)

router = Router(tags=["fieldwork 民情日记·走访·巡查"])

ERRORS = {401: ErrorOut, 404: ErrorOut, 422: ErrorOut}
WRITE_ERRORS = {**ERRORS, 403: ErrorOut, 409: ErrorOut}
IDEMPOTENT = gettext_lazy("首次提交返回 201;同一 client_id 再次提交返回已存的记录(200),"
                          "client_id 已被其他用户使用返回 409 client_id_taken。")


# --- Shaping -------------------------------------------------------------------------------


def _photos(request, photos) -> list[dict]:
    return [{"id": p.pk, "width": p.width, "height": p.height,
             "url": request.build_absolute_uri(reverse("fieldwork:photo", args=[p.pk]))}
            for p in photos]


def _grid(region) -> dict:
    return {"code": region.code, "name": region.name}


def _house(house) -> dict | None:
    return {"id": house.pk, "address": house.address or house.number} if house else None


def diary_out(request, e: DiaryEntry) -> dict:
    return {
        "id": e.pk, "client_id": e.client_id, "date": e.date, "place": e.place, "lat": e.lat,
        "lon": e.lon, "grid": _grid(e.grid), "house": _house(e.house), "text": e.text,
        "author": e.author.name, "photos": _photos(request, e.photos.all()),
        "event": {"serial": e.event.serial, "state": e.event.state,
                  "state_label": e.event.get_state_display()} if e.event_id else None,
        "created_at": e.created_at,
    }


def visit_out(request, v: Visit) -> dict:
    return {
        "id": v.pk, "client_id": v.client_id, "house": _house(v.house), "grid": _grid(v.grid),
        "visitor": v.visitor.name, "visited_at": v.visited_at, "outcome": v.outcome,
        "outcome_label": v.get_outcome_display(),
        "people_met": [{"id": p.pk, "name": p.name} for p in v.people_met.all()],
        "needs": v.needs, "follow_ups": v.follow_ups, "note": v.note,
        "next_visit_on": v.next_visit_on, "lat": v.lat, "lon": v.lon,
        "photos": _photos(request, v.photos.all()), "created_at": v.created_at,
    }


def track_feature(p: Patrol) -> dict:
    return {"type": "Feature",
            "geometry": {"type": "LineString", "coordinates": [[q[1], q[0]] for q in p.track]},
            "properties": {"times": [q[2] for q in p.track]}}


def patrol_out(p: Patrol) -> dict:
    return {"client_id": p.client_id, "worker": p.worker.name, "grid": _grid(p.grid),
            "started_at": p.started_at, "ended_at": p.ended_at, "distance_m": p.distance_m,
            "note": p.note, "track": track_feature(p), "points": len(p.track)}


def _status(created: bool, body: dict):
    return Status(201 if created else 200, body)


def _diary_loaded(qs):
    return qs.select_related("grid", "house", "author", "event").prefetch_related("photos")


# How a saved record is read again and shaped: with everything its answer shows.
SHAPES = {DiaryEntry: (_diary_loaded, diary_out), Visit: (selectors.visits_loaded, visit_out)}


def _saved(request, record: DiaryEntry | Visit, created: bool):
    loaded, shape = SHAPES[type(record)]
    record = loaded(type(record).objects.filter(pk=record.pk)).get()
    return _status(created, shape(request, record))


def _record(request, create, payload, photos=None):
    """A diary entry or visit from the JSON or the multipart endpoint; resent, the stored one."""
    record, created = create(actor=request.user, fields=payload.dict(), photos=photos or [])
    return _saved(request, record, created)


# --- 民情日记 ------------------------------------------------------------------------------


@router.post("/diary", response={201: DiaryOut, 200: DiaryOut, **WRITE_ERRORS},
             summary=gettext_lazy("记民情日记(JSON,不带照片)"), description=IDEMPOTENT)
def diary_create(request, payload: DiaryIn):
    return _record(request, services.diary_create, payload)


@router.post("/diary/with-photos", response={201: DiaryOut, 200: DiaryOut, **WRITE_ERRORS},
             summary=gettext_lazy("记民情日记(multipart/form-data,文件字段 photos)"),
             description=IDEMPOTENT)
def diary_create_with_photos(request, payload: Form[DiaryForm],
                             photos: File[list[UploadedFile]] = None):
    return _record(request, services.diary_create, payload, photos)


@router.get("/diary", response={200: DiaryPage, **ERRORS},
            summary=gettext_lazy("民情日记列表(管辖范围内,新的在前)"))
def diary_list(request, filters: Query[DiaryFilters]):
    qs = selectors.diary_list(
        viewer=request.user, author=request.user if filters.author == "me" else None,
        grid_code=filters.grid, start=filters.start, end=filters.end)
    items, meta = paginate(request, qs, filters)
    return {**meta, "items": [diary_out(request, e) for e in items]}


@router.get("/diary/{int:pk}", response={200: DiaryOut, **ERRORS},
            summary=gettext_lazy("一条民情日记"))
def diary_detail(request, pk: int):
    return diary_out(request, selectors.diary_get(viewer=request.user, pk=pk))


@router.post("/diary/{int:pk}/event", response={200: DiaryOut, **WRITE_ERRORS},
             summary=gettext_lazy("把民情日记转为事件(来源:网格员巡查)"),
             description=gettext_lazy("一条日记只能转为一个事件;已转过的返回 409 already_reported。"))
def diary_event(request, pk: int, payload: DiaryEventIn):
    entry = selectors.diary_get(viewer=request.user, pk=pk)
    entry, _created = services.diary_to_event(
        actor=request.user, entry=entry, category=payload.category,
        description=payload.description, self_resolve=payload.self_resolve,
        result=payload.result)
    return _saved(request, entry, False)


# --- 入户走访 ------------------------------------------------------------------------------


@router.post("/visits", response={201: VisitOut, 200: VisitOut, **WRITE_ERRORS},
             summary=gettext_lazy("记入户走访(JSON,不带照片)"), description=IDEMPOTENT)
def visit_create(request, payload: VisitIn):
    return _record(request, services.visit_create, payload)


@router.post("/visits/with-photos", response={201: VisitOut, 200: VisitOut, **WRITE_ERRORS},
             summary=gettext_lazy("记入户走访(multipart/form-data;people_met 可重复或逗号分隔)"),
             description=IDEMPOTENT)
def visit_create_with_photos(request, payload: Form[VisitForm],
                             photos: File[list[UploadedFile]] = None):
    return _record(request, services.visit_create, payload, photos)


@router.get("/visits", response={200: VisitPage, **ERRORS},
            summary=gettext_lazy("走访记录(管辖范围内,新的在前)"))
def visit_list(request, filters: Query[VisitFilters]):
    qs = selectors.visit_list(
        viewer=request.user, house=filters.house,
        visitor=request.user if filters.visitor == "me" else None, grid_code=filters.grid,
        start=filters.start, end=filters.end)
    items, meta = paginate(request, qs, filters)
    return {**meta, "items": [visit_out(request, v) for v in items]}


@router.get("/visits/due", response={200: DuePage, **ERRORS},
            summary=gettext_lazy("应走访的户:按走访周期已到期或超期,超期最久的在前"))
def visits_due(request, filters: Query[DueFilters]):
    rows = selectors.households_due(viewer=request.user, grid_code=filters.grid)
    items, meta = paginate(request, rows, filters)
    return {**meta, "items": items}


@router.get("/visits/{int:pk}", response={200: VisitOut, **ERRORS},
            summary=gettext_lazy("一次走访"))
def visit_detail(request, pk: int):
    return visit_out(request, selectors.visit_get(viewer=request.user, pk=pk))


@router.get("/coverage", response={200: CoverageOut, **ERRORS},
            summary=gettext_lazy("各网格走访覆盖率与超期户数"))
def coverage(request, filters: Query[CoverageFilters]):
    return selectors.coverage(viewer=request.user, region_code=filters.region,
                              days=filters.days)


# --- 巡查 ----------------------------------------------------------------------------------


@router.post("/patrols", response={201: PatrolOut, 200: PatrolOut, **WRITE_ERRORS},
             summary=gettext_lazy("开始巡查"), description=IDEMPOTENT)
def patrol_start(request, payload: PatrolStartIn):
    patrol, created = services.patrol_start(
        actor=request.user, client_id=payload.client_id, started_at=payload.started_at,
        lat=payload.lat, lon=payload.lon)
    return _status(created, patrol_out(patrol))


@router.post("/patrols/{uuid:client_id}/points", response={200: PatrolOut, **WRITE_ERRORS},
             summary=gettext_lazy("上传巡查轨迹点(按时间合并,重复的点忽略)"))
def patrol_points(request, client_id: UUID, payload: PointsIn):
    patrol, _created = services.patrol_points(actor=request.user, client_id=client_id,
                                              points=[p.dict() for p in payload.points])
    return patrol_out(patrol)


@router.post("/patrols/{uuid:client_id}/stop", response={200: PatrolOut, **WRITE_ERRORS},
             summary=gettext_lazy("结束巡查(可重复提交)"))
def patrol_stop(request, client_id: UUID, payload: PatrolStopIn | None = None):
    payload = payload or PatrolStopIn()
    patrol, _created = services.patrol_stop(
        actor=request.user, client_id=client_id, ended_at=payload.ended_at,
        note=payload.note, points=[p.dict() for p in payload.points])
    return patrol_out(patrol)


@router.get("/patrols", response={200: PatrolPage, **ERRORS},
            summary=gettext_lazy("巡查记录(管辖范围内,新的在前)"))
def patrol_list(request, filters: Query[PatrolFilters]):
    qs = selectors.patrol_list(viewer=request.user,
                               worker=request.user if filters.worker == "me" else None,
                               grid_code=filters.grid)
    items, meta = paginate(request, qs, filters)
    return {**meta, "items": [patrol_out(p) for p in items]}


@router.get("/patrols/{uuid:client_id}", response={200: PatrolOut, **ERRORS},
            summary=gettext_lazy("一次巡查及其轨迹"))
def patrol_detail(request, client_id: UUID):
    return patrol_out(selectors.patrol_get(viewer=request.user, client_id=client_id))
