from django.contrib import admin

from gezhi.core.admin import AdminOnly
from gezhi.people.models import Tag


@admin.register(Tag)
class TagAdmin(AdminOnly, admin.ModelAdmin):
    """Tag kinds are a code table; tags on people are set in the console (logged, scoped)."""

    list_display = ["code", "name", "group", "sensitivity", "colour", "sort_order"]
    list_filter = ["group", "sensitivity"]
    search_fields = ["code", "name"]
