"""The event closed loop (事件闭环): categories, events, their timeline and what hangs off them.

State changes happen only in `services.py`, one operation at a time, each writing a
`TimelineEntry` in the same transaction. Overdue is derived from the deadlines, never stored.
"""

from __future__ import annotations

import uuid

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from gezhi.core.models import StoredPhoto
from gezhi.core.personal import sensitive_fields


class CategoryGroup(models.TextChoices):
    CITY = "city", _("城市管理事件")  # GB/T 30428 event classes
    COMPONENT = "component", _("城市部件")  # GB/T 30428 component classes
    SOCIAL = "social", _("社会治理")


class LimitUnit(models.TextChoices):
    WORK_HOURS = "work_hours", _("工作小时")
    WORK_DAYS = "work_days", _("工作日")
    DAYS = "days", _("自然日")


class Category(models.Model):
    """事件分类: 大类 (parent empty) and 小类 (events use these), with their time limits."""

    code = models.CharField(_("分类编码"), max_length=16, unique=True)
    name = models.CharField(_("名称"), max_length=60)
    parent = models.ForeignKey("self", null=True, blank=True, on_delete=models.PROTECT,
                               related_name="children", verbose_name=_("大类"))
    group = models.CharField(_("分类体系"), max_length=12, choices=CategoryGroup.choices)
    default_department = models.ForeignKey(
        "accounts.Department", null=True, blank=True, on_delete=models.SET_NULL,
        related_name="+", verbose_name=_("默认处置部门"))
    urgent = models.BooleanField(_("紧急"), default=False)
    dispatch_limit_minutes = models.PositiveIntegerField(_("派遣时限(分钟)"), default=30)
    handle_limit = models.PositiveIntegerField(_("处置时限"), default=3)
    handle_limit_unit = models.CharField(_("处置时限单位"), max_length=12,
                                         choices=LimitUnit.choices, default=LimitUnit.WORK_DAYS)
    reopen_on_dissatisfied = models.BooleanField(
        _("不满意时返工"), default=False,
        help_text=_("居民评价“不满意”时自动返工,交原处置单位重新处置。"))
    active = models.BooleanField(_("启用"), default=True)
    sort_order = models.PositiveIntegerField(_("排序"), default=0)

    class Meta:
        verbose_name = _("事件分类")
        verbose_name_plural = _("事件分类")
        ordering = ["code"]

    def __str__(self) -> str:
        return f"{self.code} {self.name}"

    @property
    def is_leaf(self) -> bool:
        return self.parent_id is not None


class Source(models.TextChoices):
    PATROL = "patrol", _("网格员巡查")
    RESIDENT = "resident", _("居民随手拍")
    HOTLINE = "12345", _("12345热线")
    CITY_MANAGEMENT = "city_mgmt", _("数字城管")
    VIDEO = "video", _("视频监控")
    DEPARTMENT = "department", _("部门移交")
    VISIT = "visit", _("入户走访")
    WECHAT = "wechat", _("微信")
    API = "api", _("接口接入")


class State(models.TextChoices):
    REPORTED = "reported", _("待受理")
    ACCEPTED = "accepted", _("待派遣")
    REJECTED = "rejected", _("不予受理")
    DISPATCHED = "dispatched", _("已派遣")
    HANDLING = "handling", _("处置中")
    HANDLED = "handled", _("待核查")
    VERIFIED = "verified", _("待结案")
    CLOSED = "closed", _("已结案")
    SUSPENDED = "suspended", _("缓办")
    MERGED = "merged", _("已合并")


OPEN_STATES = (State.REPORTED, State.ACCEPTED, State.DISPATCHED, State.HANDLING, State.HANDLED,
               State.VERIFIED)
FINAL_STATES = (State.REJECTED, State.CLOSED, State.MERGED)


class Level(models.TextChoices):
    """Who dispatches the event now: 院落调、社区解、街道帮, and the district above."""

    GRID = "grid", _("网格")
    COMMUNITY = "community", _("社区")
    SUBDISTRICT = "subdistrict", _("街道")
    DISTRICT = "district", _("区县")


