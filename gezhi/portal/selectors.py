"""Reads of the resident portal: the categories residents choose from, a resident's own
reports with their progress in plain words, and the grid staff shown on "我的反映".

A resident sees only what they reported: any other serial is "not found", exactly as one that
does not exist. The plain-words timeline is the API's (GET /api/v1/events/mine), so the page
and the app say the same thing.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.db.models import Prefetch, QuerySet

from gezhi.core.errors import NotFound
from gezhi.events import selectors as event_selectors
from gezhi.events.models import Category, Event, Photo, TimelineEntry
from gezhi.events.selectors import plain_step
from gezhi.portal.models import ReportTicket
from gezhi.portal.services import hidden_category_codes, token_hash
from gezhi.regions.models import Region
from gezhi.regions.selectors import grid_posts, public_grid_search


def resident_categories() -> list[tuple[Category, list[Category]]]:
    """Active top-level classes with their active subclasses, in the administrators' order."""
    hidden = hidden_category_codes()
    children = Prefetch("children", to_attr="resident_children", queryset=(
        Category.objects.filter(active=True).exclude(code__in=hidden)
        .order_by("sort_order", "code")))
    parents = (Category.objects.filter(active=True, parent__isnull=True)
               .prefetch_related(children).order_by("sort_order", "code"))
    return [(p, p.resident_children) for p in parents if p.resident_children]


def _with_timeline(qs: QuerySet[Event]) -> QuerySet[Event]:
    return qs.prefetch_related(
        Prefetch("timeline", queryset=TimelineEntry.objects.order_by("created_at", "id")))


def my_reports(*, user) -> QuerySet[Event]:
    """The user's own reports, newest first, each with its timeline."""
    return _with_timeline(event_selectors.my_reports(user=user)).order_by("-reported_at", "-id")


def my_report(*, user, serial: str) -> Event:
    """One of the user's own reports (with photos), or NotFound."""
    event = (_with_timeline(event_selectors.my_reports(user=user))
             .prefetch_related(Prefetch("photos", queryset=Photo.objects.order_by("id")))
             .filter(serial=serial).first())
    if event is None:
        raise NotFound()
    return event


def followed_report(*, token: str) -> Event:
    """The anonymous report behind a follow token (with photos), or NotFound: a wrong token
    looks exactly like no token."""
    if not token or len(token) > 64:
        raise NotFound()
    ticket = (ReportTicket.objects.filter(token_hash=token_hash(token))
              .values_list("event_id", flat=True).first())
    event = (_with_timeline(Event.objects.select_related("category", "grid"))
             .prefetch_related(Prefetch("photos", queryset=Photo.objects.order_by("id")))
             .filter(pk=ticket).first() if ticket else None)
    if event is None:
        raise NotFound()
    return event


@dataclass
class Step:
    at: object
    text: str


def steps(event: Event, user) -> list[Step]:
    """The event's progress in words a resident understands (internal steps left out)."""
    out = []
    for entry in event.timeline.all():
        text = plain_step(entry, user)
        if text:
            out.append(Step(at=entry.created_at, text=text))
    return out


can_rate = event_selectors.awaits_rating


@dataclass
class MyGrid:
    source: str  # "address" (the saved home address) or "report" (the latest report's grid)
    address: str
    results: list[dict]  # [{"grid": Region, "posts": [GridPost]}], as the public page shows


def my_grid(*, user, latest: Event | None) -> MyGrid | None:
    """我的网格员: the grids of the saved home address, else the grid of the latest report.
    Only published (公示) staff, as on the public page."""
    account = getattr(user, "resident_account", None)
    address = account.home_address if account is not None else ""
    if address:
        grids = list(public_grid_search(q=address))
        source = "address"
    elif latest is not None:
        grids = list(Region.objects.select_related("parent__parent").filter(pk=latest.grid_id))
        source = "report"
    else:
        return None
    posts = grid_posts(grids=grids, published_only=True)
    return MyGrid(source=source, address=address,
                  results=[{"grid": g, "posts": posts.get(g.id, [])} for g in grids])
