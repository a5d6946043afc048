"""Grid health (网格设置原则: 规模适度、任务相当、无缝覆盖、动态调整): the workload of each grid of a
community, the grids far above or below the community's median, and which to split or merge.

Workload is counted in households (户数), the measure grid rules are written in. Only basic
grids (基础网格) are compared: a dedicated grid (专属网格) serves a school, hospital or market,
so its household count says nothing about its workload; it is listed but never flagged.
"""

from __future__ import annotations

import statistics
from dataclasses import dataclass, field

import shapely
from django.db.models import Count, Q
from django.utils.translation import gettext as _
from shapely.geometry import shape

from gezhi.accounts.roles import Perm
from gezhi.accounts.scope import scope_for, visible_to
from gezhi.core.errors import NotFound
from gezhi.people.codes import Sensitivity
from gezhi.people.models import Household, Person, PersonTag
from gezhi.places.models import House
from gezhi.regions.geometry import to_metres
from gezhi.regions.models import GridKind, Level, Region

# A grid is flagged above OVER_FACTOR × the community median of households, or below
# UNDER_FACTOR × it; a merge is proposed only if the merged grid would not itself be flagged.
OVER_FACTOR = 1.5
UNDER_FACTOR = 0.5
# Two grids are neighbours when their boundaries share at least this much edge (a corner
# touch does not make a sensible merged grid); edges within the tolerance count as shared,
# so a tiling with rounding slivers still finds its neighbours.
SHARED_EDGE_MIN_M = 10.0
EDGE_TOLERANCE_M = 1.0

OVER = "over"
UNDER = "under"


@dataclass
class GridLoad:
    grid: Region
    households: int = 0
    people: int = 0
    care_tagged: int = 0  # people with a care tag (关爱对象)
    special_tagged: int | None = None  # people with a special-group tag; None if not shown
    houses: int = 0
    compared: bool = True  # basic grids are compared with the median, dedicated ones are not
    ratio: float | None = None  # households / community median
    flag: str = ""  # OVER, UNDER or ""

    @property
    def area_km2(self) -> float | None:
        return None if self.grid.area_m2 is None else self.grid.area_m2 / 1_000_000

    @property
    def flag_label(self) -> str:
        return {OVER: _("规模过大"), UNDER: _("规模过小")}.get(self.flag, "")


@dataclass
class Split:
    load: GridLoad
    parts: int

    @property
    def households_per_part(self) -> int:
        return round(self.load.households / self.parts)

    @property
    def message(self) -> str:
        return _("建议将“%(grid)s”(%(n)d 户)拆分为 %(parts)d 个网格,每个约 %(each)d 户。") % {
            "grid": self.load.grid.name, "n": self.load.households, "parts": self.parts,
            "each": self.households_per_part}


@dataclass
class Merge:
    load: GridLoad
    neighbour: GridLoad

    @property
    def households(self) -> int:
        return self.load.households + self.neighbour.households

    @property
    def message(self) -> str:
        return _("建议将“%(grid)s”(%(n)d 户)与相邻的“%(other)s”(%(m)d 户)合并,合并后 %(sum)d 户。") % {
            "grid": self.load.grid.name, "n": self.load.households,
            "other": self.neighbour.grid.name, "m": self.neighbour.households,
            "sum": self.households}


@dataclass
class HealthReport:
    community: Region
    rows: list[GridLoad]
    median_households: float | None
    special_visible: bool
    splits: list[Split] = field(default_factory=list)
    merges: list[Merge] = field(default_factory=list)
    # Under-threshold grids for which no merge fits (no neighbour light enough, or no boundary).
    unmatched: list[GridLoad] = field(default_factory=list)
    over_factor: float = OVER_FACTOR
    under_factor: float = UNDER_FACTOR

    @property
    def over_limit(self) -> float | None:
        return None if self.median_households is None else self.median_households * OVER_FACTOR

    @property
    def under_limit(self) -> float | None:
        return None if self.median_households is None else self.median_households * UNDER_FACTOR

    @property
    def totals(self) -> dict:
        return {
            "households": sum(r.households for r in self.rows),
            "people": sum(r.people for r in self.rows),
            "care_tagged": sum(r.care_tagged for r in self.rows),
            "special_tagged": (sum(r.special_tagged or 0 for r in self.rows)
                               if self.special_visible else None),
            "houses": sum(r.houses for r in self.rows),
        }

    @property
    def max_households(self) -> int:
        return max((r.households for r in self.rows), default=0)


def health_communities(*, viewer) -> list[Region]:
    """Communities the viewer holds Perm.BASE_VIEW over (a whole community, not one grid)."""
    return list(visible_to(Region.objects.filter(level=Level.COMMUNITY), viewer, Perm.BASE_VIEW)
                .select_related("parent").order_by("path"))


