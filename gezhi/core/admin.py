"""Django admin is for code tables and accounts, and only for system administrators."""

from django.contrib import admin

from gezhi.accounts.roles import Perm
from gezhi.accounts.scope import scope_for


def is_system_admin(user) -> bool:
    return bool(user.is_active and (user.is_superuser
                                    or scope_for(user, Perm.ACCOUNTS_MANAGE).everything))


class AdminOnly:
    def has_module_permission(self, request):
        return is_system_admin(request.user)

    def has_view_permission(self, request, obj=None):
        return is_system_admin(request.user)

    def has_add_permission(self, request, *args):
        return is_system_admin(request.user)

    def has_change_permission(self, request, obj=None):
        return is_system_admin(request.user)

    def has_delete_permission(self, request, obj=None):
        return is_system_admin(request.user)


def _admin_site_has_permission(request):
    return is_system_admin(request.user)


admin.site.has_permission = _admin_site_has_permission
