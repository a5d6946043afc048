from __future__ import annotations

import datetime as dt

from django import forms
from django.utils.translation import gettext_lazy as _

from gezhi.core.errors import ValidationFailed
from gezhi.indicators.selectors import BY, clean_period

BY_LABELS = {"grid": _("按网格"), "community": _("按社区"), "subdistrict": _("按街道"),
             "district": _("按区县"), "city": _("按市"), "department": _("按职能部门")}
# What the ranking table may be ordered by (highest first), with its label.
SORTS = {"close_rate": _("结案率"), "on_time_rate": _("按期结案率"),
         "satisfaction_rate": _("满意率"), "self_resolve_rate": _("自行处置率"),
         "reopen_rate": _("返工率"), "extension_rate": _("延期率"), "reported": _("上报数"),
         "overdue": _("超期在办"), "avg_close_hours": _("平均结案时长")}


class IndicatorForm(forms.Form):
    """The indicator page's filters, from the query string."""

    by = forms.ChoiceField(label=_("统计口径"), required=False,
                           choices=[("", _("自动"))] + [(b, BY_LABELS[b]) for b in BY])
    within = forms.ChoiceField(label=_("范围"), required=False)
    start = forms.DateField(label=_("上报日期从"), required=False,
                            error_messages={"invalid": _("请输入有效的日期,如 2026-01-01。")},
                            widget=forms.DateInput(attrs={"type": "date"}))
    end = forms.DateField(label=_("至"), required=False,
                          error_messages={"invalid": _("请输入有效的日期,如 2026-01-01。")},
                          widget=forms.DateInput(attrs={"type": "date"}))
    sort = forms.ChoiceField(label=_("排名依据"), required=False,
                             choices=list(SORTS.items()))

    def __init__(self, *args, regions=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["within"].choices = [("", _("我的全部辖区"))] + [
            (r.code, f"{'· ' * max(r.depth - regions[0].depth, 0)}{r.name}") for r in regions
        ] if regions else [("", _("我的全部辖区"))]

    def clean(self):
        data = super().clean()
        if not self.errors:
            try:
                data["start"], data["end"] = clean_period(data.get("start"), data.get("end"))
            except ValidationFailed as exc:
                self.add_error("start", exc.message)
        data["sort"] = data.get("sort") or "close_rate"
        return data


def quick_periods(today: dt.date) -> list[tuple[str, dt.date, dt.date]]:
    """本月, 本季度, 本年, 近 12 个月, 上一年: (label, start, end)."""
    quarter = dt.date(today.year, (today.month - 1) // 3 * 3 + 1, 1)
    year_ago = dt.date(today.year - 1, today.month, 1)
    return [
        (_("本月"), today.replace(day=1), today),
        (_("本季度"), quarter, today),
        (_("本年"), dt.date(today.year, 1, 1), today),
        (_("近12个月"), year_ago, today),
        (_("上一年"), dt.date(today.year - 1, 1, 1), dt.date(today.year - 1, 12, 31)),
    ]
