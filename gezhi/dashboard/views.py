"""Staff console pages: overview, situation map (作战图), staff list (网格员公示)."""

from django.core.paginator import Paginator
from django.shortcuts import render
from django.urls import reverse

from gezhi.accounts.roles import Perm
from gezhi.dashboard.console import console_page
from gezhi.regions.models import GridKind, PostKind
from gezhi.regions.selectors import (
    grid_list,
    grid_posts,
    region_counts,
    region_feature,
    region_roots,
    staff_list,
)

STAFF_PAGE_SIZE = 50


@console_page()
def home(request):
    return render(request, "dashboard/home.html", {
        "counts": region_counts(viewer=request.user),
        "roots": region_roots(viewer=request.user),
    })


@console_page()
def situation_map(request):
    """All grids of the viewer's scope, coloured by kind; one query for grids, one for posts."""
    grids = list(grid_list(viewer=request.user))
    communities = {}
    for grid in grids:
        if grid.parent_id and grid.parent.code not in communities:
            communities[grid.parent.code] = grid.parent
    community_code = request.GET.get("community", "")
    if community_code in communities:
        grids = [g for g in grids if g.parent_id and g.parent.code == community_code]
    else:
        community_code = ""
    posts = grid_posts(grids=grids)
    features = []
    rows = []
    for grid in grids:
        staff = [{"kind_label": str(p.get_kind_display()), "name": p.member.name,
                  "phone": p.member.work_phone} for p in posts.get(grid.id, [])]
        rows.append({"grid": grid, "posts": posts.get(grid.id, [])})
        if grid.boundary:
            features.append(region_feature(
                grid, kind=grid.grid_kind, kind_label=str(grid.get_grid_kind_display()),
                purpose=grid.purpose, community=grid.parent.name if grid.parent_id else "",
                url=reverse("regions:detail", args=[grid.code]), staff=staff))
    return render(request, "dashboard/map.html", {
        "rows": rows,
        "geojson": {"type": "FeatureCollection", "features": features},
        "communities": sorted(communities.values(), key=lambda c: c.path),
        "community_code": community_code,
        "kinds": GridKind.choices,
        "without_boundary": sum(1 for g in grids if not g.boundary),
    })


@console_page(Perm.STAFF_VIEW)
def staff(request):
    """网格员公示 as staff manage it: every post of the scope, published or not."""
    grids = list(grid_list(viewer=request.user).select_related(None).only("code", "name", "path"))
    grid_by_code = {g.code: g for g in grids}
    grid_code = request.GET.get("grid", "")
    kind = request.GET.get("kind", "")
    grid = grid_by_code.get(grid_code)
    if kind not in PostKind.values:
        kind = ""
    posts = staff_list(viewer=request.user, grid=grid, kind=kind)
    page = Paginator(posts, STAFF_PAGE_SIZE).get_page(request.GET.get("page"))
    return render(request, "dashboard/staff.html", {
        "page_obj": page,
        "grids": grids,
        "grid_code": grid.code if grid else "",
        "kind": kind,
        "kinds": PostKind.choices,
        "filtered": bool(grid or kind),
    })
