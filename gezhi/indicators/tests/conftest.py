"""Indicator fixtures: the event fixtures (points in each grid, `report`) and a clock that
advances by hand, so durations and deadlines are exact."""

import datetime as dt
from zoneinfo import ZoneInfo

import pytest

from gezhi.core import clock
from gezhi.events.tests.conftest import category, report  # noqa: F401

TZ = ZoneInfo("Asia/Shanghai")
START = dt.datetime(2026, 3, 2, 9, 0, tzinfo=TZ)  # a Monday


class Clock:
    def __init__(self, start: dt.datetime):
        self.now = start
        clock.freeze(start)

    def advance(self, **delta) -> dt.datetime:
        self.now += dt.timedelta(**delta)
        clock.freeze(self.now)
        return self.now

    def at(self, moment: dt.datetime) -> dt.datetime:
        self.now = moment
        clock.freeze(moment)
        return moment


@pytest.fixture
def tick():
    c = Clock(START)
    yield c
    clock.freeze(None)


@pytest.fixture
def history(world, report, tick):  # noqa: F811
    """A few weeks of events built with the services: in A-1 two self-resolved and one sent to
    城管 and closed on time and rated 满意; in A-2 one still open and overdue; in B-1 one
    self-resolved and one rejected."""
    from gezhi.events import services as s
    from gezhi.events.tests.conftest import IN_A2, IN_B1

    d, h = world.user("dispatcher_a"), world.user("handler")
    report("worker_a1", self_resolve=True, result="当场清理")
    report("worker_a1", self_resolve=True, result="已劝离")
    event = report("resident", source="resident")
    tick.advance(minutes=10)
    s.event_accept(event=event, actor=d)
    s.event_dispatch(event=event, actor=d, department=world.department)
    s.event_claim(event=event, actor=h)
    tick.advance(hours=1)
    s.event_handle(event=event, actor=h, note="已清运")
    s.event_verify(event=event, actor=world.user("worker_a1"))
    event = s.event_close(event=event, actor=d)
    s.event_rate(event=event, actor=world.user("resident"), rating="satisfied")
    tick.advance(days=7)
    report("chief_a1", where=IN_A2)
    report("worker_b1", where=IN_B1, self_resolve=True, result="已处理")
    rejected = report("worker_b1", where=IN_B1, description="重复上报")
    s.event_reject(event=rejected, actor=world.user("admin"), note="重复")
    tick.advance(days=2)  # the A-2 report is past its dispatch deadline
    return world
