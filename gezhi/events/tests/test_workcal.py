"""Working time: the official 2026 calendar with its 调休, working hours with a lunch break, the
Monday–Friday fallback for years the calendar does not know, and administrators' years."""

import datetime as dt
from zoneinfo import ZoneInfo

import pytest
from django.core.exceptions import ImproperlyConfigured
from django.core.management import CommandError, call_command

from gezhi.core.errors import ValidationFailed
from gezhi.events import workcal
from gezhi.events.models import CalendarDay, CalendarYear, LimitUnit

TZ = ZoneInfo("Asia/Shanghai")
HOURS, WORK_DAYS, DAYS = LimitUnit.WORK_HOURS, LimitUnit.WORK_DAYS, LimitUnit.DAYS
# chinese-calendar 1.11.0's make-up working days (调休上班) for 2026
MAKE_UP_2026 = ["2026-01-04", "2026-02-14", "2026-02-28", "2026-05-09", "2026-09-20",
                "2026-10-10"]


def at(text: str) -> dt.datetime:
    return dt.datetime.fromisoformat(text).replace(tzinfo=TZ)


def day(text: str) -> dt.date:
    return dt.date.fromisoformat(text)


@pytest.fixture(autouse=True)
def fresh_calendar(db):
    """Administrator entries are cached per process; rows of another test rolled back."""
    workcal.clear_cache()
    yield
    workcal.clear_cache()


def test_2026_holidays_and_make_up_days_follow_the_official_calendar():
    for d in range(1, 8):
        assert workcal.is_workday(dt.date(2026, 10, d)) == (False, True)  # 国庆节
    for d in range(15, 24):
        assert workcal.is_workday(dt.date(2026, 2, d))[0] is False  # 春节
    for text in MAKE_UP_2026:
        assert day(text).weekday() >= 5  # each is a weekend day …
        assert workcal.is_workday(day(text)) == (True, True)  # … worked instead
    assert workcal.is_workday(day("2026-11-28")) == (False, True)  # an ordinary Saturday
    assert workcal.is_workday(day("2026-11-27")) == (True, True)
    assert workcal.is_workday(at("2026-10-10 08:00")) == (True, True)
    assert workcal.year_known(2026)


def test_working_hours_skip_the_lunch_break():
    assert workcal.add(at("2026-11-25 11:00"), 2, HOURS) == (at("2026-11-25 14:30"), False)
    assert workcal.add(at("2026-11-25 11:00"), 1, HOURS)[0] == at("2026-11-25 12:00")
    assert workcal.add(at("2026-11-25 09:00"), 1, WORK_DAYS)[0] == at("2026-11-25 17:30")
    assert workcal.minutes_per_day() == 7 * 60


def test_a_limit_starting_outside_working_hours_starts_at_the_next_working_moment():
    assert workcal.add(at("2026-11-25 07:00"), 1, HOURS)[0] == at("2026-11-25 10:00")
    assert workcal.add(at("2026-11-25 12:30"), 1, HOURS)[0] == at("2026-11-25 14:30")
    # Friday evening: the weekend does not count
    assert workcal.add(at("2026-11-27 19:00"), 4, HOURS)[0] == at("2026-11-30 14:30")
    assert workcal.add(at("2026-11-28 10:00"), 1, HOURS)[0] == at("2026-11-30 10:00")
    assert workcal.add_minutes(at("2026-11-27 19:00"), 0)[0] == at("2026-11-30 09:00")


def test_a_limit_running_into_a_holiday_resumes_after_it():
    # 2026-09-30 is the last working day before 国庆节 (10-01..07)
    assert workcal.add(at("2026-09-30 16:30"), 2, HOURS)[0] == at("2026-10-08 10:00")
    # 10-10 is a Saturday worked in lieu (调休), 10-11 an ordinary Sunday
    assert workcal.add(at("2026-10-09 17:00"), 1, HOURS)[0] == at("2026-10-10 09:30")
    assert workcal.add(at("2026-10-10 17:00"), 1, HOURS)[0] == at("2026-10-12 09:30")


def test_working_days_working_hours_and_calendar_days_differ():
    start = at("2026-09-29 10:00")  # a Tuesday before 国庆节
    assert workcal.add(start, 3, HOURS)[0] == at("2026-09-29 14:30")
    assert workcal.add(start, 3, WORK_DAYS)[0] == at("2026-10-09 10:00")
    assert workcal.add(start, 3, DAYS) == (at("2026-10-02 10:00"), False)
    assert workcal.add(at("2026-11-27 10:00"), 1, WORK_DAYS)[0] == at("2026-11-30 10:00")
    # 30 working days over 中秋 (09-25 off), 国庆节 and two make-up days (09-20, 10-10)
    deadline, estimated = workcal.add(at("2026-09-14 09:00"), 30, WORK_DAYS)
    assert (deadline, estimated) == (at("2026-10-29 17:30"), False)
    assert workcal.minutes_between(at("2026-09-14 09:00"), deadline) == 30 * 7 * 60


