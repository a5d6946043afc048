"""/api/v1/public/: published information only, for anyone, in the shapes the resident page uses.

The `world` has an unpublished part-time member (phone 13900000000) on grid A-2: no public
answer may ever contain them.
"""

import pytest
from django.test import Client

A_1, A_2, B_1 = "370481001001001", "370481001001002", "370481002001001"
UNPUBLISHED = ("未公示人员", "13900000000")
GRID_KEYS = {"code", "name", "grid_kind", "purpose", "description", "community", "subdistrict"}
STAFF_KEYS = {"kind", "kind_label", "name", "title", "phone", "photo_url"}



def assert_no_unpublished(response):
    text = response.content.decode()
    for secret in UNPUBLISHED:
        assert secret not in text


def public_lookup(client, lat, lon):
    return client.get(f"/api/v1/public/grids/lookup?lat={lat}&lon={lon}")


def test_anyone_finds_their_grid_and_its_published_staff_by_location(world):
    response = public_lookup(Client(), 35.08, 117.11)
    assert response.status_code == 200
    body = response.json()
    assert set(body) == {"grid", "staff"}
    assert set(body["grid"]) == GRID_KEYS | {"boundary"}
    assert body["grid"] == {
        "code": A_1, "name": "文化路第一网格", "grid_kind": "basic", "purpose": "",
        "description": "善国盛景小区 1-12号楼", "community": "文化路社区", "subdistrict": "北辛街道",
        "boundary": {"type": "Polygon", "coordinates": [[[117.10, 35.06], [117.12, 35.06],
                                                          [117.12, 35.10], [117.10, 35.10],
                                                          [117.10, 35.06]]]}}
    assert body["staff"] == [
        {"kind": "chief", "kind_label": "网格长", "name": "刘合贵", "title": "文化路社区党委书记",
         "phone": "13806321234", "photo_url": None},
        {"kind": "full_time", "kind_label": "专职网格员", "name": "樊荣", "title": "专职网格员",
         "phone": "0632-5512345", "photo_url": None},
    ]


def test_public_lookup_never_shows_unpublished_staff(world):
    response = public_lookup(Client(), 35.08, 117.13)
    assert response.json()["grid"]["code"] == A_2
    assert [s["name"] for s in response.json()["staff"]] == ["刘合贵"]
    assert_no_unpublished(response)


@pytest.mark.parametrize("persona", ["worker_b1", "resident", "dispatcher_a"])
def test_public_lookup_is_the_same_for_everyone(world, persona):
    """Public answers ignore who asks: no more for staff, no less for other subdistricts."""
    anonymous = public_lookup(Client(), 35.08, 117.13).json()
    assert public_lookup(world.api(persona), 35.08, 117.13).json() == anonymous
    assert public_lookup(world.client(persona), 35.08, 117.13).json() == anonymous


def test_public_lookup_works_in_every_subdistrict(world):
    body = public_lookup(Client(), 35.08, 117.22).json()
    assert (body["grid"]["code"], body["grid"]["subdistrict"]) == (B_1, "荆河街道")
    assert [s["name"] for s in body["staff"]] == ["孙丽"]


def test_public_lookup_outside_every_grid(world):
    response = public_lookup(Client(), 35.08, 117.50)
    assert response.status_code == 404
    assert response.json()["code"] == "outside_grids"
    assert response.json()["message"].startswith("该位置不在任何网格内")


@pytest.mark.parametrize("query", ["lat=91&lon=117.11", "lat=35&lon=200", "lat=x&lon=117.11",
                                   "lon=117.11", ""])
def test_public_lookup_with_bad_coordinates_is_422(world, query):
    response = Client().get(f"/api/v1/public/grids/lookup?{query}")
    assert response.status_code == 422
    assert response.json()["code"] in {"bad_point", "validation_failed"}
    assert response.json()["message"]


def test_public_search_by_address_text(world):
    response = Client().get("/api/v1/public/grids/search?q=善国盛景")
    assert response.status_code == 200
    body = response.json()
    assert body["count"] == 1
    item = body["items"][0]
    assert set(item) == {"grid", "staff"}
    assert set(item["grid"]) == GRID_KEYS  # no boundary in search results
    assert item["grid"]["code"] == A_1
    assert all(set(s) == STAFF_KEYS for s in item["staff"])
    assert [s["name"] for s in item["staff"]] == ["刘合贵", "樊荣"]


def test_public_search_by_community_lists_its_grids_without_unpublished_staff(world):
    response = Client().get("/api/v1/public/grids/search?q=文化路社区")
    body = response.json()
    assert [i["grid"]["code"] for i in body["items"]] == [A_1, A_2]
    assert body["count"] == 2
    assert [s["name"] for s in body["items"][1]["staff"]] == ["刘合贵"]
    assert_no_unpublished(response)


def test_public_search_finds_nothing(world):
    assert Client().get("/api/v1/public/grids/search?q=火星基地").json() == {"items": [],
                                                                            "count": 0}


@pytest.mark.parametrize("query", ["", "?q=", "?q=%20%20"])
def test_public_search_needs_some_text(world, query):
    response = Client().get(f"/api/v1/public/grids/search{query}")
    assert response.status_code == 422
    assert response.json()["code"] == "empty_query"
    assert response.json()["message"] == "请输入街道、小区或楼栋等地址信息后再查找。"


def test_public_search_query_count_is_pinned(world, django_assert_max_num_queries):
    # grids, then the published staff of all of them in one query
    with django_assert_max_num_queries(2):
        body = Client().get("/api/v1/public/grids/search?q=网格").json()
    assert body["count"] == 3
