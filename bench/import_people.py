"""How fast does Gezhi import people from xlsx into PostgreSQL, and how much memory does it
take, beside django-import-export importing the same file in the same run?

    .venv/bin/python bench/import_people.py                 # 100,000 and 1,000,000 rows
    .venv/bin/python bench/import_people.py --sizes 100000  # quicker
    .venv/bin/python bench/import_people.py --repeat 3      # best of three of each import

It generates a synthetic city (100 grids, 40,000 houses) and xlsx files of valid people
(openpyxl write_only, streaming; cached under var/bench/), starts a throwaway PostgreSQL
cluster (bench/pgtemp.py, with fsync and synchronous commit on, as in production), imports the
houses, then each people file into an empty people table, each import in a fresh Python
process whose peak RSS (ru_maxrss from wait4) is the memory figure. Then it re-imports the
smallest file (every person matched by ID number, nothing changed), and imports that file with
django-import-export (a ModelResource with a plain column mapping, bulk mode, no lookups:
its fastest configuration; it neither validates nor encrypts as Gezhi does). With --repeat,
each import runs that many times (into an emptied table) and the fastest counts, as other load
on a shared machine only ever slows a run down; memory is the largest of the runs.
Needs `pip install django-import-export[xlsx]` for the baseline (or --skip-baseline).
"""

from __future__ import annotations

import argparse
import datetime
import json
import os
import random
import subprocess
import sys
import time
from pathlib import Path

from pgtemp import DURABLE, gezhi_database, machine  # bench/, the script's directory

ROOT = Path(__file__).resolve().parent.parent
CACHE = ROOT / "var" / "bench"
FORMAT = 1  # bump when the generated files change

COMMUNITIES, GRIDS = 10, 10  # 100 grids
BUILDINGS, UNITS, FLOORS, PER_FLOOR = 10, 2, 10, 2  # 400 houses an estate, one estate a grid
PEOPLE_HEADERS = ["姓名", "证件类型", "证件号码", "性别", "出生日期", "民族", "联系电话",
                  "政治面貌", "人口类型", "工作单位", "网格编码", "小区", "楼栋", "单元", "户室号",
                  "与房屋关系", "标签", "备注"]
HOUSE_HEADERS = ["小区", "楼栋", "单元", "户室号", "楼层", "房屋用途", "建筑面积", "网格编码"]
SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡余杜叶程苏魏吕丁任沈"
GIVEN = "伟芳娜秀英敏静丽强磊军洋勇艳杰娟涛明超秀兰霞平刚桂英华建国志强淑珍玉兰德福海燕红梅文博子涵浩然欣怡"
ETHNIC = ["汉族"] * 97 + ["回族", "满族", "蒙古族"]
POLITICAL = ["群众"] * 14 + ["中共党员", "共青团员"]
RELATIONS = ["产权人", "家庭成员", "家庭成员", "租户"]
TAGS = ["独居老人", "残疾人", "留守儿童", "困难家庭", "退役军人"]
_WEIGHTS = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2]
EPOCH = datetime.date(1940, 1, 1)
DAYS = 29_200  # birth dates over 80 years


def grid_code(community: int, grid: int) -> str:
    return f"370481001{community + 1:03d}{grid + 1:03d}"


def house(index: int) -> tuple[str, str, str, str, str, int]:
    """(grid code, estate, building, unit, number, floor) of house `index` (0 … 39,999)."""
    per_estate = BUILDINGS * UNITS * FLOORS * PER_FLOOR
    estate, rest = divmod(index % (COMMUNITIES * GRIDS * per_estate), per_estate)
    building, rest = divmod(rest, UNITS * FLOORS * PER_FLOOR)
    unit, rest = divmod(rest, FLOORS * PER_FLOOR)
    floor, door = divmod(rest, PER_FLOOR)
    community, grid = divmod(estate, GRIDS)
    return (grid_code(community, grid), f"第{estate + 1}小区", f"{building + 1}号楼",
            f"{unit + 1}单元", f"{floor + 1}{door + 1:02d}", floor + 1)


def id_number(index: int) -> tuple[str, datetime.date]:
    """A valid, unique resident ID number: birth date and sequence both from `index`."""
    birth = EPOCH + datetime.timedelta(days=index % DAYS)
    first17 = f"370481{birth:%Y%m%d}{index // DAYS:03d}"
    check = "10X98765432"[sum(int(d) * w for d, w in zip(first17, _WEIGHTS, strict=True)) % 11]
    return first17 + check, birth


