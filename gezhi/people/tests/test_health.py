"""Grid health (网格设置原则): workload per grid, flags against the community median, and
split/merge proposals, in the selector, the API and the console page.

The lopsided community built here lies in subdistrict A, so leader_a and dispatcher_a see it and
chief_a1 (community A1 only) does not. Its basic grids are squares in a row, 0.005° wide:

    G7 (dedicated, 3)
    G1 (10) | G2 (55) | G3 (40) | G4 (130) | G5 (15) | G6 (40)
    G8 (5) touches G1 at one corner only

Households of the basic grids: 5, 10, 15, 40, 40, 55, 130 — median 40, so above 60 is too
large (G4) and below 20 too small (G8, G1, G5).
"""

import pytest
from django.test import Client

from conftest import square
from gezhi.people.health import grid_health
from gezhi.people.models import Household, Person, Tag
from gezhi.people.services import (
    household_create,
    person_create,
    person_tag_add,
    person_tag_remove,
    residence_move_in,
)
from gezhi.places.models import House
from gezhi.places.services import building_create, house_create
from gezhi.regions.models import GridKind, Level
from gezhi.regions.services import region_create

LOPSIDED = "370481001002"
W = 0.005
LAT0, LON0 = 35.120, 117.250
ROW = [("001", 10), ("002", 55), ("003", 40), ("004", 130), ("005", 15), ("006", 40)]


@pytest.fixture
def lopsided(world):
    community = region_create(code=LOPSIDED, name="失衡社区", level=Level.COMMUNITY,
                              parent=world.sub_a,
                              boundary=square(LON0 - W, LAT0 - W, LON0 + 6 * W, LAT0 + 2 * W))
    grids = {}
    for i, (suffix, _n) in enumerate(ROW):
        grids[suffix] = region_create(
            code=LOPSIDED + suffix, name=f"G{i + 1}", level=Level.GRID, parent=community,
            grid_kind=GridKind.BASIC, sort_order=i,
            boundary=square(LON0 + i * W, LAT0, LON0 + (i + 1) * W, LAT0 + W))
    grids["901"] = region_create(
        code=LOPSIDED + "901", name="G7", level=Level.GRID, parent=community,
        grid_kind=GridKind.DEDICATED, purpose="实验小学", sort_order=901,
        boundary=square(LON0, LAT0 + W, LON0 + W, LAT0 + 2 * W))
    grids["008"] = region_create(
        code=LOPSIDED + "008", name="G8", level=Level.GRID, parent=community,
        grid_kind=GridKind.BASIC, sort_order=8,
        boundary=square(LON0 - W, LAT0 - W, LON0, LAT0))
    households = dict(ROW) | {"901": 3, "008": 5}
    Household.objects.bulk_create([Household(grid=grids[suffix], number=f"{suffix}-{k}")
                                   for suffix, n in households.items() for k in range(n)])
    return community


@pytest.fixture
def busy_a1(base, world):
    """Community A1 with households, people and tags in both grids, one tag removed."""
    household_create(actor=None, house=base.house_a1, head=base.zhang_a1)
    household_create(actor=None, house=base.house_a1_2, head=base.zhao_a1)
    building = building_create(actor=None, name="5号楼", lat=35.08, lon=117.13, units=1)
    houses = [house_create(actor=None, building=building, number=n) for n in ("101", "102",
                                                                              "201")]
    care, disabled, released = (Tag.objects.get(code=c) for c in
                                ("empty_nest", "disabled", "released_prisoner"))
    people = []
    for i, house in enumerate(houses):
        person = person_create(actor=None, grid=world.grid_a2, name=f"二网格居民{i}",
                               id_type="passport", id_number=f"G{i:08d}")
        residence_move_in(actor=None, person=person, house=house, relation="owner")
        people.append(person)
    household_create(actor=None, house=houses[0], head=people[0],
                     members=[(people[1], "spouse")])
    person_tag_add(actor=None, person=people[0], tag=care)
    person_tag_add(actor=None, person=people[0], tag=disabled)  # two tags, one person
    person_tag_add(actor=None, person=people[1], tag=released)
    removed = person_tag_add(actor=None, person=people[2], tag=disabled)
    person_tag_remove(actor=None, person_tag=removed)
    return world.comm_a1


