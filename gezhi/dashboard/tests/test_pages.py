"""The staff console: who gets in, what each persona sees, and pinned query counts."""

import json
import re

import pytest

from gezhi.regions.models import GridKind, Level, PostKind, StaffMember
from gezhi.regions.services import grid_post_assign, region_create


def embedded(response, element_id: str):
    page = response.content.decode()
    found = re.search(rf'<script id="{element_id}" type="application/json">(.*?)</script>', page,
                      re.S)
    assert found, f"no json_script #{element_id}"
    return json.loads(found.group(1))


def nav_labels(response) -> list[str]:
    nav = re.search(r'<nav class="console__nav".*?</nav>', response.content.decode(), re.S).group(0)
    return re.findall(r"<a [^>]*>([^<]+)</a>", nav)


@pytest.mark.parametrize("persona", ["admin", "leader_a", "dispatcher_a", "chief_a1", "worker_a1",
                                     "worker_b1", "handler"])
def test_every_staff_persona_opens_the_console(world, persona):
    response = world.client(persona).get("/console/")
    assert response.status_code == 200
    page = response.content.decode()
    assert world.user(persona).display_name in page
    assert "退出登录" in page


def test_anonymous_is_sent_to_login(world):
    for url in ("/console/", "/console/map/", "/console/staff/"):
        response = world.client(None).get(url)
        assert response.status_code == 302
        assert response["Location"].startswith("/accounts/login/?next=")


def test_resident_gets_404_on_the_console(world):
    client = world.client("resident")
    for url in ("/console/", "/console/map/", "/console/staff/", "/console/regions/"):
        response = client.get(url)
        assert response.status_code == 404
        assert "找不到该页面" in response.content.decode()


BASE_DATA_NAV = ["实有人口", "小区楼栋", "房屋", "组织", "部件", "网格健康"]


def test_navigation_follows_permissions(world):
    assert nav_labels(world.client("admin").get("/console/")) == [
        "概览", "事件工作台", "上报事件", "区划网格", "作战图", "网格员公示", *BASE_DATA_NAV,
        "指标考核", "走访覆盖", "导入导出", "边界导入导出", "访问日志", "接入密钥", "系统管理"]
    # A leader supervises and reads indicators, exports lists but imports nothing.
    assert nav_labels(world.client("leader_a").get("/console/")) == [
        "概览", "事件工作台", "区划网格", "作战图", "网格员公示", *BASE_DATA_NAV, "指标考核",
        "走访覆盖", "边界导入导出"]
    assert nav_labels(world.client("worker_a1").get("/console/")) == [
        "概览", "事件工作台", "上报事件", "区划网格", "作战图", "网格员公示", *BASE_DATA_NAV,
        "指标考核", "走访覆盖", "导入导出"]
    # A department handler sees no residents' data: its events and its own indicators.
    assert nav_labels(world.client("handler").get("/console/")) == [
        "概览", "事件工作台", "区划网格", "作战图", "网格员公示", "指标考核"]


def test_current_page_is_marked_in_the_navigation(world):
    page = world.client("worker_a1").get("/console/map/").content.decode()
    assert '<a href="/console/map/" aria-current="page">作战图</a>' in page
    page = world.client("worker_a1").get(f"/console/regions/{world.grid_a1.code}/").content.decode()
    assert '<a href="/console/regions/" aria-current="page">区划网格</a>' in page


def test_home_counts_the_viewers_scope(world):
    response = world.client("dispatcher_a").get("/console/")
    counts = response.context["counts"]
    assert counts["communities"] == 1
    assert counts["grids_basic"] == 2 and counts["grids_dedicated"] == 0
    posts = {kind: n for kind, _label, n in counts["posts"]}
    assert posts[PostKind.CHIEF] == 2 and posts[PostKind.FULL_TIME] == 1
    assert posts[PostKind.PART_TIME] == 1
    assert [r.code for r in response.context["roots"]] == [world.sub_a.code]
    assert "北辛街道" in response.content.decode()


def test_home_of_grid_worker_shows_only_their_grid(world):
    response = world.client("worker_a1").get("/console/")
    counts = response.context["counts"]
    assert counts["communities"] == 0 and counts["grids_basic"] == 1
    page = response.content.decode()
    assert "文化路第一网格" in page
    assert "荆河" not in page and "文化路第二网格" not in page


def test_situation_map_embeds_only_the_viewers_grids(world):
    response = world.client("worker_a1").get("/console/map/")
    assert response.status_code == 200
    data = embedded(response, "grids-geojson")
    assert [f["properties"]["code"] for f in data["features"]] == [world.grid_a1.code]
    feature = data["features"][0]
    assert feature["geometry"] == world.grid_a1.boundary
    assert feature["properties"]["kind"] == "basic"
    assert {s["name"] for s in feature["properties"]["staff"]} == {"樊荣", "刘合贵"}
    page = response.content.decode()
    assert "荆河第一网格" not in page and "文化路第二网格" not in page


