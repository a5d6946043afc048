"""Account writes."""

from django.conf import settings
from django.contrib.auth import authenticate, user_logged_in
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from gezhi.accounts.models import ApiToken, RoleAssignment, User
from gezhi.accounts.roles import DEPARTMENT_ROLES, REGION_ROLES, Role
from gezhi.accounts.scope import clear_cache
from gezhi.core.errors import GezhiError, ValidationFailed


def token_issue(*, request, username: str, password: str) -> tuple[ApiToken, str]:
    """Check the password (throttled by django-axes) and issue a bearer token.

    `request` must be the real HTTP request: axes counts failures per username and client
    address from it, and flags it once the limit is reached.
    """
    user = authenticate(request, username=username, password=password)
    # Axes flags the request on the failure that reaches the limit and on every attempt while
    # locked out (its backend then refuses even a correct password, so `user` is None).
    if getattr(request, "axes_locked_out", False):
        # The caller answers in its own error shape (the API's JSON); without this,
        # AxesMiddleware would replace that answer with its HTML lockout page.
        request.axes_locked_out = False
        raise GezhiError(_("登录失败次数过多,账号已暂时锁定,请稍后再试。"),
                         code="locked_out", status=429)
    if user is None:
        raise GezhiError(_("用户名或密码错误。"), code="bad_credentials", status=401)
    # Issuing a token is a login: axes clears the failure count (AXES_RESET_ON_SUCCESS) and
    # logs the access, and Django records last_login, as for a page login.
    user_logged_in.send(sender=user.__class__, request=request, user=user)
    raw = ApiToken.new_raw()
    token = ApiToken.objects.create(user=user, key_hash=ApiToken.hash(raw), prefix=raw[:8],
                                    expires_at=timezone.now() + settings.GEZHI_TOKEN_TTL)
    return token, raw


def token_revoke(*, token: ApiToken) -> None:
    ApiToken.objects.filter(pk=token.pk).update(revoked_at=timezone.now())


@transaction.atomic
def role_assign(*, user: User, role: str, region=None, department=None) -> RoleAssignment:
    if role in REGION_ROLES and region is None:
        raise ValidationFailed(_("该角色必须绑定辖区节点。"), details={"field": "region"})
    if role in DEPARTMENT_ROLES and department is None:
        raise ValidationFailed(_("该角色必须绑定职能部门。"), details={"field": "department"})
    if role == Role.ADMIN:
        region, department = None, None
    assignment, _created = RoleAssignment.objects.get_or_create(
        user=user, role=role, region=region, department=department)
    clear_cache(user)
    return assignment
