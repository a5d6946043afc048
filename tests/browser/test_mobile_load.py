"""How much the first visit to the mobile workbench downloads, and that later visits need no
network at all.

The first load is everything a phone fetches from the moment it opens /m/ (logged in, empty
caches) until the service worker has installed the offline shell: the tasks page and its
files, the service worker, and what the worker then keeps (the other workbench pages, Leaflet).
Bodies are counted at their gzip size (level 9, as WhiteNoise stores static files in
production; the test server sends them uncompressed), response headers as sent; answers the
browser took from its own HTTP cache count nothing. The grid has a realistic size: 10
buildings, 300 households, 60 of them with an elderly person living alone (due for a visit).

    .venv/bin/pytest tests/browser/test_mobile_load.py -q -s   # prints the table
"""

import gzip

import pytest

from conftest import valid_id
from gezhi.people.models import Tag
from gezhi.people.services import person_create, person_tag_add, residence_move_in
from gezhi.places.services import building_create, estate_create, house_create

from .test_mobile import fill_login, log_in, phone, shell_ready

pytestmark = pytest.mark.browser

BUDGET = 300 * 1024


@pytest.fixture
def a_real_grid(bworld):
    estate = estate_create(actor=None, name="善国盛景小区", lat=35.08, lon=117.11,
                           street="文化路")
    lone = Tag.objects.get(code="lone_elderly")
    for b in range(10):
        building = building_create(actor=None, name=f"{b + 1}号楼", estate=estate,
                                   lat=35.075 + b * 0.001, lon=117.105 + b * 0.001,
                                   floors=6, units=2)
        units = list(building.units.order_by("sort_order"))
        for n in range(30):
            house = house_create(actor=None, building=building, unit=units[n % 2],
                                 number=f"{n // 2 + 1}0{n % 2 + 1}")
            if n % 5 == 0:
                person = person_create(actor=None, grid=bworld.grid_a1, name=f"住户{b}{n}",
                                       id_type="resident_id",
                                       id_number=valid_id(f"3704811940{b + 1:02d}01{n:03d}"))
                residence_move_in(actor=None, person=person, house=house, relation="owner")
                person_tag_add(actor=None, person=person, tag=lone)
    return estate


def test_first_load_of_the_workbench_stays_under_300_kb(a_real_grid, live_server, browse):
    url = live_server.url
    login = phone(browse)
    log_in(login, url, "worker_a1")
    cookies = login.context.cookies()

    page = phone(browse)  # a phone that has never seen the workbench, logged in
    page.context.add_cookies(cookies)
    seen = []
    page.context.on("response", lambda response: seen.append(response))
    page.goto(f"{url}/m/")
    shell_ready(page)
    page.wait_for_load_state("networkidle")

    rows, total_raw, total = [], 0, 0
    for response in seen:
        sizes = response.request.sizes()
        if sizes["responseBodySize"] < 0:  # from the browser's HTTP cache
            continue
        body = response.body() if response.request.service_worker is None else b""
        if not body and response.status == 200:
            # The service worker's own fetches: read the same address again for its bytes.
            body = page.context.request.get(response.url).body()
        compressed = len(gzip.compress(body, 9)) if body else 0
        size = compressed + sizes["responseHeadersSize"]
        who = "worker" if response.request.service_worker else "page"
        rows.append((response.url.removeprefix(url), who, len(body), size))
        total_raw += len(body)
        total += size
    print("\n| response | fetched by | body bytes | gzip + headers |\n|---|---|---:|---:|")
    for path, who, raw, size in rows:
        print(f"| `{path}` | {who} | {raw:,} | {size:,} |")
    print(f"| **total** ({len(rows)} responses) | | {total_raw:,} | **{total:,}** "
          f"({total / 1024:.1f} KB) |")
    assert total < BUDGET, f"first load {total / 1024:.1f} KB"
    kept = {path for path, who, _, _ in rows if who == "worker"}
    assert "/m/report/" in kept and any("leaflet.js" in path for path in kept)


def test_later_loads_render_from_the_cache_without_network(bworld, live_server, browse):
    url = live_server.url
    page = phone(browse)
    log_in(page, url, "worker_a1")
    shell_ready(page)
    page.context.set_offline(True)
    for path, heading in (("/m/", "今日任务"), ("/m/grid/", "我的网格"), ("/m/report/", "上报事件"),
                          ("/m/diary/", "民情日记"), ("/m/patrol/", "巡查"),
                          ("/m/outbox/", "待上传"), ("/m/houses/", "住户查询")):
        page.goto(f"{url}{path}")
        assert page.inner_text("h1") == heading
        assert page.locator("#net-banner").is_visible()
    page.goto(f"{url}/m/grid/")
    page.wait_for_function("document.getElementById('grid-map')._gezhiMap !== undefined")
    page.goto(f"{url}/m/houses/?q=张")  # a search never made online: said plainly
    assert "离线时无法查找" in page.inner_text("#search-status")
    assert page.input_value("#q") == "张"
    assert page.errors == []


def test_logging_in_again_brings_the_offline_pages_back(bworld, live_server, browse):
    url = live_server.url
    page = phone(browse)
    log_in(page, url, "worker_a1")
    shell_ready(page)
    page.click("#logout-form button")
    page.wait_for_url(f"{url}/accounts/login/**")
    assert page.evaluate("caches.has('gezhi-m-pages')") is False
    fill_login(page, "worker_a1")
    page.wait_for_url(f"{url}/**")
    page.goto(f"{url}/m/")
    shell_ready(page)  # kept again once the worker is back
