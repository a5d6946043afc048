"""The mobile workbench pages (/m/) with Django's test client: who may open them, that each
shows the worker's own scope only (special-group tags only with SPECIAL_VIEW), and the
installable app's manifest and service worker. The journeys in a phone browser (offline,
outbox, photos, GPS) are in tests/browser/test_mobile*.py."""

import json

import pytest
from django.conf import settings
from django.contrib.staticfiles import finders
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from conftest import valid_id
from gezhi.events import services as event_services
from gezhi.events.models import Category
from gezhi.fieldwork import services as field_services
from gezhi.fieldwork.models import VisitRule
from gezhi.mobile import shell
from gezhi.notify.models import Message
from gezhi.people.models import Tag

pytestmark = pytest.mark.django_db


def page(client, name, *args, **query):
    return client.get(reverse(f"mobile:{name}", args=args), query)


def json_script(response, element_id: str):
    html = response.content.decode()
    start = html.index(f'id="{element_id}"')
    start = html.index(">", start) + 1
    return json.loads(html[start:html.index("</script>", start)])


def static_file(url: str) -> str | None:
    return finders.find(url.removeprefix(settings.STATIC_URL).split("?v=")[0])


@pytest.fixture
def weekly(base):
    """独居老人 are visited weekly (the visit rule)."""
    return VisitRule.objects.update_or_create(tag=Tag.objects.get(code="lone_elderly"),
                                              defaults={"interval_days": 7})[0]


# --- Who may open the workbench ------------------------------------------------------------


def test_anonymous_visitors_go_to_the_login_page_and_come_back(world):
    response = page(world.client(None), "report")
    assert response.status_code == 302
    assert response["Location"] == "/accounts/login/?next=/m/report/"


@pytest.mark.parametrize("name", ["tasks", "report", "diary", "patrol", "outbox", "grid",
                                  "houses"])
def test_a_resident_gets_a_page_saying_why_not(world, name):
    response = page(world.client("resident"), name)
    assert response.status_code == 403
    assert "移动工作台供网格员和网格长使用" in response.content.decode()


def test_a_department_handler_may_neither_record_nor_report(world):
    response = page(world.client("handler"), "tasks")
    assert response.status_code == 403
    assert "进入电脑版工作台" in response.content.decode()  # they do have the console


def test_a_dispatcher_reports_but_keeps_no_diary(world):
    client = world.client("dispatcher_a")
    assert page(client, "report").status_code == 200
    response = page(client, "diary")
    assert response.status_code == 403
    assert "没有记录走访、民情日记和巡查的权限" in response.content.decode()
    assert page(client, "patrol").status_code == 403


# --- 今日任务 ---------------------------------------------------------------------------------


def test_tasks_list_households_due_events_to_verify_and_unread_messages(world, base, weekly):
    reported = event_services.event_report(actor=world.user("worker_a1"), intake=event_services.Intake(
        category=Category.objects.get(code="0102"), description="垃圾满溢", lat=35.08, lon=117.11))
    Message.objects.create(user=world.user("worker_a1"), channel="inbox", kind="test",
                           text="请核查 3 号楼事件", event=reported)
    response = page(world.client("worker_a1"), "tasks")
    html = response.content.decode()
    assert response.status_code == 200
    due = response.context["due"]
    assert [d["house"]["id"] for d in due] == [base.house_a1.pk]  # 张桂兰, 独居老人
    assert f'data-house="{base.house_a1.pk}"' in html and "独居老人" in html
    assert "社区矫正" not in html  # 赵强's tag is not the worker's to see
    assert response.context["unread_count"] == 1 and "请核查 3 号楼事件" in html
    keys = [q["key"] for q in response.context["queues"]]
    assert "to_verify" in keys and "to_handle" in keys and "to_accept" not in keys


def test_a_visit_takes_the_household_off_the_due_list(world, base, weekly):
    client = world.client("worker_a1")
    assert page(client, "tasks").context["due_count"] == 1
    field_services.visit_create(actor=world.user("worker_a1"), fields={
        "house": base.house_a1.pk, "outcome": "met", "people_met": [base.zhang_a1.pk]})
    assert page(client, "tasks").context["due_count"] == 0


def _queries(client, url: str) -> int:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as run:
        assert client.get(url).status_code == 200
    return len(run.captured_queries)


