"""Regions, grids, lookup and staff in the API: every endpoint shows the viewer's scope only.

The world (conftest.py): subdistrict A (370481001) › community A1 › grids A-1 and A-2;
subdistrict B (370481002) › community B1 › grid B-1. Grids are squares:
A-1 lon 117.10–117.12, A-2 lon 117.12–117.14, B-1 lon 117.20–117.24, all lat 35.06–35.10.
"""

import pytest
from django.test import Client

from gezhi.regions.models import GridKind, Level, PostKind, StaffMember
from gezhi.regions.services import grid_post_assign, region_create

IN_A1 = (35.08, 117.11)
IN_A2 = (35.08, 117.13)
IN_B1 = (35.08, 117.22)
NOWHERE = (35.08, 117.50)  # inside the district, outside every grid

A_1, A_2, B_1 = "370481001001001", "370481001001002", "370481002001001"
SUB_A, SUB_B, COMM_A1, COMM_B1 = "370481001", "370481002", "370481001001", "370481002001"
NOT_FOUND = {"code": "not_found", "message": "找不到该对象,或不在您的管辖范围内。", "details": {}}



def item_codes(response) -> list[str]:
    assert response.status_code == 200, response.content
    body = response.json()
    return [item["code"] for item in body["items"]]


def feature_codes(response) -> list[str]:
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["type"] == "FeatureCollection"
    return [feature["id"] for feature in body["features"]]


def staff_rows(response) -> list[tuple[str, str, str]]:
    assert response.status_code == 200, response.content
    return sorted((row["grid_code"], row["kind"], row["name"]) for row in response.json()["items"])


def assert_not_found(response):
    assert response.status_code == 404, response.content
    assert response.json() == NOT_FOUND


def assert_not_authenticated(response):
    assert response.status_code == 401
    assert response.json()["code"] == "not_authenticated"


# --- GET /regions ----------------------------------------------------------------------------


@pytest.mark.parametrize(("persona", "expected"), [
    ("worker_a1", [A_1]),
    ("worker_b1", [B_1]),
    ("chief_a1", [COMM_A1, A_1, A_2]),
    ("dispatcher_a", [SUB_A, COMM_A1, A_1, A_2]),
    ("handler", [SUB_A, COMM_A1, A_1, A_2]),
    ("resident", []),
    ("admin", ["370481", SUB_A, COMM_A1, A_1, A_2, SUB_B, COMM_B1, B_1]),
])
def test_region_list_is_the_viewers_scope(world, persona, expected):
    assert item_codes(world.api(persona).get("/api/v1/regions")) == expected


def test_region_list_needs_login(world):
    assert_not_authenticated(Client().get("/api/v1/regions"))


def test_region_list_filters(world):
    dispatcher = world.api("dispatcher_a")
    assert item_codes(dispatcher.get("/api/v1/regions?level=grid")) == [A_1, A_2]
    assert item_codes(dispatcher.get(f"/api/v1/regions?parent={COMM_A1}")) == [A_1, A_2]
    assert item_codes(dispatcher.get(f"/api/v1/regions?parent={COMM_B1}")) == []
    assert item_codes(dispatcher.get("/api/v1/regions?q=荆河")) == []
    assert item_codes(dispatcher.get("/api/v1/regions?q=文化路第二")) == [A_2]
    assert item_codes(world.api("admin").get("/api/v1/regions?q=荆河")) == [SUB_B, COMM_B1, B_1]
    # A grid worker asking for the children of their community sees their own grid only.
    worker = world.api("worker_a1")
    assert item_codes(worker.get(f"/api/v1/regions?parent={COMM_A1}")) == [A_1]
    bad = dispatcher.get("/api/v1/regions?level=planet")
    assert bad.status_code == 422
    assert bad.json()["code"] == "validation_failed"


def test_region_list_items(world):
    items = world.api("dispatcher_a").get("/api/v1/regions").json()["items"]
    assert items[0] == {"code": SUB_A, "name": "北辛街道", "level": "subdistrict",
                        "level_label": "街道", "parent_code": "370481", "grid_kind": "",
                        "children_count": 1}
    assert items[1]["children_count"] == 2
    assert items[2]["grid_kind"] == "basic"


