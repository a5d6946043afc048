"""Working time (工作时间) for event deadlines.

A day is a working day by, in order: an administrator's `CalendarDay` entry; the official China
holiday calendar with its make-up working days (调休) from the `chinese-calendar` package; and,
for a year neither knows, Monday to Friday. A year is known when the package covers it or an
administrator has entered it in full (`CalendarYear`, e.g. with `gezhi calendar add-year`). A
deadline computed over a day of an unknown year is marked estimated (`deadline_estimated`) and
pages say so; nothing crashes on an unknown year.

Working hours come from settings.GEZHI_WORK_HOURS ("09:00-12:00,13:30-17:30"), in the
platform's time zone (settings.TIME_ZONE, whatever language or zone a viewer uses). A limit in
working days is that many full working days of working hours; in working hours, that much
working time; in calendar days, plain elapsed time.

Deadlines are computed for every row of a list page, so each year is turned once into a table
of its working days with running counts; adding time and measuring it are then a few lookups
instead of a walk over the days. The tables are rebuilt when an administrator's entries change
(in this process at once, through the model signals; in other processes within CACHE_SECONDS).
"""

from __future__ import annotations

import bisect
import datetime as dt
import math
import threading
import time
from dataclasses import dataclass
from functools import lru_cache
from itertools import accumulate

import chinese_calendar
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.db import transaction
from django.db.models.signals import post_delete, post_save
from django.dispatch import receiver
from django.utils import timezone
from django.utils.translation import gettext as _

from gezhi.core.errors import ValidationFailed
from gezhi.events.models import CalendarDay, CalendarYear, LimitUnit

MAX_DAYS = 3 * 366  # a limit that runs past this is a configuration error, not a deadline
CACHE_SECONDS = 30  # other processes see an administrator's change within this
DEFAULT_HOURS = "09:00-12:00,13:30-17:30"
DAY_MINUTES = 24 * 60

_cache_lock = threading.Lock()
_cache: dict = {"loaded": -math.inf, "days": {}, "years": frozenset(), "generation": 0}

OFFICIAL_FIRST_YEAR = min(chinese_calendar.holidays).year
OFFICIAL_LAST_YEAR = max(chinese_calendar.holidays).year


# ---------------------------------------------------------------------------------------------
# Working hours


@lru_cache(maxsize=8)
def parse_hours(text: str) -> tuple[tuple[int, int], ...]:
    """"09:00-12:00,13:30-17:30" -> ((540, 720), (810, 1050)) in minutes after midnight."""
    periods = []
    for part in text.split(","):
        try:
            start, end = part.strip().split("-")
            h0, m0 = (int(x) for x in start.split(":"))
            h1, m1 = (int(x) for x in end.split(":"))
        except ValueError:
            raise ValueError(f"bad working hours period {part!r}, expected HH:MM-HH:MM") from None
        a, b = h0 * 60 + m0, h1 * 60 + m1
        if not (0 <= m0 < 60 and 0 <= m1 < 60 and 0 <= a < b <= DAY_MINUTES):
            raise ValueError(f"bad working hours period {part!r}")
        periods.append((a, b))
    periods.sort()
    if any(b0 > a1 for (_, b0), (a1, _) in zip(periods, periods[1:], strict=False)):
        raise ValueError(f"working hours periods overlap in {text!r}")
    return tuple(periods)


def working_hours() -> tuple[tuple[int, int], ...]:
    text = getattr(settings, "GEZHI_WORK_HOURS", "") or DEFAULT_HOURS
    try:
        return parse_hours(text)
    except ValueError as exc:
        raise ImproperlyConfigured(f"GEZHI_WORK_HOURS: {exc}") from None


def minutes_per_day() -> int:
    return sum(b - a for a, b in working_hours())


def _worked(lo: float, hi: float, periods) -> float:
    """Working minutes between two moments of one working day (minutes after midnight)."""
    return sum(max(0.0, min(b, hi) - max(a, lo)) for a, b in periods)


def _walk(at: float, minutes: float, periods) -> float | None:
    """The moment of the day `minutes` of working time after `at`, or None if the day's working
    hours run out first. With no minutes: the first working moment at or after `at`."""
    for a, b in periods:
        begin = max(a, at)
        if begin >= b:
            continue
        if minutes <= b - begin:
            return begin + minutes
        minutes -= b - begin
    return None


# ---------------------------------------------------------------------------------------------
# Which days are working days


