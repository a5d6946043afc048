"""Account writes."""

from django.conf import settings
from django.contrib.auth import authenticate
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from gezhi.accounts.models import ApiToken, RoleAssignment, User
from gezhi.accounts.roles import DEPARTMENT_ROLES, REGION_ROLES, Role
from gezhi.core.errors import GezhiError, ValidationFailed


def token_issue(*, request, username: str, password: str) -> tuple[ApiToken, str]:
    """Check the password (throttled by django-axes) and issue a bearer token."""
    from axes.helpers import get_lockout_message  # noqa: F401  (axes is installed)

    try:
        user = authenticate(request, username=username, password=password)
    except Exception as exc:  # AxesBackendPermissionDenied: locked out after repeated failures
        if exc.__class__.__name__ == "AxesBackendPermissionDenied":
            raise GezhiError(_("登录失败次数过多,账号已暂时锁定,请稍后再试。"),
                             code="locked_out", status=429) from exc
        raise
    if getattr(request, "axes_locked_out", False):
        raise GezhiError(_("登录失败次数过多,账号已暂时锁定,请稍后再试。"),
                         code="locked_out", status=429)
    if user is None:
        raise GezhiError(_("用户名或密码错误。"), code="bad_credentials", status=401)
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
    return assignment
