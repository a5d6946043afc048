"""API authentication: a bearer token, or the page session (with CSRF on writes).

A bearer token cannot be sent by a forged cross-site form, so only the session needs the CSRF
check; it is done exactly as Django does it for pages (cookie + X-CSRFToken header).
"""

from django.conf import settings
from django.utils import timezone
from django.utils.translation import gettext as _
from ninja.security import APIKeyCookie, HttpBearer
from ninja.utils import check_csrf

from gezhi.accounts.models import ApiToken
from gezhi.core.errors import GezhiError, NotAuthenticated


class BearerAuth(HttpBearer):
    def authenticate(self, request, token: str):
        found = (ApiToken.objects.for_raw(token).select_related("user")
                 .filter(revoked_at__isnull=True).first())
        if found is None or not found.user.is_active:
            raise NotAuthenticated(_("访问令牌无效或已被撤销。"), code="token_invalid")
        now = timezone.now()
        if found.expires_at <= now:
            raise NotAuthenticated(_("访问令牌已过期,请重新获取。"), code="token_expired")
        # Written at most once a minute so that a busy client does not write on every request.
        if found.last_used_at is None or (now - found.last_used_at).total_seconds() > 60:
            ApiToken.objects.filter(pk=found.pk).update(last_used_at=now)
        request.user = found.user
        request.api_token = found
        return found.user


class SessionUser(APIKeyCookie):
    """The logged-in page session; unsafe methods must carry the CSRF token."""

    param_name = settings.SESSION_COOKIE_NAME

    def __init__(self) -> None:
        super().__init__(csrf=True)

    def _get_key(self, request):
        user = getattr(request, "user", None)
        if user is None or not user.is_authenticated:
            # Not logged in: answer "not authenticated", not a CSRF failure.
            return None
        if check_csrf(request) is not None:
            raise GezhiError(_("页面安全校验(CSRF)失败,请刷新页面后重试。"),
                             code="csrf_failed", status=403)
        return request.COOKIES.get(self.param_name)

    def authenticate(self, request, key):
        return request.user if key else None


api_auth = [BearerAuth(), SessionUser()]
