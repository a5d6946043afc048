"""The staff console (/console/): who may open a page, and its navigation.

The navigation is this one list. A later module adds one NavItem (its URL name and the
permission it needs) and appears for exactly the users who hold that permission.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import wraps

from django.contrib.auth.decorators import login_required
from django.http import Http404
from django.shortcuts import render
from django.urls import reverse
from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _

from gezhi.accounts.roles import Perm
from gezhi.accounts.scope import has_perm
from gezhi.core.errors import NotFound, PermissionDenied


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
    NavItem(_("事件工作台"), "events:queue", Perm.EVENT_VIEW, matches=("events:",)),
    NavItem(_("上报事件"), "events:report", Perm.EVENT_REPORT, matches=("events:report",)),
    NavItem(_("区划网格"), "regions:tree", Perm.CONSOLE, matches=("regions:",)),
    NavItem(_("作战图"), "dashboard:map", Perm.CONSOLE),
    NavItem(_("网格员公示"), "dashboard:staff", Perm.STAFF_VIEW),
    NavItem(_("实有人口"), "people:list", Perm.BASE_VIEW, matches=("people:",)),
    NavItem(_("小区楼栋"), "places:estates", Perm.BASE_VIEW,
            matches=("places:estates", "places:estate", "places:buildings", "places:building")),
    NavItem(_("房屋"), "places:houses", Perm.BASE_VIEW, matches=("places:houses", "places:house")),
    NavItem(_("组织"), "orgs:list", Perm.BASE_VIEW, matches=("orgs:",)),
    NavItem(_("部件"), "places:components", Perm.BASE_VIEW,
            matches=("places:components", "places:component")),
    NavItem(_("网格健康"), "dashboard:health", Perm.BASE_VIEW),
    NavItem(_("指标考核"), "indicators:home", Perm.INDICATOR_VIEW, matches=("indicators:",)),
    NavItem(_("走访覆盖"), "fieldwork:coverage", Perm.FIELD_VIEW, matches=("fieldwork:",)),
    NavItem(_("导入导出"), "dataio:import", Perm.BASE_IMPORT, matches=("dataio:",)),
    NavItem(_("边界导入导出"), "regions:boundaries", Perm.REGION_IMPORT,
            matches=("regions:boundaries", "regions:boundaries_export")),
    NavItem(_("访问日志"), "people:access_log", Perm.ACCESS_LOG_VIEW,
            matches=("people:access_log",)),
    NavItem(_("接入密钥"), "open311_console:keys", Perm.EVENT_CONFIG,
            matches=("open311_console:",)),
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
    as does any object outside their scope (NotFound), so nothing leaks. A missing right over
    an object they may see (PermissionDenied) is a 403 page saying so."""

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
            except PermissionDenied as exc:
                return render(request, "dashboard/denied.html", {"message": exc.message},
                              status=403)

        return wrapped

    return decorate


def client_ip(request) -> str | None:
    """The address the access log records. Behind a reverse proxy, the proxy (or gunicorn's
    forwarded-allow-ips) must put the client's address in REMOTE_ADDR."""
    return request.META.get("REMOTE_ADDR") or None


def grid_choices(viewer, perm: str = Perm.BASE_VIEW) -> list:
    """Grids the viewer holds `perm` over, with their community, for filter and form menus."""
    from gezhi.accounts.scope import visible_to
    from gezhi.regions.models import Level, Region

    return list(visible_to(Region.objects.filter(level=Level.GRID), viewer, perm)
                .select_related("parent").only("code", "name", "path", "parent__name")
                .order_by("path"))


def export_link(request, kind: str) -> str:
    """The export (导出) address of a list with its current filters, for users who may export;
    empty otherwise."""
    from django.urls import NoReverseMatch

    if not has_perm(request.user, Perm.BASE_EXPORT):
        return ""
    try:
        url = reverse("dataio:export", args=[kind])
    except NoReverseMatch:  # the import/export module is not installed
        return ""
    query = request.GET.copy()
    query.pop("page", None)
    return f"{url}?{query.urlencode()}" if query else url
