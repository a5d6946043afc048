"""Point-to-grid lookup with an in-process STRtree.

The tree holds every grid boundary. It is rebuilt when the spatial version (bumped in the
same transaction as any boundary change) differs from the one it was built at; a process
checks the version at most every GEZHI_SPATIAL_RECHECK_SECONDS, and at once after a change
made in the same process.

A lookup does not walk the tree. At build time the extent of all grids is cut into a raster of
small cells, and the tree answers once per cell which grids reach into it: a cell inside
a single grid answers a lookup with one array read, a cell that no grid reaches answers None,
and only a cell that a grid edge crosses tests the point against its few candidate grids
(prepared geometries, no Point object). That keeps a single lookup at a microsecond or two
and lets a batch run as a handful of NumPy operations (see docs/benchmarks.md).

A point on an edge shared by several grids belongs to one of them, deterministically: a
dedicated grid (专属网格) wins over a basic one, then the grid that comes first in the rows the
index was built from (the database loads them in path order).
"""

from __future__ import annotations

import math
import threading
import time
from array import array
from dataclasses import dataclass, field

import numpy as np
import shapely
from django.conf import settings
from shapely import lib
from shapely.strtree import STRtree

_lock = threading.Lock()
_state: dict = {"index": None, "checked_at": 0.0}

EMPTY = -1  # raster cell that no grid reaches
# About this many raster cells across the bounding box of a typical grid; a cell crossed by an
# edge costs a point-in-polygon test, so finer cells make lookups faster and builds slower.
CELLS_ACROSS_GRID = 6
MAX_CELLS = 2_000_000


@dataclass(frozen=True, eq=False)
class _Raster:
    x0: float
    y0: float
    x1: float
    y1: float
    kx: float  # cells per degree of longitude
    ky: float
    nx: int
    ny: int
    # Per cell: a geometry index (>= 0) for a cell inside that one geometry, EMPTY, or
    # -2 - k for a mixed cell whose candidates are mixed_candidates[k].
    cells: array
    cells_np: np.ndarray
    mixed: list  # tuples of geometry indices, in priority order
    mixed_offsets: np.ndarray  # the same candidates as CSR arrays, for batches
    mixed_flat: np.ndarray


@dataclass(frozen=True, eq=False)
class GridIndex:
    version: int
    tree: STRtree | None = field(repr=False)
    ids: np.ndarray = field(repr=False)  # Region ids, parallel to the tree's geometries
    dedicated: np.ndarray = field(repr=False)  # bool: dedicated grids win on shared edges
    geoms: np.ndarray = field(default_factory=lambda: np.array([], dtype=object), repr=False)
    raster: _Raster | None = field(default=None, repr=False)
    _id_list: list = field(default_factory=list, repr=False)

    def lookup(self, lon: float, lat: float) -> int | None:
        """The id of the grid containing the point (edges included), or None."""
        r = self.raster
        if r is None or not (r.x0 <= lon <= r.x1 and r.y0 <= lat <= r.y1):
            return None  # also NaN
        i = min(int((lon - r.x0) * r.kx), r.nx - 1)
        j = min(int((lat - r.y0) * r.ky), r.ny - 1)
        code = r.cells[j * r.nx + i]
        if code >= 0:
            return self._id_list[code]
        if code == EMPTY:
            return None
        geoms = self.geoms
        for g in r.mixed[-2 - code]:
            if lib.intersects_xy(geoms[g], lon, lat):
                return self._id_list[g]
        return None

    def lookup_many(self, lons, lats) -> list[int | None]:
        """Ids of the grids containing each point (None where a point is outside every grid)."""
        x = np.asarray(lons, dtype=float).ravel()
        y = np.asarray(lats, dtype=float).ravel()
        n = len(x)
        r = self.raster
        if r is None or n == 0:
            return [None] * n
        found = np.full(n, -1, dtype=np.int64)  # geometry index per point
        inside = np.flatnonzero((x >= r.x0) & (x <= r.x1) & (y >= r.y0) & (y <= r.y1))
        xi, yi = x[inside], y[inside]
        ci = np.minimum(((xi - r.x0) * r.kx).astype(np.int64), r.nx - 1)
        cj = np.minimum(((yi - r.y0) * r.ky).astype(np.int64), r.ny - 1)
        code = r.cells_np[cj * r.nx + ci]
        owned = code >= 0
        found[inside[owned]] = code[owned]
        mixed = code <= -2
        if mixed.any():
            points = inside[mixed]
            k = -2 - code[mixed]
            starts = r.mixed_offsets[k]
            counts = r.mixed_offsets[k + 1] - starts
            # One (point, candidate) pair per candidate of the point's cell, grouped by point,
            # candidates in priority order.
            pair_point = np.repeat(points, counts)
            first_pair = np.cumsum(counts) - counts
            pair_pos = np.arange(len(pair_point)) - np.repeat(first_pair - starts, counts)
            pair_geom = r.mixed_flat[pair_pos]
            hit = lib.intersects_xy(self.geoms[pair_geom], x[pair_point], y[pair_point])
            hit_point, hit_geom = pair_point[hit], pair_geom[hit]
            first = np.ones(len(hit_point), dtype=bool)
            first[1:] = hit_point[1:] != hit_point[:-1]
            found[hit_point[first]] = hit_geom[first]
        region_ids = np.where(found >= 0, self.ids[np.maximum(found, 0)], -1).tolist()
        return [None if v < 0 else v for v in region_ids]


