"""The resident portal at /: 我的网格员, phone login, 随手拍, 我的反映, the follow page of an
anonymous report, and the 长者版 switch.

Every page works without JavaScript (forms post to the server, which answers with the page);
JavaScript adds the map, the device's position, photo compression and the resend countdown.

我的网格员: the address form and /?lat=&lon= are answered on the server; with JavaScript, a
map click or the device's position asks the public lookup API. Only published (公示) staff
ever appear here.
"""

from __future__ import annotations

from axes.helpers import get_client_ip_address
from django.contrib import messages
from django.contrib.auth import login as auth_login
from django.contrib.auth import logout as auth_logout
from django.contrib.auth.decorators import login_required
from django.contrib.auth.models import AnonymousUser
from django.core.paginator import Paginator
from django.http import Http404
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods, require_POST

from gezhi.core.errors import GezhiError, NotFound, ValidationFailed
from gezhi.events import services as event_services
from gezhi.events.models import Rating
from gezhi.portal import selectors, services
from gezhi.regions.models import GridKind
from gezhi.regions.selectors import grid_at, grid_posts, public_grid_search, public_map_extent

QUERY_MAX_LENGTH = 100
PAGE_SIZE = 20
MODEL_BACKEND = "django.contrib.auth.backends.ModelBackend"
# 长者版: large type and high contrast, remembered for a year in a cookie the server reads,
# so the very first paint of every page is already right.
ELDER_COOKIE = "gezhi_elder"
ELDER_MAX_AGE = 365 * 24 * 3600


def _error(exc: GezhiError) -> tuple[str, str]:
    return (exc.details or {}).get("field") or "__all__", str(exc.message)


def _next(request, default: str) -> str:
    target = request.POST.get("next") or request.GET.get("next") or ""
    if target and url_has_allowed_host_and_scheme(target, allowed_hosts={request.get_host()},
                                                  require_https=request.is_secure()):
        return target
    return default


# --- 我的网格员 -----------------------------------------------------------------------------


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


# --- Phone login ---------------------------------------------------------------------------


def client_ip(request) -> str | None:
    """The client address as django-axes sees it (the same proxy settings apply)."""
    return get_client_ip_address(request)


