"""Importing people: every bad row reported with its row and column, the three modes,
re-import by ID number, scope and special-group tags."""

import pytest
from django.db import connection

from conftest import Base, valid_id
from gezhi.accounts.models import AccessAction, AccessLog
from gezhi.core.personal import get_sensitive, lookup
from gezhi.dataio.tests.conftest import PEOPLE_HEADERS, person_row
from gezhi.people.models import Person, PersonTag, Residence

ID_1 = valid_id("37048119800101123")
ID_2 = valid_id("37048119850615224")
ID_3 = valid_id("37048120010203345")


def bad_checksum(number: str) -> str:
    return number[:17] + ("0" if number[17] != "0" else "1")


def people(*rows) -> list[list]:
    return [PEOPLE_HEADERS, *rows]


def problems(report) -> list[tuple[int, str, str]]:
    return [(p.row, p.column, p.message) for p in report.problems]


def test_valid_rows_are_created_with_encrypted_numbers_house_and_tags(base, world, run_import):
    report = run_import(world.user("worker_a1"), "people", people(
        person_row("李明", ID_1, grid=world.grid_a1.code, phone="13806325555", 民族="汉族",
                   政治面貌="中共党员", tags="残疾人"),
        person_row("周敏", ID_2, estate="善国盛景小区", building="1号楼", unit="1单元",
                   number="101", relation="租户", 性别="女", 人口类型="流动人口"),
    ))
    assert (report.rows, report.created, report.bad_rows, report.written) == (2, 2, 0, True)
    li = Person.objects.get(**lookup("id_number", ID_1))
    assert li.name == "李明" and li.grid == world.grid_a1
    assert get_sensitive(li, "phone") == "13806325555"
    assert li.phone_mask == "138****5555" and li.id_number_mask.startswith("3704")
    assert li.ethnicity == "01" and li.political_status == "cpc_member"
    assert li.sex == "male" and str(li.birth_date) == "1980-01-01"  # from the ID number
    assert [t.tag.code for t in li.tags.all()] == ["disabled"]
    zhou = Person.objects.get(name="周敏")
    assert zhou.residence_type == "floating"
    home = Residence.objects.get(person=zhou)
    assert home.house == base.house_a1 and home.relation == "tenant" and home.moved_out is None
    assert zhou.grid == world.grid_a1  # the house's grid


def test_every_bad_row_is_reported_with_row_column_and_reason(base, world, run_import):
    rows = people(
        person_row("好人", ID_1, grid=world.grid_a1.code),                       # row 2
        person_row("", ID_2, grid=world.grid_a1.code),                           # 3 no name
        person_row("校验", bad_checksum(ID_3), grid=world.grid_a1.code),         # 4 checksum
        person_row("电话", valid_id("37048119700101555"), grid=world.grid_a1.code,
                   phone="12345"),                                               # 5 phone
        person_row("民族", valid_id("37048119700101666"), grid=world.grid_a1.code,
                   民族="火星族"),                                               # 6 ethnicity
        person_row("重复", ID_1, grid=world.grid_a1.code),                       # 7 duplicate
        person_row("无网格", valid_id("37048119700101777")),                     # 8 no grid
        person_row("未来", "370481" + "20991231" + "0018", grid=world.grid_a1.code),  # 9
        person_row("日期", valid_id("37048119700101888"), grid=world.grid_a1.code,
                   出生日期="1971-01-01"),                                       # 10 mismatch
    )
    report = run_import(world.user("worker_a1"), "people", rows)
    found = problems(report)
    assert [(row, column) for row, column, _m in found] == [
        (3, "姓名"), (4, "证件号码"), (5, "联系电话"), (6, "民族"), (7, "证件号码"), (8, "网格编码"),
        (9, "证件号码"), (10, "出生日期")]
    messages = dict(((row, column), message) for row, column, message in found)
    assert messages[(3, "姓名")] == "姓名不能为空。"
    assert "校验位" in messages[(4, "证件号码")]
    assert "电话号码格式不正确" in messages[(5, "联系电话")]
    assert "火星族" in messages[(6, "民族")]
    assert messages[(7, "证件号码")] == "与第 2 行的证件号码重复。"
    assert messages[(8, "网格编码")] == "请填写网格编码或住址。"
    assert "晚于今天" in messages[(9, "证件号码")] or "出生日期" in messages[(9, "证件号码")]
    assert messages[(10, "出生日期")] == "出生日期与身份证号不一致。"
    # All or nothing (the default): the good row was not written either.
    assert report.written is False and report.bad_rows == 8
    assert not Person.objects.filter(name="好人").exists()


