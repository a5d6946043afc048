"""People (人): 实有人口, households, residence links and tags.

ID and phone numbers are stored as SM4 ciphertext + blind index + masked form
(gezhi.core.personal); the plaintext is read only through the logged reveal service.
"""

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from gezhi.core.models import Versioned
from gezhi.core.personal import sensitive_fields
from gezhi.people.codes import (
    ETHNICITIES,
    HouseholdRelation,
    IdType,
    PoliticalStatus,
    ResidenceKind,
    ResidenceRelation,
    ResidenceType,
    Sensitivity,
    Sex,
    TagGroup,
)


class Person(Versioned):
    """实有人口. `grid` is where the person lives now (from their current residence, or set
    by hand for people without a recorded house); it scopes who may see them."""

    scope_path = "grid__path"

    name = models.CharField(_("姓名"), max_length=50)
    sex = models.CharField(_("性别"), max_length=6, choices=Sex.choices, blank=True)
    id_type = models.CharField(_("证件类型"), max_length=16, choices=IdType.choices,
                               default=IdType.RESIDENT_ID)
    id_number_ct, id_number_bidx, id_number_mask = sensitive_fields(_("证件号码"), index=False)
    birth_date = models.DateField(_("出生日期"), null=True, blank=True)
    ethnicity = models.CharField(_("民族"), max_length=2, choices=ETHNICITIES, blank=True)
    phone_ct, phone_bidx, phone_mask = sensitive_fields(_("联系电话"), index=False)
    political_status = models.CharField(_("政治面貌"), max_length=20,
                                        choices=PoliticalStatus.choices, blank=True)
    residence_type = models.CharField(_("人口类型"), max_length=12,
                                      choices=ResidenceType.choices,
                                      default=ResidenceType.REGISTERED)
    employer = models.CharField(_("工作单位"), max_length=150, blank=True)
    notes = models.TextField(_("备注"), blank=True)
    grid = models.ForeignKey("regions.Region", on_delete=models.PROTECT, related_name="+",
                             verbose_name=_("所属网格"), limit_choices_to={"level": "grid"})
    # Search helpers: the last four characters of the ID and phone numbers (not sensitive alone).
    id_tail = models.CharField(max_length=4, blank=True, editable=False)
    phone_tail = models.CharField(max_length=4, blank=True, editable=False)

    class Meta:
        verbose_name = _("实有人口")
        verbose_name_plural = _("实有人口")
        ordering = ["grid__path", "name", "id"]
        # Every index costs each imported row its insert, so only those lookups use, and
        # plain ones: blind indexes and tails are matched exactly, never by prefix (on
        # PostgreSQL `db_index` on a CharField adds a second, varchar_pattern_ops index).
        # None on the name: it is searched for anywhere in the name (icontains), and lists
        # sort by it after the grid, a join, which no index of this table can give.
        indexes = [models.Index(fields=["id_number_bidx"], name="person_id_number_bidx"),
                   models.Index(fields=["phone_bidx"], name="person_phone_bidx"),
                   models.Index(fields=["id_tail"], name="person_id_tail"),
                   models.Index(fields=["phone_tail"], name="person_phone_tail")]

    def __str__(self) -> str:
        return self.name


class Household(Versioned):
    """户: a household with a head and members, registered at a house."""

    scope_path = "grid__path"

    number = models.CharField(_("户号"), max_length=30, blank=True)
    house = models.ForeignKey("places.House", null=True, blank=True, on_delete=models.PROTECT,
                              related_name="households", verbose_name=_("住址"))
    grid = models.ForeignKey("regions.Region", on_delete=models.PROTECT, related_name="+",
                             verbose_name=_("所属网格"))
    head = models.ForeignKey(Person, null=True, blank=True, on_delete=models.SET_NULL,
                             related_name="headed_households", verbose_name=_("户主"))

    class Meta:
        verbose_name = _("户")
        verbose_name_plural = _("户")
        ordering = ["grid__path", "number", "id"]

    def __str__(self) -> str:
        return self.number or (self.head.name if self.head_id else str(self.pk))


