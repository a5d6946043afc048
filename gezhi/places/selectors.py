"""Places reads, scoped by the grid each place is in."""

from __future__ import annotations

from collections import defaultdict

from django.db.models import Count, Q, QuerySet

from gezhi.accounts.roles import Perm
from gezhi.accounts.scope import scope_for, visible_to
from gezhi.core.errors import NotFound
from gezhi.people.codes import ResidenceKind, Sensitivity
from gezhi.people.models import PersonTag, Residence
from gezhi.people.selectors import person_tags
from gezhi.places.models import Building, Component, Estate, House
from gezhi.regions.models import Region


def _get(qs: QuerySet, viewer, pk: int):
    obj = visible_to(qs, viewer, Perm.BASE_VIEW).filter(pk=pk).first()
    if obj is None:
        raise NotFound()
    return obj


def estate_list(*, viewer, grid: Region | None = None, q: str = "") -> QuerySet[Estate]:
    qs = visible_to(Estate.objects.all(), viewer, Perm.BASE_VIEW).select_related(
        "grid", "property_company").annotate(building_count=Count("buildings"))
    if grid is not None:
        qs = qs.filter(grid__path__startswith=grid.path)
    if q:
        qs = qs.filter(Q(name__icontains=q) | Q(street__icontains=q) | Q(address__icontains=q))
    return qs.order_by("grid__path", "name")


def estate_get(*, viewer, pk: int) -> Estate:
    return _get(Estate.objects.select_related("grid", "property_company"), viewer, pk)


def building_list(*, viewer, estate: Estate | None = None, grid: Region | None = None,
                  q: str = "") -> QuerySet[Building]:
    qs = visible_to(Building.objects.all(), viewer, Perm.BASE_VIEW).select_related(
        "estate", "grid", "head").annotate(house_count=Count("houses"))
    if estate is not None:
        qs = qs.filter(estate=estate)
    if grid is not None:
        qs = qs.filter(grid__path__startswith=grid.path)
    if q:
        qs = qs.filter(Q(name__icontains=q) | Q(estate__name__icontains=q)
                       | Q(address__icontains=q))
    return qs.order_by("grid__path", "estate__name", "name")


def building_get(*, viewer, pk: int) -> Building:
    return _get(Building.objects.select_related("estate", "grid", "head"), viewer, pk)


def house_list(*, viewer, grid: Region | None = None, building: Building | None = None,
               usage: str = "", q: str = "") -> QuerySet[House]:
    qs = visible_to(House.objects.all(), viewer, Perm.BASE_VIEW).select_related(
        "building__estate", "unit", "grid")
    if grid is not None:
        qs = qs.filter(grid__path__startswith=grid.path)
    if building is not None:
        qs = qs.filter(building=building)
    if usage:
        qs = qs.filter(usage=usage)
    if q:
        qs = qs.filter(address__icontains=q)
    return qs.order_by("grid__path", "address")


def house_get(*, viewer, pk: int) -> House:
    return _get(House.objects.select_related("building__estate", "unit", "grid__parent"),
                viewer, pk)


def house_residents(*, viewer, house: House) -> dict:
    """Residents now and before, with the tags the viewer may see."""
    links = list(Residence.objects.filter(house=house).select_related("person__grid")
                 .order_by("moved_out", "-moved_in"))
    tags = person_tags(viewer=viewer, persons=[link.person for link in links])
    return {"current": [r for r in links if r.moved_out is None],
            "former": [r for r in links if r.moved_out is not None], "tags": tags}


