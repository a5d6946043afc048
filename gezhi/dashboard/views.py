"""Staff console pages: overview, situation map (作战图), staff list (网格员公示)."""

from django.core.paginator import Paginator
from django.shortcuts import render
from django.urls import reverse

from gezhi.accounts.roles import Perm
from gezhi.accounts.scope import has_perm
from gezhi.dashboard.console import console_page
from gezhi.people.selectors import tags_for
from gezhi.places.selectors import house_tags
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
    from gezhi.events import selectors as events

    counts = events.queue_counts(viewer=request.user)
    todo = [{"key": q.key, "label": q.label, "count": counts.get(q.key, 0)}
            for q in events.queues_for(request.user) if q.key not in ("all",)]
    return render(request, "dashboard/home.html", {
        "counts": region_counts(viewer=request.user),
        "roots": region_roots(viewer=request.user),
        "todo": todo,
        "field_worker": has_perm(request.user, Perm.FIELD_RECORD),
    })


@console_page()
def situation_map(request):
    """All grids of the viewer's scope, coloured by kind, and the tagged households (画像) as
    coloured dots; one query for grids, one for posts, one for all tagged households."""
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
    marks = _household_marks(request, within=communities.get(community_code))
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
        "events_map_url": (reverse("events:map_data")
                           if has_perm(request.user, Perm.EVENT_VIEW) else ""),
        **marks,
    })


def _household_marks(request, *, within) -> dict:
    """Tagged households for the map, the tag filter and the legend: only tags the viewer may
    see (restricted ones need Perm.SPECIAL_VIEW over the person's grid, checked in SQL)."""
    viewer = request.user
    if not has_perm(viewer, Perm.BASE_VIEW):
        return {"tags": [], "tag_code": "", "legend": [], "marks": None}
    tags = list(tags_for(viewer=viewer))
    by_id = {t.pk: t for t in tags}
    tag = next((t for t in tags if t.code == request.GET.get("tag", "")), None)
    found = house_tags(viewer=viewer, within=within, tag=tag.code if tag else "")
    order = {t.pk: i for i, t in enumerate(tags)}
    houses, per_tag = [], {}
    for house_id, entry in found.items():
        tag_ids = sorted((i for i in entry["tags"] if i in by_id), key=order.__getitem__)
        if not tag_ids or entry["lat"] is None or entry["lon"] is None:
            continue
        for i in tag_ids:
            per_tag[i] = per_tag.get(i, 0) + 1
        houses.append([house_id, round(entry["lat"], 6), round(entry["lon"], 6),
                       entry["address"], [[i, entry["tags"][i]] for i in tag_ids]])
    used = {i: by_id[i] for i in per_tag}
    return {
        "tags": tags,
        "tag_code": tag.code if tag else "",
        "legend": [{"tag": t, "houses": per_tag[t.pk]} for t in tags if t.pk in used],
        "marks": {"tags": {t.pk: {"name": t.name, "colour": t.colour} for t in used.values()},
                  "houses": houses},
        "house_url": reverse("places:house", args=[0]),
    }


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


@console_page(Perm.BASE_VIEW)
def health(request):
    """网格健康: the workload of each grid of a community, flags and split/merge proposals."""
    from gezhi.core.errors import NotFound
    from gezhi.people.health import OVER_FACTOR, UNDER_FACTOR, grid_health, health_communities

    communities = health_communities(viewer=request.user)
    by_code = {c.code: c for c in communities}
    code = request.GET.get("community", "")
    if code and code not in by_code:
        raise NotFound()
    community = by_code.get(code) or (communities[0] if len(communities) == 1 else None)
    report = grid_health(viewer=request.user, community=community) if community else None
    rows, median_pct = [], None
    if report is not None:
        # Bars are CSS widths relative to the heaviest grid (no chart library is vendored).
        top = report.max_households or 1
        rows = [{"load": r, "pct": round(100 * r.households / top, 1)} for r in report.rows]
        if report.median_households:
            median_pct = round(100 * min(report.median_households / top, 1), 1)
    return render(request, "dashboard/health.html", {
        "communities": communities,
        "community": community,
        "report": report,
        "rows": rows,
        "median_pct": median_pct,
        "over_factor": OVER_FACTOR,
        "under_factor": UNDER_FACTOR,
    })
