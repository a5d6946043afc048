"""What every import kind shares: columns and headers, cell conversion, the row report, grid
resolution within the importer's scope, and duplicate detection inside a file.

Column headers are the file format, like the column names of a government form: they stay
Chinese whatever the interface language, so a file filled in under one language imports under
the other. Notes and messages are translated.
"""

from __future__ import annotations

import datetime
import re
from collections import OrderedDict
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation

import numpy as np
from django.utils import timezone, translation
from django.utils.functional import Promise
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from gezhi.accounts.roles import Perm
from gezhi.accounts.scope import scope_for
from gezhi.core.errors import GezhiError, ValidationFailed
from gezhi.dataio.readers import excel_date
from gezhi.regions.models import Level, Region

MAX_PROBLEMS = 10_000  # listed in a report; the count beyond is still given


@dataclass(frozen=True)
class Column:
    key: str
    header: str
    aliases: tuple[str, ...] = ()
    required: bool = False
    note: str | Promise = ""
    example: str = ""
    codes: str = ""  # a code list offered as a drop-down in the template (see workbooks.py)
    text: bool = False  # kept as text in the template (ID numbers, phones, codes)
    width: int = 14


def normalise_header(value: str) -> str:
    """"姓名*", " 证件号码 ", "出生日期(yyyy-mm-dd)" → "姓名", "证件号码", "出生日期"."""
    value = re.sub(r"\s+", "", str(value or ""))
    value = value.replace("*", "").replace("*", "")
    return re.sub(r"[((][^()()]*[))]$", "", value)


@dataclass
class Problem:
    row: int
    column: str
    message: str


@dataclass
class Report:
    kind: str
    file_name: str = ""
    mode: str = "all"
    rows: int = 0
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    problems: list[Problem] = field(default_factory=list)
    problem_count: int = 0
    bad_rows: int = 0
    written: bool = False
    fatal: str = ""
    _last_bad_row: int = 0

    def add(self, row: int, column: str, message) -> None:
        self.problem_count += 1
        if row != self._last_bad_row:
            self.bad_rows += 1
            self._last_bad_row = row
        if len(self.problems) < MAX_PROBLEMS:
            self.problems.append(Problem(row, column, str(message)))

    @property
    def truncated(self) -> bool:
        return self.problem_count > len(self.problems)

    @property
    def good_rows(self) -> int:
        return self.rows - self.bad_rows

    def as_dict(self) -> dict:
        return {"problems": [{"row": p.row, "column": p.column, "message": p.message}
                             for p in self.problems],
                "problem_count": self.problem_count, "truncated": self.truncated}


class RowError(Exception):
    """A problem with one cell: the column key and a Chinese message."""

    def __init__(self, column: str, message):
        super().__init__(str(message))
        self.column = column
        self.message = message


def text(value) -> str:
    """A cell as text: numbers without a trailing .0, dates as ISO."""
    if value is None:
        return ""
    if isinstance(value, str):
        return value.strip()
    if isinstance(value, bool):
        return "1" if value else "0"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, datetime.datetime):
        return value.date().isoformat()
    return str(value).strip()


_DATE_FORMATS = ("%Y-%m-%d", "%Y/%m/%d", "%Y.%m.%d", "%Y%m%d", "%Y年%m月%d日")


def parse_date(value, column: str, label, *, date1904: bool = False) -> datetime.date | None:
    if value in (None, ""):
        return None
    if isinstance(value, datetime.datetime):
        return value.date()
    if isinstance(value, datetime.date):
        return value
    if isinstance(value, int | float) and not isinstance(value, bool):
        # An Excel date is a serial number of days; 19800101 typed as a number is not.
        if 1 <= value < 2958466:
            return excel_date(value, date1904=date1904)
        value = text(value)
    raw = str(value).strip().split(" ")[0].split("T")[0]
    try:
        return datetime.date.fromisoformat(raw)
    except ValueError:
        pass
    for fmt in _DATE_FORMATS:
        try:
            return datetime.datetime.strptime(raw, fmt).date()
        except ValueError:
            continue
    raise RowError(column, _("%(label)s不是有效的日期:%(value)s(应为 1980-01-31 这样的格式)")
                   % {"label": label, "value": raw[:20]})


