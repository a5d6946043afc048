"""/api/v1/indicators: the indicators (指标) of the event closed loop by grid, community,
subdistrict, district, city or department, for a period, within the caller's scope.

Definitions are in gezhi.indicators.selectors and docs/indicators.md. The answer is a report,
not a list: one row per unit the caller may see (all of them, with zeros where nothing was
reported) and a total row.
"""

from __future__ import annotations

from datetime import date
from typing import Literal

from django.utils.translation import gettext_lazy
from ninja import Field, Query, Router, Schema

from gezhi.core.schemas import ErrorOut
from gezhi.indicators import selectors

router = Router()

ERRORS = {401: ErrorOut, 403: ErrorOut, 404: ErrorOut, 422: ErrorOut}
By = Literal["grid", "community", "subdistrict", "district", "city", "department"]


class UnitOut(Schema):
    kind: str = Field(description="region 区划 / department 职能部门")
    code: str
    name: str
    level: str = Field(description="grid / community / subdistrict / district / city / "
                                   "department")
    level_label: str


class IndicatorsOut(Schema):
    """Counts of the events reported in the period; all but reported, suspended, rejected and
    merged are over due events (应结案: neither rejected nor merged, and not suspended now)."""

    unit: UnitOut | None = Field(None, description="统计单位;合计行为 null")
    reported: int = Field(description="上报数")
    due: int = Field(description="应结案数(不含不予受理、已合并和缓办中的)")
    closed: int = Field(description="已结案")
    closed_on_time: int = Field(description="按期结案")
    reopened: int = Field(description="返工过的事件")
    extended: int = Field(description="批准延期过的事件")
    escalated: int = Field(description="上报上级过的事件")
    supervised: int = Field(description="被督办的事件")
    supervised_yellow: int = Field(description="最高为黄牌督办")
    supervised_red: int = Field(description="最高为红牌督办")
    self_resolved: int = Field(description="自行处置")
    grid_worker_reported: int = Field(description="网格员上报")
    grid_worker_self_resolved: int = Field(description="网格员上报并自行处置")
    rated: int = Field(description="已评价")
    satisfied: int = Field(description="满意")
    basic_satisfied: int = Field(description="基本满意")
    suspended: int = Field(description="缓办中")
    rejected: int = Field(description="不予受理")
    merged: int = Field(description="已合并")
    accepted: int = Field(description="已受理(平均受理时长的样本数)")
    dispatched: int = Field(description="已派遣(平均派遣时长的样本数)")
    overdue: int = Field(description="在办且已超期(按当前时间)")
    close_rate: float | None = Field(description="结案率 = closed / due;分母为 0 时为 null")
    on_time_rate: float | None = Field(description="按期结案率 = closed_on_time / due")
    reopen_rate: float | None = Field(description="返工率 = reopened / due")
    extension_rate: float | None = Field(description="延期率 = extended / due")
    self_resolve_rate: float | None = Field(
        description="自行处置率 = grid_worker_self_resolved / grid_worker_reported")
    satisfaction_rate: float | None = Field(
        description="满意率 = (satisfied + basic_satisfied) / rated")
    avg_accept_hours: float | None = Field(description="平均受理时长(小时,自上报起)")
    avg_dispatch_hours: float | None = Field(description="平均派遣时长(小时,自上报起)")
    avg_close_hours: float | None = Field(description="平均结案时长(小时,自上报起,已结案的)")


class TrendOut(IndicatorsOut):
    month: str = Field(description="月份,如 2026-01")


class ReportOut(Schema):
    by: str
    start: date
    end: date
    within: UnitOut | None
    rows: list[IndicatorsOut]
    total: IndicatorsOut
    trend: list[TrendOut] = Field(description="合计逐月的值(trend=true 时)")


class ReportParams(Schema):
    by: By | None = Field(None, description="统计口径;默认为可见范围最高一级的下一级")
    start: date | None = Field(None, description="上报日期起(含),默认今年 1 月 1 日")
    end: date | None = Field(None, description="上报日期止(含),默认今天")
    within: str = Field("", max_length=24, description="只统计该区划代码之下")
    trend: bool = Field(False, description="同时给出合计的逐月趋势")


def report_out(report: selectors.Report) -> dict:
    return {"by": report.by, "start": report.start, "end": report.end,
            "within": selectors.region_unit(report.within) if report.within else None,
            "rows": report.rows, "total": report.total, "trend": report.trend}


@router.get("/indicators", response={200: ReportOut, **ERRORS}, tags=["indicators"],
            summary=gettext_lazy("事件指标(按网格、社区、街道或部门,任意时段)"))
def indicator_report(request, params: Query[ReportParams]):
    report = selectors.indicator_report(viewer=request.user, by=params.by or "",
                                        start=params.start, end=params.end,
                                        within=params.within or None, trend=params.trend)
    return report_out(report)
