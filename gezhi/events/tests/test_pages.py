"""The console pages of the event closed loop: work queues, the event page and its operation
forms, the report page and the situation map's events layer."""

import datetime as dt
import io
import re

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from gezhi.accounts.models import Department
from gezhi.core import clock
from gezhi.events import services as s
from gezhi.events import workcal
from gezhi.events.models import Category, Event, Extension, Op, Photo, State, TimelineEntry
from gezhi.events.tests.conftest import IN_A1, IN_A2, IN_B1, OUTSIDE, jpeg

TZ = dt.timezone(dt.timedelta(hours=8))
NEAR_A1 = (IN_A1[0] + 0.0003, IN_A1[1])  # about 33 m from IN_A1


@pytest.fixture(autouse=True)
def _media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path


def page(event) -> str:
    return reverse("events:detail", args=[event.serial])


def queue_url(tab: str = "", **params) -> str:
    query = "&".join(f"{k}={v}" for k, v in {"tab": tab, **params}.items() if v)
    return reverse("events:queue") + (f"?{query}" if query else "")


def post_op(client, event, op: str, version: int | None = None, **fields):
    """Post one operation form of the event page, as the page renders it (prefixed fields,
    the version the page was rendered with)."""
    if version is None:
        version = Event.objects.get(pk=event.pk).version
    data = {f"{op}-version": version, **{f"{op}-{k}": v for k, v in fields.items()}}
    return client.post(reverse("events:op", args=[event.serial, op]), data)


def text(response) -> str:
    return response.content.decode()


def tab_counts(response) -> dict[str, int]:
    return {key: int(n) for key, n in re.findall(
        r'data-tab="(\w+)"[^>]*>[^<]*<span[^>]*>(\d+)</span>', text(response))}


def state_of(event) -> str:
    return Event.objects.get(pk=event.pk).state


def ops_on_page(response) -> list[str]:
    return re.findall(r'<details class="op" data-op="(\w+)"', text(response))


# ---------------------------------------------------------------------------------------------
# Queues


def test_each_persona_sees_their_queues_with_counts(world, report):
    report("worker_a1")
    report("chief_a1", where=IN_A2)
    report("worker_b1", where=IN_B1)

    dispatcher = tab_counts(world.client("dispatcher_a").get(queue_url()))
    assert dispatcher["to_accept"] == 2 and dispatcher["all"] == 2
    assert {"to_dispatch", "to_verify", "to_close", "overdue", "supervised"} <= set(dispatcher)
    assert "to_handle" not in dispatcher and "extensions" not in dispatcher

    handler = tab_counts(world.client("handler").get(queue_url()))
    assert handler["to_handle"] == 0 and handler["all"] == 0
    assert "to_accept" not in handler

    worker = tab_counts(world.client("worker_a1").get(queue_url()))
    assert "to_accept" not in worker and worker["to_verify"] == 0 and worker["all"] == 1

    leader = tab_counts(world.client("leader_a").get(queue_url()))
    assert "extensions" in leader and "to_accept" not in leader

    assert world.client("resident").get(queue_url()).status_code == 404


def test_queue_lists_the_tab_and_filters(world, report):
    first = report("worker_a1", description="楼道堆放杂物")
    second = report("chief_a1", where=IN_A2, category=Category.objects.get(code="1102"),
                    description="路灯不亮")
    client = world.client("dispatcher_a")
    body = text(client.get(queue_url("to_accept")))
    assert first.serial in body and second.serial in body
    assert "批量受理所选事件" in body

    assert second.serial not in text(client.get(queue_url("to_accept", category="0102")))
    assert second.serial in text(client.get(queue_url("all", category="11")))  # a 大类
    assert first.serial not in text(client.get(queue_url("all", grid=world.grid_a2.code)))
    assert first.serial not in text(client.get(queue_url("all", q="路灯")))
    assert first.serial in text(client.get(queue_url("all", state="reported", source="patrol")))
    tomorrow = (clock.now() + dt.timedelta(days=2)).date().isoformat()
    assert first.serial not in text(client.get(queue_url("all", start=tomorrow)))
    assert text(client.get(queue_url("to_dispatch"))).count('<tr data-serial') == 0


