"""Console pages of field work (/console/fieldwork/): visit coverage per grid, the households
due for a visit, and the lists of visits, diary entries and patrols (a patrol's route on a
map). Every page reads through gezhi.fieldwork.selectors, so it shows only the viewer's scope.
"""

from __future__ import annotations

import datetime as dt

from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.db.models import Q
from django.http import FileResponse, Http404
from django.shortcuts import render
from django.utils.translation import gettext as _

from gezhi.accounts.roles import Perm
from gezhi.accounts.scope import scope_for, visible_to
from gezhi.core.errors import GezhiError
from gezhi.dashboard.console import console_page, grid_choices
from gezhi.fieldwork import selectors
from gezhi.fieldwork.models import FieldPhoto, VisitOutcome
from gezhi.regions.models import Level, Region
from gezhi.regions.selectors import region_feature

PAGE_SIZE = 30
DAY_CHOICES = (7, 30, 90, 180, 365)


def _page(request, items):
    return Paginator(items, PAGE_SIZE).get_page(request.GET.get("page"))


def _grid(request) -> tuple[list, str]:
    grids = grid_choices(request.user, Perm.FIELD_VIEW)
    code = request.GET.get("grid", "")
    return grids, code if code in {g.code for g in grids} else ""


def _date(request, name: str, problems: list) -> dt.date | None:
    raw = request.GET.get(name, "").strip()
    if not raw:
        return None
    try:
        return dt.date.fromisoformat(raw)
    except ValueError:
        problems.append(_("日期“%(value)s”格式不正确,应为 年-月-日。") % {"value": raw[:20]})
        return None


def region_choices(viewer) -> list[Region]:
    """Regions the viewer may narrow coverage to: the tops of their scope and the
    subdistricts and communities below them."""
    scope = scope_for(viewer, Perm.FIELD_VIEW)
    if scope.empty:
        return []
    wide = (Level.CITY, Level.DISTRICT, Level.SUBDISTRICT, Level.COMMUNITY)
    tops = Q(parent__isnull=True) if scope.everything else Q(path__in=scope.paths)
    return list(Region.objects.filter(tops | (scope.region_q("path") & Q(level__in=wide)))
                .order_by("path").only("code", "name", "path", "depth", "level"))


@console_page(Perm.FIELD_VIEW)
def coverage(request):
    regions = region_choices(request.user)
    region = request.GET.get("region", "")
    if region not in {r.code for r in regions}:
        region = ""
    problems = []
    raw_days = request.GET.get("days", "30").strip() or "30"
    try:
        days = int(raw_days)
    except ValueError:
        days = 0
    report = None
    try:
        report = selectors.coverage(viewer=request.user, region_code=region, days=days)
    except GezhiError as exc:
        problems.append(exc.message)
    return render(request, "fieldwork/coverage.html", {
        "regions": regions, "region": region, "days": raw_days, "day_choices": DAY_CHOICES,
        "report": report, "problems": problems, "tab": "coverage",
    }, status=400 if problems else 200)


@console_page(Perm.FIELD_VIEW)
def due(request):
    grids, grid_code = _grid(request)
    within = None
    if not grid_code and request.GET.get("grid"):
        # A community or subdistrict, as the coverage page links it.
        try:
            within = selectors.region_in_scope(viewer=request.user, code=request.GET["grid"])
        except GezhiError:
            within = None
    code = grid_code or (within.code if within else "")
    rows = selectors.households_due(viewer=request.user, grid_code=code)
    return render(request, "fieldwork/due.html", {
        "grids": grids, "grid_code": grid_code, "within": within,
        "page_obj": _page(request, rows), "count": len(rows), "tab": "due",
        "filtered": bool(code),
    })


