import pytest

from .helpers import click_map

pytestmark = pytest.mark.browser

# Inside grid A-1 (117.10–117.12, 35.06–35.10); between subdistricts A and B, outside every grid.
INSIDE_A1 = (35.08, 117.11)
OUTSIDE = (35.08, 117.17)


def staff_names(page) -> list[str]:
    return page.locator("#lookup-result .staff-card__name").all_inner_texts()


def test_address_search_shows_staff_cards(bworld, live_server, browse):
    page = browse()
    page.goto(f"{live_server.url}/")
    page.fill("#address-q", "善国盛景")
    page.press("#address-q", "Enter")
    page.locator("#lookup-result .staff-card").first.wait_for()
    assert "文化路第一网格" in page.inner_text("#lookup-result")
    assert set(staff_names(page)) == {"樊荣", "刘合贵"}
    assert page.get_attribute("#lookup-result .staff-card__phone a", "href").startswith("tel:")


def test_click_on_the_map_finds_the_grid_staff(bworld, live_server, browse):
    page = browse()
    page.goto(f"{live_server.url}/")
    page.locator("#lookup-map .leaflet-overlay-pane path").first.wait_for()
    click_map(page, "lookup-map", *INSIDE_A1)
    page.locator("#lookup-result .staff-card").first.wait_for()
    assert "樊荣" in staff_names(page)
    assert "文化路第一网格" in page.inner_text("#lookup-result h3")
    # The point and the found grid's outline are drawn on the map.
    assert page.locator("#lookup-map path.map-point").count() == 1
    assert page.locator("#lookup-map path.map-found").count() == 1
    assert page.errors == []


def test_my_location_finds_the_grid_staff(bworld, live_server, browse):
    page = browse(geolocation={"latitude": INSIDE_A1[0], "longitude": INSIDE_A1[1]},
                  permissions=["geolocation"])
    page.goto(f"{live_server.url}/")
    page.click("#use-location")
    page.locator("#lookup-result .staff-card").first.wait_for()
    assert "樊荣" in staff_names(page)


def test_refused_geolocation_says_so(bworld, live_server, browse):
    page = browse()  # no geolocation permission granted
    page.goto(f"{live_server.url}/")
    page.click("#use-location")
    message = page.locator("#lookup-result .alert--warn")
    message.wait_for()
    assert "未允许定位" in message.inner_text()


def test_point_outside_every_grid_says_so(bworld, live_server, browse):
    page = browse()
    page.goto(f"{live_server.url}/")
    page.locator("#lookup-map .leaflet-overlay-pane path").first.wait_for()
    click_map(page, "lookup-map", *OUTSIDE)
    message = page.locator("#lookup-result .alert--warn")
    message.wait_for()
    assert "不在任何网格内" in message.inner_text()
    assert staff_names(page) == []


def test_phone_screen_has_no_horizontal_scrolling(bworld, live_server, browse):
    page = browse(viewport={"width": 375, "height": 740}, is_mobile=True, has_touch=True,
                  device_scale_factor=2)
    page.goto(f"{live_server.url}/?q=善国盛景")
    page.locator("#lookup-result .staff-card").first.wait_for()
    assert page.evaluate("document.scrollingElement.scrollWidth") <= 375
    page.goto(f"{live_server.url}/accounts/login/")
    assert page.evaluate("document.scrollingElement.scrollWidth") <= 375
