"""The event code tables in Django admin: categories and the working calendar editable by system
administrators only; events, their timeline and API keys shown but never changed there."""

import datetime as dt
import hashlib
from zoneinfo import ZoneInfo

import pytest

from gezhi.events import workcal
from gezhi.events.models import (
    ApiKey,
    CalendarDay,
    CalendarYear,
    Category,
    Event,
    LimitUnit,
    TimelineEntry,
)

TZ = ZoneInfo("Asia/Shanghai")
CHANGELISTS = ["/admin/events/category/", "/admin/events/calendarday/",
               "/admin/events/calendaryear/", "/admin/events/apikey/", "/admin/events/event/",
               "/admin/events/timelineentry/"]


@pytest.fixture(autouse=True)
def fresh_calendar(db):
    workcal.clear_cache()
    yield
    workcal.clear_cache()


@pytest.fixture
def api_key(world):
    raw = "gz_secretkey_0123456789abcdef"
    return ApiKey.objects.create(name="12345热线", prefix=raw[:8],
                                 key_hash=hashlib.sha256(raw.encode()).hexdigest())


@pytest.mark.parametrize("persona", ["dispatcher_a", "leader_a", "handler"])
def test_staff_who_are_not_system_admins_cannot_open_them(world, persona):
    user = world.user(persona)
    user.is_staff = True
    user.save()
    client = world.client(persona)
    for page in CHANGELISTS + ["/admin/events/category/add/"]:
        response = client.get(page)
        assert response.status_code == 302 and "/admin/login/" in response["Location"], page
    response = client.post("/admin/events/calendarday/add/",
                           {"date": "2027-01-01", "is_workday": "", "note": "元旦"})
    assert response.status_code == 302 and not CalendarDay.objects.exists()


def test_the_admin_sees_every_list(world, report, api_key):
    report("worker_a1")
    client = world.client("admin")
    for page in CHANGELISTS:
        assert client.get(page).status_code == 200, page
    page = client.get("/admin/events/category/").content.decode()
    assert "0102" in page and "暴露垃圾" in page and "4 工作小时" in page


def test_the_admin_adds_a_category(world):
    parent = Category.objects.get(code="01")
    response = world.client("admin").post("/admin/events/category/add/", {
        "code": "0199", "name": "违规晾晒", "parent": parent.pk, "group": parent.group,
        "dispatch_limit_minutes": 30, "handle_limit": 2, "handle_limit_unit": "work_days",
        "active": "on", "sort_order": 0})
    assert response.status_code == 302, response.content.decode()[:2000]
    category = Category.objects.get(code="0199")
    assert category.parent == parent and category.handle_limit_unit == LimitUnit.WORK_DAYS


def test_a_category_stays_two_levels(world):
    leaf = Category.objects.get(code="0102")
    response = world.client("admin").post("/admin/events/category/add/", {
        "code": "010201", "name": "三级分类", "parent": leaf.pk, "group": leaf.group,
        "dispatch_limit_minutes": 30, "handle_limit": 0, "handle_limit_unit": "work_days",
        "sort_order": 0})
    page = response.content.decode()
    assert response.status_code == 200
    assert "大类必须是一级分类,小类下不能再分。" in page and "处置时限须大于 0。" in page
    assert not Category.objects.filter(code="010201").exists()


def test_the_admin_adds_a_calendar_day_and_deadlines_follow_at_once(world):
    friday_evening = dt.datetime(2027, 1, 1, 17, 0, tzinfo=TZ)
    assert workcal.add(friday_evening, 1, LimitUnit.WORK_HOURS)[0].day == 4  # Monday
    client = world.client("admin")
    response = client.post("/admin/events/calendarday/add/",
                           {"date": "2027-01-04", "is_workday": "", "note": "元旦调休"})
    assert response.status_code == 302
    assert workcal.add(friday_evening, 1, LimitUnit.WORK_HOURS)[0].day == 5  # Tuesday
    response = client.post("/admin/events/calendaryear/add/", {"year": 2027, "note": "已录入"})
    assert response.status_code == 302 and CalendarYear.objects.filter(year=2027).exists()
    assert workcal.add(friday_evening, 1, LimitUnit.WORK_HOURS)[1] is False
    day = CalendarDay.objects.get(date=dt.date(2027, 1, 4))
    response = client.post(f"/admin/events/calendarday/{day.pk}/delete/", {"post": "yes"})
    assert response.status_code == 302
    assert workcal.add(friday_evening, 1, LimitUnit.WORK_HOURS)[0].day == 4


def test_events_timeline_and_keys_are_read_only(world, report, api_key):
    event = report("worker_a1")
    entry = TimelineEntry.objects.get(event=event)
    client = world.client("admin")
    for model in ("event", "timelineentry", "apikey"):
        assert client.get(f"/admin/events/{model}/add/").status_code == 403
    page = client.get(f"/admin/events/event/{event.pk}/change/")
    assert page.status_code == 200 and event.serial in page.content.decode()
    assert 'name="_save"' not in page.content.decode()
    response = client.post(f"/admin/events/event/{event.pk}/change/",
                           {"description": "改掉", "state": "closed"})
    assert response.status_code == 403
    assert client.post(f"/admin/events/event/{event.pk}/delete/",
                       {"post": "yes"}).status_code == 403
    assert client.post(f"/admin/events/timelineentry/{entry.pk}/delete/",
                       {"post": "yes"}).status_code == 403
    event.refresh_from_db()
    assert event.state == "reported" and Event.objects.count() == 1
    keys = client.get("/admin/events/apikey/").content.decode()
    assert "12345热线" in keys and api_key.prefix in keys and api_key.key_hash not in keys
    detail = client.get(f"/admin/events/apikey/{api_key.pk}/change/").content.decode()
    assert api_key.key_hash not in detail
