"""The event closed loop through the API only: who may do what, what each bad request says, and
that a refused request leaves the event and its timeline as they were.

The world (conftest.py): worker_a1 works in grid A-1 (community A1, subdistrict A), worker_b1
in grid B-1 (subdistrict B); dispatcher_a dispatches subdistrict A; handler belongs to the
城管 department serving subdistrict A; resident has no staff role. Category 0102 暴露垃圾
(4 working hours, reopened when the reporter is dissatisfied).
"""

import io
import json
import random

import pytest
from django.test import Client
from PIL import Image

from gezhi.accounts.models import Department
from gezhi.accounts.roles import Role
from gezhi.events import services as s
from gezhi.events.models import Event, Op, Photo, State, TimelineEntry
from gezhi.events.tests.conftest import IN_A1, IN_B1, OUTSIDE, jpeg

API = "/api/v1"


@pytest.fixture(autouse=True)
def _media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path


def post(client: Client, url: str, body: dict | None = None):
    return client.post(f"{API}{url}", json.dumps(body or {}), content_type="application/json")


def op(client: Client, event, name: str, **body):
    serial = event if isinstance(event, str) else event.serial
    return post(client, f"/events/{serial}/ops/{name}", body)


def get(client: Client, url: str, **params):
    return client.get(f"{API}{url}", params)


def where(point) -> dict:
    return {"lat": point[0], "lon": point[1]}


def ops_of(serial: str) -> list[str]:
    return list(TimelineEntry.objects.filter(event__serial=serial).order_by("id")
                .values_list("op", flat=True))


def seen(event) -> tuple:
    """What a user would notice changing: state, version, unit, rating and the timeline."""
    e = Event.objects.get(pk=event.pk)
    return (e.state, e.version, e.department_id, e.rating, ops_of(e.serial),
            e.photos.count())


def error(response, status: int, code: str | None = None, field: str | None = None) -> dict:
    assert response.status_code == status, response.content
    body = response.json()
    assert set(body) == {"code", "message", "details"} and body["message"]
    if code:
        assert body["code"] == code, body
    if field:
        assert body["details"].get("field") == field, body
    return body


def noise_jpeg(name: str, side: int) -> io.BytesIO:
    """A JPEG that does not compress away: random pixels."""
    rng = random.Random(side)
    image = Image.frombytes("RGB", (side, side), bytes(rng.getrandbits(8)
                                                        for _ in range(side * side * 3)))
    buf = io.BytesIO()
    image.save(buf, "JPEG", quality=95)
    buf.seek(0)
    buf.name = name
    return buf


# --- The journeys ----------------------------------------------------------------------------


