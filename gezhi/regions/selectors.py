"""Region reads. Every list goes through the one scope filter, `visible_to`."""

from __future__ import annotations

from django.db.models import Count, Prefetch, Q, QuerySet
from django.utils.translation import gettext as _

from gezhi.accounts.roles import Perm
from gezhi.accounts.scope import scope_for, visible_to
from gezhi.core.errors import NotFound, ValidationFailed
from gezhi.regions import spatial
from gezhi.regions.models import POST_ORDER, GridPost, Level, Region


def region_list(*, viewer, level: str | None = None, parent: Region | None = None,
                q: str = "", grid_kind: str = "") -> QuerySet[Region]:
    qs = visible_to(Region.objects.all(), viewer, Perm.CONSOLE)
    if level:
        qs = qs.filter(level=level)
    if parent is not None:
        qs = qs.filter(parent=parent)
    if grid_kind:
        qs = qs.filter(grid_kind=grid_kind)
    if q:
        qs = qs.filter(Q(name__icontains=q) | Q(code__startswith=q) | Q(description__icontains=q))
    return qs.order_by("path")


def region_get(*, viewer, code: str) -> Region:
    """One region of the viewer's scope; NotFound (404) otherwise, so nothing leaks."""
    region = (visible_to(Region.objects.all(), viewer, Perm.CONSOLE)
              .select_related("parent").filter(code=code).first())
    if region is None:
        raise NotFound()
    return region


def region_roots(*, viewer) -> list[Region]:
    """The top nodes of the viewer's scope: their tree starts there."""
    scope = scope_for(viewer, Perm.CONSOLE)
    if scope.everything:
        return list(Region.objects.filter(parent__isnull=True).order_by("path"))
    return list(Region.objects.filter(path__in=scope.paths).order_by("path"))


def region_children_counts(*, regions) -> dict[int, int]:
    counts = (Region.objects.filter(parent__in=regions).values("parent")
              .annotate(n=Count("id")).values_list("parent", "n"))
    return dict(counts)


def grid_list(*, viewer, within: Region | None = None, grid_kind: str = "",
              q: str = "") -> QuerySet[Region]:
    qs = region_list(viewer=viewer, level=Level.GRID, grid_kind=grid_kind, q=q)
    if within is not None:
        qs = qs.filter(path__startswith=within.path)
    return qs.select_related("parent")


def grid_posts(*, grids, published_only: bool = False) -> dict[int, list[GridPost]]:
    """Posts of the given grids, ordered by post rank, in one query."""
    qs = GridPost.objects.filter(grid__in=grids).select_related("member")
    if published_only:
        qs = qs.filter(member__published=True)
    rank = {kind: i for i, kind in enumerate(POST_ORDER)}
    by_grid: dict[int, list[GridPost]] = {}
    for post in sorted(qs, key=lambda p: (rank.get(p.kind, 99), p.sort_order, p.id)):
        by_grid.setdefault(post.grid_id, []).append(post)
    return by_grid


def staff_list(*, viewer, grid: Region | None = None, kind: str = "") -> QuerySet[GridPost]:
    qs = visible_to(GridPost.objects.all(), viewer, Perm.STAFF_VIEW).select_related(
        "member", "grid")
    if grid is not None:
        qs = qs.filter(grid__path__startswith=grid.path)
    if kind:
        qs = qs.filter(kind=kind)
    return qs.order_by("grid__path", "sort_order", "id")


def check_point(lat: float, lon: float) -> None:
    if not (-90 <= lat <= 90 and -180 <= lon <= 180):
        raise ValidationFailed(_("经纬度超出范围:纬度应在 -90 到 90 之间,经度应在 -180 到 180 之间。"),
                               code="bad_point")


def grid_at(*, lat: float, lon: float) -> Region | None:
    """The grid containing a WGS-84 point (public: grid boundaries are published)."""
    check_point(lat, lon)
    grid_id = spatial.grid_index().lookup(lon, lat)
    if grid_id is None:
        return None
    return Region.objects.select_related("parent__parent").get(pk=grid_id)


def grids_at(*, points: list[tuple[float, float]]) -> list[Region | None]:
    """Grids containing each (lat, lon) point, in order; None where outside every grid."""
    for lat, lon in points:
        check_point(lat, lon)
    ids = spatial.grid_index().lookup_many([p[1] for p in points], [p[0] for p in points])
    found = Region.objects.select_related("parent").in_bulk([i for i in ids if i is not None])
    return [found.get(i) if i is not None else None for i in ids]


