"""Region tree, region and grid pages, and the boundary import page, per persona."""

import json
import re

from django.core.files.uploadedfile import SimpleUploadedFile

from conftest import square
from gezhi.party.models import PartyOrg, PartyOrgKind
from gezhi.regions.models import Region


def embedded(response, element_id: str):
    found = re.search(rf'<script id="{element_id}" type="application/json">(.*?)</script>',
                      response.content.decode(), re.S)
    assert found, f"no json_script #{element_id}"
    return json.loads(found.group(1))


def tree_codes(response) -> list[str]:
    return re.findall(r'<li class="tree__node" data-code="(\d+)">', response.content.decode())


def test_grid_worker_tree_is_their_grid_only(world):
    response = world.client("worker_a1").get("/console/regions/")
    assert response.status_code == 200
    assert tree_codes(response) == [world.grid_a1.code]
    page = response.content.decode()
    assert "荆河第一网格" not in page and "文化路第二网格" not in page


def test_dispatcher_tree_starts_at_the_subdistrict_and_expands(world):
    client = world.client("dispatcher_a")
    response = client.get("/console/regions/")
    assert tree_codes(response) == [world.sub_a.code]
    page = response.content.decode()
    assert f'hx-get="/console/regions/{world.sub_a.code}/children/"' in page
    assert "下级 1 个" in page  # one community

    fragment = client.get(f"/console/regions/{world.comm_a1.code}/children/")
    assert fragment.status_code == 200
    assert tree_codes(fragment) == [world.grid_a1.code, world.grid_a2.code]
    assert "<html" not in fragment.content.decode()
    assert "基础网格" in fragment.content.decode()


def test_children_fragment_outside_scope_is_404(world):
    response = world.client("dispatcher_a").get(f"/console/regions/{world.sub_b.code}/children/")
    assert response.status_code == 404


def test_tree_search_stays_in_scope(world):
    response = world.client("dispatcher_a").get("/console/regions/", {"q": "网格"})
    codes = [r.code for r in response.context["results"]]
    assert codes == [world.grid_a1.code, world.grid_a2.code]
    response = world.client("dispatcher_a").get("/console/regions/", {"q": "荆河"})
    assert response.context["results"] == []
    assert "没有找到与“荆河”相符的区划或网格" in response.content.decode()


def test_region_page_shows_breadcrumbs_children_and_map(world):
    response = world.client("dispatcher_a").get(f"/console/regions/{world.comm_a1.code}/")
    assert response.status_code == 200
    page = response.content.decode()
    # The dispatcher may see the subdistrict but not the district above it.
    crumbs = re.search(r'<nav class="breadcrumbs".*?</nav>', page, re.S).group(0)
    assert "北辛街道" in crumbs and "滕州市" not in crumbs
    assert [c.code for c in response.context["children"]] == [world.grid_a1.code,
                                                               world.grid_a2.code]
    features = embedded(response, "children-geojson")["features"]
    assert [f["id"] for f in features] == [world.grid_a1.code, world.grid_a2.code]
    assert embedded(response, "outline-geojson")["features"][0]["id"] == world.comm_a1.code


def test_grid_page_shows_boundary_scope_staff_and_party_branch(world):
    PartyOrg.objects.create(name="文化路第一网格党支部", kind=PartyOrgKind.BRANCH,
                            region=world.grid_a1, secretary="刘合贵")
    response = world.client("worker_a1").get(f"/console/regions/{world.grid_a1.code}/")
    assert response.status_code == 200
    page = response.content.decode()
    assert "善国盛景小区 1-12号楼" in page  # 覆盖范围
    assert "樊荣" in page and "0632-5512345" in page and "刘合贵" in page
    assert '<span class="avatar avatar--initials" aria-hidden="true">樊荣</span>' in page
    assert "文化路第一网格党支部" in page
    assert embedded(response, "grid-geojson")["features"][0]["geometry"] == world.grid_a1.boundary
    # worker_a1 may not see the community, so there is no breadcrumb to it.
    assert response.context["breadcrumbs"] == []


def test_grid_page_without_party_branch_says_so(world):
    page = world.client("chief_a1").get(f"/console/regions/{world.grid_a2.code}/").content.decode()
    assert "尚未在本网格建立党组织" in page
    assert "未公示人员" in page  # staff see unpublished members, marked


def test_out_of_scope_region_is_404(world):
    client = world.client("worker_a1")
    for code in (world.grid_b1.code, world.grid_a2.code, world.comm_a1.code, "370481999999999"):
        assert client.get(f"/console/regions/{code}/").status_code == 404


