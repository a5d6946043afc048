"""`gezhi import people|houses|orgs|components FILE` and `gezhi export … -o FILE.xlsx`."""

import io

import openpyxl
import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from conftest import valid_id
from gezhi.accounts.models import AccessAction, AccessLog
from gezhi.dataio.tests.conftest import PEOPLE_HEADERS, person_row, write_xlsx
from gezhi.people.models import Person

ID_1 = valid_id("37048119800101123")


def test_import_prints_progress_and_the_summary(world, tmp_path):
    path = write_xlsx(tmp_path / "people.xlsx", [
        PEOPLE_HEADERS, person_row("甲", ID_1), person_row("乙", valid_id("37048119800101234"))])
    out, err = io.StringIO(), io.StringIO()
    call_command("import", "people", str(path), "--grid", world.grid_a1.code, stdout=out,
                 stderr=err)
    assert "已导入:共 2 行,新增 2、更新 0,0 行无变化。" in out.getvalue()
    assert "导入中:已读取 2 行(约 100%)" in err.getvalue()
    assert Person.objects.filter(grid=world.grid_a1).count() == 2
    entry = AccessLog.objects.get(action=AccessAction.IMPORT)
    assert entry.user is None and entry.row_count == 2


def test_import_reports_bad_rows_and_writes_nothing_by_default(world, tmp_path):
    path = write_xlsx(tmp_path / "people.xlsx", [
        PEOPLE_HEADERS, person_row("甲", ID_1, grid=world.grid_a1.code),
        person_row("乙", ID_1[:17] + ("1" if ID_1[17] != "1" else "2"), grid="370481999999999")])
    err = io.StringIO()
    with pytest.raises(CommandError, match="未写入任何数据"):
        call_command("import", "people", str(path), stdout=io.StringIO(), stderr=err)
    assert "第 3 行 [证件号码] 身份证号校验位错误" in err.getvalue()
    assert not Person.objects.exists()
    with pytest.raises(CommandError, match="1 行有问题,未导入"):
        call_command("import", "people", str(path), "--mode", "valid", stdout=io.StringIO(),
                     stderr=io.StringIO())
    assert Person.objects.get().name == "甲"


def test_import_of_a_missing_file_or_unknown_grid(world, tmp_path):
    with pytest.raises(CommandError, match="找不到文件"):
        call_command("import", "people", str(tmp_path / "none.xlsx"))
    path = write_xlsx(tmp_path / "p.xlsx", [PEOPLE_HEADERS, person_row("甲", ID_1)])
    with pytest.raises(CommandError, match="找不到网格编码"):
        call_command("import", "people", str(path), "--grid", "1")


def test_export_writes_a_masked_xlsx_and_logs_it(base, world, tmp_path):
    target = tmp_path / "people.xlsx"
    err = io.StringIO()
    call_command("export", "people", "--within", world.comm_a1.code, "-o", str(target),
                 stderr=err)
    rows = list(openpyxl.load_workbook(target).worksheets[0].iter_rows(values_only=True))
    assert {row[0] for row in rows[1:]} == {"张桂兰", "赵强"}
    assert all("*" in row[2] for row in rows[1:])
    assert "已导出 2 行" in err.getvalue()
    entry = AccessLog.objects.get(action=AccessAction.EXPORT)
    assert entry.user is None and entry.row_count == 2
    assert entry.details["filters"] == {"grid": world.comm_a1.code}


def test_export_plaintext_needs_a_reason(base, tmp_path):
    with pytest.raises(CommandError, match="明文导出须填写事由"):
        call_command("export", "people", "--plaintext", "-o", str(tmp_path / "p.xlsx"))