def public_grid_search(*, q: str, limit: int = 20) -> QuerySet[Region]:
    """Grids whose name, community, or covered streets/estates match an address text."""
    q = q.strip()
    if not q:
        return Region.objects.none()
    return (Region.objects.grids()
            .filter(Q(name__icontains=q) | Q(description__icontains=q)
                    | Q(parent__name__icontains=q) | Q(purpose__icontains=q))
            .select_related("parent__parent").order_by("path")[:limit])


def grid_prefetch_posts(published_only: bool = True) -> Prefetch:
    qs = GridPost.objects.select_related("member")
    if published_only:
        qs = qs.filter(member__published=True)
    return Prefetch("posts", queryset=qs)


# --- Page reads (console and portal pages) ---------------------------------------------


def region_counts(*, viewer, within: Region | None = None) -> dict:
    """Communities, grids by kind and grid posts by kind in the viewer's scope (or a subtree).

    Two queries: one aggregate over regions, one grouped count over posts.
    """
    from gezhi.regions.models import GridKind

    regions = visible_to(Region.objects.all(), viewer, Perm.CONSOLE)
    posts = visible_to(GridPost.objects.all(), viewer, Perm.STAFF_VIEW)
    if within is not None:
        regions = regions.filter(path__startswith=within.path).exclude(pk=within.pk)
        posts = posts.filter(grid__path__startswith=within.path)
    totals = regions.aggregate(
        subdistricts=Count("id", filter=Q(level=Level.SUBDISTRICT)),
        communities=Count("id", filter=Q(level=Level.COMMUNITY)),
        grids_basic=Count("id", filter=Q(level=Level.GRID, grid_kind=GridKind.BASIC)),
        grids_dedicated=Count("id", filter=Q(level=Level.GRID, grid_kind=GridKind.DEDICATED)),
    )
    by_kind = dict(posts.order_by().values("kind").annotate(n=Count("id")).values_list("kind", "n"))
    totals["grids"] = totals["grids_basic"] + totals["grids_dedicated"]
    totals["posts"] = [(kind, kind.label, by_kind.get(kind, 0)) for kind in POST_ORDER]
    totals["posts_total"] = sum(by_kind.values())
    return totals


def region_breadcrumbs(*, viewer, region: Region) -> list[Region]:
    """Ancestors of a region that the viewer may see, from the top down (one query)."""
    return list(visible_to(region.ancestors(), viewer, Perm.CONSOLE))


def region_children(*, viewer, region: Region) -> list[Region]:
    """Children of a visible region with `children_count` set (two queries)."""
    children = list(region_list(viewer=viewer, parent=region))
    counts = region_children_counts(regions=children)
    for child in children:
        child.children_count = counts.get(child.id, 0)
    return children


def grid_party_orgs(*, viewer, grid: Region):
    """Party organisations bound to a grid (支部建在网格上)."""
    from gezhi.party.models import PartyOrg

    return visible_to(PartyOrg.objects.filter(region=grid), viewer, Perm.CONSOLE).select_related(
        "parent")


def region_feature(region: Region, **properties) -> dict:
    """A GeoJSON Feature of a region's stored boundary (as stored, not simplified)."""
    return {"type": "Feature", "id": region.code, "geometry": region.boundary,
            "properties": {"code": region.code, "name": region.name, **properties}}


def public_map_extent() -> dict:
    """The bounding box of all grids and the outlines of communities, for the public map.

    Grid boundaries are public (a resident finds their grid by them); nothing else is.
    """
    from django.db.models import Max, Min

    box = Region.objects.grids().aggregate(
        min_lon=Min("min_lon"), min_lat=Min("min_lat"),
        max_lon=Max("max_lon"), max_lat=Max("max_lat"))
    bounds = None
    if box["min_lon"] is not None:
        bounds = [[box["min_lat"], box["min_lon"]], [box["max_lat"], box["max_lon"]]]
    communities = (Region.objects.filter(level=Level.COMMUNITY, boundary__isnull=False)
                   .only("code", "name", "boundary").order_by("path"))
    return {"bounds": bounds,
            "outlines": {"type": "FeatureCollection",
                         "features": [region_feature(c) for c in communities]}}


# --- API reads (gezhi/*/api.py) -------------------------------------------------------


def in_subtree_of(queryset: QuerySet, code: str, lookup: str = "path") -> QuerySet:
    """Narrow an already scoped queryset to the subtree of the region with `code`.

    The region itself need not be visible (a grid worker may ask for the grids of their
    community): the result never leaves the queryset's scope, and an unknown code gives nothing.
    The region is found in a subquery, so this adds no query.
    """
    from django.db.models import Subquery

    node_path = Region.objects.filter(code=code).values("path")[:1]
    return queryset.filter(**{f"{lookup}__startswith": Subquery(node_path)})


