"""Grid boundaries: the tiling rule (无缝覆盖), GeoJSON import and export, and the CLI.

The world's community A1 (117.10–117.14 E, 35.06–35.10 N) is tiled by grid A-1 (west half)
and grid A-2 (east half); 0.00003° is about 3 m here.
"""

import io
import json

import pytest
import shapely
from django.core.management import CommandError, call_command

from conftest import square
from gezhi.core.errors import PermissionDenied, ValidationFailed
from gezhi.regions.boundaries import (
    boundaries_export,
    boundaries_import,
    boundaries_validate,
    tiling_problems,
)
from gezhi.regions.models import Level, Region, SpatialVersion
from gezhi.regions.tiling import split_polygon

A1, A2, A3 = "370481001001001", "370481001001002", "370481001001003"
COMM_A1 = "370481001001"


def feature(code, geometry=None, **properties):
    return {"type": "Feature", "geometry": geometry, "properties": {"code": code, **properties}}


def collection(*features):
    return {"type": "FeatureCollection", "features": list(features)}


def ring(*points):
    return {"type": "Polygon", "coordinates": [[list(p) for p in (*points, points[0])]]}


def kinds(problems):
    return sorted(p.kind for p in problems)


def snapshot():
    return (list(Region.objects.order_by("code").values_list(
                "code", "name", "boundary", "grid_kind", "description")),
            SpatialVersion.objects.get(pk=1).version)


# A-2 split in two along 117.13: A-2 keeps the west part, new A-3 takes the east part.
A2_WEST = square(117.12, 35.06, 117.13, 35.10)
A3_EAST = square(117.13, 35.06, 117.14, 35.10)


def split_a2(**a3_properties):
    return collection(
        feature(A2, A2_WEST),
        feature(A3, A3_EAST, name="文化路第三网格", description="文化路 200-300 号",
                **a3_properties))


# --- the tiling rule ---------------------------------------------------------------------


def test_world_tiles_its_communities(world):
    assert tiling_problems(parent=world.comm_a1) == []
    assert tiling_problems(parent=world.comm_b1) == []


def test_overlap_of_a_few_square_metres_names_both_grids(world):
    # A-2 gets a bump of about 2.7 m × 3.3 m into A-1.
    bumped = ring((117.12, 35.06), (117.14, 35.06), (117.14, 35.10), (117.12, 35.10),
                  (117.12, 35.06003), (117.11997, 35.06003), (117.11997, 35.06))
    problems = boundaries_validate(collection=collection(feature(A2, bumped)), actor=None)
    assert kinds(problems) == ["overlap"]
    overlap = problems[0]
    assert overlap.codes == [A1, A2]
    assert 8 < overlap.area_m2 < 11
    assert overlap.message == f"网格 {A1} 与 {A2} 重叠约 9.1 平方米"
    assert overlap.feature_index == 0


def test_hole_in_a_grid_is_a_gap_of_the_community(world):
    holed = {"type": "Polygon", "coordinates": [
        square(117.12, 35.06, 117.14, 35.10)["coordinates"][0],
        square(117.13, 35.08, 117.13003, 35.08003)["coordinates"][0][::-1]]}
    problems = boundaries_validate(collection=collection(feature(A2, holed)), actor=None)
    assert kinds(problems) == ["gap"]
    gap = problems[0]
    assert gap.codes == [COMM_A1, A2]
    assert 8 < gap.area_m2 < 11
    assert gap.message.startswith(f"社区 {COMM_A1} 内约 9.1 平方米未被任何网格覆盖")
    assert "117.130" in gap.message and "35.080" in gap.message


def test_shrunk_grid_leaves_a_gap_next_to_it(world):
    shrunk = square(117.12, 35.06, 117.13997, 35.10)
    problems = boundaries_validate(collection=collection(feature(A2, shrunk)), actor=None)
    assert kinds(problems) == ["gap"]
    assert problems[0].codes == [COMM_A1, A2]
    assert problems[0].area_m2 > 10_000  # 2.7 m × 4.4 km