def test_worker_of_another_grid_neither_sees_nor_opens_the_event(world, report):
    event = report("worker_a1")
    client = world.client("worker_b1")
    assert client.get(page(event)).status_code == 404
    assert event.serial not in text(client.get(queue_url("all")))
    assert post_op(client, event, "comment", note="看看").status_code == 404
    # A department sees an event only once it is sent there.
    assert world.client("handler").get(page(event)).status_code == 404


def test_queue_page_query_count_does_not_grow_with_rows(world, report,
                                                         django_assert_max_num_queries):
    client = world.client("dispatcher_a")
    for _ in range(3):
        s.event_accept(event=report("worker_a1"), actor=world.user("dispatcher_a"))
    workcal.is_workday(clock.now().date())  # load the calendar cache outside the count
    client.get(queue_url("to_dispatch"))
    with CaptureQueriesContext(connection) as few:
        assert client.get(queue_url("to_dispatch")).status_code == 200
    for _ in range(6):
        s.event_accept(event=report("chief_a1", where=IN_A2),
                       actor=world.user("dispatcher_a"))
    with django_assert_max_num_queries(9):
        response = client.get(queue_url("to_dispatch"))
    assert response.content.decode().count("<tr data-serial") == 9
    with CaptureQueriesContext(connection) as many:
        client.get(queue_url("to_dispatch"))
    assert len(many) == len(few)


# ---------------------------------------------------------------------------------------------
# Operations through the event page


def test_accept_and_reject_need_what_the_table_requires(world, report):
    event = report("worker_a1")
    client = world.client("dispatcher_a")
    body = text(client.get(page(event)))
    assert ops_on_page(client.get(page(event)))[:2] == ["accept", "reject"]
    assert "楼下垃圾堆积三天无人清理" in body

    response = post_op(client, event, "reject", note="  ")
    assert response.status_code == 422
    assert "不予受理须说明理由。" in text(response)
    assert state_of(event) == State.REPORTED
    assert TimelineEntry.objects.filter(event=event).count() == 1

    response = post_op(client, event, "accept")
    assert response.status_code == 302
    assert "已完成“受理”。" in text(client.get(response["Location"]))
    assert state_of(event) == State.ACCEPTED


def test_reject_with_a_reason(world, report):
    event = report("worker_a1")
    response = post_op(world.client("dispatcher_a"), event, "reject", note="不属于受理范围")
    assert response.status_code == 302 and state_of(event) == State.REJECTED
    assert "不属于受理范围" in text(world.client("dispatcher_a").get(page(event)))


def test_the_main_line_through_the_page(world, report):
    assist = Department.objects.create(code="scjg-370481001", name="北辛市场监管所",
                                       region=world.sub_a)
    Department.objects.create(code="cg-370481002", name="荆河街道城管中队", region=world.sub_b)
    event = report("worker_a1", photos=[jpeg()])
    dispatcher, handler = world.client("dispatcher_a"), world.client("handler")
    post_op(dispatcher, event, "accept")

    body = text(dispatcher.get(page(event)))
    assert "北辛街道城管中队" in body and "北辛市场监管所" in body
    assert "荆河街道城管中队" not in body  # serves another subdistrict
    assert "文化路社区" in body and "文化路第一网格" in body  # the event's community and grid
    response = post_op(dispatcher, event, "dispatch", unit="")
    assert response.status_code == 422 and "请选择一个主办单位" in text(response)
    response = post_op(dispatcher, event, "dispatch", unit=f"department:{world.department.pk}",
                       assist=[f"department:{assist.pk}"])
    assert response.status_code == 302 and state_of(event) == State.DISPATCHED

    body = text(handler.get(page(event)))
    assert ops_on_page(handler.get(page(event)))[0] == "claim"
    assert "剩余" in body
    assert post_op(handler, event, "claim").status_code == 302
    response = handler.post(reverse("events:op", args=[event.serial, "handle"]), {
        "handle-version": Event.objects.get(pk=event.pk).version, "handle-note": "已清运完毕",
        "handle-photos": [jpeg("after.jpg", color="green")]})
    assert response.status_code == 302 and state_of(event) == State.HANDLED
    assert Photo.objects.filter(event=event, stage=Photo.Stage.RESULT).count() == 1

    worker = world.client("worker_a1")
    assert ops_on_page(worker.get(page(event)))[:2] == ["verify", "verify_fail"]
    assert post_op(worker, event, "verify").status_code == 302
    assert post_op(dispatcher, event, "close").status_code == 302
    assert state_of(event) == State.CLOSED

    response = post_op(worker, event, "rate", rating="satisfied")  # the reporter rates
    assert response.status_code == 302
    body = text(worker.get(page(event)))
    assert "评价:满意" in body and "已清运完毕" in body
    assert body.count('<ul class="photos">') >= 3  # report, result, and in the timeline
    assert "rate" not in ops_on_page(worker.get(page(event)))
    ops = list(TimelineEntry.objects.filter(event=event).values_list("op", flat=True))
    assert ops == [Op.REPORT, Op.ACCEPT, Op.DISPATCH, Op.CLAIM, Op.HANDLE, Op.VERIFY, Op.CLOSE,
                   Op.RATE]


