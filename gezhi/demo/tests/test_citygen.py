"""The synthetic city generator: valid, consistent, deterministic base data, and `gezhi gen-city`.

One small city (3 grids × 200 people) is generated once for the module inside a transaction
that is rolled back at the end; each test runs in its own savepoint on top of it.
"""

from collections import Counter
from io import StringIO
from types import SimpleNamespace

import pytest
import shapely
from django.core.management import CommandError, call_command
from django.db import transaction
from shapely.geometry import shape

from gezhi.core.personal import get_sensitive, lookup
from gezhi.core.validators import (
    id_birth_date,
    id_sex,
    mask_id_number,
    mask_phone,
    normalise_credit_code,
    normalise_id_number,
    normalise_phone,
)
from gezhi.demo.citygen import (
    SYNTHETIC_DISTRICT_CODE,
    GridsNotEmpty,
    build_synthetic_regions,
    delete_synthetic_city,
    generate_city,
    plan_of,
)
from gezhi.orgs.models import Organisation, OrgKind
from gezhi.people.codes import HouseholdRelation, IdType, ResidenceKind, ResidenceRelation
from gezhi.people.models import Household, HouseholdMember, Person, PersonTag, Residence
from gezhi.places.models import Building, Component, Estate, House, HouseUsage, Unit
from gezhi.regions import selectors, spatial
from gezhi.regions.models import GridKind, Region

SEED = 7
PER_GRID = 200


@pytest.fixture(scope="module")
def city(django_db_setup, django_db_blocker):
    with django_db_blocker.unblock():
        with transaction.atomic():
            grids = build_synthetic_regions(grids=3, seed=SEED)
            counts = generate_city(grids=grids, people_per_grid=PER_GRID, seed=SEED,
                                   showcase={grids[0].code})
            yield SimpleNamespace(grids=grids, counts=counts, path=grids[0].path.split(".")[0])
            transaction.set_rollback(True)
    spatial.invalidate_local()


@pytest.fixture
def people(city, db):
    return list(Person.objects.filter(grid__in=city.grids))


def test_counts_are_what_was_asked_and_what_was_stored(city, people):
    assert city.counts["grids"] == 3
    assert city.counts["people"] == len(people) == 3 * PER_GRID
    assert Counter(p.grid_id for p in people) == {g.pk: PER_GRID for g in city.grids}
    in_city = {"grid__in": city.grids}
    assert city.counts["estates"] == Estate.objects.filter(**in_city).count() > 0
    assert city.counts["buildings"] == Building.objects.filter(**in_city).count() > 0
    assert city.counts["units"] == Unit.objects.filter(building__grid__in=city.grids).count()
    assert city.counts["houses"] == House.objects.filter(**in_city).count() > 0
    assert city.counts["households"] == Household.objects.filter(**in_city).count() > 0
    assert city.counts["organisations"] == Organisation.objects.filter(**in_city).count() > 0
    assert city.counts["components"] == Component.objects.filter(**in_city).count() > 0
    assert city.counts["residences"] == Residence.objects.filter(
        person__grid__in=city.grids).count()
    assert city.counts["person_tags"] == PersonTag.objects.filter(
        person__grid__in=city.grids).count()


def test_id_numbers_are_valid_and_match_birth_date_and_sex(city, people):
    residents = [p for p in people if p.id_type == IdType.RESIDENT_ID]
    assert len(residents) >= 0.97 * len(people)
    numbers = []
    for person in residents:
        number = get_sensitive(person, "id_number")
        assert normalise_id_number(number) == number  # 18 characters, birth date, check digit
        assert id_birth_date(number) == person.birth_date
        assert id_sex(number) == person.sex
        assert person.id_tail == number[-4:]
        assert person.id_number_mask == mask_id_number(number)
        assert number not in (person.id_number_ct, person.id_number_mask)  # never in clear
        numbers.append(number)
    assert len(set(numbers)) == len(numbers)
    prefixes = Counter(n[:6] for n in numbers)
    assert prefixes.most_common(1)[0][0] == "370481"  # mostly born in 滕州
    assert len(prefixes) > 3  # and some from elsewhere


def test_phones_are_valid_unique_mobiles(city, people):
    phones = []
    for person in people:
        if not person.phone_ct:
            assert person.phone_mask == person.phone_tail == ""
            continue
        phone = get_sensitive(person, "phone")
        assert normalise_phone(phone) == phone and len(phone) == 11
        assert person.phone_mask == mask_phone(phone) and person.phone_tail == phone[-4:]
        phones.append(phone)
    assert len(phones) > 0.7 * len(people)
    assert len(set(phones)) == len(phones)


def test_blind_index_lookups_find_each_person(city, people):
    for person in people[::37]:
        number = get_sensitive(person, "id_number")
        assert list(Person.objects.filter(**lookup("id_number", number))) == [person]
        if person.phone_ct:
            phone = get_sensitive(person, "phone")
            assert list(Person.objects.filter(**lookup("phone", phone))) == [person]


