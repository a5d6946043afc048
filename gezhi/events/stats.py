"""Indicator counts kept up to date with every operation (owned by the indicators work).

`snapshot(event)` captures what an event contributes before a change; `record(before, event)`
applies the difference after it, in the same transaction.
"""

from __future__ import annotations


def snapshot(event) -> dict | None:
    return None


def record(before: dict | None, event) -> None:
    return None
