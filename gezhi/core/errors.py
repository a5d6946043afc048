"""One application error type, turned into one error shape.

API: {"code": "...", "message": "...", "details": {...}} with the error's HTTP status.
Pages: the message shown next to the form or as a page message.
"""

from django.utils.translation import gettext_lazy as _


class GezhiError(Exception):
    status = 400
    code = "invalid"

    def __init__(self, message=None, *, code: str | None = None, status: int | None = None,
                 details: dict | None = None):
        self.message = message if message is not None else _("请求无效。")
        if code:
            self.code = code
        if status:
            self.status = status
        self.details = details or {}
        super().__init__(str(self.message))

    def as_dict(self) -> dict:
        return {"code": self.code, "message": str(self.message), "details": self.details}


class NotFound(GezhiError):
    """Also raised for objects outside the viewer's scope, so nothing leaks (404, not 403)."""

    status = 404
    code = "not_found"

    def __init__(self, message=None, **kwargs):
        super().__init__(message or _("找不到该对象,或不在您的管辖范围内。"), **kwargs)


class PermissionDenied(GezhiError):
    status = 403
    code = "permission_denied"

    def __init__(self, message=None, **kwargs):
        super().__init__(message or _("您没有执行此操作的权限。"), **kwargs)


class NotAuthenticated(GezhiError):
    status = 401
    code = "not_authenticated"

    def __init__(self, message=None, **kwargs):
        super().__init__(message or _("请先登录。"), **kwargs)


class ValidationFailed(GezhiError):
    status = 422
    code = "validation_failed"