@console_page(Perm.FIELD_VIEW)
def visits(request):
    grids, grid_code = _grid(request)
    problems: list = []
    start, end = _date(request, "start", problems), _date(request, "end", problems)
    outcome = request.GET.get("outcome", "")
    outcome = outcome if outcome in VisitOutcome.values else ""
    house = request.GET.get("house", "")
    house = int(house) if house.isdigit() else None
    mine = request.GET.get("visitor") == "me"
    qs = selectors.visit_list(viewer=request.user, house=house, grid_code=grid_code,
                              visitor=request.user if mine else None, outcome=outcome,
                              start=start, end=end)
    return render(request, "fieldwork/visits.html", {
        "grids": grids, "grid_code": grid_code, "page_obj": _page(request, qs),
        "outcomes": VisitOutcome.choices, "outcome": outcome, "house": house, "mine": mine,
        "start": request.GET.get("start", ""), "end": request.GET.get("end", ""),
        "problems": problems, "tab": "visits",
        "filtered": bool(grid_code or outcome or house or mine or start or end),
    }, status=400 if problems else 200)


@console_page(Perm.FIELD_VIEW)
def diary(request):
    grids, grid_code = _grid(request)
    problems: list = []
    start, end = _date(request, "start", problems), _date(request, "end", problems)
    mine = request.GET.get("author") == "me"
    qs = selectors.diary_list(viewer=request.user, author=request.user if mine else None,
                              grid_code=grid_code, start=start, end=end)
    return render(request, "fieldwork/diary.html", {
        "grids": grids, "grid_code": grid_code, "page_obj": _page(request, qs), "mine": mine,
        "start": request.GET.get("start", ""), "end": request.GET.get("end", ""),
        "problems": problems, "tab": "diary",
        "filtered": bool(grid_code or mine or start or end),
    }, status=400 if problems else 200)


@console_page(Perm.FIELD_VIEW)
def diary_entry(request, pk: int):
    entry = selectors.diary_get(viewer=request.user, pk=pk)
    points = [{"lat": entry.lat, "lon": entry.lon, "label": entry.place or str(entry.date)}]
    return render(request, "fieldwork/diary_entry.html", {
        "entry": entry, "tab": "diary",
        "map_data": {"outline": {"type": "FeatureCollection", "features": [
            region_feature(entry.grid)] if entry.grid.boundary else []},
            "points": [p for p in points if p["lat"] is not None]},
    })


@console_page(Perm.FIELD_VIEW)
def patrols(request):
    grids, grid_code = _grid(request)
    mine = request.GET.get("worker") == "me"
    qs = selectors.patrol_list(viewer=request.user, worker=request.user if mine else None,
                               grid_code=grid_code).defer("track")
    return render(request, "fieldwork/patrols.html", {
        "grids": grids, "grid_code": grid_code, "page_obj": _page(request, qs), "mine": mine,
        "tab": "patrols", "filtered": bool(grid_code or mine),
    })


@console_page(Perm.FIELD_VIEW)
def patrol(request, client_id):
    obj = selectors.patrol_get(viewer=request.user, client_id=client_id)
    track = obj.track
    return render(request, "fieldwork/patrol.html", {
        "patrol": obj, "tab": "patrols",
        "duration": (obj.ended_at - obj.started_at) if obj.ended_at else None,
        "map_data": {
            "outline": {"type": "FeatureCollection",
                        "features": [region_feature(obj.grid)] if obj.grid.boundary else []},
            "track": [[p[0], p[1]] for p in track],
            "start": _("起点 %(time)s") % {"time": _local(track[0][2])} if track else "",
            "end": _("终点 %(time)s") % {"time": _local(track[-1][2])} if track else "",
        },
    })


def _local(at: str) -> str:
    from django.utils import timezone

    return f"{timezone.localtime(dt.datetime.fromisoformat(at)):%H:%M}"


@login_required
def photo(request, pk: int):
    """A diary or visit photo, for those who may see its record (they may show residents and
    their homes); never served from the public media folder."""
    item = (FieldPhoto.objects.select_related("diary__grid", "visit__grid")
            .filter(pk=pk).first())
    if item is None:
        raise Http404
    record = item.diary or item.visit
    owner = item.diary.author_id if item.diary_id else item.visit.visitor_id
    if owner != request.user.pk and not visible_to(
            type(record).objects.filter(pk=record.pk), request.user, Perm.FIELD_VIEW).exists():
        raise Http404
    response = FileResponse(item.image.open("rb"), content_type="image/jpeg")
    response["Cache-Control"] = "private, max-age=3600"
    return response