def _overrides() -> tuple[dict, frozenset, int]:
    """The administrator's days and years, and a generation number that changes with them."""
    now = time.monotonic()
    with _cache_lock:
        if now - _cache["loaded"] > CACHE_SECONDS:
            days = dict(CalendarDay.objects.values_list("date", "is_workday"))
            years = frozenset(CalendarYear.objects.values_list("year", flat=True))
            if days != _cache["days"] or years != _cache["years"]:
                _cache.update(days=days, years=years, generation=_cache["generation"] + 1)
            _cache["loaded"] = now
        return _cache["days"], _cache["years"], _cache["generation"]


def clear_cache() -> None:
    """Read the administrator's entries again on next use (the tables follow if they changed)."""
    with _cache_lock:
        _cache["loaded"] = -math.inf


@receiver([post_save, post_delete], sender=CalendarDay)
@receiver([post_save, post_delete], sender=CalendarYear)
def _calendar_changed(**kwargs) -> None:
    clear_cache()


def builtin_knows(year: int) -> bool:
    return OFFICIAL_FIRST_YEAR <= year <= OFFICIAL_LAST_YEAR


def official_is_workday(day: dt.date) -> bool:
    """The official calendar's answer for a year it covers (the package's own rule, without its
    slow per-call range check)."""
    return day in chinese_calendar.workdays or (
        day.weekday() < 5 and day not in chinese_calendar.holidays)


def year_known(year: int) -> bool:
    return builtin_knows(year) or year in _overrides()[1]


@dataclass(frozen=True)
class YearTable:
    """One year's working days: `work[i]` for day i of the year, `work_before[i]` working days
    before day i, `guessed_before[i]` days before day i decided by the Mon–Fri fallback."""

    first: dt.date
    work: bytes
    work_before: list[int]
    guessed_before: list[int]

    def index(self, day: dt.date) -> int:
        return (day - self.first).days


@lru_cache(maxsize=32)
def _year_table(year: int, generation: int) -> YearTable:
    days, years, _ = _overrides()
    official = builtin_knows(year)
    known = official or year in years
    first = dt.date(year, 1, 1)
    length = (dt.date(year + 1, 1, 1) - first).days if year < dt.MAXYEAR else 365
    work, guessed = bytearray(length), bytearray(length)
    for i in range(length):
        day = first + dt.timedelta(days=i)
        if day in days:
            work[i] = days[day]
        elif official:
            work[i] = official_is_workday(day)
        else:
            work[i] = day.weekday() < 5
            guessed[i] = not known
    return YearTable(first, bytes(work), list(accumulate(work, initial=0)),
                     list(accumulate(guessed, initial=0)))


def year_table(year: int) -> YearTable:
    return _year_table(year, _overrides()[2])


def is_workday(day: dt.date) -> tuple[bool, bool]:
    """(is it a working day, is that from a known calendar rather than the Mon–Fri fallback)."""
    if isinstance(day, dt.datetime):
        day = _local(day).date()
    table = year_table(day.year)
    i = table.index(day)
    return bool(table.work[i]), table.guessed_before[i + 1] == table.guessed_before[i]


def _count(first: dt.date, stop: dt.date) -> tuple[int, int]:
    """Working days, and days decided by the fallback, in [first, stop)."""
    work = guessed = 0
    day = first
    while day < stop:
        table = year_table(day.year)
        end = min(stop, dt.date(day.year + 1, 1, 1)) if day.year < dt.MAXYEAR else stop
        i, j = table.index(day), table.index(end)
        work += table.work_before[j] - table.work_before[i]
        guessed += table.guessed_before[j] - table.guessed_before[i]
        day = end
    return work, guessed


def _nth_workday_after(day: dt.date, n: int) -> dt.date:
    """The n-th working day after `day` (n >= 1)."""
    limit = day + dt.timedelta(days=MAX_DAYS)
    current = day + dt.timedelta(days=1)
    while current <= limit:
        table = year_table(current.year)
        i = table.index(current)
        available = table.work_before[-1] - table.work_before[i]
        if n <= available:
            found = table.first + dt.timedelta(
                days=bisect.bisect_left(table.work_before, table.work_before[i] + n) - 1)
            if found <= limit:
                return found
            break
        n -= available
        current = dt.date(current.year + 1, 1, 1)
    raise ValueError("time limit longer than the calendar allows")


