"""The paper 楼栋图 in a browser (on a phone), and revealing a number on a person's page."""

import pytest

from gezhi.accounts.models import AccessAction, AccessLog
from gezhi.people.services import tags_ensure

from .conftest import PHONE
from .helpers import click_map, log_in

pytestmark = pytest.mark.browser


@pytest.fixture
def tags(bworld):
    """The seeded tag kinds: a live-server test empties every table after it, migration rows
    included, so the next test seeds them again before `base` uses them."""
    tags_ensure()


def test_building_cells_lead_to_the_house_page_on_a_phone(bworld, tags, base, live_server, browse):
    page = browse(viewport=PHONE)
    log_in(page, live_server.url, "worker_a1")
    page.goto(f"{live_server.url}/console/places/buildings/{base.building_a1.pk}/")
    grid = page.locator("#building-cells")
    grid.wait_for()
    assert grid.locator("tbody tr").count() == 3  # floors 3, 2, 1
    cells = grid.locator("a.cell")
    assert cells.count() == 2
    assert [cells.nth(i).locator(".cell__number").inner_text() for i in range(2)] == ["201", "101"]
    # The worker sees the care tag's mark on 101, and nothing of the special group on 201.
    assert cells.nth(1).locator('[data-tag="lone_elderly"]').count() == 1
    assert cells.nth(0).locator(".mark").count() == 0
    # The cell grid scrolls inside its frame; the page itself does not scroll sideways.
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]

    cells.nth(1).click()
    page.wait_for_url(f"**/console/places/houses/{base.house_a1.pk}/")
    assert "张桂兰" in page.locator("#residents-heading + .table-wrap").inner_text()
    page.locator("#point-map .leaflet-interactive").first.wait_for()
    assert page.errors == [], page.errors


def test_revealing_a_number_asks_for_a_reason_and_is_logged(bworld, tags, base, live_server, browse):
    page = browse()
    log_in(page, live_server.url, "worker_a1")
    page.goto(f"{live_server.url}/console/people/{base.zhang_a1.pk}/")
    assert base.zhang_a1.id_number_mask in page.inner_text("main")
    page.click("details.reveal:has(input[value=id_number]) > summary")
    reason = page.locator("#reason-id_number")
    reason.wait_for()
    page.click("details.reveal:has(input[value=id_number]) button[type=submit]")
    # The browser will not send it without a reason.
    assert page.evaluate("document.querySelector('#reason-id_number').validity.valueMissing")
    assert not AccessLog.objects.exists()

    reason.fill("核实身份信息")
    page.click("details.reveal:has(input[value=id_number]) button[type=submit]")
    revealed = page.locator('[data-revealed="id_number"]')
    revealed.wait_for()
    assert revealed.inner_text() == base.ZHANG_ID
    entry = AccessLog.objects.get()
    assert (entry.action, entry.field, entry.reason, entry.user.username) == (
        AccessAction.REVEAL, "id_number", "核实身份信息", "worker_a1")

    page.goto(f"{live_server.url}/console/people/{base.zhang_a1.pk}/")
    assert base.ZHANG_ID not in page.content()
    assert page.errors == []


def test_tagged_household_on_the_situation_map_opens_its_house(bworld, tags, base, live_server,
                                                              browse):
    page = browse()
    log_in(page, live_server.url, "worker_a1")
    page.goto(f"{live_server.url}/console/map/")
    page.locator("#situation-map path.house-mark").first.wait_for()
    assert page.locator("#situation-map path.house-mark").count() == 1  # 社区矫正 is not shown
    assert "独居老人(1 户)" in page.inner_text("#tag-legend")
    click_map(page, "situation-map", 35.081, 117.111)
    popup = page.locator(".leaflet-popup-content")
    popup.wait_for()
    assert "独居老人 (1)" in popup.inner_text()
    popup.get_by_role("link", name=base.house_a1.address).click()
    page.wait_for_url(f"**/console/places/houses/{base.house_a1.pk}/")
    assert page.errors == []
