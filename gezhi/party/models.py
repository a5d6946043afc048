from django.db import models
from django.utils.translation import gettext_lazy as _


class PartyOrgKind(models.TextChoices):
    WORKING_COMMITTEE = "working_committee", _("党工委")
    COMMITTEE = "committee", _("党委")
    GENERAL_BRANCH = "general_branch", _("党总支")
    BRANCH = "branch", _("党支部")
    GROUP = "group", _("党小组")


class PartyOrg(models.Model):
    """党组织. A branch may be bound to a grid (支部建在网格上)."""

    scope_path = "region__path"

    name = models.CharField(_("名称"), max_length=100)
    kind = models.CharField(_("类型"), max_length=20, choices=PartyOrgKind.choices)
    parent = models.ForeignKey("self", null=True, blank=True, on_delete=models.PROTECT,
                               related_name="children", verbose_name=_("上级党组织"))
    region = models.ForeignKey("regions.Region", on_delete=models.PROTECT,
                               related_name="party_orgs", verbose_name=_("所在辖区/网格"))
    secretary = models.CharField(_("书记"), max_length=50, blank=True)

    class Meta:
        verbose_name = _("党组织")
        verbose_name_plural = _("党组织")
        ordering = ["region__path", "id"]

    def __str__(self) -> str:
        return self.name
