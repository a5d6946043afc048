"""Import of organisations (组织): enterprises, shops, social organisations, property
companies, owners' committees and resident units. A row with a unified social credit code
updates the organisation registered under it; one without, the same name in the same grid."""

from __future__ import annotations

from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from gezhi.core.errors import ValidationFailed
from gezhi.core.personal import set_sensitive
from gezhi.core.validators import mask_phone
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
from gezhi.orgs.models import Organisation, OrgKind
from gezhi.orgs.services import clean_organisation
from gezhi.places.models import Estate

COLUMNS = [
    Column("name", "名称", ("组织名称", "单位名称", "企业名称"), required=True, width=24,
           example="善国便利店", note=REQUIRED_NOTE),
    Column("kind", "类型", ("组织类型",), required=True, codes="org_kind", width=12,
           example="个体工商户", note=REQUIRED_NOTE),
    Column("credit_code", "统一社会信用代码", ("信用代码", "社会信用代码"), text=True, width=22,
           example="92370481MA3C4K5L6X",
           note=gettext_lazy("18位,校验位不对会被指出。已登记的代码会更新该组织。")),
    Column("legal_representative", "法定代表人", ("负责人", "法定代表人/负责人", "法人"),
           width=10),
    Column("contact_name", "联系人", width=10),
    Column("contact_phone", "联系电话", ("电话", "手机号"), text=True, width=16,
           example="13806324444"),
    Column("address", "地址", ("经营地址", "住所"), width=24, example="文化路88号"),
    Column("estate", "所在小区", ("小区",), width=14),
    Column("employees", "从业人数", ("职工人数",), width=8),
    Column("industry", "行业", width=12, example="零售业"),
    Column("lon", "经度", width=12, example="117.112"),
    Column("lat", "纬度", width=12, example="35.082",
           note=gettext_lazy("WGS-84 坐标,与经度同时填写;按坐标自动归入网格。")),
    Column("grid", "网格编码", codes="grids", text=True, width=18,
           note=gettext_lazy("有经纬度时可留空。")),
    Column("notes", "备注", width=20),
]

KINDS = choice_map(OrgKind.choices, {"个体户": OrgKind.SHOP, "物业": OrgKind.PROPERTY_COMPANY,
                                     "业主委员会": OrgKind.OWNERS_COMMITTEE})
TEXT_FIELDS = ("legal_representative", "contact_name", "address", "industry", "notes")
LABELS = {c.key: c.header for c in COLUMNS}


