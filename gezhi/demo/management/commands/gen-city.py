"""`gezhi gen-city --grids N --people M [--seed S]`: a synthetic city for benchmarks.

Creates a district (370499 unless --district says otherwise) of N grids west of the demo and
fills it with estates, houses, M people in households, tags, organisations and components
(gezhi.demo.citygen), in one transaction, printing progress and a summary with timings.
"""

from __future__ import annotations

import time

from django.core.management.base import BaseCommand, CommandError
from django.db import connection, transaction

from gezhi.core.errors import GezhiError
from gezhi.demo import data
from gezhi.demo.citygen import (
    SYNTHETIC_DISTRICT_CODE,
    build_synthetic_regions,
    delete_synthetic_city,
    generate_city,
)
from gezhi.regions.models import Region

MAX_GRIDS = 100_000
MAX_PEOPLE = 10_000_000


class Command(BaseCommand):
    help = ("生成模拟城市(网格、小区、房屋、人口、户、标签、组织、部件)用于性能测试 / "
            "Generate a synthetic city (grids, estates, houses, people, households, tags, "
            "organisations, components) for benchmarks")

    def add_arguments(self, parser):
        parser.add_argument("--grids", type=int, default=200, help="网格数 / grids (default 200)")
        parser.add_argument("--people", type=int, default=100_000,
                            help="实有人口总数 / people in all (default 100000)")
        parser.add_argument("--seed", type=int, default=1,
                            help="随机种子,相同种子生成相同城市 / seed: same seed, same city")
        parser.add_argument("--district", default=SYNTHETIC_DISTRICT_CODE,
                            help="模拟城区的6位代码 / 6-digit code of the synthetic district "
                                 f"(default {SYNTHETIC_DISTRICT_CODE})")
        parser.add_argument("--replace", action="store_true",
                            help="先删除同代码的模拟城区 / delete an earlier synthetic district "
                                 "with this code first")

    def handle(self, *args, grids, people, seed, district, replace, **options):
        if not 1 <= grids <= MAX_GRIDS:
            raise CommandError(f"--grids 应在 1 到 {MAX_GRIDS:,} 之间 / --grids must be "
                               f"1–{MAX_GRIDS:,}")
        if not 0 <= people <= MAX_PEOPLE:
            raise CommandError(f"--people 应在 0 到 {MAX_PEOPLE:,} 之间 / --people must be "
                               f"0–{MAX_PEOPLE:,}")
        if not (district.isdigit() and len(district) == 6) or district == data.DISTRICT_CODE:
            raise CommandError("--district 应为6位数字,且不能是演示所用的 370481 / --district "
                               "must be 6 digits and not the demo's 370481")
        exists = Region.objects.filter(code=district).exists()
        if exists and not replace:
            raise CommandError(f"已有代码为 {district} 的区县;加 --replace 删除后重新生成 / "
                               f"{district} exists; add --replace to delete and regenerate it")
        out = self.stdout
        out.write(f"数据库 database: {_database()}")
        started = time.monotonic()
        try:
            with transaction.atomic():
                if exists:
                    removed = delete_synthetic_city(district_code=district)
                    out.write(f"已删除旧的模拟城区 removed the old district ({removed:,} 人 people)"
                              f" · {time.monotonic() - started:.1f} s")
                regions_started = time.monotonic()
                cells = build_synthetic_regions(grids=grids, seed=seed, district_code=district)
                regions_seconds = time.monotonic() - regions_started
                out.write(f"区划 regions: {len(cells):,} 个网格 grids · {regions_seconds:.1f} s")
                counts = generate_city(grids=cells, people=people, seed=seed, stdout=out)
                out.write("提交 committing …")
        except GezhiError as exc:
            raise CommandError(exc.message) from exc
        total = time.monotonic() - started
        self._summary(counts, regions_seconds=regions_seconds, total=total)

    def _summary(self, counts: dict, *, regions_seconds: float, total: float) -> None:
        out = self.stdout
        rows = sum(v for k, v in counts.items() if k not in ("grids", "seconds",
                                                              "restricted_tags"))
        seconds = counts["seconds"] or 1e-9
        out.write("=" * 60)
        out.write(self.style.SUCCESS("模拟城市已生成 / synthetic city generated"))
        for key, label in (("grids", "网格 grids"), ("estates", "小区 estates"),
                           ("buildings", "楼栋 buildings"), ("units", "单元 units"),
                           ("houses", "房屋 houses"), ("people", "实有人口 people"),
                           ("households", "户 households"), ("residences", "居住关系 residences"),
                           ("person_tags", "人员标签 person tags"),
                           ("restricted_tags", "  其中特殊人群 of which restricted"),
                           ("organisations", "组织 organisations"),
                           ("components", "部件 components")):
            out.write(f"  {counts[key]:>12,}  {label}")
        out.write(f"  {regions_seconds:>10.1f} s  区划 regions")
        out.write(f"  {counts['seconds']:>10.1f} s  基础数据 base data "
                  f"({counts['people'] / seconds:,.0f} 人/秒 people/s, "
                  f"{rows / seconds:,.0f} 行/秒 rows/s)")
        out.write(f"  {total:>10.1f} s  合计 total (with the commit)")


def _database() -> str:
    name = connection.settings_dict.get("NAME", "")
    if connection.vendor == "sqlite":
        import sqlite3

        return f"SQLite {sqlite3.sqlite_version} ({name})"
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SHOW server_version")
            return f"PostgreSQL {cursor.fetchone()[0]} ({name})"
    return f"{connection.vendor} ({name})"
