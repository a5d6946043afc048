"""API authentication: a bearer token, or the page session (with CSRF on writes).

A bearer token cannot be sent by a forged cross-site form, so only the session needs the CSRF
check; it is done exactly as Django does it for pages (cookie + X-CSRFToken header).

The token row is read on every request, so a revoked or expired token is refused at once. Its
user, with the role assignments that make the user's scope, is kept in the process for up to
USER_SECONDS (outside transactions): other processes see a deactivated user or a changed role
within that, this process at once. Each request gets its own copy of the user.
"""

import copy
import threading
import time

from django.conf import settings
from django.db import connection
from django.db.models.signals import post_delete, post_save
from django.utils import timezone
from django.utils.translation import gettext as _
from ninja.security import APIKeyCookie, HttpBearer
from ninja.utils import check_csrf

from gezhi.accounts.models import ApiToken, RoleAssignment, User
from gezhi.accounts.scope import user_roles
from gezhi.core.errors import GezhiError, NotAuthenticated

USER_SECONDS = 5
_users: dict[str, tuple[float, User]] = {}  # token hash: (read at, its user)
_users_lock = threading.Lock()


def _kept_user(key: str) -> User | None:
    """A copy of the token's user as read less than USER_SECONDS ago, with its roles."""
    if connection.in_atomic_block:  # as the transaction sees it (and tests roll back)
        return None
    with _users_lock:
        kept = _users.get(key)
    if kept is None or time.monotonic() - kept[0] > USER_SECONDS:
        return None
    user_roles(kept[1])  # the role assignments, read once into the kept user
    return copy.copy(kept[1])


def _keep_user(key: str, user: User) -> None:
    if connection.in_atomic_block:
        return
    with _users_lock:
        if len(_users) > 10_000:
            _users.clear()
        _users[key] = (time.monotonic(), copy.copy(user))


def _users_changed(**kwargs) -> None:
    with _users_lock:
        _users.clear()


for _model in (User, RoleAssignment):
    post_save.connect(_users_changed, sender=_model, dispatch_uid=f"auth.users.{_model.__name__}")
    post_delete.connect(_users_changed, sender=_model,
                        dispatch_uid=f"auth.users.{_model.__name__}")


class BearerAuth(HttpBearer):
    def authenticate(self, request, token: str):
        key = ApiToken.hash(token)
        tokens = ApiToken.objects.filter(key_hash=key, revoked_at__isnull=True)
        user = _kept_user(key)
        if user is not None:
            found = tokens.only("user_id", "expires_at", "last_used_at").first()
            if found is not None:
                found.user = user
        else:
            found = tokens.select_related("user").first()
            if found is not None:
                _keep_user(key, found.user)
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
