"""The public page 我的网格员: a resident finds the grid staff for an address or a point.

Works without JavaScript: the address form and /?lat=&lon= are answered on the server.
With JavaScript, a map click or the device's position asks the public lookup API.
Only published (公示) staff ever appear here.
"""

from django.shortcuts import render
from django.utils.translation import gettext as _

from gezhi.core.errors import ValidationFailed
from gezhi.regions.models import GridKind
from gezhi.regions.selectors import grid_at, grid_posts, public_grid_search, public_map_extent

QUERY_MAX_LENGTH = 100


def _point(request) -> tuple[float, float] | None:
    lat, lon = request.GET.get("lat", "").strip(), request.GET.get("lon", "").strip()
    if not (lat or lon):
        return None
    try:
        return float(lat), float(lon)
    except ValueError:
        raise ValidationFailed(_("经纬度格式不正确,请输入数字,例如 纬度 35.08、经度 117.11。"),
                               code="bad_point") from None


def home(request):
    q = request.GET.get("q", "").strip()[:QUERY_MAX_LENGTH]
    context = {"q": q, "results": None, "error": "", "mode": ""}
    grids = []
    try:
        point = _point(request)
        if point is not None:
            context["mode"] = "point"
            context["lat"], context["lon"] = point
            grid = grid_at(lat=point[0], lon=point[1])
            if grid is None:
                context["error"] = _("您选择的位置不在任何网格内。请确认位置在本辖区范围内,"
                                     "或改用地址查找。")
            else:
                grids = [grid]
        elif "q" in request.GET:
            context["mode"] = "address"
            if not q:
                context["error"] = _("请输入街道、小区或楼栋等地址信息后再查找。")
            else:
                grids = list(public_grid_search(q=q))
                if not grids:
                    context["error"] = _(
                        "没有找到与“%(q)s”相符的网格。请试试小区名、街巷名或门牌号,"
                        "或在地图上点选您的位置。") % {"q": q}
    except ValidationFailed as exc:
        context["error"] = str(exc.message)
    if grids:
        posts = grid_posts(grids=grids, published_only=True)
        context["results"] = [{"grid": g, "posts": posts.get(g.id, [])} for g in grids]
    context["map"] = public_map_extent()
    context["grid_kinds"] = GridKind.choices
    return render(request, "portal/home.html", context)