def person(index: int, rng: random.Random) -> list:
    number, birth = id_number(index)
    code, estate, building, unit, door, _floor = house(index)
    return [rng.choice(SURNAMES) + rng.choice(GIVEN) + rng.choice(["", *GIVEN]),
            "居民身份证", number, "男" if int(number[16]) % 2 else "女", birth.isoformat(),
            rng.choice(ETHNIC), f"1{3 + index % 7}{index:09d}", rng.choice(POLITICAL),
            "户籍人口" if rng.random() < 0.8 else "流动人口",
            rng.choice(["", "", "滕州市第一中学", "鲁南机床厂", "善国商贸有限公司"]),
            code, estate, building, unit, door, rng.choice(RELATIONS),
            rng.choice(TAGS) if rng.random() < 0.05 else "", ""]


def generate(path: Path, headers: list[str], rows) -> None:
    from openpyxl import Workbook

    if path.exists():
        return
    print(f"生成 {path.name} …", file=sys.stderr, flush=True)
    started = time.perf_counter()
    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet("数据")
    sheet.append(headers)
    for row in rows:
        sheet.append(row)
    partial = path.with_suffix(".partial")
    workbook.save(partial)
    partial.replace(path)
    print(f"  {time.perf_counter() - started:.0f} s, {path.stat().st_size / 1e6:.1f} MB",
          file=sys.stderr, flush=True)


HOUSE_COLUMNS = ("小区", "楼栋", "单元", "户室号", "与房屋关系")


def people_file(size: int, *, houses: bool) -> Path:
    """People with their grid code and, if `houses`, their house (a residence link each)."""
    path = CACHE / (f"people-{size}-v{FORMAT}.xlsx" if houses
                    else f"people-grid-{size}-v{FORMAT}.xlsx")
    rng = random.Random(size)
    keep = [i for i, h in enumerate(PEOPLE_HEADERS) if houses or h not in HOUSE_COLUMNS]
    generate(path, [PEOPLE_HEADERS[i] for i in keep],
             ([row[i] for i in keep] for row in (person(i, rng) for i in range(size))))
    return path


def houses_file() -> Path:
    path = CACHE / f"houses-v{FORMAT}.xlsx"
    total = COMMUNITIES * GRIDS * BUILDINGS * UNITS * FLOORS * PER_FLOOR
    rows = ((estate, building, unit, door, floor, "自住", 88.5, code)
            for code, estate, building, unit, door, floor in map(house, range(total)))
    generate(path, HOUSE_HEADERS, rows)
    return path


# Child processes: each import runs in its own interpreter, so its peak RSS is its own.

def _django(settings: str = "gezhi.settings") -> None:
    os.environ["DJANGO_SETTINGS_MODULE"] = settings
    sys.path[:0] = [str(ROOT), str(ROOT / "bench")]
    import django

    django.setup()


def child_setup(args) -> dict:
    _django()
    from gezhi.dataio.services import import_file
    from gezhi.regions.models import GridKind, Level
    from gezhi.regions.services import region_create

    def square(x0, y0, x1, y1):
        return {"type": "Polygon", "coordinates": [[[x0, y0], [x1, y0], [x1, y1], [x0, y1],
                                                    [x0, y0]]]}

    district = region_create(code="370481", name="滕州市", level=Level.DISTRICT,
                             boundary=square(117.0, 35.0, 117.2, 35.2))
    sub = region_create(code="370481001", name="北辛街道", level=Level.SUBDISTRICT,
                        parent=district, boundary=square(117.0, 35.0, 117.2, 35.2))
    for c in range(COMMUNITIES):
        x = 117.0 + c * 0.02
        community = region_create(code=f"370481001{c + 1:03d}", name=f"第{c + 1}社区",
                                  level=Level.COMMUNITY, parent=sub,
                                  boundary=square(x, 35.0, x + 0.02, 35.2))
        for g in range(GRIDS):
            region_create(code=grid_code(c, g), name=f"第{c + 1}社区第{g + 1}网格",
                          level=Level.GRID, parent=community, grid_kind=GridKind.BASIC,
                          boundary=square(x, 35.0 + g * 0.02, x + 0.02, 35.02 + g * 0.02))
    path = Path(args.file)
    started = time.perf_counter()
    report = import_file(actor=None, kind="houses", path=path, file_name=path.name)
    return {"seconds": time.perf_counter() - started, "rows": report.rows,
            "created": report.created, "bad_rows": report.bad_rows, "fatal": report.fatal}