def health_community_get(*, viewer, code: str) -> Region:
    community = (Region.objects.filter(code=code, level=Level.COMMUNITY)
                 .select_related("parent").first())
    if community is None or not scope_for(viewer, Perm.BASE_VIEW).covers_path(community.path):
        raise NotFound()
    return community


def _counts(queryset, key: str, **aggregates) -> dict[int, dict]:
    # order_by() drops the models' default ordering, which would otherwise join the GROUP BY.
    rows = queryset.order_by().values(key).annotate(**aggregates)
    return {row[key]: row for row in rows}


def grid_health(*, viewer, community: Region) -> HealthReport:
    """The health report of one community: five aggregate queries, however many grids."""
    scope = scope_for(viewer, Perm.BASE_VIEW)
    if community.level != Level.COMMUNITY or not scope.covers_path(community.path):
        raise NotFound()
    special_visible = scope_for(viewer, Perm.SPECIAL_VIEW).covers_path(community.path)
    grids = list(Region.objects.filter(parent=community, level=Level.GRID)
                 .order_by("sort_order", "path"))
    ids = [g.pk for g in grids]
    households = _counts(Household.objects.filter(grid__in=ids), "grid", n=Count("id"))
    people = _counts(Person.objects.filter(grid__in=ids), "grid", n=Count("id"))
    houses = _counts(House.objects.filter(grid__in=ids), "grid", n=Count("id"))
    restricted = Q(tag__sensitivity=Sensitivity.RESTRICTED)
    tagged = _counts(
        PersonTag.objects.filter(removed_at__isnull=True, person__grid__in=ids), "person__grid",
        care=Count("person", distinct=True, filter=~restricted),
        special=Count("person", distinct=True, filter=restricted))
    rows = []
    for grid in grids:
        tags = tagged.get(grid.pk, {})
        rows.append(GridLoad(
            grid=grid, households=households.get(grid.pk, {}).get("n", 0),
            people=people.get(grid.pk, {}).get("n", 0), care_tagged=tags.get("care", 0),
            special_tagged=tags.get("special", 0) if special_visible else None,
            houses=houses.get(grid.pk, {}).get("n", 0),
            compared=grid.grid_kind != GridKind.DEDICATED))
    compared = [r for r in rows if r.compared]
    median = statistics.median(r.households for r in compared) if compared else None
    report = HealthReport(community=community, rows=rows, median_households=median,
                          special_visible=special_visible)
    if not median:
        return report  # no households recorded: nothing to compare with
    for row in compared:
        row.ratio = row.households / median
        if row.households > OVER_FACTOR * median:
            row.flag = OVER
        elif row.households < UNDER_FACTOR * median:
            row.flag = UNDER
    _propose(report, compared, median)
    return report


def _propose(report: HealthReport, compared: list[GridLoad], median: float) -> None:
    over = sorted((r for r in compared if r.flag == OVER), key=lambda r: -r.households)
    # Parts that bring each piece nearest the median; a flagged grid splits in at least two.
    report.splits = [Split(load=r, parts=max(2, round(r.households / median))) for r in over]
    neighbours = _neighbours(compared)
    taken = {r.grid.pk for r in over}
    for row in sorted((r for r in compared if r.flag == UNDER),
                      key=lambda r: (r.households, r.grid.path)):
        if row.grid.pk in taken:
            continue  # already the partner of a lighter grid's merge
        candidates = sorted((n for n in neighbours.get(row.grid.pk, ()) if n.grid.pk not in taken),
                            key=lambda n: (n.households, n.grid.path))
        if candidates and row.households + candidates[0].households <= OVER_FACTOR * median:
            report.merges.append(Merge(load=row, neighbour=candidates[0]))
            taken |= {row.grid.pk, candidates[0].grid.pk}
        else:
            report.unmatched.append(row)


def _neighbours(rows: list[GridLoad]) -> dict[int, list[GridLoad]]:
    """Grids whose boundaries share an edge, found with Shapely in a local metric plane."""
    with_shape = [r for r in rows if r.grid.boundary]
    if len(with_shape) < 2:
        return {}
    lat0 = sum(r.grid.centroid_lat or 0 for r in with_shape) / len(with_shape)
    geoms = [to_metres(shape(r.grid.boundary), lat0) for r in with_shape]
    tree = shapely.STRtree(geoms)
    found: dict[int, list[GridLoad]] = {}
    for i, geom in enumerate(geoms):
        margin = geom.buffer(EDGE_TOLERANCE_M)
        for j in tree.query(margin, predicate="intersects"):
            if j != i and shapely.intersection(geoms[j].boundary, margin).length >= SHARED_EDGE_MIN_M:
                found.setdefault(with_shape[i].grid.pk, []).append(with_shape[j])
    return found
