"""The resident portal's own records: resident accounts (phone login), login codes, and the
follow tickets of anonymous reports.

A phone number is stored only as ciphertext + blind index + masked form (DESIGN.md, 个人信息
保护法); a login code and a follow token only as keyed hashes.
"""

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from gezhi.core.personal import sensitive_fields


class ResidentAccount(models.Model):
    """A resident who signs in with their mobile number (no username or password)."""

    user = models.OneToOneField(settings.AUTH_USER_MODEL, on_delete=models.CASCADE,
                                related_name="resident_account", verbose_name=_("用户"))
    phone_ct, phone_bidx, phone_mask = sensitive_fields(_("手机号"), index=False)
    # Where the resident lives, as they typed it: 我的网格员 on "我的反映" is looked up by it.
    home_address = models.CharField(_("常住地址"), max_length=100, blank=True, default="")
    created_at = models.DateTimeField(_("注册时间"), default=timezone.now)

    class Meta:
        verbose_name = _("居民账号")
        verbose_name_plural = _("居民账号")
        constraints = [models.UniqueConstraint(fields=["phone_bidx"],
                                               name="unique_resident_phone")]

    def __str__(self) -> str:
        return self.phone_mask


class PhoneCode(models.Model):
    """A login code sent to a phone (短信验证码). Only a keyed hash of the code is kept; the
    phone is known by its blind index alone."""

    phone_bidx = models.CharField(max_length=40, editable=False)
    code_hash = models.CharField(max_length=64, editable=False)
    ip_address = models.GenericIPAddressField(null=True, blank=True, editable=False)
    created_at = models.DateTimeField(default=timezone.now)
    expires_at = models.DateTimeField()
    attempts = models.PositiveSmallIntegerField(default=0)
    used_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("登录验证码")
        verbose_name_plural = _("登录验证码")
        indexes = [models.Index(fields=["phone_bidx", "created_at"]),
                   models.Index(fields=["ip_address", "created_at"])]

    def __str__(self) -> str:
        return f"{self.phone_bidx[:8]}… {self.created_at:%Y-%m-%d %H:%M}"


class ReportTicket(models.Model):
    """The follow link of an anonymous report (随手拍 without logging in): whoever holds the
    token may read the report's progress. Only the token's hash is stored."""

    event = models.OneToOneField("events.Event", on_delete=models.CASCADE,
                                 related_name="portal_ticket", verbose_name=_("事件"))
    token_hash = models.CharField(max_length=64, unique=True, editable=False)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name = _("匿名反映查询凭证")
        verbose_name_plural = _("匿名反映查询凭证")

    def __str__(self) -> str:
        return str(self.event_id)
