"""Working time (工作时间) for event deadlines.

A day is a working day by, in order: an administrator's `CalendarDay` entry; the official China
holiday calendar with its make-up working days (调休) from the `chinese-calendar` package; and,
for a year neither knows, Monday to Friday. A deadline computed over such a year is marked
estimated (`deadline_estimated`) and pages say so; nothing crashes on an unknown year.

Working hours come from settings.GEZHI_WORK_HOURS ("09:00-12:00,13:30-17:30"). A limit in
working days is that many full working days of working hours; in working hours, that much
working time; in calendar days, plain elapsed time.
"""

from __future__ import annotations

import datetime as dt
import threading
import time
from functools import lru_cache

import chinese_calendar
from django.conf import settings
from django.db.models.signals import post_delete, post_save
from django.dispatch import receiver
from django.utils import timezone

from gezhi.events.models import CalendarDay, CalendarYear, LimitUnit

MAX_DAYS = 3 * 366  # a limit that runs past this is a configuration error, not a deadline
_cache_lock = threading.Lock()
_cache: dict = {"loaded": 0.0, "days": {}, "years": set()}
CACHE_SECONDS = 30  # other processes see an administrator's change within this


@lru_cache(maxsize=8)
def parse_hours(text: str) -> tuple[tuple[int, int], ...]:
    """"09:00-12:00,13:30-17:30" -> ((540, 720), (810, 1050)) in minutes after midnight."""
    periods = []
    for part in text.split(","):
        start, end = part.strip().split("-")
        h0, m0 = (int(x) for x in start.split(":"))
        h1, m1 = (int(x) for x in end.split(":"))
        a, b = h0 * 60 + m0, h1 * 60 + m1
        if not 0 <= a < b <= 24 * 60:
            raise ValueError(f"bad working hours period {part!r}")
        periods.append((a, b))
    periods.sort()
    return tuple(periods)


def working_hours() -> tuple[tuple[int, int], ...]:
    return parse_hours(getattr(settings, "GEZHI_WORK_HOURS", "09:00-12:00,13:30-17:30"))


def minutes_per_day() -> int:
    return sum(b - a for a, b in working_hours())


def _overrides() -> tuple[dict, set]:
    now = time.monotonic()
    with _cache_lock:
        if now - _cache["loaded"] > CACHE_SECONDS:
            _cache["days"] = dict(CalendarDay.objects.values_list("date", "is_workday"))
            _cache["years"] = set(CalendarYear.objects.values_list("year", flat=True))
            _cache["loaded"] = now
        return _cache["days"], _cache["years"]


def clear_cache() -> None:
    with _cache_lock:
        _cache["loaded"] = 0.0


@receiver([post_save, post_delete], sender=CalendarDay)
@receiver([post_save, post_delete], sender=CalendarYear)
def _calendar_changed(**kwargs) -> None:
    clear_cache()


@lru_cache(maxsize=64)
def builtin_knows(year: int) -> bool:
    try:
        chinese_calendar.is_workday(dt.date(year, 6, 1))
    except NotImplementedError:
        return False
    return True


def year_known(year: int) -> bool:
    return builtin_knows(year) or year in _overrides()[1]


def is_workday(day: dt.date) -> tuple[bool, bool]:
    """(is it a working day, is that from a known calendar rather than the Mon–Fri fallback)."""
    days, years = _overrides()
    if day in days:
        return days[day], True
    if builtin_knows(day.year):
        return chinese_calendar.is_workday(day), True
    return day.weekday() < 5, day.year in years


def limit_minutes(amount: int, unit: str) -> int | None:
    """A limit in working minutes, or None for calendar days (plain elapsed time)."""
    if unit == LimitUnit.WORK_DAYS:
        return amount * minutes_per_day()
    if unit == LimitUnit.WORK_HOURS:
        return amount * 60
    return None


def add(start: dt.datetime, amount: int, unit: str) -> tuple[dt.datetime, bool]:
    """The deadline `amount` `unit`s after `start`, and whether it is estimated (it crossed a
    year the calendar does not know)."""
    minutes = limit_minutes(amount, unit)
    if minutes is None:
        return start + dt.timedelta(days=amount), False
    return add_minutes(start, minutes)


def add_minutes(start: dt.datetime, minutes: float) -> tuple[dt.datetime, bool]:
    local = timezone.localtime(start)
    tz = local.tzinfo
    day = local.date()
    at = local.hour * 60 + local.minute + local.second / 60
    estimated = False
    periods = working_hours()
    for _ in range(MAX_DAYS):
        workday, known = is_workday(day)
        estimated |= not known
        if workday:
            for a, b in periods:
                begin = max(a, at)
                if begin >= b:
                    continue
                if minutes <= b - begin:
                    moment = dt.datetime.combine(day, dt.time(), tzinfo=tz) + dt.timedelta(
                        minutes=begin + minutes)
                    return moment, estimated
                minutes -= b - begin
        day += dt.timedelta(days=1)
        at = 0
    raise ValueError("time limit longer than the calendar allows")


def minutes_between(start: dt.datetime, end: dt.datetime) -> float:
    """Working minutes from `start` to `end` (negative when `end` is earlier)."""
    if end < start:
        return -minutes_between(end, start)
    a_local, b_local = timezone.localtime(start), timezone.localtime(end)
    periods = working_hours()
    total = 0.0
    day = a_local.date()
    for _ in range(MAX_DAYS):
        if day > b_local.date():
            break
        if is_workday(day)[0]:
            lo = a_local.hour * 60 + a_local.minute + a_local.second / 60 \
                if day == a_local.date() else 0
            hi = b_local.hour * 60 + b_local.minute + b_local.second / 60 \
                if day == b_local.date() else 24 * 60
            for a, b in periods:
                total += max(0.0, min(b, hi) - max(a, lo))
        day += dt.timedelta(days=1)
    return total


def remaining(deadline: dt.datetime, unit: str, now: dt.datetime) -> float:
    """Working minutes (calendar minutes for calendar-day limits) left until the deadline;
    negative when overdue."""
    if unit == LimitUnit.DAYS:
        return (deadline - now).total_seconds() / 60
    return minutes_between(now, deadline)


def describe(minutes: float, unit: str) -> dict:
    """Remaining time split for display: {"overdue", "days", "hours", "minutes"} where a day is
    a working day of working hours (or 24 hours for calendar-day limits)."""
    per_day = 24 * 60 if unit == LimitUnit.DAYS else minutes_per_day()
    overdue = minutes < 0
    left = abs(int(minutes))
    days, rest = divmod(left, per_day)
    hours, mins = divmod(rest, 60)
    return {"overdue": overdue, "days": days, "hours": hours, "minutes": mins}