def test_grid_sticking_out_of_its_community(world):
    widened = square(117.12, 35.06, 117.1401, 35.10)
    problems = boundaries_validate(collection=collection(feature(A2, widened)), actor=None)
    assert kinds(problems) == ["outside_parent"]
    assert problems[0].codes == [A2, COMM_A1]
    assert f"网格 {A2} 超出上级社区 {COMM_A1}" in problems[0].message


def test_rounding_noise_of_a_tiling_is_not_reported(world):
    # An irregular community whose own coordinates are not rounded, cut into 300 grids
    # rounded to 7 decimals: slivers along every edge, none of them real.
    community = shapely.Polygon([(117.1012345678, 35.0601234567), (117.1398765432, 35.0623456789),
                                 (117.1376543219, 35.0987654321), (117.1054321987, 35.0965432198)])
    cells = split_polygon(community, 300, seed=3, relax=1)
    parent = Region(code=COMM_A1, level=Level.COMMUNITY,
                    boundary=shapely.geometry.mapping(community))
    children = [(f"370481001001{i:03d}", cell) for i, cell in enumerate(cells, start=1)]
    assert tiling_problems(parent=parent, children=children) == []
    # …but a real gap among them is: drop one grid.
    problems = tiling_problems(parent=parent, children=children[:150] + children[151:])
    assert kinds(problems) == ["gap"]
    assert children[150][0] not in problems[0].codes  # the missing grid is not a neighbour


# --- import: bad input -------------------------------------------------------------------


@pytest.mark.parametrize("document", [
    [], "grids", {"type": "Feature", "geometry": None, "properties": {}},
    {"type": "FeatureCollection"}, {"type": "FeatureCollection", "features": []},
])
def test_not_a_feature_collection_is_refused(world, document):
    with pytest.raises(ValidationFailed) as exc:
        boundaries_import(collection=document, actor=None)
    assert exc.value.code == "bad_geojson"


@pytest.mark.parametrize(("geometry", "kind"), [
    ({"type": "Point", "coordinates": [117.13, 35.08]}, "bad_geometry"),
    ({"type": "Polygon", "coordinates": [[117.1, 35.0]]}, "bad_geometry"),
    ({"type": "Polygon", "coordinates": "abc"}, "bad_geometry"),
    (square(217.12, 35.06, 217.14, 35.10), "bad_geometry"),  # not longitude/latitude
    # A bow-tie: the ring crosses itself.
    (ring((117.12, 35.06), (117.14, 35.10), (117.14, 35.06), (117.12, 35.10)), "invalid_ring"),
])
def test_malformed_geometry_is_reported_with_the_code(world, geometry, kind):
    problems = boundaries_validate(collection=collection(feature(A2, geometry)), actor=None)
    assert kinds(problems) == [kind]
    assert problems[0].codes == [A2]
    assert A2 in problems[0].message


def test_bow_tie_message_says_why(world):
    bow_tie = ring((117.12, 35.06), (117.14, 35.10), (117.14, 35.06), (117.12, 35.10))
    [problem] = boundaries_validate(collection=collection(feature(A2, bow_tie)), actor=None)
    assert "自相交" in problem.message


@pytest.mark.parametrize(("props", "kind"), [
    ({"code": "370481002001002", "parent_code": COMM_A1}, "bad_code"),  # not A1's prefix
    ({"code": "3704810010010"}, "bad_code"),  # 13 digits
    ({"code": "37048100100100X"}, "bad_code"),
    ({"code": ""}, "bad_code"),
    ({"code": A3, "level": "community"}, "bad_code"),  # 15 digits is not a community code
    ({"code": A3, "level": "ward"}, "bad_level"),
    ({"code": A3, "parent_code": "370481001"}, "bad_level"),  # a grid directly in a subdistrict
    ({"code": "370481009001001"}, "unknown_parent"),  # community 370481009001 does not exist
    ({"code": A3, "grid_kind": "school"}, "bad_property"),
    ({"code": A3, "name": ""}, "bad_property"),
    ({"code": A1, "name": ""}, "bad_property"),
])
def test_bad_codes_levels_and_parents(world, props, kind):
    props = {"name": "新网格", **props}
    geometry = A3_EAST
    problems = boundaries_validate(
        collection=collection({"type": "Feature", "geometry": geometry, "properties": props}),
        actor=None)
    assert kind in kinds(problems)