class HouseholdMember(models.Model):
    scope_path = "household__grid__path"

    household = models.ForeignKey(Household, on_delete=models.CASCADE, related_name="members")
    person = models.ForeignKey(Person, on_delete=models.CASCADE, related_name="memberships")
    relation = models.CharField(_("与户主关系"), max_length=12,
                                choices=HouseholdRelation.choices)

    class Meta:
        verbose_name = _("户成员")
        verbose_name_plural = _("户成员")
        constraints = [models.UniqueConstraint(fields=["household", "person"],
                                               name="unique_household_member")]

    def __str__(self) -> str:
        return f"{self.person} ({self.get_relation_display()})"


class Residence(models.Model):
    """居住关系: a person lives at (or is registered at) a house from a date to a date.

    History is kept: moving out sets `moved_out`, it never deletes. 人户分离 is a person whose
    current `registered` link and current `lives` link point at different houses.
    """

    scope_path = "house__grid__path"

    # Both foreign keys are indexed as the first column of the (…, moved_out) indexes.
    person = models.ForeignKey(Person, on_delete=models.CASCADE, related_name="residences",
                               verbose_name=_("人员"), db_index=False)
    house = models.ForeignKey("places.House", on_delete=models.PROTECT,
                              related_name="residences", verbose_name=_("房屋"), db_index=False)
    kind = models.CharField(_("关系类型"), max_length=12, choices=ResidenceKind.choices,
                            default=ResidenceKind.LIVES)
    relation = models.CharField(_("居住关系"), max_length=10, choices=ResidenceRelation.choices)
    moved_in = models.DateField(_("入住日期"), null=True, blank=True)
    moved_out = models.DateField(_("迁出日期"), null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now, editable=False)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True,
                                   on_delete=models.SET_NULL, related_name="+")

    class Meta:
        verbose_name = _("居住关系")
        verbose_name_plural = _("居住关系")
        ordering = ["-moved_in", "-id"]
        indexes = [models.Index(fields=["house", "moved_out"]),
                   models.Index(fields=["person", "moved_out"])]

    def __str__(self) -> str:
        return f"{self.person} · {self.house} · {self.get_relation_display()}"

    @property
    def current(self) -> bool:
        return self.moved_out is None


class Tag(models.Model):
    """A tag kind: care groups (关爱对象) and special groups (特殊人群, restricted)."""

    code = models.CharField(_("代码"), max_length=40, unique=True)
    name = models.CharField(_("名称"), max_length=50)
    group = models.CharField(_("类别"), max_length=10, choices=TagGroup.choices)
    sensitivity = models.CharField(_("敏感级别"), max_length=12, choices=Sensitivity.choices)
    colour = models.CharField(_("颜色"), max_length=7, default="#6b7280")
    sort_order = models.IntegerField(default=0)

    class Meta:
        verbose_name = _("人员标签")
        verbose_name_plural = _("人员标签")
        ordering = ["sort_order", "code"]

    def __str__(self) -> str:
        return self.name

    @property
    def restricted(self) -> bool:
        return self.sensitivity == Sensitivity.RESTRICTED


class PersonTag(models.Model):
    """A tag on a person, with who added it and when; removal is recorded, not deleted."""

    scope_path = "person__grid__path"

    person = models.ForeignKey(Person, on_delete=models.CASCADE, related_name="tags")
    tag = models.ForeignKey(Tag, on_delete=models.PROTECT, related_name="person_tags",
                            db_index=False)  # led by the (tag, removed_at) index
    note = models.CharField(_("说明"), max_length=200, blank=True)
    added_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True,
                                 on_delete=models.SET_NULL, related_name="+")
    added_at = models.DateTimeField(default=timezone.now)
    removed_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True,
                                   on_delete=models.SET_NULL, related_name="+")
    removed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("人员标签记录")
        verbose_name_plural = _("人员标签记录")
        indexes = [models.Index(fields=["tag", "removed_at"])]
        constraints = [
            models.UniqueConstraint(fields=["person", "tag"], condition=models.Q(removed_at=None),
                                    name="one_active_tag_per_person"),
        ]

    def __str__(self) -> str:
        return f"{self.person} · {self.tag}"
