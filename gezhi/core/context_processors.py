from django.conf import settings

from gezhi.accounts.roles import Perm
from gezhi.accounts.scope import has_perm


def gezhi(request):
    user = getattr(request, "user", None)
    return {
        "GEZHI_TILE_URL": settings.GEZHI_TILE_URL,
        "GEZHI_TILE_ATTRIBUTION": settings.GEZHI_TILE_ATTRIBUTION,
        "can_console": bool(user and has_perm(user, Perm.CONSOLE)),
        "can_admin": bool(user and has_perm(user, Perm.ACCOUNTS_MANAGE)),
    }
