"""People writes: persons, residence links, households, tags, and the logged reveal."""

from __future__ import annotations

import datetime
import functools

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from gezhi.accounts.models import AccessAction, AccessLog
from gezhi.accounts.roles import Perm
from gezhi.accounts.scope import authorize
from gezhi.core.errors import NotFound, PermissionDenied, ValidationFailed
from gezhi.core.personal import get_sensitive, lookup, set_sensitive
from gezhi.core.validators import (
    id_birth_date,
    id_sex,
    mask_id_number,
    mask_phone,
    normalise_id_number,
    normalise_phone,
)
from gezhi.core.versioning import save_versioned
from gezhi.people.codes import (
    DEFAULT_TAGS,
    ETHNICITY_NAMES,
    HouseholdRelation,
    IdType,
    PoliticalStatus,
    ResidenceKind,
    ResidenceRelation,
    ResidenceType,
    Sex,
)
from gezhi.people.models import Household, HouseholdMember, Person, PersonTag, Residence, Tag
from gezhi.regions.models import Level, Region

PERSON_FIELDS = ["name", "sex", "id_type", "birth_date", "ethnicity", "political_status",
                 "residence_type", "employer", "notes", "grid"]


def tags_ensure() -> None:
    """Create the seeded tag kinds that are missing (idempotent)."""
    existing = set(Tag.objects.values_list("code", flat=True))
    Tag.objects.bulk_create([
        Tag(code=code, name=name, group=group, sensitivity=sensitivity, colour=colour,
            sort_order=i)
        for i, (code, name, group, sensitivity, colour) in enumerate(DEFAULT_TAGS)
        if code not in existing
    ])


@functools.cache
def _values(choices) -> frozenset[str]:
    return frozenset(choices.values)


# Field labels for messages, built once: clean_person runs per row of an import.
_LABELS = {"id_type": gettext_lazy("证件类型"), "sex": gettext_lazy("性别"),
           "political_status": gettext_lazy("政治面貌"), "residence_type": gettext_lazy("人口类型")}


def _choice(value: str, choices, field: str, label: str) -> str:
    if value and value not in _values(choices):
        raise ValidationFailed(_("%(label)s的取值无效:%(value)s") % {"label": label, "value": value},
                               details={"field": field})
    return value


def clean_person(*, name: str, id_type: str, id_number: str, birth_date=None, sex: str = "",
                 ethnicity: str = "", phone: str = "", political_status: str = "",
                 residence_type: str = ResidenceType.REGISTERED, employer: str = "",
                 notes: str = "", exclude_pk: int | None = None,
                 check_duplicate: bool = True, today: datetime.date | None = None) -> dict:
    """Validate and normalise a person's fields; the rules imports and forms share.

    Returns the cleaned values (with `id_number` and `phone` normalised plaintext).
    Raises ValidationFailed naming the field. `check_duplicate=False` leaves the "already
    registered" query to a caller that matches whole batches by blind index (the importer),
    which also passes `today` once rather than have each row look up the time zone.
    """
    today = today or timezone.localdate()
    name = (name or "").strip()
    if not name:
        raise ValidationFailed(_("姓名不能为空。"), details={"field": "name"})
    if len(name) > 50:
        raise ValidationFailed(_("姓名过长。"), details={"field": "name"})
    id_type = _choice(id_type or IdType.RESIDENT_ID, IdType, "id_type", _LABELS["id_type"])
    id_number = (id_number or "").strip().upper()
    if id_type == IdType.RESIDENT_ID:
        try:
            id_number = normalise_id_number(id_number, today=today)
        except ValidationFailed as exc:
            exc.details = {"field": "id_number"}
            raise
        derived_birth, derived_sex = id_birth_date(id_number), id_sex(id_number)
        if birth_date and birth_date != derived_birth:
            raise ValidationFailed(_("出生日期与身份证号不一致。"), details={"field": "birth_date"})
        if sex and sex != derived_sex:
            raise ValidationFailed(_("性别与身份证号不一致。"), details={"field": "sex"})
        birth_date, sex = derived_birth, derived_sex
    elif not id_number:
        raise ValidationFailed(_("证件号码不能为空。"), details={"field": "id_number"})
    if birth_date and birth_date > today:
        raise ValidationFailed(_("出生日期不能晚于今天。"), details={"field": "birth_date"})
    if id_number and check_duplicate:
        duplicate = Person.objects.filter(**lookup("id_number", id_number))
        if exclude_pk:
            duplicate = duplicate.exclude(pk=exclude_pk)
        if duplicate.exists():
            raise ValidationFailed(_("该证件号码已登记。"), code="duplicate_person",
                                   details={"field": "id_number"})
    if phone:
        try:
            phone = normalise_phone(phone)
        except ValidationFailed as exc:
            exc.details = {"field": "phone"}
            raise
    employer = (employer or "").strip()
    if len(employer) > 150:
        raise ValidationFailed(_("工作单位过长(最多 150 字)。"), details={"field": "employer"})
    if ethnicity and ethnicity not in ETHNICITY_NAMES:
        raise ValidationFailed(_("民族代码无效:%(value)s") % {"value": ethnicity},
                               details={"field": "ethnicity"})
    return {
        "name": name, "id_type": id_type, "id_number": id_number, "birth_date": birth_date,
        "sex": _choice(sex, Sex, "sex", _LABELS["sex"]), "ethnicity": ethnicity, "phone": phone,
        "political_status": _choice(political_status, PoliticalStatus, "political_status",
                                    _LABELS["political_status"]),
        "residence_type": _choice(residence_type or ResidenceType.REGISTERED, ResidenceType,
                                  "residence_type", _LABELS["residence_type"]),
        "employer": employer, "notes": (notes or "").strip(),
    }


