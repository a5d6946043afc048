"""API authentication: a bearer token, or the page session (with CSRF on writes)."""

from django.utils import timezone
from django.utils.translation import gettext as _
from ninja.security import HttpBearer, SessionAuth

from gezhi.accounts.models import ApiToken
from gezhi.core.errors import NotAuthenticated


class BearerAuth(HttpBearer):
    def authenticate(self, request, token: str):
        found = (ApiToken.objects.for_raw(token).select_related("user")
                 .filter(revoked_at__isnull=True).first())
        if found is None or not found.user.is_active:
            raise NotAuthenticated(_("访问令牌无效或已被撤销。"), code="token_invalid")
        now = timezone.now()
        if found.expires_at <= now:
            raise NotAuthenticated(_("访问令牌已过期,请重新获取。"), code="token_expired")
        if found.last_used_at is None or (now - found.last_used_at).total_seconds() > 60:
            ApiToken.objects.filter(pk=found.pk).update(last_used_at=now)
        request.user = found.user
        request.api_token = found
        return found.user


class SessionUser(SessionAuth):
    def authenticate(self, request, key):
        user = getattr(request, "user", None)
        return user if user is not None and user.is_authenticated else None


api_auth = [BearerAuth(), SessionUser()]