def test_new_grid_needs_a_boundary_and_empty_kind_means_unchanged(world):
    problems = boundaries_validate(collection=collection(feature(A3, None, name="三")),
                                   actor=None)
    assert kinds(problems) == ["bad_geometry"]
    assert "需要边界" in problems[0].message
    report = boundaries_import(collection=collection(feature(A1, None, grid_kind="")),
                               actor=None)
    assert (report.updated, report.unchanged) == ([], [A1])


def test_code_given_twice_is_reported(world):
    problems = boundaries_validate(collection=collection(
        feature(A2, A2_WEST), feature(A3, A3_EAST, name="三"), feature(A3, A3_EAST, name="三")),
        actor=None)
    assert kinds(problems) == ["duplicate_code"]
    assert problems[0].feature_index == 2
    assert "第 2 和第 3 个要素" in problems[0].message


def test_failing_file_writes_nothing_even_after_good_features(world):
    before = snapshot()
    bow_tie = ring((117.10, 35.06), (117.12, 35.10), (117.12, 35.06), (117.10, 35.10))
    document = collection(
        feature(A2, A2_WEST, name="文化路第二网格(西)"),
        feature(A3, A3_EAST, name="文化路第三网格"),
        feature(A1, bow_tie))
    with pytest.raises(ValidationFailed) as exc:
        boundaries_import(collection=document, actor=None)
    assert exc.value.code == "boundaries_invalid"
    assert [p["kind"] for p in exc.value.details["problems"]] == ["invalid_ring"]
    assert exc.value.details["problems"][0]["codes"] == [A1]
    assert snapshot() == before


# --- import: scope -----------------------------------------------------------------------


@pytest.mark.parametrize("persona", ["worker_a1", "dispatcher_a", "chief_a1", "resident"])
def test_roles_without_the_import_permission_are_refused(world, persona):
    before = snapshot()
    with pytest.raises(PermissionDenied):
        boundaries_import(collection=split_a2(), actor=world.user(persona))
    assert snapshot() == before


def test_leader_imports_within_their_subdistrict(world):
    report = boundaries_import(collection=split_a2(), actor=world.user("leader_a"))
    assert (report.created, report.updated, report.problems) == ([A3], [A2], [])
    a3 = Region.objects.get(code=A3)
    assert (a3.parent, a3.level, a3.grid_kind, a3.path) == (
        world.comm_a1, Level.GRID, "basic", "370481.001.001.003.")
    assert tiling_problems(parent=world.comm_a1) == []


def test_leader_cannot_import_into_another_subdistrict(world):
    before = snapshot()
    document = collection(
        feature("370481002001001", square(117.20, 35.06, 117.22, 35.10)),
        feature("370481002001002", square(117.22, 35.06, 117.24, 35.10), name="荆河第二网格"))
    with pytest.raises(ValidationFailed) as exc:
        boundaries_import(collection=document, actor=world.user("leader_a"))
    problems = exc.value.details["problems"]
    assert [p["kind"] for p in problems] == ["out_of_scope", "out_of_scope"]
    assert snapshot() == before


def test_out_of_scope_says_the_same_for_unknown_and_foreign_parents(world):
    leader = world.user("leader_a")
    foreign = boundaries_validate(collection=collection(
        feature("370481002001009", A3_EAST, name="x")), actor=leader)
    unknown = boundaries_validate(collection=collection(
        feature("370481009001009", A3_EAST, name="x")), actor=leader)
    assert kinds(foreign) == kinds(unknown) == ["out_of_scope"]
    assert (foreign[0].message.replace("370481002001", "P")
            == unknown[0].message.replace("370481009001", "P").replace("009009", "002009"))