def parse_number(value, column: str, label, *, integer: bool = False):
    if value in (None, ""):
        return None
    if isinstance(value, int | float) and not isinstance(value, bool):
        number = value
    else:
        try:
            number = Decimal(str(value).strip().replace(",", ""))
        except InvalidOperation:
            raise RowError(column, _("%(label)s应为数字:%(value)s")
                           % {"label": label, "value": str(value)[:20]}) from None
        number = float(number)
    if integer:
        if number != int(number):
            raise RowError(column, _("%(label)s应为整数:%(value)s")
                           % {"label": label, "value": text(value)})
        return int(number)
    return float(number)


def choice_map(choices, aliases: dict[str, str] | None = None) -> dict[str, str]:
    """Accepted spellings of a code table: codes, Chinese labels, labels in the current
    language, and common aliases; all mapped to the code."""
    mapping = {}
    for code, label in choices:
        mapping[str(code)] = code
        mapping[str(label)] = code
        with translation.override("zh-hans"):
            mapping[str(label)] = code
    for alias, code in (aliases or {}).items():
        mapping[alias] = code
    return mapping


def code_labels(choices) -> list[str]:
    """The Chinese labels of a code table, for drop-downs."""
    with translation.override("zh-hans"):
        return [str(label) for _code, label in choices]


def field_error(exc: ValidationFailed, default: str) -> RowError:
    """A service's ValidationFailed as a row error on the column of the field it names."""
    return RowError((exc.details or {}).get("field", default), exc.message)


class GridResolver:
    """Grids by code, and whether the importer may import into them (Perm.BASE_IMPORT).

    Every grid the importer may import into is loaded once (a few hundred rows even for a
    city); other codes are looked up once each.
    """

    def __init__(self, actor):
        self.actor = actor
        self.scope = scope_for(actor, Perm.BASE_IMPORT) if actor is not None else None
        self._by_code: dict[str, Region | None] = {}
        self._by_id: dict[int, Region] = {}
        self._allowed: dict[int, bool] = {}
        self._resolved: dict[str, Region] = {}  # codes already checked, for the next rows

    def allowed(self, region: Region) -> bool:
        if self.scope is None:
            return True
        ok = self._allowed.get(region.pk)
        if ok is None:
            ok = self._allowed[region.pk] = self.scope.covers_path(region.path)
        return ok

    def get(self, code: str) -> Region | None:
        if code not in self._by_code:
            region = Region.objects.filter(code=code).first()
            self._by_code[code] = region
            if region is not None:
                self._by_id[region.pk] = region
        return self._by_code[code]

    def by_id(self, pk: int) -> Region:
        if pk not in self._by_id:
            region = Region.objects.get(pk=pk)
            self._by_id[pk] = region
            self._by_code[region.code] = region
        return self._by_id[pk]

    def load(self, pks) -> None:
        """Read the grids with these ids not read yet, in one query."""
        missing = [pk for pk in pks if pk not in self._by_id]
        for region in Region.objects.filter(pk__in=missing) if missing else ():
            self._by_id[region.pk] = region
            self._by_code[region.code] = region

    def resolve(self, code: str, column: str = "grid") -> Region:
        """The grid with this code, if the importer may import into it; RowError otherwise."""
        found = self._resolved.get(code)
        if found is not None:
            return found
        code = code.strip()
        region = self.get(code)
        if region is None:
            raise RowError(column, _("网格编码不存在:%(code)s") % {"code": code[:30]})
        if region.level != Level.GRID:
            raise RowError(column, _("%(code)s 是%(level)s,请填写网格一级的编码。")
                           % {"code": code, "level": region.get_level_display()})
        self.check(region, column)
        self._resolved[code] = region
        return region

    def check(self, region: Region, column: str = "grid") -> None:
        if not self.allowed(region):
            raise RowError(column, _("网格不在您的管辖范围内。"))


class Locator:
    """places.services.locate with a memory of recent points: houses of one building and
    components along one street share coordinates, and each lookup reads a Region."""

    def __init__(self, size: int = 10_000):
        self.cache: OrderedDict = OrderedDict()
        self.size = size

    def __call__(self, *, lat, lon, grid) -> Region:
        from gezhi.places.services import locate

        key = (lat, lon, grid.pk if grid is not None else None)
        if key in self.cache:
            self.cache.move_to_end(key)
            found = self.cache[key]
        else:
            try:
                found = locate(lat=lat, lon=lon, grid=grid)
            except GezhiError as exc:
                found = exc
            self.cache[key] = found
            if len(self.cache) > self.size:
                self.cache.popitem(last=False)
        if isinstance(found, GezhiError):
            raise found
        return found


