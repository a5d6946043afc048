"""The visit rule on a frozen clock: which households are due for a visit, since when, and who
may see them on the due list."""

import datetime as dt

import pytest

from gezhi.core import clock
from gezhi.fieldwork import selectors
from gezhi.fieldwork.models import VisitRule
from gezhi.fieldwork.tests.conftest import error, get, local, resident, visit
from gezhi.people.models import PersonTag, Residence, Tag
from gezhi.people.services import person_tag_add, person_tag_remove, residence_move_out
from gezhi.places.services import house_create

pytestmark = pytest.mark.django_db


def due(world, who: str, **kwargs) -> dict[int, dict]:
    return {row["house"]["id"]: row
            for row in selectors.households_due(viewer=world.user(who), **kwargs)}


def test_a_tagged_household_never_visited_is_due_since_it_was_tagged(world, base, frozen):
    rows = due(world, "worker_a1")
    assert list(rows) == [base.house_a1.pk]  # 赵强's restricted tag has no rule
    row = rows[base.house_a1.pk]
    assert row["due_on"] == dt.date(2026, 1, 1) and row["overdue_days"] == 68
    assert row["last_visit_at"] is None and row["interval_days"] == 7
    assert row["tags"] == [{"code": "lone_elderly", "name": "独居老人", "colour": "#d97706"}]
    assert row["house"]["address"] == base.house_a1.address
    assert (row["house"]["lat"], row["house"]["lon"]) == (base.building_a1.lat,
                                                          base.building_a1.lon)
    assert row["grid"] == {"code": world.grid_a1.code, "name": world.grid_a1.name}


def test_a_visit_resets_the_interval(world, base, frozen):
    visit(world, "worker_a1", base.house_a1, local(2026, 3, 5, 15, 0),
          people_met=[base.zhang_a1.pk])
    assert due(world, "worker_a1") == {}
    assert selectors.house_due(viewer=world.user("worker_a1"),
                               house=base.house_a1).due_on == dt.date(2026, 3, 12)
    with clock.frozen(local(2026, 3, 12, 8, 0)):
        assert due(world, "worker_a1")[base.house_a1.pk]["overdue_days"] == 0
    with clock.frozen(local(2026, 3, 15, 8, 0)):
        assert due(world, "worker_a1")[base.house_a1.pk]["overdue_days"] == 3


def test_nobody_at_home_does_not_count_but_a_refusal_does(world, base, frozen):
    visit(world, "worker_a1", base.house_a1, local(2026, 2, 20, 10, 0))
    visit(world, "worker_a1", base.house_a1, local(2026, 3, 9, 10, 0), outcome="nobody")
    row = due(world, "worker_a1")[base.house_a1.pk]
    assert row["due_on"] == dt.date(2026, 2, 27) and row["overdue_days"] == 11
    assert row["last_visit_at"] == local(2026, 2, 20, 10, 0)
    visit(world, "worker_a1", base.house_a1, local(2026, 3, 9, 18, 0), outcome="refused")
    assert due(world, "worker_a1") == {}


def test_a_planned_next_visit_can_come_before_the_interval(world, base, frozen):
    visit(world, "worker_a1", base.house_a1, local(2026, 3, 5, 10, 0),
          next_visit_on=dt.date(2026, 3, 8), follow_ups="复查血压")
    row = due(world, "worker_a1")[base.house_a1.pk]
    assert row["due_on"] == dt.date(2026, 3, 8) and row["overdue_days"] == 2
    assert row["next_visit_on"] == dt.date(2026, 3, 8)
    # A plan later than the interval does not postpone the rule.
    visit(world, "worker_a1", base.house_a1, local(2026, 3, 9, 10, 0),
          next_visit_on=dt.date(2026, 5, 1))
    assert selectors.house_due(viewer=world.user("worker_a1"),
                               house=base.house_a1).due_on == dt.date(2026, 3, 16)


def test_an_untagged_household_is_due_only_when_a_visit_planned_it(world, base, frozen):
    assert due(world, "worker_b1") == {}
    visit(world, "worker_b1", base.house_b1, local(2026, 3, 1, 10, 0),
          next_visit_on=dt.date(2026, 3, 9))
    row = due(world, "worker_b1")[base.house_b1.pk]
    assert row["interval_days"] is None and row["tags"] == [] and row["overdue_days"] == 1


def test_a_tag_added_after_the_last_visit_makes_the_household_due_from_that_day(world, base,
                                                                            frozen):
    visit(world, "worker_b1", base.house_b1, local(2025, 11, 1, 10, 0))
    tag = person_tag_add(actor=None, person=base.wang_b1, tag=Tag.objects.get(code="veteran"))
    PersonTag.objects.filter(pk=tag.pk).update(added_at=local(2026, 3, 1, 9, 0))
    row = due(world, "worker_b1")[base.house_b1.pk]
    assert row["interval_days"] == 90 and row["due_on"] == dt.date(2026, 3, 1)


def test_leaving_the_house_or_losing_the_tag_ends_the_rule(world, base, frozen):
    person_tag_remove(actor=None, person_tag=base.zhang_a1.tags.get())
    assert due(world, "worker_a1") == {}
    again = person_tag_add(actor=None, person=base.zhang_a1,
                           tag=Tag.objects.get(code="lone_elderly"))
    PersonTag.objects.filter(pk=again.pk).update(added_at=local(2026, 3, 9, 9, 0))
    assert due(world, "worker_a1")[base.house_a1.pk]["due_on"] == dt.date(2026, 3, 9)
    residence_move_out(actor=None, residence=Residence.objects.get(person=base.zhang_a1))
    assert due(world, "worker_a1") == {}


