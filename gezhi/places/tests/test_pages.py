"""Console pages for places and components: scope, the 楼栋图, house profiles and pinned
query counts."""

import re

import pytest

from gezhi.people.models import Tag
from gezhi.people.services import (
    person_create,
    person_tag_add,
    residence_move_in,
    residence_move_out,
)
from gezhi.places.models import ComponentClass
from gezhi.places.services import building_create, component_create, house_create


def text(response) -> str:
    return response.content.decode()


@pytest.fixture
def components(base, world):
    lamp = ComponentClass.objects.get(code="0117")
    hydrant = ComponentClass.objects.get(code="0114")
    return {
        "lamp_a1": component_create(actor=None, component_class=lamp, code="370481001001-0117-001",
                                    name="文化路路灯", lat=35.0805, lon=117.1105),
        "hydrant_a1": component_create(actor=None, component_class=hydrant,
                                       code="370481001001-0114-001", lat=35.0806, lon=117.1106,
                                       state="damaged", address="1号楼东侧"),
        "lamp_b1": component_create(actor=None, component_class=lamp, code="370481002001-0117-001",
                                    lat=35.08, lon=117.21),
    }


# Scope

@pytest.mark.parametrize("url, mine, other", [
    ("/console/places/estates/", "善国盛景小区", "荆河花园"),
    ("/console/places/buildings/", "善国盛景小区", "荆河花园"),
    ("/console/places/houses/", "1号楼1单元101", "2号楼1单元302"),
])
def test_lists_stay_in_the_scope(base, world, url, mine, other):
    page = text(world.client("worker_a1").get(url))
    assert mine in page and other not in page
    page = text(world.client("admin").get(url))
    assert mine in page and other in page


def test_pages_outside_the_scope_are_404(base, world, components):
    client = world.client("worker_a1")
    for url in (f"/console/places/estates/{base.estate_b1.pk}/",
                f"/console/places/buildings/{base.building_b1.pk}/",
                f"/console/places/houses/{base.house_b1.pk}/",
                f"/console/places/components/{components['lamp_b1'].pk}/"):
        assert client.get(url).status_code == 404, url
    for url in (f"/console/places/estates/{base.estate_a1.pk}/",
                f"/console/places/buildings/{base.building_a1.pk}/",
                f"/console/places/houses/{base.house_a1.pk}/",
                f"/console/places/components/{components['lamp_a1'].pk}/"):
        assert client.get(url).status_code == 200, url


def test_users_without_base_data_rights_get_404(base, world):
    assert world.client("handler").get("/console/places/houses/").status_code == 404
    assert world.client("resident").get(
        f"/console/places/buildings/{base.building_a1.pk}/").status_code == 404


def test_house_list_filters_and_shows_visible_tags(base, world):
    client = world.client("worker_a1")
    response = client.get("/console/places/houses/", {"usage": "rented"})
    assert [r["house"].number for r in response.context["rows"]] == ["201"]
    rows = {r["house"].number: r for r in client.get("/console/places/houses/").context["rows"]}
    assert [t.name for t in rows["101"]["tags"]] == ["独居老人"]
    assert rows["201"]["tags"] == []  # 社区矫正 is not the worker's to see
    assert rows["101"]["house"].resident_count == 1
    page = text(client.get("/console/places/houses/"))
    assert "社区矫正" not in page
    rows = {r["house"].number: r
            for r in world.client("chief_a1").get("/console/places/houses/").context["rows"]}
    assert [t.name for t in rows["201"]["tags"]] == ["社区矫正对象"]


# The 楼栋图

def cells(page: str) -> list[tuple[str, str]]:
    """(house id, number) of each cell, in reading order: floors top down, units across."""
    return re.findall(r'<a class="cell usage--\w+" href="/console/places/houses/(\d+)/" '
                      r'data-house="\d+">\s*<span class="cell__number">(\w+)</span>', page)


def test_building_page_draws_floors_top_down_and_units_across(base, world):
    unit2 = base.building_a1.units.get(sort_order=2)
    h102 = house_create(actor=None, building=base.building_a1, unit=unit2, number="102",
                        usage="vacant")
    h301 = house_create(actor=None, building=base.building_a1, unit=unit2, number="301",
                        usage="commercial")
    response = world.client("worker_a1").get(f"/console/places/buildings/{base.building_a1.pk}/")
    assert response.status_code == 200
    page = text(response)
    assert cells(page) == [(str(h301.pk), "301"), (str(base.house_a1_2.pk), "201"),
                           (str(base.house_a1.pk), "101"), (str(h102.pk), "102")]
    rows = response.context["rows"]
    assert [r["floor"] for r in rows] == [3, 2, 1]
    # Floor 3 has no house in unit 1: an empty slot keeps unit 2's house under its heading.
    assert rows[0]["slots"][0] is None and rows[0]["slots"][1]["house"] == h301
    assert "1单元" in page and "2单元" in page
    assert 'class="cell usage--vacant"' in page and 'class="cell usage--rented"' in page


