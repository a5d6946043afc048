"""The demo subdistrict: shaped like seed 000, tiled without gaps or overlaps, idempotent.

The demo is loaded once for the module inside a transaction that is rolled back at the end,
so the other test modules never see it; each test runs in its own savepoint on top of it.
"""

import itertools
import statistics
from collections import Counter
from io import StringIO

import pytest
import shapely
from axes.models import AccessAttempt
from django.core.management import call_command
from django.db import models, transaction
from django.test import Client
from shapely.geometry import shape

from gezhi.accounts.models import Department, RoleAssignment, User
from gezhi.accounts.roles import Perm, Role
from gezhi.accounts.scope import scope_for
from gezhi.core.errors import ValidationFailed
from gezhi.demo import data
from gezhi.demo.citygen import plan_of
from gezhi.demo.loader import load_demo
from gezhi.fieldwork.models import DiaryEntry, Patrol, Visit
from gezhi.orgs.models import Organisation
from gezhi.party.models import PartyOrg, PartyOrgKind
from gezhi.people.codes import PoliticalStatus, ResidenceType
from gezhi.people.models import Household, Person, PersonTag, Residence
from gezhi.places.models import Building, Component, Estate, House, HouseUsage
from gezhi.regions import selectors, spatial
from gezhi.regions.boundaries import tiling_problems
from gezhi.regions.geometry import to_metres
from gezhi.regions.models import GridKind, GridPost, Level, PostKind, Region, StaffMember

DEMO_PASSWORD = "demo-test-pass-7"
DEMO_USERNAMES = [u[0] for u in data.DEMO_USERS]


@pytest.fixture(scope="module")
def demo(django_db_setup, django_db_blocker):
    with django_db_blocker.unblock():
        with transaction.atomic():
            summary = load_demo(password=DEMO_PASSWORD)
            yield summary
            transaction.set_rollback(True)
    spatial.invalidate_local()


@pytest.fixture
def subdistrict(demo, db):
    return Region.objects.get(code=data.SUBDISTRICT_CODE)


def test_the_subdistrict_has_the_seeds_communities_and_grids(demo, subdistrict):
    assert demo["created"] is True
    communities = Region.objects.filter(parent=subdistrict).order_by("code")
    assert communities.count() == 10
    assert {"文化路社区", "育才路社区"} <= {c.name for c in communities}
    assert all(c.level == Level.COMMUNITY for c in communities)
    grids = Region.objects.grids().filter(path__startswith=subdistrict.path)
    assert grids.filter(grid_kind=GridKind.BASIC).count() == 128
    assert grids.filter(grid_kind=GridKind.DEDICATED).count() == 48
    # The tree above: 枣庄市 (city) → 滕州市 (district) → 北辛街道.
    assert [r.code for r in subdistrict.ancestors()] == ["370400", "370481"]
    assert subdistrict.parent.parent.level == Level.CITY

    wenhua = Region.objects.get(code="370481001001")
    assert wenhua.name == "文化路社区"
    first = Region.objects.get(code="370481001001001")
    assert first.name == "文化路社区第1网格"
    assert "善国盛景小区" in first.description
    for grid in grids.filter(grid_kind=GridKind.DEDICATED):
        assert grid.code[-3:] >= "901", grid.code
        assert grid.purpose and grid.name == f"{grid.purpose}专属网格"
    assert grids.filter(purpose="滕州市第一中学").exists()
    assert grids.filter(purpose="滕州市人民医院").exists()
    for grid in grids.filter(grid_kind=GridKind.BASIC):
        assert int(grid.code[-3:]) < 900
        assert "号楼" in grid.description  # residents find their grid by estate and building


