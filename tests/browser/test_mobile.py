"""The grid worker's mobile workbench (/m/) on a phone: reporting with photo and GPS, the
offline outbox (reload, close and reopen, come back online: exactly one event with its photo,
however often it is sent), a session that ends while offline, no GPS permission, a report the
server refuses and the worker corrects, a household visit, a diary entry and a patrol.

The phone is a Chromium context with the service worker allowed. `context.set_offline`
reaches the service worker's own requests too (checked with Playwright 1.65: its fetches fail,
and pages come from its cache), so "offline" here holds for every request the pages and the
worker make."""

import datetime as dt
import uuid

import pytest

from conftest import PASSWORD
from gezhi.events.models import Category, Event, Photo, State
from gezhi.events.seed import seed_categories
from gezhi.fieldwork.models import DiaryEntry, Patrol, Visit, VisitRule
from gezhi.people.models import Tag

from .conftest import PHONE
from .helpers import click_map

pytestmark = pytest.mark.browser

IN_A1 = (35.08, 117.11)
ELSEWHERE_IN_A1 = (35.07, 117.105)
IN_A2 = (35.08, 117.125)  # the next grid, not the worker's
SHELL_PAGES = 8  # gezhi.mobile.shell.PAGES


# --- Helpers (test_mobile_load.py uses them too) -------------------------------------------


def phone(browse, *, gps=IN_A1, allow_gps=True, **options):
    """A phone-sized browser context with the service worker allowed and, unless
    `allow_gps` is false, permission to read its (emulated) position."""
    options.setdefault("service_workers", "allow")
    if gps is not None:
        options["geolocation"] = {"latitude": gps[0], "longitude": gps[1], "accuracy": 12}
    if allow_gps:
        options["permissions"] = ["geolocation"]
    return browse(viewport=PHONE, **options)


def fill_login(page, username: str) -> None:
    page.fill("#id_username", username)
    page.fill("#id_password", PASSWORD)
    page.click("main form button[type=submit]")


def log_in(page, base_url: str, username: str) -> None:
    page.goto(f"{base_url}/accounts/login/?next=/m/")
    fill_login(page, username)
    page.wait_for_url(f"{base_url}/m/")


def shell_ready(page) -> None:
    """The service worker controls the page and keeps every shell page."""
    page.wait_for_function("navigator.serviceWorker.controller !== null")
    page.wait_for_function(
        """n => caches.open("gezhi-m-pages").then(c => c.keys())
                 .then(keys => { window._kept = keys.length; }) && window._kept >= n""",
        arg=SHELL_PAGES, polling=200)


def outbox(page) -> list[dict]:
    """The outbox entries on the phone (their photos counted, not read)."""
    return page.evaluate("""GezhiOutbox.all().then(entries => entries.map(e => ({
        id: e.id, kind: e.kind, status: e.status, message: e.message, user: e.user,
        fields: e.fields, photos: Object.values(e.files || {}).reduce((n, l) => n + l.length, 0)
    })))""")


def wait_outbox_empty(page) -> None:
    page.wait_for_function("GezhiOutbox.all().then(e => { window._left = e.length; }) "
                           "&& window._left === 0", polling=200)


def jpeg(name: str, size=(64, 48), colour="red") -> dict:
    import io

    from PIL import Image

    buffer = io.BytesIO()
    Image.new("RGB", size, colour).save(buffer, "JPEG", quality=95)
    return {"name": name, "mimeType": "image/jpeg", "buffer": buffer.getvalue()}


def add_photo(page, picker: str, photo: dict, count: int = 1) -> None:
    """Choose a photo in a picker ("photos", "result_photos") and wait until it has been
    compressed and shown (`count` photos in that picker then)."""
    page.set_input_files(f"#{picker}-pick", [photo])
    page.locator(f"#{picker}-picker .photos__item").nth(count - 1).wait_for()


def fill_report(page, *, category="0102", description="东门垃圾满溢", photo=None) -> None:
    if photo is not None:
        add_photo(page, "photos", photo)
    page.select_option("#id_category", category)
    page.fill("#id_description", description)


def status(page, text: str) -> str:
    """Wait for the form's status line to say `text`; return all of it."""
    line = page.locator(".form-status")
    line.filter(has_text=text).wait_for()
    return line.inner_text()


@pytest.fixture
def categories(bworld):
    """The seeded categories (a live-server test empties the tables; see test_events.py)."""
    seed_categories(Category)
    return {c.code: c for c in Category.objects.all()}


# --- Report online -------------------------------------------------------------------------


