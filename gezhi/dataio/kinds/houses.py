"""Import of houses (房屋), creating the estates, buildings and units they need.

Address levels: 街巷 → 小区 → 楼栋 → 单元 → 户室号. A house's grid is its building's; a new
building's grid comes from the row's 网格编码, or from its coordinates (经纬度), or from the
import's default grid. Re-importing a house updates its usage, area and floor.
"""

from __future__ import annotations

from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from gezhi.core.errors import ValidationFailed
from gezhi.dataio import bulk
from gezhi.dataio.kinds.base import (
    REQUIRED_NOTE,
    Column,
    Duplicates,
    Importer,
    Locator,
    RowError,
    choice_map,
    field_error,
    max_length_check,
    parse_number,
    text,
)
from gezhi.places.models import Building, Estate, House, HouseUsage, Unit
from gezhi.places.services import building_create, clean_house, estate_create, unit_ensure

COLUMNS = [
    Column("street", "街巷", ("街路巷", "道路"), width=12, example="文化路"),
    Column("estate", "小区", ("小区名称", "院落"), width=16, example="善国盛景小区",
           note=gettext_lazy("没有小区的散居楼可留空。系统中没有的小区、楼栋、单元会自动建立。")),
    Column("building", "楼栋", ("楼号", "楼栋号"), required=True, width=10, example="1号楼",
           note=REQUIRED_NOTE),
    Column("unit", "单元", width=8, example="1单元"),
    Column("number", "户室号", ("房号", "户室", "门牌号"), required=True, text=True, width=10,
           example="301", note=REQUIRED_NOTE),
    Column("floor", "楼层", width=8, example="3",
           note=gettext_lazy("可留空,按户室号推算(301 为 3 层)。")),
    Column("usage", "房屋用途", ("用途",), codes="usage", width=10, example="自住",
           note=gettext_lazy("留空为自住。")),
    Column("area_m2", "建筑面积", ("面积", "建筑面积平方米"), width=10, example="88.5",
           note=gettext_lazy("单位:平方米。")),
    Column("lon", "经度", width=12, example="117.1112",
           note=gettext_lazy("WGS-84 坐标,与纬度同时填写;新楼栋按坐标自动归入网格。")),
    Column("lat", "纬度", width=12, example="35.0811"),
    Column("grid", "网格编码", codes="grids", text=True, width=18, example="370481001001001",
           note=gettext_lazy("有经纬度或楼栋已在系统中时可留空。")),
]

LABELS = {"lat": gettext_lazy("纬度"), "lon": gettext_lazy("经度"), "floor": gettext_lazy("楼层"),
          "building": gettext_lazy("楼栋"), "street": gettext_lazy("街巷"),
          "estate": gettext_lazy("小区"), "unit": gettext_lazy("单元")}
USAGES = choice_map(HouseUsage.choices, {"自用": HouseUsage.OWNER_OCCUPIED,
                                         "租赁": HouseUsage.RENTED, "闲置": HouseUsage.VACANT,
                                         "商铺": HouseUsage.COMMERCIAL})
HOUSE_FIELDS = ["building_id", "unit_id", "floor", "number", "usage", "area_m2", "address",
                "grid_id", "lat", "lon", "updated_at", "created_at", "version"]
UPDATE_FIELDS = ["floor", "usage", "area_m2", "updated_at", "version"]


def _variants(value: str, suffix: str) -> tuple[str, ...]:
    return (value + suffix, value) if value.isdigit() else (value,)


