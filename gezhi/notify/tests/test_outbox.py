"""The outbox: written with the operation, sent after it commits, retried with back-off, and a
phone number kept only encrypted and masked."""

import datetime as dt

import pytest
from django.core.management import call_command
from django.db import transaction

from gezhi.core import clock
from gezhi.events import services as s
from gezhi.notify.models import Channel, Message, Status
from gezhi.notify.services import (
    LEASE,
    MAX_ATTEMPTS,
    inbox,
    inbox_mark_read,
    message_enqueue,
    messages_send,
)

NOW = dt.datetime(2026, 11, 25, 10, 0, tzinfo=dt.timezone(dt.timedelta(hours=8)))


class Boom(Exception):
    pass


def dispatched(world, report):
    event = report("worker_a1")
    dispatcher = world.user("dispatcher_a")
    s.event_accept(event=event, actor=dispatcher)
    return event, dispatcher


def test_a_message_is_written_with_the_operation_and_dropped_with_its_rollback(
        world, report, sent, django_capture_on_commit_callbacks):
    event, dispatcher = dispatched(world, report)
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        with pytest.raises(Boom), transaction.atomic():
            s.event_dispatch(event=event, actor=dispatcher, department=world.department)
            # inside the operation's transaction, the message is already there …
            assert Message.objects.filter(kind="dispatched", event=event).exists()
            raise Boom  # … and whatever fails after it takes it away again
    assert callbacks == []
    assert not Message.objects.filter(kind="dispatched").exists()
    assert sent == []
    event.refresh_from_db()
    assert event.state == "accepted"


def test_a_message_is_sent_only_after_commit(world, report, sent,
                                             django_capture_on_commit_callbacks):
    event, dispatcher = dispatched(world, report)
    handler = world.user("handler")
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        s.event_dispatch(event=event, actor=dispatcher, department=world.department)
    message = Message.objects.get(kind="dispatched")
    assert message.status == Status.PENDING and sent == []  # not before the commit
    for callback in callbacks:
        callback()  # the commit
    assert sent == [(Channel.INBOX, handler, message.text)]
    message.refresh_from_db()
    assert message.status == Status.SENT and message.attempts == 1 and message.sent_at
    assert messages_send() == {"sent": 0, "retry": 0, "failed": 0}  # never twice
    assert len(sent) == 1


def test_a_failing_sender_leaves_the_message_pending_and_the_timer_retries(
        world, sent, settings, django_capture_on_commit_callbacks, capsys):
    settings.GEZHI_NOTIFY_SENDER = "gezhi.notify.tests.senders.FailingSender"
    with clock.frozen(NOW), django_capture_on_commit_callbacks(execute=True):
        message_enqueue(text="事件已派遣", users=[world.user("handler")], kind="dispatched")
    message = Message.objects.get()
    assert message.status == Status.PENDING and message.attempts == 1
    assert message.last_error == "ConnectionError: gateway timeout"
    assert message.next_attempt_at == NOW + dt.timedelta(minutes=2)  # back-off
    with clock.frozen(NOW + dt.timedelta(minutes=1)):
        call_command("notify")  # not due yet
    assert "已发送 0 条,待重试 0 条,失败 0 条。" in capsys.readouterr().out
    settings.GEZHI_NOTIFY_SENDER = "gezhi.notify.tests.senders.RecordingSender"
    with clock.frozen(NOW + dt.timedelta(minutes=3)):
        call_command("notify")
    assert "已发送 1 条" in capsys.readouterr().out
    message.refresh_from_db()
    assert message.status == Status.SENT and message.attempts == 2 and message.last_error == ""
    assert sent == [(Channel.INBOX, world.user("handler"), "事件已派遣")]


