"""Console pages for organisations (组织): the list and the organisation's page with its
contact phone masked, revealed only through the logged reveal."""

from __future__ import annotations

from django.core.paginator import Paginator
from django.shortcuts import render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from gezhi.accounts.roles import Perm
from gezhi.accounts.scope import has_perm, visible_to
from gezhi.core.errors import PermissionDenied, ValidationFailed
from gezhi.dashboard.console import client_ip, console_page, export_link, grid_choices
from gezhi.events.selectors import events_about
from gezhi.orgs.models import OrgKind
from gezhi.orgs.selectors import organisation_get, organisation_list
from gezhi.people.forms import REVEAL_REASONS
from gezhi.people.services import personal_reveal
from gezhi.places.views import point_map

PAGE_SIZE = 50


@console_page(Perm.BASE_VIEW)
def organisation_list_page(request):
    grids = grid_choices(request.user)
    grid = {g.code: g for g in grids}.get(request.GET.get("grid", ""))
    kind = request.GET.get("kind", "")
    if kind not in OrgKind.values:
        kind = ""
    q = request.GET.get("q", "").strip()[:50]
    qs = organisation_list(viewer=request.user, grid=grid, kind=kind, q=q)
    page = Paginator(qs, PAGE_SIZE).get_page(request.GET.get("page"))
    return render(request, "orgs/list.html", {
        "page_obj": page, "grids": grids, "grid_code": grid.code if grid else "",
        "kinds": OrgKind.choices, "kind": kind, "q": q,
        "filtered": bool(grid or kind or q),
        "export_url": export_link(request, "orgs"),
    })


def _page(request, org, **extra):
    return {
        "org": org,
        "can_reveal": has_perm(request.user, Perm.REVEAL, path=org.grid.path),
        "reveal_reasons": REVEAL_REASONS,
        "revealed": {},
        "reveal_errors": {},
        "managed_estates": list(visible_to(org.managed_estates.order_by("name"), request.user,
                                           Perm.BASE_VIEW))
        if org.kind == OrgKind.PROPERTY_COMPANY else [],
        "map_data": point_map(org.grid, [{"lat": org.lat, "lon": org.lon, "label": org.name}]),
        "related_events": events_about(viewer=request.user, organisation=org),
        **extra,
    }


@console_page(Perm.BASE_VIEW)
def organisation_detail(request, pk):
    org = organisation_get(viewer=request.user, pk=pk)
    return render(request, "orgs/organisation.html", _page(request, org))


@require_POST
@console_page(Perm.BASE_VIEW)
def organisation_reveal(request, pk):
    """The contact phone in full, once, with a reason; logged (gezhi.people.services)."""
    org = organisation_get(viewer=request.user, pk=pk)
    if not has_perm(request.user, Perm.REVEAL, path=org.grid.path):
        raise PermissionDenied(_("您没有查看明文的权限。"))
    revealed, errors = {}, {}
    try:
        revealed["contact_phone"] = personal_reveal(
            actor=request.user, obj=org, field="contact_phone",
            reason=request.POST.get("reason", "")[:200], ip_address=client_ip(request))
    except ValidationFailed as exc:
        errors["contact_phone"] = exc.message
    response = render(request, "orgs/organisation.html",
                      _page(request, org, revealed=revealed, reveal_errors=errors),
                      status=422 if errors else 200)
    response["Cache-Control"] = "no-store"
    return response
