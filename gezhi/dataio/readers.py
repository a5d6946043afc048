"""Streaming readers for uploaded spreadsheets: xlsx and CSV, one row at a time.

Memory stays flat in the number of rows: an xlsx worksheet is decompressed and scanned in
chunks, a CSV file is decoded line by line. Each reader yields `(row_number, values)` with the
row number as Excel shows it, so a report can say "第 12 行".

The xlsx scanner reads SpreadsheetML cells with regular expressions instead of openpyxl's
read-only mode: openpyxl builds a cell object per value and reads about 4,000 rows of 18
columns a second, which alone would use up the importer's whole time budget (docs/benchmarks.md);
the scanner reads the same file about ten times as fast. The cell markup is small and
regular (ECMA-376 part 1, §18.3.1.4), and every writer we know (Excel, WPS, LibreOffice,
openpyxl) produces it.
"""

from __future__ import annotations

import codecs
import csv
import datetime
import html
import io
import itertools
import posixpath
import re
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from xml.etree import ElementTree

from django.utils.translation import gettext as _

from gezhi.core.errors import ValidationFailed

# A worksheet may not expand beyond this many bytes of XML per byte of the limit on uploads: a
# zip bomb is refused after reading, at most, that much (inline-string sheets compress ~15:1).
MAX_EXPANSION = 40
CHUNK = 2 << 20  # bytes of worksheet XML a piece: about 2,000 rows
CSV_ROWS = 2000

_MAIN = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
_REL = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
_PKG_REL = "http://schemas.openxmlformats.org/package/2006/relationships"

_ROW = re.compile(rb"<(?:\w+:)?row\b([^>]*?)(?:/>|>(.*?)</(?:\w+:)?row>)", re.S)
_CELL = re.compile(rb"<(?:\w+:)?c\b([^>]*?)(?:/>|>(.*?)</(?:\w+:)?c>)", re.S)
_ROW_NUMBER = re.compile(rb'\br="(\d+)"')
_CELL_REF = re.compile(rb'\br="([A-Z]{1,3})\d*"')
_CELL_TYPE = re.compile(rb'\bt="(\w+)"')
_VALUE = re.compile(rb"<(?:\w+:)?v>(.*?)</(?:\w+:)?v>", re.S)
# Text runs of an inline string, leaving out phonetic guides (<rPh>) that Excel adds to CJK text.
_PHONETIC = re.compile(rb"<(?:\w+:)?rPh\b.*?</(?:\w+:)?rPh>", re.S)
_TEXT = re.compile(rb"<(?:\w+:)?t\b[^>]*?(?:/>|>(.*?)</(?:\w+:)?t>)", re.S)
_ESCAPED_CHAR = re.compile(r"_x([0-9A-Fa-f]{4})_")


class FileRejected(ValidationFailed):
    """The file as a whole cannot be read: not a spreadsheet, bad headers, empty, too large."""

    code = "bad_file"


