"""The indicator report as an xlsx workbook, logged in the access log like every export.

Indicators hold no personal data, but an export leaves the system: who took which report, for
which period and area, is recorded (accounts.AccessLog, action export).
"""

from __future__ import annotations

import io

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.styles import Font, PatternFill

from gezhi.accounts.models import AccessAction, AccessLog
from gezhi.indicators.selectors import Report


def columns() -> list[tuple[str, str]]:
    """(key, header) of the report's columns after the unit, in the page's order."""
    return [
        ("reported", _("上报数")), ("due", _("应结案")), ("closed", _("已结案")),
        ("close_rate", _("结案率")), ("closed_on_time", _("按期结案")),
        ("on_time_rate", _("按期结案率")), ("reopened", _("返工")), ("reopen_rate", _("返工率")),
        ("extended", _("延期")), ("extension_rate", _("延期率")),
        ("grid_worker_reported", _("网格员上报")),
        ("grid_worker_self_resolved", _("网格员自行处置")),
        ("self_resolve_rate", _("自行处置率")), ("rated", _("已评价")),
        ("satisfied", _("满意")), ("basic_satisfied", _("基本满意")),
        ("satisfaction_rate", _("满意率")), ("overdue", _("超期在办")),
        ("escalated", _("上报上级")), ("supervised", _("督办")),
        ("supervised_yellow", _("黄牌督办")), ("supervised_red", _("红牌督办")),
        ("suspended", _("缓办中")), ("rejected", _("不予受理")), ("merged", _("已合并")),
        ("avg_accept_hours", _("平均受理时长(小时)")),
        ("avg_dispatch_hours", _("平均派遣时长(小时)")),
        ("avg_close_hours", _("平均结案时长(小时)")),
    ]


def report_workbook(*, report: Report, viewer, scope_label: str, by_label: str,
                    ip_address: str | None = None) -> tuple[bytes, str]:
    """(xlsx content, file name); the export is logged in the same transaction."""
    cols = columns()
    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet(_("指标"))
    sheet.freeze_panes = "C2"
    bold, fill = Font(bold=True), PatternFill("solid", fgColor="EEF2F6")
    header = []
    for label in [_("代码"), _("统计单位")] + [label for _key, label in cols]:
        cell = WriteOnlyCell(sheet, value=label)
        cell.font, cell.fill = bold, fill
        header.append(cell)
    sheet.append(header)
    for row in report.rows:
        sheet.append([row["unit"]["code"], row["unit"]["name"]] + [row[k] for k, _l in cols])
    sheet.append(["", _("合计")] + [report.total[k] for k, _l in cols])
    notes = workbook.create_sheet(_("说明"))
    for line in (
        [_("统计口径"), by_label],
        [_("范围"), scope_label],
        [_("上报日期"), f"{report.start:%Y-%m-%d} — {report.end:%Y-%m-%d}"],
        [_("导出人"), getattr(viewer, "name", "")],
        [_("导出时间"), timezone.localtime().strftime("%Y-%m-%d %H:%M")],
        [_("说明"), _("按上报日期统计该时段上报的事件的当前状态。应结案 = 上报数 − 不予受理 − 已合并 − "
                    "缓办中;结案率、按期结案率、返工率、延期率以应结案为分母;自行处置率以网格员上报为分母;"
                    "满意率 =(满意 + 基本满意)/ 已评价。比率为 0 到 1 的小数,分母为 0 时留空。")],
    ):
        notes.append(line)
    buffer = io.BytesIO()
    workbook.save(buffer)
    name = f"{_('事件指标')}-{report.start:%Y%m%d}-{report.end:%Y%m%d}.xlsx"
    with transaction.atomic():
        AccessLog.objects.create(
            user=viewer, action=AccessAction.EXPORT, target_type="indicators",
            target_label=name, row_count=len(report.rows), ip_address=ip_address,
            details={"by": report.by, "start": report.start.isoformat(),
                     "end": report.end.isoformat(),
                     "within": report.within.code if report.within else ""})
    return buffer.getvalue(), name
