"""The resident portal on a phone: sign in with a text-message code, report a problem with a
photo and the phone's position, follow it until staff close it, and rate it; an anonymous
report with a contact placed by a tap on the map; the 长者版 switch."""

import io
import os
import re

import pytest
from PIL import Image

from gezhi.events.models import Category, Event, Rating
from gezhi.events.seed import seed_categories
from gezhi.notify.models import Message
from gezhi.portal.tests.conftest import close_event

from .conftest import PHONE
from .helpers import click_map

pytestmark = pytest.mark.browser

IN_A1 = (35.08, 117.11)
RESIDENT_PHONE = "13812345678"


@pytest.fixture
def portal_world(bworld):
    seed_categories(Category)  # see test_events.categories
    return bworld


def phone_page(browse, **options):
    return browse(viewport=PHONE, is_mobile=True, has_touch=True, **options)


def big_photo() -> dict:
    """A 2400×1800 camera-sized photo (noise, so JPEG cannot shrink it much by itself)."""
    image = Image.frombytes("RGB", (2400, 1800), os.urandom(2400 * 1800 * 3))
    buffer = io.BytesIO()
    image.save(buffer, "JPEG", quality=95)
    return {"name": "IMG_0001.jpg", "mimeType": "image/jpeg", "buffer": buffer.getvalue()}


def login_code() -> str:
    message = Message.objects.filter(kind="login_code").order_by("-id").first()
    return re.search(r"\d{6}", message.text).group(0)


def no_sideways_scrolling(page) -> None:
    assert page.evaluate("document.scrollingElement.scrollWidth") <= PHONE["width"]


def test_resident_signs_in_reports_follows_and_rates(portal_world, live_server, browse):
    url = live_server.url
    page = phone_page(browse, geolocation={"latitude": IN_A1[0], "longitude": IN_A1[1]},
                      permissions=["geolocation"])
    page.goto(f"{url}/my/")
    page.wait_for_url(f"{url}/login/?next=/my/")
    no_sideways_scrolling(page)
    page.fill("#login-phone", RESIDENT_PHONE)
    page.click("text=获取验证码")
    page.locator("#login-code").wait_for()
    assert "验证码已发送至 138****5678" in page.inner_text("main")
    # The resend button counts down (the server allows a new code after 60 s).
    assert page.locator("#resend").is_disabled()
    assert "秒后可重新获取" in page.inner_text("#resend")
    page.fill("#login-code", login_code())
    page.click("button:has-text('登录')")
    page.wait_for_url(f"{url}/my/")
    assert "注册成功" in page.inner_text(".flash")

    page.click(".portal-nav >> text=随手拍")
    page.wait_for_url(f"{url}/report/")
    original = big_photo()
    page.set_input_files("#report-photos", files=[original])
    page.wait_for_function(
        "document.getElementById('photos-status').textContent.includes('已选择 1 张照片')")
    sent = page.evaluate("(() => { const f = document.getElementById('report-photos')"
                         ".files[0]; return [f.size, f.type, f.name]; })()")
    assert sent[0] < len(original["buffer"]) and sent[1] == "image/jpeg"  # compressed first
    assert page.locator("#photo-previews img").count() == 1

    page.click("#use-location")
    page.wait_for_function("document.getElementById('location-status').textContent"
                           ".includes('文化路第一网格')")
    assert page.locator("#report-map path.map-point").count() == 1
    page.select_option("#report-category", "0102")
    page.fill("#report-description", "小区东门垃圾堆了三天")
    page.click("#report-submit")
    page.wait_for_url(re.compile(r".*/my/370481-\d{8}-\d{4}/$"))
    event = Event.objects.get()
    assert f"编号 {event.serial}" in page.inner_text(".flash")
    assert event.reporter.resident_account.phone_mask == "138****5678"
    assert abs(event.lat - IN_A1[0]) < 1e-6 and abs(event.lon - IN_A1[1]) < 1e-6
    photo = event.photos.get()
    assert max(photo.width, photo.height) == 1600
    assert page.locator(".photo-grid img").count() == 1
    assert page.evaluate("document.querySelector('.photo-grid img').naturalWidth") == 1600

    close_event(event, portal_world)  # staff do their part
    page.reload()
    assert "已结案" in page.inner_text(".report-facts")
    steps = page.locator(".steps__text").all_inner_texts()
    assert steps[0] == "您反映了该问题,已登记。" and steps[-1] == "已办结。"
    assert "内部" not in page.inner_text("main")
    page.check("input[name=rating][value=satisfied]")
    page.fill("#rating-note", "很快就清理了")
    with page.expect_navigation():
        page.click("text=提交评价")
    assert "感谢您的评价。" in page.inner_text(".flash")
    assert page.locator("#rate").count() == 0
    event.refresh_from_db()
    assert event.rating == Rating.SATISFIED
    no_sideways_scrolling(page)

    page.goto(f"{url}/my/")
    assert "已结案" in page.inner_text(".report-card")
    assert "樊荣" in page.inner_text("#my-grid")  # my grid's published staff
    no_sideways_scrolling(page)
    assert page.errors == []


