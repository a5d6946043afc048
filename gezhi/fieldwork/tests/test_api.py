"""The field-work API as a phone uses it: records are created once whatever the retries, bad
input is refused with the field at fault and leaves nothing behind, a diary entry may report an
event in the same transaction."""

import io
import uuid
from pathlib import Path

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from PIL import Image

from gezhi.events.models import Category, Event, Photo, Source, State
from gezhi.fieldwork.models import DiaryEntry, FieldPhoto, Visit, VisitOutcome
from gezhi.fieldwork.tests.conftest import IN_A1, IN_B1, OUTSIDE, error, get, jpeg, post

pytestmark = pytest.mark.django_db


def half_jpeg() -> bytes:
    """A photo whose upload stopped halfway (noise, so the JPEG has no early end)."""
    buf = io.BytesIO()
    Image.effect_noise((300, 300), 80).convert("RGB").save(buf, "JPEG", quality=90)
    return buf.getvalue()[: len(buf.getvalue()) // 2]


# --- 民情日记 ------------------------------------------------------------------------------


def test_a_diary_entry_is_stored_once_whatever_the_retries(world, base):
    worker = world.api("worker_a1")
    body = {"client_id": str(uuid.uuid4()), "date": "2026-01-05", "place": "善国盛景小区北门",
            "lat": IN_A1[0], "lon": IN_A1[1], "text": "北门路灯不亮,居民反映夜间出行不便"}
    first = post(worker, "/diary", body)
    assert first.status_code == 201, first.content
    entry = first.json()
    assert entry["grid"] == {"code": world.grid_a1.code, "name": world.grid_a1.name}
    assert entry["author"] == "樊荣" and entry["text"] == body["text"]
    assert entry["date"] == "2026-01-05" and entry["event"] is None and entry["house"] is None

    again = post(worker, "/diary", {**body, "text": "changed on the second send"})
    assert again.status_code == 200
    assert again.json()["id"] == entry["id"] and again.json()["text"] == body["text"]
    assert DiaryEntry.objects.count() == 1

    # The same client_id from someone else is refused, not merged into their record.
    error(post(world.api("chief_a1"), "/diary", body), 409, "client_id_taken", "client_id")
    assert DiaryEntry.objects.count() == 1


def test_a_diary_entry_takes_its_grid_from_the_house_or_the_workers_only_grid(world, base):
    worker = world.api("worker_a1")
    by_house = post(worker, "/diary", {"house": base.house_a1.pk, "text": "张奶奶说暖气不热"})
    assert by_house.status_code == 201, by_house.content
    assert by_house.json()["house"] == {"id": base.house_a1.pk,
                                        "address": base.house_a1.address}
    assert by_house.json()["grid"]["code"] == world.grid_a1.code
    only_grid = post(worker, "/diary", {"text": "今日走访三户,无异常"})
    assert only_grid.status_code == 201 and only_grid.json()["grid"]["code"] == world.grid_a1.code
    # The grid chief works in two grids: without a point or a house there is no telling which.
    error(post(world.api("chief_a1"), "/diary", {"text": "社区例会"}), 422, "required", "lat")


@pytest.mark.parametrize(("body", "status", "code", "field"), [
    ({"text": "  "}, 422, "required", "text"),
    ({"text": "x" * 2001}, 422, "too_long", "text"),
    ({"text": "ok", "date": "2999-01-01"}, 422, "in_future", "date"),
    ({"text": "ok", "date": "yesterday"}, 422, None, "date"),
    ({"text": "ok", "lat": IN_A1[0]}, 422, "required", "lon"),
    ({"text": "ok", "lat": 95, "lon": 117.1}, 422, None, "lat"),
    ({"text": "ok", "lat": OUTSIDE[0], "lon": OUTSIDE[1]}, 422, "outside_grids", "lat"),
    ({"text": "ok", "client_id": "not-a-uuid"}, 422, None, "client_id"),
    ({"text": "ok", "house": 999999}, 404, "not_found", "house"),
    ({"text": "ok", "event_category": "nope", "lat": IN_A1[0], "lon": IN_A1[1]}, 422,
     "bad_category", "event_category"),
])
def test_bad_diary_input_is_refused_with_the_field_at_fault(world, base, body, status, code,
                                                             field):
    error(post(world.api("worker_a1"), "/diary", body), status, code, field)
    assert DiaryEntry.objects.count() == 0


def test_a_diary_entry_outside_the_workers_grid_is_refused(world, base):
    worker = world.api("worker_a1")
    error(post(worker, "/diary", {"text": "x", "lat": IN_B1[0], "lon": IN_B1[1]}), 404,
          "not_found", "lat")
    error(post(worker, "/diary", {"text": "x", "house": base.house_b1.pk}), 404, "not_found",
          "house")
    # A leader sees subdistrict A but keeps no diary there; a resident keeps none at all.
    error(post(world.api("leader_a"), "/diary", {"text": "x", "lat": IN_A1[0],
                                                 "lon": IN_A1[1]}), 403, "permission_denied")
    error(post(world.api("resident"), "/diary", {"text": "x"}), 403, "permission_denied")
    assert DiaryEntry.objects.count() == 0


def test_a_diary_entry_with_photos_keeps_them_cleaned_and_behind_a_check(world, base):
    worker = world.api("worker_a1")
    cid = str(uuid.uuid4())
    response = worker.post("/api/v1/fieldwork/diary/with-photos", {
        "client_id": cid, "text": "楼道堆放杂物", "lat": str(IN_A1[0]), "lon": str(IN_A1[1]),
        "house": "", "date": "", "photos": [jpeg("a.jpg"), jpeg("b.png", color="blue")]})
    assert response.status_code == 201, response.content
    photos = response.json()["photos"]
    assert [(p["width"], p["height"]) for p in photos] == [(64, 48), (64, 48)]
    assert all(p["url"].startswith("http://testserver/console/fieldwork/photos/") for p in photos)
    stored = FieldPhoto.objects.get(pk=photos[0]["id"])
    assert stored.image.name.endswith(".jpg") and stored.diary_id == response.json()["id"]
    seen = world.client("worker_a1").get(photos[0]["url"])
    assert seen.status_code == 200 and seen["Content-Type"] == "image/jpeg"
    assert world.client("worker_b1").get(photos[0]["url"]).status_code == 404

    # Resent after an interrupted answer: the same entry, no second set of photos.
    again = worker.post("/api/v1/fieldwork/diary/with-photos", {
        "client_id": cid, "text": "楼道堆放杂物", "photos": [jpeg("a.jpg")]})
    assert again.status_code == 200 and again.json()["id"] == response.json()["id"]
    assert FieldPhoto.objects.count() == 2


@pytest.mark.parametrize(("upload", "code"), [
    (SimpleUploadedFile("notes.txt", b"not an image at all", content_type="text/plain"),
     "photo_not_image"),
    (SimpleUploadedFile("half.jpg", half_jpeg(), content_type="image/jpeg"), "photo_damaged"),
])
def test_a_bad_photo_is_refused_and_nothing_is_stored(world, base, upload, code):
    response = world.api("worker_a1").post("/api/v1/fieldwork/diary/with-photos", {
        "text": "x", "photos": [jpeg(), upload]})
    body = error(response, 422, code, "photos")
    assert body["details"]["name"] == upload.name
    assert DiaryEntry.objects.count() == 0 and FieldPhoto.objects.count() == 0


def test_a_photo_over_the_size_limit_is_refused(world, base, settings):
    settings.GEZHI_PHOTO_MAX_BYTES = 300
    response = world.api("worker_a1").post("/api/v1/fieldwork/visits/with-photos", {
        "house": base.house_a1.pk, "photos": [jpeg(size=(400, 400))]})
    error(response, 422, "photo_too_large", "photos")
    assert Visit.objects.count() == 0


def test_a_diary_entry_reports_its_event_in_the_same_transaction(world, base):
    response = world.api("worker_a1").post("/api/v1/fieldwork/diary/with-photos", {
        "client_id": str(uuid.uuid4()), "text": "北门井盖松动,已设置警示", "place": "北门",
        "lat": str(IN_A1[0]), "lon": str(IN_A1[1]), "event_category": "0102",
        "event_self_resolve": "true", "event_result": "已联系物业加固", "photos": [jpeg()]})
    assert response.status_code == 201, response.content
    body = response.json()
    event = Event.objects.get()
    assert body["event"] == {"serial": event.serial, "state": State.CLOSED,
                             "state_label": "已结案"}
    assert event.source == Source.PATROL and event.description == "北门井盖松动,已设置警示"
    assert event.self_resolved and event.result == "已联系物业加固" and event.address == "北门"
    assert (event.lat, event.lon) == IN_A1 and event.reporter == world.user("worker_a1")
    assert Photo.objects.filter(event=event).count() == 1  # the diary's photo, copied
    assert DiaryEntry.objects.get().event == event


def test_a_refused_event_leaves_no_diary_entry_either(world, base):
    worker = world.api("worker_a1")
    # 自行处置 without a result: the event intake refuses, and the entry goes with it.
    body = {"client_id": str(uuid.uuid4()), "text": "井盖松动", "lat": IN_A1[0], "lon": IN_A1[1],
            "event_category": "0102", "event_self_resolve": True}
    error(post(worker, "/diary", body), 422, "required", "event_result")
    Category.objects.filter(code="0102").update(active=False)
    error(post(worker, "/diary", {**body, "event_result": "ok"}), 422, "bad_category",
          "event_category")
    assert DiaryEntry.objects.count() == 0 and Event.objects.count() == 0
    # The same client_id works once the problem is fixed: nothing half-stored was kept.
    Category.objects.filter(code="0102").update(active=True)
    assert post(worker, "/diary", {**body, "event_result": "ok"}).status_code == 201
    assert DiaryEntry.objects.count() == 1 and Event.objects.count() == 1


def test_an_event_failing_after_the_entry_was_written_rolls_the_entry_back(world, base,
                                                                         monkeypatch, settings):
    from gezhi.events import services as events

    def broken(**kwargs):
        raise RuntimeError("intake failed half-way")

    monkeypatch.setattr(events, "event_report", broken)
    with pytest.raises(RuntimeError):
        world.api("worker_a1").post("/api/v1/fieldwork/diary/with-photos", {
            "text": "井盖松动", "lat": str(IN_A1[0]), "lon": str(IN_A1[1]),
            "event_category": "0102", "photos": [jpeg()]})
    assert DiaryEntry.objects.count() == 0 and FieldPhoto.objects.count() == 0
    # Nor is the photo's file left behind.
    assert not [p for p in Path(settings.MEDIA_ROOT).rglob("*") if p.is_file()]


def test_a_diary_entry_becomes_an_event_once(world, base):
    worker = world.api("worker_a1")
    entry = post(worker, "/diary", {"house": base.house_a1.pk, "text": "张奶奶家下水道堵塞"}).json()
    error(post(worker, f"/diary/{entry['id']}/event", {"category": "nope"}), 422,
          "bad_category", "category")
    response = post(worker, f"/diary/{entry['id']}/event", {"category": "0102"})
    assert response.status_code == 200, response.content
    event = Event.objects.get()
    assert response.json()["event"]["serial"] == event.serial
    assert event.house == base.house_a1 and event.description == "张奶奶家下水道堵塞"
    # The house's point stands in for the entry's.
    assert (event.lat, event.lon) == (base.building_a1.lat, base.building_a1.lon)
    error(post(worker, f"/diary/{entry['id']}/event", {"category": "0102"}), 409,
          "already_reported")
    error(post(world.api("worker_b1"), f"/diary/{entry['id']}/event", {"category": "0102"}),
          404, "not_found")
    assert Event.objects.count() == 1


def test_diary_list_and_detail(world, base, django_assert_max_num_queries):
    worker = world.api("worker_a1")
    for i in range(3):
        post(worker, "/diary", {"text": f"第{i}条", "date": f"2026-01-0{i + 1}"})
    post(world.api("chief_a1"), "/diary", {"text": "网格长的", "lat": IN_A1[0], "lon": IN_A1[1]})
    listed = get(worker, "/diary", page_size=2)
    assert listed.json()["count"] == 4 and len(listed.json()["items"]) == 2
    assert listed.json()["next"]
    mine = get(worker, "/diary", author="me").json()
    assert [e["text"] for e in mine["items"]] == ["第2条", "第1条", "第0条"]
    ranged = get(worker, "/diary", start="2026-01-02", end="2026-01-02").json()
    assert [e["text"] for e in ranged["items"]] == ["第1条"]
    one = get(worker, f"/diary/{mine['items'][0]['id']}")
    assert one.status_code == 200 and one.json()["text"] == "第2条"
    error(get(worker, "/diary/999999"), 404, "not_found")


# --- 入户走访 ------------------------------------------------------------------------------


def test_a_visit_is_stored_once_with_the_people_met(world, base):
    worker = world.api("worker_a1")
    cid = str(uuid.uuid4())
    body = {"client_id": cid, "house": base.house_a1.pk, "visited_at": "2026-01-05T10:30:00+08:00",
            "outcome": "met", "people_met": [base.zhang_a1.pk], "needs": "希望有人帮忙买菜",
            "follow_ups": "联系志愿者", "next_visit_on": "2026-01-08"}
    first = post(worker, "/visits", body)
    assert first.status_code == 201, first.content
    visit = first.json()
    assert visit["house"] == {"id": base.house_a1.pk, "address": base.house_a1.address}
    assert visit["people_met"] == [{"id": base.zhang_a1.pk, "name": "张桂兰"}]
    assert visit["outcome_label"] == "见到住户" and visit["visitor"] == "樊荣"
    assert visit["grid"]["code"] == world.grid_a1.code and visit["next_visit_on"] == "2026-01-08"
    again = post(worker, "/visits", body)
    assert again.status_code == 200 and again.json()["id"] == visit["id"]
    error(post(world.api("chief_a1"), "/visits", body), 409, "client_id_taken", "client_id")
    assert Visit.objects.count() == 1


@pytest.mark.parametrize(("change", "code", "field"), [
    ({"house": None}, "required", "house"),
    ({"outcome": "maybe"}, "bad_outcome", "outcome"),
    ({"people_met": ["wang"]}, None, "people_met.0"),
    ({"visited_at": "2999-01-01T10:00:00+08:00"}, "in_future", "visited_at"),
    ({"next_visit_on": "2026-01-05"}, "bad_date", "next_visit_on"),
    ({"needs": "x" * 2001}, "too_long", "needs"),
    ({"lat": 35.08}, "required", "lon"),
])
def test_bad_visit_input_is_refused_with_the_field_at_fault(world, base, change, code, field):
    body = {"house": base.house_a1.pk, "visited_at": "2026-01-05T10:30:00+08:00", **change}
    error(post(world.api("worker_a1"), "/visits", body), 422, code, field)
    assert Visit.objects.count() == 0


def test_people_met_must_live_in_the_house(world, base):
    worker = world.api("worker_a1")
    body = error(post(worker, "/visits", {"house": base.house_a1.pk,
                                          "people_met": [base.zhang_a1.pk, base.zhao_a1.pk]}),
                 422, "bad_person", "people_met")
    assert body["details"]["ids"] == [base.zhao_a1.pk]
    error(post(worker, "/visits", {"house": base.house_a1.pk, "outcome": "nobody",
                                   "people_met": [base.zhang_a1.pk]}), 422, "bad_person",
          "people_met")
    assert Visit.objects.count() == 0


def test_a_visit_form_takes_people_met_repeated_or_comma_separated(world, base):
    from gezhi.people.models import Tag  # noqa: F401 - the base holds the tags
    from gezhi.people.services import person_create, residence_move_in

    son = person_create(actor=None, grid=world.grid_a1, name="张伟", id_type="other",
                        id_number="P1234567")
    residence_move_in(actor=None, person=son, house=base.house_a1, relation="family")
    worker = world.api("worker_a1")
    url = "/api/v1/fieldwork/visits/with-photos"
    repeated = worker.post(url, {"house": str(base.house_a1.pk), "outcome": "met",
                                 "people_met": [str(base.zhang_a1.pk), str(son.pk)],
                                 "next_visit_on": "", "photos": [jpeg()]})
    assert repeated.status_code == 201, repeated.content
    assert {p["name"] for p in repeated.json()["people_met"]} == {"张桂兰", "张伟"}
    assert len(repeated.json()["photos"]) == 1
    comma = worker.post(url, {"house": str(base.house_a1.pk),
                              "people_met": f"{base.zhang_a1.pk},{son.pk}"})
    assert comma.status_code == 201, comma.content
    assert len(comma.json()["people_met"]) == 2
    nobody = worker.post(url, {"house": str(base.house_a1.pk), "outcome": "nobody",
                               "people_met": ""})
    assert nobody.status_code == 201 and nobody.json()["outcome"] == VisitOutcome.NOBODY


def test_visit_list_filters_by_house(world, base, django_assert_max_num_queries):
    worker = world.api("worker_a1")
    for _i in range(3):
        post(worker, "/visits", {"house": base.house_a1.pk, "people_met": [base.zhang_a1.pk]})
    post(worker, "/visits", {"house": base.house_a1_2.pk, "outcome": "refused"})
    assert get(worker, "/visits").json()["count"] == 4
    assert get(worker, "/visits", house=base.house_a1_2.pk).json()["count"] == 1
    one = get(worker, "/visits").json()["items"][0]
    assert get(worker, f"/visits/{one['id']}").json() == one
    # Lists pin their queries: the page and its people and photos, not one query per row.
    client = world.client("worker_a1")
    client.get(f"/api/v1/fieldwork/visits")  # noqa: F541 - warm the session and scope
    with django_assert_max_num_queries(8):
        assert client.get("/api/v1/fieldwork/visits").json()["count"] == 4


def test_two_sends_racing_store_one_record(world, base, monkeypatch):
    """The second send did not see the first's row yet: its insert fails on the unique
    client_id, and it answers with the row the first one stored."""
    from gezhi.fieldwork import services

    cid = uuid.uuid4()
    worker = world.user("worker_a1")
    first, created = services.visit_create(actor=worker, fields={
        "client_id": cid, "house": base.house_a1.pk})
    assert created
    real = services._existing
    calls = []

    def not_yet_visible(model, client_id, owner, actor):
        calls.append(client_id)
        return None if len(calls) == 1 else real(model, client_id, owner, actor)

    monkeypatch.setattr(services, "_existing", not_yet_visible)
    again, created = services.visit_create(actor=worker, fields={
        "client_id": cid, "house": base.house_a1.pk, "photos": []}, photos=[jpeg()])
    assert (again.pk, created) == (first.pk, False) and len(calls) == 2
    assert Visit.objects.count() == 1 and FieldPhoto.objects.count() == 0
