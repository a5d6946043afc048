"""/api/v1/ regions, grids (GeoJSON), point lookup and grid staff, all within the viewer's scope.

Every list is paginated (gezhi.core.pagination) and read through the selectors, which filter
with `visible_to`; a single object outside the viewer's scope is a 404 "not_found".
"""

from datetime import date
from typing import Literal

from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from ninja import Field, Query, Router, Schema

from gezhi.core.errors import ValidationFailed
from gezhi.core.pagination import PageMeta, PageParams, paginate
from gezhi.core.schemas import ErrorOut
from gezhi.regions import boundaries, selectors
from gezhi.regions.models import GridKind, GridPost, Level, PostKind, Region

router = Router()

MAX_LOOKUP_POINTS = 10_000
ERRORS = {401: ErrorOut, 404: ErrorOut, 422: ErrorOut}


# --- Schemas -------------------------------------------------------------------------------


class RegionOut(Schema):
    code: str
    name: str
    level: Level
    level_label: str
    parent_code: str | None
    grid_kind: str = Field(description="网格类型 basic/dedicated;非网格为空")
    children_count: int


class RegionPage(PageMeta):
    items: list[RegionOut]


class Crumb(Schema):
    code: str
    name: str
    level: Level
    accessible: bool = Field(description="当前用户能否打开该节点(在其管辖范围内)")


class RegionDetailOut(RegionOut):
    description: str
    purpose: str
    area_m2: float | None
    bbox: list[float] | None = Field(description="[min_lon, min_lat, max_lon, max_lat]")
    centroid: list[float] | None = Field(description="[lon, lat]")
    boundary: dict | None = Field(description="GeoJSON Polygon/MultiPolygon (WGS-84)")
    ancestors: list[Crumb] = Field(description="从上到下的上级节点(面包屑)")


class StaffOut(Schema):
    kind: PostKind
    kind_label: str
    name: str
    title: str
    phone: str
    photo_url: str | None
    published: bool = Field(description="是否同意公示;未公示人员只对有权查看的工作人员显示")


class StaffPostOut(StaffOut):
    id: int
    grid_code: str
    grid_name: str
    duties: str
    since: date | None


class StaffPage(PageMeta):
    items: list[StaffPostOut]


class GridProperties(Schema):
    code: str
    name: str
    grid_kind: GridKind
    grid_kind_label: str
    purpose: str
    description: str
    community_code: str | None
    community_name: str | None
    area_m2: float | None
    staff_count: int


class GridDetailProperties(GridProperties):
    staff: list[StaffOut]


class GridFeature(Schema):
    type: Literal["Feature"] = "Feature"
    id: str
    geometry: dict | None
    properties: GridProperties


class GridDetailFeature(GridFeature):
    properties: GridDetailProperties


class GridCollection(PageMeta):
    type: Literal["FeatureCollection"] = "FeatureCollection"
    features: list[GridFeature]


class RegionFilters(PageParams):
    level: Level | None = None
    parent: str = Field("", description="只列出该代码节点的下级")
    q: str = Field("", max_length=100, description="按名称、代码前缀或覆盖范围查找")


class GridFilters(PageParams):
    within: str = Field("", description="只列出该代码节点之下的网格")
    kind: GridKind | None = None
    q: str = Field("", max_length=100)


class StaffFilters(PageParams):
    grid: str = Field("", description="只列出该代码节点(网格、社区等)之下的岗位")
    kind: PostKind | None = None


class Point(Schema):
    lat: float = Field(description="纬度 (WGS-84)")
    lon: float = Field(description="经度 (WGS-84)")


class PointsIn(Schema):
    points: list[tuple[float, float]] = Field(
        description=f"[[纬度, 经度], …],最多 {MAX_LOOKUP_POINTS} 个")


class ExportFilters(Schema):
    within: str = Field("", description="只导出该代码节点之下的区划")
    level: str = Field("grid", description="导出的层级(grid、community 等);all 为全部层级")


class FeatureCollectionOut(Schema):
    type: Literal["FeatureCollection"] = "FeatureCollection"
    features: list[dict]


class ImportIn(Schema):
    collection: dict = Field(description="GeoJSON FeatureCollection,格式与导出相同")
    dry_run: bool = Field(False, description="只检查不写入")


class ProblemOut(Schema):
    kind: str
    kind_label: str
    codes: list[str]
    message: str
    area_m2: float | None
    feature_index: int | None = Field(description="出问题的要素在 features 中的位置(从 0 开始)")


class ImportReportOut(Schema):
    dry_run: bool
    created: list[str]
    updated: list[str]
    unchanged: list[str]
    problems: list[ProblemOut]


class LookupHit(Schema):
    code: str
    name: str


