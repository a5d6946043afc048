"""`gezhi calendar`: the working calendar that event time limits run on.

    gezhi calendar show YEAR
        Prints whether YEAR is known (the official calendar from the chinese-calendar package,
        or entered by an administrator) and every day that differs from Monday–Friday:
        holidays (假日) and make-up working days (调休上班), with where each comes from.

    gezhi calendar add-year YEAR --holidays DAYS [--workdays DAYS] [--note TEXT]
        Enters a year the official calendar does not know yet (chinese-calendar 1.11.0 stops at
        2026), e.g. from the State Council's notice:

            gezhi calendar add-year 2027 --holidays 2027-01-01,2027-02-10..2027-02-16 \\
                --workdays 2027-02-07

        DAYS is a comma-separated list of dates (YYYY-MM-DD) and ranges (FIRST..LAST). The
        days and the year are written in one transaction: any bad date writes nothing and every
        bad item is named. Entering a year again adds to, or changes, its days. The year then
        counts as known: deadlines over it are no longer marked estimated. Other days of the
        year stay Monday–Friday. Single days can also be changed in the admin (工作日历调整).

Until a year is known, deadlines over it count Monday–Friday as working days and are marked
estimated (估算). Running processes pick up changes within 30 seconds.
"""

from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError
from django.utils.translation import gettext as _

from gezhi.core.errors import GezhiError
from gezhi.events import workcal

DAYS_HELP = "日期或范围,逗号分隔 / dates or ranges, comma-separated: 2027-01-01,2027-02-10..2027-02-16"


def weekday_label(day) -> str:
    return [_("周一"), _("周二"), _("周三"), _("周四"), _("周五"), _("周六"), _("周日")][day.weekday()]


class Command(BaseCommand):
    help = ("工作日历 / Working calendar for event time limits. "
            "`gezhi calendar show YEAR`: the year's holidays and make-up working days and "
            "whether the year is known. "
            "`gezhi calendar add-year YEAR --holidays DAYS [--workdays DAYS] [--note TEXT]`: "
            "enter a year the official calendar does not know (e.g. 2027), in one transaction. "
            "DAYS: " + DAYS_HELP.split(": ", 1)[1])

    def add_arguments(self, parser):
        actions = parser.add_subparsers(dest="action", required=True, metavar="ACTION")
        show = actions.add_parser(
            "show", help="列出某年的假日和调休工作日 / list a year's non-standard days")
        show.add_argument("year", help="年份 / year, e.g. 2026")
        add = actions.add_parser(
            "add-year", help="录入官方日历未包含的年份 / enter a year the official calendar "
                             "does not know")
        add.add_argument("year", help="年份 / year, e.g. 2027")
        add.add_argument("--holidays", required=True, help="法定假日 / holidays. " + DAYS_HELP)
        add.add_argument("--workdays", default="",
                         help="调休上班的周末 / make-up working days. " + DAYS_HELP)
        add.add_argument("--note", default="", help="说明,如通知文号 / note, e.g. the notice")

    def handle(self, *args, action: str, **options):
        try:
            if action == "show":
                self.show(workcal.check_year(options["year"]))
            else:
                self.add_year(options)
        except GezhiError as exc:
            raise CommandError(str(exc.message)) from exc

    def show(self, year: int) -> None:
        if workcal.builtin_knows(year):
            status = _("已知(官方日历)")
        elif workcal.year_known(year):
            status = _("已知(管理员录入)")
        else:
            status = _("未知:按周一至周五计算工作日,时限标为估算")
        self.stdout.write(_("%(year)s 年:%(status)s") % {"year": year, "status": status})
        rows = workcal.year_exceptions(year)
        if not rows:
            self.stdout.write(_("没有假日或调休工作日。"))
        sources = {"official": _("官方"), "admin": _("管理员")}
        for row in rows:
            kind = _("调休上班") if row["is_workday"] else _("假日")
            note = f" {row['note']}" if row["note"] else ""
            self.stdout.write(f"{row['date']:%Y-%m-%d} {weekday_label(row['date'])} {kind}"
                              f"{note} [{sources[row['source']]}]")

    def add_year(self, options) -> None:
        year = workcal.check_year(options["year"])
        holidays = workcal.parse_days(options["holidays"], field="holidays")
        workdays = workcal.parse_days(options["workdays"], field="workdays")
        if workcal.builtin_knows(year):
            self.stderr.write(_("注意:官方日历已包含 %(year)s 年,录入的日期将覆盖官方日历。") % {
                "year": year})
        workcal.calendar_year_add(year=year, holidays=holidays, workdays=workdays,
                                  note=options["note"])
        self.stdout.write(_("已录入 %(year)s 年:%(holidays)s 个假日,%(workdays)s 个调休工作日。")
                          % {"year": year, "holidays": len(holidays),
                             "workdays": len(workdays)})
