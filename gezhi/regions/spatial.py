"""Point-to-grid lookup with an in-process STRtree.

The tree holds every grid boundary. It is rebuilt when the spatial version (bumped in the
same transaction as any boundary change) differs from the one it was built at; a process
checks the version at most every GEZHI_SPATIAL_RECHECK_SECONDS, and at once after a change
made in the same process.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass

import numpy as np
import shapely
from django.conf import settings
from shapely.strtree import STRtree

_lock = threading.Lock()
_state: dict = {"index": None, "checked_at": 0.0}


@dataclass(frozen=True)
class GridIndex:
    version: int
    tree: STRtree | None
    ids: np.ndarray  # Region ids, parallel to the tree's geometries
    dedicated: np.ndarray  # bool: dedicated grids win on shared edges

    def lookup(self, lon: float, lat: float) -> int | None:
        """The id of the grid containing the point, or None."""
        if self.tree is None:
            return None
        hits = self.tree.query(shapely.Point(lon, lat), predicate="intersects")
        if len(hits) == 0:
            return None
        return int(self.ids[self._pick(hits)])

    def lookup_many(self, lons, lats) -> list[int | None]:
        """Ids of the grids containing each point (None where a point is outside every grid)."""
        n = len(lons)
        result: list[int | None] = [None] * n
        if self.tree is None or n == 0:
            return result
        points = shapely.points(np.asarray(lons, dtype=float), np.asarray(lats, dtype=float))
        point_idx, geom_idx = self.tree.query(points, predicate="intersects")
        # A point on a shared edge hits several grids; keep one, deterministically.
        order = np.lexsort((geom_idx, ~self.dedicated[geom_idx], point_idx))
        point_idx, geom_idx = point_idx[order], geom_idx[order]
        first = np.ones(len(point_idx), dtype=bool)
        first[1:] = point_idx[1:] != point_idx[:-1]
        for p, g in zip(point_idx[first].tolist(), geom_idx[first].tolist(), strict=True):
            result[p] = int(self.ids[g])
        return result

    def _pick(self, hits: np.ndarray) -> int:
        if len(hits) == 1:
            return int(hits[0])
        hits = np.sort(hits)
        dedicated = hits[self.dedicated[hits]]
        return int(dedicated[0] if len(dedicated) else hits[0])


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
    shapely.prepare(geoms)
    return GridIndex(version, STRtree(geoms), np.array(ids, dtype=np.int64),
                     np.array(dedicated, dtype=bool))


def _current_version() -> int:
    from gezhi.regions.models import SpatialVersion

    return SpatialVersion.objects.filter(pk=1).values_list("version", flat=True).first() or 0


def _load(version: int) -> GridIndex:
    from gezhi.regions.models import GridKind, Region

    rows = Region.objects.grids().filter(boundary__isnull=False).values_list(
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