def test_full_journey_through_the_api(world):
    worker, dispatcher = world.api("worker_a1"), world.api("dispatcher_a")
    handler = world.api("handler")

    # The grid worker reports with a photo (multipart).
    response = worker.post(f"{API}/events/with-photos", {
        "category": "0102", "description": "文化路口垃圾堆积", "address": "文化路 12 号",
        **where(IN_A1), "photos": [jpeg("scene.jpg")]})
    assert response.status_code == 201, response.content
    event = response.json()
    serial = event["serial"]
    assert serial.startswith("370481-") and event["state"] == State.REPORTED
    assert event["grid"]["code"] == world.grid_a1.code and event["source"] == "patrol"
    assert event["deadline"]["kind"] == "dispatch" and event["deadline"]["colour"] == "green"
    [photo] = event["photos"]
    assert photo["stage"] == "report" and photo["url"].startswith("http://testserver/photos/event/")
    stored = Photo.objects.get(pk=photo["id"])
    assert photo["url"].endswith(stored.url) and stored.image.read(3) == b"\xff\xd8\xff"

    # The dispatcher finds it in 待受理, accepts it and sends it to 城管.
    listed = get(dispatcher, "/events", queue="to_accept").json()
    assert [e["serial"] for e in listed["items"]] == [serial]
    detail = get(dispatcher, f"/events/{serial}").json()
    assert {"accept", "reject", "merge"} <= {a["op"] for a in detail["allowed_ops"]}
    accepted = op(dispatcher, serial, "accept", version=detail["version"])
    assert accepted.status_code == 200 and accepted.json()["state"] == State.ACCEPTED
    units = get(dispatcher, "/event-units", event=serial).json()
    assert world.department.code in [d["code"] for d in units["departments"]]
    assert [r["code"] for r in units["regions"]] == [world.comm_a1.code, world.grid_a1.code]
    dispatched = op(dispatcher, serial, "dispatch", department=world.department.code,
                    note="请两小时内清运", version=accepted.json()["version"]).json()
    assert dispatched["state"] == State.DISPATCHED
    assert dispatched["unit"] == {"kind": "department", "code": world.department.code,
                                  "name": world.department.name}
    assert dispatched["deadline"]["kind"] == "handle"

    # The department sees it in 待处置 and in its inbox, claims it, handles with a photo.
    assert [e["serial"] for e in get(handler, "/events", queue="to_handle").json()["items"]] \
        == [serial]
    inbox = get(handler, "/messages").json()["items"]
    assert inbox[0]["event"] == serial and serial in inbox[0]["text"]
    assert op(handler, serial, "claim").json()["state"] == State.HANDLING
    handled = handler.post(f"{API}/events/{serial}/ops/handle/with-photos",
                           {"note": "已清运完毕", "photos": [jpeg("after.jpg", color="green")]})
    assert handled.status_code == 200, handled.content
    handled = handled.json()
    assert handled["state"] == State.HANDLED and handled["result"] == "已清运完毕"
    assert [p["stage"] for p in handled["photos"]] == ["report", "result"]

    # The grid worker verifies on the spot; the dispatcher closes.
    assert op(worker, serial, "verify", note="现场已干净").json()["state"] == State.VERIFIED
    closed = op(dispatcher, serial, "close").json()
    assert closed["state"] == State.CLOSED and closed["closed_on_time"] is True
    assert closed["allowed_ops"] == [] or {a["op"] for a in closed["allowed_ops"]} <= {
        "reopen", "comment"}

    timeline = get(dispatcher, f"/events/{serial}/timeline").json()
    assert [e["op"] for e in timeline["items"]] == [
        Op.REPORT, Op.ACCEPT, Op.DISPATCH, Op.CLAIM, Op.HANDLE, Op.VERIFY, Op.CLOSE]
    assert timeline["items"][4]["photos"][0]["stage"] == "result"
    assert timeline["items"][2]["actor"] == world.user("dispatcher_a").name


def resident_event_closed(world) -> str:
    resident = world.api("resident")
    response = post(resident, "/events", {"category": "0102", "description": "小区门口垃圾没人清",
                                          **where(IN_A1), "source": "12345", "urgent": True})
    assert response.status_code == 201, response.content
    event = response.json()
    assert event["source"] == "resident" and event["urgent"] is False  # residents: by category
    serial = event["serial"]
    d, h = world.api("dispatcher_a"), world.api("handler")
    for client, name, body in [(d, "accept", {}), (d, "dispatch",
                                                   {"department": world.department.code}),
                               (h, "claim", {}), (h, "handle", {"note": "已清运"}),
                               (d, "verify", {}), (d, "close", {})]:
        response = op(client, serial, name, **body)
        assert response.status_code == 200, (name, response.content)
    return serial


def test_resident_follows_and_rates_their_report(world):
    serial = resident_event_closed(world)
    resident = world.api("resident")
    [mine] = get(resident, "/events/mine").json()["items"]
    assert mine["serial"] == serial and mine["state"] == State.CLOSED and mine["can_rate"]
    texts = [step["text"] for step in mine["steps"]]
    assert texts[0].startswith("您反映了该问题") and "已办结。" in texts
    assert f"已交由“{world.department.name}”处理。" in texts
    assert "已处理:已清运" in texts
    inbox = get(resident, "/messages", unread=True).json()
    assert any(m["event"] == serial and "已办结" in m["text"] for m in inbox["items"])
    assert post(resident, "/messages/read").json()["marked"] == inbox["count"]
    assert get(resident, "/messages", unread=True).json()["count"] == 0

    detail = get(resident, f"/events/{serial}").json()
    assert [a["op"] for a in detail["allowed_ops"]] == ["rate", "comment"]
    rated = op(resident, serial, "rate", rating="satisfied", note="很快")
    assert rated.status_code == 200 and rated.json()["rating_label"] == "满意"
    [mine] = get(resident, "/events/mine").json()["items"]
    assert not mine["can_rate"] and mine["steps"][-1]["text"] == "您的评价:满意"

    event = Event.objects.get(serial=serial)
    before = seen(event)
    error(op(resident, serial, "rate", rating="dissatisfied"), 409, "already_rated")
    assert seen(event) == before