class RowParser:
    """Turns a payload (a piece of worksheet XML ending after a row, or a list of rows
    already read) into (row number, values) pairs. Picklable, so worker processes can parse
    pieces of one sheet side by side; a row without an `r` attribute gets None for its number
    when nothing before it in the piece is numbered, and the reader fills it in."""

    def __init__(self, shared: list[str] | None = None, plain: bool = True):
        self.shared = shared or []
        self.plain = plain

    def parse(self, payload) -> list[tuple[int | None, list]]:
        if isinstance(payload, list):
            return payload
        rows: list[tuple[int | None, list]] = []
        previous = None
        if self.plain:
            for piece in payload.split(b"</row>"):
                at = piece.rfind(b"<row")
                if at < 0:
                    continue
                end = piece.find(b">", at)
                if piece[end - 1:end] == b"/":  # an empty <row/> followed by nothing
                    continue
                number = _ROW_NUMBER.search(piece, at, end)
                previous = int(number.group(1)) if number else (
                    previous + 1 if previous is not None else None)
                rows.append((previous, self._row(piece[end + 1:])))
        else:
            for match in _ROW.finditer(payload):
                number = _ROW_NUMBER.search(match.group(1))
                previous = int(number.group(1)) if number else (
                    previous + 1 if previous is not None else None)
                body = match.group(2)
                rows.append((previous, self._cells(body) if body else []))
        return rows

    def _row(self, body: bytes) -> list:
        cells = _PLAIN_CELL.findall(body)
        count = len(cells)
        if (not count or count != body.count(b"<c ") or count > len(_LETTERS)
                or cells[-1][0] != _LETTERS[count - 1] or b"&" in body or b"_x" in body):
            # Gaps between cells, escaped characters or unusual markup: the careful path.
            return self._cells(body) if body else []
        shared = self.shared
        return [inline.decode() if kind == b"inlineStr"
                else shared[int(value)] if kind == b"s"
                else self._value(kind, value or cached)
                for _ref, kind, inline, value, cached in cells]

    @staticmethod
    def _value(kind: bytes, raw: bytes):
        if not raw:
            return None
        if kind in (b"", b"n"):
            return _number(raw)
        if kind == b"b":
            return raw == b"1"
        return raw.decode()

    def _cells(self, body: bytes) -> list:
        values: list = []
        for attrs, inner in _CELL.findall(body):
            ref = _CELL_REF.search(attrs)
            if ref is not None:
                index = column_index(ref.group(1))
                if index > len(values):
                    values.extend([None] * (index - len(values)))
                elif index < len(values):
                    values = values[:index]
            if not inner:
                values.append(None)
                continue
            kind = _CELL_TYPE.search(attrs)
            kind = kind.group(1) if kind else b"n"
            if kind == b"inlineStr":
                if b"rPh" in inner:
                    inner = _PHONETIC.sub(b"", inner)
                values.append(_text(b"".join(t for t in _TEXT.findall(inner) if t)))
                continue
            raw = _VALUE.search(inner)
            if raw is None:
                values.append(None)
                continue
            raw = raw.group(1)
            if kind == b"s":
                values.append(self.shared[int(raw)])
            elif kind == b"n":
                values.append(_number(raw) if raw else None)
            elif kind == b"b":
                values.append(raw == b"1")
            else:  # str (formula result), d (ISO date), e (error such as #N/A)
                values.append(_text(raw))
        return values


def fill_numbers(rows: list[tuple[int | None, list]], previous: int) -> int:
    """Number the rows that have no number of their own (previous + 1); returns the last."""
    for i, (number, values) in enumerate(rows):
        if number is None:
            rows[i] = (previous + 1, values)
        previous = rows[i][0]
    return previous


class Table:
    """An opened file: its header row, and the data rows after it, either one at a time
    (`rows`) or as payloads for a RowParser (`payloads`) that workers may parse in parallel."""

    def __init__(self, kind: str, payloads: Iterator, parser: RowParser, *, size: int = 0,
                 sheet_name: str = "", date1904: bool = False, progress=None, close=None):
        self.kind = kind  # "xlsx" or "csv"
        self.size = size  # bytes of CSV, or of worksheet XML once decompressed
        self.parser = parser
        self.sheet_name = sheet_name
        self.date1904 = date1904  # the workbook counts dates from 1904 (old Mac Excel)
        self._payloads = payloads
        self._progress = progress
        self._close = close
        self._buffer: list = []
        self._previous = 0
        self.header_row = 0
        self.headers: list[str] = []
        if not self.next_header():
            raise FileRejected(_("文件是空的:没有表头,也没有数据。"))

    def _fill(self) -> bool:
        for payload in self._payloads:
            rows = self.parser.parse(payload)
            if rows:
                self._previous = fill_numbers(rows, self._previous)
                self._buffer = rows
                return True
        return False

    def next_header(self) -> bool:
        """Take the next non-empty row as the header row (a title row may come first)."""
        while True:
            while self._buffer:
                number, values = self._buffer.pop(0)
                if any(v not in (None, "") and str(v).strip() for v in values):
                    self.header_row = number
                    self.headers = ["" if v is None else str(v).strip() for v in values]
                    return True
            if not self._fill():
                return False

    @property
    def rows(self) -> Iterator[tuple[int, list]]:
        while self._buffer or self._fill():
            rows, self._buffer = self._buffer, []
            yield from rows

    def payloads(self) -> Iterator:
        """The rest of the file as payloads: the rows already read, then raw pieces. Rows
        read here are numbered here; worksheet XML carries its row numbers (see RowParser)."""
        if self._buffer:
            rows, self._buffer = self._buffer, []
            yield rows
        for payload in self._payloads:
            if isinstance(payload, list):
                self._previous = fill_numbers(payload, self._previous)
            yield payload

    def progress(self) -> float:
        """How much of the file has been read, 0 to 1 (by bytes, so known before the end)."""
        return self._progress() if self._progress else 0.0

    def close(self) -> None:
        if self._close:
            self._close()