def test_situation_map_filters_by_community(world):
    client = world.client("admin")
    all_codes = [f["id"] for f in embedded(client.get("/console/map/"), "grids-geojson")["features"]]
    assert all_codes == [world.grid_a1.code, world.grid_a2.code, world.grid_b1.code]
    response = client.get("/console/map/", {"community": world.comm_b1.code})
    assert [f["id"] for f in embedded(response, "grids-geojson")["features"]] == [world.grid_b1.code]
    assert f'<option value="{world.comm_b1.code}" selected>' in response.content.decode()


def test_situation_map_query_count_does_not_grow_with_grids(world, django_assert_max_num_queries):
    community = world.comm_a1
    for i in range(3, 40):
        grid = region_create(code=f"{community.code}{i:03d}", name=f"测试网格{i}", level=Level.GRID,
                             parent=community, grid_kind=GridKind.DEDICATED,
                             boundary=world.grid_a1.boundary)
        member = StaffMember.objects.create(name=f"员工{i}")
        grid_post_assign(grid=grid, kind=PostKind.PROFESSIONAL, member=member)
    client = world.client("dispatcher_a")
    with django_assert_max_num_queries(9):
        response = client.get("/console/map/")
    assert len(embedded(response, "grids-geojson")["features"]) == 39


def test_staff_list_is_scoped_and_marks_unpublished(world):
    response = world.client("worker_a1").get("/console/staff/")
    assert response.status_code == 200
    posts = list(response.context["page_obj"].object_list)
    assert {(p.grid.code, p.member.name) for p in posts} == {
        (world.grid_a1.code, "樊荣"), (world.grid_a1.code, "刘合贵")}
    page = response.content.decode()
    assert "孙丽" not in page and "未公示人员" not in page

    page = world.client("chief_a1").get("/console/staff/").content.decode()
    assert "未公示人员" in page and "未公示</span>" in page


def test_staff_list_filters_by_post_and_grid(world):
    client = world.client("dispatcher_a")
    posts = client.get("/console/staff/", {"kind": "chief"}).context["page_obj"].object_list
    assert {p.kind for p in posts} == {"chief"} and len(posts) == 2
    posts = client.get("/console/staff/", {"grid": world.grid_a2.code}).context["page_obj"].object_list
    assert {p.grid_id for p in posts} == {world.grid_a2.id}
    # A grid outside the scope is not a filter the dispatcher can use.
    response = client.get("/console/staff/", {"grid": world.grid_b1.code})
    assert all(p.grid_id != world.grid_b1.id for p in response.context["page_obj"].object_list)


def test_staff_list_query_count_is_pinned(world, django_assert_max_num_queries):
    for i in range(60):
        member = StaffMember.objects.create(name=f"兼职{i}", work_phone="13800000000")
        grid_post_assign(grid=world.grid_a1, kind=PostKind.PART_TIME, member=member)
    client = world.client("dispatcher_a")
    with django_assert_max_num_queries(10):
        response = client.get("/console/staff/")
    assert len(response.context["page_obj"].object_list) == 50
    with django_assert_max_num_queries(10):
        response = client.get("/console/staff/", {"page": 2})
    assert "第 2 / 2 页" in response.content.decode()


def test_base_map_layer_comes_from_settings(world, settings):
    client = world.client("worker_a1")
    page = client.get("/console/map/").content.decode()
    assert 'data-tile-url=""' in page  # offline default: no tiles, grids on a plain background
    settings.GEZHI_TILE_URL = "https://tiles.intranet.example/{z}/{x}/{y}.png"
    settings.GEZHI_TILE_ATTRIBUTION = "滕州市自然资源局"
    page = client.get("/console/map/").content.decode()
    assert 'data-tile-url="https://tiles.intranet.example/{z}/{x}/{y}.png"' in page
    assert 'data-tile-attribution="滕州市自然资源局"' in page


def test_home_shows_the_viewers_queues(world):
    from gezhi.events.models import Category
    from gezhi.events.services import Intake, event_report

    event_report(actor=world.user("worker_a1"), intake=Intake(
        category=Category.objects.get(code="0102"), description="垃圾", lat=35.08, lon=117.11))
    todo = {q["key"]: q["count"] for q in
            world.client("dispatcher_a").get("/console/").context["todo"]}
    assert todo["to_accept"] == 1
    todo = {q["key"]: q["count"] for q in
            world.client("worker_b1").get("/console/").context["todo"]}
    assert "to_accept" not in todo and todo["open"] == 0


def test_field_workers_find_the_mobile_workbench_on_the_console_home(world):
    assert 'href="/m/"' in world.client("worker_a1").get("/console/").content.decode()
    assert 'href="/m/"' not in world.client("handler").get("/console/").content.decode()