def test_report_with_photo_and_gps_online(bworld, categories, live_server, browse):
    url = live_server.url
    page = phone(browse)
    log_in(page, url, "worker_a1")
    page.click(".tabs >> text=上报")
    page.wait_for_url(f"{url}/m/report/")
    # The phone's position, and the grid found for it on the phone.
    page.locator("#grid-name", has_text="文化路第一网格").wait_for()
    assert abs(float(page.input_value("[name=lat]")) - IN_A1[0]) < 1e-6
    assert "精度约 12 米" in page.inner_text("#where")
    # A 3000×2000 camera photo is made 1600 px on its long side on the phone.
    big = jpeg("IMG_0001.jpg", size=(3000, 2000), colour="orange")
    fill_report(page, description="东门垃圾满溢,已拍照", photo=big)
    assert int(page.get_attribute("#photos-picker .photos__item", "data-size")) < len(big["buffer"])
    page.click("#report-form button[type=submit]")
    said = status(page, "已上传")
    event = Event.objects.get()
    assert f"已上传,事件编号 {event.serial}" in said
    assert event.grid == bworld.grid_a1 and event.reporter == bworld.user("worker_a1")
    assert (event.lat, event.lon) == IN_A1
    photo = event.photos.get()
    assert (photo.width, photo.height, photo.stage) == (1600, 1067, Photo.Stage.REPORT)
    assert outbox(page) == []
    # The form is ready for the next one, with the category just used offered first.
    assert page.input_value("#id_description") == ""
    assert page.locator("#recent-categories .chip").all_inner_texts() == [
        categories["0102"].name]
    assert page.errors == []


def test_self_resolved_report_with_a_result_photo(bworld, categories, live_server, browse):
    url = live_server.url
    page = phone(browse)
    log_in(page, url, "worker_a1")
    page.goto(f"{url}/m/report/")
    page.locator("#grid-name", has_text="文化路第一网格").wait_for()
    assert page.locator("#id_result").is_hidden()
    fill_report(page, category="0105", description="楼道口堆放纸箱", photo=jpeg("a.jpg"))
    page.check("#id_self_resolve")
    page.fill("#id_result", "已联系住户当场清走")
    add_photo(page, "result_photos", jpeg("done.jpg", colour="green"))
    page.click("#report-form button[type=submit]")
    status(page, "已上传")
    event = Event.objects.get()
    assert event.self_resolved and event.state == State.CLOSED
    assert sorted(event.photos.values_list("stage", flat=True)) == sorted(
        [Photo.Stage.REPORT, Photo.Stage.RESULT])


# --- Offline -------------------------------------------------------------------------------


def test_report_offline_survives_reload_and_close_and_arrives_once(bworld, categories,
                                                                  live_server, browse):
    url = live_server.url
    page = phone(browse)
    context = page.context
    log_in(page, url, "worker_a1")
    shell_ready(page)

    context.set_offline(True)
    page.goto(f"{url}/m/report/")  # from the phone's cache
    assert page.locator("#net-banner").is_visible()
    page.locator("#grid-name", has_text="文化路第一网格").wait_for()  # found on the phone
    fill_report(page, description="地下室积水(离线记录)", photo=jpeg("water.jpg", colour="blue"))
    page.click("#report-form button[type=submit]")
    assert "联网后自动上传" in status(page, "待上传")
    [entry] = outbox(page)
    assert (entry["kind"], entry["status"], entry["photos"]) == ("event", "pending", 1)
    assert page.inner_text("#outbox-count") == "1"

    page.reload()  # still offline
    page.click(".tabs >> text=待上传")
    item = page.locator(f'#outbox-list li[data-id="{entry["id"]}"]')
    assert "待上传" in item.inner_text() and "地下室积水" in item.inner_text()
    page.close()  # the worker closes the app

    assert Event.objects.count() == 0
    reopened = context.new_page()
    reopened.errors = []
    reopened.on("pageerror", lambda error: reopened.errors.append(str(error)))
    reopened.goto(f"{url}/m/outbox/")
    reopened.locator(f'#outbox-list li[data-id="{entry["id"]}"]').wait_for()
    context.set_offline(False)  # back in signal: sent without the worker doing anything
    wait_outbox_empty(reopened)
    event = Event.objects.get()
    assert str(event.client_id) == entry["id"]
    assert event.description == "地下室积水(离线记录)" and event.grid == bworld.grid_a1
    assert event.photos.count() == 1
    reopened.locator("#sent-list li", has_text=event.serial).wait_for()

    # The same entry sent again (a second phone tab, a retry after a lost answer): still one.
    reopened.evaluate("""([id, fields]) => GezhiOutbox.add("event", fields, {id: id})
                         .then(() => GezhiOutbox.flush())""", [entry["id"], entry["fields"]])
    wait_outbox_empty(reopened)
    assert Event.objects.count() == 1 and Photo.objects.count() == 1
    assert reopened.errors == []