def region_search(*, viewer, level: str = "", parent_code: str = "", q: str = "",
                  grid_kind: str = "") -> QuerySet[Region]:
    """Visible regions with `children_count`, optionally only the children of `parent_code`."""
    qs = region_list(viewer=viewer, level=level or None, q=q, grid_kind=grid_kind)
    if parent_code:
        qs = qs.filter(parent__code=parent_code)
    # Children of a visible region are visible too (scope is a whole subtree), so the count
    # needs no scope filter of its own.
    return qs.select_related("parent").annotate(children_count=Count("children"))


def region_children_of(*, viewer, region: Region) -> QuerySet[Region]:
    """Visible children of a region the viewer may see, with `children_count`."""
    return region_search(viewer=viewer).filter(parent=region)


def region_detail(*, viewer, code: str) -> tuple[Region, list[tuple[Region, bool]], int]:
    """A visible region, its ancestors from the top down each with whether the viewer may open
    it, and its number of children (three queries)."""
    region = region_get(viewer=viewer, code=code)
    scope = scope_for(viewer, Perm.CONSOLE)
    ancestors = [(a, scope.covers_path(a.path)) for a in region.ancestors()]
    return region, ancestors, Region.objects.filter(parent=region).count()


def grid_get(*, viewer, code: str) -> Region:
    """One grid of the viewer's scope; NotFound for other regions and grids outside it."""
    region = region_get(viewer=viewer, code=code)
    if not region.is_grid:
        raise NotFound()
    return region


def grid_summaries(*, viewer, within_code: str = "", grid_kind: str = "",
                   q: str = "") -> QuerySet[Region]:
    """Visible grids with their community and `staff_count` (people holding posts), one query."""
    qs = grid_list(viewer=viewer, grid_kind=grid_kind, q=q)
    if within_code:
        qs = in_subtree_of(qs, within_code)
    return qs.annotate(staff_count=Count("posts__member", distinct=True))


def grid_staff_visible(*, viewer, grid: Region) -> list[GridPost]:
    """The posts of one grid as the viewer may see them: all posts with Perm.STAFF_VIEW over
    the grid, otherwise only published (公示) staff."""
    full = scope_for(viewer, Perm.STAFF_VIEW).covers_path(grid.path)
    return grid_posts(grids=[grid], published_only=not full).get(grid.id, [])


def staff_search(*, viewer, grid_code: str = "", kind: str = "") -> QuerySet[GridPost]:
    """Visible grid posts (Perm.STAFF_VIEW), optionally within the subtree of `grid_code`."""
    qs = staff_list(viewer=viewer, kind=kind)
    if grid_code:
        qs = in_subtree_of(qs, grid_code, "grid__path")
    return qs


def outside_grids() -> NotFound:
    return NotFound(_("该位置不在任何网格内,请核对位置,或按街道、小区名称查找。"),
                    code="outside_grids")


def grid_locate(*, viewer, lat: float, lon: float) -> Region:
    """The grid at a point if the viewer may see it.

    Outside every grid: NotFound "outside_grids"; inside a grid outside the viewer's scope:
    the plain NotFound, exactly as for an unknown grid, so nothing leaks.
    """
    grid = grid_at(lat=lat, lon=lon)
    if grid is None:
        raise outside_grids()
    if not scope_for(viewer, Perm.CONSOLE).covers_path(grid.path):
        raise NotFound()
    return grid


def grids_locate(*, viewer, points: list[tuple[float, float]]) -> list[Region | None]:
    """Grids at each (lat, lon) point, in order; None outside every grid or the viewer's scope."""
    scope = scope_for(viewer, Perm.CONSOLE)
    return [g if g is not None and scope.covers_path(g.path) else None
            for g in grids_at(points=points)]


def public_grid_at(*, lat: float, lon: float) -> tuple[Region, list[GridPost]]:
    """The grid at a point and its published staff (public: both are 公示 information)."""
    grid = grid_at(lat=lat, lon=lon)
    if grid is None:
        raise outside_grids()
    return grid, grid_posts(grids=[grid], published_only=True).get(grid.id, [])


def public_grid_search_with_staff(*, q: str) -> list[tuple[Region, list[GridPost]]]:
    """Grids matching an address text, each with its published staff (two queries)."""
    grids = list(public_grid_search(q=q))
    posts = grid_posts(grids=grids, published_only=True)
    return [(grid, posts.get(grid.id, [])) for grid in grids]


def region_for_filter(*, code: str) -> Region | None:
    """The region with `code`, visible or not, only to narrow a read that is scoped on its own
    (e.g. boundaries_export(within=...)); never show it to the viewer."""
    return Region.objects.filter(code=code).only("id", "code", "path").first()
