"""Scope: the grid worker of A-1 and the grid worker of B-1 each work in their own grid only —
records, lists, details, photos, due lists and coverage; leaders read, residents see nothing."""

import uuid

import pytest

from gezhi.fieldwork import selectors
from gezhi.fieldwork.models import DiaryEntry, Visit
from gezhi.fieldwork.tests.conftest import IN_A1, IN_B1, error, get, jpeg, post

pytestmark = pytest.mark.django_db


@pytest.fixture
def records(world, base):
    """A visit with a photo and a diary entry in A-1 by worker_a1, the same in B-1."""
    out = {}
    for who, house, point in (("worker_a1", base.house_a1, IN_A1),
                              ("worker_b1", base.house_b1, IN_B1)):
        client = world.api(who)
        visit = client.post("/api/v1/fieldwork/visits/with-photos", {
            "house": house.pk, "needs": f"{who} 的走访", "photos": [jpeg()]}).json()
        diary = client.post("/api/v1/fieldwork/diary/with-photos", {
            "text": f"{who} 的日记", "lat": point[0], "lon": point[1],
            "photos": [jpeg()]}).json()
        out[who] = {"visit": visit, "diary": diary}
    return out


def test_a_worker_cannot_record_in_another_grid(world, base):
    worker = world.api("worker_a1")
    error(post(worker, "/visits", {"house": base.house_b1.pk}), 404, "not_found", "house")
    error(post(worker, "/diary", {"text": "x", "house": base.house_b1.pk}), 404, "not_found",
          "house")
    error(post(worker, "/diary", {"text": "x", "lat": IN_B1[0], "lon": IN_B1[1]}), 404,
          "not_found", "lat")
    error(post(worker, "/patrols", {"client_id": str(uuid.uuid4()), "lat": IN_B1[0],
                                    "lon": IN_B1[1]}), 404, "not_found", "lat")
    # Inside what they see but without the right to record: 403, not 404.
    error(post(world.api("leader_a"), "/visits", {"house": base.house_a1.pk}), 403,
          "permission_denied")
    error(post(world.api("dispatcher_a"), "/visits", {"house": base.house_a1.pk}), 403,
          "permission_denied")
    assert Visit.objects.count() == 0 and DiaryEntry.objects.count() == 0


def test_lists_and_details_show_only_the_viewers_grid(world, base, records):
    a, b = records["worker_a1"], records["worker_b1"]
    worker = world.api("worker_a1")
    assert [v["id"] for v in get(worker, "/visits").json()["items"]] == [a["visit"]["id"]]
    assert [d["id"] for d in get(worker, "/diary").json()["items"]] == [a["diary"]["id"]]
    assert get(worker, "/visits", house=base.house_b1.pk).json()["count"] == 0
    error(get(worker, f"/visits/{b['visit']['id']}"), 404, "not_found")
    error(get(worker, f"/diary/{b['diary']['id']}"), 404, "not_found")
    error(get(worker, "/visits", grid=world.grid_b1.code), 404, "not_found", "grid")
    error(post(worker, f"/diary/{b['diary']['id']}/event", {"category": "0102"}), 404)
    leader = world.api("leader_a")
    assert get(leader, "/visits").json()["count"] == 1
    assert get(world.api("admin"), "/visits").json()["count"] == 2
    for name in ("resident", "handler"):
        assert get(world.api(name), "/visits").json()["count"] == 0
        assert get(world.api(name), "/diary").json()["count"] == 0
    assert get(world.client(None), "/visits").status_code == 401


def test_photos_are_served_only_to_those_who_may_see_the_record(world, base, records):
    a_visit = records["worker_a1"]["visit"]["photos"][0]["url"]
    a_diary = records["worker_a1"]["diary"]["photos"][0]["url"]
    for url in (a_visit, a_diary):
        assert world.client("worker_a1").get(url).status_code == 200
        assert world.client("chief_a1").get(url).status_code == 200
        assert world.client("leader_a").get(url).status_code == 200
        assert world.client("worker_b1").get(url).status_code == 404
        assert world.client("resident").get(url).status_code == 404
        assert world.client("dispatcher_a").get(url).status_code == 404
        assert world.client(None).get(url).status_code == 302  # to the login page
    assert world.client("worker_a1").get(
        "/console/fieldwork/photos/999999.jpg").status_code == 404


def test_due_lists_and_coverage_stay_in_scope(world, base, records):
    assert [r["house"]["id"] for r in selectors.households_due(
        viewer=world.user("worker_b1"))] == []
    assert [r["grid"]["code"] for r in get(world.api("worker_a1"), "/coverage").json()[
        "items"]] == [world.grid_a1.code]
    assert [r["grid"]["code"] for r in get(world.api("worker_b1"), "/coverage").json()[
        "items"]] == [world.grid_b1.code]
    error(get(world.api("worker_a1"), "/coverage", region=world.grid_b1.code), 404,
          "not_found", "region")
    error(get(world.api("worker_a1"), "/visits/due", grid=world.grid_b1.code), 404)


def test_my_recent_records(world, base, records):
    mine = selectors.my_recent(user=world.user("worker_a1"))
    assert [v.pk for v in mine["visits"]] == [records["worker_a1"]["visit"]["id"]]
    assert [d.pk for d in mine["diary"]] == [records["worker_a1"]["diary"]["id"]]
    assert list(mine["patrols"]) == []
    visits = selectors.visits_for_house(viewer=world.user("worker_b1"), house=base.house_a1)
    assert list(visits) == []
