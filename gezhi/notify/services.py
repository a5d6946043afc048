"""Writing to the outbox and sending from it."""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Iterable

from django.db import transaction

from gezhi.core import clock
from gezhi.core.personal import set_sensitive
from gezhi.core.validators import mask_phone
from gezhi.notify.models import Channel, Message, Status
from gezhi.notify.senders import sender

log = logging.getLogger("gezhi.notify")
MAX_ATTEMPTS = 8
# A message being sent is held this long, so the timer's run and the on-commit send (or two
# workers) never deliver it twice; if the sender dies mid-way, it is tried again after this.
LEASE = dt.timedelta(minutes=5)


def message_enqueue(*, text: str, users: Iterable = (), phone: str = "", name: str = "",
                    kind: str = "", event=None, channel: str = Channel.INBOX) -> list[Message]:
    """Queue a message to each user (and to a bare phone number, e.g. an anonymous reporter)
    in the caller's transaction; sending starts after it commits."""
    messages = []
    seen = set()
    now = clock.now()
    for user in users:
        if user is None or user.pk in seen:
            continue
        seen.add(user.pk)
        messages.append(Message(user=user, name=user.name[:100], channel=channel, kind=kind,
                                text=text, event=event, created_at=now, next_attempt_at=now))
    if phone:
        m = Message(name=name[:100], channel=Channel.SMS, kind=kind, text=text, event=event,
                    created_at=now, next_attempt_at=now)
        set_sensitive(m, "phone", phone, mask=mask_phone)
        messages.append(m)
    if not messages:
        return []
    Message.objects.bulk_create(messages)
    ids = [m.pk for m in messages if m.pk]
    # robust: a sender that cannot even be loaded must not turn a committed operation into an
    # error page; the message stays pending for `gezhi notify`.
    transaction.on_commit(lambda: messages_send(ids=ids), robust=True)
    return messages


def _backoff(attempts: int) -> dt.timedelta:
    return dt.timedelta(minutes=min(2 ** attempts, 24 * 60))


def messages_send(*, ids: list[int] | None = None, limit: int = 500,
                  now: dt.datetime | None = None) -> dict:
    """Send pending messages that are due (or the given ones). A failure is recorded and tried
    again later with back-off; after MAX_ATTEMPTS the message is marked failed."""
    now = now or clock.now()
    qs = Message.objects.filter(status=Status.PENDING)
    qs = qs.filter(pk__in=ids) if ids is not None else qs.filter(next_attempt_at__lte=now)
    senders: dict = {}
    counts = {"sent": 0, "retry": 0, "failed": 0}
    for message in qs.select_related("user").order_by("id")[:limit]:
        claimed = Message.objects.filter(
            pk=message.pk, status=Status.PENDING, next_attempt_at=message.next_attempt_at,
        ).update(next_attempt_at=now + LEASE)
        if not claimed:
            continue  # another run has it
        message.attempts += 1
        try:
            if message.channel not in senders:
                senders[message.channel] = sender(message.channel)
            senders[message.channel].send(message)
        except Exception as exc:  # noqa: BLE001 - any sender failure is retried, never lost
            message.last_error = f"{type(exc).__name__}: {exc}"[:1000]
            if message.attempts >= MAX_ATTEMPTS:
                message.status = Status.FAILED
                counts["failed"] += 1
            else:
                message.next_attempt_at = now + _backoff(message.attempts)
                counts["retry"] += 1
            log.warning("notify: message %s failed (%s)", message.pk, message.last_error)
            Message.objects.filter(pk=message.pk).update(
                attempts=message.attempts, last_error=message.last_error,
                status=message.status, next_attempt_at=message.next_attempt_at)
            continue
        Message.objects.filter(pk=message.pk).update(
            status=Status.SENT, sent_at=clock.now(), attempts=message.attempts, last_error="")
        counts["sent"] += 1
    return counts


def inbox(*, user, unread_only: bool = False):
    qs = Message.objects.filter(user=user, channel=Channel.INBOX)
    if unread_only:
        qs = qs.filter(read_at__isnull=True)
    return qs


def inbox_mark_read(*, user, ids: list[int] | None = None) -> int:
    qs = Message.objects.filter(user=user, read_at__isnull=True)
    if ids is not None:
        qs = qs.filter(pk__in=ids)
    return qs.update(read_at=clock.now())
