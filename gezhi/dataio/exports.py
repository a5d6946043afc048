"""Export of the base-data lists to xlsx, within the viewer's scope, masked, and logged.

The filters are those of the console's list pages (q, grid, tag, residence_type, usage, kind,
state, component_class), and the rows come from the same selectors, so an export holds what
the list showed. Rows are limited to where the viewer holds Perm.BASE_EXPORT; ID and phone
numbers are masked unless the viewer asks for plaintext (明文导出) with a reason, and then
only where they hold Perm.REVEAL. Special-group tags appear only where they hold
Perm.SPECIAL_VIEW. Every export writes an access-log entry: who, what, which filters, how many.
The headers are the import template's, so a plaintext export can be edited and imported back.
"""

from __future__ import annotations

import tempfile
from collections.abc import Iterator
from dataclasses import dataclass, field
from itertools import islice

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.styles import Font, PatternFill

from gezhi.accounts.models import AccessAction, AccessLog
from gezhi.accounts.roles import Perm
from gezhi.accounts.scope import has_perm, scope_for
from gezhi.core.errors import NotFound, PermissionDenied, ValidationFailed
from gezhi.core.personal import get_sensitive
from gezhi.dataio.models import ImportKind
from gezhi.people.codes import ETHNICITY_NAMES, ResidenceKind, ResidenceType
from gezhi.people.models import PersonTag, Residence, Tag
from gezhi.places.models import ComponentState, HouseUsage
from gezhi.regions.models import Region

CHUNK = 2000
CONSOLE_MAX_ROWS = 100_000  # a larger export is a command-line job (gezhi export)


@dataclass
class Export:
    kind: str
    filters: dict = field(default_factory=dict)  # as given, for the log and the file
    rows: int = 0
    plaintext: bool = False
    path: str = ""
    file_name: str = ""


def _region(viewer, code: str) -> Region:
    qs = Region.objects.filter(code=code)
    if viewer is not None:
        from gezhi.accounts.scope import visible_to

        qs = visible_to(qs, viewer, Perm.BASE_VIEW)
    region = qs.first()
    if region is None:
        raise NotFound(_("找不到该网格,或不在您的管辖范围内。"))
    return region


def clean_filters(kind: str, params, viewer) -> dict:
    """The filters of a list page from a query string: {name: value}, unknown ones dropped,
    invalid choices refused."""
    choices = {"residence_type": ResidenceType.values, "usage": HouseUsage.values,
               "kind": None, "state": ComponentState.values}
    allowed = {"people": ("q", "grid", "tag", "residence_type"),
               "houses": ("q", "grid", "usage"),
               "orgs": ("q", "grid", "kind"),
               "components": ("q", "grid", "state", "component_class")}[kind]
    filters = {}
    for name in allowed:
        value = (params.get(name) or "").strip()[:50]
        if not value:
            continue
        if name == "kind":
            from gezhi.orgs.models import OrgKind

            choices["kind"] = OrgKind.values
        if choices.get(name) is not None and value not in choices[name]:
            raise ValidationFailed(_("筛选条件无效:%(value)s") % {"value": value})
        filters[name] = value
    return filters


def _queryset(kind: str, viewer, filters: dict):
    from gezhi.orgs.selectors import organisation_list
    from gezhi.people.selectors import person_list
    from gezhi.places.selectors import component_list, house_list

    grid = _region(viewer, filters["grid"]) if filters.get("grid") else None
    if viewer is None:  # the command line: everything within the region, no other filter
        return _system_queryset(kind, grid)
    q = filters.get("q", "")
    if kind == "people":
        qs = person_list(viewer=viewer, q=q, grid=grid, tag=filters.get("tag", ""),
                         residence_type=filters.get("residence_type", ""))
    elif kind == "houses":
        qs = house_list(viewer=viewer, grid=grid, usage=filters.get("usage", ""), q=q)
    elif kind == "orgs":
        qs = organisation_list(viewer=viewer, grid=grid, kind=filters.get("kind", ""), q=q)
    else:
        qs = component_list(viewer=viewer, grid=grid, state=filters.get("state", ""),
                            component_class=filters.get("component_class", ""), q=q)
    # The lists show what the viewer may see; an export, only where they may export.
    return qs.filter(scope_for(viewer, Perm.BASE_EXPORT).region_q("grid__path"))