def test_anonymous_and_resident_cannot_open_region_pages(world):
    url = f"/console/regions/{world.grid_a1.code}/"
    assert world.client(None).get(url).status_code == 302
    assert world.client("resident").get(url).status_code == 404


# --- Boundary import and export ------------------------------------------------------------


def grid_feature(code: str, geometry: dict, name: str = "") -> dict:
    props = {"code": code}
    if name:
        props["name"] = name
    return {"type": "Feature", "geometry": geometry, "properties": props}


def upload(collection, name="grids.geojson") -> SimpleUploadedFile:
    raw = collection if isinstance(collection, bytes) else json.dumps(collection).encode()
    return SimpleUploadedFile(name, raw, content_type="application/geo+json")


def test_boundaries_page_needs_the_import_permission(world):
    assert world.client("leader_a").get("/console/regions/boundaries/").status_code == 200
    assert world.client("dispatcher_a").get("/console/regions/boundaries/").status_code == 404
    assert world.client("worker_a1").get("/console/regions/boundaries/").status_code == 404


def test_dry_run_reports_and_writes_nothing(world):
    moved = {"A1": square(117.10, 35.06, 117.125, 35.10), "A2": square(117.125, 35.06, 117.14, 35.10)}
    collection = {"type": "FeatureCollection", "features": [
        grid_feature(world.grid_a1.code, moved["A1"]), grid_feature(world.grid_a2.code, moved["A2"])]}
    response = world.client("leader_a").post("/console/regions/boundaries/",
                                              {"file": upload(collection), "dry_run": "on"})
    assert response.status_code == 200
    page = response.content.decode()
    assert "试运行:将新增 0 个、更新 2 个区划边界" in page
    assert "未发现问题" in page
    world.grid_a1.refresh_from_db()
    assert world.grid_a1.boundary == square(117.10, 35.06, 117.12, 35.10)


def test_overlap_is_reported_with_codes_and_nothing_is_written(world):
    overlapping = square(117.10, 35.06, 117.13, 35.10)  # A-1 grown into A-2
    collection = {"type": "FeatureCollection",
                  "features": [grid_feature(world.grid_a1.code, overlapping)]}
    response = world.client("leader_a").post("/console/regions/boundaries/",
                                              {"file": upload(collection)})
    assert response.status_code == 200
    page = response.content.decode()
    assert "未写入任何数据" in page or "导入未执行" in page
    problems = response.context["problems"]
    assert problems and any(
        {world.grid_a1.code, world.grid_a2.code} <= set(p["codes"]) for p in problems)
    assert world.grid_a1.code in page and world.grid_a2.code in page
    world.grid_a1.refresh_from_db()
    assert world.grid_a1.boundary == square(117.10, 35.06, 117.12, 35.10)


def test_real_import_writes_and_says_so(world):
    collection = {"type": "FeatureCollection", "features": [
        grid_feature(world.grid_a1.code, square(117.10, 35.06, 117.125, 35.10)),
        grid_feature(world.grid_a2.code, square(117.125, 35.06, 117.14, 35.10))]}
    client = world.client("leader_a")
    response = client.post("/console/regions/boundaries/", {"file": upload(collection)},
                           follow=True)
    assert "导入完成:新增 0 个、更新 2 个区划边界" in response.content.decode()
    world.grid_a1.refresh_from_db()
    assert world.grid_a1.boundary == square(117.10, 35.06, 117.125, 35.10)


def test_malformed_file_gets_a_clear_message(world):
    client = world.client("leader_a")
    response = client.post("/console/regions/boundaries/", {"file": upload(b"{not json")})
    assert "文件不是有效的 JSON" in response.content.decode()
    response = client.post("/console/regions/boundaries/",
                           {"file": upload({"type": "Feature", "geometry": None})})
    assert "FeatureCollection" in response.content.decode()
    response = client.post("/console/regions/boundaries/", {})
    assert "请选择要导入的 GeoJSON 文件" in response.content.decode()
    assert Region.objects.count() == 8


def test_export_downloads_the_scope_as_geojson(world):
    response = world.client("leader_a").get("/console/regions/boundaries/export/")
    assert response.status_code == 200
    assert response["Content-Type"] == "application/geo+json"
    assert response["Content-Disposition"].startswith('attachment; filename="gezhi-grid-')
    data = json.loads(response.content)
    assert [f["properties"]["code"] for f in data["features"]] == [world.grid_a1.code,
                                                                  world.grid_a2.code]
    response = world.client("leader_a").get("/console/regions/boundaries/export/",
                                            {"within": world.sub_b.code})
    assert response.status_code == 404