def _text(value: bytes) -> str:
    text = value.decode("utf-8")
    if "&" in text:
        text = html.unescape(text)
    if "_x" in text:
        text = _ESCAPED_CHAR.sub(lambda m: chr(int(m.group(1), 16)), text)
    return text


def _number(raw: bytes):
    try:
        return int(raw)
    except ValueError:
        value = float(raw)
        return int(value) if value.is_integer() and abs(value) < 1e15 else value


def column_index(letters: bytes) -> int:
    index = 0
    for ch in letters:
        index = index * 26 + ch - 64
    return index - 1


def column_letter(index: int) -> str:
    letters = ""
    index += 1
    while index:
        index, rest = divmod(index - 1, 26)
        letters = chr(65 + rest) + letters
    return letters


# The cell shapes Excel, WPS and openpyxl write, read with one match per cell: reference, type,
# inline text, value, or a formula's cached value. A row with any other shape takes the slow path.
_PLAIN_CELL = re.compile(
    rb'<c r="([A-Z]{1,3})\d+"(?: s="\d+")?(?: t="(\w+)")?(?: s="\d+")?\s*(?:/>|>(?:<is><t'
    rb'(?: xml:space="preserve")?>([^<]*)</t></is>|<v>([^<]*)</v>|<f>[^<]*</f><v>([^<]*)</v>)?</c>)')
_LETTERS = [column_letter(i).encode() for i in range(702)]  # A … ZZ


class _Sheet:
    """One worksheet's XML, decompressed a chunk at a time and cut after complete rows."""

    def __init__(self, archive: zipfile.ZipFile, member: str, max_bytes: int | None):
        self.info = archive.getinfo(member)
        self.stream = archive.open(member)
        self.read_bytes = 0
        self.limit = max_bytes * MAX_EXPANSION if max_bytes else None
        if self.limit and self.info.file_size > self.limit:
            raise FileRejected(_("工作表解压后过大,疑似异常文件,已拒绝。"))

    def progress(self) -> float:
        return min(self.read_bytes / self.info.file_size, 1.0) if self.info.file_size else 0.0

    def parts(self) -> Iterator[bytes]:
        buffer = b""
        while True:
            chunk = self.stream.read(CHUNK)
            self.read_bytes += len(chunk)
            if self.limit and self.read_bytes > self.limit:
                raise FileRejected(_("工作表解压后过大,疑似异常文件,已拒绝。"))
            if not chunk:
                if buffer:
                    yield buffer
                return
            buffer += chunk
            cut = _last_row_end(buffer)
            if cut >= 0:
                yield buffer[:cut]
                buffer = buffer[cut:]


def _last_row_end(buffer: bytes) -> int:
    """The offset just after the last complete `</row>` (or `</x:row>`), or -1."""
    end = len(buffer)
    while True:
        at = buffer.rfind(b"row>", 0, end)
        if at < 0:
            return -1
        opening = buffer.rfind(b"<", 0, at)
        if buffer[opening + 1:opening + 2] == b"/":
            return at + 4
        end = at


def _shared_strings(archive: zipfile.ZipFile, member: str | None) -> list[str]:
    if member is None or member not in archive.namelist():
        return []
    strings: list[str] = []
    si, t, rph = f"{{{_MAIN}}}si", f"{{{_MAIN}}}t", f"{{{_MAIN}}}rPh"
    with archive.open(member) as stream:
        for _event, element in ElementTree.iterparse(stream):
            if element.tag == si:
                # Phonetic runs (<rPh>) hold readings, not the cell's text.
                for phonetic in element.findall(rph):
                    element.remove(phonetic)
                strings.append("".join(x.text or "" for x in element.iter(t)))
                element.clear()
    return strings