def test_valid_only_mode_writes_the_good_rows_and_reports_the_bad(base, world, run_import):
    report = run_import(world.user("worker_a1"), "people", people(
        person_row("好人", ID_1, grid=world.grid_a1.code),
        person_row("坏人", bad_checksum(ID_2), grid=world.grid_a1.code),
        person_row("也好", ID_3, grid=world.grid_a1.code),
    ), mode="valid")
    assert report.written and (report.created, report.bad_rows) == (2, 1)
    assert problems(report)[0][:2] == (3, "证件号码")
    assert set(Person.objects.filter(name__in=["好人", "坏人", "也好"])
               .values_list("name", flat=True)) == {"好人", "也好"}


def test_dry_run_reports_what_would_happen_and_writes_nothing(base, world, run_import):
    before = Person.objects.count()
    report = run_import(world.user("worker_a1"), "people", people(
        person_row("新人", ID_1, grid=world.grid_a1.code),
        person_row("张桂兰", Base.ZHANG_ID, grid=world.grid_a1.code, 工作单位="社区食堂"),
    ), mode="dry_run")
    assert (report.created, report.updated, report.written) == (1, 1, False)
    assert Person.objects.count() == before
    assert Person.objects.get(pk=base.zhang_a1.pk).employer == ""


def test_reimport_updates_people_by_id_number_and_counts_unchanged(base, world, run_import):
    chief = world.user("chief_a1")
    first = run_import(chief, "people", people(
        person_row("李明", ID_1, grid=world.grid_a1.code, phone="13806325555"),
        person_row("周敏", ID_2, grid=world.grid_a1.code),
    ))
    assert first.created == 2
    li = Person.objects.get(**lookup("id_number", ID_1))
    version = li.version
    again = run_import(chief, "people", people(
        person_row("李明", ID_1, grid=world.grid_a2.code, phone="13906326666", 工作单位="鲁南机床厂"),
        person_row("周敏", ID_2, grid=world.grid_a1.code),
        # The stored person, matched by ID number: a blank cell keeps the stored phone.
        person_row("张桂兰", Base.ZHANG_ID, grid=world.grid_a1.code),
    ))
    assert (again.created, again.updated, again.unchanged) == (0, 1, 2)
    assert Person.objects.filter(**lookup("id_number", ID_1)).count() == 1
    li.refresh_from_db()
    assert li.grid == world.grid_a2 and li.employer == "鲁南机床厂"
    assert get_sensitive(li, "phone") == "13906326666" and li.version == version + 1
    zhang = Person.objects.get(pk=base.zhang_a1.pk)
    assert get_sensitive(zhang, "phone") == Base.ZHANG_PHONE


def test_moving_house_ends_the_old_residence_and_keeps_history(base, world, run_import):
    report = run_import(world.user("worker_a1"), "people", people(
        person_row("张桂兰", Base.ZHANG_ID, estate="善国盛景小区", building="1号楼", unit="1",
                   number="201", relation="家庭成员"),
    ))
    assert report.updated == 1, problems(report)
    links = Residence.objects.filter(person=base.zhang_a1).order_by("id")
    assert [(r.house_id, r.moved_out is None) for r in links] == [
        (base.house_a1.pk, False), (base.house_a1_2.pk, True)]


def test_a_row_for_another_workers_grid_is_a_bad_row(base, world, run_import):
    report = run_import(world.user("worker_a1"), "people", people(
        person_row("本网格", ID_1, grid=world.grid_a1.code),
        person_row("别的网格", ID_2, grid=world.grid_b1.code),
        person_row("别的房屋", ID_3, estate="荆河花园", building="2号楼", unit="1单元",
                   number="302"),
        person_row("王芳", Base.WANG_ID, grid=world.grid_a1.code),
    ), mode="valid")
    assert problems(report) == [
        (3, "网格编码", "网格不在您的管辖范围内。"),
        (4, "户室号", "网格不在您的管辖范围内。"),
        (5, "证件号码", "该证件号码已在您管辖范围以外的网格登记,无法在此更新。"),
    ]
    assert report.created == 1
    assert not Person.objects.filter(name__in=["别的网格", "别的房屋"]).exists()
    assert Person.objects.get(pk=base.wang_b1.pk).grid == world.grid_b1


def test_special_group_tags_need_the_special_view_right(base, world, run_import):
    rows = people(person_row("赵某", ID_1, grid=world.grid_a1.code, tags="社区矫正对象, 独居老人"))
    report = run_import(world.user("worker_a1"), "people", rows)
    assert problems(report) == [(2, "标签", "您无权设置特殊人群标签:社区矫正对象")]
    report = run_import(world.user("chief_a1"), "people", rows)
    assert report.created == 1
    person = Person.objects.get(**lookup("id_number", ID_1))
    assert set(PersonTag.objects.filter(person=person).values_list("tag__code", flat=True)) == {
        "community_correction", "lone_elderly"}