def test_anonymous_report_by_a_tap_on_the_map(portal_world, live_server, browse):
    url = live_server.url
    page = phone_page(browse)
    page.goto(f"{url}/report/")
    page.locator("#report-map.leaflet-container").scroll_into_view_if_needed()
    click_map(page, "report-map", *IN_A1)
    page.wait_for_function("document.getElementById('location-status').textContent"
                           ".includes('文化路第一网格')")
    page.select_option("#report-category", "1102")
    page.fill("#report-description", "楼道灯不亮")
    page.click("#report-submit")
    # No contact phone: the form says so, and keeps what was typed.
    page.locator("#report-errors").wait_for()
    assert "请留下手机号" in page.inner_text("#report-errors")
    assert page.input_value("#report-description") == "楼道灯不亮"
    assert not Event.objects.exists()

    page.locator("#report-map.leaflet-container").wait_for()
    page.wait_for_function("document.getElementById('location-status').textContent"
                           ".includes('文化路第一网格')")  # the point was kept
    page.fill("#report-contact-name", "王先生")
    page.fill("#report-contact-phone", "13906321234")
    page.click("#report-submit")
    page.wait_for_url(re.compile(r".*/follow/[\w-]{32,}/$"))
    event = Event.objects.get()
    assert event.reporter is None and event.contact_phone_mask == "139****1234"
    assert event.grid == portal_world.grid_a1
    assert event.serial in page.inner_text(".report-facts")
    assert page.input_value("#follow-url") == page.url
    assert page.errors == []


def test_elder_mode_switch_persists_and_enlarges_text(portal_world, live_server, browse):
    url = live_server.url
    page = phone_page(browse)
    page.goto(f"{url}/")
    page.keyboard.press("Tab")  # the first stop is the skip link, and it shows
    assert page.evaluate("document.activeElement.className") == "skip-link"
    assert page.locator(".skip-link").bounding_box()["y"] >= 0

    def text_size() -> float:
        return page.evaluate("parseFloat(getComputedStyle(document.querySelector('.intro p'))"
                             ".fontSize)")

    def heading_size() -> float:
        return page.evaluate("parseFloat(getComputedStyle(document.querySelector('h1'))"
                             ".fontSize)")

    before, heading_before = text_size(), heading_size()
    switch = page.locator(".elder-switch button")
    assert switch.get_attribute("aria-pressed") == "false"
    switch.click()
    page.wait_for_load_state()
    page.locator(".elder-switch button[aria-pressed=true]").wait_for()
    assert text_size() >= before * 1.2 and heading_size() >= heading_before * 1.2
    assert "elder" in page.get_attribute("body", "class")
    assert page.evaluate("getComputedStyle(document.body).color") == "rgb(0, 0, 0)"
    no_sideways_scrolling(page)

    page.click(".portal-nav >> text=随手拍")
    page.wait_for_url(f"{url}/report/")
    assert page.locator(".elder-switch button").get_attribute("aria-pressed") == "true"
    assert page.evaluate("parseFloat(getComputedStyle(document.querySelector('.intro p'))"
                         ".fontSize)") >= before * 1.2
    no_sideways_scrolling(page)
    page.reload()
    assert "elder" in page.get_attribute("body", "class")

    page.locator(".elder-switch button").click()
    page.wait_for_load_state()
    page.locator(".elder-switch button[aria-pressed=false]").wait_for()
    assert "elder" not in page.get_attribute("body", "class")
    assert page.errors == []