def apply_person(person: Person, cleaned: dict) -> Person:
    """Copy cleaned values onto a Person, encrypting the sensitive ones."""
    for field in ("name", "id_type", "birth_date", "sex", "ethnicity", "political_status",
                  "residence_type", "employer", "notes"):
        setattr(person, field, cleaned[field])
    id_number, phone = cleaned["id_number"], cleaned["phone"]
    set_sensitive(person, "id_number", id_number,
                  mask=mask_id_number if person.id_type == IdType.RESIDENT_ID
                  else (lambda v: v[:2] + "*" * max(len(v) - 4, 0) + v[-2:]))
    set_sensitive(person, "phone", phone, mask=mask_phone)
    person.id_tail = id_number[-4:]
    person.phone_tail = phone[-4:]
    return person


def _grid(grid: Region) -> Region:
    if grid is None or grid.level != Level.GRID:
        raise ValidationFailed(_("请选择所属网格。"), details={"field": "grid"})
    return grid


@transaction.atomic
def person_create(*, actor, grid: Region, **fields) -> Person:
    authorize(actor, Perm.BASE_EDIT, _grid(grid).path)
    person = apply_person(Person(grid=grid), clean_person(**fields))
    person.save()
    return person


@transaction.atomic
def person_update(*, actor, person: Person, version: int | None, grid: Region | None = None,
                  **fields) -> Person:
    """Change a person; `version` is the one the editor started from (409 if stale)."""
    authorize(actor, Perm.BASE_EDIT, person.grid.path)
    if grid is not None and grid.pk != person.grid_id:
        authorize(actor, Perm.BASE_EDIT, _grid(grid).path)
        person.grid = grid
    current = {"name": person.name, "id_type": person.id_type,
               "id_number": get_sensitive(person, "id_number"),
               "birth_date": person.birth_date, "sex": person.sex,
               "ethnicity": person.ethnicity, "phone": get_sensitive(person, "phone"),
               "political_status": person.political_status,
               "residence_type": person.residence_type, "employer": person.employer,
               "notes": person.notes}
    changes = {**current, **fields}
    if "id_number" in fields and changes["id_type"] == IdType.RESIDENT_ID:
        # A corrected ID number brings its own birth date and sex.
        changes["birth_date"] = fields.get("birth_date")
        changes["sex"] = fields.get("sex", "")
    apply_person(person, clean_person(**changes, exclude_pk=person.pk))
    save_versioned(person, version=version, fields=[
        *PERSON_FIELDS, "id_number_ct", "id_number_bidx", "id_number_mask", "phone_ct",
        "phone_bidx", "phone_mask", "id_tail", "phone_tail"])
    return person


@transaction.atomic
def residence_move_in(*, actor, person: Person, house, relation: str,
                      kind: str = ResidenceKind.LIVES, moved_in: datetime.date | None = None
                      ) -> Residence:
    """Link a person to a house. Living somewhere new ends the previous `lives` link, and the
    person's grid follows the house they live in."""
    authorize(actor, Perm.BASE_EDIT, house.grid.path)
    _choice(relation, ResidenceRelation, "relation", _("居住关系"))
    _choice(kind, ResidenceKind, "kind", _("关系类型"))
    moved_in = moved_in or timezone.localdate()
    current = Residence.objects.filter(person=person, kind=kind, moved_out__isnull=True)
    if current.filter(house=house).exists():
        raise ValidationFailed(_("该人员已在此房屋登记。"), details={"field": "house"})
    current.update(moved_out=moved_in)
    residence = Residence.objects.create(person=person, house=house, kind=kind,
                                         relation=relation, moved_in=moved_in,
                                         created_by=actor)
    if kind == ResidenceKind.LIVES and person.grid_id != house.grid_id:
        person.grid_id = house.grid_id
        save_versioned(person, version=None, fields=["grid"])
    return residence