def test_minutes_between_and_remaining_in_both_directions():
    friday, monday = at("2026-11-27 16:30"), at("2026-11-30 10:00")
    assert workcal.minutes_between(friday, monday) == 120
    assert workcal.minutes_between(monday, friday) == -120
    assert workcal.minutes_between(friday, friday) == 0
    assert workcal.minutes_between(at("2026-11-25 12:10"), at("2026-11-25 13:00")) == 0
    assert workcal.minutes_between(at("2026-09-30 17:00"), at("2026-10-08 09:30")) == 60
    deadline = workcal.add(friday, 2, HOURS)[0]
    assert workcal.remaining(deadline, HOURS, friday) == 120
    assert workcal.remaining(deadline, HOURS, at("2026-11-30 11:00")) == -60
    assert workcal.remaining(deadline, DAYS, friday) == (deadline - friday).total_seconds() / 60
    assert workcal.remaining(deadline, DAYS, deadline + dt.timedelta(hours=1)) == -60
    assert workcal.remaining(None, HOURS, friday) is None


def test_remaining_accepts_naive_times_and_defaults_to_the_clock():
    from gezhi.core import clock

    deadline = at("2026-11-25 14:30")
    assert workcal.remaining(deadline, HOURS, dt.datetime(2026, 11, 25, 11, 0)) == 120
    with clock.frozen(at("2026-11-25 11:00")):
        assert workcal.remaining(deadline, HOURS) == 120


def test_describe_splits_into_working_days_hours_and_minutes():
    assert workcal.describe(2 * 420 + 90, WORK_DAYS) == {
        "overdue": False, "days": 2, "hours": 1, "minutes": 30}
    assert workcal.describe(89.9, HOURS) == {
        "overdue": False, "days": 0, "hours": 1, "minutes": 29}
    # half a minute late is late: it shows as one minute overdue, not zero
    assert workcal.describe(-0.5, HOURS) == {
        "overdue": True, "days": 0, "hours": 0, "minutes": 1}
    assert workcal.describe(-(1440 + 61), DAYS) == {
        "overdue": True, "days": 1, "hours": 1, "minutes": 1}
    blank = {"overdue": False, "days": 0, "hours": 0, "minutes": 0}
    assert workcal.describe(None, HOURS) == blank
    assert workcal.describe(float("nan"), HOURS) == blank


def test_2027_falls_back_to_monday_to_friday_and_says_it_is_estimated():
    assert not workcal.year_known(2027)
    assert workcal.is_workday(day("2027-01-01")) == (True, False)  # a Friday; New Year unknown
    assert workcal.is_workday(day("2027-01-02")) == (False, False)
    deadline, estimated = workcal.add(at("2026-12-31 16:00"), 2, WORK_DAYS)
    assert estimated and deadline == at("2027-01-04 16:00")
    assert workcal.add(at("2027-03-01 09:00"), 4, HOURS) == (at("2027-03-01 14:30"), True)
    # a limit that ends before the new year is not estimated
    assert workcal.add(at("2026-12-30 09:00"), 1, WORK_DAYS) == (at("2026-12-30 17:30"), False)
    assert workcal.add(at("2027-03-01 09:00"), 3, DAYS)[1] is False
    # 2027-01-01 (a Friday) counts as a working day until someone enters 2027
    assert workcal.minutes_between(at("2026-12-31 17:00"), at("2027-01-04 09:30")) == \
        30 + 7 * 60 + 30
    deadline, estimated = workcal.add(at("2027-06-01 09:00"), 200, WORK_DAYS)  # into 2028
    assert estimated and deadline.year == 2028
    assert workcal.is_workday(day("2003-05-01")) == (True, False)  # before the package, too


def test_an_administrator_can_enter_2027():
    CalendarDay.objects.create(date=day("2027-01-01"), is_workday=False, note="元旦")
    # One entered day is known; the rest of the year is still a guess.
    assert workcal.is_workday(day("2027-01-01")) == (False, True)
    assert workcal.add(at("2026-12-31 16:00"), 2, WORK_DAYS) == (at("2027-01-05 16:00"), True)
    CalendarDay.objects.create(date=day("2027-02-07"), is_workday=True, note="春节调休")
    CalendarYear.objects.create(year=2027)
    assert workcal.year_known(2027)
    assert workcal.is_workday(day("2027-02-07")) == (True, True)
    assert workcal.is_workday(day("2027-03-01")) == (True, True)
    assert workcal.add(at("2026-12-31 16:00"), 2, WORK_DAYS) == (at("2027-01-05 16:00"), False)
    assert workcal.add(at("2027-02-05 17:00"), 1, HOURS) == (at("2027-02-07 09:30"), False)
    # deleting the entry takes effect at once in this process
    CalendarDay.objects.filter(date=day("2027-01-01")).delete()
    assert workcal.add(at("2026-12-31 16:00"), 2, WORK_DAYS)[0] == at("2027-01-04 16:00")