def _system_queryset(kind: str, region: Region | None):
    from gezhi.orgs.models import Organisation
    from gezhi.people.models import Person
    from gezhi.places.models import Component, House

    qs = {"people": Person.objects.select_related("grid"),
          "houses": House.objects.select_related("building__estate", "unit", "grid"),
          "orgs": Organisation.objects.select_related("grid", "estate"),
          "components": Component.objects.select_related("component_class", "grid")}[kind]
    if region is not None:
        qs = qs.filter(grid__path__startswith=region.path)
    return qs.order_by("grid__path", "pk")


def _mask_or_plain(obj, name: str, reveal) -> str:
    if reveal is not None and reveal(obj.grid.path):
        return get_sensitive(obj, name)
    return getattr(obj, f"{name}_mask")


def _chunks(qs) -> Iterator[list]:
    iterator = qs.iterator(chunk_size=CHUNK)
    while True:
        chunk = list(islice(iterator, CHUNK))
        if not chunk:
            return
        yield chunk


def _people_rows(qs, viewer, reveal) -> tuple[list[str], Iterator[list]]:
    headers = ["姓名", "证件类型", "证件号码", "性别", "出生日期", "民族", "联系电话", "政治面貌",
               "人口类型", "工作单位", "网格编码", "所属网格", "住址", "与房屋关系", "标签", "备注"]

    def rows():
        special = scope_for(viewer, Perm.SPECIAL_VIEW) if viewer is not None else None
        for chunk in _chunks(qs):
            ids = [p.pk for p in chunk]
            homes = {}
            for link in (Residence.objects.filter(person_id__in=ids, kind=ResidenceKind.LIVES,
                                                  moved_out__isnull=True)
                         .select_related("house").order_by("-moved_in", "-id")):
                homes.setdefault(link.person_id, link)
            tags: dict[int, list[str]] = {}
            for person_id, name, sensitivity in (
                    PersonTag.objects.filter(person_id__in=ids, removed_at__isnull=True)
                    .order_by("tag__sort_order", "tag__code")
                    .values_list("person_id", "tag__name", "tag__sensitivity")):
                tags.setdefault(person_id, []).append((name, sensitivity))
            for p in chunk:
                home = homes.get(p.pk)
                visible = [name for name, sensitivity in tags.get(p.pk, [])
                           if sensitivity != "restricted" or special is None
                           or special.covers_path(p.grid.path)]
                yield [p.name, p.get_id_type_display(), _mask_or_plain(p, "id_number", reveal),
                       p.get_sex_display(), p.birth_date, ETHNICITY_NAMES.get(p.ethnicity, ""),
                       _mask_or_plain(p, "phone", reveal), p.get_political_status_display(),
                       p.get_residence_type_display(), p.employer, p.grid.code, p.grid.name,
                       home.house.address if home else "",
                       home.get_relation_display() if home else "", "、".join(visible), p.notes]

    return headers, rows()


def _house_rows(qs, viewer, reveal):
    headers = ["街巷", "小区", "楼栋", "单元", "户室号", "楼层", "房屋用途", "建筑面积", "经度", "纬度",
               "网格编码", "所属网格", "地址"]

    def rows():
        for h in qs.iterator(chunk_size=CHUNK):
            b = h.building
            yield [b.street or (b.estate.street if b.estate_id else ""),
                   b.estate.name if b.estate_id else "", b.name, h.unit.name if h.unit_id else "",
                   h.number, h.floor, h.get_usage_display(),
                   float(h.area_m2) if h.area_m2 is not None else None, h.lon, h.lat,
                   h.grid.code, h.grid.name, h.address]

    return headers, rows()


def _org_rows(qs, viewer, reveal):
    headers = ["名称", "类型", "统一社会信用代码", "法定代表人", "联系人", "联系电话", "地址", "所在小区",
               "从业人数", "行业", "经度", "纬度", "网格编码", "所属网格", "备注"]

    def rows():
        for o in qs.iterator(chunk_size=CHUNK):
            yield [o.name, o.get_kind_display(), o.credit_code, o.legal_representative,
                   o.contact_name, _mask_or_plain(o, "contact_phone", reveal), o.address,
                   o.estate.name if o.estate_id else "", o.employees, o.industry, o.lon, o.lat,
                   o.grid.code, o.grid.name, o.notes]

    return headers, rows()


def _component_rows(qs, viewer, reveal):
    headers = ["部件编码", "部件类别", "大类", "名称", "状态", "权属单位", "位置描述", "经度", "纬度",
               "网格编码", "所属网格"]

    def rows():
        for c in qs.iterator(chunk_size=CHUNK):
            yield [c.code, c.component_class.name, c.component_class.major, c.name,
                   c.get_state_display(), c.owner_unit, c.address, c.lon, c.lat, c.grid.code,
                   c.grid.name]

    return headers, rows()