class HouseImport(Importer):
    kind = "houses"
    label = gettext_lazy("房屋")
    columns = COLUMNS
    ignored_headers = ("序号", "地址", "房屋地址", "所属网格", "现住人数")

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self.duplicates = Duplicates()
        self.locate = Locator()
        self.estates: dict[tuple, Estate | None] = {}
        self.buildings: dict[tuple, Building | None] = {}
        self.units: dict[tuple, Unit] = {}
        self.loaded: set = set()  # estates, streets and buildings whose children are cached
        self.top_floor: dict[int, int] = {}  # building pk → highest floor imported

    def _clean(self, number: int, raw: dict) -> dict:
        row = {k: text(raw.get(k)) for k in ("street", "estate", "building", "unit", "number")}
        usage = text(raw.get("usage"))
        lat = parse_number(raw.get("lat"), "lat", LABELS["lat"])
        lon = parse_number(raw.get("lon"), "lon", LABELS["lon"])
        floor = parse_number(raw.get("floor"), "floor", LABELS["floor"], integer=True)
        try:
            cleaned = clean_house(number=row["number"], usage=USAGES.get(usage, usage or
                                                                         HouseUsage.OWNER_OCCUPIED),
                                  area_m2=raw.get("area_m2"), floor=floor)
        except ValidationFailed as exc:
            raise field_error(exc, "number") from None
        if not row["building"]:
            raise RowError("building", _("楼栋不能为空。"))
        max_length_check(Building, {"name": row["building"], "street": row["street"]},
                         {"name": LABELS["building"], "street": LABELS["street"]})
        max_length_check(Estate, {"name": row["estate"]}, {"name": LABELS["estate"]})
        max_length_check(Unit, {"name": row["unit"]}, {"name": LABELS["unit"]})
        grid = None
        code = text(raw.get("grid"))
        if code:
            grid = self.grids.resolve(code, "grid")
        if lat is not None or lon is not None or grid is None:
            if lat is not None or lon is not None:
                try:
                    grid = self.locate(lat=lat, lon=lon, grid=grid)
                except ValidationFailed as exc:
                    raise field_error(exc, "lat") from None
                self.grids.check(grid, "lat")
        return {"row": number, **row, "cleaned": cleaned, "given": {
            k for k in ("usage", "area_m2", "floor") if text(raw.get(k))},
            "lat": lat, "lon": lon, "grid": grid, "grid_given": bool(code)}

    def _estate(self, item: dict, grid) -> Estate | None:
        name = item["estate"]
        if not name:
            return None
        key = (grid.pk, name)
        if key not in self.estates:
            found = Estate.objects.filter(grid=grid, name=name).select_related("grid").first()
            if found is None and not item["grid_given"]:
                # An estate across two grids of one community is one estate.
                found = (Estate.objects.filter(name=name, grid__parent_id=grid.parent_id)
                         .select_related("grid").first())
            self.estates[key] = found
        return self.estates[key]

    def _existing_building(self, item: dict) -> Building | None:
        """A building named by the row without any grid: found if unique in the scope."""
        key = ("named", item["estate"], item["street"] if not item["estate"] else "",
               item["building"])
        if key not in self.buildings:
            qs = Building.objects.filter(name__in=_variants(item["building"], "号楼"))
            qs = qs.filter(estate__name=item["estate"]) if item["estate"] else qs.filter(
                estate__isnull=True, street=item["street"])
            found = [b for b in qs.select_related("grid", "estate")
                     if self.grids.allowed(b.grid)]
            self.buildings[key] = found[0] if len(found) == 1 else (None if not found else "")
        if self.buildings[key] == "":
            raise RowError("grid", _("系统中有多个同名楼栋,请填写网格编码或经纬度以区分。"))
        return self.buildings[key]

    def _building(self, item: dict, write: bool) -> Building:
        grid = item["grid"]
        if grid is None:
            building = self._existing_building(item)
            if building is not None:
                return building
            if self.default_grid is None:
                raise RowError("grid", _("请填写网格编码或经纬度。"))
            grid = self.default_grid
        estate = self._estate(item, grid)
        if estate is None and item["estate"]:
            estate = Estate(name=item["estate"], grid=grid, lat=item["lat"], lon=item["lon"],
                            street=item["street"])
            if write:
                estate = estate_create(actor=None, name=estate.name, grid=grid,
                                       lat=estate.lat, lon=estate.lon, street=estate.street)
            self.estates[(grid.pk, item["estate"])] = estate
        names = _variants(item["building"], "号楼")
        keys = [(("estate", item["estate"], estate.grid_id) if estate else
                 ("grid", grid.pk, item["street"]), name) for name in names]
        scope = keys[0][0]
        if scope not in self.loaded:
            # Every building of the estate (or of the street) at once: one query, not one a row.
            self.loaded.add(scope)
            qs = (Building.objects.filter(estate=estate) if estate is not None and estate.pk
                  else Building.objects.none() if estate is not None
                  else Building.objects.filter(estate__isnull=True, grid=grid,
                                               street=item["street"]))
            for found in qs.select_related("grid", "estate"):
                self.buildings[(scope, found.name)] = found
        for key in keys:
            if self.buildings.get(key) is not None:
                building = self.buildings[key]
                break
        else:
            key = keys[-1]
            building = Building(name=item["building"], estate=estate, grid=grid,
                                lat=item["lat"], lon=item["lon"], street=item["street"],
                                floors=max(item["cleaned"]["floor"], 1))
            if write:
                building = building_create(actor=None, name=building.name, estate=estate,
                                           grid=grid, lat=building.lat, lon=building.lon,
                                           street=building.street, floors=building.floors)
            self.buildings[key] = building
        named = ("named", item["estate"], item["street"] if not item["estate"] else "",
                 item["building"])
        self.buildings.setdefault(named, building)
        if item["grid_given"] and building.grid_id != item["grid"].pk:
            raise RowError("grid", _("该楼栋属于网格 %(code)s,与填写的网格编码不一致。")
                           % {"code": building.grid.code})
        self.grids.check(building.grid, "building")
        return building

    def _unit(self, building: Building, name: str, write: bool) -> Unit | None:
        if not name:
            return None
        if building.pk is None:  # a building this dry run would create
            return Unit(building=building, name=name)
        if ("units", building.pk) not in self.loaded:
            self.loaded.add(("units", building.pk))
            for found in Unit.objects.filter(building=building):
                self.units[(building.pk, found.name)] = found
        for candidate in _variants(name, "单元"):
            if (building.pk, candidate) in self.units:
                return self.units[(building.pk, candidate)]
        unit = unit_ensure(building=building, name=name) if write else Unit(
            building=building, name=name)
        if write:
            self.units[(building.pk, name)] = unit
        return unit

    def process(self, rows: list[tuple[int, dict]], *, write: bool) -> None:
        items = []
        for number, raw in rows:
            try:
                items.append(self._clean(number, raw))
            except RowError as exc:
                self.problem(number, exc.column, exc.message)
        repeats = self.duplicates.check([
            (i["row"], "|".join([i["estate"], i["street"] if not i["estate"] else "",
                                 i["building"], i["unit"], i["cleaned"]["number"],
                                 i["grid"].code if i["grid"] else ""])) for i in items])
        placed = []
        for item in items:
            if item["row"] in repeats:
                self.problem(item["row"], "number", _("与第 %(row)d 行是同一房屋。")
                             % {"row": repeats[item["row"]]})
                continue
            try:
                building = self._building(item, write)
                unit = self._unit(building, item["unit"], write)
            except RowError as exc:
                self.problem(item["row"], exc.column, exc.message)
                continue
            except ValidationFailed as exc:
                self.problem(item["row"], "building", exc.message)
                continue
            placed.append((item, building, unit))
        existing = {}
        saved = [(b.pk, u.pk if u else None) for _i, b, u in placed if b.pk]
        if saved:
            for house in House.objects.filter(
                    building_id__in={b for b, _u in saved},
                    number__in={i["cleaned"]["number"] for i, _b, _u in placed}):
                existing[(house.building_id, house.unit_id, house.number)] = house
        now = timezone.now()
        creates, updates = [], []
        for item, building, unit in placed:
            cleaned = item["cleaned"]
            key = (building.pk, unit.pk if unit else None, cleaned["number"])
            house = existing.get(key) if building.pk else None
            if house is None:
                self.report.created += 1
                new = House(building=building, unit=unit, **cleaned, grid_id=building.grid_id)
                creates.append((building.pk, unit.pk if unit else None, cleaned["floor"],
                                cleaned["number"], cleaned["usage"], cleaned["area_m2"],
                                new.compose_address(), building.grid_id,
                                item["lat"] if item["lat"] is not None else building.lat,
                                item["lon"] if item["lon"] is not None else building.lon,
                                now, now, 1))
            else:
                values = {k: cleaned[k] if k in item["given"] else getattr(house, k)
                          for k in ("floor", "usage", "area_m2")}
                if all(values[k] == getattr(house, k) for k in values):
                    self.report.unchanged += 1
                    continue
                self.report.updated += 1
                updates.append((house.pk, values["floor"], values["usage"], values["area_m2"],
                                now, house.version + 1))
            if building.pk:
                self.top_floor[building.pk] = max(self.top_floor.get(building.pk, 0),
                                                  cleaned["floor"])
        if not write:
            return
        bulk.insert(House, HOUSE_FIELDS, creates)
        bulk.update(House, UPDATE_FIELDS, updates, versioned=True)
        for pk, floor in self.top_floor.items():
            Building.objects.filter(pk=pk, floors__lt=floor).update(floors=floor)
        self.top_floor.clear()
