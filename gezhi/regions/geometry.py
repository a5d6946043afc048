"""Grid geometry: GeoJSON in, Shapely 2 in process, so SQLite and PostgreSQL behave the same.

Coordinates are WGS-84 longitude/latitude. Areas are computed on a local equirectangular
projection around the geometry, which is accurate to well under 1% at grid sizes.
"""

from __future__ import annotations

import math

import shapely
from django.utils.translation import gettext as _
from shapely.geometry import mapping, shape
from shapely.validation import explain_validity

from gezhi.core.errors import ValidationFailed

EARTH_RADIUS_M = 6371008.8
POLYGON_TYPES = {"Polygon", "MultiPolygon"}


def metres_per_degree(lat0: float) -> tuple[float, float]:
    """Metres per degree of longitude and of latitude around latitude lat0."""
    ky = math.radians(1) * EARTH_RADIUS_M
    return ky * math.cos(math.radians(lat0)), ky


def to_metres(geom, lat0: float | None = None):
    """Project lon/lat to metres on a local equirectangular plane.

    `geom` may be one geometry or an array of them (then give lat0, so that all share a plane).
    """
    if lat0 is None:
        lat0 = geom.centroid.y if not geom.is_empty else 0.0
    kx, ky = metres_per_degree(lat0)
    return shapely.transform(geom, lambda c: c * [kx, ky])


def from_metres(geom, lat0: float):
    """The inverse of to_metres(geom, lat0)."""
    kx, ky = metres_per_degree(lat0)
    return shapely.transform(geom, lambda c: c / [kx, ky])


def polygonal(geom):
    """The polygons of a geometry (an intersection or difference may add lines and points)."""
    if geom is None or geom.is_empty:
        return shapely.MultiPolygon()
    if geom.geom_type in POLYGON_TYPES:
        return geom
    parts = [p for p in shapely.get_parts(geom) if p.geom_type in POLYGON_TYPES]
    return shapely.union_all(parts) if parts else shapely.MultiPolygon()


def area_m2(geom, lat0: float | None = None) -> float:
    return float(to_metres(geom, lat0).area)


def parse_boundary(geometry, *, label: str = "") -> shapely.Geometry:
    """Validate a GeoJSON Polygon/MultiPolygon (or a Feature holding one) and return it."""
    prefix = f"{label}: " if label else ""
    if isinstance(geometry, dict) and geometry.get("type") == "Feature":
        geometry = geometry.get("geometry")
    if not isinstance(geometry, dict) or geometry.get("type") not in POLYGON_TYPES:
        raise ValidationFailed(prefix + _("边界必须是 GeoJSON 的 Polygon 或 MultiPolygon。"),
                               code="bad_geometry")
    try:
        geom = shape(geometry)
    except Exception as exc:  # shapely raises several types for malformed coordinates
        raise ValidationFailed(prefix + _("边界坐标格式错误:%(error)s") % {"error": exc},
                               code="bad_geometry") from exc
    if geom.is_empty:
        raise ValidationFailed(prefix + _("边界为空。"), code="bad_geometry")
    minx, miny, maxx, maxy = geom.bounds
    if not (-180 <= minx <= maxx <= 180 and -90 <= miny <= maxy <= 90):
        raise ValidationFailed(prefix + _("坐标超出经纬度范围(应为 WGS-84 经度、纬度)。"),
                               code="bad_geometry")
    if not geom.is_valid:
        raise ValidationFailed(
            prefix + _("边界无效(自相交或环不闭合等):%(reason)s") % {"reason": explain_validity(geom)},
            code="invalid_ring")
    return geom


def boundary_fields(geom) -> dict:
    """Derived columns stored beside the GeoJSON boundary."""
    minx, miny, maxx, maxy = geom.bounds
    c = geom.centroid
    return {
        "boundary": geojson_geometry(geom),
        "min_lon": minx, "min_lat": miny, "max_lon": maxx, "max_lat": maxy,
        "centroid_lon": c.x, "centroid_lat": c.y,
        "area_m2": round(area_m2(geom), 1),
    }


def geojson_geometry(geom) -> dict:
    """Plain-JSON GeoJSON of a Shapely geometry (lists, not tuples)."""
    return _listify(mapping(geom))


def _listify(value):
    if isinstance(value, (list, tuple)):
        return [_listify(v) for v in value]
    if isinstance(value, dict):
        return {k: _listify(v) for k, v in value.items()}
    return value