class PointsOut(Schema):
    results: list[LookupHit | None] = Field(
        description="与输入逐一对应;不在任何网格内或不在管辖范围内为 null")


# --- Shaping -------------------------------------------------------------------------------


def _region(region: Region, children_count: int) -> dict:
    return {"code": region.code, "name": region.name, "level": region.level,
            "level_label": region.get_level_display(),
            "parent_code": region.parent.code if region.parent_id else None,
            "grid_kind": region.grid_kind, "children_count": children_count}


def _photo_url(member) -> str | None:
    return member.photo.url if member.photo else None


def _staff(post: GridPost) -> dict:
    member = post.member
    return {"kind": post.kind, "kind_label": post.get_kind_display(), "name": member.name,
            "title": member.title, "phone": member.work_phone, "photo_url": _photo_url(member),
            "published": member.published}


def _staff_row(post: GridPost) -> dict:
    return {**_staff(post), "id": post.id, "grid_code": post.grid.code,
            "grid_name": post.grid.name, "duties": post.duties, "since": post.since}


def _grid_properties(grid: Region, staff_count: int) -> dict:
    community = grid.parent
    return {"code": grid.code, "name": grid.name, "grid_kind": grid.grid_kind,
            "grid_kind_label": grid.get_grid_kind_display(), "purpose": grid.purpose,
            "description": grid.description,
            "community_code": community.code if community else None,
            "community_name": community.name if community else None,
            "area_m2": grid.area_m2, "staff_count": staff_count}


def _grid_detail(grid: Region, posts: list[GridPost]) -> dict:
    properties = _grid_properties(grid, len({p.member_id for p in posts}))
    properties["staff"] = [_staff(p) for p in posts]
    return {"type": "Feature", "id": grid.code, "geometry": grid.boundary,
            "properties": properties}


# --- Regions -------------------------------------------------------------------------------


@router.get("/regions", response={200: RegionPage, **ERRORS}, tags=["regions"],
            summary=gettext_lazy("区划列表(管辖范围内)"))
def region_list(request, filters: Query[RegionFilters]):
    qs = selectors.region_search(viewer=request.user, level=filters.level or "",
                                 parent_code=filters.parent, q=filters.q.strip())
    items, meta = paginate(request, qs, filters)
    return {**meta, "items": [_region(r, r.children_count) for r in items]}


@router.get("/regions/{code}", response={200: RegionDetailOut, **ERRORS}, tags=["regions"],
            summary=gettext_lazy("区划详情,含上级节点(面包屑)与下级数量"))
def region_detail(request, code: str):
    region, ancestors, children_count = selectors.region_detail(viewer=request.user, code=code)
    bbox = None
    if region.min_lon is not None:
        bbox = [region.min_lon, region.min_lat, region.max_lon, region.max_lat]
    centroid = None
    if region.centroid_lon is not None:
        centroid = [region.centroid_lon, region.centroid_lat]
    return {**_region(region, children_count), "description": region.description,
            "purpose": region.purpose, "area_m2": region.area_m2, "bbox": bbox,
            "centroid": centroid, "boundary": region.boundary,
            "ancestors": [{"code": a.code, "name": a.name, "level": a.level, "accessible": ok}
                          for a, ok in ancestors]}


@router.get("/regions/{code}/children", response={200: RegionPage, **ERRORS}, tags=["regions"],
            summary=gettext_lazy("下级区划"))
def region_children(request, code: str, page: Query[PageParams]):
    region = selectors.region_get(viewer=request.user, code=code)
    qs = selectors.region_children_of(viewer=request.user, region=region)
    items, meta = paginate(request, qs, page)
    return {**meta, "items": [_region(r, r.children_count) for r in items]}


# --- Grids ---------------------------------------------------------------------------------
# The fixed paths (lookup, export, import) come before /grids/{code}, which would match them.


@router.get("/grids", response={200: GridCollection, **ERRORS}, tags=["grids"],
            summary=gettext_lazy("网格列表(GeoJSON FeatureCollection)"))
def grid_list(request, filters: Query[GridFilters]):
    qs = selectors.grid_summaries(viewer=request.user, within_code=filters.within,
                                  grid_kind=filters.kind or "", q=filters.q.strip())
    items, meta = paginate(request, qs, filters)
    return {**meta, "type": "FeatureCollection",
            "features": [{"type": "Feature", "id": g.code, "geometry": g.boundary,
                          "properties": _grid_properties(g, g.staff_count)} for g in items]}


@router.get("/grids/lookup", response={200: GridDetailFeature, **ERRORS}, tags=["grids"],
            summary=gettext_lazy("按经纬度查找所在网格"),
            description=gettext_lazy(
                "不在任何网格内:404 outside_grids;在管辖范围外的网格:404 not_found。"))
