"""The event closed loop in a browser: a report on a phone through to the resident's rating,
a self-resolved report, an escalation with a red-card 督办, and an overdue event under a
frozen clock (the live server runs in this process, so it reads the same clock)."""

import datetime as dt
import io

import pytest
from PIL import Image

from gezhi.core import clock
from gezhi.events import services as s
from gezhi.events.models import Category, Event, Photo
from gezhi.events.seed import seed_categories

from .conftest import PHONE
from .helpers import click_map, log_in

pytestmark = pytest.mark.browser

IN_A1 = (35.08, 117.11)
NEAR_A1 = (35.0803, 117.1101)  # about 35 m away
TZ = dt.timezone(dt.timedelta(hours=8))
RED = "rgb(200, 16, 46)"


@pytest.fixture
def categories(bworld):
    """The seeded categories, by code: seeding again is harmless where the database as the
    migrations left it was restored, and needed where a live-server test emptied it."""
    seed_categories(Category)
    return {c.code: c for c in Category.objects.all()}


def jpeg_file(name: str, color: str) -> dict:
    buffer = io.BytesIO()
    Image.new("RGB", (64, 48), color).save(buffer, "JPEG")
    return {"name": name, "mimeType": "image/jpeg", "buffer": buffer.getvalue()}


def report_by(world, categories, name: str, where=IN_A1, **fields):
    from django.core.files.uploadedfile import SimpleUploadedFile

    photos = [SimpleUploadedFile(p["name"], p["buffer"], "image/jpeg")
              for p in fields.pop("photos", [])]
    return s.event_report(actor=world.user(name), intake=s.Intake(
        category=categories["0102"], description=fields.pop("description", "楼下垃圾堆积"),
        lat=where[0], lon=where[1], photos=photos, **fields))


def open_event(page, base_url: str, event) -> None:
    page.goto(f"{base_url}/console/events/{event.serial}/")


def do_op(page, op: str, fill=None, check=None, files=None) -> None:
    """Open an operation's form on the event page, fill it, send it and wait for the page
    to come back."""
    box = page.locator(f'details[data-op="{op}"]')
    box.locator("summary").click()
    for selector, value in (fill or {}).items():
        box.locator(selector).fill(value)
    for selector in check or ():
        box.locator(selector).check()
    for selector, value in (files or {}).items():
        box.locator(selector).set_input_files(value)
    with page.expect_navigation():
        box.locator("button[type=submit]").click()


def state(page) -> str:
    return page.inner_text("#event-state")


def test_full_journey_from_the_phone_report_to_the_residents_rating(bworld, categories,
                                                                     live_server, browse):
    url = live_server.url
    # The resident reported it first (随手拍; the resident portal has no page for it yet).
    theirs = report_by(bworld, categories, "resident", source="resident",
                       description="小区东门垃圾堆了三天", photos=[jpeg_file("r.jpg", "gray")])

    worker = browse(viewport=PHONE)
    log_in(worker, url, "worker_a1")
    worker.goto(f"{url}/console/events/report/")
    worker.select_option("#id_category", "0102")
    worker.fill("#id_description", "东门垃圾满溢,已拍照")
    worker.locator("#report-map").scroll_into_view_if_needed()
    click_map(worker, "report-map", *NEAR_A1)
    assert abs(float(worker.input_value("#id_lat")) - NEAR_A1[0]) < 0.0005
    suggestion = worker.locator("#duplicate-suggestions")
    suggestion.wait_for()
    assert theirs.serial in suggestion.inner_text()  # the reporter sees it is known already
    worker.set_input_files("#id_photos", [jpeg_file("spot.jpg", "red")])
    assert worker.locator(".photo-preview img").count() == 1
    with worker.expect_navigation():
        worker.click("#report-form button[type=submit]")
    assert "已上报" in worker.inner_text(".messages")
    mine = Event.objects.exclude(pk=theirs.pk).get()
    assert mine.grid == bworld.grid_a1 and mine.photos.count() == 1

    dispatcher = browse()
    log_in(dispatcher, url, "dispatcher_a")
    open_event(dispatcher, url, mine)
    with dispatcher.expect_navigation():
        dispatcher.click(f'#duplicates [data-serial="{theirs.serial}"] button')
    assert state(dispatcher) == "已合并"
    dispatcher.click("text=查看主事件")
    dispatcher.wait_for_url(f"**/console/events/{theirs.serial}/")
    do_op(dispatcher, "accept")
    assert state(dispatcher) == "待派遣"
    do_op(dispatcher, "dispatch")
    assert "请选择一个主办单位" in dispatcher.inner_text("#ops")  # nothing chosen yet
    box = dispatcher.locator('details[data-op="dispatch"]')
    assert box.get_attribute("open") is not None
    box.locator("select").select_option(label="北辛街道城管中队")
    with dispatcher.expect_navigation():
        box.locator("button[type=submit]").click()
    assert state(dispatcher) == "已派遣"

    handler = browse(viewport=PHONE)
    log_in(handler, url, "handler")
    open_event(handler, url, theirs)
    do_op(handler, "claim")
    assert state(handler) == "处置中"
    do_op(handler, "handle", fill={"textarea": "已清运,地面已冲洗"},
          files={"input[type=file]": [jpeg_file("after.jpg", "green")]})
    assert state(handler) == "待核查"
    result = handler.locator("#result-photos img")
    assert result.count() == 1
    # The photo loads (the server lets the handler see it); give it time on a busy machine.
    handler.wait_for_function("img => img.complete && img.naturalWidth > 0",
                              arg=result.element_handle())

    open_event(worker, url, theirs)
    do_op(worker, "verify")
    assert state(worker) == "待结案"

    open_event(dispatcher, url, theirs)
    do_op(dispatcher, "close")
    assert state(dispatcher) == "已结案"
    assert "按期结案" in dispatcher.inner_text(".event-summary")

    s.event_rate(event=Event.objects.get(pk=theirs.pk), actor=bworld.user("resident"),
                 rating="satisfied")
    dispatcher.reload()
    assert dispatcher.inner_text("#event-rating") == "评价:满意"
    steps = dispatcher.locator("#timeline [data-op]").evaluate_all(
        "items => items.map(i => i.dataset.op)")
    assert steps == ["report", "merge", "accept", "dispatch", "claim", "handle", "verify",
                     "close", "rate"]
    assert worker.errors == [] and dispatcher.errors == [] and handler.errors == []


