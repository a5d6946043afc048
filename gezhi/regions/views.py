"""Console pages of the region tree: the tree, a region's page, a grid's page."""

from dataclasses import asdict, is_dataclass

from django.contrib import messages
from django.http import JsonResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from gezhi.accounts.roles import Perm
from gezhi.core.errors import ValidationFailed
from gezhi.dashboard.console import console_page
from gezhi.regions.boundaries import PROBLEM_KINDS, boundaries_export, boundaries_import
from gezhi.regions.forms import BoundaryImportForm
from gezhi.regions.models import Level
from gezhi.regions.selectors import (
    grid_party_orgs,
    grid_posts,
    region_breadcrumbs,
    region_children,
    region_children_counts,
    region_counts,
    region_feature,
    region_get,
    region_list,
    region_roots,
)

SEARCH_LIMIT = 50
# Levels that are never an export scope: a grid's own export is one feature of its community's.
EXPORT_EXCLUDED = (Level.GRID, Level.MICROGRID)
EXPORT_LEVELS = [(Level.GRID, Level.GRID.label), (Level.COMMUNITY, Level.COMMUNITY.label),
                 (Level.SUBDISTRICT, Level.SUBDISTRICT.label), ("", gettext_lazy("全部层级"))]


@console_page()
def tree(request):
    """The viewer's scope as a tree; children load on demand (htmx), or a search over it."""
    q = request.GET.get("q", "").strip()
    context = {"q": q}
    if q:
        results = list(region_list(viewer=request.user, q=q)[:SEARCH_LIMIT + 1])
        context.update(results=results[:SEARCH_LIMIT], truncated=len(results) > SEARCH_LIMIT)
    else:
        roots = region_roots(viewer=request.user)
        counts = region_children_counts(regions=roots)
        for node in roots:
            node.children_count = counts.get(node.id, 0)
        context["roots"] = roots
    return render(request, "regions/tree.html", context)


@console_page()
def children(request, code):
    region = region_get(viewer=request.user, code=code)
    return render(request, "regions/_children.html",
                  {"region": region, "nodes": region_children(viewer=request.user, region=region)})


@console_page()
def detail(request, code):
    region = region_get(viewer=request.user, code=code)
    context = {
        "region": region,
        "breadcrumbs": region_breadcrumbs(viewer=request.user, region=region),
    }
    if region.level == Level.GRID:
        posts = grid_posts(grids=[region]).get(region.id, [])
        context.update(
            posts=posts,
            published_count=len({p.member_id for p in posts if p.member.published}),
            party_orgs=list(grid_party_orgs(viewer=request.user, grid=region)),
            children=region_children(viewer=request.user, region=region),
            geojson={"type": "FeatureCollection", "features": [
                region_feature(region, kind=region.grid_kind)] if region.boundary else []},
        )
        return render(request, "regions/grid.html", context)
    nodes = region_children(viewer=request.user, region=region)
    features = [region_feature(child, kind=child.grid_kind or "region",
                               level_label=str(child.get_level_display()),
                               url=reverse("regions:detail", args=[child.code]))
                for child in nodes if child.boundary]
    context.update(
        children=nodes,
        counts=region_counts(viewer=request.user, within=region),
        geojson={"type": "FeatureCollection", "features": features},
        outline={"type": "FeatureCollection",
                 "features": [region_feature(region)] if region.boundary else []},
    )
    return render(request, "regions/region.html", context)


@console_page(Perm.REGION_IMPORT)
def boundaries(request):
    """Import grid boundaries from GeoJSON (a dry run first), and download the export.

    Nothing is written unless the whole file passes every check (boundaries_import)."""
    report = None
    problems = []
    failed = ""
    dry_run = True
    if request.method == "POST":
        form = BoundaryImportForm(request.POST, request.FILES)
        if form.is_valid():
            dry_run = form.cleaned_data["dry_run"]
            try:
                report = boundaries_import(collection=form.cleaned_data["file"],
                                           actor=request.user, dry_run=dry_run)
                problems = report.problems
            except ValidationFailed as exc:
                failed = str(exc.message)
                problems = exc.details.get("problems", [])
            if report is not None and not dry_run:
                messages.success(request, _("导入完成:新增 %(created)d 个、更新 %(updated)d 个区划边界。")
                                 % {"created": len(report.created), "updated": len(report.updated)})
                return redirect("regions:boundaries")
    else:
        form = BoundaryImportForm()
    return render(request, "regions/boundaries.html", {
        "form": form,
        "report": report,
        "dry_run": dry_run,
        "problems": [_problem(p) for p in problems],
        "failed": failed,
        "export_scopes": region_list(viewer=request.user).exclude(level__in=EXPORT_EXCLUDED),
        "export_levels": EXPORT_LEVELS,
    })


@console_page(Perm.REGION_IMPORT)
def boundaries_download(request):
    within = None
    code = request.GET.get("within", "")
    if code:
        within = region_get(viewer=request.user, code=code)
    level = request.GET.get("level", Level.GRID)
    if level not in dict(EXPORT_LEVELS):
        level = Level.GRID
    collection = boundaries_export(viewer=request.user, within=within, level=level or None)
    name = (f"gezhi-{level or 'all'}-{within.code if within else 'scope'}-"
            f"{timezone.localdate():%Y%m%d}.geojson")
    response = JsonResponse(collection, json_dumps_params={"ensure_ascii": False},
                            content_type="application/geo+json")
    response["Content-Disposition"] = f'attachment; filename="{name}"'
    return response


def _problem(problem) -> dict:
    data = asdict(problem) if is_dataclass(problem) else dict(problem)
    data["codes"] = list(data.get("codes") or ())
    data["kind_label"] = str(PROBLEM_KINDS.get(data.get("kind"), data.get("kind") or ""))
    return data
