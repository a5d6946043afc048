"""Console pages for places (地) and things (物): estates, buildings with their 楼栋图, houses
and components. Lists are scoped and paginated with a fixed number of queries; an object
outside the viewer's scope is a 404."""

from __future__ import annotations

from django.core.paginator import Paginator
from django.db.models import Count
from django.shortcuts import render
from django.urls import reverse

from gezhi.accounts.roles import Perm
from gezhi.accounts.scope import visible_to
from gezhi.dashboard.console import console_page, export_link, grid_choices
from gezhi.events.selectors import events_about
from gezhi.orgs.models import Organisation
from gezhi.people.codes import ResidenceKind
from gezhi.people.models import Household, Residence
from gezhi.people.selectors import tags_for
from gezhi.places.models import ComponentClass, ComponentState, HouseUsage
from gezhi.places.selectors import (
    building_cells,
    building_get,
    building_list,
    component_get,
    component_list,
    estate_get,
    estate_list,
    house_get,
    house_list,
    house_residents,
    house_tags,
)
from gezhi.regions.selectors import region_feature

PAGE_SIZE = 50


def point_map(grid, points: list[dict]) -> dict:
    """Data for a `data-gezhi-map="points"` map: the grid's outline and some points
    ({"lat", "lon", "label", "url", "colour"}); points without a location are left out."""
    return {
        "outline": {"type": "FeatureCollection",
                    "features": [region_feature(grid)] if grid.boundary else []},
        "points": [p for p in points if p.get("lat") is not None and p.get("lon") is not None],
    }


def _filters(request, *, grids, choices: dict[str, list]) -> dict:
    """The list filters from the query string, each kept only if it is one of its choices."""
    grid = {g.code: g for g in grids}.get(request.GET.get("grid", ""))
    values = {name: request.GET.get(name, "") for name in choices}
    values = {name: value if value in choices[name] else "" for name, value in values.items()}
    q = request.GET.get("q", "").strip()[:50]
    return {"grid": grid, "grid_code": grid.code if grid else "", "q": q, **values,
            "filtered": bool(grid or q or any(values.values()))}


@console_page(Perm.BASE_VIEW)
def estates(request):
    grids = grid_choices(request.user)
    f = _filters(request, grids=grids, choices={})
    qs = estate_list(viewer=request.user, grid=f["grid"], q=f["q"])
    page = Paginator(qs, PAGE_SIZE).get_page(request.GET.get("page"))
    return render(request, "places/estates.html", {"page_obj": page, "grids": grids, **f})


@console_page(Perm.BASE_VIEW)
def estate(request, pk):
    obj = estate_get(viewer=request.user, pk=pk)
    buildings = list(building_list(viewer=request.user, estate=obj))
    property_company_visible = bool(
        obj.property_company_id and visible_to(Organisation.objects.filter(
            pk=obj.property_company_id), request.user, Perm.BASE_VIEW).exists())
    organisations = list(visible_to(Organisation.objects.filter(estate=obj), request.user,
                                    Perm.BASE_VIEW).order_by("name"))
    points = [{"lat": obj.lat, "lon": obj.lon, "label": obj.name, "colour": "#c8102e"}]
    points += [{"lat": b.lat, "lon": b.lon, "label": b.name,
                "url": reverse("places:building", args=[b.pk])} for b in buildings]
    return render(request, "places/estate.html", {
        "estate": obj,
        "buildings": buildings,
        "house_total": sum(b.house_count for b in buildings),
        "property_company_visible": property_company_visible,
        "organisations": organisations,
        "map_data": point_map(obj.grid, points),
    })


@console_page(Perm.BASE_VIEW)
def buildings(request):
    grids = grid_choices(request.user)
    f = _filters(request, grids=grids, choices={})
    estate_pk = request.GET.get("estate", "")
    estate_obj = None
    if estate_pk.isdigit():
        estate_obj = estate_list(viewer=request.user).filter(pk=int(estate_pk)).first()
    qs = building_list(viewer=request.user, estate=estate_obj, grid=f["grid"], q=f["q"])
    page = Paginator(qs, PAGE_SIZE).get_page(request.GET.get("page"))
    return render(request, "places/buildings.html", {
        "page_obj": page, "grids": grids, "estate": estate_obj, **f,
        "filtered": f["filtered"] or estate_obj is not None})


def _usage_legend() -> list[tuple[str, str]]:
    return list(HouseUsage.choices)