LEVEL_ORDER = [Level.GRID, Level.COMMUNITY, Level.SUBDISTRICT, Level.DISTRICT]


class Rating(models.TextChoices):
    SATISFIED = "satisfied", _("满意")
    BASIC = "basic", _("基本满意")
    DISSATISFIED = "dissatisfied", _("不满意")


class SupervisionLevel(models.IntegerChoices):
    NORMAL = 1, _("一般督办")
    YELLOW = 2, _("黄牌督办")
    RED = 3, _("红牌督办")


class Event(models.Model):
    """事件 / 工单."""

    scope_path = "grid__path"

    serial = models.CharField(_("事件编号"), max_length=32, unique=True)
    client_id = models.UUIDField(_("客户端编号"), null=True, blank=True, unique=True,
                                 help_text=_("离线上报时由手机生成,重复提交只记一次。"))
    source = models.CharField(_("来源"), max_length=12, choices=Source.choices)
    external_id = models.CharField(_("外部工单号"), max_length=64, blank=True, default="")
    category = models.ForeignKey(Category, on_delete=models.PROTECT, related_name="events",
                                 verbose_name=_("分类"))
    title = models.CharField(_("标题"), max_length=100, blank=True, default="")
    description = models.TextField(_("描述"))
    address = models.CharField(_("地址"), max_length=200, blank=True, default="")
    lat = models.FloatField(_("纬度"))
    lon = models.FloatField(_("经度"))
    grid = models.ForeignKey("regions.Region", on_delete=models.PROTECT, related_name="+",
                             verbose_name=_("所属网格"))
    urgent = models.BooleanField(_("紧急"), default=False)

    # Who reported it: a user (staff or resident), or anonymous with a name and contact.
    reporter = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True,
                                 on_delete=models.PROTECT, related_name="reported_events",
                                 verbose_name=_("上报人"))
    reporter_is_grid_worker = models.BooleanField(default=False, editable=False)
    contact_name = models.CharField(_("联系人"), max_length=50, blank=True, default="")
    contact_phone_ct, contact_phone_bidx, contact_phone_mask = sensitive_fields(_("联系电话"))
    api_key = models.ForeignKey("events.ApiKey", null=True, blank=True, on_delete=models.PROTECT,
                                related_name="events", verbose_name=_("接入应用"))

    person = models.ForeignKey("people.Person", null=True, blank=True, on_delete=models.SET_NULL,
                               related_name="events", verbose_name=_("关联人员"))
    house = models.ForeignKey("places.House", null=True, blank=True, on_delete=models.SET_NULL,
                              related_name="events", verbose_name=_("关联房屋"))
    organisation = models.ForeignKey("orgs.Organisation", null=True, blank=True,
                                     on_delete=models.SET_NULL, related_name="events",
                                     verbose_name=_("关联组织"))

    state = models.CharField(_("状态"), max_length=12, choices=State.choices,
                             default=State.REPORTED, db_index=True)
    resume_state = models.CharField(max_length=12, choices=State.choices, blank=True, default="",
                                    editable=False)  # where a suspended event resumes
    level = models.CharField(_("处置层级"), max_length=12, choices=Level.choices,
                             default=Level.COMMUNITY)
    # The main handling unit now: a department (incl. property companies) or a region.
    department = models.ForeignKey("accounts.Department", null=True, blank=True,
                                   on_delete=models.PROTECT, related_name="events",
                                   verbose_name=_("主办单位"))
    unit_region = models.ForeignKey("regions.Region", null=True, blank=True,
                                    on_delete=models.PROTECT, related_name="+",
                                    verbose_name=_("主办单位(辖区)"))
    master = models.ForeignKey("self", null=True, blank=True, on_delete=models.PROTECT,
                               related_name="duplicates", verbose_name=_("合并到"))
    result = models.TextField(_("处置结果"), blank=True, default="")

    reported_at = models.DateTimeField(_("上报时间"), default=timezone.now, db_index=True)
    accepted_at = models.DateTimeField(_("受理时间"), null=True, blank=True)
    dispatched_at = models.DateTimeField(_("派遣时间"), null=True, blank=True)
    handled_at = models.DateTimeField(_("处置时间"), null=True, blank=True)
    closed_at = models.DateTimeField(_("结案时间"), null=True, blank=True)
    dispatch_deadline = models.DateTimeField(_("派遣时限"), null=True, blank=True)
    handle_deadline = models.DateTimeField(_("处置时限"), null=True, blank=True)
    deadline_estimated = models.BooleanField(
        default=False, editable=False)  # computed outside the known holiday calendar
    suspended_at = models.DateTimeField(null=True, blank=True, editable=False)

    # Counters kept with every operation, for indicators (each equals a recount of the timeline).
    self_resolved = models.BooleanField(_("自行处置"), default=False)
    closed_on_time = models.BooleanField(_("按期结案"), null=True, blank=True)
    reopen_count = models.PositiveIntegerField(_("返工次数"), default=0)
    return_count = models.PositiveIntegerField(_("退回次数"), default=0)
    escalation_count = models.PositiveIntegerField(_("上报次数"), default=0)
    extension_count = models.PositiveIntegerField(_("延期次数"), default=0)
    supervision_level = models.PositiveSmallIntegerField(
        _("督办"), choices=SupervisionLevel.choices, null=True, blank=True)
    rating = models.CharField(_("评价"), max_length=12, choices=Rating.choices, blank=True,
                              default="")
    rated_at = models.DateTimeField(_("评价时间"), null=True, blank=True)

    version = models.PositiveIntegerField(default=1, editable=False)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("事件")
        verbose_name_plural = _("事件")
        ordering = ["-reported_at", "-id"]
        indexes = [
            models.Index(fields=["state", "reported_at"]),
            models.Index(fields=["category", "state"]),
            models.Index(fields=["department", "state"]),
            models.Index(fields=["source", "external_id"]),
        ]

    def __str__(self) -> str:
        return f"{self.serial} {self.category.name if self.category_id else ''}"

    @staticmethod
    def scope_department_q(department_ids) -> models.Q:
        """A department sees the events it was ever sent, as main or assisting unit."""
        return models.Q(pk__in=Assignment.objects.filter(department_id__in=department_ids)
                        .values("event_id"))

    @property
    def is_open(self) -> bool:
        return self.state in OPEN_STATES

    @property
    def unit_label(self) -> str:
        if self.department_id:
            return self.department.name
        if self.unit_region_id:
            return self.unit_region.name
        return ""