def test_rating_by_someone_who_did_not_report(world):
    serial = resident_event_closed(world)
    event = Event.objects.get(serial=serial)
    before = seen(event)
    error(op(world.api("dispatcher_a"), serial, "rate", rating="satisfied"), 403,
          "permission_denied")
    error(op(world.api("worker_b1"), serial, "rate", rating="satisfied"), 404, "not_found")
    error(op(world.api("resident"), serial, "rate", rating="great"), 422, field="rating")
    assert seen(event) == before


def test_resident_cannot_act_as_staff_and_sees_only_their_own(world, report):
    other = report("worker_a1")
    resident = world.api("resident")
    assert get(resident, "/events").json()["count"] == 0
    error(get(resident, f"/events/{other.serial}"), 404)
    response = post(resident, "/events", {"category": "0102", "description": "垃圾",
                                          **where(IN_A1), "self_resolve": True,
                                          "result": "自己扫了"})
    error(response, 403, "permission_denied")
    assert Event.objects.count() == 1
    serial = resident_event_closed(world)
    error(op(resident, serial, "reopen", note="不行"), 403, "permission_denied")


def test_self_resolve_at_report_and_later(world):
    worker = world.api("worker_a1")
    response = worker.post(f"{API}/events/with-photos", {
        "category": "0102", "description": "垃圾", **where(IN_A1), "self_resolve": "true",
        "result": "当场清理", "result_photos": [jpeg()]})
    assert response.status_code == 201, response.content
    done = response.json()
    assert done["state"] == State.CLOSED and done["self_resolved"] is True
    assert [p["stage"] for p in done["photos"]] == ["result"]

    serial = post(worker, "/events", {"category": "0102", "description": "垃圾",
                                      **where(IN_A1)}).json()["serial"]
    response = worker.post(f"{API}/events/{serial}/ops/self_resolve/with-photos",
                           {"note": "已清理", "photos": [jpeg()]})
    assert response.status_code == 200, response.content
    assert response.json()["state"] == State.CLOSED


def test_blank_form_fields_count_as_not_sent(world):
    # A browser form sends every field, the unused ones empty: they are missing, not invalid.
    worker = world.api("worker_a1")
    response = worker.post(f"{API}/events/with-photos", {
        "category": "0102", "description": "垃圾", **where(IN_A1), "person": "", "house": "",
        "organisation": "", "urgent": "", "client_id": "", "photos": [jpeg()]})
    assert response.status_code == 201, response.content
    serial = response.json()["serial"]
    response = worker.post(f"{API}/events/{serial}/ops/self_resolve/with-photos",
                           {"note": "已清理", "version": "", "photos": [jpeg()]})
    assert response.status_code == 200, response.content


def test_repeated_client_id_returns_the_same_event(world):
    worker = world.api("worker_a1")
    body = {"category": "0102", "description": "离线上报", **where(IN_A1),
            "client_id": "6f1c1a52-5b7e-4d5e-9a55-0c1c3f3f1e01"}
    first = post(worker, "/events", body)
    again = post(worker, "/events", body)
    assert (first.status_code, again.status_code) == (201, 200)
    assert first.json()["serial"] == again.json()["serial"]
    assert Event.objects.count() == 1
    error(post(world.api("dispatcher_a"), "/events", body), 422, "client_id_taken", "client_id")
    error(post(worker, "/events", {**body, "client_id": "not-a-uuid"}), 422, field="client_id")


def test_prefer_return_minimal_answers_with_the_serial_and_where_to_read_it(world):
    worker = world.api("worker_a1")
    body = {"category": "0102", "description": "批量推送", **where(IN_A1),
            "client_id": "6f1c1a52-5b7e-4d5e-9a55-0c1c3f3f1e02"}
    first = worker.post(f"{API}/events", body, content_type="application/json",
                        headers={"Prefer": "return=minimal"})
    assert first.status_code == 201 and first["Preference-Applied"] == "return=minimal"
    event = Event.objects.get()
    assert first.json() == {"serial": event.serial, "state": "reported", "version": 1,
                            "url": f"{API}/events/{event.serial}"}
    assert first["Location"] == f"{API}/events/{event.serial}"
    assert get(worker, f"/events/{event.serial}").json()["description"] == "批量推送"
    again = worker.post(f"{API}/events", body, content_type="application/json",
                        headers={"Prefer": "respond-async, return=minimal"})
    assert again.status_code == 200 and again.json()["serial"] == event.serial
    # Bad input is the same structured error whatever the preference.
    error(worker.post(f"{API}/events", {**body, "client_id": None, "category": "9999"},
                      content_type="application/json", headers={"Prefer": "return=minimal"}),
          422, field="category")
    assert Event.objects.count() == 1