def test_self_resolve_on_the_report_page(bworld, categories, live_server, browse):
    url = live_server.url
    page = browse(viewport=PHONE)
    log_in(page, url, "worker_a1")
    page.goto(f"{url}/console/events/report/")
    assert page.locator("#id_result").is_hidden()  # until 已自行处置 is ticked
    page.select_option("#id_category", "0105")
    page.fill("#id_description", "楼道口堆放纸箱")
    page.locator("#report-map").scroll_into_view_if_needed()
    click_map(page, "report-map", *IN_A1)
    page.check("#id_self_resolve")
    page.fill("#id_result", "已联系住户当场清走")
    page.set_input_files("#id_result_photos", [jpeg_file("done.jpg", "green")])
    with page.expect_navigation():
        page.click("#report-form button[type=submit]")
    assert "已上报并自行处置结案" in page.inner_text(".messages")
    assert state(page) == "已结案"
    assert page.locator("#result-photos img").count() == 1
    event = Event.objects.get()
    assert event.self_resolved and event.photos.get().stage == Photo.Stage.RESULT
    assert page.errors == []


def test_escalation_and_a_red_card_supervision(bworld, categories, live_server, browse):
    url = live_server.url
    event = report_by(bworld, categories, "worker_a1", description="违建影响消防通道")
    chief = browse()
    log_in(chief, url, "chief_a1")
    open_event(chief, url, event)
    do_op(chief, "escalate", fill={"textarea": "涉及多个部门,社区无法协调"})
    assert state(chief) == "待派遣"
    assert "街道" in chief.inner_text(".event-marks")
    assert chief.locator('details[data-op="dispatch"]').count() == 0  # the subdistrict's now

    leader = browse()
    log_in(leader, url, "leader_a")
    open_event(leader, url, event)
    do_op(leader, "supervise", fill={"textarea": "限三日内办结"},
          check=['input[value="3"]'])
    mark = leader.locator("#event-supervision")
    assert mark.inner_text() == "红牌督办"
    assert mark.evaluate("el => getComputedStyle(el).backgroundColor") == RED
    assert "限三日内办结" in leader.inner_text("#supervisions")

    leader.goto(f"{url}/console/events/")
    tab = leader.locator('[data-tab="supervised"]')
    assert tab.locator("span").inner_text() == "1"
    tab.click()
    row = leader.locator(f'tr[data-serial="{event.serial}"]')
    row.wait_for()
    assert "红牌督办" in row.inner_text()
    assert leader.errors == [] and chief.errors == []


def test_overdue_event_under_a_frozen_clock(bworld, categories, live_server, browse):
    url = live_server.url
    start = dt.datetime(2026, 11, 25, 9, 0, tzinfo=TZ)  # a Wednesday
    with clock.frozen(start):
        event = report_by(bworld, categories, "worker_a1")
        d = bworld.user("dispatcher_a")
        s.event_accept(event=event, actor=d)
        s.event_dispatch(event=event, actor=d, department=bworld.department)
    # Deadline 14:30 (4 working hours with the lunch break); the next morning it is overdue.
    clock.freeze(start + dt.timedelta(days=1))
    try:
        page = browse(viewport=PHONE)
        log_in(page, url, "dispatcher_a")
        page.goto(f"{url}/console/events/?tab=overdue")
        row = page.locator(f'tr[data-serial="{event.serial}"]')
        row.wait_for()
        late = row.locator(".deadline")
        assert late.inner_text() == "超期 3 小时"
        assert late.evaluate("el => getComputedStyle(el).color") == RED
        assert page.locator('[data-tab="overdue"] span').inner_text() == "1"

        row.locator("a").first.click()
        page.wait_for_url(f"**/console/events/{event.serial}/")
        remaining = page.locator("#event-remaining")
        assert remaining.inner_text().startswith("超期")
        assert remaining.evaluate("el => getComputedStyle(el).color") == RED

        page.goto(f"{url}/console/map/")
        mark = page.locator("#situation-map path.event-mark--overdue")
        mark.wait_for()
        assert mark.get_attribute("fill") == "#c8102e"
        assert "超期 1 件" in page.inner_text("#event-layer")
        page.uncheck("#event-layer [data-event-show]")
        assert page.locator("#situation-map path.event-mark").count() == 0
        assert page.errors == []
    finally:
        clock.freeze(None)
