"""The closed loop through the services: each operation by the right person, in the right state."""

import pytest

from gezhi.core.errors import NotFound, PermissionDenied, ValidationFailed
from gezhi.core.versioning import Conflict
from gezhi.events import services as s
from gezhi.events.models import Op, State, TimelineEntry
from gezhi.events.tests.conftest import IN_B1, OUTSIDE, jpeg
from gezhi.notify.models import Message


def test_full_loop_from_report_to_rating(world, report):
    resident = world.user("resident")
    event = report("resident", photos=[jpeg()], source="resident")
    assert event.state == State.REPORTED and event.serial.startswith("370481-")
    assert event.grid == world.grid_a1 and event.photos.count() == 1
    dispatcher, handler = world.user("dispatcher_a"), world.user("handler")
    s.event_accept(event=event, actor=dispatcher)
    s.event_dispatch(event=event, actor=dispatcher, department=world.department)
    assert Message.objects.filter(user=handler, kind="dispatched").exists()
    s.event_claim(event=event, actor=handler)
    s.event_handle(event=event, actor=handler, note="已清运", photos=[jpeg(color="green")])
    s.event_verify(event=event, actor=world.user("worker_a1"))
    event = s.event_close(event=event, actor=dispatcher)
    assert event.state == State.CLOSED and event.closed_on_time is True
    s.event_rate(event=event, actor=resident, rating="satisfied")
    ops = list(TimelineEntry.objects.filter(event=event).values_list("op", flat=True))
    assert ops == [Op.REPORT, Op.ACCEPT, Op.DISPATCH, Op.CLAIM, Op.HANDLE, Op.VERIFY, Op.CLOSE,
                   Op.RATE]
    with pytest.raises(s.InvalidState):
        s.event_rate(event=event, actor=resident, rating="satisfied")


def test_self_resolve_at_report(world, report):
    event = report("worker_a1", self_resolve=True, result="当场清理完毕",
                   result_photos=[jpeg()])
    assert event.state == State.CLOSED and event.self_resolved
    assert event.photos.filter(stage="result").count() == 1


def test_scope_and_state_rules(world, report):
    event = report("worker_a1")
    with pytest.raises(NotFound):
        s.event_accept(event=event, actor=world.user("worker_b1"))
    with pytest.raises(PermissionDenied):
        s.event_accept(event=event, actor=world.user("worker_a1"))
    with pytest.raises(ValidationFailed):
        s.event_reject(event=event, actor=world.user("dispatcher_a"), note=" ")
    with pytest.raises(s.InvalidState):
        s.event_close(event=event, actor=world.user("dispatcher_a"))
    assert TimelineEntry.objects.filter(event=event).count() == 1
    with pytest.raises(ValidationFailed):
        report("worker_a1", where=OUTSIDE)
    with pytest.raises(PermissionDenied):
        report("worker_a1", where=IN_B1)


def test_stale_version_is_a_conflict(world, report):
    event = report("worker_a1")
    seen = event.version
    s.event_accept(event=event, actor=world.user("dispatcher_a"), version=seen)
    with pytest.raises(Conflict):
        s.event_reject(event=event, actor=world.user("dispatcher_a"), note="重复", version=seen)


def test_escalate_extension_supervision(world, report):
    chief, dispatcher = world.user("chief_a1"), world.user("dispatcher_a")
    event = report("worker_a1")
    assert event.level == "community"
    s.event_accept(event=event, actor=chief)
    event = s.event_escalate(event=event, actor=chief, note="社区无法协调")
    assert event.level == "subdistrict" and event.state == State.ACCEPTED
    with pytest.raises(PermissionDenied):
        s.event_dispatch(event=event, actor=chief, department=world.department)
    event = s.event_dispatch(event=event, actor=dispatcher, department=world.department)
    before = event.handle_deadline
    ext = s.event_extend_request(event=event, actor=world.user("handler"), days=2,
                                 note="需协调产权单位")
    s.event_extend_decide(event=event, actor=world.user("leader_a"), approve=True)
    event.refresh_from_db()
    ext.refresh_from_db()
    assert ext.status == "approved" and event.handle_deadline > before
    s.event_supervise(event=event, actor=world.user("leader_a"), level=3, note="限期办结")
    event.refresh_from_db()
    assert event.supervision_level == 3


def test_dissatisfied_rating_reopens(world, report):
    event = report("resident", source="resident")
    d, h = world.user("dispatcher_a"), world.user("handler")
    s.event_accept(event=event, actor=d)
    s.event_dispatch(event=event, actor=d, department=world.department)
    s.event_claim(event=event, actor=h)
    s.event_handle(event=event, actor=h, note="已处理")
    s.event_verify(event=event, actor=d)
    s.event_close(event=event, actor=d)
    event = s.event_rate(event=event, actor=world.user("resident"), rating="dissatisfied")
    event.refresh_from_db()
    assert event.state == State.HANDLING and event.reopen_count == 1


def test_urgency_and_suspension_keep_calendar_time(world, report, category):
    import datetime as dt

    from gezhi.core import clock

    start = dt.datetime(2026, 11, 27, 20, 0, tzinfo=dt.timezone(dt.timedelta(hours=8)))
    with clock.frozen(start):  # a Friday evening: outside working hours
        urgent = report("worker_a1", urgent=True)
    assert urgent.dispatch_deadline == start + dt.timedelta(minutes=30)
    category.handle_limit, category.handle_limit_unit = 2, "days"
    category.save()
    d = world.user("dispatcher_a")
    with clock.frozen(start):
        event = report("worker_a1")
        s.event_accept(event=event, actor=d)
        event = s.event_dispatch(event=event, actor=d, department=world.department)
        s.event_suspend(event=event, actor=d, note="等待产权单位答复")
    assert event.handle_deadline == start + dt.timedelta(days=2)
    with clock.frozen(start + dt.timedelta(hours=10)):
        event = s.event_resume(event=event, actor=d)
    assert event.state == State.DISPATCHED
    assert event.handle_deadline == start + dt.timedelta(days=2, hours=10)
