"""Estates, buildings (and the 楼栋图), houses and components in the API: scope and rights.

The world (conftest.py): an estate, a building and two houses in grid A-1 (张桂兰 lives in
101 with a care tag, 赵强 in 201 with a restricted tag), an estate, building and house in
grid B-1. A-1 lies at lon 117.10–117.12, B-1 at lon 117.20–117.24 (lat 35.06–35.10).
"""

import pytest
from django.test import Client

from gezhi.people.tests.test_api import Request, call
from gezhi.places.models import Building, Component, ComponentClass, Estate, House
from gezhi.places.services import component_create

IN_A1 = {"lat": 35.085, "lon": 117.115}
IN_B1 = {"lat": 35.085, "lon": 117.225}


@pytest.fixture
def components(base, world):
    light = ComponentClass.objects.get(code="0117")
    a1 = component_create(actor=None, component_class=light, code="LD-A1-001", lat=35.083,
                          lon=117.113, name="路灯")
    b1 = component_create(actor=None, component_class=light, code="LD-B1-001", lat=35.083,
                          lon=117.223, name="路灯")
    return a1, b1


def requests_on(base, components, side: str) -> dict[str, Request]:
    a1 = side == "a1"
    estate = base.estate_a1 if a1 else base.estate_b1
    building = base.building_a1 if a1 else base.building_b1
    house = base.house_a1 if a1 else base.house_b1
    component = components[0] if a1 else components[1]
    point = IN_A1 if a1 else IN_B1
    version = House.objects.get(pk=house.pk).version
    return {
        "estate_detail": Request("get", f"/api/v1/estates/{estate.pk}"),
        "estate_create": Request("post", "/api/v1/estates", {"name": "新小区", **point}, True),
        "building_detail": Request("get", f"/api/v1/buildings/{building.pk}"),
        "building_cells": Request("get", f"/api/v1/buildings/{building.pk}/cells"),
        "building_create": Request("post", "/api/v1/buildings",
                                   {"name": "9号楼", "estate_id": estate.pk, "units": 2}, True),
        "house_detail": Request("get", f"/api/v1/houses/{house.pk}"),
        "house_create": Request("post", "/api/v1/houses",
                                {"building_id": building.pk, "number": "501"}, True),
        "house_patch": Request("patch", f"/api/v1/houses/{house.pk}",
                               {"version": version, "usage": "vacant"}, True),
        "component_detail": Request("get", f"/api/v1/components/{component.pk}"),
        "component_create": Request("post", "/api/v1/components", {
            "component_class": "0114", "code": f"XF-{side}-001", **point}, True),
    }


ENDPOINTS = ["estate_detail", "estate_create", "building_detail", "building_cells",
             "building_create", "house_detail", "house_create", "house_patch",
             "component_detail", "component_create"]
LISTS = ["/api/v1/estates", "/api/v1/buildings", "/api/v1/houses", "/api/v1/components",
         "/api/v1/component-classes"]


def send(client, request: Request):
    return call(client, request.method, request.url, request.body)


def counts() -> tuple[int, ...]:
    return (Estate.objects.count(), Building.objects.count(), House.objects.count(),
            Component.objects.count())


# --- The permission matrix -------------------------------------------------------------------


@pytest.mark.parametrize("endpoint", ENDPOINTS)
def test_grid_worker_uses_every_endpoint_in_their_grid(base, components, world, endpoint):
    request = requests_on(base, components, "a1")[endpoint]
    response = send(world.api("worker_a1"), request)
    assert response.status_code == (201 if request.method == "post" else 200), response.content


@pytest.mark.parametrize(("persona", "side"), [("worker_a1", "b1"), ("worker_b1", "a1"),
                                               ("resident", "a1"), ("dispatcher_a", "b1")])
@pytest.mark.parametrize("endpoint", ENDPOINTS)
def test_outside_the_scope_every_endpoint_is_404(base, components, world, persona, side,
                                                 endpoint):
    before = counts()
    response = send(world.api(persona), requests_on(base, components, side)[endpoint])
    assert response.status_code == 404, response.content
    assert response.json()["code"] == "not_found"
    assert counts() == before