def recount(grid, special: bool) -> dict:
    """The plain, one-grid-at-a-time count the report must agree with."""
    tagged = Person.objects.filter(grid=grid, tags__removed_at__isnull=True)
    return {
        "households": Household.objects.filter(grid=grid).count(),
        "people": Person.objects.filter(grid=grid).count(),
        "care_tagged": tagged.filter(tags__tag__sensitivity="normal").distinct().count(),
        "special_tagged": (tagged.filter(tags__tag__sensitivity="restricted").distinct().count()
                           if special else None),
        "houses": House.objects.filter(grid=grid).count(),
    }


def numbers(row) -> dict:
    return {key: row[key] for key in ("households", "people", "care_tagged", "special_tagged",
                                      "houses")}


# --- The numbers -----------------------------------------------------------------------------


@pytest.mark.parametrize(("persona", "special"), [("chief_a1", True), ("leader_a", True),
                                                  ("dispatcher_a", False), ("admin", True)])
def test_report_numbers_equal_a_plain_recount(busy_a1, world, persona, special):
    body = world.api(persona).get(f"/api/v1/regions/{busy_a1.code}/health").json()
    assert body["special_visible"] is special
    assert [g["code"] for g in body["grids"]] == [world.grid_a1.code, world.grid_a2.code]
    for row, grid in zip(body["grids"], (world.grid_a1, world.grid_a2), strict=True):
        assert numbers(row) == recount(grid, special)
    # Spelled out once, so the recount itself is checked too.
    a1, a2 = body["grids"]
    assert (a1["households"], a1["people"], a1["care_tagged"], a1["houses"]) == (2, 2, 1, 2)
    assert (a2["households"], a2["people"], a2["care_tagged"], a2["houses"]) == (1, 3, 1, 3)
    assert (a1["special_tagged"], a2["special_tagged"]) == ((1, 1) if special else (None, None))
    assert a1["area_m2"] == world.grid_a1.area_m2


def test_report_query_count_does_not_grow_with_grids(busy_a1, lopsided, world,
                                                     django_assert_max_num_queries):
    client = world.api("leader_a")
    client.get("/api/v1/auth/me")
    for code in (busy_a1.code, LOPSIDED):
        # token, role assignments, community, grids, households, people, houses, tags
        with django_assert_max_num_queries(8):
            assert client.get(f"/api/v1/regions/{code}/health").status_code == 200


# --- Flags and proposals ---------------------------------------------------------------------


def test_lopsided_community_is_flagged_against_its_median(lopsided, world):
    report = grid_health(viewer=world.user("leader_a"), community=lopsided)
    assert report.median_households == 40
    flags = {r.grid.name: r.flag for r in report.rows}
    assert flags == {"G1": "under", "G2": "", "G3": "", "G4": "over", "G5": "under", "G6": "",
                     "G7": "", "G8": "under"}
    dedicated = next(r for r in report.rows if r.grid.name == "G7")
    assert (dedicated.compared, dedicated.ratio) == (False, None)
    assert next(r for r in report.rows if r.grid.name == "G4").ratio == 3.25


def test_lopsided_community_gets_split_and_merge_proposals(lopsided, world):
    report = grid_health(viewer=world.user("leader_a"), community=lopsided)
    # 130 households against a median of 40: three parts of about 43 come nearest.
    assert [(s.load.grid.name, s.parts, s.households_per_part) for s in report.splits] == [
        ("G4", 3, 43)]
    # G5 (15) goes with its lighter neighbour G6 (40): 55, not above 60. G1 (10) + G2 (55)
    # would be 65; G8 only touches G1 at a corner, which makes no neighbour; the dedicated
    # grid G7 is never a partner.
    assert [(m.load.grid.name, m.neighbour.grid.name, m.households) for m in report.merges] == [
        ("G5", "G6", 55)]
    assert sorted(r.grid.name for r in report.unmatched) == ["G1", "G8"]


def test_proposals_in_the_api(lopsided, world):
    body = world.api("dispatcher_a").get(f"/api/v1/regions/{LOPSIDED}/health").json()
    assert (body["median_households"], body["over_factor"], body["under_factor"]) == (40, 1.5,
                                                                                     0.5)
    assert body["splits"] == [{
        "code": LOPSIDED + "004", "name": "G4", "households": 130, "parts": 3,
        "households_per_part": 43,
        "message": "建议将“G4”(130 户)拆分为 3 个网格,每个约 43 户。"}]
    assert [(m["code"], m["neighbour_code"], m["households"]) for m in body["merges"]] == [
        (LOPSIDED + "005", LOPSIDED + "006", 55)]
    assert "与相邻的“G6”(40 户)合并" in body["merges"][0]["message"]
    assert sorted(body["unmatched"]) == [LOPSIDED + "001", LOPSIDED + "008"]
    g4 = next(g for g in body["grids"] if g["name"] == "G4")
    assert (g4["flag"], g4["flag_label"]) == ("over", "规模过大")