def _handled(world, report, **fields):
    event = report("worker_a1", **fields)
    d, h = world.user("dispatcher_a"), world.user("handler")
    s.event_accept(event=event, actor=d)
    s.event_dispatch(event=event, actor=d, department=world.department)
    s.event_claim(event=event, actor=h)
    s.event_handle(event=event, actor=h, note="已处理")
    return event


def test_verify_fail_needs_a_reason_and_sends_it_back(world, report):
    event = _handled(world, report)
    worker = world.client("worker_a1")
    response = post_op(worker, event, "verify_fail")
    assert response.status_code == 422 and "核查不通过须说明原因。" in text(response)
    assert state_of(event) == State.HANDLED
    assert post_op(worker, event, "verify_fail", note="垃圾仍未清走").status_code == 302
    event.refresh_from_db()
    assert event.state == State.HANDLING and event.reopen_count == 1
    assert "垃圾仍未清走" in text(world.client("handler").get(page(event)))


def test_escalate_and_red_supervision(world, report):
    event = report("worker_a1")
    chief = world.client("chief_a1")
    assert "escalate" in ops_on_page(chief.get(page(event)))
    response = post_op(chief, event, "escalate")
    assert response.status_code == 422 and "上报上级须说明原因。" in text(response)
    assert post_op(chief, event, "escalate", note="涉及多个部门,社区无法协调").status_code == 302
    event.refresh_from_db()
    assert event.level == "subdistrict" and event.state == State.ACCEPTED
    assert "dispatch" not in ops_on_page(chief.get(page(event)))  # now the subdistrict's

    leader = world.client("leader_a")
    response = post_op(leader, event, "supervise", level=3, note="限三日内办结")
    assert response.status_code == 302
    body = text(leader.get(page(event)))
    assert 'class="supervision supervision--3" id="event-supervision">红牌督办' in body
    assert "由社区上报至街道" in body
    assert tab_counts(leader.get(queue_url()))["supervised"] == 1
    assert event.serial in text(leader.get(queue_url("supervised")))


def test_extension_request_and_decision(world, report):
    event = report("worker_a1")
    d = world.user("dispatcher_a")
    s.event_accept(event=event, actor=d)
    event = s.event_dispatch(event=event, actor=d, department=world.department)
    deadline = event.handle_deadline
    handler, leader = world.client("handler"), world.client("leader_a")
    response = post_op(handler, event, "extend_request", days="", note="需协调产权单位")
    assert response.status_code == 422 and "延期天数应为 1 到 60 个工作日。" in text(response)
    assert post_op(handler, event, "extend_request", days=2, note="需协调产权单位").status_code == 302
    assert tab_counts(leader.get(queue_url()))["extensions"] == 1
    assert "extend_decide" in ops_on_page(leader.get(page(event)))

    response = post_op(leader, event, "extend_decide", approve="no")
    assert response.status_code == 422 and "不批准延期须说明理由。" in text(response)
    assert Extension.objects.get(event=event).status == Extension.Status.PENDING
    assert post_op(leader, event, "extend_decide", approve="yes").status_code == 302
    event.refresh_from_db()
    assert event.handle_deadline > deadline and event.extension_count == 1
    assert "已批准" in text(leader.get(page(event)))