@pytest.mark.parametrize("endpoint", ENDPOINTS)
def test_dispatcher_may_look_but_not_change(base, components, world, endpoint):
    request = requests_on(base, components, "a1")[endpoint]
    before = counts()
    response = send(world.api("dispatcher_a"), request)
    if request.write:
        assert response.status_code == 403, response.content
        assert response.json()["code"] == "permission_denied"
        assert counts() == before
        assert House.objects.get(pk=base.house_a1.pk).usage == "owner_occupied"
    else:
        assert response.status_code == 200, response.content


@pytest.mark.parametrize("url", LISTS + ["endpoint"])
@pytest.mark.parametrize("endpoint", ENDPOINTS)
def test_anonymous_gets_401_everywhere(base, components, world, endpoint, url):
    request = (requests_on(base, components, "a1")[endpoint] if url == "endpoint"
               else Request("get", url))
    response = send(Client(), request)
    assert response.status_code == 401
    assert response.json()["code"] == "not_authenticated"


@pytest.mark.parametrize(("persona", "expected"), [
    ("worker_a1", 1), ("worker_b1", 1), ("dispatcher_a", 1), ("chief_a1", 1), ("resident", 0),
    ("admin", 2),
])
@pytest.mark.parametrize("url", LISTS[:4])
def test_lists_are_the_viewers_scope(base, components, world, persona, expected, url):
    body = call(world.api(persona), "get", url).json()
    grids = {item["grid"]["code"] for item in body["items"]}
    assert len(grids) == expected
    if persona in ("worker_a1", "dispatcher_a", "chief_a1"):
        assert grids == {world.grid_a1.code}
    if persona == "worker_b1":
        assert grids == {world.grid_b1.code}


def test_component_classes_are_for_staff(world):
    assert call(world.api("worker_a1"), "get",
                "/api/v1/component-classes?page_size=500").json()["count"] > 20
    assert call(world.api("resident"), "get", "/api/v1/component-classes").json()["count"] == 0


# --- Estates and buildings -------------------------------------------------------------------


def test_estate_is_placed_in_the_grid_of_its_location(base, world):
    worker = world.api("worker_a1")
    created = call(worker, "post", "/api/v1/estates", {
        "name": "文化佳苑", **IN_A1, "street": "文化路", "property_company_id": base.shop_a1.pk,
        "built_year": 2008})
    assert created.status_code == 201, created.content
    body = created.json()
    assert body["grid"] == {"code": world.grid_a1.code, "name": "文化路第一网格"}
    assert body["property_company"] == {"id": base.shop_a1.pk, "name": "善国便利店"}
    nowhere = call(worker, "post", "/api/v1/estates", {"name": "无处", "lat": 35.08,
                                                      "lon": 117.5})
    assert nowhere.status_code == 422
    assert (nowhere.json()["code"], nowhere.json()["details"]["field"]) == ("outside_grids",
                                                                            "lat")
    twice = call(worker, "post", "/api/v1/estates", {"name": "文化佳苑", **IN_A1})
    assert (twice.status_code, twice.json()["details"]["field"]) == (422, "name")
    half = call(worker, "post", "/api/v1/estates", {"name": "半个坐标", "lat": 35.08})
    assert (half.status_code, half.json()["details"]["field"]) == (422, "lat")


def test_building_list_and_detail(base, world):
    worker = world.api("worker_a1")
    listed = call(worker, "get", f"/api/v1/buildings?estate={base.estate_a1.pk}").json()
    assert [(b["name"], b["house_count"], b["estate_name"]) for b in listed["items"]] == [
        ("1号楼", 2, "善国盛景小区")]
    assert call(worker, "get", f"/api/v1/buildings?estate={base.estate_b1.pk}").json()[
        "count"] == 0
    created = call(worker, "post", "/api/v1/buildings",
                   {"name": "2号楼", "estate_id": base.estate_a1.pk, "floors": 11, "units": 3})
    assert created.status_code == 201
    assert created.json()["grid"]["code"] == world.grid_a1.code
    detail = call(worker, "get", f"/api/v1/buildings/{created.json()['id']}").json()
    assert (detail["floors"], detail["house_count"]) == (11, 0)
    cells = call(worker, "get", f"/api/v1/buildings/{created.json()['id']}/cells").json()
    assert [u["name"] for u in cells["units"]] == ["1单元", "2单元", "3单元"]
    assert [row["floor"] for row in cells["rows"]] == list(range(11, 0, -1))
    bad = call(worker, "post", "/api/v1/buildings", {"name": "高楼", "estate_id":
                                                     base.estate_a1.pk, "floors": 500})
    assert (bad.status_code, bad.json()["details"]["field"]) == (422, "floors")