class OrgImport(Importer):
    kind = "orgs"
    label = gettext_lazy("组织")
    columns = COLUMNS
    ignored_headers = ("序号", "所属网格")

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self.duplicates = Duplicates()
        self.locate = Locator()
        self.estates: dict[tuple[int, str], Estate | None] = {}

    def _row(self, number: int, raw: dict) -> dict:
        kind = text(raw.get("kind"))
        values = {"name": text(raw.get("name")), "kind": KINDS.get(kind, kind),
                  "credit_code": text(raw.get("credit_code")).upper()}
        for key in TEXT_FIELDS:
            values[key] = text(raw.get(key))
        max_length_check(Organisation, {**values, "name": values["name"]}, LABELS)
        employees = parse_number(raw.get("employees"), "employees", _("从业人数"), integer=True)
        if employees is not None and not 0 <= employees <= 10_000_000:
            raise RowError("employees", _("从业人数应为 0 或正整数。"))
        lat = parse_number(raw.get("lat"), "lat", _("纬度"))
        lon = parse_number(raw.get("lon"), "lon", _("经度"))
        code = text(raw.get("grid"))
        grid = self.grids.resolve(code, "grid") if code else None
        if lat is not None or lon is not None:
            try:
                grid = self.locate(lat=lat, lon=lon, grid=grid)
            except ValidationFailed as exc:
                raise field_error(exc, "lat") from None
        return {"row": number, "values": values, "phone": text(raw.get("contact_phone")),
                "employees": employees, "lat": lat, "lon": lon, "grid": grid,
                "estate": text(raw.get("estate")),
                "given": {k for k in (*TEXT_FIELDS, "employees", "lat", "estate")
                          if text(raw.get(k))}}

    def _estate(self, grid, name: str) -> Estate:
        key = (grid.pk, name)
        if key not in self.estates:
            self.estates[key] = Estate.objects.filter(grid=grid, name=name).first()
        if self.estates[key] is None:
            raise RowError("estate", _("该网格中找不到小区:%(name)s") % {"name": name[:30]})
        return self.estates[key]

    def process(self, rows: list[tuple[int, dict]], *, write: bool) -> None:
        items = []
        for number, raw in rows:
            try:
                items.append(self._row(number, raw))
            except RowError as exc:
                self.problem(number, exc.column, exc.message)
        repeats = self.duplicates.check([
            (i["row"], "code:" + i["values"]["credit_code"] if i["values"]["credit_code"]
             else f"name:{i['values']['name']}|{i['grid'].code if i['grid'] else ''}")
            for i in items])
        codes = {i["values"]["credit_code"] for i in items if i["values"]["credit_code"]}
        by_code = {o.credit_code: o for o in Organisation.objects.filter(
            credit_code__in=codes).select_related("grid")} if codes else {}
        for item in items:
            if item["row"] in repeats:
                column = "credit_code" if item["values"]["credit_code"] else "name"
                self.problem(item["row"], column, _("与第 %(row)d 行是同一组织。")
                             % {"row": repeats[item["row"]]})
                continue
            try:
                self._one(item, by_code, write)
            except RowError as exc:
                self.problem(item["row"], exc.column, exc.message)
            except ValidationFailed as exc:
                self.problem(item["row"], (exc.details or {}).get("field", "name"),
                             exc.message)

    def _one(self, item: dict, by_code: dict, write: bool) -> None:
        values, grid = item["values"], item["grid"]
        org = by_code.get(values["credit_code"]) if values["credit_code"] else None
        if org is None and not values["credit_code"] and grid is not None:
            org = Organisation.objects.filter(grid=grid, name=values["name"],
                                              credit_code="").select_related("grid").first()
        if org is not None and not self.grids.allowed(org.grid):
            raise RowError("credit_code", _("该组织已在您管辖范围以外的网格登记,无法在此更新。"))
        grid = grid or (org.grid if org is not None else self.default_grid)
        if grid is None:
            raise RowError("grid", _("请填写网格编码或经纬度。"))
        self.grids.check(grid, "grid" if item["lat"] is None else "lat")
        cleaned = clean_organisation(**values, contact_phone=item["phone"],
                                     exclude_pk=org.pk if org else None)
        phone = cleaned.pop("contact_phone")
        estate = self._estate(grid, item["estate"]) if item["estate"] else None
        if org is None:
            self.report.created += 1
            if write:
                org = Organisation(grid=grid, lat=item["lat"], lon=item["lon"], estate=estate,
                                   employees=item["employees"], **cleaned)
                set_sensitive(org, "contact_phone", phone, mask=mask_phone)
                org.save()
            return
        changes = {k: v for k, v in cleaned.items()
                   if (k in item["given"] or k in ("name", "kind", "credit_code"))
                   and v != getattr(org, k)}
        if "employees" in item["given"] and item["employees"] != org.employees:
            changes["employees"] = item["employees"]
        if "estate" in item["given"] and estate != org.estate:
            changes["estate"] = estate
        if grid.pk != org.grid_id:
            changes["grid"] = grid
        if item["lat"] is not None and (item["lat"], item["lon"]) != (org.lat, org.lon):
            changes.update(lat=item["lat"], lon=item["lon"])
        phone_changed = bool(phone)
        if phone:
            from gezhi.core.crypto import blind_index

            phone_changed = blind_index(phone, kind="contact_phone") != org.contact_phone_bidx
        if not changes and not phone_changed:
            self.report.unchanged += 1
            return
        self.report.updated += 1
        if not write:
            return
        for name, value in changes.items():
            setattr(org, name, value)
        fields = list(changes)
        if phone_changed:
            set_sensitive(org, "contact_phone", phone, mask=mask_phone)
            fields += ["contact_phone_ct", "contact_phone_bidx", "contact_phone_mask"]
        org.version += 1
        org.save(update_fields=[*fields, "version", "updated_at"])