@never_cache
@require_http_methods(["GET", "POST"])
def login(request):
    """手机号登录: phone → 获取验证码 → the 6-digit code. The first login creates the account."""
    next_url = _next(request, reverse("portal:my"))
    if request.method == "GET" and request.user.is_authenticated:
        return redirect(next_url)
    context = {"next": next_url, "phone": "", "step": "phone", "errors": {}, "notice": "",
               "resend_in": 0}
    if request.method == "POST":
        phone = request.POST.get("phone", "").strip()[:20]
        context["phone"] = phone
        errors = context["errors"]
        if request.POST.get("action") == "send":
            try:
                sent = services.phone_code_send(phone=phone, ip=client_ip(request))
            except GezhiError as exc:
                field, message = _error(exc)
                errors["phone" if field == "__all__" else field] = message
                if exc.code == "too_soon":  # a code is on its way: let them type it
                    context["step"] = "code"
                    context["resend_in"] = exc.details.get("retry_after", 0)
            else:
                context["step"] = "code"
                context["resend_in"] = int(services.resend_wait().total_seconds())
                context["notice"] = _("验证码已发送至 %(phone)s,%(minutes)s 分钟内有效。") % {
                    "phone": sent.phone_mask,
                    "minutes": int(services.code_ttl().total_seconds() // 60)}
        else:
            context["step"] = "code"
            try:
                done = services.phone_login(phone=phone, code=request.POST.get("code", ""))
            except GezhiError as exc:
                field, message = _error(exc)
                errors["code" if field == "__all__" else field] = message
            else:
                auth_login(request, done.user, backend=MODEL_BACKEND)
                messages.success(request, _("注册成功,欢迎使用。") if done.created
                                 else _("登录成功。"))
                return redirect(next_url)
    return render(request, "portal/login.html", context)


@require_POST
def logout(request):
    auth_logout(request)
    messages.success(request, _("您已退出登录。"))
    return redirect("portal:home")


# --- 长者版 ---------------------------------------------------------------------------------


@require_POST
def display(request):
    """Turn 长者版 (large type, high contrast) on or off, then go back to the page."""
    response = redirect(_next(request, reverse("portal:home")))
    if request.POST.get("elder") == "1":
        response.set_cookie(ELDER_COOKIE, "1", max_age=ELDER_MAX_AGE, samesite="Lax",
                            httponly=True, secure=request.is_secure())
    else:
        response.delete_cookie(ELDER_COOKIE, samesite="Lax")
    return response


# --- 随手拍 ---------------------------------------------------------------------------------

REPORT_FIELDS = ("category", "description", "address", "contact_name", "contact_phone")


def _float(value: str) -> float | None:
    value = (value or "").strip()
    return float(value) if value else None


@require_http_methods(["GET", "POST"])
def report(request):
    anonymous = not request.user.is_authenticated
    values = {name: "" for name in REPORT_FIELDS}
    errors: dict[str, str] = {}
    lat = lon = None
    if request.method == "POST":
        values = {name: request.POST.get(name, "").strip() for name in REPORT_FIELDS}
        photos = request.FILES.getlist("photos")
        try:
            lat, lon = _float(request.POST.get("lat")), _float(request.POST.get("lon"))
        except ValueError:
            errors["location"] = _("位置格式不正确,请在地图上重新点选。")
        if (lat is None) != (lon is None):
            lat = lon = None
        if not values["category"]:
            errors["category"] = _("请选择问题类别。")
        if not values["description"]:
            errors["description"] = _("请描述问题。")
        if anonymous and not values["contact_phone"]:
            errors["contact_phone"] = _("不登录反映问题,请留下手机号,以便告知处理结果。")
        if not errors:
            try:
                done = services.resident_report(
                    user=request.user, category=values["category"],
                    description=values["description"], lat=lat, lon=lon,
                    address=values["address"], contact_name=values["contact_name"],
                    contact_phone=values["contact_phone"], photos=photos)
            except GezhiError as exc:
                field, message = _error(exc)
                errors[field] = message
            else:
                serial = done.event.serial
                if done.token:
                    messages.success(request, _(
                        "已收到您反映的问题,编号 %(serial)s。请保存本页链接,凭它查看办理进度。")
                        % {"serial": serial})
                    return redirect("portal:follow", token=done.token)
                messages.success(request, _(
                    "已收到您反映的问题,编号 %(serial)s。办理进度会在这里更新。")
                    % {"serial": serial})
                return redirect("portal:my_report", serial=serial)
        if photos and errors:
            errors.setdefault("photos", _("表单未提交成功,请重新选择照片。"))
    return render(request, "portal/report.html", {
        "values": values, "errors": errors, "lat": lat, "lon": lon, "anonymous": anonymous,
        "categories": selectors.resident_categories(), "map": public_map_extent(),
        "phone_mask": (request.user.resident_account.phone_mask
                       if hasattr(request.user, "resident_account") else ""),
    }, status=422 if errors else 200)


# --- 我的反映 -------------------------------------------------------------------------------


@login_required(login_url="portal:login")
@require_http_methods(["GET", "POST"])
def my(request):
    user = request.user
    account = getattr(user, "resident_account", None)
    address_error = ""
    address_value = account.home_address if account else ""
    if request.method == "POST":
        address_value = request.POST.get("address", "").strip()
        try:
            services.home_address_save(user=user, address=address_value)
        except GezhiError as exc:
            address_error = str(exc.message)
        else:
            messages.success(request, _("常住地址已保存。") if address_value
                             else _("常住地址已清除。"))
            return redirect(reverse("portal:my") + "#my-grid")
    page = Paginator(selectors.my_reports(user=user), PAGE_SIZE).get_page(request.GET.get("page"))
    items = [{"event": e, "steps": selectors.steps(e, user), "can_rate": selectors.can_rate(e)}
             for e in page.object_list]
    latest = items[0]["event"] if items and page.number == 1 else (
        selectors.my_reports(user=user).first() if page.number > 1 else None)
    return render(request, "portal/my.html", {
        "page_obj": page, "items": items, "account": account,
        "my_grid": selectors.my_grid(user=user, latest=latest),
        "address_value": address_value, "address_error": address_error,
    }, status=422 if address_error else 200)


@login_required(login_url="portal:login")
@require_http_methods(["GET", "POST"])
def my_report(request, serial: str):
    user = request.user
    try:
        event = selectors.my_report(user=user, serial=serial)
    except NotFound:
        raise Http404 from None
    errors: dict[str, str] = {}
    values = {"rating": "", "rating_note": "", "comment": ""}
    if request.method == "POST":
        action = request.POST.get("action")
        values.update({k: request.POST.get(k, "").strip() for k in values})
        try:
            if action == "rate":
                if not values["rating"]:
                    raise ValidationFailed(_("请选择满意、基本满意或不满意。"),
                                           details={"field": "rating"})
                event_services.event_rate(event=event, actor=user, rating=values["rating"],
                                          note=values["rating_note"])
                messages.success(request, _("感谢您的评价。"))
            elif action == "comment":
                event_services.event_comment(event=event, actor=user, note=values["comment"])
                messages.success(request, _("补充说明已提交。"))
            else:
                raise Http404
        except GezhiError as exc:
            field, message = _error(exc)
            errors["comment" if action == "comment" else "rating"] = message
            event = selectors.my_report(user=user, serial=serial)
        else:
            return redirect("portal:my_report", serial=serial)
    return render(request, "portal/my_report.html", {
        "event": event, "steps": selectors.steps(event, user),
        "photos": list(event.photos.all()), "can_rate": selectors.can_rate(event),
        "ratings": Rating.choices, "errors": errors, "values": values,
    }, status=422 if errors else 200)


# --- Follow an anonymous report ------------------------------------------------------------


def follow(request, token: str):
    """The follow page of an anonymous report: whoever holds the link reads its progress."""
    try:
        event = selectors.followed_report(token=token)
    except NotFound:
        raise Http404 from None
    errors: dict[str, str] = {}
    values = {"rating": "", "rating_note": ""}
    if request.method == "POST":
        values.update({k: request.POST.get(k, "").strip() for k in values})
        try:
            if not values["rating"]:
                raise ValidationFailed(_("请选择满意、基本满意或不满意。"),
                                       details={"field": "rating"})
            # Holding the secret link is what proves the anonymous reporter.
            event_services.event_rate(event=event, actor=None, rating=values["rating"],
                                      note=values["rating_note"], anonymous_reporter=True)
        except GezhiError as exc:
            errors["rating"] = _error(exc)[1]
            event = selectors.followed_report(token=token)
        else:
            messages.success(request, _("感谢您的评价。"))
            return redirect("portal:follow", token=token)
    response = render(request, "portal/follow.html", {
        "event": event, "steps": selectors.steps(event, AnonymousUser()),
        "photos": list(event.photos.all()), "can_rate": selectors.can_rate(event),
        "ratings": Rating.choices, "errors": errors, "values": values,
        "follow_url": request.build_absolute_uri(),
    }, status=422 if errors else 200)
    # The link is the key: keep it out of shared caches and other sites' logs.
    response["Cache-Control"] = "private, no-store"
    response["Referrer-Policy"] = "no-referrer"
    return response