def test_an_administrator_exception_overrides_the_official_calendar():
    CalendarDay.objects.create(date=day("2026-11-27"), is_workday=False, note="台风停工")
    assert workcal.add(at("2026-11-26 17:00"), 1, HOURS)[0] == at("2026-11-30 09:30")
    row = next(r for r in workcal.year_exceptions(2026) if r["date"] == day("2026-11-27"))
    assert row == {"date": day("2026-11-27"), "is_workday": False, "source": "admin",
                   "note": "台风停工"}


def test_deadlines_need_no_queries_once_the_calendar_is_loaded(django_assert_num_queries):
    workcal.add(at("2026-11-25 09:00"), 30, WORK_DAYS)
    with django_assert_num_queries(0):
        for hour in range(9, 17):
            deadline, _ = workcal.add(at(f"2026-11-25 {hour:02d}:00"), 30, WORK_DAYS)
            workcal.remaining(deadline, WORK_DAYS, at("2026-12-01 10:00"))


def test_working_hours_come_from_settings(settings):
    settings.GEZHI_WORK_HOURS = "08:00-12:00,14:00-18:00"
    assert workcal.minutes_per_day() == 8 * 60
    assert workcal.add(at("2026-11-25 09:00"), 4, HOURS)[0] == at("2026-11-25 15:00")
    assert workcal.add(at("2026-11-25 08:00"), 1, WORK_DAYS)[0] == at("2026-11-25 18:00")
    assert workcal.minutes_between(at("2026-11-25 07:00"), at("2026-11-25 13:00")) == 4 * 60
    settings.GEZHI_WORK_HOURS = "00:00-24:00"
    assert workcal.add(at("2026-11-27 23:00"), 2, HOURS)[0] == at("2026-11-30 01:00")
    settings.GEZHI_WORK_HOURS = "9-17"
    with pytest.raises(ImproperlyConfigured, match="GEZHI_WORK_HOURS"):
        workcal.add(at("2026-11-25 09:00"), 1, HOURS)
    settings.GEZHI_WORK_HOURS = "09:00-12:00,11:00-17:00"
    with pytest.raises(ImproperlyConfigured, match="overlap"):
        workcal.minutes_per_day()


def test_calendar_show_lists_the_official_days(capsys):
    call_command("calendar", "show", "2026")
    out = capsys.readouterr().out
    assert "2026 年:已知(官方日历)" in out
    assert "2026-10-01 周四 假日 国庆节 [官方]" in out
    assert "2026-10-07 周三 假日 国庆节 [官方]" in out
    for text in MAKE_UP_2026:
        assert f"{text} " in out and "调休上班" in out.split(text)[1].splitlines()[0]
    call_command("calendar", "show", "2027")
    out = capsys.readouterr().out
    assert "2027 年:未知" in out and "估算" in out


def test_calendar_add_year_makes_2027_known(capsys):
    call_command("calendar", "add-year", "2027", "--holidays",
                 "2027-01-01,2027-02-10..2027-02-16", "--workdays", "2027-02-07",
                 "--note", "国办通知")
    assert "已录入 2027 年:8 个假日,1 个调休工作日。" in capsys.readouterr().out
    assert CalendarYear.objects.filter(year=2027).exists()
    assert CalendarDay.objects.filter(date__year=2027, is_workday=False).count() == 8
    assert workcal.year_known(2027)
    assert workcal.add(at("2027-02-09 17:00"), 1, HOURS) == (at("2027-02-17 09:30"), False)
    call_command("calendar", "show", "2027")
    out = capsys.readouterr().out
    assert "2027 年:已知(管理员录入)" in out
    assert "2027-02-07 周日 调休上班 国办通知 [管理员]" in out


@pytest.mark.parametrize("args, message", [
    (["--holidays", "2027-01-01,2027-13-01"], "“2027-13-01”不是有效日期"),
    (["--holidays", "2027-03-05..2027-03-01"], "结束日期早于开始日期"),
    (["--holidays", "2027-01-01,2028-01-01"], "2028-01-01 不在 2027 年内"),
    (["--holidays", "2027-02-07", "--workdays", "2027-02-07"], "不能既是假日又是调休工作日"),
    (["--holidays", " "], "请填写该年的法定假日"),
])
def test_calendar_add_year_refuses_bad_dates_and_writes_nothing(args, message):
    with pytest.raises(CommandError, match=message):
        call_command("calendar", "add-year", "2027", *args)
    assert not CalendarDay.objects.exists() and not CalendarYear.objects.exists()
    assert not workcal.year_known(2027)


def test_calendar_refuses_a_bad_year():
    with pytest.raises(CommandError, match="年份应在 2000 到 2100 之间"):
        call_command("calendar", "show", "20x7")
    with pytest.raises(ValidationFailed):
        workcal.calendar_year_add(year=1999, holidays=[day("1999-01-01")])