def year_exceptions(year: int) -> list[dict]:
    """The year's holidays and make-up working days (official ones, weekends of a holiday
    included, and every administrator entry): [{"date", "is_workday", "source": "admin" or
    "official", "note"}], by date."""
    days = _overrides()[0]
    rows = []
    official = builtin_knows(year)
    day, end = dt.date(year, 1, 1), dt.date(year + 1, 1, 1)
    notes = dict(CalendarDay.objects.filter(date__year=year).values_list("date", "note"))
    while day < end:
        if day in days:
            rows.append({"date": day, "is_workday": days[day], "source": "admin",
                         "note": notes.get(day, "")})
        elif official and (day in chinese_calendar.holidays or day in chinese_calendar.workdays):
            name = chinese_calendar.holidays.get(day) or chinese_calendar.workdays.get(day)
            holiday = next((h for h in chinese_calendar.Holiday if h.value == name), None)
            rows.append({"date": day, "is_workday": official_is_workday(day),
                         "source": "official", "note": holiday.chinese if holiday else name})
        day += dt.timedelta(days=1)
    return rows


# ---------------------------------------------------------------------------------------------
# Entering a year the official calendar does not know

MIN_YEAR, MAX_YEAR = 2000, 2100  # anything else is a typing mistake


def check_year(year) -> int:
    try:
        year = int(year)
    except (TypeError, ValueError):
        year = 0
    if not MIN_YEAR <= year <= MAX_YEAR:
        raise ValidationFailed(_("年份应在 %(min)s 到 %(max)s 之间。") % {
            "min": MIN_YEAR, "max": MAX_YEAR}, code="bad_year", details={"field": "year"})
    return year


def parse_days(text: str, *, field: str) -> list[dt.date]:
    """"2027-01-01,2027-02-10..2027-02-16" -> the dates, in order, without repeats. Every bad
    item is named in one error."""
    days: set[dt.date] = set()
    problems = []
    for item in (text or "").replace("，", ",").split(","):
        item = item.strip()
        if not item:
            continue
        first, _sep, last = item.partition("..")
        try:
            a = dt.date.fromisoformat(first.strip())
            b = dt.date.fromisoformat(last.strip()) if last else a
        except ValueError:
            problems.append(_("“%(value)s”不是有效日期,请写成 2027-01-01 或 "
                              "2027-02-10..2027-02-16。") % {"value": item})
            continue
        if b < a:
            problems.append(_("日期范围“%(value)s”的结束日期早于开始日期。") % {"value": item})
            continue
        if (b - a).days > 366:
            problems.append(_("日期范围“%(value)s”超过一年。") % {"value": item})
            continue
        days.update(a + dt.timedelta(days=i) for i in range((b - a).days + 1))
    if problems:
        raise ValidationFailed(" ".join(problems), code="bad_date",
                               details={"field": field, "problems": problems})
    return sorted(days)


def calendar_year_add(*, year: int, holidays: list[dt.date], workdays: list[dt.date] = (),
                      note: str = "") -> CalendarYear:
    """Enter a year's holidays and make-up working days (调休) and mark the year known, all in
    one transaction. Entering a year again adds to (or changes) its days."""
    year = check_year(year)
    holidays, workdays = sorted(set(holidays)), sorted(set(workdays))
    if not holidays:
        raise ValidationFailed(_("请填写该年的法定假日。"), code="required",
                               details={"field": "holidays"})
    outside = [d for d in holidays + workdays if d.year != year]
    if outside:
        raise ValidationFailed(_("%(dates)s 不在 %(year)s 年内。") % {
            "dates": "、".join(d.isoformat() for d in outside), "year": year},
            code="bad_date", details={"field": "holidays" if outside[0] in holidays
                                      else "workdays"})
    both = sorted(set(holidays) & set(workdays))
    if both:
        raise ValidationFailed(_("%(dates)s 不能既是假日又是调休工作日。") % {
            "dates": "、".join(d.isoformat() for d in both)}, code="bad_date",
            details={"field": "workdays"})
    note = (note or "")[:100]
    with transaction.atomic():
        for day in holidays:
            CalendarDay.objects.update_or_create(
                date=day, defaults={"is_workday": False, "note": note[:60]})
        for day in workdays:
            CalendarDay.objects.update_or_create(
                date=day, defaults={"is_workday": True, "note": note[:60]})
        entry, _created = CalendarYear.objects.update_or_create(
            year=year, defaults={"note": note})
        transaction.on_commit(clear_cache)
    return entry


# ---------------------------------------------------------------------------------------------
# Deadlines


