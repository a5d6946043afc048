from django.contrib import admin

from gezhi.core.admin import AdminOnly
from gezhi.regions.models import GridPost, Region, StaffMember


class GridPostInline(admin.TabularInline):
    model = GridPost
    extra = 0
    autocomplete_fields = ["member"]


@admin.register(Region)
class RegionAdmin(AdminOnly, admin.ModelAdmin):
    list_display = ["code", "name", "level", "grid_kind", "parent"]
    list_filter = ["level", "grid_kind"]
    search_fields = ["code", "name"]
    autocomplete_fields = ["parent"]
    inlines = [GridPostInline]


@admin.register(StaffMember)
class StaffMemberAdmin(AdminOnly, admin.ModelAdmin):
    list_display = ["name", "title", "work_phone", "published"]
    search_fields = ["name", "work_phone"]
    raw_id_fields = ["user"]
