"""Senders deliver outbox messages. settings.GEZHI_NOTIFY_SENDER names the class (dotted path),
or one class per channel: {"sms": "myproject.sms.GatewaySender", "default": "…LogSender"}
(a channel not named uses "default", else LogSender).

The default `LogSender` writes each message to the log (and in-app messages are read on the
site anyway). Extension points: an SMS gateway or a WeChat template-message sender is a class
with `send(message) -> None` that raises on failure; the outbox retries with back-off.
"""

from __future__ import annotations

import logging

from django.conf import settings
from django.utils.module_loading import import_string

log = logging.getLogger("gezhi.notify")


class LogSender:
    def send(self, message) -> None:
        to = message.name or message.phone_mask or (message.user and message.user.username) or "-"
        log.info("notify [%s] to %s: %s", message.channel, to, message.text)


class SmsSender:
    """Extension point: subclass and implement `deliver(phone, text)` for your SMS gateway
    (e.g. a provincial government SMS platform). The phone is decrypted only here."""

    def send(self, message) -> None:
        from gezhi.core.personal import get_sensitive

        phone = get_sensitive(message, "phone") if message.phone_ct else ""
        if not phone:
            raise ValueError("no phone number")
        self.deliver(phone, message.text)

    def deliver(self, phone: str, text: str) -> None:
        raise NotImplementedError("configure an SMS gateway sender")


class WeChatSender:
    """Extension point: subclass and implement `deliver(user, text)` with WeChat template
    messages (the user's openid comes from your WeChat login integration)."""

    def send(self, message) -> None:
        self.deliver(message.user, message.text)

    def deliver(self, user, text: str) -> None:
        raise NotImplementedError("configure a WeChat sender")


DEFAULT = "gezhi.notify.senders.LogSender"


def sender(channel: str = ""):
    config = getattr(settings, "GEZHI_NOTIFY_SENDER", "") or DEFAULT
    if isinstance(config, dict):
        config = config.get(channel) or config.get("default") or DEFAULT
    return import_string(config)()
