"""Writing to the outbox and sending from it."""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Iterable

from django.db import transaction
from django.utils import timezone

from gezhi.core.personal import set_sensitive
from gezhi.core.validators import mask_phone
from gezhi.notify.models import Channel, Message, Status
from gezhi.notify.senders import sender

log = logging.getLogger("gezhi.notify")
MAX_ATTEMPTS = 8


def message_enqueue(*, text: str, users: Iterable = (), phone: str = "", name: str = "",
                    kind: str = "", event=None, channel: str = Channel.INBOX) -> list[Message]:
    """Queue a message to each user (and to a bare phone number, e.g. an anonymous reporter)
    in the caller's transaction; sending starts after it commits."""
    messages = []
    seen = set()
    for user in users:
        if user is None or user.pk in seen:
            continue
        seen.add(user.pk)
        messages.append(Message(user=user, name=user.name, channel=channel, kind=kind,
                                text=text, event=event))
    if phone:
        m = Message(name=name, channel=Channel.SMS, kind=kind, text=text, event=event)
        set_sensitive(m, "phone", phone, mask=mask_phone)
        messages.append(m)
    if not messages:
        return []
    Message.objects.bulk_create(messages)
    ids = [m.pk for m in messages if m.pk]
    transaction.on_commit(lambda: messages_send(ids=ids))
    return messages


def _backoff(attempts: int) -> dt.timedelta:
    return dt.timedelta(minutes=min(2 ** attempts, 24 * 60))


def messages_send(*, ids: list[int] | None = None, limit: int = 500) -> dict:
    """Send pending messages that are due (or the given ones). A failure is recorded and tried
    again later with back-off; after MAX_ATTEMPTS the message is marked failed."""
    now = timezone.now()
    qs = Message.objects.filter(status=Status.PENDING, next_attempt_at__lte=now)
    if ids is not None:
        qs = Message.objects.filter(pk__in=ids, status=Status.PENDING)
    backend = sender()
    counts = {"sent": 0, "retry": 0, "failed": 0}
    for message in qs.select_related("user").order_by("id")[:limit]:
        try:
            backend.send(message)
        except Exception as exc:  # noqa: BLE001 - any sender failure is retried, never lost
            message.attempts += 1
            message.last_error = f"{type(exc).__name__}: {exc}"[:1000]
            if message.attempts >= MAX_ATTEMPTS:
                message.status = Status.FAILED
                counts["failed"] += 1
            else:
                message.next_attempt_at = timezone.now() + _backoff(message.attempts)
                counts["retry"] += 1
            log.warning("notify: message %s failed (%s)", message.pk, message.last_error)
            Message.objects.filter(pk=message.pk).update(
                attempts=message.attempts, last_error=message.last_error,
                status=message.status, next_attempt_at=message.next_attempt_at)
            continue
        Message.objects.filter(pk=message.pk).update(status=Status.SENT, sent_at=timezone.now(),
                                                     attempts=message.attempts + 1)
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
    return qs.update(read_at=timezone.now())