# --- Bad input: a clear error, nothing changed -----------------------------------------------


def test_bad_operations_leave_event_and_timeline_unchanged(world, report):
    event = report("worker_a1")
    d = world.api("dispatcher_a")
    before = seen(event)
    body = error(op(d, event, "close"), 409, "invalid_state")
    assert "待受理" in body["message"] and body["details"]["op"] == "close"
    error(op(world.api("worker_b1"), event, "accept"), 404, "not_found")
    error(op(world.api("worker_a1"), event, "accept"), 403, "permission_denied")
    body = error(op(d, event, "reject", note="  "), 422, "required", "note")
    assert "理由" in body["message"]
    error(op(d, event, "frobnicate"), 404, "unknown_op")
    error(op(d, event, "report"), 404, "unknown_op")
    error(post(d, f"/events/{event.serial}/ops/accept/with-photos"), 422,
          "photos_not_accepted", "photos")
    error(op(d, event, "merge", master="370481-20000101-0001"), 422, "bad_master", "master")
    error(op(d, "370481-20000101-0001", "accept"), 404, "not_found")
    assert seen(event) == before

    s.event_accept(event=event, actor=world.user("dispatcher_a"))
    before = seen(event)
    error(op(d, event, "dispatch"), 422, field="unit")
    error(op(d, event, "dispatch", department="no-such-unit"), 422, "bad_unit", "department")
    error(op(d, event, "dispatch", region=world.grid_b1.code), 422, "bad_unit", "unit")
    error(op(d, event, "dispatch", department=world.department.code, assist=["nope"]), 422,
          field="assist")
    error(op(d, event, "escalate"), 422, field="note")
    assert seen(event) == before


def test_bad_uploads_and_reports_are_refused(world, report, settings):
    worker = world.api("worker_a1")
    count = Event.objects.count()
    text = io.BytesIO(b"%PDF-1.4 not a photo")
    text.name = "report.pdf"
    body = error(worker.post(f"{API}/events/with-photos", {
        "category": "0102", "description": "垃圾", **where(IN_A1), "photos": [text]}),
        422, "photo_not_image", "photos")
    assert "report.pdf" in body["message"]

    settings.GEZHI_PHOTO_MAX_BYTES = 20_000  # stands for the real 15 MB limit
    big = noise_jpeg("big.jpg", 200)
    assert len(big.getvalue()) > 20_000
    body = error(worker.post(f"{API}/events/with-photos", {
        "category": "0102", "description": "垃圾", **where(IN_A1), "photos": [big]}),
        422, "photo_too_large", "photos")
    assert "big.jpg" in body["message"]

    error(post(worker, "/events", {"category": "0102", "description": "垃圾", **where(OUTSIDE)}),
          422, "outside_grids", "location")
    error(post(worker, "/events", {"category": "9999", "description": "垃圾", **where(IN_A1)}),
          422, "bad_category", "category")
    error(post(worker, "/events", {"category": "01", "description": "垃圾", **where(IN_A1)}),
          422, "bad_category", "category")  # a 大类 is not enough
    error(post(worker, "/events", {"category": "0102", "description": " ", **where(IN_A1)}),
          422, field="description")
    error(post(worker, "/events", {"category": "0102", "description": "垃圾", "lat": 95,
                                   "lon": 117.1}), 422, "validation_failed", "lat")
    error(post(worker, "/events", {"category": "0102", "description": "垃圾",
                                   **where(IN_B1)}), 403, "permission_denied", "location")
    error(post(worker, "/events", {"category": "0102", "description": "垃圾", **where(IN_A1),
                                   "person": 999999}), 404, "not_found", "person")
    assert Event.objects.count() == count

    # The same limits hold when a unit reports back with photos.
    event = report("worker_a1")
    d, h = world.user("dispatcher_a"), world.user("handler")
    s.event_accept(event=event, actor=d)
    s.event_dispatch(event=event, actor=d, department=world.department)
    s.event_claim(event=event, actor=h)
    before = seen(event)
    handler = world.api("handler")
    error(handler.post(f"{API}/events/{event.serial}/ops/handle/with-photos",
                       {"note": "已处理", "photos": [noise_jpeg("huge.jpg", 200)]}),
          422, "photo_too_large", "photos")
    text.seek(0)
    error(handler.post(f"{API}/events/{event.serial}/ops/handle/with-photos",
                       {"note": "已处理", "photos": [text]}), 422, "photo_not_image", "photos")
    assert seen(event) == before


