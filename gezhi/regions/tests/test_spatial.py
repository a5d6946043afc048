"""Point-to-grid lookup: edges, holes, MultiPolygons, points outside, and index refresh."""

import math
import random

import numpy as np
import pytest
import shapely
from django.db.models import F

from conftest import square
from gezhi.regions import spatial
from gezhi.regions.geometry import geojson_geometry
from gezhi.regions.models import GridKind, Region, SpatialVersion
from gezhi.regions.services import region_create, region_set_boundary
from gezhi.regions.spatial import build_index
from gezhi.regions.tiling import rectangle, split_polygon


@pytest.fixture(autouse=True)
def fresh_index():
    spatial.invalidate_local()
    yield
    spatial.invalidate_local()


def both(index, lon, lat):
    """lookup and lookup_many must give the same answer; return it."""
    single = index.lookup(lon, lat)
    assert index.lookup_many([lon], [lat]) == [single]
    return single


# Two squares side by side sharing the edge lon = 1, and a third above both.
WEST, EAST, NORTH = square(0, 0, 1, 1), square(1, 0, 2, 1), square(0, 1, 2, 2)


def test_point_inside_outside_and_nan():
    index = build_index([(10, WEST, False), (20, EAST, False)])
    assert both(index, 0.5, 0.5) == 10
    assert both(index, 1.5, 0.5) == 20
    assert both(index, 3, 0.5) is None
    assert both(index, 0.5, -0.001) is None
    assert both(index, math.nan, 0.5) is None
    assert build_index([]).lookup(0.5, 0.5) is None
    assert build_index([]).lookup_many([0.5, 1], [0.5, 1]) == [None, None]


def test_point_on_a_shared_edge_has_one_deterministic_grid():
    index = build_index([(10, WEST, False), (20, EAST, False), (30, NORTH, False)])
    # The first of the rows (path order when loaded from the database) wins.
    assert both(index, 1, 0.5) == 10
    assert both(index, 1, 1) == 10  # corner of all three
    assert both(index, 1.5, 1) == 20
    reversed_rows = build_index([(30, NORTH, False), (20, EAST, False), (10, WEST, False)])
    assert both(reversed_rows, 1, 0.5) == 20
    assert both(reversed_rows, 1.5, 1) == 30
    # The outer edge of a grid still belongs to it.
    assert both(index, 2, 0.5) == 20
    assert both(index, 0, 0) == 10


def test_dedicated_grid_wins_on_shared_edges():
    index = build_index([(10, WEST, False), (20, EAST, True)])
    assert both(index, 1, 0.5) == 20
    assert both(index, 0.999, 0.5) == 10


def test_multipolygon_and_holes():
    two_parts = {"type": "MultiPolygon", "coordinates": [
        square(0, 0, 1, 1)["coordinates"], square(3, 0, 4, 1)["coordinates"]]}
    holed = {"type": "Polygon", "coordinates": [
        square(10, 0, 14, 4)["coordinates"][0], square(11, 1, 13, 3)["coordinates"][0][::-1]]}
    island = square(12, 2, 13, 3)  # fills a quarter of the hole
    index = build_index([(1, two_parts, False), (2, holed, False), (3, island, False)])
    assert both(index, 3.5, 0.5) == 1
    assert both(index, 2, 0.5) is None  # between the two parts
    assert both(index, 10.5, 0.5) == 2
    assert both(index, 11.5, 1.5) is None  # in the hole
    assert both(index, 12.5, 2.5) == 3  # on the island in the hole
    assert both(index, 13, 3) == 2  # hole's ring and island's corner: the first row wins
    assert both(index, 11, 2) == 2  # on the hole's ring


