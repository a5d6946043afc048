"""Template helpers of field work: shares as percentages, and the visits panel of the console
house page (places/house.html includes fieldwork/_house_visits.html)."""

from __future__ import annotations

from django import template

from gezhi.accounts.roles import Perm
from gezhi.accounts.scope import scope_for
from gezhi.fieldwork import selectors

register = template.Library()

HOUSE_VISITS_SHOWN = 10


@register.filter
def pct(share) -> str:
    """0.4532 → "45.3%"; no households → "—"."""
    if share is None:
        return "—"
    return f"{share * 100:.1f}%"


@register.simple_tag(takes_context=True)
def house_visits(context, house) -> dict | None:
    """The house's visits (newest first) and when the next is due, for viewers who may read
    field work there; None for everyone else."""
    request = context.get("request")
    user = getattr(request, "user", None)
    if user is None or not scope_for(user, Perm.FIELD_VIEW).covers_path(house.grid.path):
        return None
    visits = selectors.visits_for_house(viewer=user, house=house).prefetch_related(None) \
        .prefetch_related("people_met")
    shown = list(visits[:HOUSE_VISITS_SHOWN + 1])
    more = len(shown) > HOUSE_VISITS_SHOWN
    # The newest visits tell the last one that reached someone, unless none of them did and
    # there are more.
    conclusive = not more or any(v.outcome in selectors.REACHED for v in shown)
    due = selectors.house_due(viewer=user, house=house, recent=shown if conclusive else None)
    today = selectors.today()
    return {"visits": shown[:HOUSE_VISITS_SHOWN], "more": more, "due": due, "today": today,
            "overdue_days": due.overdue_days(today) if due and due.due_on else None}
