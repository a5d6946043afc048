"""/api/v1/ estates, buildings (with the 楼栋图 cells), houses (with residents now and before)
and components, all within the viewer's scope.

Reads go through gezhi.places.selectors (Perm.BASE_VIEW, `visible_to`); writes through
gezhi.places.services, which check Perm.BASE_EDIT over the grid. Outside the viewer's scope an
object is a 404 "not_found"; inside it, a missing right is a 403 "permission_denied".
"""

from __future__ import annotations

from datetime import date

from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from ninja import Field, Query, Router, Schema, Status

from gezhi.accounts.roles import Perm
from gezhi.accounts.scope import has_perm
from gezhi.core.errors import NotFound, ValidationFailed
from gezhi.core.pagination import PageMeta, PageParams, paginate
from gezhi.core.schemas import ErrorOut
from gezhi.orgs.selectors import organisation_get
from gezhi.places import selectors, services
from gezhi.places.models import Building, Component, ComponentClass, Estate, House
from gezhi.regions.models import Region
from gezhi.regions.selectors import in_subtree_of

router = Router()

ERRORS = {401: ErrorOut, 404: ErrorOut, 422: ErrorOut}
WRITE_ERRORS = {**ERRORS, 403: ErrorOut}


# --- Shared with the people and organisation routers ------------------------------------------


def grid_for_write(code: str | None) -> Region | None:
    """The region a write names by code. An unknown code is a 404 exactly like a grid outside
    the actor's scope (which the service refuses), so the answer tells nothing either way."""
    if not code:
        return None
    region = Region.objects.filter(code=code).first()
    if region is None:
        raise NotFound()
    return region


def client_ip(request) -> str | None:
    return request.META.get("REMOTE_ADDR") or None


class GridRef(Schema):
    code: str
    name: str


def grid_ref(region: Region) -> dict:
    return {"code": region.code, "name": region.name}


class LocatedIn(Schema):
    lat: float | None = Field(None, ge=-90, le=90, description="纬度 (WGS-84)")
    lon: float | None = Field(None, ge=-180, le=180, description="经度 (WGS-84)")
    grid: str = Field("", max_length=24,
                      description="所属网格代码;不填则按经纬度自动确定所在网格")


# --- Schemas -------------------------------------------------------------------------------


class OrgRef(Schema):
    id: int
    name: str


class EstateOut(Schema):
    id: int
    name: str
    street: str
    address: str
    grid: GridRef
    lat: float | None
    lon: float | None
    property_company: OrgRef | None
    built_year: int | None
    notes: str
    building_count: int
    version: int


class EstatePage(PageMeta):
    items: list[EstateOut]


class EstateIn(LocatedIn):
    name: str = Field(max_length=100)
    street: str = Field("", max_length=100)
    address: str = Field("", max_length=200)
    property_company_id: int | None = Field(None, description="物业公司(组织编号)")
    built_year: int | None = Field(None, ge=1800, le=2100)
    notes: str = Field("", max_length=2000)


class BuildingOut(Schema):
    id: int
    name: str
    estate_id: int | None
    estate_name: str
    street: str
    address: str
    floors: int
    grid: GridRef
    lat: float | None
    lon: float | None
    head_name: str = Field(description="楼栋长;未设为空")
    house_count: int
    version: int


class BuildingPage(PageMeta):
    items: list[BuildingOut]


class BuildingIn(LocatedIn):
    name: str = Field(max_length=50)
    estate_id: int | None = None
    street: str = Field("", max_length=100)
    address: str = Field("", max_length=200)
    floors: int = Field(6, ge=1, le=200)
    units: int = Field(0, ge=0, le=50, description="新建的单元数")


class TagMark(Schema):
    code: str
    name: str
    colour: str


class ResidentRef(Schema):
    id: int
    name: str


class CellOut(Schema):
    house_id: int
    number: str
    unit_id: int | None
    usage: str
    usage_label: str
    residents: list[ResidentRef]
    tags: list[TagMark] = Field(description="住户的标签(仅限有权查看的标签)")


class FloorOut(Schema):
    floor: int
    cells: list[CellOut]


class UnitOut(Schema):
    id: int
    name: str


class CellsOut(Schema):
    building_id: int
    name: str
    units: list[UnitOut]
    rows: list[FloorOut] = Field(description="楼层从高到低")


class HouseOut(Schema):
    id: int
    address: str
    building_id: int
    building_name: str
    estate_name: str
    unit_id: int | None
    unit_name: str
    floor: int
    number: str
    usage: str
    usage_label: str
    area_m2: float | None
    grid: GridRef
    version: int