def test_agrees_with_a_brute_force_search_on_a_tiling():
    """Random points, every vertex and every edge midpoint of 400 grids, compared with
    testing every polygon (a few dedicated grids, in shuffled row order)."""
    cells = split_polygon(rectangle(117.16, 35.08, 6000, 4000), 400, seed=7, relax=1)
    rng = random.Random(1)
    order = list(range(len(cells)))
    rng.shuffle(order)
    rows = [(1000 + k, geojson_geometry(cells[k]), k % 17 == 0) for k in order]
    index = build_index(rows)

    minx, miny, maxx, maxy = shapely.total_bounds(cells)
    xs = [rng.uniform(minx - 0.002, maxx + 0.002) for _ in range(3000)]
    ys = [rng.uniform(miny - 0.002, maxy + 0.002) for _ in range(3000)]
    for cell in cells[:100]:
        ring = np.asarray(cell.exterior.coords)
        for (x0, y0), (x1, y1) in zip(ring[:-1], ring[1:], strict=True):
            xs += [float(x0), (x0 + x1) / 2]
            ys += [float(y0), (y0 + y1) / 2]

    geoms = [shapely.geometry.shape(g) for _id, g, _d in rows]
    expected = []
    for x, y in zip(xs, ys, strict=True):
        hits = [k for k, g in enumerate(geoms) if shapely.intersects_xy(g, x, y)]
        hits.sort(key=lambda k: (not rows[k][2], k))
        expected.append(rows[hits[0]][0] if hits else None)
    assert [index.lookup(x, y) for x, y in zip(xs, ys, strict=True)] == expected
    assert index.lookup_many(xs, ys) == expected
    assert expected.count(None) > 50
    assert sum(1 for e in expected if e is not None) > 3000


# --- the index of the database's grids ---------------------------------------------------


def test_index_refreshes_at_once_after_a_change_in_this_process(world, settings):
    settings.GEZHI_SPATIAL_RECHECK_SECONDS = 3600
    assert spatial.grid_index().lookup(117.13, 35.08) == world.grid_a2.id
    region_set_boundary(region=world.grid_a2, boundary=square(117.12, 35.06, 117.14, 35.07))
    assert spatial.grid_index().lookup(117.13, 35.08) is None
    dedicated = region_create(code="370481001001003", name="实验中学网格", level="grid",
                              parent=world.comm_a1, grid_kind=GridKind.DEDICATED,
                              boundary=square(117.12, 35.07, 117.14, 35.10))
    index = spatial.grid_index()
    assert index.lookup(117.13, 35.08) == dedicated.id
    assert index.lookup(117.13, 35.07) == dedicated.id  # its edge with A-2: dedicated wins
    assert index.lookup(117.12, 35.065) == world.grid_a1.id  # A-1 comes first by path


def test_index_refreshes_after_another_process_bumps_the_version(world, settings):
    settings.GEZHI_SPATIAL_RECHECK_SECONDS = 3600
    before = spatial.grid_index()
    assert before.lookup(117.13, 35.08) == world.grid_a2.id
    # Another process moves A-2 away and bumps the version: no signal reaches this process.
    moved = square(117.30, 35.06, 117.32, 35.10)
    Region.objects.filter(pk=world.grid_a2.pk).update(boundary=moved)
    SpatialVersion.objects.filter(pk=1).update(version=F("version") + 1)
    # Within the recheck interval this process keeps its index…
    assert spatial.grid_index() is before
    assert spatial.grid_index().lookup(117.13, 35.08) == world.grid_a2.id
    # …and at the next check it sees the new version and reloads.
    settings.GEZHI_SPATIAL_RECHECK_SECONDS = 0
    after = spatial.grid_index()
    assert after is not before
    assert after.version == SpatialVersion.objects.get(pk=1).version
    assert after.lookup(117.13, 35.08) is None
    assert after.lookup(117.31, 35.08) == world.grid_a2.id
    # Nothing changed since: the same index is kept.
    assert spatial.grid_index() is after


def test_grids_without_boundary_are_not_indexed(world):
    region_set_boundary(region=world.grid_b1, boundary=None)
    index = spatial.grid_index()
    assert index.lookup(117.22, 35.08) is None
    assert sorted(index.ids.tolist()) == sorted([world.grid_a1.id, world.grid_a2.id])


def test_grids_far_apart_and_tiny_grids():
    """A coarse raster (one grid in 滕州, one near Greenwich, one a metre wide) stays exact."""
    tiny = rectangle(117.2, 35.1, 1, 1)
    index = build_index([(1, square(117.10, 35.06, 117.12, 35.10), False),
                         (2, square(0, 51, 0.01, 51.01), False),
                         (3, geojson_geometry(tiny), False)])
    assert both(index, 117.11, 35.08) == 1
    assert both(index, 0.005, 51.005) == 2
    assert both(index, 117.2, 35.1) == 3
    assert both(index, 117.2 + 1e-5, 35.1) is None  # about a metre east of the tiny grid
    assert both(index, 60, 40) is None