def test_region_list_is_paginated(world):
    admin = world.api("admin")
    first = admin.get("/api/v1/regions?page_size=3").json()
    assert first["count"] == 8
    assert (first["page"], first["page_size"], first["previous"]) == (1, 3, None)
    assert [i["code"] for i in first["items"]] == ["370481", SUB_A, COMM_A1]
    assert first["next"] == "http://testserver/api/v1/regions?page_size=3&page=2"
    second = admin.get(first["next"]).json()
    assert [i["code"] for i in second["items"]] == [A_1, A_2, SUB_B]
    last = admin.get(second["next"]).json()
    assert [i["code"] for i in last["items"]] == [COMM_B1, B_1]
    assert last["next"] is None
    assert last["previous"] == "http://testserver/api/v1/regions?page_size=3&page=2"
    assert admin.get("/api/v1/regions?page=9").json()["items"] == []


@pytest.mark.parametrize("query", ["page_size=501", "page_size=0", "page=0", "page=x"])
def test_page_parameters_are_bounded(world, query):
    response = world.api("admin").get(f"/api/v1/regions?{query}")
    assert response.status_code == 422
    assert response.json()["code"] == "validation_failed"
    assert response.json()["details"]["errors"][0]["loc"][0] == "query"


# --- GET /regions/{code} ---------------------------------------------------------------------


def test_grid_worker_opens_their_grid_with_breadcrumbs(world):
    body = world.api("worker_a1").get(f"/api/v1/regions/{A_1}").json()
    assert body["name"] == "文化路第一网格"
    assert body["children_count"] == 0
    assert body["bbox"] == [117.10, 35.06, 117.12, 35.10]
    assert body["boundary"]["type"] == "Polygon"
    assert [(a["code"], a["accessible"]) for a in body["ancestors"]] == [
        ("370481", False), (SUB_A, False), (COMM_A1, False)]


def test_dispatcher_breadcrumbs_mark_what_they_may_open(world):
    body = world.api("dispatcher_a").get(f"/api/v1/regions/{A_2}").json()
    assert [(a["name"], a["accessible"]) for a in body["ancestors"]] == [
        ("滕州市", False), ("北辛街道", True), ("文化路社区", True)]
    assert world.api("dispatcher_a").get(f"/api/v1/regions/{SUB_A}").json()["children_count"] == 1


@pytest.mark.parametrize(("persona", "code"), [
    ("worker_a1", B_1), ("worker_a1", SUB_B), ("worker_a1", A_2), ("worker_a1", COMM_A1),
    ("worker_b1", A_1), ("worker_b1", SUB_A),
    ("dispatcher_a", SUB_B), ("dispatcher_a", B_1), ("dispatcher_a", "370481"),
    ("resident", A_1), ("resident", SUB_A),
    ("admin", "999999999"),
])
def test_region_outside_scope_is_404_like_an_unknown_one(world, persona, code):
    assert_not_found(world.api(persona).get(f"/api/v1/regions/{code}"))


def test_region_detail_needs_login(world):
    assert_not_authenticated(Client().get(f"/api/v1/regions/{A_1}"))


# --- GET /regions/{code}/children ------------------------------------------------------------


def test_region_children(world):
    dispatcher = world.api("dispatcher_a")
    assert item_codes(dispatcher.get(f"/api/v1/regions/{SUB_A}/children")) == [COMM_A1]
    assert item_codes(dispatcher.get(f"/api/v1/regions/{COMM_A1}/children")) == [A_1, A_2]
    assert item_codes(world.api("worker_a1").get(f"/api/v1/regions/{A_1}/children")) == []
    assert item_codes(world.api("admin").get("/api/v1/regions/370481/children")) == [SUB_A, SUB_B]


@pytest.mark.parametrize(("persona", "code"), [
    ("worker_a1", COMM_A1), ("worker_a1", SUB_B), ("worker_b1", COMM_A1),
    ("dispatcher_a", SUB_B), ("dispatcher_a", COMM_B1), ("resident", SUB_A),
])
def test_region_children_outside_scope_is_404(world, persona, code):
    assert_not_found(world.api(persona).get(f"/api/v1/regions/{code}/children"))