@transaction.atomic
def residence_move_out(*, actor, residence: Residence,
                       moved_out: datetime.date | None = None) -> Residence:
    authorize(actor, Perm.BASE_EDIT, residence.house.grid.path)
    if residence.moved_out is not None:
        raise ValidationFailed(_("该居住关系已结束。"))
    moved_out = moved_out or timezone.localdate()
    if residence.moved_in and moved_out < residence.moved_in:
        raise ValidationFailed(_("迁出日期不能早于入住日期。"), details={"field": "moved_out"})
    residence.moved_out = moved_out
    residence.save(update_fields=["moved_out"])
    return residence


@transaction.atomic
def household_create(*, actor, house, head: Person, number: str = "",
                     members: list[tuple[Person, str]] = ()) -> Household:
    authorize(actor, Perm.BASE_EDIT, house.grid.path)
    household = Household.objects.create(house=house, grid_id=house.grid_id, head=head,
                                         number=number)
    HouseholdMember.objects.create(household=household, person=head,
                                   relation=HouseholdRelation.HEAD)
    for person, relation in members:
        if person.pk == head.pk:
            continue
        _choice(relation, HouseholdRelation, "relation", _("与户主关系"))
        HouseholdMember.objects.create(household=household, person=person, relation=relation)
    return household


def _check_tag_rights(actor, person: Person, tag: Tag) -> None:
    authorize(actor, Perm.BASE_EDIT, person.grid.path)
    if tag.restricted and actor is not None:
        authorize(actor, Perm.SPECIAL_VIEW, person.grid.path)


@transaction.atomic
def person_tag_add(*, actor, person: Person, tag: Tag, note: str = "") -> PersonTag:
    _check_tag_rights(actor, person, tag)
    if PersonTag.objects.filter(person=person, tag=tag, removed_at__isnull=True).exists():
        raise ValidationFailed(_("该人员已有此标签。"), details={"field": "tag"})
    return PersonTag.objects.create(person=person, tag=tag, note=note, added_by=actor)


@transaction.atomic
def person_tag_remove(*, actor, person_tag: PersonTag) -> PersonTag:
    _check_tag_rights(actor, person_tag.person, person_tag.tag)
    if person_tag.removed_at is None:
        person_tag.removed_at = timezone.now()
        person_tag.removed_by = actor
        person_tag.save(update_fields=["removed_at", "removed_by"])
    return person_tag


@transaction.atomic
def person_tag_end(*, actor, person: Person, tag: Tag) -> PersonTag:
    """Remove `tag` from a person. Rights come first, so a user who may not see a restricted
    tag learns nothing from the answer about whether the person has it."""
    _check_tag_rights(actor, person, tag)
    person_tag = PersonTag.objects.filter(person=person, tag=tag, removed_at__isnull=True).first()
    if person_tag is None:
        raise NotFound(_("该人员没有此标签。"))
    return person_tag_remove(actor=actor, person_tag=person_tag)


REVEALABLE = {"id_number": _("证件号码"), "phone": _("联系电话")}


@transaction.atomic
def personal_reveal(*, actor, obj, field: str, reason: str, ip_address: str | None = None
                    ) -> str:
    """The plaintext of a sensitive field, for a user holding Perm.REVEAL over the object's
    grid, with a stated reason; every reveal writes an access-log entry first."""
    if actor is None:
        raise PermissionDenied()
    reason = (reason or "").strip()
    if not reason:
        raise ValidationFailed(_("请填写查看事由。"), details={"field": "reason"})
    if not hasattr(obj, f"{field}_ct"):
        raise ValidationFailed(_("该字段不能查看明文。"), details={"field": "field"})
    authorize(actor, Perm.REVEAL, obj.grid.path)
    AccessLog.objects.create(user=actor, action=AccessAction.REVEAL,
                             target_type=obj._meta.model_name, target_id=obj.pk,
                             target_label=str(obj)[:200], field=field, reason=reason[:200],
                             ip_address=ip_address)
    return get_sensitive(obj, field)


def special_view_record(*, actor, details: dict, person: Person | None = None,
                        row_count: int | None = None, ip_address: str | None = None
                        ) -> AccessLog:
    """Log that a user saw special-group (restricted) data: a person's page showing such a
    tag, or a list filtered by one. The caller has already checked Perm.SPECIAL_VIEW."""
    return AccessLog.objects.create(
        user=actor, action=AccessAction.VIEW_SPECIAL,
        target_type="person" if person is not None else "",
        target_id=person.pk if person is not None else None,
        target_label=str(person)[:200] if person is not None else "",
        details=details, row_count=row_count, ip_address=ip_address)