class HousePage(PageMeta):
    items: list[HouseOut]


class HouseResidentOut(Schema):
    residence_id: int
    person_id: int
    name: str
    kind: str
    kind_label: str
    relation: str
    relation_label: str
    moved_in: date | None
    moved_out: date | None
    tags: list[TagMark]


class HouseDetailOut(HouseOut):
    residents: list[HouseResidentOut] = Field(description="现住户")
    former_residents: list[HouseResidentOut] = Field(description="曾住户(已迁出)")


class HouseIn(Schema):
    building_id: int
    unit_id: int | None = Field(None, description="该楼栋的单元编号")
    number: str = Field(max_length=20)
    floor: int | None = Field(None, ge=-10, le=200, description="不填则按户室号推断(301 → 3 层)")
    usage: str = "owner_occupied"
    area_m2: float | None = None


class HousePatch(Schema):
    version: int = Field(description="开始编辑时的版本号;已被他人修改时返回 409 conflict")
    usage: str | None = Field(None, description="不填或 null 为不修改")
    area_m2: float | None = Field(None, description="null 为清空")
    floor: int | None = Field(None, ge=-10, le=200, description="不填或 null 为不修改")


class ComponentClassOut(Schema):
    code: str
    name: str
    major: str


class ComponentOut(Schema):
    id: int
    code: str
    name: str
    component_class: ComponentClassOut
    state: str
    state_label: str
    owner_unit: str
    address: str
    grid: GridRef
    lat: float | None
    lon: float | None
    version: int


class ComponentPage(PageMeta):
    items: list[ComponentOut]


class ComponentClassPage(PageMeta):
    items: list[ComponentClassOut]


class ComponentIn(LocatedIn):
    component_class: str = Field(max_length=8, description="部件类别代码,如 0117(路灯)")
    code: str = Field(max_length=32)
    name: str = Field("", max_length=100)
    state: str = "normal"
    owner_unit: str = Field("", max_length=100)
    address: str = Field("", max_length=200)


class PlaceFilters(PageParams):
    grid: str = Field("", description="只列出该代码节点(网格、社区等)之下的对象")
    q: str = Field("", max_length=100)


class BuildingFilters(PlaceFilters):
    estate: int | None = None


class HouseFilters(PlaceFilters):
    building: int | None = None
    usage: str = ""


class ComponentFilters(PlaceFilters):
    state: str = ""
    component_class: str = ""


# --- Shaping -------------------------------------------------------------------------------


def _estate(e: Estate, building_count: int) -> dict:
    company = e.property_company
    return {"id": e.id, "name": e.name, "street": e.street, "address": e.address,
            "grid": grid_ref(e.grid), "lat": e.lat, "lon": e.lon,
            "property_company": {"id": company.id, "name": company.name} if company else None,
            "built_year": e.built_year, "notes": e.notes, "building_count": building_count,
            "version": e.version}


def _building(b: Building, house_count: int) -> dict:
    return {"id": b.id, "name": b.name, "estate_id": b.estate_id,
            "estate_name": b.estate.name if b.estate_id else "", "street": b.street,
            "address": b.address, "floors": b.floors, "grid": grid_ref(b.grid), "lat": b.lat,
            "lon": b.lon, "head_name": b.head.name if b.head_id else "",
            "house_count": house_count, "version": b.version}


def _house(h: House) -> dict:
    building = h.building
    return {"id": h.id, "address": h.address, "building_id": h.building_id,
            "building_name": building.name,
            "estate_name": building.estate.name if building.estate_id else "",
            "unit_id": h.unit_id, "unit_name": h.unit.name if h.unit_id else "",
            "floor": h.floor, "number": h.number, "usage": h.usage,
            "usage_label": h.get_usage_display(),
            "area_m2": float(h.area_m2) if h.area_m2 is not None else None,
            "grid": grid_ref(h.grid), "version": h.version}


def tag_marks(person_tags) -> list[dict]:
    return [{"code": t.tag.code, "name": t.tag.name, "colour": t.tag.colour}
            for t in person_tags]


def _resident(link, tags) -> dict:
    return {"residence_id": link.id, "person_id": link.person_id, "name": link.person.name,
            "kind": link.kind, "kind_label": link.get_kind_display(), "relation": link.relation,
            "relation_label": link.get_relation_display(), "moved_in": link.moved_in,
            "moved_out": link.moved_out, "tags": tag_marks(tags.get(link.person_id, []))}