def test_unknown_tags_and_houses_are_reported(base, world, run_import):
    report = run_import(world.user("worker_a1"), "people", people(
        person_row("甲", ID_1, grid=world.grid_a1.code, tags="爱心人士"),
        person_row("乙", ID_2, estate="善国盛景小区", building="9号楼", number="101"),
    ), mode="valid")
    assert problems(report) == [
        (2, "标签", "未知的标签:爱心人士"),
        (3, "户室号", "找不到该住址的房屋,请核对,或先导入房屋。")]


def test_numbers_excel_mangled_and_masked_numbers_are_explained(base, world, run_import):
    report = run_import(world.user("worker_a1"), "people", people(
        person_row("数字", 3.70481198001011e17, grid=world.grid_a1.code),
        person_row("脱敏", "3704**********1234", grid=world.grid_a1.code),
    ), mode="valid")
    assert [m for _r, _c, m in problems(report)] == [
        "证件号码被 Excel 存成了数字,末几位已丢失:请把本列设为文本格式后重新填写。",
        "证件号码是脱敏后的号码(含 *),无法导入,请填写完整号码。"]


def test_gbk_csv_with_display_labels_and_excel_dates(base, world, run_import):
    rows = people(person_row("王建国", valid_id("37048119561001101"), grid=world.grid_a1.code,
                             性别="男", 出生日期="1956/10/1", 民族="回", 政治面貌="党员",
                             人口类型="户籍", 证件类型="身份证"))
    report = run_import(world.user("worker_a1"), "people", rows, name="人员.csv",
                        csv_encoding="gbk")
    assert report.created == 1, problems(report)
    wang = Person.objects.get(name="王建国")
    assert (wang.ethnicity, wang.political_status, wang.residence_type) == (
        "03", "cpc_member", "registered")
    assert str(wang.birth_date) == "1956-10-01"


def test_every_import_is_logged(base, world, run_import):
    run_import(world.user("worker_a1"), "people", people(
        person_row("甲", ID_1, grid=world.grid_a1.code)), name="第一批.xlsx")
    entry = AccessLog.objects.get(action=AccessAction.IMPORT)
    assert entry.user == world.user("worker_a1") and entry.target_type == "people"
    assert entry.row_count == 1 and entry.details["file"] == "第一批.xlsx"
    assert entry.details["written"] is True and entry.details["created"] == 1


@pytest.mark.parametrize("workers", [2])
def test_worker_processes_give_the_same_report_as_one_process(base, world, run_import,
                                                               settings, monkeypatch, workers):
    from gezhi.dataio import readers

    monkeypatch.setattr(readers, "CHUNK", 4096)  # many pieces, so order matters
    rows = people(*[person_row(f"人{i}", valid_id(f"37048119700101{i:03d}"),
                               grid=world.grid_a1.code) for i in range(300)],
                  person_row("坏", bad_checksum(ID_1), grid=world.grid_a1.code),
                  person_row("重", valid_id("37048119700101007"), grid=world.grid_a1.code))
    settings.GEZHI_IMPORT_WORKERS = 0
    single = run_import(world.user("worker_a1"), "people", rows, mode="dry_run")
    settings.GEZHI_IMPORT_WORKERS = workers
    settings.GEZHI_IMPORT_PARALLEL_MIN_BYTES = 0
    parallel = run_import(world.user("worker_a1"), "people", rows, mode="valid")
    assert problems(parallel) == problems(single) == [
        (302, "证件号码", problems(single)[0][2]), (303, "证件号码", "与第 9 行的证件号码重复。")]
    assert parallel.created == single.created == 300
    assert Person.objects.filter(name__startswith="人").count() == 300


def test_from_a_web_servers_thread_fresh_worker_processes_are_started(
        base, world, tmp_path, settings):
    """Forking a multi-threaded server is unsafe: from a thread, workers are spawned."""
    import threading

    from gezhi.dataio import pipeline
    from gezhi.dataio.kinds.base import Report
    from gezhi.dataio.kinds.people import Pending, PeopleImport
    from gezhi.dataio.readers import open_table
    from gezhi.dataio.services import _columns
    from gezhi.dataio.tests.conftest import write_xlsx

    settings.GEZHI_IMPORT_WORKERS = 2
    settings.GEZHI_IMPORT_PARALLEL_MIN_BYTES = 0
    path = write_xlsx(tmp_path / "p.xlsx", people(*[
        person_row(f"人{i}", valid_id(f"37048119700101{i:03d}"), grid=world.grid_a1.code)
        for i in range(50)]))
    table = open_table(path, path.name)
    pairs, labels = _columns(PeopleImport, table)
    importer = PeopleImport(actor=None, report=Report(kind="people"), headers=labels)
    found = {}

    def prepare_in_a_thread():
        with pipeline.Prepared(importer, table, pairs) as batches:
            found["start"] = batches.pool._mp_context.get_start_method()
            found["items"] = [item for items, _count in batches for item in items]

    thread = threading.Thread(target=prepare_in_a_thread)
    thread.start()
    thread.join()
    assert found["start"] == "spawn"
    assert [p.row for p in found["items"]] == list(range(2, 52))
    assert all(isinstance(p, Pending) and p.secret[0].startswith("s1:") for p in found["items"])


