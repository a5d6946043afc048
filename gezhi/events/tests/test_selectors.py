"""Work queues, deadline colours and duplicate suggestions."""

import datetime as dt

from gezhi.core import clock
from gezhi.events import selectors as sel
from gezhi.events import services as s
from gezhi.events.tests.conftest import IN_A1, IN_B1


def test_queues_follow_roles_and_scope(world, report):
    event = report("worker_a1")
    report("worker_b1", where=IN_B1)
    assert sel.queue_counts(viewer=world.user("dispatcher_a"))["to_accept"] == 1
    assert sel.queue_counts(viewer=world.user("chief_a1"))["to_accept"] == 1
    assert "to_accept" not in sel.queue_counts(viewer=world.user("worker_a1"))
    assert sel.queue_counts(viewer=world.user("worker_a1"))["all"] == 1
    assert sel.queue_counts(viewer=world.user("handler"))["all"] == 0
    d = world.user("dispatcher_a")
    s.event_accept(event=event, actor=d)
    s.event_escalate(event=event, actor=d, note="需街道协调")
    assert sel.queue_counts(viewer=world.user("chief_a1"))["to_dispatch"] == 0
    assert sel.queue_counts(viewer=d)["to_dispatch"] == 1
    s.event_dispatch(event=event, actor=d, department=world.department)
    counts = sel.queue_counts(viewer=world.user("handler"))
    assert counts["to_handle"] == 1 and counts["all"] == 1


def test_deadline_turns_yellow_then_red(world, report):
    start = dt.datetime(2026, 11, 25, 9, 0, tzinfo=dt.timezone(dt.timedelta(hours=8)))
    with clock.frozen(start):
        event = report("worker_a1")
        d = world.user("dispatcher_a")
        s.event_accept(event=event, actor=d)
        event = s.event_dispatch(event=event, actor=d, department=world.department)
    # 暴露垃圾: 4 working hours from 09:00 -> 14:30 with a 12:00-13:30 lunch break
    assert event.handle_deadline == start + dt.timedelta(hours=5, minutes=30)
    assert sel.deadline_status(event, start + dt.timedelta(hours=1)).colour == "green"
    assert sel.deadline_status(event, start + dt.timedelta(hours=5)).colour == "yellow"
    late = sel.deadline_status(event, start + dt.timedelta(hours=6))
    assert late.colour == "red" and late.overdue
    with clock.frozen(start + dt.timedelta(hours=6)):
        assert sel.queue_counts(viewer=d)["overdue"] == 1


def test_duplicates_are_suggested(world, report, category):
    first = report("worker_a1")
    near = (IN_A1[0] + 0.0003, IN_A1[1])  # about 33 m north
    found = sel.duplicate_candidates(viewer=world.user("dispatcher_a"), category=category,
                                     lat=near[0], lon=near[1])
    assert [e.pk for e, _ in found] == [first.pk] and 25 < found[0][1] < 40
    assert sel.duplicate_candidates(viewer=world.user("worker_b1"), category=category,
                                    lat=near[0], lon=near[1]) == []