def grid_lookup(request, point: Query[Point]):
    grid = selectors.grid_locate(viewer=request.user, lat=point.lat, lon=point.lon)
    return _grid_detail(grid, selectors.grid_staff_visible(viewer=request.user, grid=grid))


def _check_points(points: list[tuple[float, float]]) -> None:
    if len(points) > MAX_LOOKUP_POINTS:
        raise ValidationFailed(_("一次最多查询 %(n)d 个点,请分批提交。") % {"n": MAX_LOOKUP_POINTS},
                               code="too_many_points", details={"max": MAX_LOOKUP_POINTS})
    for index, (lat, lon) in enumerate(points):
        if not (-90 <= lat <= 90 and -180 <= lon <= 180):
            raise ValidationFailed(
                _("第 %(n)d 个点的经纬度超出范围:纬度应在 -90 到 90 之间,经度应在 -180 到 180 之间。")
                % {"n": index + 1}, code="bad_point", details={"index": index})


@router.post("/grids/lookup", response={200: PointsOut, **ERRORS}, tags=["grids"],
             summary=gettext_lazy("批量按经纬度查找所在网格"))
def grid_lookup_many(request, payload: PointsIn):
    _check_points(payload.points)
    grids = selectors.grids_locate(viewer=request.user, points=payload.points)
    return {"results": [{"code": g.code, "name": g.name} if g is not None else None
                        for g in grids]}


@router.get("/grids/export", response={200: FeatureCollectionOut, **ERRORS}, tags=["grids"],
            summary=gettext_lazy("导出网格边界(GeoJSON,不分页)"),
            description=gettext_lazy("导出管辖范围内的区划边界,格式与导入相同。"))
def grid_export(request, filters: Query[ExportFilters]):
    within = None
    if filters.within:
        # Like /grids?within=: the node narrows the export, which stays within the viewer's
        # scope; an unknown node gives nothing, exactly as one outside the scope.
        within = selectors.region_for_filter(code=filters.within)
        if within is None:
            return {"type": "FeatureCollection", "features": []}
    level = None if filters.level == "all" else filters.level
    return boundaries.boundaries_export(viewer=request.user, within=within, level=level)


@router.post("/grids/import", response={200: ImportReportOut, 400: ErrorOut, 403: ErrorOut,
                                        **ERRORS},
             tags=["grids"], summary=gettext_lazy("导入网格边界(GeoJSON)"),
             description=gettext_lazy(
                 "整体检查后一次写入:发现任何问题(重叠、未覆盖、超出上级、格式错误、超出权限)时"
                 "不写入任何数据,返回 422 boundaries_invalid 与问题列表;dry_run 只返回检查报告。"))
def grid_import(request, payload: ImportIn):
    report = boundaries.boundaries_import(collection=payload.collection, actor=request.user,
                                          dry_run=payload.dry_run)
    return {"dry_run": payload.dry_run, "created": report.created, "updated": report.updated,
            "unchanged": report.unchanged,
            "problems": [{"kind": p.kind, "kind_label": p.kind_label, "codes": p.codes,
                          "message": p.message, "area_m2": p.area_m2,
                          "feature_index": p.feature_index} for p in report.problems]}


@router.get("/grids/{code}", response={200: GridDetailFeature, **ERRORS}, tags=["grids"],
            summary=gettext_lazy("网格详情(GeoJSON Feature,含网格员)"))
def grid_detail(request, code: str):
    grid = selectors.grid_get(viewer=request.user, code=code)
    return _grid_detail(grid, selectors.grid_staff_visible(viewer=request.user, grid=grid))


@router.get("/grids/{code}/staff", response={200: StaffPage, **ERRORS}, tags=["staff"],
            summary=gettext_lazy("网格的网格员岗位"))
def grid_staff(request, code: str, page: Query[PageParams]):
    grid = selectors.grid_get(viewer=request.user, code=code)
    qs = selectors.staff_list(viewer=request.user, grid=grid)
    items, meta = paginate(request, qs, page)
    return {**meta, "items": [_staff_row(p) for p in items]}


# --- Staff ---------------------------------------------------------------------------------


@router.get("/staff", response={200: StaffPage, **ERRORS}, tags=["staff"],
            summary=gettext_lazy("网格员岗位列表(管辖范围内)"))
def staff_list(request, filters: Query[StaffFilters]):
    qs = selectors.staff_search(viewer=request.user, grid_code=filters.grid,
                                kind=filters.kind or "")
    items, meta = paginate(request, qs, filters)
    return {**meta, "items": [_staff_row(p) for p in items]}
