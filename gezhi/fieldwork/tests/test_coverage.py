"""Visit coverage (走访覆盖) equals a plain recount, house by house, for every viewer."""

import datetime as dt
import random

import pytest

from gezhi.accounts.roles import Perm
from gezhi.accounts.scope import scope_for
from gezhi.core import clock
from gezhi.fieldwork import selectors
from gezhi.fieldwork.models import Visit, VisitOutcome, VisitRule
from gezhi.fieldwork.tests.conftest import NOW, error, get, local, resident, visit
from gezhi.people.models import PersonTag, Residence
from gezhi.people.services import person_tag_remove, residence_move_out
from gezhi.places.models import House
from gezhi.places.services import building_create, house_create

pytestmark = pytest.mark.django_db

TAGS = ["lone_elderly", "disabled", "left_behind_child", "veteran", "empty_nest",
        "community_correction", None, None, None]


@pytest.fixture
def town(world, base):
    """Houses in A-1, A-2 and B-1: some empty, some with people who moved out or lost a tag,
    visits of every outcome over the last 80 days."""
    rng = random.Random(5)
    b_a2 = building_create(actor=None, name="8号楼", lat=35.08, lon=117.13, units=1)
    b_b1 = building_create(actor=None, name="9号楼", lat=35.08, lon=117.23, units=1)
    houses = [base.house_a1, base.house_a1_2, base.house_b1]
    for building in (b_a2, b_b1, base.building_a1):
        for n in range(6):
            houses.append(house_create(actor=None, building=building, number=f"5{n:02d}",
                                       unit=building.units.order_by("sort_order").last()))
    for house in houses[3:]:
        for _k in range(rng.choice([0, 1, 1, 2])):
            code = rng.choice(TAGS)
            person = resident(house, code)
            if code and rng.random() < 0.15:
                person_tag_remove(actor=None, person_tag=person.tags.get())
            if rng.random() < 0.1:
                residence_move_out(actor=None, residence=Residence.objects.get(person=person))
    PersonTag.objects.update(added_at=local(2025, 12, 1, 9, 0))
    visitor = {world.grid_a1.pk: "worker_a1", world.grid_a2.pk: "chief_a1",
               world.grid_b1.pk: "worker_b1"}
    for house in houses:
        for _k in range(rng.choice([0, 1, 2, 3])):
            when = NOW - dt.timedelta(days=rng.randint(0, 80), hours=rng.randint(1, 8))
            outcome = rng.choice([VisitOutcome.MET] * 4 + [VisitOutcome.NOBODY,
                                                           VisitOutcome.REFUSED])
            plan = when.date() + dt.timedelta(days=rng.randint(1, 20)) \
                if rng.random() < 0.3 else None
            visit(world, visitor[house.grid_id], house, when, outcome, next_visit_on=plan)
    return houses


def recount(viewer, days: int) -> dict:
    """Coverage counted the slow, obvious way: every house, one by one."""
    today = NOW.date()
    since = dt.datetime.combine(today - dt.timedelta(days=days - 1), dt.time.min,
                                tzinfo=NOW.tzinfo)
    scope = scope_for(viewer, Perm.FIELD_VIEW)
    special = scope_for(viewer, Perm.SPECIAL_VIEW)
    rules = dict(VisitRule.objects.values_list("tag__code", "interval_days"))
    grids: dict[str, dict] = {}
    for house in House.objects.select_related("grid").order_by("pk"):
        path = house.grid.path
        if not scope.covers_path(path):
            continue
        living = [r for r in Residence.objects.filter(house=house)
                  if r.kind == "lives" and r.moved_out is None]
        if not living:
            continue
        row = grids.setdefault(house.grid.code, dict.fromkeys(
            ("households", "visited", "tagged_households", "tagged_visited", "overdue"), 0))
        row["households"] += 1
        reached = [v for v in Visit.objects.filter(house=house)
                   if v.outcome in ("met", "refused")]
        last = max(reached, key=lambda v: v.visited_at) if reached else None
        visited = any(v.visited_at >= since for v in reached)
        row["visited"] += visited
        tags = [t for r in living for t in PersonTag.objects.filter(person=r.person)
                if t.removed_at is None and (not t.tag.restricted or special.covers_path(path))]
        ruled = [t for t in tags if t.tag.code in rules]
        dates = []
        if ruled:
            row["tagged_households"] += 1
            row["tagged_visited"] += visited
            since_tagged = min(t.added_at for t in ruled).astimezone(NOW.tzinfo).date()
            interval = min(rules[t.tag.code] for t in ruled)
            if last is None:
                dates.append(since_tagged)
            else:
                dates.append(max(last.visited_at.astimezone(NOW.tzinfo).date()
                                 + dt.timedelta(days=interval), since_tagged))
        if last is not None and last.next_visit_on:
            dates.append(last.next_visit_on)
        if dates and min(dates) < today:
            row["overdue"] += 1
    return grids