class Assignment(models.Model):
    """派遣记录: one unit's part in an event (main or assisting), kept after it ends so the
    unit can still see what it handled."""

    class Role(models.TextChoices):
        MAIN = "main", _("主办")
        ASSIST = "assist", _("协办")

    class Outcome(models.TextChoices):
        ACTIVE = "", _("进行中")
        HANDLED = "handled", _("已处置")
        RETURNED = "returned", _("已退回")
        REPLACED = "replaced", _("已改派")

    event = models.ForeignKey(Event, on_delete=models.CASCADE, related_name="assignments")
    department = models.ForeignKey("accounts.Department", null=True, blank=True,
                                   on_delete=models.PROTECT, related_name="event_assignments")
    region = models.ForeignKey("regions.Region", null=True, blank=True, on_delete=models.PROTECT,
                               related_name="+")
    role = models.CharField(max_length=8, choices=Role.choices, default=Role.MAIN)
    outcome = models.CharField(max_length=10, choices=Outcome.choices, blank=True, default="")
    created_at = models.DateTimeField(default=timezone.now)
    ended_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("派遣记录")
        verbose_name_plural = _("派遣记录")
        indexes = [models.Index(fields=["department", "event"])]
        constraints = [
            models.CheckConstraint(
                condition=(models.Q(department__isnull=False, region__isnull=True)
                           | models.Q(department__isnull=True, region__isnull=False)),
                name="assignment_one_unit"),
        ]

    def __str__(self) -> str:
        return f"{self.event_id} {self.get_role_display()}"

    @property
    def unit_label(self) -> str:
        return self.department.name if self.department_id else self.region.name


