"""Template helpers shared by the console and the public pages."""

import re
import unicodedata

from django import template
from django.utils.http import urlencode

register = template.Library()


def _is_cjk(ch: str) -> bool:
    return unicodedata.name(ch, "").startswith(("CJK UNIFIED", "CJK COMPATIBILITY"))


@register.filter
def initials(name: str) -> str:
    """Avatar text when there is no photo: the given name of a Chinese name (last two
    characters of a three-character name), or the initials of a Latin one.
    Keep in step with initials() in static/gezhi/map.js."""
    name = (name or "").strip()
    if not name:
        return "?"
    if _is_cjk(name[0]):
        return name[-2:] if len(name) >= 3 else name
    words = [w for w in re.split(r"[\s.·-]+", name) if w]
    return "".join(w[0] for w in words[:2]).upper()


@register.filter
def tel_href(phone: str) -> str:
    """A tel: link target: digits, and a leading +."""
    phone = (phone or "").strip()
    digits = re.sub(r"[^\d]", "", phone)
    return f"tel:{'+' if phone.startswith('+') else ''}{digits}"


@register.filter
def minutes(delta) -> int:
    return max(1, round(delta.total_seconds() / 60)) if delta else 0


@register.simple_tag(takes_context=True)
def query_with(context, **changes) -> str:
    """The current query string with some parameters changed (for pagination links)."""
    params = context["request"].GET.copy()
    for key, value in changes.items():
        if value in (None, ""):
            params.pop(key, None)
        else:
            params[key] = value
    return "?" + urlencode(sorted(params.lists()), doseq=True) if params else "?"


@register.inclusion_tag("console/_nav.html", takes_context=True)
def console_nav(context):
    from gezhi.dashboard.console import nav_for

    request = context["request"]
    match = getattr(request, "resolver_match", None)
    return {"items": nav_for(request.user, match.view_name if match else "")}


@register.simple_tag
def role_labels(user) -> str:
    from gezhi.accounts.roles import Role
    from gezhi.accounts.scope import user_roles

    labels = [Role(r).label for r in Role.values if r in user_roles(user)]
    return "、".join(str(label) for label in labels)


@register.filter
def area(m2) -> str:
    """An area for people: square metres below one square kilometre, else square kilometres."""
    from django.utils.translation import gettext as _

    if m2 in (None, ""):
        return "—"
    m2 = float(m2)
    if m2 >= 1_000_000:
        return _("%(n).2f 平方公里") % {"n": m2 / 1_000_000}
    return _("%(n)d 平方米") % {"n": round(m2)}

