"""The JSON API at /api/v1/ (OpenAPI 3.1 at /api/v1/openapi.json, docs at /api/v1/docs)."""

from django.http import Http404
from ninja import NinjaAPI
from ninja.errors import AuthenticationError, HttpError
from ninja.errors import ValidationError as NinjaValidationError

from gezhi.accounts.api import router as auth_router
from gezhi.accounts.auth import api_auth
from gezhi.core.errors import GezhiError
from gezhi.regions.api import router as regions_router

api = NinjaAPI(
    title="格治 Gezhi API",
    version="1",
    description="Gezhi 格治 — 党建引领网格化基层治理平台 API. Authenticate with "
    "`POST /api/v1/auth/token`, then send `Authorization: Bearer <token>`.",
    auth=api_auth,
    urls_namespace="api",
)


def _error(request, status: int, code: str, message: str, details: dict | None = None):
    return api.create_response(
        request, {"code": code, "message": message, "details": details or {}}, status=status)


@api.exception_handler(GezhiError)
def gezhi_error(request, exc: GezhiError):
    return _error(request, exc.status, exc.code, str(exc.message), exc.details)


@api.exception_handler(Http404)
def not_found(request, exc):
    return _error(request, 404, "not_found", "找不到该对象,或不在您的管辖范围内。")


@api.exception_handler(AuthenticationError)
def not_authenticated(request, exc):
    return _error(request, 401, "not_authenticated", "请先登录或提供有效的访问令牌。")


@api.exception_handler(NinjaValidationError)
def invalid(request, exc: NinjaValidationError):
    return _error(request, 422, "validation_failed", "请求参数有误。", {"errors": exc.errors})


@api.exception_handler(HttpError)
def http_error(request, exc: HttpError):
    return _error(request, exc.status_code, "http_error", str(exc))


api.add_router("/auth/", auth_router)
api.add_router("/", regions_router)
