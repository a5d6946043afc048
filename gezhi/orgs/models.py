"""Organisations (组织) in a grid: enterprises, shops, social organisations, property
companies, owners' committees and resident units."""

from django.db import models
from django.utils.translation import gettext_lazy as _

from gezhi.core.models import Located, Versioned
from gezhi.core.personal import sensitive_fields


class OrgKind(models.TextChoices):
    ENTERPRISE = "enterprise", _("企业")
    SHOP = "shop", _("个体工商户")
    SOCIAL_ORG = "social_org", _("社会组织")
    PROPERTY_COMPANY = "property_company", _("物业公司")
    OWNERS_COMMITTEE = "owners_committee", _("业委会")
    RESIDENT_UNIT = "resident_unit", _("驻区单位")


class Organisation(Located, Versioned):
    name = models.CharField(_("名称"), max_length=150)
    kind = models.CharField(_("类型"), max_length=20, choices=OrgKind.choices)
    credit_code = models.CharField(_("统一社会信用代码"), max_length=18, blank=True,
                                   db_index=True)
    legal_representative = models.CharField(_("法定代表人/负责人"), max_length=50, blank=True)
    contact_name = models.CharField(_("联系人"), max_length=50, blank=True)
    contact_phone_ct, contact_phone_bidx, contact_phone_mask = sensitive_fields(_("联系电话"))
    address = models.CharField(_("地址"), max_length=200, blank=True)
    estate = models.ForeignKey("places.Estate", null=True, blank=True, on_delete=models.SET_NULL,
                               related_name="organisations", verbose_name=_("所在小区"))
    employees = models.PositiveIntegerField(_("从业人数"), null=True, blank=True)
    industry = models.CharField(_("行业"), max_length=100, blank=True)
    notes = models.TextField(_("备注"), blank=True)

    class Meta:
        verbose_name = _("组织")
        verbose_name_plural = _("组织")
        ordering = ["grid__path", "name"]
        constraints = [
            models.UniqueConstraint(fields=["credit_code"], condition=~models.Q(credit_code=""),
                                    name="unique_credit_code"),
        ]

    def __str__(self) -> str:
        return self.name
