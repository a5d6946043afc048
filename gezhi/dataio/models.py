"""Import jobs: an uploaded spreadsheet being imported in the background, and its report."""

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


class ImportKind(models.TextChoices):
    PEOPLE = "people", _("实有人口")
    HOUSES = "houses", _("房屋")
    ORGS = "orgs", _("组织")
    COMPONENTS = "components", _("部件")


class ImportMode(models.TextChoices):
    """What happens to the valid rows of a file that also has bad rows."""

    DRY_RUN = "dry_run", _("仅检查,不写入")
    ALL = "all", _("全部无误才写入")
    VALID = "valid", _("只写入无误的行")


class JobStatus(models.TextChoices):
    PENDING = "pending", _("排队中")
    RUNNING = "running", _("导入中")
    DONE = "done", _("已完成")
    FAILED = "failed", _("未导入")


class ImportJob(models.Model):
    """One import of one file. The report lists every bad row (row, column, reason); the file
    itself is deleted as soon as the import ends, since it holds personal data in plaintext."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.PROTECT,
                             related_name="import_jobs", verbose_name=_("导入人"))
    kind = models.CharField(_("导入类型"), max_length=12, choices=ImportKind.choices)
    mode = models.CharField(_("导入方式"), max_length=8, choices=ImportMode.choices,
                            default=ImportMode.ALL)
    file_name = models.CharField(_("文件名"), max_length=200)
    file_size = models.PositiveBigIntegerField(_("文件大小"), default=0)
    ip_address = models.GenericIPAddressField(_("IP 地址"), null=True, blank=True)
    default_grid = models.ForeignKey("regions.Region", null=True, blank=True,
                                     on_delete=models.SET_NULL, related_name="+",
                                     verbose_name=_("默认网格"))
    status = models.CharField(_("状态"), max_length=8, choices=JobStatus.choices,
                              default=JobStatus.PENDING)
    rows = models.PositiveIntegerField(_("数据行数"), default=0)
    created = models.PositiveIntegerField(_("新增"), default=0)
    updated = models.PositiveIntegerField(_("更新"), default=0)
    unchanged = models.PositiveIntegerField(_("无变化"), default=0)
    bad_rows = models.PositiveIntegerField(_("有问题的行"), default=0)
    written = models.BooleanField(_("已写入"), default=False)
    message = models.TextField(_("结果说明"), blank=True)
    # {"problems": [{"row", "column", "message"}], "problem_count", "truncated"}
    report = models.JSONField(_("问题清单"), default=dict, blank=True)
    created_at = models.DateTimeField(_("提交时间"), default=timezone.now)
    started_at = models.DateTimeField(_("开始时间"), null=True, blank=True)
    finished_at = models.DateTimeField(_("结束时间"), null=True, blank=True)

    class Meta:
        verbose_name = _("导入任务")
        verbose_name_plural = _("导入任务")
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} · {self.file_name}"

    @property
    def finished(self) -> bool:
        return self.status in (JobStatus.DONE, JobStatus.FAILED)

    @property
    def dry_run(self) -> bool:
        return self.mode == ImportMode.DRY_RUN
