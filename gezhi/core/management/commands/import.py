"""`gezhi import KIND FILE`: import data from a file.

    gezhi import grids boundaries.geojson [--dry-run]
    gezhi import people|houses|orgs|components FILE.xlsx|FILE.csv [--dry-run]
                 [--mode all|valid] [--grid CODE]

Grids: FILE "-" reads standard input; the report lists every problem with the codes involved;
any problem leaves the database untouched and exits non-zero.

Base data (xlsx or CSV with the headers of the console's 导入模板): every bad row is reported
with its row number, column and reason. `--mode all` (the default) writes nothing if any row is
bad; `--mode valid` writes the good rows. `--grid CODE` is the grid for rows that name none.
Progress goes to standard error. Runs as the system (no scope limit); logged in the access log.
"""

from __future__ import annotations

import json
import sys
from dataclasses import asdict
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError
from django.utils.translation import gettext as _

from gezhi.core.errors import GezhiError


def read_json(path: str):
    """The parsed JSON document at `path` ("-": standard input), or a CommandError in Chinese."""
    try:
        if path == "-":
            text = sys.stdin.read()
        else:
            text = Path(path).read_text(encoding="utf-8-sig")
    except FileNotFoundError as exc:
        raise CommandError(_("找不到文件:%(path)s") % {"path": path}) from exc
    except IsADirectoryError as exc:
        raise CommandError(_("%(path)s 是目录,不是文件。") % {"path": path}) from exc
    except UnicodeDecodeError as exc:
        raise CommandError(_("文件 %(path)s 不是 UTF-8 编码的文本。") % {"path": path}) from exc
    except OSError as exc:
        raise CommandError(_("无法读取 %(path)s:%(error)s") % {"path": path, "error": exc}) from exc
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        raise CommandError(
            _("%(path)s 不是有效的 JSON:第 %(line)d 行第 %(col)d 列,%(error)s")
            % {"path": path, "line": exc.lineno, "col": exc.colno, "error": exc.msg}) from exc


def import_grids(command: BaseCommand, path: str, *, dry_run: bool, verbosity: int = 1) -> None:
    from gezhi.regions.boundaries import PROBLEM_KINDS, boundaries_import

    collection = read_json(path)
    try:
        report = boundaries_import(collection=collection, actor=None, dry_run=dry_run)
    except GezhiError as exc:
        problems = exc.details.get("problems")
        if not problems:
            raise CommandError(str(exc.message)) from exc
    else:
        counts = {"created": len(report.created), "updated": len(report.updated),
                  "unchanged": len(report.unchanged)}
        if dry_run:
            message = _("试运行(未写入):将新建 %(created)d 个,更新 %(updated)d 个,"
                        "%(unchanged)d 个不变。")
        else:
            message = _("已导入:新建 %(created)d 个,更新 %(updated)d 个,%(unchanged)d 个不变。")
        command.stdout.write(message % counts)
        if verbosity >= 2:
            for label, codes in ((_("新建"), report.created), (_("更新"), report.updated)):
                if codes:
                    command.stdout.write(f"  {label}:{'、'.join(codes)}")
        problems = [asdict(p) for p in report.problems]
    for problem in problems:
        where = ""
        if problem["feature_index"] is not None:
            where = _("(第 %(n)d 个要素)") % {"n": problem["feature_index"] + 1}
        label = PROBLEM_KINDS.get(problem["kind"], problem["kind"])
        command.stderr.write(f"[{label}] {problem['message']}{where}")
    if problems:
        raise CommandError(_("发现 %(n)d 个问题,未写入任何数据。") % {"n": len(problems)})