def test_a_message_fails_for_good_after_max_attempts(world, sent, settings):
    settings.GEZHI_NOTIFY_SENDER = "gezhi.notify.tests.senders.FailingSender"
    with clock.frozen(NOW):
        message_enqueue(text="请核查", users=[world.user("worker_a1")])
    message = Message.objects.get()
    waits = []
    at = NOW
    for _attempt in range(MAX_ATTEMPTS):
        messages_send(now=at)
        message.refresh_from_db()
        if message.status == Status.PENDING:
            waits.append(message.next_attempt_at - at)
            at = message.next_attempt_at
    assert message.status == Status.FAILED and message.attempts == MAX_ATTEMPTS
    assert waits == [dt.timedelta(minutes=2 ** n) for n in range(1, MAX_ATTEMPTS)]
    settings.GEZHI_NOTIFY_SENDER = "gezhi.notify.tests.senders.RecordingSender"
    assert messages_send(now=at + dt.timedelta(days=30))["sent"] == 0 and sent == []


def test_a_message_being_sent_is_not_picked_up_by_another_run(world, sent, settings):
    with clock.frozen(NOW):
        message_enqueue(text="请核查", users=[world.user("worker_a1")])
    message = Message.objects.get()
    # what a second run sees while the first one holds the message
    Message.objects.filter(pk=message.pk).update(next_attempt_at=NOW + LEASE)
    assert messages_send(now=NOW + dt.timedelta(minutes=1))["sent"] == 0
    # a run that died holding it: the message is sent once the hold runs out
    assert messages_send(now=NOW + LEASE)["sent"] == 1
    assert len(sent) == 1


def test_a_sender_that_cannot_be_loaded_is_retried_not_an_error_page(
        world, report, sent, settings, django_capture_on_commit_callbacks):
    settings.GEZHI_NOTIFY_SENDER = "gezhi.notify.no_such.Sender"
    event, dispatcher = dispatched(world, report)
    with django_capture_on_commit_callbacks(execute=True):
        event = s.event_dispatch(event=event, actor=dispatcher, department=world.department)
    assert event.state == "dispatched"
    message = Message.objects.get(kind="dispatched")
    assert message.status == Status.PENDING and "No module named" in message.last_error


def test_phone_messages_keep_only_ciphertext_and_mask(world, settings, sent,
                                                      django_capture_on_commit_callbacks):
    settings.GEZHI_NOTIFY_SENDER = {"sms": "gezhi.notify.tests.senders.RecordingSms",
                                    "default": "gezhi.notify.tests.senders.RecordingSender"}
    with django_capture_on_commit_callbacks(execute=True):
        message_enqueue(text="您反映的问题已办结", phone="13812345678", name="李先生",
                        users=[world.user("resident")], kind="closed")
    sms = Message.objects.get(channel=Channel.SMS)
    assert sms.user is None and sms.phone_mask == "138****5678"
    assert sms.phone_ct and sms.phone_bidx
    row = Message.objects.filter(pk=sms.pk).values().get()
    assert not [name for name, value in row.items() if "12345678" in str(value)
                and name != "phone_mask"]
    assert "13812345678" not in str(row)
    # the SMS extension point alone decrypts it; the in-app message went to the default sender
    assert ("sms", "13812345678", "您反映的问题已办结") in sent
    assert (Channel.INBOX, world.user("resident"), "您反映的问题已办结") in sent
    assert Message.objects.filter(status=Status.SENT).count() == 2


def test_inbox_lists_a_users_messages_and_marks_them_read(world, sent):
    resident, handler = world.user("resident"), world.user("handler")
    message_enqueue(text="一", users=[resident, resident, None])
    message_enqueue(text="二", users=[resident])
    message_enqueue(text="三", users=[handler])
    assert [m.text for m in inbox(user=resident)] == ["二", "一"]
    first = inbox(user=resident).get(text="一")
    assert inbox_mark_read(user=resident, ids=[first.pk]) == 1
    assert [m.text for m in inbox(user=resident, unread_only=True)] == ["二"]
    assert inbox_mark_read(user=handler, ids=[first.pk]) == 0  # not someone else's
    assert inbox_mark_read(user=resident) == 1
    assert not inbox(user=resident, unread_only=True).exists()
    assert message_enqueue(text="无人", users=[]) == []
