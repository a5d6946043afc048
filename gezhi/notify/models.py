"""The outbox (消息发件箱): every message the platform sends, written in the same transaction as
the change it reports and sent after commit by a pluggable sender, retried on failure."""

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from gezhi.core.personal import sensitive_fields


class Channel(models.TextChoices):
    INBOX = "inbox", _("站内消息")
    SMS = "sms", _("短信")
    WECHAT = "wechat", _("微信")


class Status(models.TextChoices):
    PENDING = "pending", _("待发送")
    SENT = "sent", _("已发送")
    FAILED = "failed", _("发送失败")


class Message(models.Model):
    user = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True,
                             on_delete=models.CASCADE, related_name="messages",
                             verbose_name=_("收件人"))
    name = models.CharField(_("收件人"), max_length=100, blank=True, default="")
    phone_ct, phone_bidx, phone_mask = sensitive_fields(_("手机号"))
    channel = models.CharField(_("渠道"), max_length=10, choices=Channel.choices,
                               default=Channel.INBOX)
    kind = models.CharField(_("类型"), max_length=32, blank=True, default="")
    text = models.TextField(_("内容"))
    event = models.ForeignKey("events.Event", null=True, blank=True, on_delete=models.CASCADE,
                              related_name="messages", verbose_name=_("事件"))
    status = models.CharField(_("状态"), max_length=10, choices=Status.choices,
                              default=Status.PENDING)
    attempts = models.PositiveSmallIntegerField(_("尝试次数"), default=0)
    next_attempt_at = models.DateTimeField(default=timezone.now)
    last_error = models.TextField(blank=True, default="")
    created_at = models.DateTimeField(_("创建时间"), default=timezone.now)
    sent_at = models.DateTimeField(_("发送时间"), null=True, blank=True)
    read_at = models.DateTimeField(_("阅读时间"), null=True, blank=True)

    class Meta:
        verbose_name = _("消息")
        verbose_name_plural = _("消息")
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["status", "next_attempt_at"]),
                   models.Index(fields=["user", "read_at"])]

    def __str__(self) -> str:
        return f"{self.name or self.phone_mask}: {self.text[:30]}"
