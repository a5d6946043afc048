"""The JSON API at /api/v1/ (OpenAPI 3.1 at /api/v1/openapi.json, docs at /api/v1/docs).

Every error has one shape, {"code", "message", "details"}, with the message in the request's
language (Chinese by default).
"""

from django.http import Http404
from django.utils.translation import gettext as _
from ninja import NinjaAPI
from ninja.errors import AuthenticationError, HttpError
from ninja.errors import ValidationError as NinjaValidationError

from gezhi.accounts.api import router as auth_router
from gezhi.accounts.auth import api_auth
from gezhi.core.errors import GezhiError
from gezhi.events.api import router as events_router
from gezhi.fieldwork.api import router as fieldwork_router
from gezhi.indicators.api import router as indicators_router
from gezhi.orgs.api import router as orgs_router
from gezhi.people.api import router as people_router
from gezhi.places.api import router as places_router
from gezhi.portal.api import router as public_router
from gezhi.regions.api import router as regions_router

api = NinjaAPI(
    title="格治 Gezhi API",
    version="1",
    description="Gezhi 格治 — 党建引领网格化基层治理平台 API.\n\n"
    "Authenticate with `POST /api/v1/auth/token`, then send `Authorization: Bearer <token>`; "
    "a logged-in page session works too (writes need the `X-CSRFToken` header). "
    "Lists are paginated with `page` and `page_size` and carry `count` and `next`. "
    "Errors are `{\"code\", \"message\", \"details\"}`; an object outside your scope is a 404 "
    "`not_found`, exactly as one that does not exist. `/api/v1/public/` needs no login.",
    auth=api_auth,
    urls_namespace="api",
)


def _error(request, status: int, code: str, message: str, details: dict | None = None):
    return api.create_response(
        request, {"code": code, "message": str(message), "details": details or {}}, status=status)


@api.exception_handler(GezhiError)
def gezhi_error(request, exc: GezhiError):
    return _error(request, exc.status, exc.code, exc.message, exc.details)


@api.exception_handler(Http404)
def not_found(request, exc):
    return _error(request, 404, "not_found", _("找不到该对象,或不在您的管辖范围内。"))


@api.exception_handler(AuthenticationError)
def not_authenticated(request, exc):
    return _error(request, 401, "not_authenticated", _("请先登录或提供有效的访问令牌。"))


@api.exception_handler(NinjaValidationError)
def invalid(request, exc: NinjaValidationError):
    return _error(request, 422, "validation_failed", _("请求参数有误,请检查后重试。"),
                  {"field": _error_field(exc.errors), "errors": exc.errors})


def _error_field(errors: list) -> str:
    """The field of the first error, named as in the request ("grid", "members.0.relation"),
    like the `details.field` of the services' own validation errors."""
    loc = list(errors[0].get("loc", ())) if errors else []
    # ("body", <parameter name>, field…) for a JSON body, ("query" | "path", field…) otherwise
    parts = loc[2:] if loc[:1] == ["body"] else loc[1:]
    return ".".join(str(p) for p in parts)


@api.exception_handler(HttpError)
def http_error(request, exc: HttpError):
    # Ninja raises HttpError itself only for a body it cannot parse (400).
    if exc.status_code == 400:
        return _error(request, 400, "malformed_request",
                      _("请求内容无法解析,请提交有效的 JSON。"))
    return _error(request, exc.status_code, "http_error", str(exc))


api.add_router("/auth/", auth_router)
api.add_router("/public/", public_router)
api.add_router("/", regions_router)
api.add_router("/", people_router)
api.add_router("/", places_router)
api.add_router("/", orgs_router)
api.add_router("/", events_router)
api.add_router("/", indicators_router)
api.add_router("/fieldwork/", fieldwork_router)