def test_building_cells_carry_tag_marks_the_viewer_may_see(base, world):
    url = f"/console/places/buildings/{base.building_a1.pk}/"
    page = text(world.client("worker_a1").get(url))
    assert page.count('data-tag="lone_elderly"') == 1
    assert 'data-tag="community_correction"' not in page and "社区矫正" not in page
    cell_101 = re.search(rf'data-house="{base.house_a1.pk}">.*?</a>', page, re.S).group(0)
    assert 'style="--chip: #d97706" title="独居老人"' in cell_101
    legend = re.search(r'<ul class="legend".*?</ul>', page, re.S).group(0)
    assert "独居老人" in legend and "自住" in legend and "出租" in legend

    page = text(world.client("chief_a1").get(url))
    cell_201 = re.search(rf'data-house="{base.house_a1_2.pk}">.*?</a>', page, re.S).group(0)
    assert 'data-tag="community_correction"' in cell_201
    assert "社区矫正对象" in re.search(r'<ul class="legend".*?</ul>', page, re.S).group(0)


def test_building_page_query_count_does_not_grow_with_houses(base, world,
                                                             django_assert_max_num_queries):
    from conftest import valid_id

    building = building_create(actor=None, name="9号楼", estate=base.estate_a1, lat=35.082,
                               lon=117.112, floors=6, units=3)
    care = Tag.objects.get(code="lone_elderly")
    n = 0
    for unit in building.units.all():
        for floor in range(1, 7):
            for door in (1, 2):
                house = house_create(actor=None, building=building, unit=unit,
                                     number=f"{floor}0{door}")
                person = person_create(actor=None, grid=world.grid_a1, name=f"住户{n}",
                                       id_type="resident_id",
                                       id_number=valid_id(f"37048119600101{n:03d}"))
                residence_move_in(actor=None, person=person, house=house, relation="owner")
                person_tag_add(actor=None, person=person, tag=care)
                n += 1
    client = world.client("chief_a1")
    client.get("/console/")
    with django_assert_max_num_queries(10):
        response = client.get(f"/console/places/buildings/{building.pk}/")
    assert len(cells(text(response))) == 36
    assert text(response).count('data-tag="lone_elderly"') == 36


# House page

def test_house_page_shows_residents_now_and_before(base, world):
    from conftest import valid_id

    former = person_create(actor=None, grid=world.grid_a1, name="钱进", id_type="resident_id",
                           id_number=valid_id("37048119880808005"))
    link = residence_move_in(actor=None, person=former, house=base.house_a1, relation="tenant")
    residence_move_out(actor=None, residence=link)
    response = world.client("worker_a1").get(f"/console/places/houses/{base.house_a1.pk}/")
    page = text(response)
    assert "现住人员(1 人)" in page and "张桂兰" in page
    assert "曾住人员" in page and "钱进" in page
    assert "88.50 平方米" in page and "自住" in page
    assert "独居老人" in page
    assert base.ZHANG_PHONE not in page and "138****1111" in page
    assert '"points": [{"lat": 35.081, "lon": 117.111' in page


def test_house_page_hides_special_group_tags_from_the_worker(base, world):
    url = f"/console/places/houses/{base.house_a1_2.pk}/"
    assert "社区矫正" not in text(world.client("worker_a1").get(url))
    assert "社区矫正对象" in text(world.client("chief_a1").get(url))


# Estates and components

def test_estate_page_lists_buildings_and_map(base, world):
    page = text(world.client("worker_a1").get(f"/console/places/estates/{base.estate_a1.pk}/"))
    assert f'href="/console/places/buildings/{base.building_a1.pk}/"' in page
    assert 'data-gezhi-map="points"' in page
    assert "无物业" in page


def test_component_list_filters_by_class_and_state(base, world, components):
    client = world.client("worker_a1")
    page = text(client.get("/console/places/components/"))
    assert "370481001001-0117-001" in page and "370481002001-0117-001" not in page
    response = client.get("/console/places/components/", {"component_class": "0114"})
    assert [c.code for c in response.context["page_obj"]] == ["370481001001-0114-001"]
    response = client.get("/console/places/components/", {"state": "damaged"})
    assert [c.code for c in response.context["page_obj"]] == ["370481001001-0114-001"]
    page = text(client.get(f"/console/places/components/{components['hydrant_a1'].pk}/"))
    assert "消火栓" in page and "损坏" in page and "1号楼东侧" in page


def test_list_query_counts_are_pinned(base, world, components, django_assert_max_num_queries):
    from conftest import valid_id

    care = Tag.objects.get(code="disabled")
    building = building_create(actor=None, name="8号楼", estate=base.estate_a1, lat=35.083,
                               lon=117.113, floors=6, units=1)
    unit = building.units.get()
    for i in range(40):
        house = house_create(actor=None, building=building, unit=unit, number=f"{i + 100}")
        person = person_create(actor=None, grid=world.grid_a1, name=f"住户{i}",
                               id_type="resident_id",
                               id_number=valid_id(f"37048119750101{i:03d}"))
        residence_move_in(actor=None, person=person, house=house, relation="owner")
        person_tag_add(actor=None, person=person, tag=care)
    client = world.client("chief_a1")
    client.get("/console/")
    for url in ("/console/places/houses/", "/console/places/estates/",
                "/console/places/buildings/", "/console/places/components/",
                f"/console/places/houses/{base.house_a1.pk}/",
                f"/console/places/estates/{base.estate_a1.pk}/"):
        with django_assert_max_num_queries(10):
            assert client.get(url).status_code == 200