def test_region_children_needs_login(world):
    assert_not_authenticated(Client().get(f"/api/v1/regions/{SUB_A}/children"))


# --- GET /grids ------------------------------------------------------------------------------


@pytest.mark.parametrize(("persona", "expected"), [
    ("worker_a1", [A_1]),
    ("worker_b1", [B_1]),
    ("dispatcher_a", [A_1, A_2]),
    ("resident", []),
    ("admin", [A_1, A_2, B_1]),
])
def test_grid_list_is_the_viewers_scope(world, persona, expected):
    assert feature_codes(world.api(persona).get("/api/v1/grids")) == expected


def test_grid_list_needs_login(world):
    assert_not_authenticated(Client().get("/api/v1/grids"))


def test_grid_list_is_geojson_with_properties(world):
    body = world.api("dispatcher_a").get("/api/v1/grids").json()
    assert (body["count"], body["page"], body["next"]) == (2, 1, None)
    a2 = body["features"][1]
    assert a2["type"] == "Feature"
    assert a2["geometry"]["coordinates"][0][0] == [117.12, 35.06]
    props = a2["properties"]
    assert props["code"] == A_2
    assert props["name"] == "文化路第二网格"
    assert (props["grid_kind"], props["grid_kind_label"]) == ("basic", "基础网格")
    assert props["description"] == "文化路 100-200 号"
    assert (props["community_code"], props["community_name"]) == (COMM_A1, "文化路社区")
    assert props["area_m2"] == pytest.approx(1820.9 * 4446.0, rel=0.01)
    assert props["staff_count"] == 2  # the chief and the unpublished part-time member


def test_grid_list_filters(world):
    worker = world.api("worker_a1")
    # Grids "within" the worker's community: only the part they may see.
    assert feature_codes(worker.get(f"/api/v1/grids?within={COMM_A1}")) == [A_1]
    assert feature_codes(worker.get(f"/api/v1/grids?within={SUB_B}")) == []
    dispatcher = world.api("dispatcher_a")
    assert feature_codes(dispatcher.get(f"/api/v1/grids?within={COMM_A1}")) == [A_1, A_2]
    assert feature_codes(dispatcher.get(f"/api/v1/grids?within={SUB_B}")) == []
    assert feature_codes(dispatcher.get("/api/v1/grids?within=000")) == []
    assert feature_codes(dispatcher.get("/api/v1/grids?kind=dedicated")) == []
    assert feature_codes(dispatcher.get("/api/v1/grids?kind=basic&q=善国盛景")) == [A_1]
    assert feature_codes(world.api("admin").get("/api/v1/grids?q=荆河花园")) == [B_1]
    bad = dispatcher.get("/api/v1/grids?kind=round")
    assert bad.status_code == 422
    assert bad.json()["details"]["errors"][0]["loc"] == ["query", "kind"]


def add_grids_with_staff(world, n: int) -> None:
    """More grids in A1, each with two staff, so an N+1 would show in the query count."""
    for i in range(n):
        grid = region_create(code=f"370481001001{i + 10:03d}", name=f"加测网格{i}",
                             level=Level.GRID, parent=world.comm_a1, grid_kind=GridKind.DEDICATED)
        for kind in (PostKind.FULL_TIME, PostKind.PROFESSIONAL):
            member = StaffMember.objects.create(name=f"人员{i}{kind}", work_phone="13800000000")
            grid_post_assign(grid=grid, kind=kind, member=member)


def test_grid_list_query_count_is_pinned(world, django_assert_max_num_queries):
    add_grids_with_staff(world, 8)
    client = world.api("dispatcher_a")
    client.get("/api/v1/auth/me")  # first use of a token records it; not part of the list
    # token, scope, count, page (staff counts are an annotation, not a query per grid)
    with django_assert_max_num_queries(4):
        body = client.get("/api/v1/grids").json()
    assert body["count"] == 10
    assert {f["properties"]["staff_count"] for f in body["features"][2:]} == {2}


# --- GET /grids/{code} -----------------------------------------------------------------------