def test_an_upload_cut_off_halfway_is_retried_without_a_duplicate(bworld, categories,
                                                                  live_server, browse):
    url = live_server.url
    page = phone(browse)
    log_in(page, url, "worker_a1")
    page.goto(f"{url}/m/report/")
    page.locator("#grid-name", has_text="文化路第一网格").wait_for()
    cut = []

    def lose_the_answer(route):
        # The server receives and stores the report; the answer never reaches the phone.
        route.fetch()
        cut.append(route.request.url)
        route.abort("connectionreset")

    page.route("**/api/v1/events/with-photos", lose_the_answer, times=1)
    fill_report(page, description="井盖缺失", photo=jpeg("hole.jpg"))
    page.click("#report-form button[type=submit]")
    status(page, "待上传")
    assert cut and Event.objects.count() == 1  # stored, but the phone does not know
    [entry] = outbox(page)
    assert entry["status"] == "pending"
    page.click(".tabs >> text=待上传")
    page.click("#outbox-send")
    wait_outbox_empty(page)
    assert Event.objects.count() == 1 and Photo.objects.count() == 1
    assert str(Event.objects.get().client_id) == entry["id"]


def test_session_expired_while_offline_waits_for_the_next_login(bworld, categories,
                                                               live_server, browse):
    url = live_server.url
    page = phone(browse)
    context = page.context
    log_in(page, url, "worker_a1")
    shell_ready(page)
    context.set_offline(True)
    page.goto(f"{url}/m/report/")
    context.clear_cookies(name="sessionid")  # the session ends while the worker is offline
    fill_report(page, description="路灯不亮", photo=jpeg("lamp.jpg", colour="gray"))
    page.click("#report-form button[type=submit]")
    status(page, "待上传")

    context.set_offline(False)
    banner = page.locator("#auth-banner")
    banner.wait_for()
    assert "请重新登录后自动上传" in banner.inner_text()
    [entry] = outbox(page)
    assert entry["status"] == "auth" and Event.objects.count() == 0

    banner.locator("a").click()
    page.wait_for_url(f"{url}/accounts/login/?next=/m/")
    fill_login(page, "worker_a1")
    page.wait_for_url(f"{url}/m/")
    wait_outbox_empty(page)
    event = Event.objects.get()
    assert event.reporter == bworld.user("worker_a1") and event.photos.count() == 1
    assert page.locator("#auth-banner").is_hidden()


def test_entries_of_one_worker_are_not_sent_as_another(bworld, categories, live_server,
                                                       browse):
    url = live_server.url
    page = phone(browse)
    context = page.context
    log_in(page, url, "worker_a1")
    shell_ready(page)
    context.set_offline(True)
    page.goto(f"{url}/m/report/")
    fill_report(page, description="樊荣的离线记录")
    page.click("#report-form button[type=submit]")
    status(page, "待上传")
    context.clear_cookies(name="sessionid")
    context.set_offline(False)
    page.locator("#auth-banner").wait_for()

    log_in(page, url, "chief_a1")  # another worker picks up the phone
    page.goto(f"{url}/m/outbox/")
    item = page.locator("#outbox-list li")
    item.filter(has_text="请该账号登录后上传").wait_for()
    assert "worker_a1" in item.inner_text()
    page.evaluate("GezhiOutbox.flush()")
    assert Event.objects.count() == 0
    page.click("#logout-form button")  # 退出: the kept pages go, the outbox stays
    page.wait_for_url(f"{url}/accounts/login/**")
    assert page.evaluate("caches.has('gezhi-m-pages')") is False

    log_in(page, url, "worker_a1")
    wait_outbox_empty(page)
    assert Event.objects.get().reporter == bworld.user("worker_a1")


# --- No GPS, a refused report --------------------------------------------------------------


