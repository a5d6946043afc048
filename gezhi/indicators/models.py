"""Indicator rollups: additive counts of events, kept up to date by every operation.

An event contributes to the rows keyed by the day it was reported, its grid, its grid's parent
(the community) and its current main department; `gezhi.indicators.rollup` says what it
contributes and applies the difference after each operation, in the operation's transaction.
docs/indicators.md defines every count.
"""

from __future__ import annotations

from django.db import models


class Span(models.IntegerChoices):
    DAY = 1
    MONTH = 2
    YEAR = 3


class NodeLevel(models.IntegerChoices):
    GRID = 0
    PARENT = 1  # the grid's parent: its community


# Additive counts, in the order rollup.contribution() produces them. Every count except
# reported, suspended, rejected and merged is over "due" events (应结案: reported, neither
# rejected nor merged, and not suspended now). *_us are sums of microseconds.
COUNTS = (
    "reported", "due", "closed", "closed_on_time", "reopened", "extended", "escalated",
    "supervised", "supervised_yellow", "supervised_red", "self_resolved",
    "grid_worker_reported", "grid_worker_self_resolved", "rated", "satisfied",
    "basic_satisfied", "suspended", "rejected", "merged",
    "accepted", "accept_us", "dispatched", "dispatch_us", "close_us",
)


class Rollup(models.Model):
    """The counts of the events reported in one period (a day, a month or a year) in one node
    (a grid, or a grid's parent), all of them (department 0) or those whose main unit is now
    one department. Rows are only ever changed by adding deltas (rollup.apply) or rebuilt from
    the events (rollup.rebuild)."""

    node = models.PositiveIntegerField()  # a Region id: no foreign key, rows are plain sums
    node_level = models.PositiveSmallIntegerField()  # NodeLevel
    span = models.PositiveSmallIntegerField()  # Span
    period = models.DateField()  # the first day of the span
    department = models.PositiveIntegerField(default=0)  # 0: every event; else a Department id

    reported = models.IntegerField(default=0)
    due = models.IntegerField(default=0)
    closed = models.IntegerField(default=0)
    closed_on_time = models.IntegerField(default=0)
    reopened = models.IntegerField(default=0)
    extended = models.IntegerField(default=0)
    escalated = models.IntegerField(default=0)
    supervised = models.IntegerField(default=0)
    supervised_yellow = models.IntegerField(default=0)
    supervised_red = models.IntegerField(default=0)
    self_resolved = models.IntegerField(default=0)
    grid_worker_reported = models.IntegerField(default=0)
    grid_worker_self_resolved = models.IntegerField(default=0)
    rated = models.IntegerField(default=0)
    satisfied = models.IntegerField(default=0)
    basic_satisfied = models.IntegerField(default=0)
    suspended = models.IntegerField(default=0)
    rejected = models.IntegerField(default=0)
    merged = models.IntegerField(default=0)
    accepted = models.IntegerField(default=0)
    accept_us = models.BigIntegerField(default=0)
    dispatched = models.IntegerField(default=0)
    dispatch_us = models.BigIntegerField(default=0)
    close_us = models.BigIntegerField(default=0)

    class Meta:
        constraints = [
            # Also the index of every report: one node, one span, all events (department 0)
            # or one department, a range of periods.
            models.UniqueConstraint(fields=["node", "span", "department", "period"],
                                    name="rollup_key"),
        ]
        indexes = [
            # Whole levels at once (every community of the city), one department or all.
            models.Index(fields=["node_level", "span", "department", "period"],
                         name="rollup_level"),
        ]

    def __str__(self) -> str:
        return f"{self.node} {self.span} {self.period} {self.department}"
