"""Files that are not what they should be: each gets a clear message, and nothing is written."""

import zipfile

import openpyxl
import pytest

from conftest import valid_id
from gezhi.dataio.readers import FileRejected, open_table
from gezhi.dataio.services import import_file
from gezhi.dataio.tests.conftest import PEOPLE_HEADERS, person_row, write_csv, write_xlsx
from gezhi.people.models import Person

ID_1 = valid_id("37048119800101123")


def run(world, path, **kwargs):
    return import_file(actor=world.user("worker_a1"), kind="people", path=path,
                       file_name=kwargs.pop("name", path.name), **kwargs)


def test_a_pdf_renamed_xlsx_is_not_a_spreadsheet(world, tmp_path):
    path = tmp_path / "名单.xlsx"
    path.write_bytes(b"%PDF-1.7\n1 0 obj << /Type /Catalog >> endobj\n" * 100)
    report = run(world, path)
    assert report.fatal == "这是 PDF 文件,不是电子表格。请上传 xlsx 或 CSV 文件。"
    assert report.written is False and report.rows == 0


@pytest.mark.parametrize("content, message", [
    (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\0" * 600, "不支持旧版 Excel(.xls)文件"),
    (b"this is not a spreadsheet at all", "文件不是有效的 xlsx 电子表格"),
    (b"", "文件是空的"),
])
def test_other_non_spreadsheets(world, tmp_path, content, message):
    path = tmp_path / "名单.xlsx"
    path.write_bytes(content)
    assert message in run(world, path).fatal


def test_a_zip_that_is_not_a_workbook(world, tmp_path):
    path = tmp_path / "名单.xlsx"
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("word/document.xml", "<w:document/>")
    assert run(world, path).fatal == "压缩包中没有工作簿,不是 xlsx 电子表格。"


def test_missing_and_unknown_headers_are_named(world, tmp_path):
    path = write_xlsx(tmp_path / "a.xlsx", [["名字", "证件号码", "住址", "爱好"], ["张三", ID_1, "", "下棋"]])
    report = run(world, path)
    assert report.fatal == ("表头与「实有人口」导入模板不符。缺少必填列:姓名;无法识别的列:名字、爱好。"
                            "请下载导入模板核对表头。")
    assert not Person.objects.exists()


def test_a_house_file_uploaded_as_people_gets_a_hint(world, tmp_path):
    path = write_xlsx(tmp_path / "a.xlsx", [["小区", "楼栋", "单元", "户室号"], ["某小区", "1号楼", "1", "101"]])
    assert "这似乎是「房屋」的导入文件" in run(world, path).fatal


def test_an_empty_sheet_and_a_sheet_with_headers_only(world, tmp_path):
    assert run(world, write_xlsx(tmp_path / "a.xlsx", [])).fatal == "文件是空的:没有表头,也没有数据。"
    report = run(world, write_xlsx(tmp_path / "b.xlsx", [PEOPLE_HEADERS, [None] * 3]))
    assert report.fatal == "文件只有表头,没有数据行。"


def test_a_title_row_above_the_headers_and_header_decorations(world, tmp_path):
    rows = [["文化路社区实有人口登记表"], [], ["序号", "姓名*", "证件号码(必填)", " 网格编码 "],
            [1, "张三", ID_1, world.grid_a1.code]]
    report = run(world, write_xlsx(tmp_path / "a.xlsx", rows))
    assert (report.created, report.fatal) == (1, "")


def test_row_numbers_are_the_rows_excel_shows(world, tmp_path):
    rows = [PEOPLE_HEADERS, person_row("甲", ID_1, grid=world.grid_a1.code), [], [],
            person_row("", valid_id("37048119800101234"), grid=world.grid_a1.code)]
    report = run(world, write_xlsx(tmp_path / "a.xlsx", rows))
    assert [(p.row, p.column) for p in report.problems] == [(5, "姓名")]


@pytest.mark.parametrize("encoding", ["utf-8", "utf-8-sig", "gb18030"])
def test_csv_in_utf8_with_or_without_bom_and_in_gbk(world, tmp_path, encoding):
    path = write_csv(tmp_path / "a.csv", [PEOPLE_HEADERS, person_row(
        "欧阳娜", ID_1, grid=world.grid_a1.code, 备注="独居,需每周探访")], encoding)
    report = run(world, path)
    assert report.created == 1 and report.fatal == ""
    assert Person.objects.get(name="欧阳娜").notes == "独居,需每周探访"


def test_the_reader_streams_numbers_dates_and_escaped_text(tmp_path):
    import datetime

    workbook = openpyxl.Workbook()
    sheet = workbook.active
    sheet.append(["a", "b", "c", "d"])
    sheet.append([13806321111, datetime.date(1980, 1, 31), "R&D <1>", 88.5])
    sheet["B2"].number_format = "yyyy-mm-dd"
    sheet.append([None, None, None, "last"])
    workbook.save(tmp_path / "x.xlsx")
    table = open_table(tmp_path / "x.xlsx", "x.xlsx")
    rows = list(table.rows)
    assert table.headers == ["a", "b", "c", "d"]
    assert rows[0][0] == 2 and rows[0][1][0] == 13806321111 and rows[0][1][2] == "R&D <1>"
    assert rows[0][1][1] == 29251  # the date as Excel stores it: a serial number of days
    assert rows[0][1][3] == 88.5
    assert rows[1] == (3, [None, None, None, "last"])


def test_a_zip_bomb_is_refused_while_reading(tmp_path):
    path = tmp_path / "bomb.xlsx"
    write_xlsx(path, [PEOPLE_HEADERS])
    with pytest.raises(FileRejected, match="解压后过大"):
        open_table(path, path.name, max_bytes=1)