@pytest.mark.parametrize("name, most", [("tasks", 13), ("grid", 8), ("house", 10),
                                        ("houses", 7), ("report", 5), ("diary", 6),
                                        ("patrol", 5)])
def test_pages_read_a_fixed_number_of_queries(world, base, weekly, name, most):
    """However many households, visits, events and entries: no query per row."""
    from gezhi.people.services import person_create, person_tag_add, residence_move_in

    worker = world.user("worker_a1")
    client = world.client("worker_a1")
    args = [base.house_a1.pk] if name == "house" else []
    url = reverse(f"mobile:{name}", args=args) + ("?q=1号楼" if name == "houses" else "")

    def more(n):
        person = person_create(actor=None, grid=world.grid_a1, name="新住户", id_type="resident_id",
                               id_number=valid_id(f"3704811950010100{n}"))
        residence_move_in(actor=None, person=person, house=base.house_a1_2, relation="owner")
        person_tag_add(actor=None, person=person, tag=Tag.objects.get(code="lone_elderly"))
        field_services.visit_create(actor=worker, fields={"house": base.house_a1.pk,
                                                          "outcome": "nobody"})
        field_services.diary_create(actor=worker, fields={"text": "巡查正常", "lat": 35.08,
                                                          "lon": 117.11})
        event_services.event_report(actor=worker, intake=event_services.Intake(
            category=Category.objects.get(code="0102"), description="堆物", lat=35.08,
            lon=117.11, house=base.house_a1))

    more(1)
    client.get(url)
    before = _queries(client, url)
    more(2)
    more(3)
    assert _queries(client, url) == before <= most


# --- 住户查询 and the house page -------------------------------------------------------------


def test_search_finds_houses_by_address_and_by_resident_within_the_scope(world, base):
    client = world.client("worker_a1")
    by_name = page(client, "houses", q="张桂兰").context["results"]
    assert [r["house"].pk for r in by_name] == [base.house_a1.pk]
    assert by_name[0]["people"] == ["张桂兰"]
    by_address = page(client, "houses", q="201").context["results"]
    assert [r["house"].pk for r in by_address] == [base.house_a1_2.pk]
    assert page(client, "houses", q="王芳").context["results"] == []  # grid B-1
    assert page(client, "houses", q="荆河花园").context["results"] == []


def test_the_house_page_shows_care_tags_and_special_tags_only_to_those_allowed(world, base):
    worker = page(world.client("worker_a1"), "house", base.house_a1_2.pk)
    assert worker.status_code == 200
    html = worker.content.decode()
    assert "赵强" in html and "社区矫正" not in html
    assert 'data-open-visit' in html and 'id="report-here"' in html
    assert reverse("places:house", args=[base.house_a1_2.pk]) in html  # the full profile
    chief = page(world.client("chief_a1"), "house", base.house_a1_2.pk).content.decode()
    assert "社区矫正" in chief
    own = page(world.client("worker_a1"), "house", base.house_a1.pk).content.decode()
    assert 'data-tag="lone_elderly"' in own


def test_a_house_outside_the_scope_does_not_exist(world, base):
    assert page(world.client("worker_a1"), "house", base.house_b1.pk).status_code == 404


def test_the_house_page_lists_visits_and_events(world, base):
    worker = world.user("worker_a1")
    field_services.visit_create(actor=worker, fields={
        "house": base.house_a1.pk, "outcome": "nobody", "needs": "需要助餐服务"})
    event_services.event_report(actor=worker, intake=event_services.Intake(
        category=Category.objects.get(code="0102"), description="楼道堆物", lat=35.08,
        lon=117.11, house=base.house_a1))
    html = page(world.client("worker_a1"), "house", base.house_a1.pk).content.decode()
    assert "需要助餐服务" in html and "无人在家" in html
    assert "楼道堆物" in html


# --- 我的网格, 上报, 民情日记, 巡查 ------------------------------------------------------------------


def test_the_grid_map_carries_the_scope_only(world, base):
    response = page(world.client("worker_a1"), "grid")
    data = json_script(response, "grid-data")
    assert [f["properties"]["code"] for f in data["grids"]["features"]] == [world.grid_a1.code]
    assert [e["name"] for e in data["estates"]] == ["善国盛景小区"]
    assert [b["name"] for b in data["buildings"]] == ["善国盛景小区1号楼"]
    houses = {h["id"]: h for h in data["houses"]}
    assert list(houses) == [base.house_a1.pk]  # 赵强's special tag is not shown
    assert [t["name"] for t in houses[base.house_a1.pk]["tags"]] == ["独居老人"]
    chief = json_script(page(world.client("chief_a1"), "grid"), "grid-data")
    assert {h["id"] for h in chief["houses"]} == {base.house_a1.pk, base.house_a1_2.pk}


