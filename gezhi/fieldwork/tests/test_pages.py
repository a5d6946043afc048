"""Console pages of field work render for those who may read it, in their scope only."""

import json
import re
import uuid

import pytest

from gezhi.core import clock
from gezhi.fieldwork.models import Patrol
from gezhi.fieldwork.services import diary_create, patrol_start, patrol_stop, visit_create
from gezhi.fieldwork.tests.conftest import IN_A1, IN_B1, NOW, local

pytestmark = pytest.mark.django_db

PAGES = ["/console/fieldwork/coverage/", "/console/fieldwork/due/", "/console/fieldwork/visits/",
         "/console/fieldwork/diary/", "/console/fieldwork/patrols/"]


@pytest.fixture
def field(world, base, frozen):
    a_visit = visit_create(actor=world.user("worker_a1"), fields={
        "house": base.house_a1.pk, "visited_at": local(2026, 2, 1, 10, 0),
        "people_met": [base.zhang_a1.pk], "needs": "需要助餐服务",
        "follow_ups": "对接社区食堂"})[0]
    b_visit = visit_create(actor=world.user("worker_b1"), fields={
        "house": base.house_b1.pk, "needs": "荆河的需求"})[0]
    a_diary = diary_create(actor=world.user("worker_a1"), fields={
        "text": "北门路灯不亮", "place": "北门", "lat": IN_A1[0], "lon": IN_A1[1]})[0]
    b_diary = diary_create(actor=world.user("worker_b1"), fields={
        "text": "荆河花园垃圾满溢", "lat": IN_B1[0], "lon": IN_B1[1]})[0]
    cid = uuid.uuid4()
    patrol_start(actor=world.user("worker_a1"), client_id=cid,
                 started_at=local(2026, 3, 10, 8, 0), lat=35.080, lon=117.110)
    patrol_stop(actor=world.user("worker_a1"), client_id=cid,
                ended_at=local(2026, 3, 10, 8, 30), note="巡查正常", points=[
                    {"lat": 35.081, "lon": 117.110, "at": local(2026, 3, 10, 8, 10)},
                    {"lat": 35.082, "lon": 117.111, "at": local(2026, 3, 10, 8, 20)}])
    b_cid = uuid.uuid4()
    patrol_start(actor=world.user("worker_b1"), client_id=b_cid, lat=IN_B1[0],
                 lon=IN_B1[1])
    return {"a_visit": a_visit, "b_visit": b_visit, "a_diary": a_diary,
            "b_diary": b_diary, "patrol": cid, "b_patrol": b_cid}


def text(response) -> str:
    return response.content.decode()


@pytest.mark.parametrize("url", PAGES)
def test_pages_render_for_readers_and_hide_from_others(world, field, url):
    for who in ("worker_a1", "chief_a1", "leader_a", "admin"):
        assert world.client(who).get(url).status_code == 200, (who, url)
    for who in ("dispatcher_a", "handler", "resident"):
        assert world.client(who).get(url).status_code == 404, (who, url)
    assert world.client(None).get(url).status_code == 302


def test_the_nav_links_field_work_for_readers_only(world, field):
    assert "/console/fieldwork/coverage/" in text(world.client("leader_a").get("/console/"))
    assert "/console/fieldwork/coverage/" not in text(
        world.client("dispatcher_a").get("/console/"))


def test_coverage_page_shows_each_grid_of_the_scope_with_totals(world, field):
    page = text(world.client("chief_a1").get("/console/fieldwork/coverage/?days=90"))
    assert world.grid_a1.name in page and world.grid_b1.name not in page
    # A-1 has two households (张桂兰, 赵强), one visited in the last 90 days: 50.0%.
    assert "50.0%" in page and "合计" in page
    assert f"/console/fieldwork/due/?grid={world.grid_a1.code}" in page  # 张桂兰 is overdue
    b_page = text(world.client("worker_b1").get("/console/fieldwork/coverage/"))
    assert world.grid_b1.name in b_page and world.grid_a1.name not in b_page
    bad = world.client("leader_a").get("/console/fieldwork/coverage/?days=abc")
    assert bad.status_code == 400 and "天数应为 1 到 366 之间的整数" in text(bad)
    community = world.client("leader_a").get(
        f"/console/fieldwork/coverage/?region={world.comm_a1.code}&days=30")
    assert community.status_code == 200 and world.comm_a1.name in text(community)


def test_due_page_lists_overdue_households_with_their_tags(world, field):
    with clock.frozen(NOW):
        page = text(world.client("worker_a1").get("/console/fieldwork/due/"))
    assert field["a_visit"].house.address in page and "独居老人" in page
    assert "2026-02-08" in page  # visited 02-01, weekly
    assert "社区矫正" not in page  # restricted, and no rule anyway
    with clock.frozen(NOW):
        assert "荆河" not in text(world.client("worker_a1").get("/console/fieldwork/due/"))