def test_suspend_and_resume(world, report):
    event = report("worker_a1")
    client = world.client("dispatcher_a")
    post_op(client, event, "accept")
    response = post_op(client, event, "suspend")
    assert response.status_code == 422 and "缓办须说明理由。" in text(response)
    assert post_op(client, event, "suspend", note="等待产权单位答复").status_code == 302
    assert state_of(event) == State.SUSPENDED
    assert "resume" in ops_on_page(client.get(page(event)))
    assert post_op(client, event, "resume").status_code == 302
    assert state_of(event) == State.ACCEPTED


def test_duplicates_are_offered_and_merged(world, report):
    master = report("resident", source="resident")
    duplicate = report("worker_a1", where=NEAR_A1)
    client = world.client("dispatcher_a")
    body = text(client.get(page(duplicate)))
    assert "疑似重复事件" in body and f'data-serial="{master.serial}"' in body
    assert post_op(client, duplicate, "merge", master=master.serial).status_code == 302
    duplicate.refresh_from_db()
    assert duplicate.state == State.MERGED and duplicate.master == master
    body = text(client.get(page(master)))
    assert "已并入本事件的重复事件" in body and duplicate.serial in body
    # The reporter sees where it went.
    assert master.serial in text(world.client("worker_a1").get(page(duplicate)))


def test_merge_into_an_unknown_event_is_refused_on_the_field(world, report):
    event = report("worker_a1")
    response = post_op(world.client("dispatcher_a"), event, "merge", master="370481-00000000-9999")
    assert response.status_code == 422
    assert "要并入的事件不存在或不在您的管辖范围内。" in text(response)
    assert state_of(event) == State.REPORTED


def test_a_stale_page_shows_the_conflict_and_changes_nothing(world, report):
    event = report("worker_a1")
    seen = event.version
    s.event_accept(event=event, actor=world.user("chief_a1"))  # someone else, meanwhile
    entries = TimelineEntry.objects.filter(event=event).count()
    response = post_op(world.client("dispatcher_a"), event, "reject", version=seen,
                       note="重复上报")
    assert response.status_code == 409
    assert "该事件已被他人处理(当前状态:待派遣),请刷新后再操作。" in text(response)
    assert state_of(event) == State.ACCEPTED
    assert TimelineEntry.objects.filter(event=event).count() == entries
    # The page now offers what fits the current state, with the current version.
    assert "reject" not in ops_on_page(response)


def test_an_operation_that_no_longer_fits_shows_why(world, report):
    event = report("worker_a1")
    response = post_op(world.client("dispatcher_a"), event, "close")
    assert response.status_code == 409
    assert "事件当前状态为“待受理”,不能执行“结案”。" in text(response)
    response = post_op(world.client("worker_a1"), event, "accept")
    assert response.status_code == 403 and "您无权对该事件执行“受理”。" in text(response)
    assert state_of(event) == State.REPORTED


def test_comment_by_any_viewer(world, report):
    event = report("worker_a1")
    assert post_op(world.client("leader_a"), event, "comment", note="请尽快处理").status_code == 302
    assert "请尽快处理" in text(world.client("worker_a1").get(page(event)))


