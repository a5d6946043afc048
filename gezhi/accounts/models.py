import hashlib
import secrets

from django.conf import settings
from django.contrib.auth.models import AbstractUser
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from gezhi.accounts.roles import Role


class User(AbstractUser):
    display_name = models.CharField(_("姓名"), max_length=50, blank=True)

    class Meta:
        verbose_name = _("用户")
        verbose_name_plural = _("用户")

    @property
    def name(self) -> str:
        return self.display_name or self.get_full_name() or self.username

    def __str__(self) -> str:
        return self.name


class DepartmentKind(models.TextChoices):
    GOVERNMENT = "government", _("职能部门")
    PROPERTY = "property", _("物业公司")
    OTHER = "other", _("其他单位")


class Department(models.Model):
    """A handling unit with its own staff: 职能部门 (城管, 公安, 市场监管, 应急管理, 信访, 住建,
    水务 …) serving an area, or a property company (物业) linked to its organisation record."""

    code = models.CharField(_("编码"), max_length=32, unique=True)
    name = models.CharField(_("名称"), max_length=100)
    kind = models.CharField(_("单位类型"), max_length=12, choices=DepartmentKind.choices,
                            default=DepartmentKind.GOVERNMENT)
    organisation = models.ForeignKey("orgs.Organisation", verbose_name=_("对应组织"), null=True,
                                     blank=True, on_delete=models.SET_NULL, related_name="+")
    region = models.ForeignKey("regions.Region", verbose_name=_("服务区域"), null=True,
                               blank=True, on_delete=models.PROTECT, related_name="departments")

    class Meta:
        verbose_name = _("职能部门")
        verbose_name_plural = _("职能部门")
        ordering = ["code"]

    def __str__(self) -> str:
        return self.name


class RoleAssignment(models.Model):
    """(user, role, scope node): the scope is a region subtree or a department."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE,
                             related_name="role_assignments", verbose_name=_("用户"))
    role = models.CharField(_("角色"), max_length=20, choices=Role.choices)
    region = models.ForeignKey("regions.Region", null=True, blank=True, on_delete=models.CASCADE,
                               related_name="role_assignments", verbose_name=_("辖区节点"))
    department = models.ForeignKey(Department, null=True, blank=True, on_delete=models.CASCADE,
                                   related_name="role_assignments", verbose_name=_("职能部门"))
    created_at = models.DateTimeField(_("创建时间"), default=timezone.now)

    class Meta:
        verbose_name = _("角色分配")
        verbose_name_plural = _("角色分配")
        constraints = [
            models.UniqueConstraint(fields=["user", "role", "region", "department"],
                                    name="unique_role_assignment"),
        ]

    def __str__(self) -> str:
        where = self.region or self.department or _("全局")
        return f"{self.user} · {self.get_role_display()} · {where}"


def _hash_token(raw: str) -> str:
    return hashlib.sha256(raw.encode()).hexdigest()


class ApiTokenQuerySet(models.QuerySet):
    def for_raw(self, raw: str):
        return self.filter(key_hash=_hash_token(raw))


class ApiToken(models.Model):
    """A bearer token for the API. Only its hash is stored."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE,
                             related_name="api_tokens")
    key_hash = models.CharField(max_length=64, unique=True)
    prefix = models.CharField(max_length=8)
    created_at = models.DateTimeField(default=timezone.now)
    expires_at = models.DateTimeField()
    last_used_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)

    objects = ApiTokenQuerySet.as_manager()

    class Meta:
        verbose_name = _("API 令牌")
        verbose_name_plural = _("API 令牌")

    def __str__(self) -> str:
        return f"{self.prefix}… ({self.user})"

    @staticmethod
    def new_raw() -> str:
        return "gz_" + secrets.token_urlsafe(32)

    @staticmethod
    def hash(raw: str) -> str:
        return _hash_token(raw)


class AccessAction(models.TextChoices):
    REVEAL = "reveal", _("查看明文")
    EXPORT = "export", _("导出")
    IMPORT = "import", _("导入")
    VIEW_SPECIAL = "view_special", _("查看特殊人群")


class AccessLog(models.Model):
    """个人信息访问日志: who saw or took personal data, whose, why and when. Written, never
    updated or deleted."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.PROTECT,
                             related_name="access_logs", verbose_name=_("操作人"))
    action = models.CharField(_("操作"), max_length=16, choices=AccessAction.choices)
    target_type = models.CharField(_("对象类型"), max_length=40, blank=True)
    target_id = models.BigIntegerField(_("对象编号"), null=True, blank=True)
    target_label = models.CharField(_("对象"), max_length=200, blank=True)
    field = models.CharField(_("字段"), max_length=40, blank=True)
    reason = models.CharField(_("事由"), max_length=200, blank=True)
    details = models.JSONField(_("详情"), default=dict, blank=True)
    row_count = models.PositiveIntegerField(_("行数"), null=True, blank=True)
    ip_address = models.GenericIPAddressField(_("IP 地址"), null=True, blank=True)
    created_at = models.DateTimeField(_("时间"), default=timezone.now, db_index=True)

    class Meta:
        verbose_name = _("访问日志")
        verbose_name_plural = _("访问日志")
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return f"{self.created_at:%Y-%m-%d %H:%M} {self.user} {self.get_action_display()}"

    def save(self, *args, **kwargs):
        if self.pk is not None:
            raise ValueError("access log entries are never changed")
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise ValueError("access log entries are never deleted")
