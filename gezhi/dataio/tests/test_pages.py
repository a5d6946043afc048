"""The console pages: upload → job → report; templates; exports scoped, masked and logged."""

import io

import openpyxl
import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from conftest import Base, valid_id
from gezhi.accounts.models import AccessAction, AccessLog
from gezhi.accounts.roles import ROLE_PERMS, Perm, Role
from gezhi.dataio.models import ImportJob, JobStatus
from gezhi.dataio.tests.conftest import PEOPLE_HEADERS, person_row
from gezhi.people.models import Person

ID_1 = valid_id("37048119800101123")
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def xlsx_bytes(rows) -> bytes:
    workbook = openpyxl.Workbook()
    for row in rows:
        workbook.active.append(row)
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def read_xlsx(response) -> list[list]:
    content = b"".join(response.streaming_content) if response.streaming else response.content
    sheet = openpyxl.load_workbook(io.BytesIO(content)).worksheets[0]
    return [list(row) for row in sheet.iter_rows(values_only=True)]


@pytest.fixture
def inline_jobs(settings):
    settings.GEZHI_IMPORT_BACKGROUND = False


def upload(client, rows, *, mode="all", name="people.xlsx", kind="people"):
    return client.post("/console/data/", {
        "kind": kind, "mode": mode, "default_grid": "",
        "file": SimpleUploadedFile(name, xlsx_bytes(rows), content_type=XLSX)})


def test_only_importers_open_the_import_page(world):
    assert world.client("worker_a1").get("/console/data/").status_code == 200
    assert world.client("dispatcher_a").get("/console/data/").status_code == 404
    assert world.client("resident").get("/console/data/").status_code == 404
    assert world.client(None).get("/console/data/").status_code == 302


def test_upload_with_a_bad_row_shows_row_column_reason_and_writes_nothing(
        base, world, inline_jobs, django_capture_on_commit_callbacks):
    client = world.client("worker_a1")
    rows = [PEOPLE_HEADERS, person_row("李明", ID_1, grid=world.grid_a1.code),
            person_row("赵六", valid_id("37048119900101567")[:17] + "0", grid=world.grid_a1.code)]
    with django_capture_on_commit_callbacks(execute=True):
        response = upload(client, rows)
    job = ImportJob.objects.get()
    assert response.status_code == 302 and response["Location"] == f"/console/data/jobs/{job.pk}/"
    page = client.get(response["Location"]).content.decode()
    assert job.status == "done" or ImportJob.objects.get().status == JobStatus.DONE
    assert "<td class=\"num\">3</td><td>证件号码</td><td>身份证号校验位错误,请核对是否录入有误。</td>" in page
    assert "未写入任何数据" in page
    assert not Person.objects.filter(name="李明").exists()
    entry = AccessLog.objects.get(action=AccessAction.IMPORT)
    assert (entry.user, entry.row_count, entry.ip_address) == (
        world.user("worker_a1"), 2, "127.0.0.1")
    assert entry.details["written"] is False and entry.details["bad_rows"] == 1
    # The uploaded file (personal data in plaintext) is gone once read.
    from gezhi.dataio.services import _job_dir

    assert not _job_dir(job.pk).exists()


def test_the_job_page_polls_until_done_and_belongs_to_its_owner(world, inline_jobs):
    job = ImportJob.objects.create(user=world.user("worker_a1"), kind="people",
                                   file_name="a.xlsx", status=JobStatus.RUNNING)
    from django.utils import timezone

    job.started_at = timezone.now()
    job.save()
    page = world.client("worker_a1").get(f"/console/data/jobs/{job.pk}/status/").content.decode()
    assert 'hx-trigger="every 1s"' in page and "<progress" in page
    assert world.client("chief_a1").get(f"/console/data/jobs/{job.pk}/").status_code == 404


def test_a_300_mb_upload_is_refused_from_its_size_without_reading_it(world):
    client = world.client("worker_a1")
    client.get("/console/data/")
    response = client.generic(
        "POST", "/console/data/", b"--x\r\n", content_type="multipart/form-data; boundary=x",
        CONTENT_LENGTH=str(300 * 1024 * 1024))
    assert response.status_code == 413
    assert "文件过大:上限 50 MB,此文件约 300 MB。请拆分成几个文件分批导入。" in response.content.decode()
    assert not ImportJob.objects.exists()


def test_a_file_over_the_limit_is_refused_before_it_is_parsed(world, settings):
    settings.GEZHI_IMPORT_MAX_BYTES = 1000
    response = upload(world.client("worker_a1"), [PEOPLE_HEADERS] + [
        person_row(f"人{i}", ID_1, grid=world.grid_a1.code) for i in range(200)])
    assert response.status_code == 413
    assert "文件过大" in response.content.decode()
    assert not ImportJob.objects.exists()


