"""Who hears about what in the closed loop: the unit when dispatched, the grid worker when
handled, the reporter when closed or rejected (by SMS when anonymous), the reporters of merged
duplicates, the unit when supervised, the deciders of an extension, the dispatchers above."""

import pytest

from gezhi.core.errors import ValidationFailed
from gezhi.events import services as s
from gezhi.events.tests.conftest import jpeg
from gezhi.notify.models import Channel, Message, Status


def messages(kind: str) -> list[Message]:
    return list(Message.objects.filter(kind=kind).select_related("user").order_by("id"))


def recipients(kind: str) -> set[str]:
    return {m.user.username if m.user else m.phone_mask for m in messages(kind)}


@pytest.fixture
def loop(world, django_capture_on_commit_callbacks):
    """Operations committed one by one, as on the site (messages go out after each commit)."""

    def run(operation, **kwargs):
        with django_capture_on_commit_callbacks(execute=True):
            return operation(**kwargs)

    return run


def to_handling(world, loop, event):
    d = world.user("dispatcher_a")
    loop(s.event_accept, event=event, actor=d)
    loop(s.event_dispatch, event=event, actor=d, department=world.department)
    return loop(s.event_claim, event=event, actor=world.user("handler"))


def closed(world, loop, event):
    handler, d = world.user("handler"), world.user("dispatcher_a")
    to_handling(world, loop, event)
    loop(s.event_handle, event=event, actor=handler, note="已清运完毕", photos=[jpeg()])
    loop(s.event_verify, event=event, actor=world.user("worker_a1"))
    return loop(s.event_close, event=event, actor=d)


def test_dispatch_notifies_the_handling_unit(world, report, loop, sent):
    event = report("worker_a1", address="文化路 12 号")
    to_handling(world, loop, event)
    [message] = messages("dispatched")
    assert message.user == world.user("handler") and message.channel == Channel.INBOX
    assert message.event_id == event.pk and message.status == Status.SENT
    assert event.serial in message.text and "暴露垃圾" in message.text
    assert "文化路 12 号" in message.text and "前处置" in message.text
    assert sent == [(Channel.INBOX, world.user("handler"), message.text)]


def test_handle_notifies_the_grid_worker_to_verify(world, report, loop, sent):
    event = report("resident", source="resident")
    to_handling(world, loop, event)
    loop(s.event_handle, event=event, actor=world.user("handler"), note="已清运")
    assert recipients("handled") == {"worker_a1"}
    assert "请核查" in messages("handled")[0].text


def test_close_notifies_the_resident_who_reported(world, report, loop, sent):
    event = report("resident", source="resident")
    closed(world, loop, event)
    [message] = messages("closed")
    assert message.user == world.user("resident")
    assert event.serial in message.text and "已清运完毕" in message.text
    assert "欢迎评价" in message.text


def test_merge_then_close_tells_the_duplicates_reporter(world, report, loop, sent):
    master = report("worker_a1")
    duplicate = report("resident", source="resident")
    d = world.user("dispatcher_a")
    loop(s.event_merge, event=duplicate, actor=d, master=master)
    [merged] = messages("merged")
    assert merged.user == world.user("resident") and master.serial in merged.text
    closed(world, loop, master)
    [outcome] = messages("merged_outcome")
    assert outcome.user == world.user("resident")
    assert duplicate.serial in outcome.text and master.serial in outcome.text
    assert "办理状态:已结案" in outcome.text
    assert recipients("closed") == {"worker_a1"}  # the master's own reporter


def test_an_anonymous_reporter_gets_an_sms_with_a_masked_phone(world, report, loop, sent,
                                                               settings):
    settings.GEZHI_NOTIFY_SENDER = {"sms": "gezhi.notify.tests.senders.RecordingSms",
                                    "default": "gezhi.notify.tests.senders.RecordingSender"}
    event = report(None, contact_phone="13800001234", contact_name="王先生")
    closed(world, loop, event)
    [message] = messages("closed")
    assert message.channel == Channel.SMS and message.user is None
    assert message.phone_mask == "138****1234" and message.name == "王先生"
    assert "13800001234" not in message.phone_ct
    assert ("sms", "13800001234", message.text) in sent


def test_reject_notifies_the_reporter_with_the_reason(world, report, loop, sent):
    event = report("resident", source="resident")
    loop(s.event_reject, event=event, actor=world.user("dispatcher_a"), note="不属于受理范围")
    [message] = messages("rejected")
    assert message.user == world.user("resident") and "不属于受理范围" in message.text


def test_supervision_notifies_the_unit(world, report, loop, sent):
    event = report("worker_a1")
    to_handling(world, loop, event)
    loop(s.event_supervise, event=event, actor=world.user("leader_a"), level=2,
         note="三天内办结")
    [message] = messages("supervised")
    assert message.user == world.user("handler")
    assert "黄牌督办" in message.text and "三天内办结" in message.text


def test_extension_request_and_decision(world, report, loop, sent):
    event = report("worker_a1")
    to_handling(world, loop, event)
    loop(s.event_extend_request, event=event, actor=world.user("handler"), days=2,
         note="需协调产权单位")
    assert recipients("extension_requested") == {"leader_a", "chief_a1"}
    assert "2 个工作日" in messages("extension_requested")[0].text
    loop(s.event_extend_decide, event=event, actor=world.user("leader_a"), approve=False,
         note="请按期办结")
    [decided] = messages("extension_decided")
    assert decided.user == world.user("handler") and "未获批准" in decided.text


def test_escalation_notifies_the_dispatchers_above(world, report, loop, sent):
    event = report("worker_a1")
    chief = world.user("chief_a1")
    loop(s.event_accept, event=event, actor=chief)
    loop(s.event_escalate, event=event, actor=chief, note="社区无法协调")
    assert recipients("escalated") == {"dispatcher_a"}
    assert "社区无法协调" in messages("escalated")[0].text


def test_a_refused_operation_sends_nothing(world, report, loop, sent):
    event = report("resident", source="resident")
    with pytest.raises(s.InvalidState):
        loop(s.event_close, event=event, actor=world.user("dispatcher_a"))
    with pytest.raises(ValidationFailed):
        loop(s.event_reject, event=event, actor=world.user("dispatcher_a"), note="")
    assert not Message.objects.exists() and sent == []
