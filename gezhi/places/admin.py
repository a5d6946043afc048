from django.contrib import admin

from gezhi.core.admin import AdminOnly
from gezhi.places.models import ComponentClass


@admin.register(ComponentClass)
class ComponentClassAdmin(AdminOnly, admin.ModelAdmin):
    list_display = ["code", "name", "major"]
    list_filter = ["major"]
    search_fields = ["code", "name"]