def child_gezhi(args) -> dict:
    _django()
    import django

    from gezhi.dataio.services import import_file

    path = Path(args.file)
    started = time.perf_counter()
    report = import_file(actor=None, kind="people", path=path, file_name=path.name)
    seconds = time.perf_counter() - started
    if report.fatal or report.bad_rows:
        problems = [(p.row, p.column, p.message) for p in report.problems[:5]]
        raise SystemExit(f"import failed: {report.fatal} {report.bad_rows} bad rows {problems}")
    import resource

    return {"seconds": seconds, "rows": report.rows, "created": report.created,
            "updated": report.updated, "unchanged": report.unchanged,
            "main_mib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
            "worker_mib": resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024,
            "django": django.get_version()}


def child_baseline(args) -> dict:
    _django("settings_bench")
    import import_export
    import tablib
    from import_export import fields, resources, widgets

    from gezhi.people.models import Person
    from gezhi.regions.models import Region

    class PersonResource(resources.ModelResource):
        # Cells as they are, into columns wide enough for them (民族 is left out: its
        # display name does not fit the two-character code column).
        name = fields.Field(attribute="name", column_name="姓名", widget=widgets.CharWidget())
        id_number = fields.Field(attribute="id_number_mask", column_name="证件号码",
                                 widget=widgets.CharWidget())
        sex = fields.Field(attribute="sex", column_name="性别", widget=widgets.CharWidget())
        birth_date = fields.Field(attribute="birth_date", column_name="出生日期",
                                  widget=widgets.DateWidget("%Y-%m-%d"))
        phone = fields.Field(attribute="phone_mask", column_name="联系电话",
                             widget=widgets.CharWidget())
        political = fields.Field(attribute="political_status", column_name="政治面貌",
                                 widget=widgets.CharWidget())
        residence = fields.Field(attribute="residence_type", column_name="人口类型",
                                 widget=widgets.CharWidget())
        employer = fields.Field(attribute="employer", column_name="工作单位",
                                widget=widgets.CharWidget())
        grid = fields.Field(attribute="grid", column_name="网格编码",
                            widget=widgets.ForeignKeyWidget(Region, field="code"))
        notes = fields.Field(attribute="notes", column_name="备注", widget=widgets.CharWidget())

        class Meta:
            model = Person
            fields = ("name", "id_number", "sex", "birth_date", "phone", "political",
                      "residence", "employer", "grid", "notes")
            force_init_instance = True  # every row new: no lookup per row
            use_bulk = True
            batch_size = 2000
            skip_diff = True
            use_transactions = True

    path = Path(args.file)
    started = time.perf_counter()
    with open(path, "rb") as handle:
        dataset = tablib.Dataset().load(handle, format="xlsx")
    result = PersonResource().import_data(dataset, dry_run=False, raise_errors=True)
    seconds = time.perf_counter() - started
    if result.has_errors() or result.has_validation_errors():
        raise SystemExit("django-import-export reported errors")
    return {"seconds": seconds, "rows": len(dataset), "created": Person.objects.count(),
            "version": import_export.__version__}


CHILDREN = {"setup": child_setup, "gezhi": child_gezhi, "baseline": child_baseline}


def run_child(mode: str, file: Path, env: dict) -> dict:
    """Run one child; its JSON result plus its peak RSS in MiB."""
    started = time.perf_counter()
    proc = subprocess.Popen([sys.executable, __file__, "--child", mode, "--file", str(file)],
                            cwd=ROOT, env=env, stdout=subprocess.PIPE)
    output = proc.stdout.read()
    _pid, status, usage = os.wait4(proc.pid, 0)
    proc.returncode = os.waitstatus_to_exitcode(status)
    if proc.returncode != 0:
        raise SystemExit(f"{mode} {file.name} failed (exit {proc.returncode})")
    result = json.loads(output.decode().strip().splitlines()[-1])
    result["peak_mib"] = usage.ru_maxrss / 1024
    result["wall"] = time.perf_counter() - started
    return result