def building_cells(*, viewer, building: Building) -> dict:
    """The paper 楼栋图: floors (top first) × units, each cell a house with its current
    residents' visible tags, in a fixed number of queries."""
    houses = list(House.objects.filter(building=building).select_related("unit"))
    links = list(Residence.objects.filter(house__in=houses, moved_out__isnull=True,
                                          kind="lives").select_related("person__grid"))
    tags = person_tags(viewer=viewer, persons=[link.person for link in links])
    residents: dict[int, list] = defaultdict(list)
    for link in links:
        residents[link.house_id].append(link.person)
    units = list(building.units.order_by("sort_order", "name")) or [None]
    grid: dict[tuple[int, int | None], list[House]] = defaultdict(list)
    for house in houses:
        grid[(house.floor, house.unit_id)].append(house)
    floors = sorted({h.floor for h in houses} | set(range(1, building.floors + 1)),
                    reverse=True)
    rows = []
    for floor in floors:
        cells = []
        for unit in units:
            for house in sorted(grid.get((floor, unit.pk if unit else None), []),
                                key=lambda h: h.number):
                people = residents.get(house.pk, [])
                house_tags = {t.tag.code: t.tag for p in people for t in tags.get(p.pk, [])}
                cells.append({"house": house, "unit": unit, "residents": people,
                              "tags": list(house_tags.values())})
        rows.append({"floor": floor, "cells": cells})
    return {"units": [u for u in units if u is not None], "rows": rows}


def house_tags(*, viewer, within: Region | None = None, tag: str = "",
               houses: list[int] | None = None) -> dict[int, dict]:
    """Houses whose current residents carry tags the viewer may see, aggregated in SQL (one
    query however many people): {house id: {"lat", "lon", "address", "tags": {tag id: people}}}.

    Restricted (special-group) tags count only where the viewer holds Perm.SPECIAL_VIEW over
    the person's grid, so they never reach a map, list or legend of anyone else.
    """
    house = "person__residences__house__"
    where = Q(removed_at__isnull=True, person__residences__moved_out__isnull=True,
              person__residences__kind=ResidenceKind.LIVES)
    base = scope_for(viewer, Perm.BASE_VIEW)
    if not base.everything:
        where &= base.region_q(f"{house}grid__path") & base.region_q("person__grid__path")
    special = scope_for(viewer, Perm.SPECIAL_VIEW)
    if not special.everything:
        where &= Q(tag__sensitivity=Sensitivity.NORMAL) | special.region_q("person__grid__path")
    if within is not None:
        where &= Q(**{f"{house}grid__path__startswith": within.path})
    if tag:
        where &= Q(tag__code=tag)
    if houses is not None:
        where &= Q(**{f"{house}id__in": houses})
    # One filter() call, so every condition on the residence applies to the same residence row.
    rows = (PersonTag.objects.filter(where)
            .values(f"{house}id", f"{house}lat", f"{house}lon", f"{house}address",
                    f"{house}building__lat", f"{house}building__lon", "tag_id")
            .annotate(people=Count("person_id", distinct=True))
            .order_by(f"{house}id"))
    found: dict[int, dict] = {}
    for row in rows:
        entry = found.setdefault(row[f"{house}id"], {
            "lat": row[f"{house}lat"] if row[f"{house}lat"] is not None
            else row[f"{house}building__lat"],
            "lon": row[f"{house}lon"] if row[f"{house}lon"] is not None
            else row[f"{house}building__lon"],
            "address": row[f"{house}address"], "tags": {}})
        entry["tags"][row["tag_id"]] = row["people"]
    return found


def component_list(*, viewer, grid: Region | None = None, state: str = "",
                   component_class: str = "", q: str = "") -> QuerySet[Component]:
    qs = visible_to(Component.objects.all(), viewer, Perm.BASE_VIEW).select_related(
        "component_class", "grid")
    if grid is not None:
        qs = qs.filter(grid__path__startswith=grid.path)
    if state:
        qs = qs.filter(state=state)
    if component_class:
        qs = qs.filter(component_class__code=component_class)
    if q:
        qs = qs.filter(Q(code__icontains=q) | Q(name__icontains=q) | Q(address__icontains=q))
    return qs.order_by("grid__path", "code")


def component_get(*, viewer, pk: int) -> Component:
    return _get(Component.objects.select_related("component_class", "grid"), viewer, pk)