def test_balanced_community_has_nothing_to_propose(lopsided, world):
    Household.objects.filter(grid__code__in=[LOPSIDED + s for s in ("001", "004", "005", "008")]
                             ).delete()
    grids = {g.code[-3:]: g for g in lopsided.children.all()}
    Household.objects.bulk_create([Household(grid=grids[s], number=f"{s}-{k}")
                                   for s in ("001", "004", "005", "008") for k in range(40)])
    report = grid_health(viewer=world.user("leader_a"), community=lopsided)
    assert (report.splits, report.merges, report.unmatched) == ([], [], [])
    assert {r.flag for r in report.rows} == {""}


def test_community_without_households_is_not_flagged(base, world):
    report = grid_health(viewer=world.user("chief_a1"), community=world.comm_a1)
    assert report.median_households == 0
    assert {r.flag for r in report.rows} == {""}
    assert (report.splits, report.merges) == ([], [])


# --- Who may see it --------------------------------------------------------------------------


@pytest.mark.parametrize(("persona", "code", "status"), [
    ("chief_a1", "370481001001", 200), ("leader_a", "370481001001", 200),
    ("dispatcher_a", "370481001001", 200), ("admin", "370481002001", 200),
    ("worker_a1", "370481001001", 404),  # one grid is not the whole community
    ("worker_b1", "370481002001", 404), ("worker_b1", "370481001001", 404),
    ("chief_a1", "370481002001", 404), ("resident", "370481001001", 404),
    ("handler", "370481001001", 404),
    ("admin", "370481001001001", 404),  # a grid is not a community
    ("admin", "370481001999", 404),
])
def test_health_api_scope(base, world, persona, code, status):
    response = world.api(persona).get(f"/api/v1/regions/{code}/health")
    assert response.status_code == status, response.content
    if status == 404:
        assert response.json()["code"] == "not_found"


def test_health_api_needs_login(world):
    response = Client().get(f"/api/v1/regions/{world.comm_a1.code}/health")
    assert (response.status_code, response.json()["code"]) == (401, "not_authenticated")


# --- The console page ------------------------------------------------------------------------


def test_chief_sees_their_community_at_once(busy_a1, world):
    page = world.client("chief_a1").get("/console/health/").content.decode()
    assert "文化路第一网格" in page and "文化路第二网格" in page
    assert "特殊人群" in page  # the chief sees special groups, so the column is there
    assert "暂无调整建议" in page
    assert 'class="load-bar__fill"' in page


def test_dispatcher_sees_no_special_groups_column(busy_a1, world):
    page = world.client("dispatcher_a").get(
        f"/console/health/?community={busy_a1.code}").content.decode()
    assert "文化路第一网格" in page
    assert "特殊人群" not in page


def test_leader_chooses_a_community_and_sees_flags_and_proposals(busy_a1, lopsided, world):
    client = world.client("leader_a")
    choose = client.get("/console/health/").content.decode()
    assert "请选择社区" in choose and "失衡社区" in choose and "文化路社区" in choose
    assert "<table" not in choose
    page = client.get(f"/console/health/?community={LOPSIDED}").content.decode()
    assert "规模过大" in page and "规模过小" in page
    assert "建议将“G4”(130 户)拆分为 3 个网格,每个约 43 户。" in page
    assert "与相邻的“G6”(40 户)合并" in page
    assert "“G8”(5 户)规模过小,但没有可合并的相邻网格" in page
    assert "load-bar__fill--over" in page and "不参与比较" in page


def test_grid_worker_has_no_community_to_report_on(base, world):
    client = world.client("worker_a1")
    page = client.get("/console/health/")
    assert page.status_code == 200
    assert "您的管辖范围内没有整个社区" in page.content.decode()
    assert client.get(f"/console/health/?community={world.comm_a1.code}").status_code == 404


def test_page_is_closed_to_residents_and_anonymous_visitors(world):
    assert world.client("resident").get("/console/health/").status_code == 404
    response = world.client(None).get("/console/health/")
    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/login/?next=")


def test_page_is_in_the_console_navigation(world):
    page = world.client("chief_a1").get("/console/health/").content.decode()
    assert '<a href="/console/health/" aria-current="page">网格健康</a>' in page
