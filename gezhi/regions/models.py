from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


class Level(models.TextChoices):
    CITY = "city", _("市")
    DISTRICT = "district", _("区县")
    SUBDISTRICT = "subdistrict", _("街道")
    COMMUNITY = "community", _("社区")
    GRID = "grid", _("网格")
    MICROGRID = "microgrid", _("微网格")


# The level a child of each level has. Codes: 6-digit county (GB/T 2260) + 3 subdistrict
# + 3 community (the statistical 12-digit code) + 3 grid (+ 3 microgrid).
CHILD_LEVEL = {
    Level.CITY: Level.DISTRICT,
    Level.DISTRICT: Level.SUBDISTRICT,
    Level.SUBDISTRICT: Level.COMMUNITY,
    Level.COMMUNITY: Level.GRID,
    Level.GRID: Level.MICROGRID,
}
CODE_LENGTH = {
    Level.CITY: 6,
    Level.DISTRICT: 6,
    Level.SUBDISTRICT: 9,
    Level.COMMUNITY: 12,
    Level.GRID: 15,
    Level.MICROGRID: 18,
}


class GridKind(models.TextChoices):
    BASIC = "basic", _("基础网格")
    DEDICATED = "dedicated", _("专属网格")


class RegionQuerySet(models.QuerySet):
    def grids(self):
        return self.filter(level=Level.GRID)

    def subtree(self, node: "Region"):
        return self.filter(path__startswith=node.path)


class Region(models.Model):
    """区划 / 辖区节点: one node of the tree 市 → 区县 → 街道 → 社区 → 网格 → 微网格.

    `path` is the materialised path (e.g. "370481.001.003.012."): "this node and below" is
    one indexed prefix query, path__startswith=node.path.
    """

    scope_path = "path"

    code = models.CharField(_("区划代码"), max_length=24, unique=True)
    name = models.CharField(_("名称"), max_length=100)
    level = models.CharField(_("层级"), max_length=12, choices=Level.choices)
    parent = models.ForeignKey("self", null=True, blank=True, on_delete=models.PROTECT,
                               related_name="children", verbose_name=_("上级"))
    path = models.CharField(_("路径"), max_length=128, unique=True, editable=False)
    depth = models.PositiveSmallIntegerField(default=0, editable=False)
    grid_kind = models.CharField(_("网格类型"), max_length=10, choices=GridKind.choices,
                                 blank=True)
    purpose = models.CharField(_("专属网格对象"), max_length=100, blank=True,
                               help_text=_("专属网格所服务的学校、医院、市场、园区等"))
    description = models.TextField(_("覆盖范围"), blank=True,
                                   help_text=_("街巷、小区、楼栋等,便于居民按地址查找"))
    # GeoJSON geometry (Polygon or MultiPolygon), WGS-84 longitude/latitude.
    boundary = models.JSONField(_("边界"), null=True, blank=True)
    min_lon = models.FloatField(null=True, blank=True, editable=False)
    min_lat = models.FloatField(null=True, blank=True, editable=False)
    max_lon = models.FloatField(null=True, blank=True, editable=False)
    max_lat = models.FloatField(null=True, blank=True, editable=False)
    centroid_lon = models.FloatField(null=True, blank=True, editable=False)
    centroid_lat = models.FloatField(null=True, blank=True, editable=False)
    area_m2 = models.FloatField(_("面积(平方米)"), null=True, blank=True, editable=False)
    sort_order = models.IntegerField(_("排序"), default=0)
    created_at = models.DateTimeField(default=timezone.now, editable=False)
    updated_at = models.DateTimeField(auto_now=True)

    objects = RegionQuerySet.as_manager()

    class Meta:
        verbose_name = _("区划/网格")
        verbose_name_plural = _("区划/网格")
        ordering = ["path"]
        constraints = [
            models.CheckConstraint(
                condition=(models.Q(level="grid") & ~models.Q(grid_kind=""))
                | (~models.Q(level="grid") & models.Q(grid_kind="")),
                name="grid_kind_only_on_grids",
            ),
        ]
        indexes = [models.Index(fields=["level", "path"])]

    def __str__(self) -> str:
        return f"{self.name}({self.code})"

    @property
    def is_grid(self) -> bool:
        return self.level == Level.GRID

    def ancestors(self):
        """Ancestors from the root down, excluding this node (one query)."""
        parts = self.path.rstrip(".").split(".")
        paths = [".".join(parts[:i]) + "." for i in range(1, len(parts))]
        return Region.objects.filter(path__in=paths).order_by("depth")

    def local_code(self) -> str:
        if self.parent_id and self.code.startswith(self.parent.code):
            return self.code[len(self.parent.code):]
        return self.code

    def compute_path(self) -> str:
        if self.parent_id is None:
            return f"{self.code}."
        return f"{self.parent.path}{self.local_code()}."


