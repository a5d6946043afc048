"""The staff console (/console/): who may open a page, and its navigation.

The navigation is this one list. A later module adds one NavItem (its URL name and the
permission it needs) and appears for exactly the users who hold that permission.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import wraps

from django.contrib.auth.decorators import login_required
from django.http import Http404
from django.urls import reverse
from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _

from gezhi.accounts.roles import Perm
from gezhi.accounts.scope import has_perm
from gezhi.core.errors import NotFound


@dataclass(frozen=True)
class NavItem:
    label: str | Promise
    url_name: str  # a URL name, or an absolute path starting with "/"
    perm: str
    # View names (namespace:name) or namespaces ("regions:") that mark this item current.
    matches: tuple[str, ...] = ()

    @property
    def url(self) -> str:
        return self.url_name if self.url_name.startswith("/") else reverse(self.url_name)

    def is_current(self, view_name: str) -> bool:
        keys = self.matches or (self.url_name,)
        return any(view_name == k or (k.endswith(":") and view_name.startswith(k)
                                      and view_name not in EXCLUSIVE) for k in keys)


NAV: list[NavItem] = [
    NavItem(_("概览"), "dashboard:home", Perm.CONSOLE),
    NavItem(_("区划网格"), "regions:tree", Perm.CONSOLE, matches=("regions:",)),
    NavItem(_("作战图"), "dashboard:map", Perm.CONSOLE),
    NavItem(_("网格员公示"), "dashboard:staff", Perm.STAFF_VIEW),
    NavItem(_("边界导入导出"), "regions:boundaries", Perm.REGION_IMPORT,
            matches=("regions:boundaries", "regions:boundaries_export")),
    NavItem(_("系统管理"), "/admin/", Perm.ACCOUNTS_MANAGE),
]

# View names claimed by a specific item, so a namespace-wide item does not also light up.
EXCLUSIVE = {m for item in NAV for m in item.matches if not m.endswith(":")}


def nav_for(user, view_name: str = "") -> list[dict]:
    """The navigation items this user may open, with the current one marked."""
    return [{"label": item.label, "url": item.url, "current": item.is_current(view_name)}
            for item in NAV if has_perm(user, item.perm)]


def console_page(perm: str = Perm.CONSOLE):
    """Console views: anonymous users go to the login page; users without `perm` get a 404,
    as does any object outside their scope (NotFound), so nothing leaks."""

    def decorate(view):
        @login_required
        @wraps(view)
        def wrapped(request, *args, **kwargs):
            if not has_perm(request.user, perm):
                raise Http404
            try:
                return view(request, *args, **kwargs)
            except NotFound as exc:
                raise Http404(str(exc.message)) from exc

        return wrapped

    return decorate
