"""The rollups kept by every operation agree exactly with a plain recount of the timeline, and
with the definitions in docs/indicators.md, for journeys built with the real services."""

import datetime as dt

import pytest

from gezhi.accounts.models import Department
from gezhi.events import services as s
from gezhi.events.models import Event
from gezhi.events.tests.conftest import IN_A2, IN_B1
from gezhi.indicators import rollup
from gezhi.indicators.models import Rollup
from gezhi.indicators.selectors import (
    indicator_report,
    indicator_totals,
    recount,
    recount_departments,
)


def everything_agrees(world) -> dict:
    """Rollups == recount for the total, every grid and every department; a rebuild from the
    events gives the very same rows. Returns the totals."""
    events = Event.objects.all()
    totals = indicator_totals()
    assert totals == recount(events)
    for grid in (world.grid_a1, world.grid_a2, world.grid_b1):
        row = next(r for r in indicator_report(viewer=world.user("admin"), by="grid",
                                               start=dt.date(2020, 1, 1),
                                               end=dt.date(2030, 12, 31)).rows
                   if r["unit"]["code"] == grid.code)
        assert {k: v for k, v in row.items() if k != "unit"} == recount(
            events.filter(grid=grid)), grid.name
    by_department = {r["unit"]["code"]: r for r in indicator_report(
        viewer=world.user("admin"), by="department", start=dt.date(2020, 1, 1),
        end=dt.date(2030, 12, 31)).rows}
    codes = dict(Department.objects.values_list("pk", "code"))
    for pk, expected in recount_departments(events).items():
        row = by_department[codes[pk]]
        assert {k: v for k, v in row.items() if k != "unit"} == expected
    kept = sorted(Rollup.objects.exclude(**{c: 0 for c in rollup.COUNTS})
                  .values_list("node", "span", "period", "department", *rollup.COUNTS))
    rollup.rebuild()
    rebuilt = sorted(Rollup.objects.values_list("node", "span", "period", "department",
                                                *rollup.COUNTS))
    assert kept == rebuilt
    return totals


def handled(world, tick, event, *, handler="handler", dispatcher="dispatcher_a"):
    d, h = world.user(dispatcher), world.user(handler)
    tick.advance(minutes=10)
    event = s.event_accept(event=event, actor=d)
    tick.advance(minutes=5)
    event = s.event_dispatch(event=event, actor=d, department=world.department)
    tick.advance(minutes=30)
    event = s.event_claim(event=event, actor=h)
    tick.advance(hours=1)
    return s.event_handle(event=event, actor=h, note="已清运")


def test_main_line_and_rating(world, report, tick):
    event = report("resident", source="resident")
    event = handled(world, tick, event)
    tick.advance(minutes=20)
    event = s.event_verify(event=event, actor=world.user("worker_a1"))
    event = s.event_close(event=event, actor=world.user("dispatcher_a"))
    totals = everything_agrees(world)
    assert totals["closed"] == totals["closed_on_time"] == totals["due"] == 1
    assert totals["close_rate"] == totals["on_time_rate"] == 1.0
    assert totals["avg_accept_hours"] == round(10 / 60, 2)
    assert totals["avg_dispatch_hours"] == 0.25
    assert totals["avg_close_hours"] == round(125 / 60, 2)
    assert totals["satisfaction_rate"] is None and totals["self_resolve_rate"] is None
    s.event_rate(event=event, actor=world.user("resident"), rating="basic")
    totals = everything_agrees(world)
    assert (totals["rated"], totals["basic_satisfied"], totals["satisfaction_rate"]) == (1, 1, 1.0)


def test_self_resolved_by_grid_workers(world, report, tick):
    report("worker_a1", self_resolve=True, result="当场清理")
    tick.advance(minutes=3)
    open_one = report("worker_a1")
    report("worker_b1", where=IN_B1, self_resolve=True, result="已劝离")
    report("resident", source="resident")
    totals = everything_agrees(world)
    assert totals["grid_worker_reported"] == 3 and totals["grid_worker_self_resolved"] == 2
    assert totals["self_resolve_rate"] == round(2 / 3, 4)
    assert totals["reported"] == totals["due"] == 4 and totals["closed"] == 2
    assert totals["close_rate"] == 0.5
    s.event_self_resolve(event=open_one, actor=world.user("worker_a1"), note="已清理")
    assert everything_agrees(world)["self_resolve_rate"] == 1.0


def test_reopen_by_verification_and_by_dissatisfied_rating(world, report, tick):
    first = handled(world, tick, report("resident", source="resident"))
    s.event_verify(event=first, actor=world.user("worker_a1"), passed=False, note="未清理干净")
    totals = everything_agrees(world)
    assert totals["reopened"] == 1 and totals["reopen_rate"] == 1.0
    second = handled(world, tick, report("resident", source="resident", description="又堆了"))
    s.event_verify(event=second, actor=world.user("worker_a1"))
    second = s.event_close(event=second, actor=world.user("dispatcher_a"))
    s.event_rate(event=second, actor=world.user("resident"), rating="dissatisfied")
    totals = everything_agrees(world)  # the category reopens on 不满意
    assert totals["reopened"] == 2 and totals["closed"] == 0
    assert totals["rated"] == 1 and totals["satisfaction_rate"] == 0.0