def best_of(repeat: int, url: str, mode: str, file: Path, env: dict, label: str) -> dict:
    """The fastest of `repeat` runs of one import, each into an empty people table; peak
    memory the largest of them."""
    runs = []
    for _ in range(repeat):
        truncate(url)
        runs.append(run_child(mode, file, env))
        print(f"{label}: {runs[-1]}", file=sys.stderr, flush=True)
    best = min(runs, key=lambda r: r["seconds"])
    for key in ("peak_mib", "main_mib", "worker_mib"):
        if key in best:
            best[key] = max(r[key] for r in runs)
    best["runs"] = [round(r["seconds"], 1) for r in runs]
    return best


def truncate(url: str) -> None:
    import psycopg

    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute("TRUNCATE people_persontag, people_residence, people_householdmember, "
                     "people_household, people_person RESTART IDENTITY CASCADE")
        conn.execute("VACUUM ANALYZE")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", default="100000,1000000",
                        help="people per file, comma-separated (default 100000,1000000)")
    parser.add_argument("--database-url", help="an empty PostgreSQL database to use instead "
                        "of a throwaway cluster (its tables are created and filled)")
    parser.add_argument("--skip-baseline", action="store_true")
    parser.add_argument("--repeat", type=int, default=1,
                        help="runs of each import; the fastest counts (default 1)")
    parser.add_argument("--child", choices=sorted(CHILDREN), help=argparse.SUPPRESS)
    parser.add_argument("--file", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        print(json.dumps(CHILDREN[args.child](args)))
        return

    sizes = sorted(int(s) for s in args.sizes.split(","))
    CACHE.mkdir(parents=True, exist_ok=True)
    houses = houses_file()
    files = {(size, bound): people_file(size, houses=bound) for size in sizes
             for bound in (False, True)}
    print(machine(), file=sys.stderr)
    # Production-like: durable, with the memory and WAL room PostgreSQL's documentation
    # advises for bulk loads ("Populating a Database": increase max_wal_size).
    settings = {**DURABLE, "jit": "off", "shared_buffers": "1GB", "max_wal_size": "8GB"}
    with gezhi_database(database_url=args.database_url, settings=settings) as db:
        url, env, pg_version = db.url, db.env, db.version
        setup = run_child("setup", houses, env)
        print(f"houses: {setup}", file=sys.stderr)
        results = []
        for bound, label in ((False, "people with grid codes"),
                             (True, "people bound to houses")):
            for size in sizes:
                result = best_of(args.repeat, url, "gezhi", files[size, bound], env,
                                 f"gezhi {size} {label}")
                results.append(("Gezhi", f"{label}, {size:,} rows", result))
        again = []
        for _ in range(args.repeat):  # the table as the last import left it
            again.append(run_child("gezhi", files[sizes[-1], True], env))
            print(f"gezhi re-import: {again[-1]}", file=sys.stderr, flush=True)
        best = min(again, key=lambda r: r["seconds"])
        best["runs"] = [round(r["seconds"], 1) for r in again]
        results.append(("Gezhi", f"the same again: all matched, unchanged ({sizes[-1]:,} "
                                 "rows)", best))
        baseline = None
        if not args.skip_baseline:
            baseline = best_of(args.repeat, url, "baseline", files[sizes[0], False], env,
                               f"django-import-export {sizes[0]}")
            results.append((f"django-import-export {baseline['version']}",
                            f"people with grid codes, {sizes[0]:,} rows", baseline))

    print(f"\nPostgreSQL {pg_version}; {machine()}; best of {args.repeat}")
    print(f"houses import: {setup['rows']:,} rows in {setup['seconds']:.1f} s "
          f"({setup['rows'] / setup['seconds']:,.0f} rows/s), peak {setup['peak_mib']:.0f} MiB\n")
    print("| importer | file | seconds | rows/s | peak RSS | vs django-import-export | runs (s) |")
    print("|---|---|---:|---:|---:|---:|---|")
    base_rate = baseline["rows"] / baseline["seconds"] if baseline else None
    for who, what, r in results:
        rate = r["rows"] / r["seconds"]
        ratio = f"**{rate / base_rate:.1f}×**" if base_rate and who == "Gezhi" else ""
        if "main_mib" in r and r["worker_mib"]:
            memory = f"{r['main_mib']:.0f} MiB + workers {r['worker_mib']:.0f} MiB each"
        else:
            memory = f"{r['peak_mib']:.0f} MiB"
        runs = ", ".join(f"{x:.1f}" for x in r["runs"])
        print(f"| {who} | {what} | {r['seconds']:.1f} | {rate:,.0f} | {memory} | {ratio} "
              f"| {runs} |")


if __name__ == "__main__":
    main()
