"""Region reads. Every list goes through the one scope filter, `visible_to`."""

from __future__ import annotations

from django.db.models import Count, Prefetch, Q, QuerySet

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
        raise ValidationFailed("经纬度超出范围:纬度应在 -90 到 90 之间,经度应在 -180 到 180 之间。",
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
