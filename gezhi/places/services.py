"""Places writes: estates, buildings, units, houses and components, each bound to the grid
its location falls in (or a grid chosen by hand)."""

from __future__ import annotations

from decimal import Decimal, InvalidOperation

from django.db import transaction
from django.utils.translation import gettext as _

from gezhi.accounts.roles import Perm
from gezhi.accounts.scope import authorize
from gezhi.core.errors import ValidationFailed
from gezhi.core.versioning import save_versioned
from gezhi.places.models import (
    Building,
    Component,
    ComponentClass,
    ComponentState,
    Estate,
    House,
    HouseUsage,
    Unit,
)
from gezhi.regions import selectors as region_selectors
from gezhi.regions.models import Level, Region


def locate(*, lat: float | None, lon: float | None, grid: Region | None) -> Region:
    """The grid a place belongs to: the one its point falls in, or the one chosen by hand
    (which must then contain the point, if a point is given)."""
    if (lat is None) != (lon is None):
        raise ValidationFailed(_("经度和纬度须同时填写。"), details={"field": "lat"})
    found = None
    if lat is not None:
        found = region_selectors.grid_at(lat=lat, lon=lon)
        if found is None and grid is None:
            raise ValidationFailed(_("该位置不在任何网格内,请核对经纬度或手动选择网格。"),
                                   code="outside_grids", details={"field": "lat"})
    if grid is not None:
        if grid.level != Level.GRID:
            raise ValidationFailed(_("请选择网格一级的区划。"), details={"field": "grid"})
        return grid
    if found is None:
        raise ValidationFailed(_("请填写位置或选择所属网格。"), details={"field": "grid"})
    return found


@transaction.atomic
def estate_create(*, actor, name: str, lat=None, lon=None, grid: Region | None = None,
                  street: str = "", address: str = "", property_company=None,
                  built_year: int | None = None, notes: str = "") -> Estate:
    name = (name or "").strip()
    if not name:
        raise ValidationFailed(_("小区名称不能为空。"), details={"field": "name"})
    grid = locate(lat=lat, lon=lon, grid=grid)
    authorize(actor, Perm.BASE_EDIT, grid.path)
    if Estate.objects.filter(grid=grid, name=name).exists():
        raise ValidationFailed(_("该网格已有同名小区。"), details={"field": "name"})
    return Estate.objects.create(name=name, grid=grid, lat=lat, lon=lon, street=street,
                                 address=address, property_company=property_company,
                                 built_year=built_year, notes=notes)


@transaction.atomic
def building_create(*, actor, name: str, estate: Estate | None = None, lat=None, lon=None,
                    grid: Region | None = None, street: str = "", address: str = "",
                    floors: int = 6, units: int = 0, head=None) -> Building:
    name = (name or "").strip()
    if not name:
        raise ValidationFailed(_("楼栋名称不能为空。"), details={"field": "name"})
    if lat is None and estate is not None and grid is None:
        grid = estate.grid
    grid = locate(lat=lat, lon=lon, grid=grid)
    authorize(actor, Perm.BASE_EDIT, grid.path)
    if estate is not None and Building.objects.filter(estate=estate, name=name).exists():
        raise ValidationFailed(_("该小区已有同名楼栋。"), details={"field": "name"})
    if not 1 <= int(floors) <= 200:
        raise ValidationFailed(_("层数应在 1 到 200 之间。"), details={"field": "floors"})
    building = Building.objects.create(name=name, estate=estate, grid=grid, lat=lat, lon=lon,
                                       street=street, address=address, floors=floors,
                                       head=head)
    for i in range(1, units + 1):
        # Unit names are data in the address (1单元), not interface text: never translated.
        Unit.objects.create(building=building, name=f"{i}单元", sort_order=i)
    return building


def unit_ensure(*, building: Building, name: str) -> Unit:
    unit, _created = Unit.objects.get_or_create(
        building=building, name=name,
        defaults={"sort_order": building.units.count() + 1})
    return unit


def _area(value) -> Decimal | None:
    if value in (None, ""):
        return None
    try:
        area = Decimal(str(value)).quantize(Decimal("0.01"))
    except InvalidOperation as exc:
        raise ValidationFailed(_("建筑面积应为数字。"), details={"field": "area_m2"}) from exc
    if not Decimal("1") <= area <= Decimal("100000"):
        raise ValidationFailed(_("建筑面积应在 1 到 100000 平方米之间。"),
                               details={"field": "area_m2"})
    return area


