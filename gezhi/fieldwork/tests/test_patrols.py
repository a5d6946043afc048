"""巡查: a patrol started, its route sent in batches that arrive late, twice or out of order,
and stopped (twice, when the phone is not sure the first stop arrived)."""

import datetime as dt
import uuid

import pytest

from gezhi.fieldwork.models import Patrol
from gezhi.fieldwork.services import metres
from gezhi.fieldwork.tests.conftest import IN_A1, IN_B1, error, get, post

pytestmark = pytest.mark.django_db

# A walk north along a street of grid A-1: 0.001° of latitude is about 111 m.
P = [(round(35.080 + 0.001 * i, 3), 117.110) for i in range(5)]


def at(minute: int) -> str:
    return f"2026-03-10T09:{minute:02d}:00+08:00"


def instant(text: str) -> dt.datetime:
    return dt.datetime.fromisoformat(text.replace("Z", "+00:00"))


def pts(*pairs) -> list[dict]:
    return [{"lat": P[i][0], "lon": P[i][1], "at": at(m)} for i, m in pairs]


def start(client, cid=None, **body):
    cid = cid or str(uuid.uuid4())
    response = post(client, "/patrols", {"client_id": cid, "started_at": at(0),
                                         "lat": P[0][0], "lon": P[0][1], **body})
    return cid, response


def test_a_patrol_route_is_merged_by_time(world, base):
    worker = world.api("worker_a1")
    cid, first = start(worker)
    assert first.status_code == 201, first.content
    assert first.json()["points"] == 1 and first.json()["grid"]["code"] == world.grid_a1.code
    _cid, again = start(worker, cid)
    assert again.status_code == 200 and Patrol.objects.count() == 1

    # Points 3 and 4 arrive before 1 and 2 (a batch sent from the outbox after reconnecting).
    late = post(worker, f"/patrols/{cid}/points", {"points": pts((3, 3), (4, 4))})
    assert late.status_code == 200, late.content
    body = post(worker, f"/patrols/{cid}/points", {"points": pts((2, 2), (1, 1), (3, 3))}).json()
    assert body["points"] == 5  # point 3 sent twice is kept once
    coords = body["track"]["geometry"]["coordinates"]
    assert coords == [[lon, lat] for lat, lon in P]  # GeoJSON order, in time order
    assert body["track"]["type"] == "Feature"
    assert body["track"]["geometry"]["type"] == "LineString"
    assert body["track"]["properties"]["times"][0].startswith("2026-03-10T01:00:00")
    expected = sum(metres(P[i], P[i + 1]) for i in range(4))
    assert body["distance_m"] == round(expected) and 440 <= body["distance_m"] <= 450


def test_stopping_is_idempotent_and_late_points_still_count(world, base):
    worker = world.api("worker_a1")
    cid, _r = start(worker)
    stop = post(worker, f"/patrols/{cid}/stop", {"ended_at": at(3), "note": "路灯一处不亮",
                                                 "points": pts((1, 1))})
    assert stop.status_code == 200, stop.content
    stopped = stop.json()
    assert instant(stopped["ended_at"]) == instant(at(3)) and stopped["points"] == 2
    # The stop is sent again from the outbox, with the last batch it had not confirmed.
    again = post(worker, f"/patrols/{cid}/stop", {"ended_at": at(9), "note": "路灯一处不亮",
                                                  "points": pts((1, 1), (2, 2), (4, 4))})
    assert again.status_code == 200
    body = again.json()
    assert body["ended_at"] == stopped["ended_at"]  # the first stop stands
    assert body["points"] == 3  # point 2 (09:02) is merged, point 4 (09:04, after the end) not
    assert body["note"] == "路灯一处不亮"
    assert body["distance_m"] == round(metres(P[0], P[1]) + metres(P[1], P[2]))
    assert post(worker, f"/patrols/{cid}/points", {"points": pts((3, 5))}).json()["points"] == 3


def test_bad_patrol_input(world, base):
    worker = world.api("worker_a1")
    error(post(worker, "/patrols", {"started_at": at(0)}), 422, None, "client_id")
    error(post(worker, "/patrols", {"client_id": str(uuid.uuid4()), "lat": 35.5,
                                    "lon": 117.5}), 422, "outside_grids", "lat")
    cid, _r = start(worker)
    error(post(worker, f"/patrols/{cid}/points", {"points": [{"lat": 95, "lon": 117,
                                                             "at": at(1)}]}), 422, None,
          "points.0.lat")
    error(post(worker, f"/patrols/{cid}/points", {"points": [{"lat": 35, "lon": 117,
                                                             "at": "2999-01-01T00:00:00Z"}]}),
          422, "in_future", "points")
    error(post(worker, f"/patrols/{cid}/stop", {"ended_at": "2026-03-10T08:00:00+08:00"}), 422,
          "bad_time", "ended_at")
    error(post(worker, f"/patrols/{uuid.uuid4()}/points", {"points": []}), 404, "not_found")
    assert Patrol.objects.get().track == Patrol.objects.get().track[:1]


def test_patrols_are_the_workers_own_and_scoped(world, base):
    worker = world.api("worker_a1")
    cid, _r = start(worker)
    # Someone else's client_id: a conflict, not their patrol.
    error(post(world.api("chief_a1"), "/patrols", {"client_id": cid, "lat": IN_A1[0],
                                                   "lon": IN_A1[1]}), 409, "client_id_taken")
    # The grid chief sees it but may not add to it; a worker of another grid does not see it.
    error(post(world.api("chief_a1"), f"/patrols/{cid}/points", {"points": pts((1, 1))}), 403)
    error(post(world.api("worker_b1"), f"/patrols/{cid}/stop", {}), 404, "not_found")
    error(get(world.api("worker_b1"), f"/patrols/{cid}"), 404, "not_found")
    assert get(world.api("chief_a1"), f"/patrols/{cid}").json()["worker"] == "樊荣"
    assert get(world.api("leader_a"), "/patrols").json()["count"] == 1
    assert get(world.api("worker_b1"), "/patrols").json()["count"] == 0
    # Starting in another worker's grid is refused.
    error(post(worker, "/patrols", {"client_id": str(uuid.uuid4()), "lat": IN_B1[0],
                                    "lon": IN_B1[1]}), 404, "not_found", "lat")
    mine = get(worker, "/patrols", worker="me").json()
    assert [p["client_id"] for p in mine["items"]] == [cid]
