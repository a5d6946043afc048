"""`gezhi gen-events`: a generated history is consistent — each timeline replays to its event,
the counters equal the timeline, the rollups equal a recount — and the services carry on."""

from collections import Counter

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from gezhi.events.models import Event, Op, State, TimelineEntry
from gezhi.events.tests.conftest import IN_A1
from gezhi.indicators.history import DEMO, generate_history
from gezhi.indicators.selectors import indicator_totals, recount
from gezhi.regions.models import Region


def test_generated_history_is_consistent(world, report, tick):
    call_command("gen-events", "--events", "400", "--days", "90", "--within", "370481",
                 stdout=open("/dev/null", "w"))  # noqa: SIM115
    events = list(Event.objects.all())
    assert len(events) == 400
    entries: dict[int, list] = {}
    for entry in TimelineEntry.objects.order_by("created_at", "pk"):
        entries.setdefault(entry.event_id, []).append(entry)
    states = Counter(e.state for e in events)
    assert states[State.CLOSED] > 300 and len(states) > 2
    for event in events:
        timeline = entries[event.pk]
        ops = Counter(e.op for e in timeline)
        assert timeline[0].op == Op.REPORT and timeline[0].created_at == event.reported_at
        assert timeline[-1].to_state == event.state, event.serial
        assert all(a.to_state == b.from_state for a, b in zip(timeline, timeline[1:],
                                                                strict=False))
        assert event.reopen_count == ops[Op.REOPEN] + ops[Op.VERIFY_FAIL]
        assert event.escalation_count == ops[Op.ESCALATE]
        assert event.return_count == ops[Op.RETURN]
        assert event.self_resolved == bool(ops[Op.SELF_RESOLVE])
        assert bool(event.rating) == bool(ops[Op.RATE])
        assert event.version == len(timeline)
        assert event.grid.path.startswith(world.district.path)
    assert indicator_totals() == recount(Event.objects.all())
    # The services carry on where the history stops: serial numbers do not collide.
    event = report("worker_a1", where=IN_A1)
    assert Event.objects.filter(serial=event.serial).count() == 1


def test_demo_profile_is_mostly_self_resolved(world, tick):
    grids = list(Region.objects.filter(level="grid"))
    counts = generate_history(grids=grids, events=2000, days=365, seed=7, profile=DEMO)
    totals = indicator_totals()
    assert counts["events"] == totals["reported"] == 2000
    assert 1900 < totals["self_resolved"] < 1990 and 20 < totals["escalated"] < 90
    assert totals["satisfaction_rate"] > 0.98
    assert totals == recount(Event.objects.all())


def test_gen_events_refuses_bad_input(world):
    with pytest.raises(CommandError):
        call_command("gen-events", "--events", "0", "--within", "370481")
    with pytest.raises(CommandError):
        call_command("gen-events", "--events", "10", "--within", "999999")