# --- import: what gets written -----------------------------------------------------------


def test_dry_run_reports_and_writes_nothing(world):
    before = snapshot()
    report = boundaries_import(collection=split_a2(), actor=None, dry_run=True)
    assert (report.created, report.updated, report.problems) == ([A3], [A2], [])
    assert snapshot() == before


def test_dry_run_returns_problems_instead_of_raising(world):
    before = snapshot()
    report = boundaries_import(collection=collection(feature(A3, A3_EAST, name="三")),
                               actor=None, dry_run=True)
    assert kinds(report.problems) == ["overlap"]
    assert report.problems[0].codes == [A2, A3]
    assert snapshot() == before


def test_new_tree_in_one_file_parents_listed_after_children(world):
    box = square(116.90, 34.90, 116.94, 34.94)
    document = collection(
        feature("370482001001001", square(116.90, 34.90, 116.92, 34.94), name="一网格",
                grid_kind="dedicated", purpose="实验中学"),
        feature("370482001001002", square(116.92, 34.90, 116.94, 34.94), name="二网格"),
        feature("370482001001", box, name="新社区"),
        feature("370482001", box, name="新街道"),
        feature("370482", box, name="新区"))
    report = boundaries_import(collection=document, actor=None)
    assert report.created == ["370482", "370482001", "370482001001", "370482001001001",
                              "370482001001002"]
    dedicated = Region.objects.get(code="370482001001001")
    assert (dedicated.grid_kind, dedicated.purpose, dedicated.parent.code) == (
        "dedicated", "实验中学", "370482001001")
    assert dedicated.path == "370482.001.001.001."


def test_rename_updates_without_touching_the_spatial_index(world):
    version = SpatialVersion.objects.get(pk=1).version
    report = boundaries_import(collection=collection(feature(A1, name="文化路一网格")),
                               actor=None)
    assert report.updated == [A1]
    world.grid_a1.refresh_from_db()
    assert world.grid_a1.name == "文化路一网格"
    assert world.grid_a1.boundary == square(117.10, 35.06, 117.12, 35.10)
    assert SpatialVersion.objects.get(pk=1).version == version


def test_boundary_update_moves_the_point_lookup(world):
    from gezhi.regions.selectors import grid_at

    assert grid_at(lat=35.08, lon=117.125) == world.grid_a2
    boundaries_import(collection=split_a2(), actor=None)
    assert grid_at(lat=35.08, lon=117.135).code == A3


# --- export ------------------------------------------------------------------------------


def test_export_is_the_viewers_scope(world):
    def codes(viewer, **kwargs):
        exported = boundaries_export(viewer=viewer, **kwargs)
        return [f["properties"]["code"] for f in exported["features"]]

    assert codes(None) == [A1, A2, "370481002001001"]
    assert codes(world.user("worker_a1")) == [A1]
    assert codes(world.user("dispatcher_a")) == [A1, A2]
    assert codes(world.user("resident")) == []
    assert codes(None, within=world.sub_b) == ["370481002001001"]
    assert codes(None, level="community") == [COMM_A1, "370481002001"]
    assert len(codes(None, level=None)) == Region.objects.count()


def test_export_properties(world):
    exported = boundaries_export(viewer=None, within=world.grid_a1)
    assert exported == {"type": "FeatureCollection", "features": [{
        "type": "Feature", "id": A1, "geometry": square(117.10, 35.06, 117.12, 35.10),
        "properties": {"code": A1, "name": "文化路第一网格", "level": "grid",
                       "parent_code": COMM_A1, "grid_kind": "basic", "purpose": "",
                       "description": "善国盛景小区 1-12号楼"}}]}


@pytest.mark.parametrize(("persona", "level"), [(None, None), (None, "grid"),
                                                 ("leader_a", None), ("admin", "community")])