def test_two_dispatchers_with_the_same_version(world, report):
    from conftest import make_user

    make_user("dispatcher_a2", "周敏", Role.DISPATCHER, region=world.sub_a)
    event = report("worker_a1")
    first, second = world.api("dispatcher_a"), world.api("dispatcher_a2")
    version = get(first, f"/events/{event.serial}").json()["version"]
    assert get(second, f"/events/{event.serial}").json()["version"] == version
    assert op(first, event, "accept", version=version).status_code == 200
    before = seen(event)
    body = error(op(second, event, "reject", note="重复上报", version=version), 409, "conflict")
    assert "待派遣" in body["message"] and body["details"]["current_version"] == version + 1
    assert seen(event) == before
    # Both open the accepted event and dispatch at once: one wins, the other is told.
    version = before[1]
    assert op(first, event, "dispatch", department=world.department.code,
              version=version).status_code == 200
    error(op(second, event, "dispatch", region=world.grid_a1.code, version=version), 409,
          "conflict")
    event.refresh_from_db()
    assert event.department == world.department and event.unit_region is None
    assert ops_of(event.serial).count(Op.DISPATCH) == 1


def test_extension_supervision_escalation_and_merge(world, report):
    d, h = world.api("dispatcher_a"), world.api("handler")
    leader, chief = world.api("leader_a"), world.api("chief_a1")
    event = report("worker_a1")
    assert op(chief, event, "accept").status_code == 200
    escalated = op(chief, event, "escalate", note="社区协调不了").json()
    assert escalated["level"] == "subdistrict" and escalated["state"] == State.ACCEPTED
    error(op(chief, event, "dispatch", department=world.department.code), 403)
    op(d, event, "dispatch", department=world.department.code)
    op(h, event, "claim")
    error(op(h, event, "extend_request", note="要协调"), 422, field="days")
    assert op(h, event, "extend_request", days=2, note="需协调产权单位").status_code == 200
    error(op(leader, event, "extend_decide"), 422, "required", "approve")
    decided = op(leader, event, "extend_decide", approve=True).json()
    assert decided["extension_count"] == 1 and decided["extensions"][0]["status"] == "approved"
    error(op(leader, event, "supervise", level=3), 422, field="note")
    supervised = op(leader, event, "supervise", level=3, note="限期办结").json()
    assert supervised["supervision_label"] == "红牌督办"
    assert supervised["supervisions"][0]["unit"] == world.department.name
    assert [e["serial"] for e in get(d, "/events", queue="supervised").json()["items"]] == [
        event.serial]
    suspended = op(d, event, "suspend", note="等待法院判决").json()
    assert suspended["state"] == State.SUSPENDED
    assert op(d, event, "resume").json()["state"] == State.HANDLING
    assert op(h, event, "comment", note="正在联系").status_code == 200
    assert op(h, event, "return", note="不属于城管").json()["state"] == State.ACCEPTED

    master = report("worker_a1")
    duplicate = report("resident", where=(IN_A1[0] + 0.0002, IN_A1[1]), source="resident")
    found = get(d, f"/events/{duplicate.serial}/duplicates").json()
    assert [x["serial"] for x in found["items"]] == [master.serial, event.serial]
    assert found["items"][0]["distance_m"] < found["metres"]
    near = get(d, "/events/duplicates", category="0102", **where(IN_A1)).json()
    assert {x["serial"] for x in near["items"]} == {master.serial, event.serial,
                                                    duplicate.serial}
    error(get(d, "/events/duplicates", category="nope", **where(IN_A1)), 422, field="category")
    assert get(world.api("worker_b1"), "/events/duplicates", category="0102",
               **where(IN_A1)).json()["items"] == []
    merged = op(d, duplicate, "merge", master=master.serial).json()
    assert merged["state"] == State.MERGED and merged["master"] == master.serial
    assert get(d, f"/events/{master.serial}").json()["duplicates"] == [duplicate.serial]
    resident = world.api("resident")
    steps = get(resident, "/events/mine").json()["items"][0]["steps"]
    assert steps[-1]["text"] == f"与 {master.serial} 为同一问题,已合并办理。"
    told = get(resident, "/messages").json()["items"]
    assert [(m["kind"], m["event"]) for m in told] == [("merged", duplicate.serial)]