def _component(c: Component) -> dict:
    cls = c.component_class
    return {"id": c.id, "code": c.code, "name": c.name,
            "component_class": {"code": cls.code, "name": cls.name, "major": cls.major},
            "state": c.state, "state_label": c.get_state_display(), "owner_unit": c.owner_unit,
            "address": c.address, "grid": grid_ref(c.grid), "lat": c.lat, "lon": c.lon,
            "version": c.version}


def _located(payload: LocatedIn) -> dict:
    return {"lat": payload.lat, "lon": payload.lon, "grid": grid_for_write(payload.grid)}


def _narrow(qs, code: str):
    # The node narrows a list that is scoped already; an unknown code gives an empty list.
    return in_subtree_of(qs, code, "grid__path") if code else qs


# --- Estates -------------------------------------------------------------------------------


@router.get("/estates", response={200: EstatePage, **ERRORS}, tags=["places"],
            summary=gettext_lazy("小区列表"))
def estate_list(request, filters: Query[PlaceFilters]):
    qs = _narrow(selectors.estate_list(viewer=request.user, q=filters.q.strip()), filters.grid)
    items, meta = paginate(request, qs, filters)
    return {**meta, "items": [_estate(e, e.building_count) for e in items]}


@router.post("/estates", response={201: EstateOut, **WRITE_ERRORS}, tags=["places"],
             summary=gettext_lazy("新建小区"))
def estate_create(request, payload: EstateIn):
    company = None
    if payload.property_company_id is not None:
        company = organisation_get(viewer=request.user, pk=payload.property_company_id)
    estate = services.estate_create(
        actor=request.user, name=payload.name, **_located(payload), street=payload.street,
        address=payload.address, property_company=company, built_year=payload.built_year,
        notes=payload.notes)
    return Status(201, _estate(estate, 0))


@router.get("/estates/{estate_id}", response={200: EstateOut, **ERRORS}, tags=["places"],
            summary=gettext_lazy("小区详情"))
def estate_detail(request, estate_id: int):
    estate = selectors.estate_get(viewer=request.user, pk=estate_id)
    return _estate(estate, estate.buildings.count())


# --- Buildings -----------------------------------------------------------------------------


@router.get("/buildings", response={200: BuildingPage, **ERRORS}, tags=["places"],
            summary=gettext_lazy("楼栋列表"))
def building_list(request, filters: Query[BuildingFilters]):
    qs = selectors.building_list(viewer=request.user, q=filters.q.strip())
    if filters.estate is not None:
        qs = qs.filter(estate_id=filters.estate)
    items, meta = paginate(request, _narrow(qs, filters.grid), filters)
    return {**meta, "items": [_building(b, b.house_count) for b in items]}


@router.post("/buildings", response={201: BuildingOut, **WRITE_ERRORS}, tags=["places"],
             summary=gettext_lazy("新建楼栋"))
def building_create(request, payload: BuildingIn):
    estate = None
    if payload.estate_id is not None:
        estate = selectors.estate_get(viewer=request.user, pk=payload.estate_id)
    building = services.building_create(
        actor=request.user, name=payload.name, estate=estate, **_located(payload),
        street=payload.street, address=payload.address, floors=payload.floors,
        units=payload.units)
    return Status(201, _building(building, 0))


@router.get("/buildings/{building_id}", response={200: BuildingOut, **ERRORS}, tags=["places"],
            summary=gettext_lazy("楼栋详情"))
def building_detail(request, building_id: int):
    building = selectors.building_get(viewer=request.user, pk=building_id)
    return _building(building, building.houses.count())


@router.get("/buildings/{building_id}/cells", response={200: CellsOut, **ERRORS},
            tags=["places"], summary=gettext_lazy("楼栋图:按楼层和单元排列的房屋及住户标签"))
def building_cells(request, building_id: int):
    building = selectors.building_get(viewer=request.user, pk=building_id)
    cells = selectors.building_cells(viewer=request.user, building=building)
    return {"building_id": building.id, "name": str(building),
            "units": [{"id": u.id, "name": u.name} for u in cells["units"]],
            "rows": [{"floor": row["floor"], "cells": [
                {"house_id": c["house"].id, "number": c["house"].number,
                 "unit_id": c["house"].unit_id, "usage": c["house"].usage,
                 "usage_label": c["house"].get_usage_display(),
                 "residents": [{"id": p.id, "name": p.name} for p in c["residents"]],
                 "tags": [{"code": t.code, "name": t.name, "colour": t.colour}
                          for t in c["tags"]]}
                for c in row["cells"]]} for row in cells["rows"]]}


# --- Houses --------------------------------------------------------------------------------