def test_templates_have_headers_notes_and_drop_downs(world):
    response = world.client("worker_a1").get("/console/data/templates/people/")
    assert response["Content-Type"] == XLSX
    workbook = openpyxl.load_workbook(io.BytesIO(response.content))
    sheet = workbook.worksheets[0]
    headers = [c.value for c in sheet[1]]
    assert headers[:3] == ["姓名", "证件类型", "证件号码"]
    assert "校验位" in sheet["C1"].comment.text
    codes = workbook["代码表"]
    assert codes.sheet_state == "hidden"
    columns = {codes.cell(row=1, column=c).value: [codes.cell(row=r, column=c).value
                                                   for r in range(2, codes.max_row + 1)]
               for c in range(1, codes.max_column + 1)}
    assert len([v for v in columns["民族"] if v]) == 56
    assert "居民身份证" in columns["证件类型"] and "群众" in columns["政治面貌"]
    # Worker A-1 may set care tags, not special-group ones, and import into A-1 only.
    assert "独居老人" in columns["标签"] and "社区矫正对象" not in columns["标签"]
    assert [v for v in columns["网格编码"] if v] == [world.grid_a1.code]
    validated = {str(dv.sqref).split(":")[0][0] for dv in sheet.data_validations.dataValidation}
    assert {"B", "D", "F"} <= validated  # 证件类型, 性别, 民族
    assert "填写说明" in workbook.sheetnames


def test_export_is_scoped_masked_and_logged(base, world):
    client = world.client("chief_a1")
    response = client.get("/console/data/export/people/")
    assert response.status_code == 200 and response["Content-Type"] == XLSX
    rows = read_xlsx(response)
    names = {row[0] for row in rows[1:]}
    assert names == {"张桂兰", "赵强"}  # chief of A1 never gets wang_b1 of B-1
    zhang = next(row for row in rows if row[0] == "张桂兰")
    assert zhang[2] == base.zhang_a1.id_number_mask and "*" in zhang[2]
    assert zhang[6] == "138****1111"
    assert zhang[12] == base.house_a1.address and zhang[14] == "独居老人"
    entry = AccessLog.objects.get(action=AccessAction.EXPORT)
    assert (entry.user, entry.target_type, entry.row_count) == (world.user("chief_a1"),
                                                                "people", 2)
    assert entry.details["filters"] == {} and entry.details["plaintext"] is False


def test_export_keeps_the_list_filters(base, world):
    rows = read_xlsx(world.client("chief_a1").get("/console/data/export/people/",
                                                  {"tag": "lone_elderly"}))
    assert [row[0] for row in rows[1:]] == ["张桂兰"]
    assert AccessLog.objects.get(action=AccessAction.EXPORT).details["filters"] == {
        "tag": "lone_elderly"}


def test_export_without_the_right_is_refused(base, world):
    assert world.client("worker_a1").get("/console/data/export/people/").status_code == 404
    assert world.client("dispatcher_a").get("/console/data/export/people/").status_code == 404
    assert not AccessLog.objects.filter(action=AccessAction.EXPORT).exists()


def test_special_group_tags_stay_out_of_exports_without_the_special_right(
        base, world, monkeypatch):
    # A deployment that lets grid workers export: they still never export 社区矫正.
    monkeypatch.setitem(ROLE_PERMS, Role.GRID_WORKER,
                        ROLE_PERMS[Role.GRID_WORKER] | {Perm.BASE_EXPORT})
    rows = read_xlsx(world.client("worker_a1").get("/console/data/export/people/"))
    assert {row[0] for row in rows[1:]} == {"张桂兰", "赵强"}
    assert all("社区矫正" not in str(cell) for row in rows for cell in row)
    filtered = read_xlsx(world.client("worker_a1").get(
        "/console/data/export/people/", {"tag": "community_correction"}))
    assert filtered[1:] == []
    chief = read_xlsx(world.client("chief_a1").get("/console/data/export/people/"))
    assert next(row for row in chief if row[0] == "赵强")[14] == "社区矫正对象"


def test_plaintext_export_needs_reveal_and_a_reason_and_is_logged(base, world):
    client = world.client("chief_a1")
    form = client.get("/console/data/export/people/", {"plain": "1"})
    assert form.status_code == 200 and "明文导出事由" in form.content.decode()
    empty = client.post("/console/data/export/people/?plain=1", {"reason": ""})
    assert empty.status_code == 400 and "明文导出须填写事由。" in empty.content.decode()
    response = client.post("/console/data/export/people/?plain=1", {"reason": "核对低保名单"})
    rows = read_xlsx(response)
    zhang = next(row for row in rows if row[0] == "张桂兰")
    assert zhang[2] == Base.ZHANG_ID and zhang[6] == Base.ZHANG_PHONE
    entry = AccessLog.objects.get(action=AccessAction.EXPORT)
    assert entry.reason == "核对低保名单" and entry.details["plaintext"] is True
    assert entry.field == "plaintext"
    # A leader may export but not see plaintext.
    refused = world.client("leader_a").get("/console/data/export/people/", {"plain": "1"})
    assert refused.status_code == 403


def test_houses_orgs_and_components_export(base, world):
    client = world.client("leader_a")
    houses = read_xlsx(client.get("/console/data/export/houses/", {"usage": "rented"}))
    assert [row[4] for row in houses[1:]] == ["201"]
    orgs = read_xlsx(client.get("/console/data/export/orgs/"))
    assert orgs[1][0] == "善国便利店" and orgs[1][5] == "138****4444"
    bad = client.get("/console/data/export/houses/", {"usage": "castle"})
    assert bad.status_code == 400 and "筛选条件无效" in bad.content.decode()
