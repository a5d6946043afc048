"""Import in the console: a file with a bad row is refused with the row, column and reason
shown and nothing imported; the corrected file then imports."""

import io

import openpyxl
import pytest

from conftest import valid_id
from gezhi.core.personal import lookup
from gezhi.dataio.tests.conftest import PEOPLE_HEADERS, person_row
from gezhi.people.models import Person

from .helpers import log_in

pytestmark = pytest.mark.browser

GOOD = valid_id("37048119800101123")
ALSO_GOOD = valid_id("37048119850615224")
BAD = ALSO_GOOD[:17] + ("0" if ALSO_GOOD[17] != "0" else "1")  # wrong check digit


def xlsx(rows) -> dict:
    workbook = openpyxl.Workbook()
    for row in rows:
        workbook.active.append(row)
    buffer = io.BytesIO()
    workbook.save(buffer)
    return {"name": "文化路第一网格人员.xlsx", "buffer": buffer.getvalue(),
            "mimeType": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"}


def upload(page, base_url: str, rows) -> None:
    page.goto(f"{base_url}/console/data/")
    page.select_option("#id_kind", "people")
    page.set_input_files("#id_file", xlsx(rows))
    page.check("input[name=mode][value=all]")
    page.click("#import-form button[type=submit]")
    page.wait_for_url("**/console/data/jobs/*/")
    page.locator("#job-message").wait_for()  # the page polls until the import has run


def test_a_bad_row_is_shown_and_nothing_imported_then_the_fixed_file_imports(
        bworld, base, live_server, browse):
    page = browse()
    log_in(page, live_server.url, "worker_a1")
    grid = bworld.grid_a1.code
    rows = [PEOPLE_HEADERS,
            person_row("李明", GOOD, grid=grid, phone="13806325555"),
            person_row("周敏", BAD, estate="善国盛景小区", building="1号楼", unit="1单元",
                       number="101", relation="租户")]
    upload(page, live_server.url, rows)
    assert "未写入任何数据" in page.inner_text("#job-message")
    problem = page.locator("#problems tbody tr")
    assert problem.count() == 1
    assert [c.strip() for c in problem.first.locator("td").all_inner_texts()] == [
        "3", "证件号码", "身份证号校验位错误,请核对是否录入有误。"]
    assert not Person.objects.filter(name__in=["李明", "周敏"]).exists()

    rows[2] = person_row("周敏", ALSO_GOOD, estate="善国盛景小区", building="1号楼",
                         unit="1单元", number="101", relation="租户")
    upload(page, live_server.url, rows)
    assert "已导入:共 2 行,新增 2" in page.inner_text("#job-message")
    assert page.locator("#problems").count() == 0
    zhou = Person.objects.get(**lookup("id_number", ALSO_GOOD))
    assert zhou.residences.get().house == base.house_a1

    page.click("text=继续导入")
    page.wait_for_url(f"{live_server.url}/console/data/")
    assert "文化路第一网格人员.xlsx" in page.inner_text("main")  # listed under recent imports
    assert page.errors == []