def test_grid_worker_opens_their_grid_feature_with_staff(world):
    body = world.api("worker_a1").get(f"/api/v1/grids/{A_1}").json()
    assert body["type"] == "Feature"
    assert body["id"] == A_1
    assert body["geometry"]["type"] == "Polygon"
    assert body["properties"]["community_name"] == "文化路社区"
    staff = body["properties"]["staff"]
    assert [(s["kind"], s["kind_label"], s["name"]) for s in staff] == [
        ("chief", "网格长", "刘合贵"), ("full_time", "专职网格员", "樊荣")]
    assert staff[0] == {"kind": "chief", "kind_label": "网格长", "name": "刘合贵",
                        "title": "文化路社区党委书记", "phone": "13806321234",
                        "photo_url": None, "published": True}
    assert body["properties"]["staff_count"] == 2


def test_staff_of_the_grid_see_unpublished_members_marked(world):
    staff = world.api("dispatcher_a").get(f"/api/v1/grids/{A_2}").json()["properties"]["staff"]
    assert [(s["name"], s["published"]) for s in staff] == [("刘合贵", True), ("未公示人员", False)]


@pytest.mark.parametrize(("persona", "code"), [
    ("worker_a1", B_1), ("worker_a1", A_2), ("worker_b1", A_1), ("worker_b1", A_2),
    ("dispatcher_a", B_1), ("resident", A_1), ("resident", B_1),
    ("dispatcher_a", COMM_A1),  # visible, but not a grid
    ("admin", "370481001001999"),
])
def test_grid_outside_scope_is_404(world, persona, code):
    assert_not_found(world.api(persona).get(f"/api/v1/grids/{code}"))


def test_grid_detail_needs_login(world):
    assert_not_authenticated(Client().get(f"/api/v1/grids/{A_1}"))


# --- GET /grids/{code}/staff -----------------------------------------------------------------


def test_grid_staff(world):
    assert staff_rows(world.api("worker_a1").get(f"/api/v1/grids/{A_1}/staff")) == [
        (A_1, "chief", "刘合贵"), (A_1, "full_time", "樊荣")]
    rows = world.api("dispatcher_a").get(f"/api/v1/grids/{A_2}/staff").json()["items"]
    assert {(r["name"], r["published"], r["phone"]) for r in rows} == {
        ("刘合贵", True, "13806321234"), ("未公示人员", False, "13900000000")}
    assert rows[0]["grid_name"] == "文化路第二网格"


@pytest.mark.parametrize(("persona", "code"), [
    ("worker_a1", B_1), ("worker_a1", A_2), ("worker_b1", A_1), ("dispatcher_a", B_1),
    ("resident", A_1),
])
def test_grid_staff_outside_scope_is_404(world, persona, code):
    assert_not_found(world.api(persona).get(f"/api/v1/grids/{code}/staff"))


def test_grid_staff_needs_login(world):
    assert_not_authenticated(Client().get(f"/api/v1/grids/{A_1}/staff"))


# --- GET /staff ------------------------------------------------------------------------------


@pytest.mark.parametrize(("persona", "expected"), [
    ("worker_a1", [(A_1, "chief", "刘合贵"), (A_1, "full_time", "樊荣")]),
    ("worker_b1", [(B_1, "full_time", "孙丽")]),
    ("dispatcher_a", [(A_1, "chief", "刘合贵"), (A_1, "full_time", "樊荣"),
                      (A_2, "chief", "刘合贵"), (A_2, "part_time", "未公示人员")]),
    ("resident", []),
])
def test_staff_list_is_the_viewers_scope(world, persona, expected):
    assert staff_rows(world.api(persona).get("/api/v1/staff")) == expected


def test_staff_list_needs_login(world):
    assert_not_authenticated(Client().get("/api/v1/staff"))


def test_staff_list_filters(world):
    dispatcher = world.api("dispatcher_a")
    assert staff_rows(dispatcher.get(f"/api/v1/staff?grid={A_2}&kind=chief")) == [
        (A_2, "chief", "刘合贵")]
    assert staff_rows(dispatcher.get("/api/v1/staff?kind=chief")) == [
        (A_1, "chief", "刘合贵"), (A_2, "chief", "刘合贵")]
    assert staff_rows(dispatcher.get(f"/api/v1/staff?grid={B_1}")) == []
    assert staff_rows(world.api("worker_a1").get(f"/api/v1/staff?grid={COMM_A1}")) == [
        (A_1, "chief", "刘合贵"), (A_1, "full_time", "樊荣")]
    assert dispatcher.get("/api/v1/staff?kind=mayor").status_code == 422