def _local(moment: dt.datetime) -> dt.datetime:
    """In the platform's zone: working hours are the platform's, not the viewer's."""
    zone = timezone.get_default_timezone()
    if timezone.is_naive(moment):
        return timezone.make_aware(moment, zone)
    return timezone.localtime(moment, zone)


def _minute_of_day(local: dt.datetime) -> float:
    return local.hour * 60 + local.minute + (local.second + local.microsecond / 1e6) / 60


def limit_minutes(amount: int, unit: str) -> int | None:
    """A limit in working minutes, or None for calendar days (plain elapsed time)."""
    if unit == LimitUnit.WORK_DAYS:
        return amount * minutes_per_day()
    if unit == LimitUnit.WORK_HOURS:
        return amount * 60
    if unit == LimitUnit.DAYS:
        return None
    raise ValueError(f"unknown limit unit {unit!r}")


def add(start: dt.datetime, amount: int, unit: str) -> tuple[dt.datetime, bool]:
    """The deadline `amount` `unit`s after `start`, and whether it is estimated (it crossed a
    day of a year the calendar does not know)."""
    amount = max(0, amount)
    minutes = limit_minutes(amount, unit)
    if minutes is None:
        return _local(start) + dt.timedelta(days=amount), False
    return add_minutes(start, minutes)


def add_minutes(start: dt.datetime, minutes: float) -> tuple[dt.datetime, bool]:
    """The moment `minutes` of working time after `start` (from the next working moment when
    `start` is outside working hours), and whether it is estimated."""
    minutes = max(0.0, float(minutes))
    local = _local(start)
    zone = local.tzinfo
    day, at = local.date(), _minute_of_day(local)
    periods = working_hours()
    per_day = sum(b - a for a, b in periods)
    workday, known = is_workday(day)
    if workday:
        moment = _walk(at, minutes, periods)
        if moment is not None:
            return dt.datetime.combine(day, dt.time(), zone) + dt.timedelta(minutes=moment), \
                not known
        minutes -= _worked(at, DAY_MINUTES, periods)
    full_days = max(0, math.ceil(minutes / per_day) - 1)
    rest = min(per_day, max(0.0, minutes - full_days * per_day))
    target = _nth_workday_after(day, full_days + 1)
    moment = _walk(0, rest, periods)
    guessed = _count(day, target + dt.timedelta(days=1))[1]
    return dt.datetime.combine(target, dt.time(), zone) + dt.timedelta(minutes=moment), \
        guessed > 0


def minutes_between(start: dt.datetime, end: dt.datetime) -> float:
    """Working minutes from `start` to `end` (negative when `end` is earlier)."""
    a, b = _local(start), _local(end)
    if b < a:
        return -minutes_between(b, a)
    periods = working_hours()
    first, last = a.date(), b.date()
    lo, hi = _minute_of_day(a), _minute_of_day(b)
    if first == last:
        return _worked(lo, hi, periods) if is_workday(first)[0] else 0.0
    total = _worked(lo, DAY_MINUTES, periods) if is_workday(first)[0] else 0.0
    total += _worked(0, hi, periods) if is_workday(last)[0] else 0.0
    whole = _count(first + dt.timedelta(days=1), last)[0]
    return total + whole * sum(b - a for a, b in periods)


def remaining(deadline: dt.datetime | None, unit: str, now: dt.datetime | None = None
              ) -> float | None:
    """Working minutes (calendar minutes for calendar-day limits) left until the deadline;
    negative when overdue; None without a deadline."""
    if deadline is None:
        return None
    if now is None:
        from gezhi.core import clock

        now = clock.now()
    if unit == LimitUnit.DAYS:
        return (_local(deadline) - _local(now)).total_seconds() / 60
    return minutes_between(now, deadline)


def describe(minutes: float | None, unit: str) -> dict:
    """Remaining time split for display: {"overdue", "days", "hours", "minutes"} where a day is
    a working day of working hours (or 24 hours for calendar-day limits). Time left is rounded
    down and time overdue up, so a deadline never shows as met or missed early."""
    if minutes is None or not math.isfinite(minutes):
        return {"overdue": False, "days": 0, "hours": 0, "minutes": 0}
    per_day = DAY_MINUTES if unit == LimitUnit.DAYS else minutes_per_day()
    overdue = minutes < 0
    left = math.ceil(-minutes) if overdue else math.floor(minutes)
    days, rest = divmod(left, per_day)
    hours, mins = divmod(rest, 60)
    return {"overdue": overdue, "days": int(days), "hours": int(hours), "minutes": int(mins)}
