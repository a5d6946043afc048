"""Who may do what to an event, in which state, carrying what: the one table.

docs/events.md prints this table (a test keeps the two in step). Services check it before
every operation; pages and the API offer exactly the operations it allows.

Actors, each relative to one event:
- dispatcher: holds EVENT_DISPATCH over the region at the event's level (the community for a
  community-level event, the subdistrict once escalated there …; a subdistrict dispatcher
  also covers the communities below it).
- unit: the main handling unit — a handler of its department, or holder of EVENT_HANDLE over
  its region (the grid's workers, the community's chief).
- verifier: holds EVENT_VERIFY over the event's grid (its grid worker) — or is a dispatcher.
- escalator: holds EVENT_ESCALATE over the region at the event's level.
- reporter_place: holds EVENT_REPORT over the event's grid.
- leader: holds EVENT_SUPERVISE over the event's grid.
- decider: holds EVENT_EXTEND_DECIDE over the event's grid.
- reporter: the user who reported it.
- viewer: anyone who may see the event.
"""

from __future__ import annotations

from dataclasses import dataclass

from gezhi.events.models import Op, State

S = State


@dataclass(frozen=True)
class Rule:
    op: str
    from_states: tuple[str, ...]
    to_state: str | None  # None: the state does not change (or is computed: resume, escalate)
    actors: tuple[str, ...]
    required: tuple[str, ...] = ()


WORKING = (S.DISPATCHED, S.HANDLING)
OPEN = (S.REPORTED, S.ACCEPTED, S.DISPATCHED, S.HANDLING, S.HANDLED, S.VERIFIED)

RULES: dict[str, Rule] = {r.op: r for r in [
    Rule(Op.ACCEPT, (S.REPORTED,), S.ACCEPTED, ("dispatcher",)),
    Rule(Op.REJECT, (S.REPORTED,), S.REJECTED, ("dispatcher",), ("note",)),
    Rule(Op.SELF_RESOLVE, (S.REPORTED, S.ACCEPTED), S.CLOSED, ("reporter_place",), ("note",)),
    Rule(Op.DISPATCH, (S.ACCEPTED, S.DISPATCHED, S.HANDLING), S.DISPATCHED, ("dispatcher",),
         ("unit",)),
    Rule(Op.CLAIM, (S.DISPATCHED,), S.HANDLING, ("unit",)),
    Rule(Op.HANDLE, (S.HANDLING,), S.HANDLED, ("unit",), ("note",)),
    Rule(Op.RETURN, WORKING, S.ACCEPTED, ("unit",), ("note",)),
    Rule(Op.VERIFY, (S.HANDLED,), S.VERIFIED, ("verifier", "dispatcher")),
    Rule(Op.VERIFY_FAIL, (S.HANDLED,), S.HANDLING, ("verifier", "dispatcher"), ("note",)),
    Rule(Op.CLOSE, (S.VERIFIED,), S.CLOSED, ("dispatcher",)),
    Rule(Op.REOPEN, (S.CLOSED,), S.HANDLING, ("dispatcher",), ("note",)),
    Rule(Op.ESCALATE, (S.REPORTED, S.ACCEPTED, S.HANDLING), S.ACCEPTED, ("escalator",),
         ("note",)),
    Rule(Op.EXTEND_REQUEST, WORKING, None, ("unit",), ("days", "note")),
    Rule(Op.EXTEND_DECIDE, WORKING + (S.SUSPENDED,), None, ("decider",), ("approve",)),
    Rule(Op.SUSPEND, (S.ACCEPTED, S.DISPATCHED, S.HANDLING), S.SUSPENDED, ("dispatcher",),
         ("note",)),
    Rule(Op.RESUME, (S.SUSPENDED,), None, ("dispatcher",)),
    Rule(Op.SUPERVISE, OPEN + (S.SUSPENDED,), None, ("leader",), ("level", "note")),
    Rule(Op.MERGE, (S.REPORTED, S.ACCEPTED), S.MERGED, ("dispatcher",), ("master",)),
    Rule(Op.RATE, (S.CLOSED,), None, ("reporter",), ("rating",)),
    Rule(Op.COMMENT, tuple(State.values), None, ("viewer",), ("note",)),
]}

# Not in the table because they create the event: REPORT (anyone who may report at the place:
# staff with EVENT_REPORT over its grid, a resident, an API key) and REPORT with self_resolve.