def test_bulk_accept_reports_each_event(world, report):
    a, b, c = report("worker_a1"), report("worker_a1"), report("chief_a1", where=IN_A2)
    stale = b.version
    s.event_reject(event=b, actor=world.user("chief_a1"), note="不属于受理范围")
    client = world.client("dispatcher_a")
    response = client.post(reverse("events:bulk_accept"), {
        "events": [f"{a.serial}:{a.version}", f"{b.serial}:{stale}", f"{c.serial}:{c.version}"],
        "next": queue_url("to_accept")}, follow=True)
    body = text(response)
    assert f"已受理 2 件:{a.serial}、{c.serial}" in body
    assert f"{b.serial} 未受理:该事件已被他人处理" in body
    assert [state_of(e) for e in (a, b, c)] == [State.ACCEPTED, State.REJECTED, State.ACCEPTED]
    assert world.client("worker_a1").post(reverse("events:bulk_accept"),
                                          {"events": [f"{a.serial}:1"]}).status_code == 404


# ---------------------------------------------------------------------------------------------
# Report page


def report_form(client, **fields):
    data = {"category": "0102", "description": "小区门口垃圾满溢", "lat": IN_A1[0],
            "lon": IN_A1[1], "source": "patrol", **fields}
    return client.post(reverse("events:report"), data)


def test_report_page_creates_an_event_with_photos(world):
    client = world.client("worker_a1")
    body = text(client.get(reverse("events:report")))
    assert 'id="report-map"' in body and "暴露垃圾" in body and "市容环境" in body
    client_id = re.search(r'name="client_id" value="([0-9a-f-]+)"', body).group(1)
    response = report_form(client, client_id=client_id, address="善国盛景小区东门",
                           photos=[jpeg("a.jpg"), jpeg("b.jpg", color="blue")])
    assert response.status_code == 302
    event = Event.objects.get()
    assert event.grid == world.grid_a1 and event.state == State.REPORTED
    assert event.photos.filter(stage=Photo.Stage.REPORT).count() == 2
    body = text(client.get(response["Location"]))
    assert f"已上报,事件编号 {event.serial}。" in body and "善国盛景小区东门" in body
    # Sending the same form again (a double tap) makes no second event.
    report_form(client, client_id=client_id, photos=[jpeg()])
    assert Event.objects.count() == 1


def test_report_page_self_resolves(world):
    client = world.client("worker_a1")
    response = report_form(client, self_resolve="on", result="当场清理",
                           result_photos=[jpeg("done.jpg", color="green")])
    assert response.status_code == 302
    event = Event.objects.get()
    assert event.state == State.CLOSED and event.self_resolved and event.result == "当场清理"
    assert event.photos.filter(stage=Photo.Stage.RESULT).count() == 1
    assert "已上报并自行处置结案" in text(client.get(response["Location"]))


@pytest.mark.parametrize(("fields", "message"), [
    ({"lat": "", "lon": ""}, "请在地图上标出事件位置。"),
    ({"lat": OUTSIDE[0], "lon": OUTSIDE[1]}, "该位置不在任何网格内"),
    ({"lat": IN_B1[0], "lon": IN_B1[1]}, "不在您的辖区内"),
    ({"category": ""}, "事件分类不存在或已停用"),
    ({"description": " "}, "请描述问题。"),
    ({"self_resolve": "on", "result": ""}, "自行处置请填写处置结果。"),
    ({"contact_phone": "12"}, "手机号"),
])
def test_report_page_errors_are_shown_and_nothing_is_saved(world, fields, message):
    response = report_form(world.client("worker_a1"), **fields)
    assert response.status_code == 422
    assert message in text(response)
    assert Event.objects.count() == 0


def test_report_page_refuses_a_file_that_is_not_an_image(world):
    fake = io.BytesIO(b"not an image")
    fake.name = "x.jpg"
    response = report_form(world.client("worker_a1"), photos=[fake])
    assert response.status_code == 422 and Event.objects.count() == 0
    assert "已选择的照片需要重新选择" in text(response)


def test_report_duplicates_fragment(world, report, category):
    existing = report("worker_a1")
    client = world.client("worker_a1")
    url = reverse("events:report_duplicates")
    body = text(client.get(url, {"category": "0102", "lat": NEAR_A1[0], "lon": NEAR_A1[1]}))
    assert existing.serial in body and "附近已有同类在办事件" in body
    body = text(client.get(url, {"category": "1102", "lat": NEAR_A1[0], "lon": NEAR_A1[1]}))
    assert existing.serial not in body and "附近没有同类在办事件" in body
    assert existing.serial not in text(world.client("worker_b1").get(
        url, {"category": "0102", "lat": NEAR_A1[0], "lon": NEAR_A1[1]}))