# --- Scope -----------------------------------------------------------------------------------


def test_grid_worker_of_b1_cannot_see_list_or_act_on_an_a1_event(world, report):
    event = report("worker_a1")
    own = report("worker_b1", where=IN_B1)
    b1 = world.api("worker_b1")
    listed = get(b1, "/events").json()
    assert [e["serial"] for e in listed["items"]] == [own.serial]
    assert [e["serial"] for e in get(b1, "/events", q=event.serial).json()["items"]] == []
    assert [p["serial"] for p in get(b1, "/events/map").json()["items"]] == [own.serial]
    before = seen(event)
    for response in [get(b1, f"/events/{event.serial}"),
                     get(b1, f"/events/{event.serial}/timeline"),
                     get(b1, f"/events/{event.serial}/duplicates"),
                     get(b1, "/event-units", event=event.serial),
                     op(b1, event, "comment", note="看看"),
                     op(b1, event, "verify"),
                     op(b1, event, "self_resolve", note="已处理")]:
        body = error(response, 404, "not_found")
        assert event.serial not in json.dumps(body)
    assert seen(event) == before
    error(get(world.api("worker_a1"), "/event-units", event=event.serial), 403,
          "permission_denied")


def test_handler_sees_only_its_departments_events(world, report):
    police = Department.objects.create(code="ga-370481001", name="北辛派出所",
                                       region=world.sub_a)
    ours, theirs, waiting = report("worker_a1"), report("worker_a1"), report("worker_a1")
    d = world.user("dispatcher_a")
    for event, unit in ((ours, world.department), (theirs, police)):
        s.event_accept(event=event, actor=d)
        s.event_dispatch(event=event, actor=d, department=unit)
    handler = world.api("handler")
    assert [e["serial"] for e in get(handler, "/events").json()["items"]] == [ours.serial]
    assert {q["key"]: q["count"] for q in get(handler, "/events/queues").json()["items"]} == {
        "to_handle": 1, "overdue": 0, "supervised": 0, "open": 1, "all": 1}
    for event in (theirs, waiting):
        error(get(handler, f"/events/{event.serial}"), 404)
        error(op(handler, event, "claim"), 404)
    detail = get(handler, f"/events/{ours.serial}").json()
    assert [a["op"] for a in detail["allowed_ops"]] == ["claim", "return", "extend_request",
                                                       "comment"]
    assert get(handler, "/events", department=police.code).json()["count"] == 0


# --- Reads -----------------------------------------------------------------------------------


def test_event_list_query_count_does_not_grow(world, report, django_assert_max_num_queries):
    d = world.api("dispatcher_a")
    report("worker_a1")
    get(d, "/events")  # the token's first use is recorded once
    # token, role assignments, count, page (+2 when the working-calendar cache reloads)
    with django_assert_max_num_queries(6):
        assert get(d, "/events").json()["count"] == 1
    for i in range(15):
        event = report("worker_a1", description=f"第 {i} 处垃圾")
        if i % 3 == 0:
            s.event_accept(event=event, actor=world.user("dispatcher_a"))
            s.event_dispatch(event=event, actor=world.user("dispatcher_a"),
                             department=world.department)
    with django_assert_max_num_queries(6):
        page = get(d, "/events", page_size=50).json()
    assert page["count"] == 16 and len(page["items"]) == 16
    with django_assert_max_num_queries(5):
        assert get(d, "/events/map").json()["count"] == 16
    assert {e["unit"]["code"] for e in page["items"] if e["unit"]} == {world.department.code}


def test_my_reports_query_count_does_not_grow(world, report, django_assert_max_num_queries):
    resident = world.api("resident")
    for i in range(6):
        event = report("resident", source="resident", description=f"第 {i} 件")
        s.event_accept(event=event, actor=world.user("dispatcher_a"))
        s.event_comment(event=event, actor=world.user("dispatcher_a"), note="已安排")
    get(resident, "/events/mine")
    with django_assert_max_num_queries(5):  # token, roles, count, page, timelines
        mine = get(resident, "/events/mine").json()
    assert mine["count"] == 6
    assert [step["text"] for step in mine["items"][0]["steps"]] == [
        "您反映了该问题,已登记。", "已受理,正在安排处理。", "工作人员回复:已安排"]