def build_index(rows, version: int = 0) -> GridIndex:
    """Build from (id, geojson_geometry, is_dedicated) rows."""
    ids, geoms, dedicated = [], [], []
    for region_id, geometry, is_dedicated in rows:
        if not geometry:
            continue
        geom = shapely.geometry.shape(geometry)
        if geom.is_empty:
            continue
        ids.append(region_id)
        geoms.append(geom)
        dedicated.append(bool(is_dedicated))
    if not geoms:
        return GridIndex(version, None, np.array([], dtype=np.int64), np.array([], dtype=bool))
    geom_array = np.array(geoms, dtype=object)
    shapely.prepare(geom_array)
    tree = STRtree(geom_array)
    dedicated_array = np.array(dedicated, dtype=bool)
    return GridIndex(version, tree, np.array(ids, dtype=np.int64), dedicated_array,
                     geoms=geom_array, raster=_build_raster(geom_array, tree, dedicated_array),
                     _id_list=list(ids))


def _build_raster(geoms: np.ndarray, tree: STRtree, dedicated: np.ndarray) -> _Raster:
    bounds = shapely.bounds(geoms)
    x0, y0 = float(bounds[:, 0].min()), float(bounds[:, 1].min())
    x1, y1 = float(bounds[:, 2].max()), float(bounds[:, 3].max())
    typical = float(np.median(np.sqrt((bounds[:, 2] - bounds[:, 0])
                                      * (bounds[:, 3] - bounds[:, 1]))))
    cell = max(typical / CELLS_ACROSS_GRID, 1e-7)
    width, height = max(x1 - x0, 1e-9), max(y1 - y0, 1e-9)
    if (width / cell + 1) * (height / cell + 1) > MAX_CELLS:
        cell = math.sqrt(width * height / MAX_CELLS) * 1.01 + 1e-9
    nx, ny = int(width / cell) + 1, int(height / cell) + 1
    kx, ky = 1.0 / cell, 1.0 / cell
    # Cells are grown by a hair so that a point mapped to a cell with floating-point rounding
    # still lies inside the box its answer was computed for.
    eps = cell * 1e-6
    jj, ii = np.divmod(np.arange(nx * ny, dtype=np.int64), nx)
    boxes = shapely.box(x0 + ii * cell - eps, y0 + jj * cell - eps,
                        x0 + (ii + 1) * cell + eps, y0 + (jj + 1) * cell + eps)
    box_idx, geom_idx = tree.query(boxes, predicate="intersects")
    # Priority: per cell, dedicated grids first, then by row order.
    order = np.lexsort((geom_idx, ~dedicated[geom_idx], box_idx))
    box_idx, geom_idx = box_idx[order], geom_idx[order]
    counts = np.bincount(box_idx, minlength=nx * ny)
    cells_np = np.full(nx * ny, EMPTY, dtype=np.int64)
    single = counts[box_idx] == 1
    sb, sg = box_idx[single], geom_idx[single]
    covered = shapely.covers(geoms[sg], boxes[sb])
    cells_np[sb[covered]] = sg[covered]
    mixed_cells = np.flatnonzero((counts > 1) | ((counts == 1) & (cells_np == EMPTY)))
    cells_np[mixed_cells] = -2 - np.arange(len(mixed_cells))
    is_mixed = np.zeros(nx * ny, dtype=bool)
    is_mixed[mixed_cells] = True
    keep = is_mixed[box_idx]
    mixed_flat = geom_idx[keep]  # grouped by cell, in cell order, which is mixed order
    mixed_offsets = np.zeros(len(mixed_cells) + 1, dtype=np.int64)
    np.cumsum(counts[mixed_cells], out=mixed_offsets[1:])
    flat_list = mixed_flat.tolist()
    offsets_list = mixed_offsets.tolist()
    mixed = [tuple(flat_list[a:b]) for a, b in zip(offsets_list, offsets_list[1:], strict=False)]
    return _Raster(x0, y0, x1, y1, kx, ky, nx, ny, array("q", cells_np.tolist()), cells_np,
                   mixed, mixed_offsets, mixed_flat)


def _current_version() -> int:
    from gezhi.regions.models import SpatialVersion

    return SpatialVersion.objects.filter(pk=1).values_list("version", flat=True).first() or 0


def _load(version: int) -> GridIndex:
    from gezhi.regions.models import GridKind, Region

    rows = Region.objects.grids().filter(boundary__isnull=False).order_by("path").values_list(
        "id", "boundary", "grid_kind")
    return build_index(((i, b, k == GridKind.DEDICATED) for i, b, k in rows), version)


def grid_index() -> GridIndex:
    now = time.monotonic()
    index = _state["index"]
    if index is not None and now - _state["checked_at"] < settings.GEZHI_SPATIAL_RECHECK_SECONDS:
        return index
    with _lock:
        version = _current_version()
        index = _state["index"]
        if index is None or index.version != version:
            index = _load(version)
            _state["index"] = index
        _state["checked_at"] = time.monotonic()
        return index


def invalidate_local() -> None:
    """Force a version check on the next lookup in this process."""
    _state["checked_at"] = 0.0
    _state["index"] = None