def cell_tags(response) -> dict[str, list[str]]:
    assert response.status_code == 200, response.content
    return {cell["number"]: [t["code"] for t in cell["tags"]]
            for row in response.json()["rows"] for cell in row["cells"]}


def test_building_cells_show_visible_tags_only(base, world):
    url = f"/api/v1/buildings/{base.building_a1.pk}/cells"
    assert cell_tags(call(world.api("worker_a1"), "get", url)) == {"101": ["lone_elderly"],
                                                                   "201": []}
    assert cell_tags(call(world.api("chief_a1"), "get", url)) == {
        "101": ["lone_elderly"], "201": ["community_correction"]}
    body = call(world.api("worker_a1"), "get", url).json()
    assert [row["floor"] for row in body["rows"]] == [3, 2, 1]
    first = body["rows"][2]["cells"][0]
    assert (first["residents"][0]["name"], first["usage_label"]) == ("张桂兰", "自住")


def test_building_cells_query_count_is_pinned(base, world, django_assert_max_num_queries):
    from gezhi.people.services import person_create, residence_move_in
    from gezhi.places.services import house_create

    unit = base.building_a1.units.get(sort_order=2)
    for floor in (1, 2, 3):
        house = house_create(actor=None, building=base.building_a1, unit=unit,
                             number=f"{floor}02")
        person = person_create(actor=None, grid=world.grid_a1, name=f"住户{floor}",
                               id_type="passport", id_number=f"P{floor:08d}")
        residence_move_in(actor=None, person=person, house=house, relation="owner")
    client = world.api("worker_a1")
    call(client, "get", "/api/v1/auth/me")
    # token, role assignments, building, houses, residents, their tags, units
    with django_assert_max_num_queries(7):
        body = call(client, "get", f"/api/v1/buildings/{base.building_a1.pk}/cells").json()
    assert sum(len(row["cells"]) for row in body["rows"]) == 5


# --- Houses ----------------------------------------------------------------------------------


def resident_tags(items) -> dict[str, list[str]]:
    return {r["name"]: [t["code"] for t in r["tags"]] for r in items}


def test_house_shows_residents_now_and_before(base, world):
    from gezhi.people.services import residence_move_in

    residence_move_in(actor=None, person=base.zhang_a1, house=base.house_a1_2,
                      relation="family")
    worker, chief = world.api("worker_a1"), world.api("chief_a1")
    old = call(worker, "get", f"/api/v1/houses/{base.house_a1.pk}").json()
    assert (old["residents"], resident_tags(old["former_residents"])) == (
        [], {"张桂兰": ["lone_elderly"]})
    now = call(worker, "get", f"/api/v1/houses/{base.house_a1_2.pk}").json()
    assert resident_tags(now["residents"]) == {"赵强": [], "张桂兰": ["lone_elderly"]}
    now = call(chief, "get", f"/api/v1/houses/{base.house_a1_2.pk}").json()
    assert resident_tags(now["residents"]) == {"赵强": ["community_correction"],
                                               "张桂兰": ["lone_elderly"]}