def _relationships(archive: zipfile.ZipFile, part: str) -> dict[str, tuple[str, str]]:
    """A part's relationships: id → (type, target member name)."""
    base = posixpath.dirname(part)
    rels = posixpath.join(base, "_rels", posixpath.basename(part) + ".rels")
    if rels not in archive.namelist():
        return {}
    found = {}
    root = ElementTree.fromstring(archive.read(rels))
    for rel in root.iter(f"{{{_PKG_REL}}}Relationship"):
        target = rel.get("Target", "")
        member = target.lstrip("/") if target.startswith("/") else posixpath.normpath(
            posixpath.join(base, target))
        found[rel.get("Id")] = (rel.get("Type", "").rsplit("/", 1)[-1], member)
    return found


def _workbook_part(archive: zipfile.ZipFile) -> str:
    for _rid, (kind, member) in _relationships(archive, "").items():
        if kind == "officeDocument":
            return member
    if "xl/workbook.xml" in archive.namelist():
        return "xl/workbook.xml"
    raise FileRejected(_("压缩包中没有工作簿,不是 xlsx 电子表格。"))


@dataclass
class Workbook:
    date1904: bool
    sheet_name: str
    sheet_member: str
    shared_member: str | None


def _workbook(archive: zipfile.ZipFile) -> Workbook:
    part = _workbook_part(archive)
    try:
        root = ElementTree.fromstring(archive.read(part))
    except (KeyError, ElementTree.ParseError) as exc:
        raise FileRejected(_("工作簿结构损坏,无法读取。")) from exc
    rels = _relationships(archive, part)
    pr = root.find(f"{{{_MAIN}}}workbookPr")
    date1904 = pr is not None and pr.get("date1904") in ("1", "true")
    shared = next((m for kind, m in rels.values() if kind == "sharedStrings"), None)
    for sheet in root.iter(f"{{{_MAIN}}}sheet"):
        if sheet.get("state") in ("hidden", "veryHidden"):
            continue
        kind, member = rels.get(sheet.get(f"{{{_REL}}}id"), ("", ""))
        if kind == "worksheet" and member in archive.namelist():
            return Workbook(date1904, sheet.get("name", ""), member, shared)
    raise FileRejected(_("工作簿中没有可读取的工作表。"))


EXCEL_EPOCH = datetime.date(1899, 12, 30)
EXCEL_EPOCH_1904 = datetime.date(1904, 1, 1)


def excel_date(serial: float, *, date1904: bool = False) -> datetime.date:
    """A date from an Excel serial number (1900 system: day 1 is 1900-01-01)."""
    epoch = EXCEL_EPOCH_1904 if date1904 else EXCEL_EPOCH
    return epoch + datetime.timedelta(days=int(serial))


def _open_xlsx(path: Path, max_bytes: int | None) -> Table:
    try:
        archive = zipfile.ZipFile(path)
    except zipfile.BadZipFile as exc:
        raise FileRejected(_("文件不是有效的 xlsx 电子表格(可能已损坏,或是改了扩展名的其他文件)。")) from exc
    try:
        workbook = _workbook(archive)
        shared = _shared_strings(archive, workbook.shared_member)
        sheet = _Sheet(archive, workbook.sheet_member, max_bytes)
        parts = _guard(sheet.parts(), archive.close)
        first = next(parts, b"")
        # Most writers use the default namespace (<row>); some use a prefix (<x:row>).
        plain = b"<sheetData" in first or b"<row" in first
        return Table("xlsx", _prepend(first, parts), RowParser(shared, plain),
                     size=sheet.info.file_size, sheet_name=workbook.sheet_name, date1904=workbook.date1904,
                     progress=sheet.progress, close=archive.close)
    except (zipfile.BadZipFile, EOFError, OSError, ValueError, IndexError) as exc:
        archive.close()
        raise FileRejected(_("xlsx 文件已损坏,无法读取。")) from exc
    except FileRejected:
        archive.close()
        raise


def _prepend(first, rest: Iterator) -> Iterator:
    yield first
    yield from rest


