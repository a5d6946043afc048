"""Field work of grid workers: 民情日记 (diary), 入户走访 (household visits) and 巡查 (patrols).

Every record made on a phone carries the phone's `client_id`: a record sent twice (offline
retries) is stored once. Records are scoped by their grid, like everything else.
"""

from __future__ import annotations

import uuid

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from gezhi.core.models import StoredPhoto


def photo_path(instance, filename: str) -> str:
    now = timezone.now()
    return f"fieldwork/{now:%Y/%m}/{uuid.uuid4().hex}.jpg"


class DiaryEntry(models.Model):
    """民情日记: what a grid worker saw and heard on a day, at a place; may become an event."""

    scope_path = "grid__path"

    client_id = models.UUIDField(_("客户端编号"), null=True, blank=True, unique=True)
    author = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT,
                               related_name="diary_entries", verbose_name=_("记录人"))
    grid = models.ForeignKey("regions.Region", on_delete=models.PROTECT, related_name="+",
                             verbose_name=_("所属网格"))
    date = models.DateField(_("日期"))
    place = models.CharField(_("地点"), max_length=200, blank=True, default="")
    lat = models.FloatField(_("纬度"), null=True, blank=True)
    lon = models.FloatField(_("经度"), null=True, blank=True)
    house = models.ForeignKey("places.House", null=True, blank=True, on_delete=models.SET_NULL,
                              related_name="diary_entries", verbose_name=_("房屋"))
    text = models.TextField(_("所见所闻"))
    event = models.ForeignKey("events.Event", null=True, blank=True, on_delete=models.SET_NULL,
                              related_name="diary_entries", verbose_name=_("转成的事件"))
    created_at = models.DateTimeField(_("创建时间"), default=timezone.now)

    class Meta:
        verbose_name = _("民情日记")
        verbose_name_plural = _("民情日记")
        ordering = ["-date", "-id"]
        indexes = [models.Index(fields=["author", "date"]), models.Index(fields=["grid", "date"])]

    def __str__(self) -> str:
        return f"{self.date} {self.place or self.text[:20]}"


class VisitOutcome(models.TextChoices):
    MET = "met", _("见到住户")
    NOBODY = "nobody", _("无人在家")
    REFUSED = "refused", _("拒绝入户")


class Visit(models.Model):
    """入户走访: a visit to a household (house), the people met, needs found, follow-ups."""

    scope_path = "grid__path"

    client_id = models.UUIDField(_("客户端编号"), null=True, blank=True, unique=True)
    house = models.ForeignKey("places.House", on_delete=models.PROTECT, related_name="visits",
                              verbose_name=_("房屋"))
    grid = models.ForeignKey("regions.Region", on_delete=models.PROTECT, related_name="+",
                             verbose_name=_("所属网格"))  # the house's grid when visited
    visitor = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT,
                                related_name="visits", verbose_name=_("走访人"))
    visited_at = models.DateTimeField(_("走访时间"))
    outcome = models.CharField(_("走访结果"), max_length=10, choices=VisitOutcome.choices,
                               default=VisitOutcome.MET)
    people_met = models.ManyToManyField("people.Person", blank=True, related_name="visits",
                                        verbose_name=_("见到的人"))
    needs = models.TextField(_("发现的需求"), blank=True, default="")
    follow_ups = models.TextField(_("跟进事项"), blank=True, default="")
    note = models.TextField(_("备注"), blank=True, default="")
    next_visit_on = models.DateField(_("下次走访日期"), null=True, blank=True)
    lat = models.FloatField(_("纬度"), null=True, blank=True)
    lon = models.FloatField(_("经度"), null=True, blank=True)
    event = models.ForeignKey("events.Event", null=True, blank=True, on_delete=models.SET_NULL,
                              related_name="visits", verbose_name=_("转成的事件"))
    created_at = models.DateTimeField(_("创建时间"), default=timezone.now)

    class Meta:
        verbose_name = _("入户走访")
        verbose_name_plural = _("入户走访")
        ordering = ["-visited_at", "-id"]
        indexes = [models.Index(fields=["house", "visited_at"]),
                   models.Index(fields=["grid", "visited_at"])]

    def __str__(self) -> str:
        return f"{self.house} {self.visited_at:%Y-%m-%d}"


class VisitRule(models.Model):
    """Households where someone carries this tag are visited at least every `interval_days`
    (e.g. 独居老人 weekly). The shortest interval of a household's tags applies."""

    tag = models.OneToOneField("people.Tag", on_delete=models.CASCADE, related_name="visit_rule",
                               verbose_name=_("人员标签"))
    interval_days = models.PositiveSmallIntegerField(_("走访周期(天)"))

    class Meta:
        verbose_name = _("走访周期")
        verbose_name_plural = _("走访周期")
        ordering = ["interval_days", "tag__sort_order"]

    def __str__(self) -> str:
        return f"{self.tag} · {self.interval_days}"


class FieldPhoto(StoredPhoto):
    """A photo of a diary entry or a visit, cleaned like event photos (re-encoded JPEG, EXIF
    orientation applied, GPS kept as columns, other metadata dropped)."""

    diary = models.ForeignKey(DiaryEntry, null=True, blank=True, on_delete=models.CASCADE,
                              related_name="photos")
    visit = models.ForeignKey(Visit, null=True, blank=True, on_delete=models.CASCADE,
                              related_name="photos")
    image = models.ImageField(upload_to=photo_path, width_field="width", height_field="height")

    class Meta(StoredPhoto.Meta):
        verbose_name = _("走访/日记照片")
        verbose_name_plural = _("走访/日记照片")
        constraints = [models.CheckConstraint(
            condition=models.Q(diary__isnull=False, visit__isnull=True)
            | models.Q(diary__isnull=True, visit__isnull=False), name="field_photo_one_owner")]

    def __str__(self) -> str:
        return f"diary {self.diary_id}" if self.diary_id else f"visit {self.visit_id}"


class Patrol(models.Model):
    """巡查: a grid worker's patrol, started and stopped on the phone, with its route.

    `track` is a list of [lat, lon, "ISO time"] in time order; points arrive in batches
    (possibly late and twice, after being offline) and are merged by time."""

    scope_path = "grid__path"

    client_id = models.UUIDField(_("客户端编号"), unique=True)
    worker = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT,
                               related_name="patrols", verbose_name=_("巡查人"))
    grid = models.ForeignKey("regions.Region", on_delete=models.PROTECT, related_name="+",
                             verbose_name=_("所属网格"))
    started_at = models.DateTimeField(_("开始时间"))
    ended_at = models.DateTimeField(_("结束时间"), null=True, blank=True)
    track = models.JSONField(_("轨迹"), default=list, blank=True)
    distance_m = models.PositiveIntegerField(_("里程(米)"), default=0)
    note = models.TextField(_("巡查情况"), blank=True, default="")

    class Meta:
        verbose_name = _("巡查")
        verbose_name_plural = _("巡查")
        ordering = ["-started_at", "-id"]
        indexes = [models.Index(fields=["worker", "started_at"]),
                   models.Index(fields=["grid", "started_at"])]

    def __str__(self) -> str:
        return f"{self.worker} {self.started_at:%Y-%m-%d %H:%M}"