@router.get("/houses", response={200: HousePage, **ERRORS}, tags=["places"],
            summary=gettext_lazy("房屋列表"))
def house_list(request, filters: Query[HouseFilters]):
    qs = selectors.house_list(viewer=request.user, usage=filters.usage, q=filters.q.strip())
    if filters.building is not None:
        qs = qs.filter(building_id=filters.building)
    items, meta = paginate(request, _narrow(qs, filters.grid), filters)
    return {**meta, "items": [_house(h) for h in items]}


@router.post("/houses", response={201: HouseOut, **WRITE_ERRORS}, tags=["places"],
             summary=gettext_lazy("新建房屋"))
def house_create(request, payload: HouseIn):
    building = selectors.building_get(viewer=request.user, pk=payload.building_id)
    unit = None
    if payload.unit_id is not None:
        unit = building.units.filter(pk=payload.unit_id).first()
        if unit is None:
            raise ValidationFailed(_("该楼栋没有这个单元。"), details={"field": "unit_id"})
    house = services.house_create(actor=request.user, building=building, unit=unit,
                                  number=payload.number, floor=payload.floor,
                                  usage=payload.usage, area_m2=payload.area_m2)
    return Status(201, _house(selectors.house_get(viewer=request.user, pk=house.pk)))


def _house_detail(request, house: House) -> dict:
    residents = selectors.house_residents(viewer=request.user, house=house)
    tags = residents["tags"]
    return {**_house(house), "residents": [_resident(r, tags) for r in residents["current"]],
            "former_residents": [_resident(r, tags) for r in residents["former"]]}


@router.get("/houses/{house_id}", response={200: HouseDetailOut, **ERRORS}, tags=["places"],
            summary=gettext_lazy("房屋详情,含现住户与曾住户"))
def house_detail(request, house_id: int):
    return _house_detail(request, selectors.house_get(viewer=request.user, pk=house_id))


@router.patch("/houses/{house_id}", response={200: HouseDetailOut, 409: ErrorOut,
                                              **WRITE_ERRORS},
              tags=["places"], summary=gettext_lazy("修改房屋(用途、面积、楼层)"),
              description=gettext_lazy("须带上开始编辑时的 version;记录已被他人修改时返回 409 conflict,"
                                       "修改不会保存。"))
def house_patch(request, house_id: int, payload: HousePatch):
    house = selectors.house_get(viewer=request.user, pk=house_id)
    # Fields left out are left alone; area_m2 null clears the area.
    changes = payload.dict(exclude_unset=True)
    version = changes.pop("version")
    services.house_update(actor=request.user, house=house, version=version, **changes)
    return _house_detail(request, house)


# --- Components ----------------------------------------------------------------------------


@router.get("/component-classes", response={200: ComponentClassPage, **ERRORS},
            tags=["places"], summary=gettext_lazy("部件类别代码表"))
def component_class_list(request, page: Query[PageParams]):
    qs = (ComponentClass.objects.order_by("code") if has_perm(request.user, Perm.BASE_VIEW)
          else ComponentClass.objects.none())
    items, meta = paginate(request, qs, page)
    return {**meta, "items": [{"code": c.code, "name": c.name, "major": c.major} for c in items]}


@router.get("/components", response={200: ComponentPage, **ERRORS}, tags=["places"],
            summary=gettext_lazy("部件列表"))
def component_list(request, filters: Query[ComponentFilters]):
    qs = selectors.component_list(viewer=request.user, state=filters.state,
                                  component_class=filters.component_class, q=filters.q.strip())
    items, meta = paginate(request, _narrow(qs, filters.grid), filters)
    return {**meta, "items": [_component(c) for c in items]}


@router.post("/components", response={201: ComponentOut, **WRITE_ERRORS}, tags=["places"],
             summary=gettext_lazy("新建部件"))
def component_create(request, payload: ComponentIn):
    component_class = ComponentClass.objects.filter(code=payload.component_class).first()
    if component_class is None:
        raise ValidationFailed(_("部件类别代码无效:%(code)s") % {"code": payload.component_class},
                               details={"field": "component_class"})
    component = services.component_create(
        actor=request.user, component_class=component_class, code=payload.code,
        **_located(payload), name=payload.name, state=payload.state,
        owner_unit=payload.owner_unit, address=payload.address)
    return Status(201, _component(component))


@router.get("/components/{component_id}", response={200: ComponentOut, **ERRORS},
            tags=["places"], summary=gettext_lazy("部件详情"))
def component_detail(request, component_id: int):
    return _component(selectors.component_get(viewer=request.user, pk=component_id))