def test_staff_list_query_count_is_pinned(world, django_assert_max_num_queries):
    add_grids_with_staff(world, 8)
    client = world.api("dispatcher_a")
    client.get("/api/v1/auth/me")
    with django_assert_max_num_queries(4):
        body = client.get("/api/v1/staff?page_size=100").json()
    assert body["count"] == 4 + 16
    assert {row["grid_name"] for row in body["items"]} >= {"加测网格0", "加测网格7"}


# --- GET /grids/lookup -----------------------------------------------------------------------


def lookup(client, point):
    return client.get(f"/api/v1/grids/lookup?lat={point[0]}&lon={point[1]}")


@pytest.mark.parametrize(("persona", "point", "code"), [
    ("worker_a1", IN_A1, A_1), ("worker_b1", IN_B1, B_1),
    ("dispatcher_a", IN_A1, A_1), ("dispatcher_a", IN_A2, A_2), ("admin", IN_B1, B_1),
])
def test_lookup_finds_a_grid_in_scope(world, persona, point, code):
    response = lookup(world.api(persona), point)
    assert response.status_code == 200
    assert response.json()["id"] == code
    assert response.json()["properties"]["staff"]


@pytest.mark.parametrize(("persona", "point"), [
    ("worker_a1", IN_A2), ("worker_a1", IN_B1), ("worker_b1", IN_A1),
    ("dispatcher_a", IN_B1), ("resident", IN_A1), ("resident", IN_B1),
])
def test_lookup_of_a_grid_outside_scope_is_404_not_found(world, persona, point):
    assert_not_found(lookup(world.api(persona), point))


def test_lookup_outside_every_grid_says_so(world):
    response = lookup(world.api("worker_a1"), NOWHERE)
    assert response.status_code == 404
    assert response.json()["code"] == "outside_grids"
    assert response.json()["message"].startswith("该位置不在任何网格内")


def test_lookup_needs_login(world):
    assert_not_authenticated(lookup(Client(), IN_A1))


@pytest.mark.parametrize(("query", "code"), [
    ("lat=91&lon=117.11", "bad_point"),
    ("lat=35.08&lon=-181", "bad_point"),
    ("lat=nan&lon=117.11", "bad_point"),
    ("lat=abc&lon=117.11", "validation_failed"),
    ("lat=35.08", "validation_failed"),
])
def test_lookup_with_bad_coordinates_is_422(world, query, code):
    response = world.api("worker_a1").get(f"/api/v1/grids/lookup?{query}")
    assert response.status_code == 422
    assert response.json()["code"] == code


# --- POST /grids/lookup ----------------------------------------------------------------------


def lookup_many(client, points):
    return client.post("/api/v1/grids/lookup", {"points": points},
                       content_type="application/json")


@pytest.mark.parametrize(("persona", "expected"), [
    ("worker_a1", [A_1, None, None, None]),
    ("worker_b1", [None, None, B_1, None]),
    ("dispatcher_a", [A_1, A_2, None, None]),
    ("resident", [None, None, None, None]),
    ("admin", [A_1, A_2, B_1, None]),
])
def test_batch_lookup_is_aligned_and_scoped(world, persona, expected):
    response = lookup_many(world.api(persona), [IN_A1, IN_A2, IN_B1, NOWHERE])
    assert response.status_code == 200
    assert [r and r["code"] for r in response.json()["results"]] == expected


def test_batch_lookup_needs_login(world):
    assert_not_authenticated(lookup_many(Client(), [IN_A1]))


def test_batch_lookup_takes_ten_thousand_points_and_no_more(world):
    client = world.api("dispatcher_a")
    points = [IN_A1, IN_A2, IN_B1, NOWHERE] * 2500
    results = lookup_many(client, points).json()["results"]
    assert len(results) == 10_000
    assert [r and r["code"] for r in results[4:8]] == [A_1, A_2, None, None]
    too_many = lookup_many(client, points + [IN_A1])
    assert too_many.status_code == 422
    assert too_many.json()["code"] == "too_many_points"
    assert "10000" in too_many.json()["message"]