def test_visit_and_diary_lists_are_scoped(world, field):
    visits = text(world.client("worker_a1").get("/console/fieldwork/visits/"))
    assert "需要助餐服务" in visits and "张桂兰" in visits and "荆河的需求" not in visits
    by_house = text(world.client("leader_a").get(
        f"/console/fieldwork/visits/?house={field['a_visit'].house_id}&outcome=met"))
    assert "需要助餐服务" in by_house
    bad = world.client("leader_a").get("/console/fieldwork/visits/?start=tomorrow")
    assert bad.status_code == 400 and "格式不正确" in text(bad)
    diary = text(world.client("worker_a1").get("/console/fieldwork/diary/"))
    assert "北门路灯不亮" in diary and "荆河花园垃圾满溢" not in diary
    entry = world.client("worker_a1").get(f"/console/fieldwork/diary/{field['a_diary'].pk}/")
    assert entry.status_code == 200 and "北门路灯不亮" in text(entry)
    assert world.client("worker_a1").get(
        f"/console/fieldwork/diary/{field['b_diary'].pk}/").status_code == 404


def test_patrol_page_draws_the_route(world, field):
    listed = text(world.client("leader_a").get("/console/fieldwork/patrols/"))
    assert f"/console/fieldwork/patrols/{field['patrol']}/" in listed
    assert str(field["b_patrol"]) not in listed
    response = world.client("worker_a1").get(f"/console/fieldwork/patrols/{field['patrol']}/")
    assert response.status_code == 200
    page = text(response)
    assert 'data-fieldwork-map="track"' in page and "fieldwork/patrol-map.js" in page
    data = json.loads(re.search(r'<script id="route-map-data" type="application/json">(.*?)'
                                r"</script>", page, re.S).group(1))
    assert data["track"] == [[35.08, 117.11], [35.081, 117.11], [35.082, 117.111]]
    assert data["outline"]["features"][0]["properties"]["code"] == world.grid_a1.code
    assert "巡查正常" in page and "30 分钟" in page
    assert Patrol.objects.get(client_id=field["patrol"]).distance_m > 200
    assert world.client("worker_b1").get(
        f"/console/fieldwork/patrols/{field['patrol']}/").status_code == 404


def test_house_page_shows_its_visits_and_the_next_due_date(world, field, base):
    url = f"/console/places/houses/{base.house_a1.pk}/"
    with clock.frozen(NOW):
        page = text(world.client("worker_a1").get(url))
    assert "入户走访" in page and "需要助餐服务" in page and "对接社区食堂" in page
    assert "应于 2026-02-08 走访,已超期 30 天" in page
    assert "走访周期 7 天" in page
    # A dispatcher may see the house but not field work: no visits section.
    other = world.client("dispatcher_a").get(url)
    assert other.status_code == 200 and "需要助餐服务" not in text(other)


def test_list_pages_read_in_a_fixed_number_of_queries(world, field, base,
                                                      django_assert_max_num_queries):
    client = world.client("worker_a1")
    client.get("/console/fieldwork/visits/")
    for _i in range(5):
        visit_create(actor=world.user("worker_a1"), fields={
            "house": base.house_a1.pk, "people_met": [base.zhang_a1.pk]})
    with django_assert_max_num_queries(14):
        assert client.get("/console/fieldwork/visits/").status_code == 200
    with django_assert_max_num_queries(14):
        assert client.get("/console/fieldwork/diary/").status_code == 200


def test_the_house_panel_reads_a_fixed_number_of_queries(world, field, base):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    client = world.client("worker_a1")
    url = f"/console/places/houses/{base.house_a1.pk}/"
    client.get(url)

    def count() -> int:
        with CaptureQueriesContext(connection) as ctx:
            assert client.get(url).status_code == 200
        return len(ctx.captured_queries)

    one = count()
    for _i in range(14):
        visit_create(actor=world.user("worker_a1"), fields={
            "house": base.house_a1.pk, "people_met": [base.zhang_a1.pk]})
    assert count() == one
    # Eleven newest visits that reached nobody: the last one that did is read once more.
    for _i in range(11):
        visit_create(actor=world.user("worker_a1"), fields={
            "house": base.house_a1.pk, "outcome": "nobody"})
    assert count() == one + 1
    assert "全部走访记录" in text(client.get(url))


def test_the_due_page_narrows_to_a_community_from_the_coverage_page(world, field, base):
    client = world.client("leader_a")
    page = text(client.get(f"/console/fieldwork/due/?grid={world.comm_a1.code}"))
    assert world.comm_a1.name in page and base.house_a1.address in page
    other = client.get(f"/console/fieldwork/due/?grid={world.comm_b1.code}")
    assert other.status_code == 200 and world.comm_b1.name not in text(other)
