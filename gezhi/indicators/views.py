"""Console pages of the indicators (/console/indicators/): the report with charts and a ranking
table, and its xlsx export."""

from __future__ import annotations

from urllib.parse import quote

from django.http import HttpResponse
from django.shortcuts import render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from gezhi.accounts.roles import Perm
from gezhi.core import clock
from gezhi.dashboard.console import client_ip, console_page
from gezhi.indicators import selectors
from gezhi.indicators.exports import report_workbook
from gezhi.indicators.forms import BY_LABELS, SORTS, IndicatorForm, quick_periods

CHART_UNITS = 60  # the bar chart shows the top of the ranking; the table shows every unit


def _report(request) -> tuple[IndicatorForm, selectors.Report | None]:
    regions = selectors.within_choices(request.user)
    form = IndicatorForm(request.GET or None, regions=regions)
    if form.is_bound and not form.is_valid():
        return form, None
    data = form.cleaned_data if form.is_bound else {}
    report = selectors.indicator_report(
        viewer=request.user, by=data.get("by") or "", start=data.get("start"),
        end=data.get("end"), within=data.get("within") or None, trend=True)
    # Show the period and level the report used, defaults included.
    data = request.GET.copy()
    for key, value in (("by", report.by), ("start", report.start), ("end", report.end)):
        if not data.get(key):
            data[key] = f"{value}"
    form = IndicatorForm(data, regions=regions)
    form.is_valid()
    return form, report


# Indicators where less is better: ranked lowest first.
ASCENDING = {"reopen_rate", "extension_rate", "overdue", "avg_close_hours"}


def _ranked(rows: list[dict], key: str) -> list[dict]:
    """Best first; units with nothing to rate (a rate over 0) last, in code order."""
    sign = 1 if key in ASCENDING else -1
    present = sorted((r for r in rows if r[key] is not None), key=lambda r: sign * r[key])
    return present + [r for r in rows if r[key] is None]


def _scope_label(report: selectors.Report) -> str:
    if report.within is not None:
        return report.within.name
    return _("我的全部辖区")


@console_page(Perm.INDICATOR_VIEW)
def home(request):
    form, report = _report(request)
    context = {"form": form, "report": report, "status": 400 if report is None else 200,
               "periods": [], "by_labels": BY_LABELS, "sorts": SORTS}
    today = timezone.localdate(clock.now())
    query = request.GET.copy()
    for key in ("start", "end"):
        query.pop(key, None)
    context["periods"] = [
        {"label": label, "url": f"?{_with(query, start=s, end=e)}"}
        for label, s, e in quick_periods(today)]
    if report is not None:
        sort = form.cleaned_data.get("sort") or "close_rate"
        ranked = _ranked(report.rows, sort)
        export = request.GET.copy()
        export.update({"by": report.by, "start": f"{report.start}", "end": f"{report.end}"})
        context.update({
            "rows": ranked,
            "sort": sort,
            "sort_label": SORTS.get(sort),
            "by_label": BY_LABELS[report.by],
            "scope_label": _scope_label(report),
            "export_url": f"{reverse('indicators:export')}?{export.urlencode()}",
            "chart": _chart(ranked[:CHART_UNITS], report),
        })
    return render(request, "indicators/home.html", context, status=context["status"])


def _with(query, **values) -> str:
    q = query.copy()
    for k, v in values.items():
        q[k] = f"{v}"
    return q.urlencode()


def _pct(value):
    return None if value is None else round(value * 100, 2)


def _short(name: str, report: selectors.Report) -> str:
    """A unit's name without the name of the region shown (文化路社区第1网格 -> 第1网格)."""
    prefix = report.within.name if report.within is not None else ""
    return name[len(prefix):] if prefix and name.startswith(prefix) and name != prefix else name


def _chart(rows: list[dict], report: selectors.Report) -> dict:
    """What charts.js draws: rates as percentages, labels in the page's language."""
    return {
        "units": [_short(r["unit"]["name"], report) for r in rows],
        "bars": [
            {"name": _("结案率"), "data": [_pct(r["close_rate"]) for r in rows]},
            {"name": _("按期结案率"), "data": [_pct(r["on_time_rate"]) for r in rows]},
            {"name": _("满意率"), "data": [_pct(r["satisfaction_rate"]) for r in rows]},
        ],
        "months": [t["month"] for t in report.trend],
        "reported": {"name": _("上报数"), "data": [t["reported"] for t in report.trend]},
        "lines": [
            {"name": _("结案率"), "data": [_pct(t["close_rate"]) for t in report.trend]},
            {"name": _("满意率"), "data": [_pct(t["satisfaction_rate"]) for t in report.trend]},
        ],
        "percent": _("百分比(%)"),
        "count": _("件数"),
        "empty": _("暂无数据"),
    }


@console_page(Perm.INDICATOR_VIEW)
def export(request):
    form, report = _report(request)
    if report is None:
        return render(request, "indicators/home.html", {
            "form": form, "report": None, "periods": [], "by_labels": BY_LABELS,
            "sorts": SORTS}, status=400)
    report.rows = _ranked(report.rows, form.cleaned_data.get("sort") or "close_rate")
    content, name = report_workbook(report=report, viewer=request.user,
                                    scope_label=_scope_label(report),
                                    by_label=str(BY_LABELS[report.by]),
                                    ip_address=client_ip(request))
    response = HttpResponse(
        content, content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")
    response["Content-Disposition"] = f"attachment; filename*=UTF-8''{quote(name)}"
    return response