def test_batch_lookup_rejects_bad_input_with_structured_errors(world):
    client = world.api("worker_a1")
    bad_point = lookup_many(client, [IN_A1, [95, 117.1]])
    assert bad_point.status_code == 422
    assert bad_point.json()["code"] == "bad_point"
    assert bad_point.json()["details"] == {"index": 1}
    assert "第 2 个点" in bad_point.json()["message"]
    for payload in ({"points": "here"}, {"points": [[35.08]]}, {"dots": []}):
        response = client.post("/api/v1/grids/lookup", payload, content_type="application/json")
        assert response.status_code == 422
        assert response.json()["code"] == "validation_failed"
    not_json = client.post("/api/v1/grids/lookup", b"[[35.08,", content_type="application/json")
    assert not_json.status_code == 400
    assert not_json.json()["code"] == "malformed_request"
    assert lookup_many(client, []).json() == {"results": []}


# --- GET /grids/export -----------------------------------------------------------------------


def export_codes(response) -> list[str]:
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["type"] == "FeatureCollection"
    return [f["properties"]["code"] for f in body["features"]]


@pytest.mark.parametrize(("persona", "expected"), [
    ("worker_a1", [A_1]),
    ("worker_b1", [B_1]),
    ("dispatcher_a", [A_1, A_2]),
    ("resident", []),
    ("admin", [A_1, A_2, B_1]),
])
def test_export_is_the_viewers_scope(world, persona, expected):
    assert export_codes(world.api(persona).get("/api/v1/grids/export")) == expected


def test_export_needs_login(world):
    assert_not_authenticated(Client().get("/api/v1/grids/export"))


def test_export_is_unpaginated_and_in_the_import_format(world):
    add_grids_with_staff(world, 60)  # more than one default page
    body = world.api("dispatcher_a").get("/api/v1/grids/export").json()
    assert len(body["features"]) == 62
    assert "next" not in body
    a1 = body["features"][0]
    assert a1["geometry"]["type"] == "Polygon"
    assert a1["properties"] == {"code": A_1, "name": "文化路第一网格", "level": "grid",
                                "parent_code": COMM_A1, "grid_kind": "basic", "purpose": "",
                                "description": "善国盛景小区 1-12号楼"}


def test_export_filters(world):
    worker = world.api("worker_a1")
    assert export_codes(worker.get(f"/api/v1/grids/export?within={COMM_A1}")) == [A_1]
    dispatcher = world.api("dispatcher_a")
    assert export_codes(dispatcher.get(f"/api/v1/grids/export?within={SUB_B}")) == []
    assert export_codes(dispatcher.get("/api/v1/grids/export?within=999")) == []
    assert export_codes(dispatcher.get("/api/v1/grids/export?level=community")) == [COMM_A1]
    assert export_codes(dispatcher.get("/api/v1/grids/export?level=all")) == [
        SUB_A, COMM_A1, A_1, A_2]
    bad = dispatcher.get("/api/v1/grids/export?level=planet")
    assert bad.status_code == 422
    assert bad.json()["code"] == "bad_level"


# --- POST /grids/import ----------------------------------------------------------------------


def import_grids(client, collection, dry_run=False):
    return client.post("/api/v1/grids/import", {"collection": collection, "dry_run": dry_run},
                       content_type="application/json")


def test_exported_boundaries_import_again_unchanged(world):
    leader = world.api("leader_a")
    collection = leader.get("/api/v1/grids/export").json()
    report = import_grids(leader, collection, dry_run=True).json()
    assert report == {"dry_run": True, "created": [], "updated": [], "unchanged": [A_1, A_2],
                      "problems": []}


def test_import_updates_after_a_clean_dry_run(world):
    leader = world.api("leader_a")
    collection = leader.get(f"/api/v1/grids/export?within={COMM_A1}").json()
    collection["features"][0]["properties"]["description"] = "善国盛景小区 1-16号楼"
    dry = import_grids(leader, collection, dry_run=True).json()
    assert (dry["updated"], dry["problems"]) == ([A_1], [])
    world.grid_a1.refresh_from_db()
    assert world.grid_a1.description == "善国盛景小区 1-12号楼"  # a dry run writes nothing

    response = import_grids(leader, collection)
    assert response.status_code == 200
    assert response.json()["updated"] == [A_1]
    world.grid_a1.refresh_from_db()
    assert world.grid_a1.description == "善国盛景小区 1-16号楼"


