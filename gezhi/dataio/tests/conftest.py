"""Helpers for import/export tests: spreadsheets written the way Excel writes them (shared
strings, via openpyxl's normal mode) or as CSV, and a shortcut to run an import."""

from pathlib import Path

import openpyxl
import pytest

from gezhi.dataio.services import import_file

PEOPLE_HEADERS = ["姓名", "证件类型", "证件号码", "性别", "出生日期", "民族", "联系电话",
                  "政治面貌", "人口类型", "工作单位", "网格编码", "小区", "楼栋", "单元", "户室号",
                  "与房屋关系", "标签", "备注"]


def write_xlsx(path: Path, rows: list[list], title: str = "Sheet1") -> Path:
    workbook = openpyxl.Workbook()
    sheet = workbook.active
    sheet.title = title
    for row in rows:
        sheet.append(row)
    workbook.save(path)
    return path


def write_csv(path: Path, rows: list[list], encoding: str = "utf-8") -> Path:
    import csv
    import io

    buffer = io.StringIO()
    csv.writer(buffer).writerows(rows)
    path.write_bytes(buffer.getvalue().encode(encoding))
    return path


def person_row(name: str, id_number: str, *, grid: str = "", estate: str = "", building: str = "",
               unit: str = "", number: str = "", phone: str = "", tags: str = "",
               relation: str = "", **extra) -> list:
    values = {"姓名": name, "证件号码": id_number, "网格编码": grid, "小区": estate,
              "楼栋": building, "单元": unit, "户室号": number, "联系电话": phone, "标签": tags,
              "与房屋关系": relation, **extra}
    return [values.get(h, "") for h in PEOPLE_HEADERS]


@pytest.fixture
def run_import(tmp_path):
    """run_import(actor, kind, rows or path, mode=..., name=...) → Report."""

    def run(actor, kind: str, rows, *, mode: str = "all", name: str = "people.xlsx",
            default_grid=None, csv_encoding: str | None = None):
        if isinstance(rows, Path):
            path = rows
        elif csv_encoding:
            path = write_csv(tmp_path / name, rows, csv_encoding)
        else:
            path = write_xlsx(tmp_path / name, rows)
        return import_file(actor=actor, kind=kind, path=path, file_name=path.name, mode=mode,
                           default_grid=default_grid)

    return run