class Op(models.TextChoices):
    """Operations on an event; each writes one timeline entry."""

    REPORT = "report", _("上报")
    SELF_RESOLVE = "self_resolve", _("自行处置")
    ACCEPT = "accept", _("受理")
    REJECT = "reject", _("不予受理")
    DISPATCH = "dispatch", _("派遣")
    CLAIM = "claim", _("签收")
    HANDLE = "handle", _("处置反馈")
    VERIFY = "verify", _("核查通过")
    VERIFY_FAIL = "verify_fail", _("核查不通过")
    CLOSE = "close", _("结案")
    REOPEN = "reopen", _("返工")
    RETURN = "return", _("退回")
    ESCALATE = "escalate", _("上报上级")
    EXTEND_REQUEST = "extend_request", _("申请延期")
    EXTEND_DECIDE = "extend_decide", _("延期审批")
    SUSPEND = "suspend", _("缓办")
    RESUME = "resume", _("恢复办理")
    SUPERVISE = "supervise", _("督办")
    MERGE = "merge", _("合并")
    RATE = "rate", _("评价")
    COMMENT = "comment", _("留言")


class TimelineEntry(models.Model):
    """One operation on an event: who, when, from which state to which, with what. Written in
    the same transaction as the change it records; never updated or deleted."""

    event = models.ForeignKey(Event, on_delete=models.CASCADE, related_name="timeline")
    op = models.CharField(_("操作"), max_length=16, choices=Op.choices)
    actor = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True,
                              on_delete=models.PROTECT, related_name="+", verbose_name=_("操作人"))
    actor_name = models.CharField(_("操作人"), max_length=100, blank=True, default="")
    from_state = models.CharField(max_length=12, choices=State.choices, blank=True, default="")
    to_state = models.CharField(max_length=12, choices=State.choices, blank=True, default="")
    note = models.TextField(_("说明"), blank=True, default="")
    data = models.JSONField(default=dict, blank=True)
    created_at = models.DateTimeField(_("时间"), default=timezone.now)

    class Meta:
        verbose_name = _("事件流转记录")
        verbose_name_plural = _("事件流转记录")
        ordering = ["created_at", "id"]
        indexes = [models.Index(fields=["event", "id"])]

    def __str__(self) -> str:
        return f"{self.event_id} {self.get_op_display()}"

    def save(self, *args, **kwargs):
        if self.pk is not None:
            raise ValueError("timeline entries are never changed")
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise ValueError("timeline entries are never deleted")


def photo_path(instance, filename: str) -> str:
    now = timezone.now()
    return f"events/{now:%Y/%m}/{uuid.uuid4().hex}.jpg"


class Photo(StoredPhoto):
    """A photo of an event (what was found, or the result), re-encoded as JPEG: EXIF orientation
    applied, GPS kept as columns, every other metadata field dropped."""

    class Stage(models.TextChoices):
        REPORT = "report", _("现场照片")
        RESULT = "result", _("处置结果照片")

    event = models.ForeignKey(Event, on_delete=models.CASCADE, related_name="photos")
    entry = models.ForeignKey(TimelineEntry, null=True, blank=True, on_delete=models.CASCADE,
                              related_name="photos")
    stage = models.CharField(max_length=8, choices=Stage.choices, default=Stage.REPORT)
    image = models.ImageField(upload_to=photo_path, width_field="width", height_field="height")

    class Meta(StoredPhoto.Meta):
        verbose_name = _("事件照片")
        verbose_name_plural = _("事件照片")

    def __str__(self) -> str:
        return f"{self.event_id} {self.get_stage_display()}"

    @property
    def url(self) -> str:
        """Where the photo is served, to those who may see its event."""
        from django.urls import reverse

        return reverse("event_photo", args=[self.pk])

    @property
    def public_url(self) -> str:
        """A link anyone may open (Open311 publishes these for non-sensitive categories)."""
        from django.core import signing

        from gezhi.events.views import PHOTO_SALT

        return f"{self.url}?s={signing.dumps(self.pk, salt=PHOTO_SALT)}"