def test_list_filters_and_queues(world, report):
    first = report("worker_a1", address="善国北路")
    second = report("chief_a1", where=(35.08, 117.13),
                    category=s.Category.objects.get(code="0401"))
    d = world.api("dispatcher_a")
    s.event_accept(event=second, actor=world.user("dispatcher_a"))

    def serials(**params):
        response = get(d, "/events", **params)
        assert response.status_code == 200, response.content
        return [e["serial"] for e in response.json()["items"]]

    assert serials() == [second.serial, first.serial]
    assert serials(queue="to_accept") == [first.serial]
    assert serials(queue="to_dispatch") == [second.serial]
    assert serials(state="accepted") == [second.serial]
    assert serials(grid=world.grid_a1.code) == [first.serial]
    assert serials(grid=world.comm_a1.code) == [second.serial, first.serial]
    assert serials(category="04") == [second.serial]
    assert serials(q="善国北") == [first.serial]
    assert serials(source="resident") == []
    assert serials(start="2000-01-01", end="2000-01-02") == []
    error(get(d, "/events", queue="nope"), 422, "bad_queue", "queue")
    error(get(d, "/events", state="nope"), 422, "bad_state", "state")
    error(get(d, "/events", start="yesterday"), 422, "validation_failed", "start")
    queues = {q["key"]: q for q in get(d, "/events/queues").json()["items"]}
    assert queues["to_accept"]["count"] == 1 and queues["to_dispatch"]["count"] == 1
    assert queues["to_accept"]["label"] == "待受理"
    item = get(d, "/events").json()["items"][0]
    assert item["urgent"] is True and item["deadline"]["kind"] == "dispatch"
    assert item["state_label"] == "待派遣" and item["category"]["code"] == "0401"
    points = get(d, "/events/map").json()
    assert points["count"] == 2 and {p["colour"] for p in points["items"]} == {"green"}


def test_categories_tree_and_flat(world):
    client = world.api("resident")
    tree = get(client, "/event-categories", view="tree", page_size=100).json()
    city = tree["items"][0]
    assert (city["code"], city["name"], city["parent"]) == ("01", "市容环境", None)
    garbage = next(c for c in city["children"] if c["code"] == "0102")
    assert garbage["handle_limit_label"] == "4 工作小时" and garbage["reopen_on_dissatisfied"]
    leaves = get(client, "/event-categories", leaf=True, group="city", page_size=100).json()
    assert all(c["leaf"] and c["group"] == "city" for c in leaves["items"])
    assert "0401" in {c["code"] for c in leaves["items"] if c["urgent"]}
    error(Client().get(f"{API}/event-categories"), 401, "not_authenticated")


def test_session_clients_need_csrf_for_operations(world, report):
    event = report("worker_a1")
    client = Client(enforce_csrf_checks=True)
    client.force_login(world.user("dispatcher_a"))
    assert client.get(f"{API}/events/{event.serial}").status_code == 200
    error(op(client, event, "accept"), 403, "csrf_failed")
    assert seen(event)[0] == State.REPORTED


def test_english_errors(world):
    client = world.api("worker_a1")
    response = client.post(f"{API}/events", json.dumps({"category": "0102", "description": "x",
                                                        "lat": 95, "lon": 117.1}),
                           content_type="application/json", HTTP_ACCEPT_LANGUAGE="en")
    body = error(response, 422, "validation_failed", "lat")
    assert body["message"].isascii()


def test_openapi_lists_the_event_endpoints_and_validates(db):
    spec = Client().get(f"{API}/openapi.json").json()
    ops = spec["paths"]["/api/v1/events/{serial}/ops/{op}"]["post"]
    assert {"200", "403", "404", "409", "422"} <= set(ops["responses"])
    with_photos = spec["paths"]["/api/v1/events/with-photos"]["post"]
    assert "multipart/form-data" in with_photos["requestBody"]["content"]
    for path in ("/api/v1/events", "/api/v1/events/queues", "/api/v1/events/mine",
                 "/api/v1/events/map", "/api/v1/events/duplicates", "/api/v1/event-categories",
                 "/api/v1/event-units", "/api/v1/events/{serial}/timeline",
                 "/api/v1/messages", "/api/v1/messages/read"):
        assert path in spec["paths"], path
    pytest.importorskip("openapi_spec_validator").validate(spec)