def test_import_with_overlapping_grids_is_refused_whole(world):
    from conftest import square

    leader = world.api("leader_a")
    collection = leader.get("/api/v1/grids/export").json()
    collection["features"][0]["geometry"] = square(117.10, 35.06, 117.13, 35.10)  # into A-2
    collection["features"][1]["properties"]["name"] = "改名的第二网格"
    dry = import_grids(leader, collection, dry_run=True).json()
    overlap = [p for p in dry["problems"] if p["kind"] == "overlap"]
    assert overlap and overlap[0]["codes"] == [A_1, A_2]
    assert overlap[0]["kind_label"] == "重叠"
    assert overlap[0]["area_m2"] == pytest.approx(0.01 * 111195 * 0.8184 * 0.04 * 111195,
                                                  rel=0.02)

    response = import_grids(leader, collection)
    assert response.status_code == 422
    assert response.json()["code"] == "boundaries_invalid"
    assert "未写入任何数据" in response.json()["message"]
    assert {p["kind"] for p in response.json()["details"]["problems"]} >= {"overlap"}
    world.grid_a1.refresh_from_db()
    world.grid_a2.refresh_from_db()
    assert world.grid_a1.max_lon == pytest.approx(117.12)
    assert world.grid_a2.name == "文化路第二网格"  # nothing is half-written


def test_import_outside_the_leaders_scope_is_refused(world):
    collection = world.api("admin").get(f"/api/v1/grids/export?within={SUB_B}").json()
    collection["features"][0]["properties"]["name"] = "荆河新网格"
    leader = world.api("leader_a")
    dry = import_grids(leader, collection, dry_run=True).json()
    assert [(p["kind"], p["codes"]) for p in dry["problems"]] == [("out_of_scope", [B_1])]
    assert import_grids(leader, collection).status_code == 422
    world.grid_b1.refresh_from_db()
    assert world.grid_b1.name == "荆河第一网格"


@pytest.mark.parametrize("persona", ["worker_a1", "dispatcher_a", "resident"])
def test_import_needs_the_import_permission(world, persona):
    collection = world.api("admin").get("/api/v1/grids/export").json()
    response = import_grids(world.api(persona), collection, dry_run=True)
    assert response.status_code == 403
    assert response.json()["code"] == "permission_denied"


def test_import_needs_login(world):
    assert_not_authenticated(import_grids(Client(), {"type": "FeatureCollection"}))


def test_malformed_imports_get_structured_errors(world):
    leader = world.api("leader_a")
    not_json = leader.post("/api/v1/grids/import", b'{"collection": {"type": "Feat',
                           content_type="application/json")
    assert not_json.status_code == 400
    assert not_json.json()["code"] == "malformed_request"

    not_an_object = import_grids(leader, "grids.geojson")
    assert not_an_object.status_code == 422
    assert not_an_object.json()["code"] == "validation_failed"

    not_a_collection = import_grids(leader, {"type": "Feature", "geometry": None})
    assert not_a_collection.status_code == 422
    assert not_a_collection.json()["code"] == "bad_geojson"
    assert "FeatureCollection" in not_a_collection.json()["message"]

    broken_ring = {"type": "FeatureCollection", "features": [{
        "type": "Feature",
        "geometry": {"type": "Polygon", "coordinates": [[[117.10, 35.06], [117.12, 35.10],
                                                         [117.12, 35.06], [117.10, 35.10],
                                                         [117.10, 35.06]]]},
        "properties": {"code": A_1}}]}
    report = import_grids(leader, broken_ring, dry_run=True).json()
    assert [(p["kind"], p["codes"], p["feature_index"]) for p in report["problems"]] == [
        ("invalid_ring", [A_1], 0)]
    refused = import_grids(leader, broken_ring)
    assert refused.status_code == 422
    assert refused.json()["details"]["problems"][0]["kind"] == "invalid_ring"