def test_without_gps_permission_the_worker_places_the_point(bworld, categories, live_server,
                                                            browse):
    url = live_server.url
    page = phone(browse, allow_gps=False)
    log_in(page, url, "worker_a1")
    page.goto(f"{url}/m/report/")
    where = page.locator("#where", has_text="没有定位权限")
    where.wait_for()
    assert "请在地图上点选" in where.inner_text()
    fill_report(page, description="绿地被占")
    page.click("#report-form button[type=submit]")
    assert "请先确定事件位置" in status(page, "请先确定事件位置")
    assert outbox(page) == []

    page.locator("#report-map").scroll_into_view_if_needed()
    click_map(page, "report-map", *IN_A2)  # not the worker's grid: refused on the phone
    page.locator("#grid-name", has_text="不在您负责的网格内").wait_for()
    page.click("#report-form button[type=submit]")
    status(page, "不在您可以上报的网格内")

    page.locator("#report-map").scroll_into_view_if_needed()
    click_map(page, "report-map", *ELSEWHERE_IN_A1)
    page.locator("#grid-name", has_text="文化路第一网格").wait_for()
    page.click("#report-form button[type=submit]")
    status(page, "已上传")
    event = Event.objects.get()
    assert event.grid == bworld.grid_a1
    assert abs(event.lat - ELSEWHERE_IN_A1[0]) < 0.0005
    assert abs(event.lon - ELSEWHERE_IN_A1[1]) < 0.0005


def test_a_report_the_server_refuses_is_kept_to_correct(bworld, categories, live_server,
                                                       browse):
    url = live_server.url
    page = phone(browse)
    log_in(page, url, "worker_a1")
    shell_ready(page)  # the service worker's page fetches are done (SQLite: one writer)
    page.goto(f"{url}/m/report/")
    page.locator("#grid-name", has_text="文化路第一网格").wait_for()
    Category.objects.filter(code="0102").update(active=False)  # withdrawn meanwhile
    fill_report(page, description="东门垃圾满溢", photo=jpeg("x.jpg"))
    page.click("#report-form button[type=submit]")
    assert "分类不存在或已停用" in status(page, "上传失败")
    [entry] = outbox(page)
    assert entry["status"] == "failed" and entry["photos"] == 1

    page.click(".tabs >> text=待上传")
    item = page.locator(f'#outbox-list li[data-id="{entry["id"]}"]')
    assert "上传失败" in item.inner_text()
    page.reload()  # failed entries are not sent again by themselves
    item.wait_for()
    assert Event.objects.count() == 0
    item.locator("text=修改").click()
    page.wait_for_url(f"{url}/m/report/?edit={entry['id']}")
    page.locator(".form-status", has_text="分类不存在或已停用").wait_for()
    assert page.input_value("#id_description") == "东门垃圾满溢"
    assert page.locator("#photos-picker .photos__item").count() == 1
    assert page.input_value("[name=lat]") != ""
    page.select_option("#id_category", "0105")
    page.click("#report-form button[type=submit]")
    status(page, "已上传")
    event = Event.objects.get()
    assert event.category.code == "0105" and str(event.client_id) == entry["id"]
    assert event.photos.count() == 1


def test_a_photo_that_is_not_an_image_is_not_added(bworld, categories, live_server, browse):
    url = live_server.url
    page = phone(browse)
    log_in(page, url, "worker_a1")
    page.goto(f"{url}/m/report/")
    page.set_input_files("#photos-pick", [{"name": "notes.jpg", "mimeType": "image/jpeg",
                                           "buffer": b"not a picture at all"}])
    error = page.locator("#photos-picker .photos__error")
    error.wait_for()
    assert "notes.jpg" in error.inner_text() and "不是可以识别的图片" in error.inner_text()
    assert page.locator("#photos-picker .photos__item").count() == 0


# --- Visits, diary, patrol -----------------------------------------------------------------


def test_a_visit_to_a_tagged_household(bworld, base, live_server, browse):
    VisitRule.objects.update_or_create(tag=Tag.objects.get(code="lone_elderly"),
                                       defaults={"interval_days": 7})
    url = live_server.url
    page = phone(browse)
    log_in(page, url, "worker_a1")
    due = page.locator(f'#due li[data-house="{base.house_a1.pk}"]')
    assert "独居老人" in due.inner_text() and "从未走访" in due.inner_text()
    due.locator("a").click()
    page.wait_for_url(f"{url}/m/houses/{base.house_a1.pk}/")
    assert "张桂兰" in page.inner_text("#residents")
    page.click("[data-open-visit]")
    page.check("input[name=outcome][value=met]")
    page.check(f"input[name=people_met][value='{base.zhang_a1.pk}']")
    page.fill("#id_needs", "想申请助餐服务")
    page.fill("#id_follow_ups", "联系社区食堂")
    add_photo(page, "photos", jpeg("visit.jpg", colour="yellow"))
    page.click("#visit-form button[type=submit]")
    status(page, "已上传")
    visit = Visit.objects.get()
    assert visit.house == base.house_a1 and visit.visitor == bworld.user("worker_a1")
    assert list(visit.people_met.all()) == [base.zhang_a1]
    assert visit.needs == "想申请助餐服务" and visit.photos.count() == 1
    assert (visit.lat, visit.lon) == IN_A1

    page.click(".tabs >> text=今日")
    page.wait_for_url(f"{url}/m/")
    assert page.locator(f'#due li[data-house="{base.house_a1.pk}"]').count() == 0
    assert page.locator("#due-none").is_visible()
    page.goto(f"{url}/m/houses/{base.house_a1.pk}/")
    assert "想申请助餐服务" in page.inner_text("#visits")
    assert page.errors == []