class Supervision(models.Model):
    """督办 by a leader, counted against the unit handling the event at that time."""

    event = models.ForeignKey(Event, on_delete=models.CASCADE, related_name="supervisions")
    level = models.PositiveSmallIntegerField(_("督办级别"), choices=SupervisionLevel.choices)
    note = models.TextField(_("督办意见"))
    department = models.ForeignKey("accounts.Department", null=True, blank=True,
                                   on_delete=models.PROTECT, related_name="+")
    unit_region = models.ForeignKey("regions.Region", null=True, blank=True,
                                    on_delete=models.PROTECT, related_name="+")
    by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name = _("督办")
        verbose_name_plural = _("督办")
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"{self.event_id} {self.get_level_display()}"


class Extension(models.Model):
    """延期申请: the deadline moves only when it is approved."""

    class Status(models.TextChoices):
        PENDING = "pending", _("待审批")
        APPROVED = "approved", _("已批准")
        REFUSED = "refused", _("未批准")

    event = models.ForeignKey(Event, on_delete=models.CASCADE, related_name="extensions")
    days = models.PositiveIntegerField(_("延期工作日"))
    reason = models.TextField(_("延期理由"))
    requested_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT,
                                     related_name="+")
    requested_at = models.DateTimeField(default=timezone.now)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.PENDING)
    decided_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True,
                                   on_delete=models.PROTECT, related_name="+")
    decided_at = models.DateTimeField(null=True, blank=True)
    decision_note = models.TextField(blank=True, default="")

    class Meta:
        verbose_name = _("延期申请")
        verbose_name_plural = _("延期申请")
        ordering = ["-requested_at"]

    def __str__(self) -> str:
        return f"{self.event_id} {self.get_status_display()}"


class SerialCounter(models.Model):
    """The last serial number given out per prefix (e.g. "370481-20261125")."""

    prefix = models.CharField(max_length=24, primary_key=True)
    last = models.PositiveIntegerField(default=0)

    def __str__(self) -> str:
        return f"{self.prefix} {self.last}"


class ApiKey(models.Model):
    """An application allowed to submit requests through Open311 / the intake (e.g. the 12345
    hotline system). Only the key's hash is stored."""

    name = models.CharField(_("应用名称"), max_length=100)
    prefix = models.CharField(max_length=8)
    key_hash = models.CharField(max_length=64, unique=True)
    source = models.CharField(_("来源"), max_length=12, choices=Source.choices,
                              default=Source.API)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True,
                                   on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField(default=timezone.now)
    revoked_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("接入密钥")
        verbose_name_plural = _("接入密钥")

    def __str__(self) -> str:
        return f"{self.name} ({self.prefix}…)"


class CalendarDay(models.Model):
    """An administrator's entry in the working calendar: a holiday, or a make-up working day
    (调休), overriding the built-in official calendar for that date."""

    date = models.DateField(_("日期"), unique=True)
    is_workday = models.BooleanField(_("工作日"))
    note = models.CharField(_("说明"), max_length=60, blank=True, default="")

    class Meta:
        verbose_name = _("工作日历调整")
        verbose_name_plural = _("工作日历调整")
        ordering = ["date"]

    def __str__(self) -> str:
        return f"{self.date} {self.note}"


class CalendarYear(models.Model):
    """A year whose holidays the administrator has entered in full (as CalendarDay rows), so it
    counts as known even where the built-in calendar stops."""

    year = models.PositiveIntegerField(_("年份"), unique=True)
    note = models.CharField(_("说明"), max_length=100, blank=True, default="")

    class Meta:
        verbose_name = _("已维护年份")
        verbose_name_plural = _("已维护年份")
        ordering = ["year"]

    def __str__(self) -> str:
        return str(self.year)