def test_the_shortest_interval_of_the_households_tags_applies(world, base, frozen):
    resident(base.house_a1, "disabled")
    visit(world, "worker_a1", base.house_a1, local(2026, 3, 1, 10, 0))
    row = due(world, "worker_a1")[base.house_a1.pk]
    assert row["interval_days"] == 7 and row["due_on"] == dt.date(2026, 3, 8)
    assert [t["code"] for t in row["tags"]] == ["lone_elderly", "disabled"]
    VisitRule.objects.filter(tag__code="lone_elderly").update(interval_days=60)
    assert due(world, "worker_a1") == {}
    later = selectors.house_due(viewer=world.user("worker_a1"), house=base.house_a1)
    assert later.interval == 30 and later.due_on == dt.date(2026, 3, 31)


def test_care_tags_without_a_rule_use_the_default_interval_when_it_is_set(world, base, frozen,
                                                                         settings):
    VisitRule.objects.filter(tag__code="veteran").delete()
    resident(base.house_b1, "veteran")
    visit(world, "worker_b1", base.house_b1, local(2026, 1, 10, 10, 0))
    assert due(world, "worker_b1") == {}
    settings.GEZHI_VISIT_DEFAULT_DAYS = 45
    row = due(world, "worker_b1")[base.house_b1.pk]
    assert row["interval_days"] == 45 and row["due_on"] == dt.date(2026, 2, 24)
    # Special groups are not care work: the default does not reach them.
    assert base.house_a1_2.pk not in due(world, "chief_a1")


def test_restricted_tags_count_only_for_those_who_may_see_them(world, base, frozen):
    VisitRule.objects.create(tag=Tag.objects.get(code="community_correction"), interval_days=30)
    chief = due(world, "chief_a1")
    assert chief[base.house_a1_2.pk]["tags"][0]["code"] == "community_correction"
    # The grid worker holds no SPECIAL_VIEW: the household is not on their list at all.
    assert base.house_a1_2.pk not in due(world, "worker_a1")
    resident(base.house_a1_2, "hardship_family")
    row = due(world, "worker_a1")[base.house_a1_2.pk]
    assert [t["code"] for t in row["tags"]] == ["hardship_family"]
    assert row["interval_days"] == 30


def test_the_due_list_is_scoped_and_sorted_most_overdue_first(world, base, frozen):
    h2 = house_create(actor=None, building=base.building_a1, number="102",
                      unit=base.building_a1.units.get(sort_order=1))
    resident(h2, "left_behind_child", tagged_on=local(2026, 2, 1, 9, 0))
    resident(base.house_b1, "lone_elderly")
    rows = selectors.households_due(viewer=world.user("worker_a1"))
    assert [r["house"]["id"] for r in rows] == [base.house_a1.pk, h2.pk]
    assert [r["overdue_days"] for r in rows] == [68, 37]
    assert list(due(world, "worker_b1")) == [base.house_b1.pk]
    assert set(due(world, "leader_a")) == {base.house_a1.pk, h2.pk}
    assert set(due(world, "admin")) == {base.house_a1.pk, h2.pk, base.house_b1.pk}
    assert list(due(world, "leader_a", grid_code=world.grid_a2.code)) == []
    assert due(world, "dispatcher_a") == {} and due(world, "resident") == {}


def test_the_due_api_pages_and_refuses_grids_out_of_scope(world, base, frozen):
    resident(base.house_a1_2, "disabled")
    worker = world.api("worker_a1")
    page = get(worker, "/visits/due", page_size=1).json()
    assert page["count"] == 2 and page["items"][0]["house"]["id"] == base.house_a1.pk
    assert page["items"][0]["due_on"] == "2026-01-01" and page["next"]
    assert get(worker, "/visits/due", grid=world.grid_a1.code).json()["count"] == 2
    error(get(worker, "/visits/due", grid=world.grid_b1.code), 404, "not_found", "grid")
    error(get(worker, "/visits/due", grid="nope"), 404, "not_found", "grid")


def test_the_due_list_reads_in_a_fixed_number_of_queries(world, base, frozen):
    worker = world.user("chief_a1")
    selectors.households_due(viewer=worker)  # the chief's roles are read once per request

    def count() -> int:
        from django.db import connection
        from django.test.utils import CaptureQueriesContext

        with CaptureQueriesContext(connection) as ctx:
            rows = selectors.households_due(viewer=worker)
        return len(ctx.captured_queries), len(rows)

    few = count()
    unit = base.building_a1.units.get(sort_order=2)
    for n in range(12):
        house = house_create(actor=None, building=base.building_a1, unit=unit, number=f"2{n:02d}")
        resident(house, "lone_elderly" if n % 2 else "disabled")
        if n % 3 == 0:
            visit(world, "chief_a1", house, local(2026, 1, 20, 10, 0),
                  next_visit_on=dt.date(2026, 2, 1))
    many = count()
    assert many[1] == few[1] + 12
    assert many[0] == few[0] == 2  # the residents' tags; the visited houses