def test_every_located_thing_lies_inside_its_grid(city, db):
    shapes = {g.pk: shape(g.boundary) for g in Region.objects.filter(pk__in=[g.pk for g in
                                                                            city.grids])}
    points = []
    for model in (Estate, Building, House, Organisation, Component):
        rows = list(model.objects.filter(grid__in=city.grids).values_list("grid_id", "lon",
                                                                         "lat"))
        assert rows, model
        for grid_id, lon, lat in rows:
            assert shapely.contains_xy(shapes[grid_id], lon, lat), (model, grid_id, lon, lat)
            points.append((grid_id, lat, lon))
    # The spatial index (what binds a located thing to its grid) agrees with every point.
    found = selectors.grids_at(points=[(lat, lon) for _g, lat, lon in points])
    assert [g.pk if g else None for g in found] == [grid_id for grid_id, _lat, _lon in points]
    for house in House.objects.filter(grid__in=city.grids).select_related("building"):
        assert (house.lat, house.lon, house.grid_id) == (
            house.building.lat, house.building.lon, house.building.grid_id)


def test_people_live_in_the_grid_of_their_house(city, people):
    current = Residence.objects.filter(person__grid__in=city.grids, kind=ResidenceKind.LIVES,
                                       moved_out=None).select_related("house", "person")
    per_person = Counter(r.person_id for r in current)
    assert set(per_person) == {p.pk for p in people} and set(per_person.values()) == {1}
    for residence in current:
        assert residence.person.grid_id == residence.house.grid_id
        assert residence.moved_in >= residence.person.birth_date
        if residence.house.usage == HouseUsage.RENTED:
            assert residence.relation == ResidenceRelation.TENANT
    lived_in = {r.house_id for r in current}
    houses = House.objects.filter(grid__in=city.grids)
    for house in houses:
        occupied = house.usage in (HouseUsage.OWNER_OCCUPIED, HouseUsage.RENTED)
        assert (house.pk in lived_in) == occupied, house.address
    usage = Counter(h.usage for h in houses)
    assert usage[HouseUsage.OWNER_OCCUPIED] > usage[HouseUsage.RENTED] > 0
    assert usage[HouseUsage.VACANT] > 0


def test_residence_history_and_separated_registration_are_kept(city, db):
    residences = Residence.objects.filter(person__grid__in=city.grids)
    moved = residences.exclude(moved_out=None)
    assert moved.exists()
    assert all(r.moved_in < r.moved_out for r in moved)
    # 人户分离: registered at one house, living at another.
    separated = residences.filter(kind=ResidenceKind.REGISTERED, moved_out=None)
    assert separated.exists()
    for registered in separated:
        lives = residences.get(person=registered.person_id, kind=ResidenceKind.LIVES,
                               moved_out=None)
        assert lives.house_id != registered.house_id


def test_each_household_has_one_head_at_its_house(city, db):
    households = Household.objects.filter(grid__in=city.grids).prefetch_related("members")
    sizes = Counter()
    for household in households:
        members = list(household.members.all())
        heads = [m for m in members if m.relation == HouseholdRelation.HEAD]
        assert len(heads) == 1 and heads[0].person_id == household.head_id
        assert 1 <= len(members) <= 5
        sizes[len(members)] += 1
        homes = set(Residence.objects.filter(person__in=[m.person_id for m in members],
                                             kind=ResidenceKind.LIVES, moved_out=None)
                    .values_list("house_id", flat=True))
        assert homes == {household.house_id}
    assert len(sizes) == 5  # one to five people
    assert HouseholdMember.objects.filter(household__grid__in=city.grids).count() == 3 * PER_GRID


def test_tags_include_care_groups_and_rare_restricted_ones(city, db):
    tags = PersonTag.objects.filter(person__grid__in=city.grids).select_related("tag", "person")
    names = Counter(t.tag.name for t in tags)
    assert names["独居老人"] and names["残疾人"]
    restricted = [t for t in tags if t.tag.restricted]
    assert 1 <= len(restricted) <= 0.02 * 3 * PER_GRID
    showcase = city.grids[0]
    care_households = {m.household_id for m in HouseholdMember.objects.filter(
        person__tags__in=[t for t in tags if not t.tag.restricted and t.person.grid_id ==
                          showcase.pk])}
    assert len(care_households) >= 3
    assert any(t.person.grid_id == showcase.pk for t in restricted)
    for tag in tags:
        if tag.tag.code == "lone_elderly":
            assert tag.person.memberships.get().household.members.count() == 1


def test_organisations_have_valid_unique_credit_codes(city, db):
    orgs = list(Organisation.objects.filter(grid__in=city.grids))
    codes = [o.credit_code for o in orgs]
    assert all(normalise_credit_code(c) == c for c in codes)
    assert len(set(codes)) == len(codes)
    kinds = Counter(o.kind for o in orgs)
    assert kinds[OrgKind.SHOP] > 0
    shop = next(o for o in orgs if o.kind == OrgKind.SHOP)
    assert shop.credit_code.startswith("92") and normalise_phone(get_sensitive(shop,
                                                                               "contact_phone"))
    assert Estate.objects.filter(grid__in=city.grids, property_company__isnull=False).exists()