def _guard(parts: Iterator[bytes], close) -> Iterator[bytes]:
    """Turn a corrupt archive met half way through into a clear message."""
    try:
        yield from parts
    except (zipfile.BadZipFile, EOFError, OSError, ValueError, IndexError) as exc:
        close()
        raise FileRejected(_("xlsx 文件已损坏,无法继续读取。")) from exc


def _encoding(head: bytes) -> str:
    """UTF-8 (with or without BOM), else GB18030: Chinese Excel saves CSV in GBK, a subset."""
    if head.startswith(codecs.BOM_UTF8):
        return "utf-8-sig"
    decoder = codecs.getincrementaldecoder("utf-8")()
    try:
        decoder.decode(head, final=False)  # a character cut at the end is not an error
        return "utf-8"
    except UnicodeDecodeError:
        return "gb18030"


class _CountingReader(io.RawIOBase):
    def __init__(self, raw):
        self.raw = raw
        self.count = 0

    def readable(self) -> bool:
        return True

    def readinto(self, buffer) -> int:
        n = self.raw.readinto(buffer)
        self.count += n or 0
        return n


def _open_csv(path: Path) -> Table:
    size = path.stat().st_size
    raw = open(path, "rb")  # noqa: SIM115 - closed by Table.close
    head = raw.read(1 << 16)
    if b"\x00" in head:
        raw.close()
        raise FileRejected(_("文件不是文本格式的 CSV,请上传 xlsx 或 CSV 文件。"))
    encoding = _encoding(head)
    raw.seek(0)
    counter = _CountingReader(raw)
    text = io.TextIOWrapper(io.BufferedReader(counter, CHUNK), encoding=encoding, newline="")
    first_line = head.split(b"\n", 1)[0]
    delimiter = "\t" if b"\t" in first_line and b"," not in first_line else ","

    def payloads() -> Iterator[list]:
        try:
            reader = csv.reader(text, delimiter=delimiter)
            while True:
                rows = [(None, values) for values in itertools.islice(reader, CSV_ROWS)]
                if not rows:
                    return
                yield rows
        except UnicodeDecodeError as exc:
            raise FileRejected(_("文件编码无法识别:请另存为 UTF-8 或 GBK 编码的 CSV。")) from exc
        except csv.Error as exc:
            raise FileRejected(_("CSV 格式有误:%(error)s") % {"error": exc}) from exc

    try:
        table = Table("csv", payloads(), RowParser(), size=size,
                      progress=lambda: min(counter.count / size, 1.0) if size else 0.0,
                      close=text.close)
    except FileRejected:
        text.close()
        raise
    if table.headers:
        table.headers[0] = table.headers[0].lstrip("\ufeff")
    return table


def sniff(path: Path, filename: str) -> str:
    """'xlsx' or 'csv' from the file's first bytes (and its name for text); FileRejected
    with the reason otherwise."""
    with open(path, "rb") as handle:
        head = handle.read(8)
    name = filename.lower()
    if head.startswith(b"PK\x03\x04"):
        return "xlsx"
    if head.startswith(b"\xd0\xcf\x11\xe0"):
        raise FileRejected(_("不支持旧版 Excel(.xls)文件,请在 Excel 或 WPS 中“另存为” .xlsx 后再上传。"))
    if head.startswith(b"%PDF"):
        raise FileRejected(_("这是 PDF 文件,不是电子表格。请上传 xlsx 或 CSV 文件。"))
    if not head:
        raise FileRejected(_("文件是空的:没有表头,也没有数据。"))
    if name.endswith((".xlsx", ".xlsm")):
        raise FileRejected(_("文件不是有效的 xlsx 电子表格(可能已损坏,或是改了扩展名的其他文件)。"))
    if name.endswith((".csv", ".txt")):
        return "csv"
    raise FileRejected(_("无法识别的文件类型,请上传 xlsx 或 CSV 文件。"))


def open_table(path: Path, filename: str, *, max_bytes: int | None = None) -> Table:
    """Open an uploaded file by its content; FileRejected with a Chinese reason otherwise."""
    if sniff(path, filename) == "xlsx":
        return _open_xlsx(path, max_bytes)
    return _open_csv(path)
