from django.contrib import admin
from django.contrib.auth.admin import UserAdmin as BaseUserAdmin
from django.utils.translation import gettext_lazy as _

from gezhi.accounts.models import Department, RoleAssignment, User
from gezhi.core.admin import AdminOnly


class RoleAssignmentInline(admin.TabularInline):
    model = RoleAssignment
    extra = 0
    autocomplete_fields = ["region", "department"]


@admin.register(User)
class UserAdmin(AdminOnly, BaseUserAdmin):
    fieldsets = BaseUserAdmin.fieldsets + ((_("格治"), {"fields": ("display_name",)}),)
    list_display = ["username", "display_name", "is_active", "last_login"]
    search_fields = ["username", "display_name"]
    inlines = [RoleAssignmentInline]


@admin.register(Department)
class DepartmentAdmin(AdminOnly, admin.ModelAdmin):
    list_display = ["code", "name", "region"]
    search_fields = ["code", "name"]
    autocomplete_fields = ["region"]