def test_grids_get_a_description_residents_can_search(city, db):
    for grid in Region.objects.filter(pk__in=[g.pk for g in city.grids]):
        plan = plan_of(grid)
        assert plan is not None and plan.estates
        names = set(Estate.objects.filter(grid=grid).values_list("name", flat=True))
        assert names == {name for name, _n in plan.estates}
        for name, count in plan.estates:
            assert Building.objects.filter(grid=grid, estate__name=name).count() == count
    components = Component.objects.filter(grid__in=city.grids).select_related("component_class")
    assert all(c.name == c.component_class.name for c in components)
    assert {"路灯", "消火栓", "监控电子眼", "污水井盖"} <= {c.name for c in components}
    component_codes = [c.code for c in components]
    assert len(set(component_codes)) == len(component_codes)
    assert all(len(c) == 16 and c.startswith(SYNTHETIC_DISTRICT_CODE) for c in component_codes)


def _snapshot(grids):
    return [(p.name, p.sex, p.birth_date, get_sensitive(p, "id_number"), get_sensitive(p, "phone"))
            for p in Person.objects.filter(grid__in=grids).order_by("grid__path", "id")]


def test_the_same_seed_gives_the_same_city(city, db):
    grids = build_synthetic_regions(grids=2, seed=3, district_code="370498")
    runs = []
    for seed in (11, 11, 12):
        with transaction.atomic():
            generate_city(grids=grids, people=150, seed=seed)
            runs.append(_snapshot(grids))
            transaction.set_rollback(True)
    assert len(runs[0]) == 150
    assert runs[0] == runs[1]
    assert runs[0] != runs[2]


def test_filled_grids_are_refused(city, db):
    with pytest.raises(GridsNotEmpty):
        generate_city(grids=city.grids, people=10, seed=SEED)


def test_dedicated_grids_get_organisations_and_components_but_no_homes(city, db):
    grids = build_synthetic_regions(grids=6, seed=4, district_code="370497")
    dedicated = [g for g in grids if g.grid_kind == GridKind.DEDICATED]
    assert len(dedicated) == 1 and dedicated[0].purpose
    counts = generate_city(grids=grids, people=500, seed=4)
    assert counts["people"] == 500
    assert not House.objects.filter(grid=dedicated[0]).exists()
    assert not Person.objects.filter(grid=dedicated[0]).exists()
    assert Organisation.objects.filter(grid=dedicated[0]).count() >= 1
    assert Component.objects.filter(grid=dedicated[0]).count() >= 10


def test_the_synthetic_city_keeps_clear_of_the_demo(city, db):
    district = Region.objects.get(code=SYNTHETIC_DISTRICT_CODE)
    assert shape(district.boundary).bounds[2] < 116.96  # the demo lies east of 117.1
    grids = Region.objects.grids().filter(path__startswith=district.path)
    assert sum(g.area_m2 for g in grids) == pytest.approx(district.area_m2, rel=1e-3)


def test_gen_city_command_generates_and_replaces(db):
    out = StringIO()
    call_command("gen-city", "--grids", "4", "--people", "300", "--seed", "5",
                 "--district", "370496", stdout=out)
    text = out.getvalue()
    assert "模拟城市已生成" in text and "人/秒 people/s" in text
    assert "网格 grids 4/4 · 人口 people 300/300" in text  # the progress line
    district = Region.objects.get(code="370496")
    grids = Region.objects.grids().filter(path__startswith=district.path)
    assert grids.count() == 4
    assert Person.objects.filter(grid__in=grids).count() == 300

    with pytest.raises(CommandError, match="--replace"):
        call_command("gen-city", "--grids", "4", "--people", "300", "--district", "370496",
                     stdout=StringIO())
    call_command("gen-city", "--grids", "2", "--people", "100", "--district", "370496",
                 "--replace", stdout=StringIO())
    grids = Region.objects.grids().filter(path__startswith="370496.")
    assert grids.count() == 2
    assert Person.objects.filter(grid__path__startswith="370496.").count() == 100


@pytest.mark.parametrize("argv", [["--grids", "0"], ["--people", "-1"],
                                  ["--district", "370481"], ["--district", "3704"]])
def test_gen_city_refuses_bad_arguments(db, argv):
    before = Region.objects.count(), Person.objects.count()
    with pytest.raises(CommandError, match="--"):
        call_command("gen-city", *argv, stdout=StringIO())
    assert (Region.objects.count(), Person.objects.count()) == before


def test_only_a_synthetic_district_is_deleted(db):
    from gezhi.regions.services import region_create

    region_create(code="370495", name="真实的区县", level="district")
    with pytest.raises(GridsNotEmpty):
        delete_synthetic_city(district_code="370495")
    assert Region.objects.filter(code="370495").exists()