ROWS = {"people": _people_rows, "houses": _house_rows, "orgs": _org_rows,
        "components": _component_rows}
SENSITIVE = {"people", "orgs"}  # kinds with ID or phone numbers


def export_workbook(*, viewer, kind: str, params, plaintext: bool = False, reason: str = "",
                    ip_address: str | None = None, max_rows: int | None = None) -> Export:
    """Write the filtered list to a temporary xlsx file (Export.path; the caller deletes it)
    and log the export. `viewer` None is the system (CLI)."""
    if kind not in ImportKind.values:
        raise NotFound()
    if viewer is not None and not has_perm(viewer, Perm.BASE_EXPORT):
        raise PermissionDenied()
    filters = clean_filters(kind, params, viewer)
    reason = (reason or "").strip()
    reveal = None
    if plaintext:
        if kind not in SENSITIVE:
            plaintext = False
        elif not reason:
            raise ValidationFailed(_("明文导出须填写事由。"), details={"field": "reason"})
        elif viewer is None:
            reveal = lambda path: True  # noqa: E731
        else:
            if not has_perm(viewer, Perm.REVEAL):
                raise PermissionDenied(_("您没有查看明文的权限,只能导出脱敏数据。"))
            reveal = scope_for(viewer, Perm.REVEAL).covers_path
    qs = _queryset(kind, viewer, filters)
    count = qs.count()
    if max_rows is not None and count > max_rows:
        raise ValidationFailed(_("符合条件的有 %(count)d 条,超过单次导出上限 %(max)d 条。请缩小筛选范围,"
                                 "或由管理员用命令行导出。") % {"count": count, "max": max_rows})
    headers, rows = ROWS[kind](qs, viewer, reveal)
    export = Export(kind=kind, filters=filters, plaintext=plaintext)
    label = ImportKind(kind).label
    export.file_name = f"{label}-{timezone.localtime():%Y%m%d-%H%M}.xlsx"
    # The log entry is written with the file, in one transaction: no export goes unlogged.
    with transaction.atomic():
        export.rows = _write(export, headers, rows, viewer, label)
        AccessLog.objects.create(
            user=viewer, action=AccessAction.EXPORT, target_type=kind,
            target_label=export.file_name, row_count=export.rows, ip_address=ip_address,
            field="plaintext" if plaintext else "", reason=reason[:200] if plaintext else "",
            details={"filters": filters, "plaintext": plaintext, "file": export.file_name})
    return export


def _write(export: Export, headers: list[str], rows: Iterator[list], viewer, label) -> int:
    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet(str(label))
    sheet.freeze_panes = "A2"
    for index, header in enumerate(headers):
        letter = _letter(index)
        sheet.column_dimensions[letter].width = max(10, min(30, len(header) * 2 + 6))
    bold = Font(bold=True)
    fill = PatternFill("solid", fgColor="EEF2F6")
    header_cells = []
    for header in headers:
        cell = WriteOnlyCell(sheet, value=header)
        cell.font, cell.fill = bold, fill
        header_cells.append(cell)
    sheet.append(header_cells)
    count = 0
    for row in rows:
        sheet.append(row)
        count += 1
    notes = workbook.create_sheet(_("导出说明"))
    who = (getattr(viewer, "display_name", "") or getattr(viewer, "username", "")) if viewer \
        else _("系统(命令行)")
    for line in (
        [_("导出内容"), str(label)],
        [_("导出人"), who],
        [_("导出时间"), timezone.localtime().strftime("%Y-%m-%d %H:%M")],
        [_("筛选条件"), "; ".join(f"{k}={v}" for k, v in export.filters.items()) or _("无")],
        [_("行数"), count],
        [_("证件号码与电话"), _("明文(已记录访问日志)") if export.plaintext else _("已脱敏")],
        [_("注意"), _("本文件含个人信息,请妥善保管,用后删除,不得外传。")],
    ):
        notes.append(line)
    handle = tempfile.NamedTemporaryFile(prefix="gezhi-export-", suffix=".xlsx", delete=False)
    handle.close()
    workbook.save(handle.name)
    export.path = handle.name
    return count


def _letter(index: int) -> str:
    from gezhi.dataio.readers import column_letter

    return column_letter(index)


def tags_settable(viewer) -> list[Tag]:
    """Tag kinds the viewer may set anywhere (restricted ones need Perm.SPECIAL_VIEW)."""
    qs = Tag.objects.order_by("sort_order", "code")
    if viewer is not None and scope_for(viewer, Perm.SPECIAL_VIEW).empty:
        qs = qs.exclude(sensitivity="restricted")
    return list(qs)