def test_export_then_import_changes_nothing(world, persona, level):
    actor = world.user(persona) if persona else None
    exported = json.loads(json.dumps(boundaries_export(viewer=actor, level=level)))
    before = snapshot()
    report = boundaries_import(collection=exported, actor=actor)
    assert (report.created, report.updated, report.problems) == ([], [], [])
    assert len(report.unchanged) == len(exported["features"])
    assert snapshot() == before


# --- the command line --------------------------------------------------------------------


def run(*args):
    out, err = io.StringIO(), io.StringIO()
    call_command(*args, stdout=out, stderr=err)
    return out.getvalue(), err.getvalue()


def test_cli_import_and_export_round_trip(world, tmp_path):
    source = tmp_path / "split.geojson"
    source.write_text(json.dumps(split_a2(), ensure_ascii=False), encoding="utf-8")
    out, _err = run("import", "grids", str(source), "--dry-run")
    assert "试运行" in out and "将新建 1 个,更新 1 个" in out
    assert not Region.objects.filter(code=A3).exists()

    out, _err = run("import", "grids", str(source))
    assert "已导入:新建 1 个,更新 1 个,0 个不变" in out
    assert Region.objects.get(code=A3).name == "文化路第三网格"

    target = tmp_path / "a1.geojson"
    _out, err = run("export", "grids", "--within", COMM_A1, "-o", str(target))
    assert "已导出 3 个区划" in err
    text = target.read_text(encoding="utf-8")
    assert "文化路第三网格" in text  # ensure_ascii=False
    assert [f["properties"]["code"] for f in json.loads(text)["features"]] == [A1, A2, A3]

    out, _err = run("import", "grids", str(target))
    assert "新建 0 个,更新 0 个,3 个不变" in out


def test_cli_export_to_stdout(world):
    out, _err = run("export", "grids", "--level", "community")
    exported = json.loads(out)
    assert [f["properties"]["name"] for f in exported["features"]] == ["文化路社区", "荆河社区"]
    assert "文化路社区" in out


def test_cli_import_with_problems_lists_them_and_fails(world, tmp_path):
    source = tmp_path / "bad.geojson"
    source.write_text(json.dumps(collection(feature(A3, A3_EAST, name="三"))), encoding="utf-8")
    err = io.StringIO()
    with pytest.raises(CommandError, match="发现 1 个问题,未写入任何数据"):
        call_command("import", "grids", str(source), stdout=io.StringIO(), stderr=err)
    assert f"[重叠] 网格 {A2} 与 {A3} 重叠" in err.getvalue()
    assert "(第 1 个要素)" in err.getvalue()
    assert not Region.objects.filter(code=A3).exists()


@pytest.mark.parametrize(("content", "message"), [
    ("{not json", "不是有效的 JSON:第 1 行"),
    ('{"type": "Feature"}', "不是 GeoJSON FeatureCollection"),
    (b"\xff\xfe\x00", "不是 UTF-8"),
])
def test_cli_import_malformed_file(world, tmp_path, content, message):
    source = tmp_path / "bad.geojson"
    if isinstance(content, bytes):
        source.write_bytes(content)
    else:
        source.write_text(content, encoding="utf-8")
    with pytest.raises(CommandError, match=message):
        run("import", "grids", str(source))


def test_cli_unknown_kind_file_or_region(world, tmp_path):
    with pytest.raises(CommandError, match="未知的导入类型:events。可用的类型:grids、people"):
        run("import", "events", str(tmp_path / "x.csv"))
    with pytest.raises(CommandError, match="找不到文件"):
        run("import", "grids", str(tmp_path / "missing.geojson"))
    with pytest.raises(CommandError, match="找不到区划代码:999999"):
        run("export", "grids", "--within", "999999")
    with pytest.raises(CommandError, match="层级 ward 无效"):
        run("export", "grids", "--level", "ward")
    with pytest.raises(CommandError, match="未知的导出类型"):
        run("export", "events")