def test_a_due_household_can_be_visited_offline(bworld, base, live_server, browse):
    """The tasks page has the phone keep the pages of the households due, so the worker can
    record the visit in a basement; the visit keeps the time it was recorded."""
    VisitRule.objects.update_or_create(tag=Tag.objects.get(code="lone_elderly"),
                                       defaults={"interval_days": 7})
    url = live_server.url
    page = phone(browse)
    log_in(page, url, "worker_a1")
    shell_ready(page)
    page.reload()  # now under the service worker: it keeps the due households' pages
    house_url = f"{url}/m/houses/{base.house_a1.pk}/"
    page.wait_for_function("""url => caches.open("gezhi-m-pages").then(c => c.match(url))
                              .then(hit => { window._hit = !!hit; }) && window._hit""",
                           arg=house_url, polling=200)
    page.context.set_offline(True)
    page.click(f'#due li[data-house="{base.house_a1.pk}"] a')
    page.wait_for_url(house_url)
    page.click("[data-open-visit]")
    page.check("input[name=outcome][value=nobody]")
    page.click("#visit-form button[type=submit]")
    status(page, "待上传")
    [entry] = outbox(page)
    recorded = dt.datetime.fromisoformat(entry["fields"]["visited_at"].replace("Z", "+00:00"))
    page.context.set_offline(False)
    wait_outbox_empty(page)
    visit = Visit.objects.get()
    assert visit.outcome == "nobody" and visit.house == base.house_a1
    assert visit.visited_at == recorded


def test_a_diary_entry_with_a_photo_becomes_an_event(bworld, categories, live_server, browse):
    url = live_server.url
    page = phone(browse)
    log_in(page, url, "worker_a1")
    page.click("text=民情日记")
    page.wait_for_url(f"{url}/m/diary/")
    page.fill("#id_place", "善国盛景东门")
    page.fill("#id_text", "居民反映东门路灯坏了一周")
    add_photo(page, "photos", jpeg("lamp.jpg"))
    page.select_option("#id_event_category", "0105")
    page.click("#diary-form button[type=submit]")
    status(page, "已上传")
    entry = DiaryEntry.objects.get()
    assert entry.author == bworld.user("worker_a1") and entry.grid == bworld.grid_a1
    assert entry.photos.count() == 1 and entry.place == "善国盛景东门"
    assert entry.event is not None and entry.event.category.code == "0105"
    page.reload()
    assert "居民反映东门路灯坏了一周" in page.inner_text("#diary-entries")


def test_a_patrol_records_its_route(bworld, live_server, browse):
    url = live_server.url
    page = phone(browse)
    log_in(page, url, "worker_a1")
    page.click("text=巡查")
    page.wait_for_url(f"{url}/m/patrol/")
    page.click("#patrol-start")
    page.locator("#patrol-status", has_text="已记录 1 个点").wait_for()
    page.context.set_geolocation({"latitude": 35.0805, "longitude": 117.1105})  # ~70 m on
    page.locator("#patrol-status", has_text="已记录 2 个点").wait_for()
    page.reload()  # the patrol goes on after a reload
    page.locator("#patrol-status", has_text="已记录 2 个点").wait_for()
    page.context.set_geolocation({"latitude": 35.081, "longitude": 117.111})
    page.locator("#patrol-status", has_text="已记录 3 个点").wait_for()
    page.fill("#patrol-note-text", "东门一带正常")
    page.click("#patrol-stop")
    page.locator("#patrol-status", has_text="巡查已结束").wait_for()
    wait_outbox_empty(page)
    patrol = Patrol.objects.get()
    assert patrol.worker == bworld.user("worker_a1") and patrol.ended_at is not None
    assert [p[:2] for p in patrol.track] == [[35.08, 117.11], [35.0805, 117.1105],
                                             [35.081, 117.111]]
    assert 100 < patrol.distance_m < 200 and patrol.note == "东门一带正常"
    page.reload()
    page.click(f'[data-track="{patrol.client_id}"]')
    assert page.evaluate("document.getElementById('patrol-map')._gezhiMap !== undefined")
    assert uuid.UUID(str(patrol.client_id))