def test_grid_staff_are_in_the_seeds_numbers(demo, subdistrict):
    assert demo["staff_by_kind"] == {
        PostKind.CHIEF: 10, PostKind.INSTRUCTOR: 120, PostKind.FULL_TIME: 128,
        PostKind.PROFESSIONAL: 48, PostKind.PART_TIME: 13, PostKind.BUILDING_HEAD: 0}
    posts = GridPost.objects.select_related("grid__parent", "member")
    for community in Region.objects.filter(parent=subdistrict):
        chiefs = {p.member_id for p in posts.filter(kind=PostKind.CHIEF, grid__parent=community)}
        assert len(chiefs) == 1  # the community party secretary heads every grid
        secretary = StaffMember.objects.get(pk=chiefs.pop())
        assert secretary.title == f"{community.name}党委书记"
        grids = community.children.all()
        assert posts.filter(kind=PostKind.CHIEF, grid__parent=community).count() == len(grids)
        names = list(StaffMember.objects.filter(posts__grid__parent=community)
                     .values_list("name", flat=True).distinct())
        assert len(names) == len(set(names))
    for grid in Region.objects.grids().filter(grid_kind=GridKind.BASIC):
        kinds = sorted(posts.filter(grid=grid).values_list("kind", flat=True))
        assert kinds.count(PostKind.FULL_TIME) == 1 and kinds.count(PostKind.INSTRUCTOR) == 1
    for grid in Region.objects.grids().filter(grid_kind=GridKind.DEDICATED):
        assert posts.filter(grid=grid, kind=PostKind.PROFESSIONAL).count() == 1
    assert StaffMember.objects.get(posts__grid__code="370481001001001",
                                   posts__kind=PostKind.CHIEF).name == "刘合贵"

    phones = list(StaffMember.objects.values_list("work_phone", flat=True))
    assert len(phones) == len(set(phones)) == 319
    mobiles = [p for p in phones if not p.startswith("0632-")]
    assert all(len(p) == 11 and p.isdigit() and p[:2] in {"13", "15", "17", "18", "19"}
               for p in mobiles)
    assert 3 <= len(phones) - len(mobiles) <= 10  # a few 滕州 office landlines
    assert StaffMember.objects.filter(published=False).count() == 2


def test_party_organisations_follow_the_grids(demo, subdistrict):
    assert PartyOrg.objects.filter(kind=PartyOrgKind.WORKING_COMMITTEE,
                                   region=subdistrict).count() == 1
    committees = PartyOrg.objects.filter(kind=PartyOrgKind.COMMITTEE)
    assert committees.count() == 10
    branches = PartyOrg.objects.filter(kind=PartyOrgKind.BRANCH).select_related("parent",
                                                                                "region")
    assert branches.count() == 128
    for branch in branches:  # 支部建在网格上, under its community's 党委
        assert branch.region.grid_kind == GridKind.BASIC
        assert branch.parent.region_id == branch.region.parent_id
    assert Department.objects.filter(region=subdistrict).count() == len(data.DEPARTMENTS)


def test_every_communitys_grids_tile_it_without_gaps_or_overlaps(demo, subdistrict):
    communities = list(Region.objects.filter(parent=subdistrict))
    sub_geom = shape(subdistrict.boundary)
    lat0 = sub_geom.centroid.y
    community_area = sum(to_metres(shape(c.boundary), lat0).area for c in communities)
    assert community_area == pytest.approx(to_metres(sub_geom, lat0).area, rel=1e-4)
    for community in communities:
        c_geom = to_metres(shape(community.boundary), lat0)
        grids = [to_metres(shape(g.boundary), lat0) for g in community.children.all()]
        assert sum(g.area for g in grids) == pytest.approx(c_geom.area, rel=1e-4), community
        for a, b in itertools.combinations(grids, 2):
            assert a.intersection(b).area < 0.01  # m²
        assert c_geom.difference(shapely.union_all(grids)).area < 0.01  # no gap
        assert shapely.union_all(grids).difference(c_geom).area < 0.01  # nothing spills out
    for parent in [subdistrict, *communities]:
        assert tiling_problems(parent=parent) == [], parent


def test_a_point_in_each_grid_looks_up_to_that_grid(demo, subdistrict):
    grids = list(Region.objects.grids().filter(path__startswith=subdistrict.path))
    points = [shape(g.boundary).representative_point() for g in grids]
    found = selectors.grids_at(points=[(p.y, p.x) for p in points])
    assert [g.pk if g else None for g in found] == [g.pk for g in grids]
    school = next(g for g in grids if g.purpose == "滕州市第一中学")
    inside = shape(school.boundary).representative_point()
    assert selectors.grid_at(lat=inside.y, lon=inside.x) == school


