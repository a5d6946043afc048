"""Indicator counts kept up to date with every operation (gezhi.indicators.rollup).

`snapshot(event)` captures what an event contributes before a change; `record(before, event)`
applies the difference after it, in the same transaction (before is None for a new event).
"""

from __future__ import annotations

from gezhi.indicators.rollup import Contribution, apply, contribution


def snapshot(event) -> Contribution:
    return contribution(event)


def record(before: Contribution | None, event) -> None:
    apply(before, contribution(event))
