"""Import of city components (部件: manhole covers, street lights, hydrants, cameras …).
The component code (部件编码) is unique: re-importing a code updates that component."""

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
from gezhi.places.models import Component, ComponentClass, ComponentState
from gezhi.places.services import clean_component

COLUMNS = [
    Column("code", "部件编码", ("编码",), required=True, text=True, width=20,
           example="0117-370481-000123", note=REQUIRED_NOTE),
    Column("component_class", "部件类别", ("类别", "部件类型"), required=True,
           codes="component_class", width=14, example="路灯",
           note=gettext_lazy("必填。填类别名称(如 路灯)或代码(如 0117)。")),
    Column("name", "名称", width=16),
    Column("state", "状态", ("部件状态",), codes="state", width=8, example="完好",
           note=gettext_lazy("留空为完好。")),
    Column("owner_unit", "权属单位", ("管理单位",), width=16, example="滕州市城市管理局"),
    Column("address", "位置描述", ("位置", "地址"), width=24, example="文化路与善国路交叉口东"),
    Column("lon", "经度", required=True, width=12, example="117.1105", note=REQUIRED_NOTE),
    Column("lat", "纬度", required=True, width=12, example="35.0805",
           note=gettext_lazy("必填,WGS-84 坐标;按坐标自动归入网格。")),
    Column("grid", "网格编码", codes="grids", text=True, width=18,
           note=gettext_lazy("可留空,按经纬度确定;填写时以所填网格为准。")),
]

STATES = choice_map(ComponentState.choices, {"正常": ComponentState.NORMAL,
                                             "破损": ComponentState.DAMAGED,
                                             "缺失": ComponentState.LOST})
FIELDS = ["component_class_id", "name", "state", "owner_unit", "address", "grid_id", "lat",
          "lon"]
LABELS = {c.key: c.header for c in COLUMNS}


class ComponentImport(Importer):
    kind = "components"
    label = gettext_lazy("部件")
    columns = COLUMNS
    ignored_headers = ("序号", "所属网格", "大类")

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self.duplicates = Duplicates()
        self.locate = Locator()
        self.classes = {}
        for cls in ComponentClass.objects.all():
            self.classes[cls.code] = cls
            self.classes[cls.name] = cls

    def _row(self, number: int, raw: dict) -> dict:
        state = text(raw.get("state"))
        lat = parse_number(raw.get("lat"), "lat", _("纬度"))
        lon = parse_number(raw.get("lon"), "lon", _("经度"))
        try:
            cleaned = clean_component(code=text(raw.get("code")), lat=lat, lon=lon,
                                      state=STATES.get(state, state or ComponentState.NORMAL))
        except ValidationFailed as exc:
            raise field_error(exc, "code") from None
        class_name = text(raw.get("component_class"))
        component_class = self.classes.get(class_name)
        if component_class is None:
            raise RowError("component_class", _("未知的部件类别:%(name)s") % {"name": class_name[:20]})
        values = {k: text(raw.get(k)) for k in ("name", "owner_unit", "address")}
        max_length_check(Component, values, LABELS)
        code = text(raw.get("grid"))
        grid = self.grids.resolve(code, "grid") if code else None
        try:
            grid = self.locate(lat=lat, lon=lon, grid=grid)
        except ValidationFailed as exc:
            raise field_error(exc, "lat") from None
        self.grids.check(grid, "grid" if code else "lat")
        return {"row": number, "code": cleaned["code"], "values": {
            "component_class_id": component_class.pk, **values, "state": cleaned["state"],
            "grid_id": grid.pk, "lat": lat, "lon": lon},
            "given": {k for k in ("name", "owner_unit", "address", "state") if text(raw.get(k))}}

    def process(self, rows: list[tuple[int, dict]], *, write: bool) -> None:
        items = []
        for number, raw in rows:
            try:
                items.append(self._row(number, raw))
            except RowError as exc:
                self.problem(number, exc.column, exc.message)
        repeats = self.duplicates.check([(i["row"], i["code"]) for i in items])
        existing = {c.code: c for c in Component.objects.filter(
            code__in=[i["code"] for i in items]).select_related("grid")}
        now = timezone.now()
        creates, updates = [], []
        for item in items:
            if item["row"] in repeats:
                self.problem(item["row"], "code", _("与第 %(row)d 行的部件编码重复。")
                             % {"row": repeats[item["row"]]})
                continue
            found = existing.get(item["code"])
            values = item["values"]
            if found is None:
                self.report.created += 1
                creates.append((item["code"], *(values[k] for k in FIELDS), now, now, 1))
                continue
            if not self.grids.allowed(found.grid):
                self.problem(item["row"], "code", _("该部件编码已在您管辖范围以外的网格登记,无法在此更新。"))
                continue
            merged = {k: values[k] if k in item["given"] or k not in ("name", "owner_unit",
                                                                     "address", "state")
                      else getattr(found, k) for k in FIELDS}
            if all(merged[k] == getattr(found, k) for k in FIELDS):
                self.report.unchanged += 1
                continue
            self.report.updated += 1
            updates.append((found.pk, *(merged[k] for k in FIELDS), now, found.version + 1))
        if write:
            bulk.insert(Component, ["code", *FIELDS, "created_at", "updated_at", "version"],
                        creates)
            bulk.update(Component, [*FIELDS, "updated_at", "version"], updates, versioned=True)