def test_building_and_unit_may_be_written_with_or_without_their_suffix(base, world, run_import):
    from gezhi.places.services import building_create, house_create

    short = building_create(actor=None, name="3", estate=base.estate_a1, lat=35.081,
                            lon=117.111, units=1)
    house_3 = house_create(actor=None, building=short, unit=short.units.get(), number="101")
    report = run_import(world.user("worker_a1"), "people", people(
        person_row("甲", ID_1, estate="善国盛景小区", building="1", unit="1", number="201"),
        person_row("乙", ID_2, estate="善国盛景小区", building="3号楼", number="101"),
    ))
    assert (report.created, report.bad_rows) == (2, 0)
    assert Residence.objects.get(person__name="甲").house == base.house_a1_2
    assert Residence.objects.get(person__name="乙").house == house_3


def in_the_estate(name, id_number, number, **fields):
    return person_row(name, id_number, estate="善国盛景小区", building="1号楼", unit="1单元",
                      number=number, **fields)


def test_a_file_checked_in_many_batches_imports_as_one(base, world, run_import, monkeypatch):
    from gezhi.dataio import pipeline

    # Batches of two: on PostgreSQL each is written while the next one is checked.
    monkeypatch.setattr(pipeline, "BATCH", 2)
    rows = people(in_the_estate("甲", ID_1, "101", relation="家庭成员"),          # row 2
                  person_row("乙", ID_2, grid=world.grid_a1.code, tags="残疾人"),  # 3
                  in_the_estate("张桂兰", Base.ZHANG_ID, "201"),                  # 4 moves
                  person_row("坏", bad_checksum(ID_3), grid=world.grid_a1.code),  # 5
                  in_the_estate("丙", ID_3, "201", relation="租户"))              # 6
    zhang_home = Residence.objects.get(person=base.zhang_a1)

    report = run_import(world.user("worker_a1"), "people", rows)  # all or nothing
    assert [(p.row, p.column) for p in report.problems] == [(5, "证件号码")]
    assert report.written is False
    assert not Person.objects.filter(name__in=["甲", "乙", "丙"]).exists()
    assert Residence.objects.get(person=base.zhang_a1) == zhang_home

    report = run_import(world.user("worker_a1"), "people", rows, mode="valid")
    assert (report.rows, report.created, report.updated, report.bad_rows) == (5, 3, 1, 1)
    assert Residence.objects.get(person__name="甲").house == base.house_a1
    assert [t.tag.code for t in PersonTag.objects.filter(person__name="乙")] == ["disabled"]
    assert Residence.objects.get(person__name="丙").house == base.house_a1_2
    zhang_home.refresh_from_db()
    assert zhang_home.moved_out is not None
    assert base.zhang_a1.residences.get(moved_out=None).house == base.house_a1_2


@pytest.mark.skipif(connection.vendor != "postgresql", reason="on SQLite an import holds the "
                    "write lock from its first query: no one can edit meanwhile")
def test_a_person_edited_during_the_import_is_not_overwritten(base, world, run_import,
                                                              monkeypatch):
    from gezhi.dataio import pipeline
    from gezhi.dataio.kinds.people import PeopleImport

    monkeypatch.setattr(pipeline, "BATCH", 1)
    write = PeopleImport.write

    def someone_edits_zhang_meanwhile(self, plan):
        if plan is not None and plan.updates:
            Person.objects.filter(pk=base.zhang_a1.pk).update(version=base.zhang_a1.version + 1,
                                                              employer="社区卫生服务站")
        write(self, plan)

    monkeypatch.setattr(PeopleImport, "write", someone_edits_zhang_meanwhile)
    report = run_import(world.user("worker_a1"), "people", people(
        person_row("甲", ID_1, grid=world.grid_a1.code),
        person_row("张桂兰", Base.ZHANG_ID, grid=world.grid_a1.code, 工作单位="滕州市第一中学"),
        person_row("乙", ID_2, grid=world.grid_a1.code)))
    assert "导入期间有人修改了其中的数据" in report.fatal and report.written is False
    assert not Person.objects.filter(name__in=["甲", "乙"]).exists()
    assert Person.objects.get(pk=base.zhang_a1.pk).employer == ""