def test_loading_twice_changes_and_duplicates_nothing(demo, subdistrict):
    def counts():
        return (Region.objects.count(), StaffMember.objects.count(), GridPost.objects.count(),
                PartyOrg.objects.count(), Department.objects.count(), User.objects.count(),
                RoleAssignment.objects.count(), Estate.objects.count(), House.objects.count(),
                Person.objects.count(), Household.objects.count(), Residence.objects.count(),
                PersonTag.objects.count(), Organisation.objects.count(),
                Component.objects.count(), Visit.objects.count(), DiaryEntry.objects.count(),
                Patrol.objects.count())

    before = counts()
    again = load_demo(password=DEMO_PASSWORD)
    assert again["created"] is False
    assert {k: v for k, v in again.items() if k not in ("created", "seconds")} == {
        k: v for k, v in demo.items() if k not in ("created", "seconds")}
    assert counts() == before


def test_loading_again_repairs_the_demo_passwords(demo, subdistrict):
    User.objects.filter(username="leader").update(password="!")
    load_demo(password="another-pass-9")
    assert User.objects.get(username="leader").check_password("another-pass-9")
    assert not User.objects.get(username="dispatcher").check_password(DEMO_PASSWORD)


def test_an_empty_password_is_refused(demo, subdistrict):
    with pytest.raises(ValidationFailed):
        load_demo(password="")


def test_loading_again_lifts_a_login_lockout(demo, subdistrict, settings):
    def log_in(password):
        client = Client()
        client.post("/accounts/login/", {"username": "gridworker", "password": password})
        return "_auth_user_id" in client.session

    # What django-axes records after a visitor mistyped the password too often.
    AccessAttempt.objects.create(username="gridworker", ip_address="127.0.0.1",
                                 failures_since_start=settings.AXES_FAILURE_LIMIT,
                                 user_agent="", http_accept="", path_info="/accounts/login/",
                                 get_data="", post_data="")
    assert not log_in(DEMO_PASSWORD)  # locked out
    load_demo(password=DEMO_PASSWORD)
    assert log_in(DEMO_PASSWORD)


@pytest.mark.parametrize("username", DEMO_USERNAMES)
def test_demo_users_can_log_in(demo, subdistrict, username):
    client = Client()
    response = client.post("/accounts/login/", {"username": username, "password": DEMO_PASSWORD})
    assert response.status_code == 302, response.content.decode()[:500]
    assert client.session.get("_auth_user_id") == str(User.objects.get(username=username).pk)


def test_demo_users_hold_their_roles(demo, subdistrict):
    users = {u.username: u for u in User.objects.filter(username__in=DEMO_USERNAMES)}
    assert users["admin"].is_superuser and users["admin"].is_staff
    assert scope_for(users["admin"], Perm.CONSOLE).everything
    assert scope_for(users["leader"], Perm.CONSOLE).paths == (subdistrict.path,)
    assert scope_for(users["dispatcher"], Perm.CONSOLE).paths == (subdistrict.path,)
    wenhua = Region.objects.get(code="370481001001")
    assert scope_for(users["gridchief"], Perm.CONSOLE).paths == (wenhua.path,)
    assert users["gridchief"].staff_member.name == users["gridchief"].display_name == "刘合贵"
    handler = users["handler"].role_assignments.get()
    assert handler.role == Role.HANDLER and handler.department.name == "北辛街道城管中队"
    assert users["resident"].role_assignments.get().role == Role.RESIDENT
    assert scope_for(users["resident"], Perm.CONSOLE).empty


def test_the_grid_workers_scope_is_exactly_their_grid(demo, subdistrict):
    worker = User.objects.get(username="gridworker")
    grid = Region.objects.get(code="370481001001001")
    member = worker.staff_member
    assert member.posts.get().grid == grid and member.posts.get().kind == PostKind.FULL_TIME
    assert worker.display_name == member.name
    assert list(selectors.region_list(viewer=worker)) == [grid]
    assert list(selectors.grid_list(viewer=worker)) == [grid]
    staff_grids = {p.grid_id for p in selectors.staff_list(viewer=worker)}
    assert staff_grids == {grid.pk}


