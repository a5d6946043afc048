"""Places (地) and things (物): 小区, 楼栋, 单元, 房屋, and city components (部件).

Address levels: 街巷 (street) → 院落/小区 (estate) → 楼栋 (building) → 单元 (unit) → 户室 (house).
"""

from django.db import models
from django.utils.translation import gettext_lazy as _

from gezhi.core.models import Located, Versioned


class Estate(Located, Versioned):
    """小区 / 院落."""

    name = models.CharField(_("小区名称"), max_length=100)
    street = models.CharField(_("街巷"), max_length=100, blank=True)
    address = models.CharField(_("地址"), max_length=200, blank=True)
    property_company = models.ForeignKey("orgs.Organisation", null=True, blank=True,
                                         on_delete=models.SET_NULL, related_name="managed_estates",
                                         verbose_name=_("物业公司"))
    built_year = models.PositiveSmallIntegerField(_("建成年份"), null=True, blank=True)
    notes = models.TextField(_("备注"), blank=True)

    class Meta:
        verbose_name = _("小区")
        verbose_name_plural = _("小区")
        ordering = ["grid__path", "name"]
        constraints = [models.UniqueConstraint(fields=["grid", "name"], name="unique_estate_name")]

    def __str__(self) -> str:
        return self.name


class Building(Located, Versioned):
    """楼栋. A building outside any estate (散居楼) has no estate."""

    # Indexed as the first column of unique_building_in_estate (so are the foreign keys of
    # units and houses below): a second index would only slow imports down.
    estate = models.ForeignKey(Estate, null=True, blank=True, on_delete=models.PROTECT,
                               related_name="buildings", verbose_name=_("小区"), db_index=False)
    name = models.CharField(_("楼栋"), max_length=50, help_text=_("如:3号楼"))
    street = models.CharField(_("街巷"), max_length=100, blank=True)
    address = models.CharField(_("地址"), max_length=200, blank=True)
    floors = models.PositiveSmallIntegerField(_("层数"), default=6)
    head = models.ForeignKey("regions.StaffMember", null=True, blank=True,
                             on_delete=models.SET_NULL, related_name="buildings",
                             verbose_name=_("楼栋长"))

    class Meta:
        verbose_name = _("楼栋")
        verbose_name_plural = _("楼栋")
        ordering = ["grid__path", "estate__name", "name"]
        constraints = [models.UniqueConstraint(fields=["estate", "name"],
                                               name="unique_building_in_estate")]

    def __str__(self) -> str:
        return f"{self.estate.name}{self.name}" if self.estate_id else self.name


class Unit(models.Model):
    """单元."""

    scope_path = "building__grid__path"

    building = models.ForeignKey(Building, on_delete=models.CASCADE, related_name="units",
                                 verbose_name=_("楼栋"), db_index=False)
    name = models.CharField(_("单元"), max_length=20, help_text=_("如:1单元"))
    sort_order = models.PositiveSmallIntegerField(default=0)

    class Meta:
        verbose_name = _("单元")
        verbose_name_plural = _("单元")
        ordering = ["building", "sort_order", "name"]
        constraints = [models.UniqueConstraint(fields=["building", "name"],
                                               name="unique_unit_in_building")]

    def __str__(self) -> str:
        return self.name


class HouseUsage(models.TextChoices):
    OWNER_OCCUPIED = "owner_occupied", _("自住")
    RENTED = "rented", _("出租")
    VACANT = "vacant", _("空置")
    COMMERCIAL = "commercial", _("商用")


class House(Located, Versioned):
    """房屋 / 户室. `grid` repeats the building's grid so scope is one indexed prefix query."""

    building = models.ForeignKey(Building, on_delete=models.PROTECT, related_name="houses",
                                 verbose_name=_("楼栋"), db_index=False)
    unit = models.ForeignKey(Unit, null=True, blank=True, on_delete=models.PROTECT,
                             related_name="houses", verbose_name=_("单元"))
    floor = models.SmallIntegerField(_("楼层"), default=1)
    number = models.CharField(_("户室号"), max_length=20, help_text=_("如:301"))
    usage = models.CharField(_("房屋用途"), max_length=20, choices=HouseUsage.choices,
                             default=HouseUsage.OWNER_OCCUPIED)
    area_m2 = models.DecimalField(_("建筑面积(平方米)"), max_digits=8, decimal_places=2,
                                  null=True, blank=True)
    address = models.CharField(_("地址"), max_length=250, blank=True, editable=False)

    class Meta:
        verbose_name = _("房屋")
        verbose_name_plural = _("房屋")
        ordering = ["building", "unit__sort_order", "floor", "number"]
        constraints = [models.UniqueConstraint(fields=["building", "unit", "number"],
                                               name="unique_house_number")]
        indexes = [models.Index(fields=["grid", "usage"])]

    def __str__(self) -> str:
        return self.address or self.number

    def compose_address(self) -> str:
        building = self.building
        parts = [building.street or (building.estate.street if building.estate_id else ""),
                 building.estate.name if building.estate_id else "", building.name,
                 self.unit.name if self.unit_id else "", self.number]
        return "".join(p for p in parts if p)


class ComponentState(models.TextChoices):
    NORMAL = "normal", _("完好")
    DAMAGED = "damaged", _("损坏")
    LOST = "lost", _("丢失")
    REMOVED = "removed", _("已拆除")


class ComponentClass(models.Model):
    """部件类别 (GB/T 30428 component classes: 大类 公用设施, 道路交通, 市容环境, 园林绿化 …)."""

    code = models.CharField(_("类别代码"), max_length=8, unique=True)
    name = models.CharField(_("名称"), max_length=50)
    major = models.CharField(_("大类"), max_length=50)

    class Meta:
        verbose_name = _("部件类别")
        verbose_name_plural = _("部件类别")
        ordering = ["code"]

    def __str__(self) -> str:
        return f"{self.code} {self.name}"


class Component(Located, Versioned):
    """部件: a manhole cover, street light, hydrant, camera … placed in a grid."""

    component_class = models.ForeignKey(ComponentClass, on_delete=models.PROTECT,
                                        related_name="components", verbose_name=_("部件类别"))
    code = models.CharField(_("部件编码"), max_length=32, unique=True)
    name = models.CharField(_("名称"), max_length=100, blank=True)
    state = models.CharField(_("状态"), max_length=10, choices=ComponentState.choices,
                             default=ComponentState.NORMAL)
    owner_unit = models.CharField(_("权属单位"), max_length=100, blank=True)
    address = models.CharField(_("位置描述"), max_length=200, blank=True)

    class Meta:
        verbose_name = _("部件")
        verbose_name_plural = _("部件")
        ordering = ["grid__path", "code"]

    def __str__(self) -> str:
        return f"{self.code} {self.component_class.name}"
