"""Split a polygon into n cells that tile it without gaps or overlaps (Voronoi, relaxed).

Used by the demo subdistrict and by the synthetic city of the benchmarks. Cells of a convex
polygon are convex; shared edges come from one Voronoi diagram, so neighbours agree exactly
(coordinates are rounded to 7 decimals, about 1 cm).
"""

from __future__ import annotations

import random

import numpy as np
import shapely
from shapely.geometry import MultiPoint, Polygon

PRECISION = 7


def _random_points(poly: Polygon, n: int, rng: random.Random) -> list[tuple[float, float]]:
    minx, miny, maxx, maxy = poly.bounds
    shapely.prepare(poly)
    points: list[tuple[float, float]] = []
    while len(points) < n:
        x, y = rng.uniform(minx, maxx), rng.uniform(miny, maxy)
        if shapely.contains_xy(poly, x, y):
            points.append((x, y))
    return points


def split_polygon(poly: Polygon, n: int, *, seed: int = 0, relax: int = 2) -> list[Polygon]:
    """n cells tiling `poly`, ordered north-west to south-east (rows, then columns)."""
    if n <= 1:
        return [shapely.set_precision(poly, 10**-PRECISION)]
    rng = random.Random(seed)
    points = _random_points(poly, n, rng)
    cells: list[Polygon] = []
    for step in range(relax + 1):
        regions = shapely.voronoi_polygons(MultiPoint(points), extend_to=poly)
        raw = [cell.intersection(poly) for cell in regions.geoms]
        cells = [c for c in raw if not c.is_empty]
        if step < relax:  # Lloyd relaxation: move each seed to its cell's centroid
            points = [(c.centroid.x, c.centroid.y) for c in cells]
    cells = [_round(c) for c in cells]
    return _reading_order(cells)


def _round(geom):
    return shapely.transform(geom, lambda c: np.round(c, PRECISION))


def _reading_order(cells: list) -> list:
    if not cells:
        return cells
    heights = [c.bounds[3] - c.bounds[1] for c in cells]
    row_height = max(float(np.median(heights)), 1e-9)
    top = max(c.bounds[3] for c in cells)
    return sorted(cells, key=lambda c: (int((top - c.centroid.y) // row_height), c.centroid.x))


def rectangle(lon: float, lat: float, width_m: float, height_m: float) -> Polygon:
    """A rectangle of the given size in metres, centred on lon/lat."""
    dlat = height_m / 111_195.0
    dlon = width_m / (111_195.0 * np.cos(np.radians(lat)))
    return shapely.box(lon - dlon / 2, lat - dlat / 2, lon + dlon / 2, lat + dlat / 2)