def test_the_demo_command_prints_where_to_go_and_the_logins(demo, subdistrict, settings,
                                                           tmp_path):
    settings.STATIC_ROOT = tmp_path / "static"
    settings.STORAGES = {**settings.STORAGES, "staticfiles": {
        "BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"}}
    out = StringIO()
    call_command("demo", "--no-serve", "--port", "8123", "--password", DEMO_PASSWORD,
                 stdout=out)
    text = out.getvalue()
    assert "http://127.0.0.1:8123/" in text
    assert "http://127.0.0.1:8123/console/" in text
    assert "http://127.0.0.1:8123/api/v1/docs" in text
    assert DEMO_PASSWORD in text
    for username in DEMO_USERNAMES:
        assert f"  {username} " in text
    assert "网格员 · 文化路社区第1网格" in text
    assert "网格长 · 文化路社区(刘合贵)" in text
    assert "演示数据已存在" in text  # loaded by the fixture: not generated twice
    assert (tmp_path / "static").is_dir()
    assert Region.objects.grids().count() == 176


def test_residents_find_their_grid_by_estate_or_institution(demo, subdistrict):
    assert [g.code for g in selectors.public_grid_search(q="善国盛景小区")] == ["370481001001001"]
    hospital = list(selectors.public_grid_search(q="滕州市人民医院"))
    assert [g.grid_kind for g in hospital] == [GridKind.DEDICATED]
    staff = selectors.grid_posts(grids=hospital, published_only=True)[hospital[0].pk]
    assert [p.kind for p in staff] == [PostKind.CHIEF, PostKind.PROFESSIONAL]


def test_every_basic_grid_has_its_estates_houses_and_people(demo, subdistrict):
    assert demo["people"] == Person.objects.count() == data.DEMO_PEOPLE
    assert 120 <= demo["estates"] <= 170  # 街道共有居民小区100多个 (seed 000), and a few 宿舍
    grids = list(Region.objects.grids().filter(path__startswith=subdistrict.path))
    people = Counter(Person.objects.values_list("grid_id", flat=True))
    for grid in grids:
        if grid.grid_kind == GridKind.DEDICATED:  # schools, hospitals, markets: no homes
            assert people[grid.pk] == 0 and not House.objects.filter(grid=grid).exists()
            assert Organisation.objects.filter(grid=grid).exists()
            assert Component.objects.filter(grid=grid).exists()
            continue
        assert people[grid.pk] > 0, grid
        # The 覆盖范围 residents search by names exactly the estates and buildings stored.
        plan = plan_of(grid)
        assert {e.name: e.buildings.count() for e in Estate.objects.filter(grid=grid)} == dict(
            plan.estates), grid
    # Grids differ in workload, as real ones do: the grid-health report has work to do.
    loads = [people[g.pk] for g in grids if g.grid_kind == GridKind.BASIC]
    median = statistics.median(loads)
    assert max(loads) > 1.8 * median and min(loads) < 0.5 * median


def test_the_base_data_has_realistic_proportions(demo, subdistrict):
    usage = Counter(House.objects.values_list("usage", flat=True))
    houses = sum(usage.values())
    assert 0.68 < usage[HouseUsage.OWNER_OCCUPIED] / houses < 0.8
    assert 0.1 < usage[HouseUsage.RENTED] / houses < 0.2
    assert 0.04 < usage[HouseUsage.VACANT] / houses < 0.14
    assert 0.005 < usage[HouseUsage.COMMERCIAL] / houses < 0.04
    people = Person.objects.count()
    kinds = Counter(Person.objects.values_list("residence_type", flat=True))
    assert 0.72 < kinds[ResidenceType.REGISTERED] / people < 0.88
    assert 0.12 < kinds[ResidenceType.FLOATING] / people < 0.25
    assert 0 < kinds[ResidenceType.OVERSEAS] / people < 0.01
    members = Person.objects.filter(political_status=PoliticalStatus.CPC_MEMBER).count()
    assert 0.06 < members / people < 0.1
    assert 0.95 < Person.objects.filter(ethnicity="01").count() / people < 1
    assert Person.objects.filter(ethnicity="03").exists()  # 回族
    restricted = PersonTag.objects.filter(tag__sensitivity="restricted").count()
    assert 0 < restricted < 0.01 * people


def test_every_located_thing_of_the_demo_is_in_its_grid(demo, subdistrict):
    points = []
    for model in (Estate, Building, Organisation, Component):
        points += list(model.objects.values_list("grid_id", "lat", "lon"))
    found = selectors.grids_at(points=[(lat, lon) for _g, lat, lon in points])
    assert [g.pk if g else None for g in found] == [grid_id for grid_id, _lat, _lon in points]
    assert not Residence.objects.filter(moved_out=None, kind="lives").exclude(
        person__grid=models.F("house__grid")).exists()


