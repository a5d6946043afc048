"""/api/v1/auth/: bearer tokens and the current user."""

from django.utils.translation import gettext_lazy as _
from ninja import Router, Schema, Status

from gezhi.accounts import services
from gezhi.accounts.scope import scope_for, user_roles
from gezhi.core.errors import GezhiError
from gezhi.core.schemas import ErrorOut

router = Router(tags=["auth"])


class TokenIn(Schema):
    username: str
    password: str


class TokenOut(Schema):
    token: str
    token_type: str = "Bearer"
    expires_at: str


class MeOut(Schema):
    username: str
    name: str
    roles: list[str]
    scope_paths: list[str]
    everything: bool


@router.post("/token", auth=None, response={200: TokenOut, 401: ErrorOut, 429: ErrorOut},
             summary=_("用用户名和密码换取访问令牌"),
             description=_("连续多次密码错误后,该用户名在该地址上被暂时锁定(429 locked_out)。"))
def token(request, payload: TokenIn):
    issued, raw = services.token_issue(request=request, username=payload.username,
                                       password=payload.password)
    return {"token": raw, "expires_at": issued.expires_at.isoformat()}


@router.delete("/token", response={204: None, 400: ErrorOut, 401: ErrorOut},
               summary=_("撤销当前访问令牌"))
def revoke(request):
    token = getattr(request, "api_token", None)
    if token is None:
        raise GezhiError(_("本次请求未使用访问令牌,没有可撤销的令牌。"), code="no_token")
    services.token_revoke(token=token)
    return Status(204, None)


@router.get("/me", response={200: MeOut, 401: ErrorOut}, summary=_("当前用户、角色与管辖范围"))
def me(request):
    user = request.user
    scope = scope_for(user)
    return {"username": user.username, "name": user.name, "roles": sorted(user_roles(user)),
            "scope_paths": list(scope.paths), "everything": scope.everything}
