"""我的网格员: a resident finds their grid staff by address or point, with or without JavaScript."""

import json
import re

import pytest
from django.test import Client


def results(response) -> list[str]:
    return re.findall(r'<article class="grid-result" aria-labelledby="grid-(\d+)">',
                      response.content.decode())


def test_public_page_renders_for_anyone(world):
    response = Client().get("/")
    assert response.status_code == 200
    page = response.content.decode()
    assert '<html lang="zh-hans">' in page
    assert "我的网格员" in page
    assert '<a class="topbar__link" href="/accounts/login/">工作人员登录</a>' in page
    assert '<label for="address-q">' in page
    assert '<main id="main"' in page and 'class="skip-link"' in page
    assert 'data-lookup-url="/api/v1/public/grids/lookup"' in page
    # Offline intranets: every script and stylesheet is served by the site itself.
    assets = re.findall(r'<script src="([^"]+)"', page) + re.findall(r'<link rel="\w+" href="([^"]+)"', page)
    assert assets and all(a.startswith("/static/") for a in assets)
    outlines = json.loads(re.search(r'<script id="public-outlines" type="application/json">(.*?)'
                                    r"</script>", page, re.S).group(1))
    assert {f["properties"]["name"] for f in outlines["features"]} == {"文化路社区", "荆河社区"}


def test_address_search_lists_staff_cards_without_javascript(world):
    response = Client().get("/", {"q": "善国盛景"})
    assert results(response) == [world.grid_a1.code]
    page = response.content.decode()
    assert "樊荣" in page and "专职网格员" in page
    assert 'href="tel:06325512345"' in page
    assert "刘合贵" in page and "文化路社区党委书记" in page


def test_address_without_match_says_so(world):
    response = Client().get("/", {"q": "不存在的小区"})
    assert results(response) == []
    assert "没有找到与“不存在的小区”相符的网格" in response.content.decode()


def test_empty_address_asks_for_one(world):
    assert "请输入街道、小区或楼栋等地址信息" in Client().get("/", {"q": "  "}).content.decode()


def test_point_fallback_renders_the_grid_without_javascript(world):
    response = Client().get("/", {"lat": "35.08", "lon": "117.11"})
    assert results(response) == [world.grid_a1.code]
    page = response.content.decode()
    assert "樊荣" in page
    assert 'data-point-lat="35.080000"' in page


def test_point_outside_every_grid_says_so(world):
    response = Client().get("/", {"lat": "35.08", "lon": "117.17"})
    assert results(response) == []
    assert "您选择的位置不在任何网格内" in response.content.decode()


@pytest.mark.parametrize("lat,lon", [("abc", "117.1"), ("95", "117.1")])
def test_bad_point_gets_a_clear_message(world, lat, lon):
    page = Client().get("/", {"lat": lat, "lon": lon}).content.decode()
    assert "经纬度" in page
    assert results(Client().get("/", {"lat": lat, "lon": lon})) == []


def test_unpublished_member_never_appears(world):
    client = Client()
    for params in ({"q": "文化路"}, {"q": "100-200"}, {"lat": "35.08", "lon": "117.13"}):
        response = client.get("/", params)
        assert world.grid_a2.code in results(response)
        page = response.content.decode()
        assert "未公示人员" not in page and "13900000000" not in page
        assert "刘合贵" in page  # the published chief of A-2 is shown


def test_public_page_query_count(world, django_assert_max_num_queries):
    client = Client()
    with django_assert_max_num_queries(4):
        client.get("/", {"q": "文化路"})


def test_public_page_in_english(world):
    client = Client()
    client.post("/i18n/setlang/", {"language": "en", "next": "/"})
    response = client.get("/")
    assert '<html lang="en">' in response.content.decode()
