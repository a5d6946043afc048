"""`gezhi export KIND [--within CODE] [--level LEVEL] [-o FILE]`: export data.

    gezhi export grids --within 370481001 -o grids.geojson
    gezhi export people|houses|orgs|components [--within CODE] -o FILE.xlsx
                 [--plaintext --reason TEXT]

`grids` writes region boundaries as GeoJSON in the format `gezhi import grids` reads (grids by
default; --level community or --level all for other levels), to standard output by default.
The base-data kinds write xlsx with the import template's headers, ID and phone numbers masked
unless --plaintext is given with a reason; every export is logged in the access log (as the
system, user empty).
"""

from __future__ import annotations

import json

from django.core.management.base import BaseCommand, CommandError
from django.utils.translation import gettext as _

from gezhi.core.errors import GezhiError


def geojson_text(collection: dict) -> str:
    """One feature a line: readable, and a diff of two exports shows the regions that changed."""
    lines = ",\n".join(json.dumps(f, ensure_ascii=False) for f in collection["features"])
    return '{"type": "FeatureCollection", "features": [\n' + lines + "\n]}\n"


def export_grids(command: BaseCommand, *, within: str | None, level: str, output: str) -> None:
    from gezhi.regions.boundaries import boundaries_export
    from gezhi.regions.models import Level, Region

    region = None
    if within:
        region = Region.objects.filter(code=within).first()
        if region is None:
            raise CommandError(_("找不到区划代码:%(code)s") % {"code": within})
    if level != "all" and level not in Level.values:
        raise CommandError(_("层级 %(level)s 无效,应为 %(choices)s 之一。")
                           % {"level": level, "choices": "、".join([*Level.values, "all"])})
    try:
        collection = boundaries_export(viewer=None, within=region,
                                       level=None if level == "all" else level)
    except GezhiError as exc:
        raise CommandError(str(exc.message)) from exc
    text = geojson_text(collection)
    if output == "-":
        command.stdout.write(text, ending="")
    else:
        try:
            with open(output, "w", encoding="utf-8") as f:
                f.write(text)
        except OSError as exc:
            raise CommandError(_("无法写入 %(path)s:%(error)s")
                               % {"path": output, "error": exc}) from exc
    command.stderr.write(_("已导出 %(n)d 个区划。") % {"n": len(collection["features"])})


def export_base(kind: str):
    def run(command: BaseCommand, *, within: str | None, level: str, output: str,
            plaintext: bool = False, reason: str = "") -> None:
        import os
        import shutil

        from gezhi.dataio.exports import export_workbook

        if output == "-" or not output.lower().endswith(".xlsx"):
            raise CommandError(_("请用 -o 指定输出的 .xlsx 文件。"))
        params = {"grid": within} if within else {}
        try:
            result = export_workbook(viewer=None, kind=kind, params=params, plaintext=plaintext,
                                     reason=reason)
        except GezhiError as exc:
            raise CommandError(str(exc.message)) from exc
        try:
            shutil.move(result.path, output)
        except OSError as exc:
            os.unlink(result.path)
            raise CommandError(_("无法写入 %(path)s:%(error)s")
                               % {"path": output, "error": exc}) from exc
        masked = _("明文") if result.plaintext else _("已脱敏")
        command.stderr.write(_("已导出 %(n)d 行到 %(path)s(%(masked)s),已记入访问日志。")
                             % {"n": result.rows, "path": output, "masked": masked})

    return run


EXPORTERS = {
    "grids": export_grids,
    "people": export_base("people"),
    "houses": export_base("houses"),
    "orgs": export_base("orgs"),
    "components": export_base("components"),
}


class Command(BaseCommand):
    help = ("导出数据 / Export data: "
            "gezhi export grids [--within CODE] [--level grid|community|...|all] [-o FILE]; "
            "gezhi export people|houses|orgs|components [--within CODE] -o FILE.xlsx "
            "[--plaintext --reason TEXT]")

    def add_arguments(self, parser):
        parser.add_argument("kind", help="导出类型 / kind: " + ", ".join(EXPORTERS))
        parser.add_argument("--within", metavar="CODE",
                            help="只导出该区划及其下级 / only this region's subtree")
        parser.add_argument("--level", default="grid",
                            help="层级,all 为全部 / level, or all (default: grid)")
        parser.add_argument("-o", "--output", default="-",
                            help="输出文件,默认标准输出 / output file (default: stdout)")
        parser.add_argument("--plaintext", action="store_true",
                            help="证件号码和电话导出明文(须填 --reason)/ ID and phone "
                                 "numbers in full (needs --reason)")
        parser.add_argument("--reason", default="", help="明文导出事由 / why plaintext")

    def handle(self, *args, kind: str, within, level: str, output: str,
               plaintext: bool = False, reason: str = "", **options):
        exporter = EXPORTERS.get(kind)
        if exporter is None:
            raise CommandError(_("未知的导出类型:%(kind)s。可用的类型:%(kinds)s")
                               % {"kind": kind, "kinds": "、".join(EXPORTERS)})
        if kind == "grids":
            exporter(self, within=within, level=level, output=output)
            return
        exporter(self, within=within, level=level, output=output, plaintext=plaintext,
                 reason=reason)
