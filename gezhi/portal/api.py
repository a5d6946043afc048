"""/api/v1/public/: what a resident may see and do without logging in.

Only published (公示) information: a grid's boundary and names, and the staff who agreed to be
published. The resident page "我的网格员" calls these from JavaScript, so their shapes are
a contract: change them together with that page.

And the phone login for apps (手机号 + 短信验证码 → a bearer token), the same service as the
page /login/.
"""

from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from ninja import Field, Query, Router, Schema

from gezhi.core.errors import ValidationFailed
from gezhi.core.schemas import ErrorOut
from gezhi.portal import services
from gezhi.portal.views import client_ip
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


# --- Phone login for apps (手机号 + 短信验证码) ---------------------------------------------


class PhoneCodeIn(Schema):
    phone: str = Field(max_length=20, description="中国大陆手机号,11 位")


class PhoneCodeOut(Schema):
    phone_mask: str
    expires_in: int = Field(description="验证码有效秒数")
    resend_in: int = Field(description="多少秒后可以重新获取")


class PhoneLoginIn(Schema):
    phone: str = Field(max_length=20)
    code: str = Field(max_length=10, description="短信中的 6 位数字验证码")


class ResidentOut(Schema):
    name: str
    phone_mask: str


class PhoneLoginOut(Schema):
    token: str
    token_type: str = "Bearer"
    expires_at: str
    created: bool = Field(description="首次登录,刚创建了居民账号")
    user: ResidentOut


@router.post("/phone-code", response={200: PhoneCodeOut, 422: ErrorOut, 429: ErrorOut},
             summary=gettext_lazy("获取手机登录验证码(居民)"),
             description=gettext_lazy(
                 "验证码经消息发件箱以短信发出。同一手机号 60 秒内只能获取一次(429 too_soon,"
                 "details.retry_after 为等待秒数),每个手机号和每个来源地址每天有次数上限"
                 "(429 daily_limit / ip_daily_limit)。"))
def phone_code(request, payload: PhoneCodeIn):
    sent = services.phone_code_send(phone=payload.phone, ip=client_ip(request))
    return {"phone_mask": sent.phone_mask,
            "expires_in": int(services.code_ttl().total_seconds()),
            "resend_in": int(services.resend_wait().total_seconds())}


@router.post("/phone-login",
             response={200: PhoneLoginOut, 403: ErrorOut, 422: ErrorOut, 429: ErrorOut},
             summary=gettext_lazy("用手机号和验证码登录(居民),换取访问令牌"),
             description=gettext_lazy(
                 "首次登录自动创建居民账号。验证码错误返回 422 bad_code(details.remaining 为剩余"
                 "次数),错误次数用完返回 429 too_many_tries,过期返回 422 code_expired。"
                 "工作人员账号不能用验证码登录(403 staff_account)。"))
def phone_login(request, payload: PhoneLoginIn):
    done = services.phone_login(phone=payload.phone, code=payload.code)
    issued, raw = services.api_token_issue(request=request, user=done.user)
    return {"token": raw, "expires_at": issued.expires_at.isoformat(), "created": done.created,
            "user": {"name": done.user.name,
                     "phone_mask": done.user.resident_account.phone_mask}}
