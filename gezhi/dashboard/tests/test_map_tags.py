"""Tagged households (画像) on the situation map: scoped, restricted tags only for
Perm.SPECIAL_VIEW, filterable by tag, and a fixed number of queries however many people."""

import re

from gezhi.dashboard.tests.test_pages import embedded
from gezhi.people.models import Tag
from gezhi.people.services import person_create, person_tag_add, residence_move_in
from gezhi.places.services import building_create, house_create

CORRECTION = "社区矫正对象"


def marks(response) -> dict:
    """{house id: [tag names]} of the embedded marks."""
    data = embedded(response, "house-marks")
    return {row[0]: [data["tags"][str(t)]["name"] for t, _n in row[4]] for row in data["houses"]}


def legend(response) -> str:
    found = re.search(r'<ul class="legend" id="tag-legend".*?</ul>', response.content.decode(),
                      re.S)
    return found.group(0) if found else ""


def tag_options(response) -> list[str]:
    select = re.search(r'<select name="tag" id="tag">.*?</select>', response.content.decode(),
                       re.S).group(0)
    return re.findall(r"<option [^>]*>([^<]+)</option>", select)


def test_worker_sees_care_tags_of_their_grid_only(base, world):
    response = world.client("worker_a1").get("/console/map/")
    assert marks(response) == {base.house_a1.pk: ["独居老人"]}
    page = response.content.decode()
    assert CORRECTION not in page and "荆河" not in page
    assert "独居老人(1 户)" in legend(response)
    assert CORRECTION not in tag_options(response)
    row = embedded(response, "house-marks")["houses"][0]
    assert row[1:4] == [35.081, 117.111, base.house_a1.address]
    assert embedded(response, "house-marks")["tags"][str(row[4][0][0])]["colour"] == "#d97706"
    assert 'data-house-url="/console/places/houses/0/"' in page


def test_chief_sees_special_group_households(base, world):
    response = world.client("chief_a1").get("/console/map/")
    assert marks(response) == {base.house_a1.pk: ["独居老人"],
                               base.house_a1_2.pk: [CORRECTION]}
    assert CORRECTION in legend(response) and CORRECTION in tag_options(response)


def test_wang_is_on_no_one_elses_map(base, world):
    person_tag_add(actor=None, person=base.wang_b1, tag=Tag.objects.get(code="disabled"))
    assert base.house_b1.pk not in marks(world.client("worker_a1").get("/console/map/"))
    assert base.house_b1.pk not in marks(world.client("leader_a").get("/console/map/"))
    assert marks(world.client("worker_b1").get("/console/map/")) == {base.house_b1.pk: ["残疾人"]}
    admin = world.client("admin")
    assert set(marks(admin.get("/console/map/"))) == {base.house_a1.pk, base.house_a1_2.pk,
                                                      base.house_b1.pk}
    response = admin.get("/console/map/", {"community": world.comm_b1.code})
    assert set(marks(response)) == {base.house_b1.pk}


def test_filter_by_tag(base, world):
    client = world.client("chief_a1")
    response = client.get("/console/map/", {"tag": "community_correction"})
    assert marks(response) == {base.house_a1_2.pk: [CORRECTION]}
    assert '<option value="community_correction" selected>' in response.content.decode()
    # The worker may not filter by it: the filter is dropped, nothing about it is shown.
    response = world.client("worker_a1").get("/console/map/", {"tag": "community_correction"})
    assert marks(response) == {base.house_a1.pk: ["独居老人"]}
    assert CORRECTION not in response.content.decode()


def test_first_tag_colours_the_house(base, world):
    person_tag_add(actor=None, person=base.zhang_a1, tag=Tag.objects.get(code="disabled"))
    data = embedded(world.client("worker_a1").get("/console/map/"), "house-marks")
    (row,) = data["houses"]
    names = [data["tags"][str(t)]["name"] for t, _n in row[4]]
    assert names == ["独居老人", "残疾人"]  # in the tags' sort order


def test_handler_has_no_marks(base, world):
    page = world.client("handler").get("/console/map/").content.decode()
    assert 'id="house-marks"' not in page and "独居老人" not in page


def test_map_query_count_does_not_grow_with_people(base, world, django_assert_max_num_queries):
    from conftest import valid_id

    tags = list(Tag.objects.filter(code__in=["lone_elderly", "disabled", "community_correction"]))
    building = building_create(actor=None, name="6号楼", estate=base.estate_a1, lat=35.0815,
                               lon=117.1115, floors=6, units=2)
    n = 0
    for unit in building.units.all():
        for floor in range(1, 7):
            house = house_create(actor=None, building=building, unit=unit, number=f"{floor}01")
            for _ in range(3):
                person = person_create(actor=None, grid=world.grid_a1, name=f"住户{n}",
                                       id_type="resident_id",
                                       id_number=valid_id(f"37048119650101{n:03d}"))
                residence_move_in(actor=None, person=person, house=house, relation="family")
                person_tag_add(actor=None, person=person, tag=tags[n % 3])
                n += 1
    client = world.client("chief_a1")
    client.get("/console/")
    with django_assert_max_num_queries(8):
        response = client.get("/console/map/")
    assert len(marks(response)) == 2 + 12