def test_late_close_extension_and_overdue(world, report, tick):
    event = handled(world, tick, report("resident", source="resident"))
    tick.advance(days=3)  # 暴露垃圾 has 4 working hours
    assert everything_agrees(world)["overdue"] == 1  # still not verified, past its deadline
    s.event_verify(event=event, actor=world.user("worker_a1"), passed=False, note="没清完")
    assert everything_agrees(world)["overdue"] == 1
    h = world.user("handler")
    s.event_extend_request(event=event, actor=h, days=5, note="需要协调车辆")
    s.event_extend_decide(event=event, actor=world.user("leader_a"), approve=True)
    totals = everything_agrees(world)
    assert totals["extended"] == 1 and totals["extension_rate"] == 1.0 and totals["overdue"] == 0
    late = handled(world, tick, report("resident", source="resident", description="又一处"))
    tick.advance(days=2)
    s.event_verify(event=late, actor=world.user("worker_a1"))
    s.event_close(event=late, actor=world.user("dispatcher_a"))
    totals = everything_agrees(world)
    assert totals["closed"] == 1 and totals["closed_on_time"] == 0
    assert totals["on_time_rate"] == 0.0 and totals["close_rate"] == 0.5


def test_suspended_events_leave_the_denominators(world, report, tick):
    event = report("resident", source="resident")
    s.event_accept(event=event, actor=world.user("dispatcher_a"))
    report("worker_a1", self_resolve=True, result="已处理")
    s.event_suspend(event=event, actor=world.user("dispatcher_a"), note="等待拆迁")
    totals = everything_agrees(world)
    assert totals["reported"] == 2 and totals["suspended"] == 1
    assert totals["due"] == 1 and totals["close_rate"] == 1.0
    tick.advance(days=1)
    s.event_resume(event=event, actor=world.user("dispatcher_a"))
    totals = everything_agrees(world)
    assert totals["due"] == 2 and totals["close_rate"] == 0.5


def test_escalation_return_and_redispatch_move_the_department_row(world, report, tick):
    chief, d = world.user("chief_a1"), world.user("dispatcher_a")
    event = report("chief_a1", where=IN_A2)
    s.event_accept(event=event, actor=chief)
    tick.advance(minutes=40)
    event = s.event_escalate(event=event, actor=chief, note="社区无法协调")
    event = s.event_dispatch(event=event, actor=d, department=world.department)
    other = Department.objects.create(code="sw-370481001", name="北辛街道水务站",
                                      region=world.sub_a)
    totals = everything_agrees(world)
    assert totals["escalated"] == 1 and totals["dispatched"] == 1
    event = s.event_return(event=event, actor=world.user("handler"), note="不属于城管")
    everything_agrees(world)
    s.event_dispatch(event=event, actor=d, department=other)
    rows = {r["unit"]["code"]: r for r in indicator_report(
        viewer=world.user("admin"), by="department", start=dt.date(2026, 1, 1),
        end=dt.date(2026, 12, 31)).rows}
    assert rows["sw-370481001"]["reported"] == 1 and rows["cg-370481001"]["reported"] == 0
    everything_agrees(world)


def test_supervision_reject_and_merge(world, report, tick):
    d, leader = world.user("dispatcher_a"), world.user("leader_a")
    master = report("resident", source="resident")
    duplicate = report("resident", source="resident", description="同一堆垃圾")
    rejected = report("resident", source="resident", description="不是问题")
    s.event_accept(event=master, actor=d)
    s.event_supervise(event=master, actor=leader, level=2, note="尽快")
    s.event_supervise(event=master, actor=leader, level=3, note="限期")
    s.event_merge(event=duplicate, actor=d, master=master)
    s.event_reject(event=rejected, actor=d, note="不属于受理范围")
    totals = everything_agrees(world)
    assert (totals["reported"], totals["due"], totals["merged"], totals["rejected"]) == (3, 1, 1, 1)
    assert (totals["supervised"], totals["supervised_yellow"], totals["supervised_red"]) == (1, 0, 1)


@pytest.mark.parametrize("day", [dt.date(2026, 3, 2), dt.date(2026, 3, 31)])
def test_periods_count_by_the_reported_day(world, report, tick, day):
    report("worker_a1", self_resolve=True, result="已处理")  # 2026-03-02
    tick.at(tick.now.replace(month=3, day=31, hour=23, minute=30))
    report("worker_a1", self_resolve=True, result="已处理")  # 2026-03-31, local time
    totals = indicator_totals(start=day, end=day)
    assert totals["reported"] == 1
    assert indicator_totals(start=dt.date(2026, 3, 1), end=dt.date(2026, 3, 31))["reported"] == 2
    assert indicator_totals(start=dt.date(2026, 4, 1), end=dt.date(2026, 4, 30))["reported"] == 0
