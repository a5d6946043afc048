"""Geometry helpers and the tiling used by the demo and the benchmark."""

import numpy as np
import pytest
import shapely

from conftest import square
from gezhi.core.errors import ValidationFailed
from gezhi.regions.geometry import (
    area_m2,
    boundary_fields,
    from_metres,
    parse_boundary,
    polygonal,
    to_metres,
)
from gezhi.regions.tiling import rectangle, split_polygon


def test_parse_boundary_accepts_polygons_and_features():
    geom = parse_boundary({"type": "Feature", "properties": {},
                           "geometry": square(117.1, 35.0, 117.2, 35.1)})
    assert geom.geom_type == "Polygon"
    multi = {"type": "MultiPolygon", "coordinates": [square(0, 0, 1, 1)["coordinates"],
                                                     square(2, 0, 3, 1)["coordinates"]]}
    assert parse_boundary(multi).geom_type == "MultiPolygon"


@pytest.mark.parametrize(("geometry", "code", "message"), [
    ({"type": "Point", "coordinates": [117.1, 35.0]}, "bad_geometry", "Polygon 或 MultiPolygon"),
    ({"type": "Polygon", "coordinates": [[[1, 2]]]}, "bad_geometry", "坐标格式错误"),
    ({"type": "Polygon", "coordinates": []}, "bad_geometry", "边界为空"),
    (square(35.0, 117.0, 35.1, 117.1), "bad_geometry", "坐标超出经纬度范围"),  # lat/lon swapped
    ({"type": "Polygon", "coordinates": [[[0, 0], [1, 1], [1, 0], [0, 1], [0, 0]]]},
     "invalid_ring", "自相交"),
])
def test_parse_boundary_rejects_bad_input(geometry, code, message):
    with pytest.raises(ValidationFailed) as exc:
        parse_boundary(geometry, label="370481001001001")
    assert exc.value.code == code
    assert str(exc.value.message).startswith("370481001001001: ")
    assert message in str(exc.value.message)


def test_areas_in_square_metres():
    box = rectangle(117.16, 35.08, 300, 200)
    assert area_m2(box) == pytest.approx(60_000, rel=0.002)
    fields = boundary_fields(box)
    assert fields["area_m2"] == pytest.approx(60_000, rel=0.002)
    assert fields["centroid_lon"] == pytest.approx(117.16)
    assert fields["boundary"]["type"] == "Polygon"
    assert isinstance(fields["boundary"]["coordinates"][0][0], list)


def test_metres_round_trip_and_arrays():
    boxes = np.array([rectangle(117.16, 35.08, 100, 100), rectangle(117.17, 35.09, 50, 50)])
    metres = to_metres(boxes, 35.08)
    assert shapely.area(metres) == pytest.approx([10_000, 2_500], rel=0.002)
    back = from_metres(metres, 35.08)
    assert all(shapely.equals_exact(a, b, 1e-12) for a, b in zip(back, boxes, strict=True))


def test_polygonal_keeps_only_areas():
    a, b = shapely.box(0, 0, 1, 1), shapely.box(1, 0, 2, 1)
    assert polygonal(a.intersection(b)).is_empty  # a shared edge is no overlap
    mixed = shapely.GeometryCollection([shapely.box(0, 0, 1, 1), shapely.LineString([(5, 5), (6, 6)])])
    assert polygonal(mixed).area == 1
    assert polygonal(None).is_empty


@pytest.mark.parametrize("n", [1, 7, 120])
def test_split_polygon_tiles_without_gaps_or_overlaps(n):
    community = shapely.Polygon([(117.10, 35.06), (117.14, 35.065), (117.135, 35.10),
                                 (117.105, 35.095)])
    cells = split_polygon(community, n, seed=5)
    assert len(cells) == n
    assert all(c.is_valid and not c.is_empty for c in cells)
    total = area_m2(community, 35.08)
    assert sum(area_m2(c, 35.08) for c in cells) == pytest.approx(total, rel=1e-6)
    assert area_m2(shapely.union_all(cells), 35.08) == pytest.approx(total, rel=1e-6)
    # Reading order: the first cell is in the northern half, the last in the southern half.
    if n > 4:
        assert cells[0].centroid.y > community.centroid.y > cells[-1].centroid.y
    assert split_polygon(community, n, seed=5) == cells  # deterministic