class SeenKeys:
    """Keys already met in this file, and the row each was first met on, for "重复" reports.

    A 64-bit hash per key in sorted NumPy runs merged like a binary counter: 12 bytes a row
    (12 MB for a million rows), where a Python set of strings would need about ten times that.
    """

    def __init__(self):
        self.runs: list[tuple[np.ndarray, np.ndarray]] = []

    @staticmethod
    def hash(key: str) -> int:
        import hashlib

        return int.from_bytes(hashlib.blake2b(key.encode(), digest_size=8).digest(), "little")

    def first_rows(self, hashes: list[int]) -> list[int]:
        """For each hash, the row it was first seen on, or 0."""
        query = np.array(hashes, dtype=np.uint64)
        found = np.zeros(len(hashes), dtype=np.int64)
        for keys, rows in self.runs:
            at = np.searchsorted(keys, query)
            at[at >= len(keys)] = 0
            hit = (keys[at] == query) & (found == 0)
            found[hit] = rows[at[hit]]
        return found.tolist()

    def add(self, hashes: list[int], rows: list[int]) -> None:
        if not hashes:
            return
        keys = np.array(hashes, dtype=np.uint64)
        numbers = np.array(rows, dtype=np.uint32)
        while self.runs and len(self.runs[-1][0]) <= len(keys):
            old_keys, old_rows = self.runs.pop()
            keys = np.concatenate([old_keys, keys])
            numbers = np.concatenate([old_rows, numbers])
        order = np.argsort(keys, kind="stable")
        self.runs.append((keys[order], numbers[order]))


class Duplicates:
    """Marks rows whose key repeats an earlier row of the file."""

    def __init__(self):
        self.seen = SeenKeys()

    def check(self, items: list[tuple[int, str | int]]) -> dict[int, int]:
        """items: (row, key) of one batch; a key is text, or already a 64-bit hash (an int).
        Returns {row: earlier row} for the repeats and remembers the rest."""
        hashes = [key if isinstance(key, int) else SeenKeys.hash(key) for _row, key in items]
        earlier = self.seen.first_rows(hashes)
        repeats: dict[int, int] = {}
        new_hashes, new_rows, in_batch = [], [], {}
        for (row, _key), h, first in zip(items, hashes, earlier, strict=True):
            if first:
                repeats[row] = first
            elif h in in_batch:
                repeats[row] = in_batch[h]
            else:
                in_batch[h] = row
                new_hashes.append(h)
                new_rows.append(row)
        self.seen.add(new_hashes, new_rows)
        return repeats


class Importer:
    """One kind of import. Subclasses declare `columns` and implement `process`, which
    validates a batch of rows, reports every bad one, and writes the good ones if asked.

    Validation never depends on what an earlier batch wrote: a dry run reports exactly what
    a real import would.
    """

    kind = ""
    label: str | Promise = ""
    columns: list[Column] = []
    # Headers that an export writes or that people add, which an import reads past.
    ignored_headers: tuple[str, ...] = ("序号",)

    def __init__(self, *, actor, report: Report, headers: dict[str, str],
                 default_grid: Region | None = None, date1904: bool = False):
        self.actor = actor
        self.report = report
        self.headers = headers  # column key → the header as written in the file
        self.default_grid = default_grid
        self.date1904 = date1904
        self.grids = GridResolver(actor)
        self.today = timezone.localdate()

    def column_label(self, key: str) -> str:
        if key in self.headers:
            return self.headers[key]
        column = next((c for c in self.columns if c.key == key), None)
        return column.header if column else key

    def problem(self, row: int, key: str, message) -> None:
        self.report.add(row, self.column_label(key), message)

    @staticmethod
    def prepare(rows: list[tuple[int, dict]], context: dict) -> list:
        """The part of checking a batch that needs no database, run before `process`, in a
        worker process for large files. Must not touch the database or the importer's state."""
        return rows

    def prepare_context(self) -> dict:
        return {"date1904": self.date1904, "today": self.today}

    def process(self, rows: list, *, write: bool) -> None:
        """Check a prepared batch against the database, report every bad row, and write the
        good ones if `write`."""
        raise NotImplementedError


def max_length_check(model, values: dict, labels: dict[str, str]) -> None:
    """Text longer than its column allows is a row error, never a failed batch insert."""
    for name, value in values.items():
        if not isinstance(value, str) or not value:
            continue
        limit = getattr(model._meta.get_field(name), "max_length", None)
        if limit and len(value) > limit:
            raise RowError(name, _("%(label)s过长(最多 %(n)d 字)。")
                           % {"label": labels.get(name, name), "n": limit})


REQUIRED_NOTE = gettext_lazy("必填。")