class PostKind(models.TextChoices):
    CHIEF = "chief", _("网格长")
    INSTRUCTOR = "instructor", _("网格指导员")
    FULL_TIME = "full_time", _("专职网格员")
    PROFESSIONAL = "professional", _("专业网格员")
    PART_TIME = "part_time", _("兼职网格员")
    BUILDING_HEAD = "building_head", _("楼栋长")


POST_ORDER = [PostKind.CHIEF, PostKind.INSTRUCTOR, PostKind.FULL_TIME, PostKind.PROFESSIONAL,
              PostKind.PART_TIME, PostKind.BUILDING_HEAD]


class StaffMember(models.Model):
    """A person who holds grid posts. Published (公示) only with their consent."""

    name = models.CharField(_("姓名"), max_length=50)
    title = models.CharField(_("职务"), max_length=100, blank=True,
                             help_text=_("如:社区党委书记、社区民警"))
    work_phone = models.CharField(_("工作电话"), max_length=20, blank=True)
    photo = models.ImageField(_("照片"), upload_to="staff/", blank=True)
    published = models.BooleanField(_("同意公示"), default=True)
    user = models.OneToOneField(settings.AUTH_USER_MODEL, null=True, blank=True,
                                on_delete=models.SET_NULL, related_name="staff_member",
                                verbose_name=_("登录账号"))
    created_at = models.DateTimeField(default=timezone.now, editable=False)

    class Meta:
        verbose_name = _("网格工作人员")
        verbose_name_plural = _("网格工作人员")
        ordering = ["name", "id"]

    def __str__(self) -> str:
        return self.name


class GridPost(models.Model):
    """网格员岗位: a post on a grid held by a staff member."""

    scope_path = "grid__path"

    grid = models.ForeignKey(Region, on_delete=models.CASCADE, related_name="posts",
                             verbose_name=_("网格"))
    kind = models.CharField(_("岗位"), max_length=16, choices=PostKind.choices)
    member = models.ForeignKey(StaffMember, on_delete=models.CASCADE, related_name="posts",
                               verbose_name=_("人员"))
    duties = models.CharField(_("职责"), max_length=200, blank=True)
    sort_order = models.IntegerField(_("排序"), default=0)
    since = models.DateField(_("任职日期"), null=True, blank=True)

    class Meta:
        verbose_name = _("网格岗位")
        verbose_name_plural = _("网格岗位")
        ordering = ["grid__path", "sort_order", "id"]
        constraints = [
            models.UniqueConstraint(fields=["grid", "kind", "member"], name="unique_grid_post"),
        ]

    def __str__(self) -> str:
        return f"{self.grid.name} · {self.get_kind_display()} · {self.member.name}"


class SpatialVersion(models.Model):
    """A counter bumped whenever any boundary changes, so every process refreshes its index."""

    version = models.BigIntegerField(default=0)

    def __str__(self) -> str:
        return str(self.version)
