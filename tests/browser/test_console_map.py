import pytest

from .helpers import log_in

pytestmark = pytest.mark.browser


def test_situation_map_draws_the_visible_grids_with_popups(bworld, live_server, browse):
    page = browse()
    log_in(page, live_server.url, "dispatcher_a")
    page.goto(f"{live_server.url}/console/map/")
    paths = page.locator("#situation-map .leaflet-overlay-pane path")
    paths.first.wait_for()
    # dispatcher_a sees the two grids of subdistrict A, not B-1.
    assert paths.count() == 2
    assert page.locator(".grid-list__item").count() == 2

    paths.nth(1).click()
    popup = page.locator(".leaflet-popup-content")
    popup.wait_for()
    assert "文化路第二网格" in popup.inner_text()
    assert bworld.grid_a2.code in popup.inner_text()
    assert page.errors == []


def test_admin_sees_every_grid_and_can_filter_by_community(bworld, live_server, browse):
    page = browse()
    log_in(page, live_server.url, "admin")
    page.goto(f"{live_server.url}/console/map/")
    paths = page.locator("#situation-map .leaflet-overlay-pane path")
    paths.first.wait_for()
    assert paths.count() == 3

    page.select_option("#community", bworld.comm_b1.code)
    page.wait_for_url(f"**/console/map/?community={bworld.comm_b1.code}*")  # and &tag=
    paths.first.wait_for()
    assert paths.count() == 1
    paths.first.click()
    assert "荆河第一网格" in page.locator(".leaflet-popup-content").inner_text()


def test_region_tree_expands_with_htmx(bworld, live_server, browse):
    page = browse()
    log_in(page, live_server.url, "dispatcher_a")
    page.goto(f"{live_server.url}/console/regions/")
    page.click(f'[data-code="{bworld.sub_a.code}"] > details > summary')
    community = page.locator(f'[data-code="{bworld.comm_a1.code}"]')
    community.wait_for()
    community.locator("summary").first.click()
    page.locator(f'[data-code="{bworld.grid_a2.code}"]').wait_for()
    assert "文化路第二网格" in page.inner_text(".tree")
    assert page.errors == []
