"""/api/v1/organisations (企业, 个体工商户, 社会组织, 物业公司, 业委会, 驻区单位) in the viewer's scope.

The contact phone leaves the server only as `contact_phone_mask`; the plaintext comes from
POST /organisations/{id}/reveal, which needs Perm.REVEAL and a reason and is logged.
"""

from __future__ import annotations

from typing import Literal

from django.utils.translation import gettext_lazy
from ninja import Field, Query, Router, Schema, Status

from gezhi.core.pagination import PageMeta, PageParams, paginate
from gezhi.core.schemas import ErrorOut
from gezhi.orgs import selectors, services
from gezhi.orgs.models import Organisation
from gezhi.people.services import personal_reveal
from gezhi.places.api import GridRef, LocatedIn, client_ip, grid_for_write, grid_ref
from gezhi.places.selectors import estate_get
from gezhi.regions.selectors import in_subtree_of

router = Router()

ERRORS = {401: ErrorOut, 404: ErrorOut, 422: ErrorOut}
WRITE_ERRORS = {**ERRORS, 403: ErrorOut}


class EstateRef(Schema):
    id: int
    name: str


class OrganisationOut(Schema):
    id: int
    name: str
    kind: str
    kind_label: str
    credit_code: str = Field(description="统一社会信用代码")
    legal_representative: str
    contact_name: str
    contact_phone_mask: str = Field(description="脱敏联系电话;明文须调用 reveal")
    address: str
    estate: EstateRef | None
    employees: int | None
    industry: str
    notes: str
    grid: GridRef
    lat: float | None
    lon: float | None
    version: int


class OrganisationPage(PageMeta):
    items: list[OrganisationOut]


class OrganisationFilters(PageParams):
    grid: str = Field("", description="只列出该代码节点(网格、社区等)之下的组织")
    kind: str = ""
    q: str = Field("", max_length=100, description="名称、统一社会信用代码或地址")


class OrganisationIn(LocatedIn):
    name: str = Field(max_length=150)
    kind: str = Field(description="enterprise / shop / social_org / property_company / "
                                  "owners_committee / resident_unit")
    credit_code: str = Field("", max_length=18, description="统一社会信用代码(GB 32100 校验)")
    legal_representative: str = Field("", max_length=50)
    contact_name: str = Field("", max_length=50)
    contact_phone: str = Field("", max_length=20)
    address: str = Field("", max_length=200)
    estate_id: int | None = None
    employees: int | None = Field(None, ge=0)
    industry: str = Field("", max_length=100)
    notes: str = Field("", max_length=2000)


class OrganisationPatch(Schema):
    """Only the fields sent are changed; the location is not changed here."""

    version: int = Field(description="开始编辑时的版本号")
    name: str = Field("", max_length=150)
    kind: str = ""
    credit_code: str = Field("", max_length=18)
    legal_representative: str = Field("", max_length=50)
    contact_name: str = Field("", max_length=50)
    contact_phone: str = Field("", max_length=20)
    address: str = Field("", max_length=200)
    estate_id: int | None = None
    employees: int | None = Field(None, ge=0)
    industry: str = Field("", max_length=100)
    notes: str = Field("", max_length=2000)


class OrganisationRevealIn(Schema):
    field: Literal["contact_phone"] = "contact_phone"
    reason: str = Field(max_length=200, description="查看事由(记入访问日志)")


class OrganisationRevealOut(Schema):
    field: str
    value: str


def _organisation(o: Organisation) -> dict:
    return {"id": o.id, "name": o.name, "kind": o.kind, "kind_label": o.get_kind_display(),
            "credit_code": o.credit_code, "legal_representative": o.legal_representative,
            "contact_name": o.contact_name, "contact_phone_mask": o.contact_phone_mask,
            "address": o.address,
            "estate": {"id": o.estate.id, "name": o.estate.name} if o.estate_id else None,
            "employees": o.employees, "industry": o.industry, "notes": o.notes,
            "grid": grid_ref(o.grid), "lat": o.lat, "lon": o.lon, "version": o.version}


def _estate(request, estate_id: int | None):
    return estate_get(viewer=request.user, pk=estate_id) if estate_id is not None else None


@router.get("/organisations", response={200: OrganisationPage, **ERRORS}, tags=["orgs"],
            summary=gettext_lazy("组织列表(联系电话为脱敏)"))
def organisation_list(request, filters: Query[OrganisationFilters]):
    qs = selectors.organisation_list(viewer=request.user, kind=filters.kind,
                                     q=filters.q.strip())
    if filters.grid:
        qs = in_subtree_of(qs, filters.grid, "grid__path")
    items, meta = paginate(request, qs, filters)
    return {**meta, "items": [_organisation(o) for o in items]}


@router.post("/organisations", response={201: OrganisationOut, **WRITE_ERRORS}, tags=["orgs"],
             summary=gettext_lazy("登记组织"),
             description=gettext_lazy("统一社会信用代码按 GB 32100 校验;已登记的代码返回 422 duplicate_org。"))
def organisation_create(request, payload: OrganisationIn):
    fields = payload.dict(exclude={"lat", "lon", "grid", "estate_id"})
    org = services.organisation_create(
        actor=request.user, lat=payload.lat, lon=payload.lon,
        grid=grid_for_write(payload.grid), estate=_estate(request, payload.estate_id), **fields)
    return Status(201, _organisation(org))


@router.get("/organisations/{org_id}", response={200: OrganisationOut, **ERRORS},
            tags=["orgs"], summary=gettext_lazy("组织详情"))
def organisation_detail(request, org_id: int):
    return _organisation(selectors.organisation_get(viewer=request.user, pk=org_id))


@router.patch("/organisations/{org_id}", response={200: OrganisationOut, 409: ErrorOut,
                                                   **WRITE_ERRORS},
              tags=["orgs"], summary=gettext_lazy("修改组织信息"),
              description=gettext_lazy("须带上开始编辑时的 version;记录已被他人修改时返回 409 conflict,"
                                       "修改不会保存。"))
def organisation_patch(request, org_id: int, payload: OrganisationPatch):
    org = selectors.organisation_get(viewer=request.user, pk=org_id)
    changes = payload.dict(exclude_unset=True)
    version = changes.pop("version")
    if "estate_id" in changes:
        changes["estate"] = _estate(request, changes.pop("estate_id"))
    org = services.organisation_update(actor=request.user, organisation=org, version=version,
                                       **changes)
    return _organisation(org)


@router.post("/organisations/{org_id}/reveal",
             response={200: OrganisationRevealOut, **WRITE_ERRORS},
             tags=["orgs"], summary=gettext_lazy("查看联系电话明文(记入访问日志)"))
def organisation_reveal(request, org_id: int, payload: OrganisationRevealIn):
    org = selectors.organisation_get(viewer=request.user, pk=org_id)
    value = personal_reveal(actor=request.user, obj=org, field=payload.field,
                            reason=payload.reason, ip_address=client_ip(request))
    return {"field": payload.field, "value": value}