@pytest.mark.parametrize("who", ["worker_a1", "worker_b1", "chief_a1", "leader_a", "admin"])
@pytest.mark.parametrize("days", [7, 30, 90])
def test_coverage_equals_a_plain_recount(world, town, who, days):
    viewer = world.user(who)
    with clock.frozen(NOW):
        report = selectors.coverage(viewer=viewer, days=days)
    expected = recount(viewer, days)
    got = {row["grid"]["code"]: {k: row[k] for k in expected.get(row["grid"]["code"], row)
                                 if k in ("households", "visited", "tagged_households",
                                          "tagged_visited", "overdue")}
           for row in report["items"]}
    assert got == expected
    assert sum(r["households"] for r in expected.values()) > 0
    for key in ("households", "visited", "tagged_households", "tagged_visited", "overdue"):
        assert report["totals"][key] == sum(r[key] for r in expected.values())
    for row in report["items"]:
        assert row["share"] == (round(row["visited"] / row["households"], 4)
                                if row["households"] else None)


def test_the_recount_sees_a_varied_town(world, town):
    """The fixture is not trivially empty: every count is above zero somewhere."""
    with clock.frozen(NOW):
        totals = selectors.coverage(viewer=world.user("admin"), days=30)["totals"]
    assert all(totals[k] > 0 for k in ("households", "visited", "tagged_households",
                                       "tagged_visited", "overdue")), totals
    assert totals["visited"] < totals["households"]


def test_coverage_by_region_and_through_the_api(world, town):
    leader = world.api("leader_a")
    with clock.frozen(NOW):
        whole = get(leader, "/coverage", days=30).json()
        community = get(leader, "/coverage", region=world.comm_a1.code, days=30).json()
        one = get(leader, "/coverage", region=world.grid_a2.code).json()
    assert {r["grid"]["code"] for r in whole["items"]} == {world.grid_a1.code,
                                                           world.grid_a2.code}
    assert community["items"] == whole["items"] and whole["region"] is None
    assert community["region"] == {"code": world.comm_a1.code, "name": world.comm_a1.name}
    assert [r["grid"]["code"] for r in one["items"]] == [world.grid_a2.code]
    assert one["days"] == 30 and one["since"] == "2026-02-09"
    error(get(leader, "/coverage", region=world.comm_b1.code), 404, "not_found", "region")
    error(get(leader, "/coverage", days=0), 422, None, "days")
    error(get(leader, "/coverage", days=400), 422, None, "days")
    nothing = get(world.api("resident"), "/coverage").json()
    assert nothing["items"] == [] and nothing["totals"]["households"] == 0


def test_coverage_reads_in_a_fixed_number_of_queries(world, town):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    admin = world.user("admin")
    selectors.coverage(viewer=admin)  # the roles are read once per user
    with clock.frozen(NOW), CaptureQueriesContext(connection) as ctx:
        selectors.coverage(viewer=admin, region_code=world.sub_a.code)
    # The region; households and visited per grid; the residents' tags; the visited houses
    # with their last visit; the grids' names.
    assert len(ctx.captured_queries) == 5
