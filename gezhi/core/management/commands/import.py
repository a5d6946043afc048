"""`gezhi import KIND FILE`: import data from a file, all or nothing.

    gezhi import grids boundaries.geojson [--dry-run]

KIND comes first so that later kinds (people, houses, orgs, components) join the same command.
FILE "-" reads standard input. The report lists every problem with the codes involved; any
problem leaves the database untouched and exits non-zero.
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


IMPORTERS = {
    "grids": import_grids,
}


class Command(BaseCommand):
    help = ("导入数据(全部成功或全部不写入)/ Import data, all or nothing: "
            "gezhi import grids FILE [--dry-run]")

    def add_arguments(self, parser):
        parser.add_argument("kind", help="导入类型 / kind: " + ", ".join(IMPORTERS))
        parser.add_argument("file", help="文件路径,- 为标准输入 / file path, - for stdin")
        parser.add_argument("--dry-run", action="store_true",
                            help="只检查并报告,不写入 / check and report, write nothing")

    def handle(self, *args, kind: str, file: str, dry_run: bool, verbosity: int = 1,
               **options):
        importer = IMPORTERS.get(kind)
        if importer is None:
            raise CommandError(_("未知的导入类型:%(kind)s。可用的类型:%(kinds)s")
                               % {"kind": kind, "kinds": "、".join(IMPORTERS)})
        importer(self, file, dry_run=dry_run, verbosity=verbosity)
