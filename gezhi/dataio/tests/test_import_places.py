"""Importing houses (with the estates, buildings and units they need), organisations and
components."""

from conftest import valid_credit_code
from gezhi.orgs.models import Organisation
from gezhi.places.models import Building, Component, Estate, House, Unit

HOUSE_HEADERS = ["街巷", "小区", "楼栋", "单元", "户室号", "楼层", "房屋用途", "建筑面积", "经度", "纬度",
                 "网格编码"]
ORG_HEADERS = ["名称", "类型", "统一社会信用代码", "联系电话", "地址", "经度", "纬度", "网格编码"]
COMPONENT_HEADERS = ["部件编码", "部件类别", "名称", "状态", "经度", "纬度", "网格编码"]


def problems(report):
    return [(p.row, p.column, p.message) for p in report.problems]


def test_houses_create_estate_building_and_units_located_by_coordinates(world, run_import):
    report = run_import(world.user("chief_a1"), "houses", [
        HOUSE_HEADERS,
        ["文化路", "杏坛小区", "3号楼", "1单元", "101", "", "自住", "95.5", 117.115, 35.07, ""],
        ["文化路", "杏坛小区", "3号楼", "1单元", "502", "", "出租", "", "", "", ""],
        ["文化路", "杏坛小区", "3", "2单元", "101", "", "空置", "", "", "", ""],
        ["善国路", "", "12号楼", "", "1", "1", "商用", "", 117.125, 35.07, ""],
    ], name="houses.xlsx")
    assert (report.created, report.bad_rows) == (4, 0), problems(report)
    estate = Estate.objects.get(name="杏坛小区")
    assert estate.grid == world.grid_a1 and estate.street == "文化路"
    building = Building.objects.get(estate=estate, name="3号楼")
    assert building.floors == 5  # the highest floor imported (502 → 5)
    assert list(Unit.objects.filter(building=building).values_list("name", flat=True)) == [
        "1单元", "2单元"]
    house = House.objects.get(building=building, number="502")
    assert house.floor == 5 and house.usage == "rented" and house.grid == world.grid_a1
    assert house.address == "文化路杏坛小区3号楼1单元502"
    loose = House.objects.get(building__name="12号楼")
    assert loose.grid == world.grid_a2 and loose.building.estate is None


def test_house_reimport_updates_and_bad_rows(base, world, run_import):
    report = run_import(world.user("worker_a1"), "houses", [
        HOUSE_HEADERS,
        ["", "善国盛景小区", "1号楼", "1单元", "101", "", "出租", "", "", "", ""],     # update
        ["", "善国盛景小区", "1号楼", "1单元", "201", "", "", "", "", "", ""],         # unchanged
        ["", "善国盛景小区", "1号楼", "1单元", "", "", "", "", "", "", ""],            # no number
        ["", "善国盛景小区", "1号楼", "1单元", "301", "", "别墅", "", "", "", ""],     # usage
        ["", "善国盛景小区", "1号楼", "1单元", "401", "", "", "-3", "", "", ""],       # area
        ["", "新小区", "1号楼", "", "101", "", "", "", 117.30, 35.30, ""],             # outside
        ["", "荆河花园", "2号楼", "1单元", "303", "", "", "", "", "", world.grid_b1.code],
        ["", "善国盛景小区", "1号楼", "1单元", "101", "", "", "", "", "", ""],         # repeat
    ], mode="valid")
    assert problems(report) == [
        (4, "户室号", "户室号不能为空。"),
        (5, "房屋用途", "房屋用途无效。"),
        (6, "建筑面积", "建筑面积应在 1 到 100000 平方米之间。"),
        (7, "纬度", "该位置不在任何网格内,请核对经纬度或手动选择网格。"),
        (8, "网格编码", "网格不在您的管辖范围内。"),
        (9, "户室号", "与第 2 行是同一房屋。"),
    ]
    assert (report.created, report.updated, report.unchanged) == (0, 1, 1)
    base.house_a1.refresh_from_db()
    assert base.house_a1.usage == "rented" and str(base.house_a1.area_m2) == "88.50"


def test_organisations_by_credit_code(base, world, run_import):
    code = valid_credit_code("91370481MA3C00001")
    rows = [ORG_HEADERS,
            ["鲁南机床厂", "企业", code, "0632-5512345", "善国路1号", 117.125, 35.07, ""],
            ["善国便利店", "个体工商户", base.shop_a1.credit_code, "", "文化路88号", "", "", ""],
            ["坏代码", "企业", code[:17] + ("0" if code[17] != "0" else "1"), "", "", "", "",
             world.grid_a1.code],
            ["无类型", "", "", "", "", "", "", world.grid_a1.code]]
    report = run_import(world.user("chief_a1"), "orgs", rows, mode="valid")
    assert problems(report) == [(4, "统一社会信用代码", "统一社会信用代码校验位错误。"),
                                (5, "类型", "组织类型无效。")]
    assert (report.created, report.updated) == (1, 1)
    factory = Organisation.objects.get(credit_code=code)
    assert factory.grid == world.grid_a2 and factory.contact_phone_mask == "0632-***2345"
    base.shop_a1.refresh_from_db()
    assert base.shop_a1.address == "文化路88号" and base.shop_a1.contact_phone_mask  # kept


def test_components_by_code_and_class_name(world, run_import):
    rows = [COMPONENT_HEADERS,
            ["0117-0001", "路灯", "文化路1号灯", "完好", 117.11, 35.07, ""],
            ["0114-0001", "0114", "", "损坏", 117.13, 35.07, ""],
            ["0199-0001", "飞碟", "", "", 117.11, 35.07, ""],
            ["0117-0002", "路灯", "", "", "", "", ""]]
    report = run_import(world.user("chief_a1"), "components", rows, mode="valid")
    assert problems(report) == [(4, "部件类别", "未知的部件类别:飞碟"),
                                (5, "纬度", "部件必须有经纬度。")]
    lamp = Component.objects.get(code="0117-0001")
    assert lamp.grid == world.grid_a1 and lamp.component_class.code == "0117"
    hydrant = Component.objects.get(code="0114-0001")
    assert hydrant.grid == world.grid_a2 and hydrant.state == "damaged"
    again = run_import(world.user("chief_a1"), "components", [
        COMPONENT_HEADERS, ["0117-0001", "路灯", "", "丢失", 117.11, 35.07, ""]])
    assert (again.updated, again.created) == (1, 0)
    lamp.refresh_from_db()
    assert lamp.state == "lost" and lamp.name == "文化路1号灯"
