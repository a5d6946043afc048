"""Organisation writes."""

from __future__ import annotations

from django.db import transaction
from django.utils.translation import gettext as _

from gezhi.accounts.roles import Perm
from gezhi.accounts.scope import authorize
from gezhi.core.errors import ValidationFailed
from gezhi.core.personal import set_sensitive
from gezhi.core.validators import mask_phone, normalise_credit_code, normalise_phone
from gezhi.core.versioning import save_versioned
from gezhi.orgs.models import Organisation, OrgKind
from gezhi.places.services import locate

EDITABLE = ["name", "kind", "credit_code", "legal_representative", "contact_name", "address",
            "estate", "employees", "industry", "notes"]


def clean_organisation(*, name: str, kind: str, credit_code: str = "",
                       contact_phone: str = "", exclude_pk: int | None = None, **rest) -> dict:
    name = (name or "").strip()
    if not name:
        raise ValidationFailed(_("组织名称不能为空。"), details={"field": "name"})
    if kind not in OrgKind.values:
        raise ValidationFailed(_("组织类型无效。"), details={"field": "kind"})
    if credit_code:
        try:
            credit_code = normalise_credit_code(credit_code)
        except ValidationFailed as exc:
            exc.details = {"field": "credit_code"}
            raise
        duplicate = Organisation.objects.filter(credit_code=credit_code)
        if exclude_pk:
            duplicate = duplicate.exclude(pk=exclude_pk)
        if duplicate.exists():
            raise ValidationFailed(_("该统一社会信用代码已登记。"), code="duplicate_org",
                                   details={"field": "credit_code"})
    if contact_phone:
        try:
            contact_phone = normalise_phone(contact_phone)
        except ValidationFailed as exc:
            exc.details = {"field": "contact_phone"}
            raise
    return {"name": name, "kind": kind, "credit_code": credit_code,
            "contact_phone": contact_phone, **rest}


@transaction.atomic
def organisation_create(*, actor, lat=None, lon=None, grid=None, **fields) -> Organisation:
    grid = locate(lat=lat, lon=lon, grid=grid)
    authorize(actor, Perm.BASE_EDIT, grid.path)
    cleaned = clean_organisation(**fields)
    phone = cleaned.pop("contact_phone")
    org = Organisation(grid=grid, lat=lat, lon=lon, **cleaned)
    set_sensitive(org, "contact_phone", phone, mask=mask_phone)
    org.save()
    return org


@transaction.atomic
def organisation_update(*, actor, organisation: Organisation, version: int | None,
                        **fields) -> Organisation:
    authorize(actor, Perm.BASE_EDIT, organisation.grid.path)
    current = {name: getattr(organisation, name) for name in EDITABLE}
    phone = fields.pop("contact_phone", None)
    cleaned = clean_organisation(**{**current, **fields}, contact_phone=phone or "",
                                 exclude_pk=organisation.pk)
    new_phone = cleaned.pop("contact_phone")
    for name, value in cleaned.items():
        setattr(organisation, name, value)
    changed = list(EDITABLE)
    if phone is not None:
        set_sensitive(organisation, "contact_phone", new_phone, mask=mask_phone)
        changed += ["contact_phone_ct", "contact_phone_bidx", "contact_phone_mask"]
    save_versioned(organisation, version=version, fields=changed)
    return organisation