def test_report_page_needs_the_report_permission(world):
    assert world.client("handler").get(reverse("events:report")).status_code == 404
    assert world.client("leader_a").get(reverse("events:report")).status_code == 404


# ---------------------------------------------------------------------------------------------
# Deadlines and the situation map


def test_overdue_event_is_red_in_the_queue_and_on_the_page(world, report):
    start = dt.datetime(2026, 11, 25, 9, 0, tzinfo=TZ)
    with clock.frozen(start):
        event = report("worker_a1")
        d = world.user("dispatcher_a")
        s.event_accept(event=event, actor=d)
        s.event_dispatch(event=event, actor=d, department=world.department)
    client = world.client("dispatcher_a")
    with clock.frozen(start + dt.timedelta(hours=1)):
        body = text(client.get(page(event)))
        assert 'deadline deadline--green deadline--big" id="event-remaining">剩余 3 小时' in body
    with clock.frozen(start + dt.timedelta(days=1)):
        assert tab_counts(client.get(queue_url()))["overdue"] == 1
        body = text(client.get(queue_url("overdue")))
        assert event.serial in body
        # 14:30 deadline, now 09:00 the next working day: 3 working hours late
        assert 'deadline deadline--red">超期 3 小时' in body
        body = text(client.get(page(event)))
        assert 'deadline--red deadline--big" id="event-remaining">超期' in body
        data = client.get(reverse("events:map_data")).json()
        assert [(row["serial"], row["colour"]) for row in data["events"]] == [
            (event.serial, "red")]


def test_deadline_in_an_unknown_year_says_it_is_estimated(world, report):
    start = dt.datetime(2027, 3, 2, 9, 0, tzinfo=TZ)
    with clock.frozen(start):
        event = report("worker_a1", category=Category.objects.get(code="0101"))
        d = world.user("dispatcher_a")
        s.event_accept(event=event, actor=d)
        s.event_dispatch(event=event, actor=d, department=world.department)
        body = text(world.client("dispatcher_a").get(page(event)))
    assert 'id="deadline-estimated"' in body and "按周一至周五计算" in body


def test_map_data_is_scoped_and_the_map_page_draws_it(world, report):
    mine = report("worker_a1")
    other = report("worker_b1", where=IN_B1)
    closed = report("worker_a1", self_resolve=True, result="已处理")
    data = world.client("dispatcher_a").get(reverse("events:map_data")).json()
    serials = [row["serial"] for row in data["events"]]
    assert serials == [mine.serial] and other.serial not in serials and closed.serial not in serials
    assert data["events"][0]["url"] == page(mine)
    assert any(item["label"] == "超期" for item in data["legend"])
    body = text(world.client("dispatcher_a").get(reverse("dashboard:map")))
    assert 'id="event-layer"' in body and reverse("events:map_data") in body
    assert world.client("resident").get(reverse("events:map_data")).status_code == 404


def test_photo_on_the_page_is_the_stored_image(world, report):
    event = report("worker_a1", photos=[jpeg(size=(40, 30))])
    photo = event.photos.get()
    body = text(world.client("dispatcher_a").get(page(event)))
    assert photo.url in body and 'width="40" height="30"' in body


def test_supervision_names_the_unit_handling_the_event(world, report):
    event = report("worker_a1", urgent=True)
    d = world.user("dispatcher_a")
    s.event_accept(event=event, actor=d)
    s.event_dispatch(event=event, actor=d, department=world.department)
    leader = world.client("leader_a")
    assert post_op(leader, event, "supervise", level=2, note="抓紧办理").status_code == 302
    body = text(leader.get(page(event)))
    assert "黄牌督办" in body and "时任主办:北辛街道城管中队" in body
    assert "紧急" in body
