"""Import templates (导入模板): an xlsx per kind with the headers, a note on each header, the
code tables as drop-down lists (from a hidden sheet), and a sheet of instructions with an
example row. Codes the user may use depend on them: their grids, the tags they may set."""

from __future__ import annotations

import io

from django.utils import translation
from django.utils.translation import gettext as _
from openpyxl import Workbook
from openpyxl.comments import Comment
from openpyxl.styles import Alignment, Font, PatternFill
from openpyxl.worksheet.datavalidation import DataValidation

from gezhi.accounts.roles import Perm
from gezhi.accounts.scope import visible_to
from gezhi.dataio.exports import tags_settable
from gezhi.dataio.kinds import KINDS
from gezhi.dataio.kinds.base import code_labels
from gezhi.dataio.readers import column_letter
from gezhi.orgs.models import OrgKind
from gezhi.people.codes import (
    ETHNICITIES,
    IdType,
    PoliticalStatus,
    ResidenceRelation,
    ResidenceType,
    Sex,
)
from gezhi.places.models import ComponentClass, ComponentState, HouseUsage
from gezhi.regions.models import Level, Region

LAST_ROW = 1048576  # Excel's last row: drop-downs and formats cover the whole column
MAX_GRID_CHOICES = 3000  # beyond this a drop-down is unusable; the codes sheet still lists them


def code_lists(viewer) -> dict[str, list[str]]:
    grids = Region.objects.filter(level=Level.GRID).order_by("path")
    if viewer is not None:
        grids = visible_to(grids, viewer, Perm.BASE_IMPORT)
    return {
        "id_type": code_labels(IdType.choices),
        "sex": code_labels(Sex.choices),
        "ethnicity": [name for _code, name in ETHNICITIES],
        "political_status": code_labels(PoliticalStatus.choices),
        "residence_type": code_labels(ResidenceType.choices),
        "relation": code_labels(ResidenceRelation.choices),
        "tags": [t.name for t in tags_settable(viewer)],
        "usage": code_labels(HouseUsage.choices),
        "org_kind": code_labels(OrgKind.choices),
        "state": code_labels(ComponentState.choices),
        "component_class": [c.name for c in ComponentClass.objects.order_by("code")],
        "grids": [g.code for g in grids.only("code")],
        "_grid_names": [g.name for g in grids.only("name")],
    }


CODE_TITLES = {
    "id_type": "证件类型", "sex": "性别", "ethnicity": "民族", "political_status": "政治面貌",
    "residence_type": "人口类型", "relation": "与房屋关系", "tags": "标签", "usage": "房屋用途",
    "org_kind": "组织类型", "state": "部件状态", "component_class": "部件类别", "grids": "网格编码",
}


def template_workbook(*, kind: str, viewer) -> bytes:
    importer = KINDS[kind]
    lists = code_lists(viewer)
    with translation.override("zh-hans"):
        label = str(importer.label)
    workbook = Workbook()
    sheet = workbook.active
    sheet.title = label
    codes = workbook.create_sheet("代码表")
    guide = workbook.create_sheet(_("填写说明"))

    used = [c.codes for c in importer.columns if c.codes]
    ranges = {}
    for index, name in enumerate(used):
        values = lists[name]
        codes.cell(row=1, column=index * 2 + 1, value=CODE_TITLES[name]).font = Font(bold=True)
        for row, value in enumerate(values, start=2):
            codes.cell(row=row, column=index * 2 + 1, value=value)
        if name == "grids":
            codes.cell(row=1, column=index * 2 + 2, value="网格名称").font = Font(bold=True)
            for row, value in enumerate(lists["_grid_names"], start=2):
                codes.cell(row=row, column=index * 2 + 2, value=value)
        letter = column_letter(index * 2)
        if values:
            ranges[name] = f"'代码表'!${letter}$2:${letter}${len(values) + 1}"
    codes.sheet_state = "hidden"

    header_font = Font(bold=True)
    required_font = Font(bold=True, color="B91C1C")
    fill = PatternFill("solid", fgColor="EEF2F6")
    for index, column in enumerate(importer.columns):
        letter = column_letter(index)
        cell = sheet.cell(row=1, column=index + 1, value=column.header)
        cell.font = required_font if column.required else header_font
        cell.fill = fill
        cell.alignment = Alignment(horizontal="center")
        note = str(column.note) if column.note else ""
        if note:
            comment = Comment(note, "格治")
            comment.width, comment.height = 240, 90
            cell.comment = comment
        sheet.column_dimensions[letter].width = column.width
        if column.text:
            sheet.column_dimensions[letter].number_format = "@"
        if column.codes in ranges and not (column.codes == "grids"
                                          and len(lists["grids"]) > MAX_GRID_CHOICES):
            validation = DataValidation(
                type="list", formula1=ranges[column.codes], allow_blank=True,
                # A warning, not a refusal: codes, other spellings and (for tags) several
                # comma-separated values are accepted by the import too.
                errorStyle="warning", showErrorMessage=column.codes != "tags",
                errorTitle=_("不在代码表中"),
                error=_("该值不在下拉列表中,导入时可能被判为无效。确定要保留吗?"))
            validation.add(f"{letter}2:{letter}{LAST_ROW}")
            sheet.add_data_validation(validation)
    sheet.freeze_panes = "A2"

    guide.column_dimensions["A"].width = 16
    guide.column_dimensions["B"].width = 8
    guide.column_dimensions["C"].width = 70
    guide.column_dimensions["D"].width = 22
    guide.append([_("「%(kind)s」导入说明") % {"kind": label}])
    guide["A1"].font = Font(bold=True, size=13)
    for line in (
        _("在第一个工作表中从第 2 行起逐行填写,表头不要改动(红色为必填列)。"),
        _("有下拉箭头的列请从列表中选择;也可以填写代码。"),
        _("导入时逐行检查,问题会按“第几行、哪一列、什么原因”列出。"
          "可先“仅检查”,确认无误后再正式导入。"),
        _("重复导入同一对象会更新它,不会重复登记;空白单元格不会清除已有信息。"),
    ):
        guide.append([line])
    guide.append([])
    guide.append([_("列名"), _("必填"), _("说明"), _("示例")])
    for cell in guide[guide.max_row]:
        cell.font, cell.fill = header_font, fill
    for column in importer.columns:
        guide.append([column.header, _("是") if column.required else "",
                      str(column.note) if column.note else "", column.example])
    guide.append([])
    guide.append([_("示例行(可复制到第一个工作表)")])
    guide[f"A{guide.max_row}"].font = header_font
    guide.append([c.header for c in importer.columns])
    guide.append([c.example for c in importer.columns])
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()
