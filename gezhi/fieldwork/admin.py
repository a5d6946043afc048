"""Admin of field work's code table: how often households with each tag are visited
(走访周期). Diary entries, visits and patrols change only through the services."""

from django.contrib import admin

from gezhi.core.admin import AdminOnly
from gezhi.fieldwork.models import VisitRule


@admin.register(VisitRule)
class VisitRuleAdmin(AdminOnly, admin.ModelAdmin):
    list_display = ["tag", "interval_days"]
    list_editable = ["interval_days"]
    ordering = ["interval_days", "tag__sort_order"]