def test_house_create_validates_each_field(base, world):
    worker = world.api("worker_a1")
    unit = base.building_a1.units.get(sort_order=2)
    created = call(worker, "post", "/api/v1/houses", {
        "building_id": base.building_a1.pk, "unit_id": unit.pk, "number": "302",
        "usage": "rented", "area_m2": 95.5})
    assert created.status_code == 201, created.content
    assert (created.json()["floor"], created.json()["area_m2"], created.json()["address"]) == (
        3, 95.5, "文化路善国盛景小区1号楼2单元302")
    for body, field in [
        ({"unit_id": base.building_b1.units.first().pk, "number": "303"}, "unit_id"),
        ({"unit_id": unit.pk, "number": "302"}, "number"),
        ({"number": "304", "usage": "palace"}, "usage"),
        ({"number": "305", "area_m2": 0.5}, "area_m2"),
        ({"number": ""}, "number"),
    ]:
        response = call(worker, "post", "/api/v1/houses",
                        {"building_id": base.building_a1.pk, **body})
        assert (response.status_code, response.json()["details"]["field"]) == (422, field), body
    assert House.objects.filter(building=base.building_a1).count() == 3


def test_house_patch_refuses_a_stale_version(base, world):
    worker, chief = world.api("worker_a1"), world.api("chief_a1")
    url = f"/api/v1/houses/{base.house_a1.pk}"
    started = call(worker, "get", url).json()
    first = call(worker, "patch", url, {"version": started["version"], "usage": "rented"})
    assert first.status_code == 200
    assert (first.json()["usage_label"], first.json()["area_m2"]) == ("出租", 88.5)
    stale = call(chief, "patch", url, {"version": started["version"], "area_m2": 120})
    assert (stale.status_code, stale.json()["code"]) == (409, "conflict")
    house = House.objects.get(pk=base.house_a1.pk)
    assert (house.usage, float(house.area_m2)) == ("rented", 88.5)
    cleared = call(chief, "patch", url, {"version": started["version"] + 1, "area_m2": None})
    assert cleared.status_code == 200 and cleared.json()["area_m2"] is None


def test_house_list_filters(base, world):
    worker = world.api("worker_a1")

    def numbers(query):
        return [h["number"] for h in call(worker, "get", f"/api/v1/houses?{query}").json()["items"]]

    assert numbers("") == ["101", "201"]
    assert numbers("usage=rented") == ["201"]
    assert numbers(f"building={base.building_a1.pk}&q=201") == ["201"]
    assert numbers(f"building={base.building_b1.pk}") == []
    assert numbers(f"grid={world.grid_a2.code}") == []


@pytest.mark.parametrize("url", LISTS[:4])
def test_list_query_counts_are_pinned(base, components, world, url,
                                      django_assert_max_num_queries):
    from gezhi.places.services import building_create, estate_create, house_create

    light = ComponentClass.objects.get(code="0117")
    for i in range(5):
        estate = estate_create(actor=None, name=f"加测小区{i}", lat=35.07 + i / 1000,
                               lon=117.105)
        building = building_create(actor=None, name="1号楼", estate=estate, units=1)
        house_create(actor=None, building=building, number="101")
        component_create(actor=None, component_class=light, code=f"LD-X-{i}",
                         lat=35.07 + i / 1000, lon=117.105)
    client = world.api("worker_a1")
    call(client, "get", "/api/v1/auth/me")
    # token, role assignments, count, page (estates, buildings, house counts are joins)
    with django_assert_max_num_queries(4):
        body = call(client, "get", url).json()
    assert body["count"] >= 6


# --- Components ------------------------------------------------------------------------------


def test_component_create_and_errors(components, world):
    worker = world.api("worker_a1")
    created = call(worker, "post", "/api/v1/components", {
        "component_class": "0114", "code": "XF-0001", **IN_A1, "owner_unit": "滕州市消防救援大队"})
    assert created.status_code == 201
    assert created.json()["component_class"] == {"code": "0114", "name": "消火栓",
                                                 "major": "公用设施"}
    for body, field in [({"component_class": "9999", "code": "X1", **IN_A1}, "component_class"),
                        ({"component_class": "0114", "code": "XF-0001", **IN_A1}, "code"),
                        ({"component_class": "0114", "code": "X2"}, "lat"),
                        ({"component_class": "0114", "code": "X3", **IN_A1, "state": "gone"},
                         "state")]:
        response = call(worker, "post", "/api/v1/components", body)
        assert (response.status_code, response.json()["details"]["field"]) == (422, field), body
    listed = call(worker, "get", "/api/v1/components?component_class=0114").json()
    assert [c["code"] for c in listed["items"]] == ["XF-0001"]