@console_page(Perm.BASE_VIEW)
def building(request, pk):
    """The paper 楼栋图: floors from the top down, units across, one cell per house coloured by
    usage, with a mark for each tag (visible to the viewer) of the people living there."""
    obj = building_get(viewer=request.user, pk=pk)
    cells = building_cells(viewer=request.user, building=obj)
    units = cells["units"] or [None]
    # Each unit is as wide as its widest floor, so a unit's houses line up under its heading.
    width = {u.pk if u else None: 1 for u in units}
    for row in cells["rows"]:
        per_unit: dict = {}
        for cell in row["cells"]:
            key = cell["unit"].pk if cell["unit"] else None
            per_unit[key] = per_unit.get(key, 0) + 1
        for key, n in per_unit.items():
            width[key] = max(width.get(key, 1), n)
    rows = []
    for row in cells["rows"]:
        by_unit: dict = {}
        for cell in row["cells"]:
            by_unit.setdefault(cell["unit"].pk if cell["unit"] else None, []).append(cell)
        slots = []
        for unit in units:
            key = unit.pk if unit else None
            found = by_unit.get(key, [])
            slots += found + [None] * (width[key] - len(found))
        rows.append({"floor": row["floor"], "slots": slots})
    legend_tags = {}
    house_count = resident_count = 0
    for row in cells["rows"]:
        for cell in row["cells"]:
            house_count += 1
            resident_count += len(cell["residents"])
            for tag in cell["tags"]:
                legend_tags[tag.code] = tag
    return render(request, "places/building.html", {
        "building": obj,
        "units": [{"unit": u, "width": width[u.pk if u else None]} for u in units],
        "unit_count": len(cells["units"]),
        "rows": rows,
        "house_count": house_count,
        "resident_count": resident_count,
        "usages": _usage_legend(),
        "legend_tags": sorted(legend_tags.values(), key=lambda t: (t.sort_order, t.code)),
        "map_data": point_map(obj.grid, [{"lat": obj.lat, "lon": obj.lon, "label": str(obj)}]),
    })


@console_page(Perm.BASE_VIEW)
def houses(request):
    viewer = request.user
    grids = grid_choices(viewer)
    f = _filters(request, grids=grids, choices={"usage": HouseUsage.values})
    qs = house_list(viewer=viewer, grid=f["grid"], usage=f["usage"], q=f["q"])
    page = Paginator(qs, PAGE_SIZE).get_page(request.GET.get("page"))
    items = list(page.object_list)
    # Counted for this page only: an annotation would group every house of the scope.
    counts = dict(Residence.objects.filter(house__in=items, moved_out__isnull=True,
                                           kind=ResidenceKind.LIVES)
                  .values("house_id").annotate(n=Count("id")).values_list("house_id", "n"))
    for h in items:
        h.resident_count = counts.get(h.pk, 0)
    marks = house_tags(viewer=viewer, houses=[h.pk for h in items])
    tags = {t.pk: t for t in tags_for(viewer=viewer)}
    rows = [{"house": h, "tags": [tags[i] for i in sorted(
        marks.get(h.pk, {}).get("tags", {}), key=lambda i: (tags[i].sort_order, tags[i].code))
        if i in tags]} for h in items]
    return render(request, "places/houses.html", {
        "page_obj": page, "rows": rows, "grids": grids, "usages": HouseUsage.choices, **f,
        "export_url": export_link(request, "houses")})


@console_page(Perm.BASE_VIEW)
def house(request, pk):
    obj = house_get(viewer=request.user, pk=pk)
    residents = house_residents(viewer=request.user, house=obj)
    house_tag_list = {}
    for link in residents["current"]:
        for t in residents["tags"].get(link.person_id, []):
            house_tag_list[t.tag.code] = t.tag
    households = list(visible_to(Household.objects.filter(house=obj), request.user,
                                 Perm.BASE_VIEW).select_related("head")
                      .prefetch_related("members__person"))
    lat = obj.lat if obj.lat is not None else obj.building.lat
    lon = obj.lon if obj.lon is not None else obj.building.lon
    return render(request, "places/house.html", {
        "related_events": events_about(viewer=request.user, house=obj),
        "house": obj,
        "current": [{"link": link, "tags": residents["tags"].get(link.person_id, [])}
                    for link in residents["current"]],
        "former": residents["former"],
        "house_tags": sorted(house_tag_list.values(), key=lambda t: (t.sort_order, t.code)),
        "households": households,
        "map_data": point_map(obj.grid, [{"lat": lat, "lon": lon, "label": obj.address}]),
    })


@console_page(Perm.BASE_VIEW)
def components(request):
    grids = grid_choices(request.user)
    classes = list(ComponentClass.objects.order_by("code"))
    f = _filters(request, grids=grids, choices={
        "state": ComponentState.values, "component_class": [c.code for c in classes]})
    qs = component_list(viewer=request.user, grid=f["grid"], state=f["state"],
                        component_class=f["component_class"], q=f["q"])
    page = Paginator(qs, PAGE_SIZE).get_page(request.GET.get("page"))
    return render(request, "places/components.html", {
        "page_obj": page, "grids": grids, "classes": classes, "states": ComponentState.choices,
        **f, "export_url": export_link(request, "components")})


@console_page(Perm.BASE_VIEW)
def component(request, pk):
    obj = component_get(viewer=request.user, pk=pk)
    return render(request, "places/component.html", {
        "component": obj,
        "map_data": point_map(obj.grid, [{"lat": obj.lat, "lon": obj.lon, "label": str(obj)}]),
    })