def test_the_report_page_carries_the_categories_and_the_grids_to_report_in(world):
    response = page(world.client("worker_a1"), "report")
    html = response.content.decode()
    assert '<option value="0102">' in html and "<optgroup" in html
    outline = json_script(response, "grid-outline")
    assert [f["properties"]["name"] for f in outline["features"]] == ["文化路第一网格"]
    assert "data-complete" in html  # every grid the worker may report in is on the page


def test_the_diary_page_lists_my_recent_entries(world, base):
    field_services.diary_create(actor=world.user("worker_a1"), fields={
        "text": "东门路灯不亮", "place": "东门", "lat": 35.08, "lon": 117.11})
    field_services.diary_create(actor=world.user("worker_b1"), fields={
        "text": "荆河花园停车乱", "lat": 35.08, "lon": 117.22})
    html = page(world.client("worker_a1"), "diary").content.decode()
    assert "东门路灯不亮" in html and "荆河花园停车乱" not in html


def test_the_patrol_page_carries_my_recent_tracks(world):
    import uuid

    client_id = uuid.uuid4()
    user = world.user("worker_a1")
    field_services.patrol_start(actor=user, client_id=client_id, started_at=None, lat=35.08,
                                lon=117.11)
    field_services.patrol_stop(actor=user, client_id=client_id, ended_at=None, note="",
                               points=[{"lat": 35.081, "lon": 117.111,
                                        "at": "2026-01-01T08:00:00+08:00"}])
    response = page(world.client("worker_a1"), "patrol")
    tracks = json_script(response, "patrol-tracks")
    assert tracks[0]["id"] == str(client_id) and len(tracks[0]["track"]) >= 1


# --- The installable app -------------------------------------------------------------------


def test_the_manifest_installs_the_workbench_under_m(client):
    response = client.get("/m/manifest.webmanifest")
    data = response.json()
    assert response["Content-Type"] == "application/manifest+json"
    assert data["start_url"] == "/m/" and data["scope"] == "/m/"
    assert data["display"] == "standalone"
    assert {i["sizes"] for i in data["icons"]} == {"192x192", "512x512"}
    for icon in data["icons"]:
        assert static_file(icon["src"])


def test_the_service_worker_keeps_the_shell_and_changes_with_it(client):
    response = client.get("/m/sw.js")
    body = response.content.decode()
    assert response["Content-Type"].startswith("text/javascript")
    assert "no-cache" in response["Cache-Control"] or "max-age=0" in response["Cache-Control"]
    assert response["Service-Worker-Allowed"] == "/m/"
    config = json.loads(body.split("var CONFIG = ", 1)[1].split(";\n", 1)[0])
    assert config["version"] == shell.version() and len(config["version"]) == 12
    assert "/m/report/" in config["pages"] and "/m/offline/" in config["pages"]
    assert f"/static/vendor/leaflet/leaflet.js?v={shell.version()}" in config["assets"]
    for url in config["assets"]:
        assert static_file(url)


def test_a_photo_is_sent_the_way_the_outbox_sends_it(world, base):
    """The outbox's multipart request (outbox.js) as the server sees it: fields as text,
    photos as files named photos-1.jpg …, client_id repeated on a retry."""
    import io
    import uuid

    from PIL import Image

    buffer = io.BytesIO()
    Image.new("RGB", (40, 30), "red").save(buffer, "JPEG")
    client = world.client("worker_a1")
    client_id = str(uuid.uuid4())

    def send():
        return client.post("/api/v1/events/with-photos", {
            "client_id": client_id, "category": "0102", "description": "井盖缺失",
            "lat": "35.080000", "lon": "117.110000", "house": str(base.house_a1.pk),
            "address": base.house_a1.address,
            "photos": [SimpleUploadedFile("photos-1.jpg", buffer.getvalue(), "image/jpeg")]})

    first, again = send(), send()
    assert (first.status_code, again.status_code) == (201, 200)
    assert first.json()["serial"] == again.json()["serial"]
    assert len(first.json()["photos"]) == 1
