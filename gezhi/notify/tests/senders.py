"""Senders for tests, named in settings.GEZHI_NOTIFY_SENDER by their dotted path."""

from gezhi.notify.senders import SmsSender

sent: list = []  # (channel, recipient, text) of every delivery, in order


class RecordingSender:
    def send(self, message) -> None:
        sent.append((message.channel, message.user or message.phone_mask, message.text))


class FailingSender:
    def send(self, message) -> None:
        raise ConnectionError("gateway timeout")


class RecordingSms(SmsSender):
    """The SMS extension point: the phone number is decrypted only here."""

    def deliver(self, phone: str, text: str) -> None:
        sent.append(("sms", phone, text))
