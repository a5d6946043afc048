"""Open311 GeoReport v2 at /open311/v2/: thin views that parse, call one service or selector,
and render JSON or XML. docs/open311.md describes every endpoint and field."""

from __future__ import annotations

import json
from functools import wraps

from django.conf import settings
from django.contrib import messages
from django.db.models import Count
from django.shortcuts import get_object_or_404, redirect
from django.shortcuts import render as render_page
from django.urls import NoReverseMatch, reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

from gezhi.accounts.roles import Perm
from gezhi.core import clock
from gezhi.core.errors import GezhiError, NotFound, PermissionDenied, ValidationFailed
from gezhi.dashboard.console import console_page
from gezhi.events.models import ApiKey
from gezhi.open311 import selectors, services
from gezhi.open311.forms import ApiKeyForm
from gezhi.open311.renderers import render, render_error

SPECIFICATION = "http://wiki.open311.org/GeoReport_v2"
# Spec field names for the intake's own (so an error names what the client sent).
FIELD_NAMES = {"contact_phone": "phone", "location": "lat", "category": "service_code"}


def _status(exc: GezhiError) -> int:
    if isinstance(exc, PermissionDenied):
        return 403
    if isinstance(exc, NotFound):
        return 404
    if isinstance(exc, ValidationFailed) or exc.status == 422:
        return 400
    return exc.status


def georeport(*methods: str):
    """An endpoint answering `methods` in the requested format, with errors in the spec's shape.
    CSRF-exempt: POST carries an api_key, not a session."""

    def decorate(view):
        @csrf_exempt
        @wraps(view)
        def wrapped(request, *args, fmt: str | None = None, **kwargs):
            fmt = fmt or "xml"  # XML is the format every GeoReport server speaks
            if request.method not in methods:
                response = render_error(fmt, 405, _("不支持 %(method)s 请求。") % {
                    "method": request.method})
                response["Allow"] = ", ".join(methods)
                return response
            try:
                return view(request, *args, fmt=fmt, **kwargs)
            except GezhiError as exc:
                message = str(exc.message)
                field = FIELD_NAMES.get(exc.details.get("field", ""), exc.details.get("field"))
                if field and field not in message:
                    message = f"{field}: {message}"
                return render_error(fmt, _status(exc), message)

        return wrapped

    return decorate


def _params(request) -> dict:
    if request.method == "POST" and request.content_type == "application/json":
        try:
            body = json.loads(request.body or b"{}")
        except ValueError:
            raise ValidationFailed(_("请求体不是有效的 JSON。"), code="bad_json") from None
        if not isinstance(body, dict):
            raise ValidationFailed(_("请求体不是有效的 JSON。"), code="bad_json")
        return {k: "" if v is None else str(v) for k, v in body.items()}
    source = request.POST if request.method == "POST" else request.GET
    return {k: source.get(k, "") for k in source}


@georeport("GET")
def discovery(request, fmt: str):
    changeset = timezone.localtime(clock.now()).replace(hour=0, minute=0, second=0,
                                                         microsecond=0).isoformat()
    try:
        keys_page = request.build_absolute_uri(reverse("open311_console:keys"))
    except NoReverseMatch:
        keys_page = ""
    data = {
        "changeset": changeset,
        "contact": getattr(settings, "GEZHI_OPEN311_CONTACT", "") or _(
            "请联系平台管理员(区县网格化服务管理中心)。"),
        "key_service": (_("接入密钥由平台管理员创建:%(url)s") % {"url": keys_page}
                        if keys_page else _("接入密钥由平台管理员创建。")),
        "endpoints": [{
            "specification": SPECIFICATION,
            "url": request.build_absolute_uri(reverse("open311:root")),
            "changeset": changeset,
            "type": "production",
            "formats": ["text/xml", "application/json"],
        }],
    }
    return render(fmt, data, root="discovery", item=None)


@georeport("GET")
def service_list(request, fmt: str):
    selectors.jurisdiction_get(request.GET.get("jurisdiction_id", ""))
    return render(fmt, selectors.service_list(), root="services", item="service")