def test_the_grid_workers_grid_shows_care_and_special_groups(demo, subdistrict):
    grid = Region.objects.get(code=data.SHOWCASE_GRID)
    worker = User.objects.get(username="gridworker")
    assert scope_for(worker, Perm.CONSOLE).paths == (grid.path,)
    tags = PersonTag.objects.filter(person__grid=grid, removed_at=None).select_related("tag")
    care = {t.person.memberships.get().household_id for t in tags if not t.tag.restricted}
    assert len(care) >= 3
    assert any(t.tag.restricted for t in tags)
    # The demo's resident login is 赵怀普, the elderly resident of seed 000, head of a household.
    resident = Person.objects.get(name=data.RESIDENT_NAME)
    assert resident.grid == grid and resident.headed_households.exists()


def test_the_pilot_community_records_its_field_work(demo, subdistrict):
    """文化路社区 visits its households (mostly those with care tags), keeps a diary of which
    some entries became events, and the demo grid worker has two patrols with routes."""
    from gezhi.fieldwork import selectors as field
    from gezhi.fieldwork.models import VisitOutcome

    wenhua = Region.objects.get(code="370481001001")
    visits = Visit.objects.filter(grid__path__startswith=subdistrict.path)
    assert 250 <= visits.count() <= 700
    assert visits.filter(grid__path__startswith=wenhua.path).count() == visits.count()
    outcomes = Counter(visits.values_list("outcome", flat=True))
    assert outcomes[VisitOutcome.MET] > outcomes[VisitOutcome.NOBODY] > 0
    assert outcomes[VisitOutcome.REFUSED] > 0
    # Every visitor records in the grid visited (the grid chief in all of them).
    for v in visits.select_related("visitor", "grid"):
        assert scope_for(v.visitor, Perm.FIELD_RECORD).covers_path(v.grid.path), v
    # Mostly households with care tags.
    tagged = PersonTag.objects.filter(removed_at__isnull=True, tag__group="care",
                                      person__residences__moved_out__isnull=True)
    tagged_houses = set(tagged.values_list("person__residences__house_id", flat=True))
    assert sum(v.house_id in tagged_houses for v in visits) > 0.7 * visits.count()
    met = visits.filter(outcome=VisitOutcome.MET)
    assert Visit.people_met.through.objects.filter(visit__in=met).count() >= met.count()

    diary = DiaryEntry.objects.filter(grid__path__startswith=wenhua.path)
    assert diary.count() == 60 and diary.filter(event__isnull=False).count() >= 5
    patrols = list(Patrol.objects.filter(worker__username="gridworker"))
    assert len(patrols) == 2
    grid = Region.objects.get(code=data.SHOWCASE_GRID)
    for p in patrols:
        assert p.grid == grid and len(p.track) >= 100 and 2000 < p.distance_m < 8000
        found = selectors.grids_at(points=[(q[0], q[1]) for q in p.track])
        assert {g.pk for g in found if g is not None} == {grid.pk} and None not in found

    # The demo grid worker has a due list that is neither empty nor everything.
    worker = User.objects.get(username="gridworker")
    report = field.coverage(viewer=worker)["totals"]
    assert 0 < report["overdue"] < report["tagged_households"]
    assert 0 < report["tagged_visited"] < report["tagged_households"]
    assert field.households_due(viewer=worker)


def test_the_demo_resident_follows_their_own_reports(demo, subdistrict, client):
    from gezhi.events.models import Event, State

    mine = Event.objects.filter(reporter__username="resident").order_by("reported_at")
    assert [e.state for e in mine] == [State.CLOSED, State.DISPATCHED]
    assert all(e.source == "resident" and e.grid.code == data.SHOWCASE_GRID for e in mine)
    client.force_login(User.objects.get(username="resident"))
    page = client.get("/my/").content.decode()
    assert mine[0].serial in page and mine[1].serial in page
    closed = client.get(f"/my/{mine[0].serial}/").content.decode()
    assert "已更换灯泡" in closed and 'name="rating"' in closed
