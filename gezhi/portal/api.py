"""/api/v1/public/: what a resident may see without logging in.

Only published (公示) information: a grid's boundary and names, and the staff who agreed to be
published. The resident page "我的网格员" calls these from JavaScript, so their shapes are
a contract: change them together with that page.
"""

from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from ninja import Field, Query, Router, Schema

from gezhi.core.errors import ValidationFailed
from gezhi.core.schemas import ErrorOut
from gezhi.regions import selectors
from gezhi.regions.models import GridPost, Region

router = Router(tags=["public"], auth=None)


class PublicStaff(Schema):
    kind: str
    kind_label: str
    name: str
    title: str
    phone: str
    photo_url: str | None


class PublicGridBase(Schema):
    code: str
    name: str
    grid_kind: str
    purpose: str
    description: str = Field(description="覆盖范围:街巷、小区、楼栋等")
    community: str | None = Field(description="所属社区名称")
    subdistrict: str | None = Field(description="所属街道名称")


class PublicGrid(PublicGridBase):
    boundary: dict | None = Field(description="GeoJSON Polygon/MultiPolygon (WGS-84)")


class PublicLookupOut(Schema):
    grid: PublicGrid
    staff: list[PublicStaff]


class PublicSearchItem(Schema):
    grid: PublicGridBase
    staff: list[PublicStaff]


class PublicSearchOut(Schema):
    items: list[PublicSearchItem]
    count: int


class PublicPoint(Schema):
    lat: float = Field(description="纬度 (WGS-84)")
    lon: float = Field(description="经度 (WGS-84)")


class PublicSearch(Schema):
    q: str = Field("", max_length=100, description="地址、小区、街巷或网格名称")


def _grid(grid: Region, *, boundary: bool) -> dict:
    community = grid.parent
    subdistrict = community.parent if community else None
    shaped = {"code": grid.code, "name": grid.name, "grid_kind": grid.grid_kind,
              "purpose": grid.purpose, "description": grid.description,
              "community": community.name if community else None,
              "subdistrict": subdistrict.name if subdistrict else None}
    if boundary:
        shaped["boundary"] = grid.boundary
    return shaped


def _staff(posts: list[GridPost]) -> list[dict]:
    # The selectors give published staff only; checked again here because a leak would be
    # a person's phone number on a public page.
    return [{"kind": p.kind, "kind_label": p.get_kind_display(), "name": p.member.name,
             "title": p.member.title, "phone": p.member.work_phone,
             "photo_url": p.member.photo.url if p.member.photo else None}
            for p in posts if p.member.published]


@router.get("/grids/lookup", response={200: PublicLookupOut, 404: ErrorOut, 422: ErrorOut},
            summary=gettext_lazy("按位置查找我的网格与网格员(公开)"))
def public_lookup(request, point: Query[PublicPoint]):
    grid, posts = selectors.public_grid_at(lat=point.lat, lon=point.lon)
    return {"grid": _grid(grid, boundary=True), "staff": _staff(posts)}


@router.get("/grids/search", response={200: PublicSearchOut, 422: ErrorOut},
            summary=gettext_lazy("按地址查找网格与网格员(公开)"))
def public_search(request, search: Query[PublicSearch]):
    q = search.q.strip()
    if not q:
        raise ValidationFailed(_("请输入街道、小区或楼栋等地址信息后再查找。"), code="empty_query",
                               details={"field": "q"})
    found = selectors.public_grid_search_with_staff(q=q)
    return {"items": [{"grid": _grid(g, boundary=False), "staff": _staff(posts)}
                      for g, posts in found],
            "count": len(found)}