def clean_house(*, number: str, usage: str = HouseUsage.OWNER_OCCUPIED, area_m2=None,
                floor: int | None = None) -> dict:
    """Validate a house's own fields (the rules forms and imports share); the floor defaults
    to the number's leading digits (301 → 3)."""
    number = (number or "").strip()
    if not number:
        raise ValidationFailed(_("户室号不能为空。"), details={"field": "number"})
    if len(number) > 20:
        raise ValidationFailed(_("户室号过长(最多 20 字)。"), details={"field": "number"})
    if usage not in HouseUsage.values:
        raise ValidationFailed(_("房屋用途无效。"), details={"field": "usage"})
    if floor is None:
        floor = int(number[:-2]) if number[:-2].isdigit() else 1
    if not -10 <= floor <= 200:
        raise ValidationFailed(_("楼层应在 -10 到 200 之间。"), details={"field": "floor"})
    return {"number": number, "usage": usage, "area_m2": _area(area_m2), "floor": floor}


@transaction.atomic
def house_create(*, actor, building: Building, number: str, unit: Unit | None = None,
                 floor: int | None = None, usage: str = HouseUsage.OWNER_OCCUPIED,
                 area_m2=None) -> House:
    authorize(actor, Perm.BASE_EDIT, building.grid.path)
    cleaned = clean_house(number=number, usage=usage, area_m2=area_m2, floor=floor)
    if House.objects.filter(building=building, unit=unit, number=cleaned["number"]).exists():
        raise ValidationFailed(_("该楼栋单元已有此户室号。"), details={"field": "number"})
    house = House(building=building, unit=unit, **cleaned, grid_id=building.grid_id,
                  lat=building.lat, lon=building.lon)
    house.address = house.compose_address()
    house.save()
    return house


@transaction.atomic
def house_update(*, actor, house: House, version: int | None, usage: str | None = None,
                 area_m2=..., floor: int | None = None) -> House:
    authorize(actor, Perm.BASE_EDIT, house.grid.path)
    fields = []
    if usage is not None:
        if usage not in HouseUsage.values:
            raise ValidationFailed(_("房屋用途无效。"), details={"field": "usage"})
        house.usage = usage
        fields.append("usage")
    if area_m2 is not ...:
        house.area_m2 = _area(area_m2)
        fields.append("area_m2")
    if floor is not None:
        house.floor = floor
        fields.append("floor")
    save_versioned(house, version=version, fields=fields)
    return house


def clean_component(*, code: str, lat: float | None, lon: float | None,
                    state: str = ComponentState.NORMAL) -> dict:
    """Validate a component's own fields (the rules forms and imports share)."""
    code = (code or "").strip()
    if not code:
        raise ValidationFailed(_("部件编码不能为空。"), details={"field": "code"})
    if len(code) > 32:
        raise ValidationFailed(_("部件编码过长(最多 32 位)。"), details={"field": "code"})
    if lat is None or lon is None:
        raise ValidationFailed(_("部件必须有经纬度。"), details={"field": "lat"})
    if state not in ComponentState.values:
        raise ValidationFailed(_("部件状态无效。"), details={"field": "state"})
    return {"code": code, "lat": lat, "lon": lon, "state": state}


@transaction.atomic
def component_create(*, actor, component_class: ComponentClass, code: str, lat: float,
                     lon: float, grid: Region | None = None, name: str = "",
                     state: str = ComponentState.NORMAL, owner_unit: str = "",
                     address: str = "") -> Component:
    code = clean_component(code=code, lat=lat, lon=lon, state=state)["code"]
    grid = locate(lat=lat, lon=lon, grid=grid)
    authorize(actor, Perm.BASE_EDIT, grid.path)
    if Component.objects.filter(code=code).exists():
        raise ValidationFailed(_("部件编码已存在。"), details={"field": "code"})
    return Component.objects.create(component_class=component_class, code=code, name=name,
                                    grid=grid, lat=lat, lon=lon, state=state,
                                    owner_unit=owner_unit, address=address)