@georeport("GET")
def service_definition(request, code: str, fmt: str):
    selectors.jurisdiction_get(request.GET.get("jurisdiction_id", ""))
    return render(fmt, selectors.service_definition(code=code), root="service_definition",
                  item=None)


@georeport("GET", "POST")
def requests(request, fmt: str):
    if request.method == "POST":
        return _submit(request, fmt)
    p = request.GET
    filters = selectors.RequestFilters(**{
        name: p.get(name, "") for name in selectors.RequestFilters.__dataclass_fields__})
    events = selectors.request_list(filters=filters)
    return render(fmt, selectors.request_dicts(events, absolute=request.build_absolute_uri),
                  root="service_requests", item="request")


def _submit(request, fmt: str):
    p = _params(request)
    key = services.apikey_check(p.get("api_key"))
    within = selectors.jurisdiction_get(p.get("jurisdiction_id", ""))
    data = services.Submission(
        service_code=p.get("service_code", ""), lat=p.get("lat", ""), lon=p.get("long", ""),
        address=p.get("address_string", ""), description=p.get("description", ""),
        first_name=p.get("first_name", ""), last_name=p.get("last_name", ""),
        phone=p.get("phone", ""), email=p.get("email", ""), media_url=p.get("media_url", ""),
        external_id=p.get("external_id", ""))
    event, created = services.request_submit(key=key, data=data, within=within)
    if created:
        notice = _("已登记,事件编号 %(serial)s。") % {"serial": event.serial}
    else:
        notice = _("该工单已于 %(time)s 登记,事件编号 %(serial)s,未重复创建。") % {
            "time": f"{timezone.localtime(event.reported_at):%Y-%m-%d %H:%M}",
            "serial": event.serial}
    answer = [{"service_request_id": event.serial,
               "service_notice": notice + selectors.limit_text(event.category),
               "account_id": None,
               "token": str(event.client_id) if event.client_id else None}]
    return render(fmt, answer, root="service_requests", item="request",
                  status=201 if created else 200)


@georeport("GET")
def request_detail(request, service_request_id: str, fmt: str):
    event = selectors.request_get(service_request_id=service_request_id)
    return render(fmt, selectors.request_dicts([event], absolute=request.build_absolute_uri),
                  root="service_requests", item="request")


@georeport("GET")
def token_detail(request, token: str, fmt: str):
    event = selectors.token_get(token=token)
    return render(fmt, [{"service_request_id": event.serial, "token": token}],
                  root="service_requests", item="request")


@georeport("GET", "POST")
def unknown(request, path: str = "", fmt: str = "xml"):
    raise NotFound(_("没有这个接口:%(path)s") % {"path": request.path})


# ---------------------------------------------------------------------------------------------
# Console: API keys (接入密钥), for administrators


@console_page(Perm.EVENT_CONFIG)
def keys(request):
    """List, create and revoke keys. A new key is shown on the answer to its creation only."""
    created = raw = None
    if request.method == "POST":
        form = ApiKeyForm(request.POST)
        if form.is_valid():
            try:
                created, raw = services.apikey_create(name=form.cleaned_data["name"],
                                                      source=form.cleaned_data["source"],
                                                      actor=request.user)
                form = ApiKeyForm()
            except ValidationFailed as exc:
                form.add_error(exc.details.get("field"), str(exc.message))
    else:
        form = ApiKeyForm()
    key_list = (ApiKey.objects.select_related("created_by").annotate(event_count=Count("events"))
                .order_by("revoked_at", "-created_at"))
    return render_page(request, "open311/keys.html", {
        "form": form, "created": created, "raw_key": raw, "keys": key_list,
        "endpoint": request.build_absolute_uri(reverse("open311:root")),
    })


@console_page(Perm.EVENT_CONFIG)
@require_POST
def key_revoke(request, pk: int):
    key = get_object_or_404(ApiKey, pk=pk)
    services.apikey_revoke(prefix=key.prefix)
    messages.success(request, _("已停用接入密钥“%(name)s”(%(prefix)s…),使用它的请求将被拒绝。") % {
        "name": key.name, "prefix": key.prefix})
    return redirect("open311_console:keys")
