"""The personal-data access log page (个人信息访问日志), read-only."""

from __future__ import annotations

import datetime
import json

from django import forms
from django.core.paginator import Paginator
from django.shortcuts import render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from gezhi.accounts.models import AccessAction, AccessLog, User
from gezhi.accounts.roles import Perm
from gezhi.dashboard.console import console_page

PAGE_SIZE = 50
# Where an entry's object can be opened (its page answers 404 outside the reader's scope).
TARGET_PAGES = {"person": "people:detail", "organisation": "orgs:detail"}
FIELD_LABELS = {"id_number": _("证件号码"), "phone": _("联系电话"), "contact_phone": _("联系电话")}
TARGET_LABELS = {"person": _("人员"), "organisation": _("组织")}


class AccessLogFilter(forms.Form):
    user = forms.ModelChoiceField(label=_("操作人"), queryset=User.objects.none(),
                                  required=False, empty_label=_("全部人员"))
    action = forms.ChoiceField(label=_("操作"), required=False,
                               choices=[("", _("全部操作")), *AccessAction.choices])
    date_from = forms.DateField(label=_("起始日期"), required=False,
                                widget=forms.DateInput(attrs={"type": "date"}))
    date_to = forms.DateField(label=_("截止日期"), required=False,
                              widget=forms.DateInput(attrs={"type": "date"}))

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        # Only people who appear in the log: the menu stays short.
        self.fields["user"].queryset = (User.objects.filter(access_logs__isnull=False)
                                        .distinct().order_by("username"))

    def clean(self):
        data = super().clean()
        start, end = data.get("date_from"), data.get("date_to")
        if start and end and start > end:
            raise forms.ValidationError(_("起始日期不能晚于截止日期。"))
        return data


def _day_start(day: datetime.date) -> datetime.datetime:
    return timezone.make_aware(datetime.datetime.combine(day, datetime.time.min))


def _details(entry: AccessLog) -> str:
    return json.dumps(entry.details, ensure_ascii=False, sort_keys=True) if entry.details else ""


@console_page(Perm.ACCESS_LOG_VIEW)
def access_log(request):
    form = AccessLogFilter(request.GET or None)
    entries = AccessLog.objects.select_related("user").order_by("-created_at", "-id")
    if form.is_bound and form.is_valid():
        data = form.cleaned_data
        if data["user"]:
            entries = entries.filter(user=data["user"])
        if data["action"]:
            entries = entries.filter(action=data["action"])
        if data["date_from"]:
            entries = entries.filter(created_at__gte=_day_start(data["date_from"]))
        if data["date_to"]:
            entries = entries.filter(
                created_at__lt=_day_start(data["date_to"] + datetime.timedelta(days=1)))
    elif form.is_bound:
        entries = entries.none()
    page = Paginator(entries, PAGE_SIZE).get_page(request.GET.get("page"))
    rows = []
    for entry in page.object_list:
        url = None
        if entry.target_id and entry.target_type in TARGET_PAGES:
            url = reverse(TARGET_PAGES[entry.target_type], args=[entry.target_id])
        rows.append({"entry": entry, "url": url, "details": _details(entry),
                     "field": FIELD_LABELS.get(entry.field, entry.field),
                     "target_type": TARGET_LABELS.get(entry.target_type, entry.target_type)})
    return render(request, "accounts/access_log.html", {
        "form": form,
        "page_obj": page,
        "rows": rows,
        "filtered": form.is_bound and any(request.GET.get(k) for k in form.fields),
    })