def import_base(kind: str):
    def run(command: BaseCommand, path: str, *, dry_run: bool, verbosity: int = 1,
            mode: str = "all", grid: str | None = None) -> None:
        from gezhi.dataio.models import ImportMode
        from gezhi.dataio.services import import_file, summary
        from gezhi.regions.models import Level, Region

        if path == "-":
            raise CommandError(_("电子表格不能从标准输入读取,请给出文件路径。"))
        file = Path(path)
        if not file.is_file():
            raise CommandError(_("找不到文件:%(path)s") % {"path": path})
        default_grid = None
        if grid:
            default_grid = Region.objects.filter(code=grid, level=Level.GRID).first()
            if default_grid is None:
                raise CommandError(_("找不到网格编码:%(code)s") % {"code": grid})
        show = Progress(command.stderr, verbosity)
        report = import_file(actor=None, kind=kind, path=file, file_name=file.name,
                             mode=ImportMode.DRY_RUN if dry_run else mode,
                             default_grid=default_grid, progress=show)
        show.done()
        for problem in report.problems:
            command.stderr.write(_("第 %(row)d 行 [%(column)s] %(message)s") % {
                "row": problem.row, "column": problem.column, "message": problem.message})
        if report.truncated:
            command.stderr.write(_("……另有 %(n)d 个问题未列出。")
                                 % {"n": report.problem_count - len(report.problems)})
        if report.fatal or (report.bad_rows and not report.written):
            raise CommandError(summary(report))
        command.stdout.write(summary(report))
        if report.bad_rows:
            raise CommandError(_("%(n)d 行有问题,未导入。") % {"n": report.bad_rows})

    return run


class Progress:
    """Rows read so far on the terminal: one line redrawn in place, or a line every 10% when
    standard error is not a terminal (a log file)."""

    def __init__(self, stream, verbosity: int):
        self.stream = stream
        self.quiet = verbosity < 1
        self.tty = hasattr(stream, "isatty") and stream.isatty()
        self.step = 0
        self.drawn = False

    def __call__(self, rows: int, fraction: float) -> None:
        if self.quiet:
            return
        line = _("导入中:已读取 %(rows)s 行(约 %(percent)d%%)") % {
            "rows": f"{rows:,}", "percent": int(fraction * 100)}
        if self.tty:
            self.stream.write("\r" + line, ending="")
            self.stream.flush()
            self.drawn = True
        elif fraction >= self.step / 10:
            self.stream.write(line)
            self.step = int(fraction * 10) + 1

    def done(self) -> None:
        if self.drawn:
            self.stream.write("")
            self.drawn = False


IMPORTERS = {
    "grids": import_grids,
    "people": import_base("people"),
    "houses": import_base("houses"),
    "orgs": import_base("orgs"),
    "components": import_base("components"),
}


class Command(BaseCommand):
    help = ("导入数据 / Import data: gezhi import grids FILE [--dry-run]; "
            "gezhi import people|houses|orgs|components FILE [--dry-run] [--mode all|valid] "
            "[--grid CODE]")

    def add_arguments(self, parser):
        parser.add_argument("kind", help="导入类型 / kind: " + ", ".join(IMPORTERS))
        parser.add_argument("file", help="文件路径,- 为标准输入 / file path, - for stdin")
        parser.add_argument("--dry-run", action="store_true",
                            help="只检查并报告,不写入 / check and report, write nothing")
        parser.add_argument("--mode", choices=["all", "valid"], default="all",
                            help="all: 有问题行则全部不写入(默认)/ nothing if any row is bad; "
                                 "valid: 只写入无误的行 / write the good rows")
        parser.add_argument("--grid", metavar="CODE",
                            help="未填网格的行归入此网格 / grid for rows that name none")

    def handle(self, *args, kind: str, file: str, dry_run: bool, verbosity: int = 1,
               mode: str = "all", grid: str | None = None, **options):
        importer = IMPORTERS.get(kind)
        if importer is None:
            raise CommandError(_("未知的导入类型:%(kind)s。可用的类型:%(kinds)s")
                               % {"kind": kind, "kinds": "、".join(IMPORTERS)})
        if kind == "grids":
            if mode != "all" or grid:
                raise CommandError(_("导入网格边界不支持 --mode 和 --grid:边界总是全部无误才写入。"))
            importer(self, file, dry_run=dry_run, verbosity=verbosity)
            return
        importer(self, file, dry_run=dry_run, verbosity=verbosity, mode=mode, grid=grid)
