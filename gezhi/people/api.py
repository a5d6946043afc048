"""/api/v1/ people (实有人口), residence links, tags, households, and the grid health report.

ID and phone numbers leave the server only as masks (`id_number_mask`, `phone_mask`); the
plaintext comes from POST /people/{id}/reveal alone, which needs Perm.REVEAL and a reason and
is logged. Special-group (restricted) tags appear only where the viewer holds
Perm.SPECIAL_VIEW. Outside the viewer's scope a person is a 404, as one that does not exist.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Literal

from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from ninja import Field, Query, Router, Schema, Status

from gezhi.accounts.roles import Perm
from gezhi.accounts.scope import has_perm
from gezhi.core.errors import ValidationFailed
from gezhi.core.pagination import PageMeta, PageParams, paginate
from gezhi.core.schemas import ErrorOut
from gezhi.people import health, selectors, services
from gezhi.people.models import Person, Tag
from gezhi.places.api import GridRef, client_ip, grid_for_write, grid_ref
from gezhi.places.selectors import house_get
from gezhi.regions.selectors import in_subtree_of

router = Router()

ERRORS = {401: ErrorOut, 404: ErrorOut, 422: ErrorOut}
WRITE_ERRORS = {**ERRORS, 403: ErrorOut}
CONFLICT_DOC = gettext_lazy("须带上开始编辑时的 version;记录已被他人修改时返回 409 conflict,"
                            "修改不会保存。")


# --- Schemas -------------------------------------------------------------------------------


class TagOut(Schema):
    code: str
    name: str
    group: str
    group_label: str
    restricted: bool = Field(description="特殊人群标签,仅对有权查看的角色显示")
    colour: str


class TagPage(PageMeta):
    items: list[TagOut]


class PersonTagOut(Schema):
    code: str
    name: str
    group: str
    restricted: bool
    colour: str
    note: str
    added_by: str
    added_at: datetime


class PersonOut(Schema):
    id: int
    name: str
    sex: str
    sex_label: str
    id_type: str
    id_type_label: str
    id_number_mask: str = Field(description="脱敏证件号码;明文须调用 reveal")
    birth_date: date | None
    ethnicity: str
    ethnicity_label: str
    phone_mask: str = Field(description="脱敏联系电话;明文须调用 reveal")
    political_status: str
    political_status_label: str
    residence_type: str
    residence_type_label: str
    employer: str
    notes: str
    grid: GridRef
    tags: list[PersonTagOut] = Field(description="有效标签(仅限有权查看的标签)")
    version: int


class PersonPage(PageMeta):
    items: list[PersonOut]


class PersonFilters(PageParams):
    q: str = Field("", max_length=50,
                   description="姓名、完整证件号或手机号、证件号或手机号后四位、住址")
    grid: str = Field("", description="只列出该代码节点(网格、社区等)之下的人员")
    tag: str = Field("", description="标签代码")
    residence_type: str = Field("", description="registered / floating / overseas")


class PersonIn(Schema):
    grid: str = Field(max_length=24, description="所属网格代码")
    name: str = Field(max_length=50)
    id_type: str = "resident_id"
    id_number: str = Field("", max_length=40)
    birth_date: date | None = Field(None, description="居民身份证可不填,由号码得出")
    sex: str = ""
    ethnicity: str = Field("", max_length=2, description="GB/T 3304 民族代码,如 01")
    phone: str = Field("", max_length=20)
    political_status: str = ""
    residence_type: str = "registered"
    employer: str = Field("", max_length=150)
    notes: str = Field("", max_length=2000)


class PersonPatch(Schema):
    """Only the fields sent are changed."""

    version: int = Field(description="开始编辑时的版本号")
    grid: str = Field("", max_length=24)
    name: str = Field("", max_length=50)
    id_type: str = ""
    id_number: str = Field("", max_length=40)
    birth_date: date | None = None
    sex: str = ""
    ethnicity: str = Field("", max_length=2)
    phone: str = Field("", max_length=20)
    political_status: str = ""
    residence_type: str = ""
    employer: str = Field("", max_length=150)
    notes: str = Field("", max_length=2000)


class PersonRevealIn(Schema):
    field: Literal["id_number", "phone"]
    reason: str = Field(max_length=200, description="查看事由(记入访问日志)")


class PersonRevealOut(Schema):
    field: str
    value: str


class ResidenceOut(Schema):
    id: int
    person_id: int
    house_id: int
    address: str
    kind: str
    kind_label: str
    relation: str
    relation_label: str
    moved_in: date | None
    moved_out: date | None
    current: bool


class ResidencePage(PageMeta):
    items: list[ResidenceOut]


class MoveInIn(Schema):
    house_id: int
    relation: str = Field(description="owner / family / tenant / other")
    kind: str = Field("lives", description="lives(实际居住)或 registered(户籍登记)")
    moved_in: date | None = Field(None, description="不填为今天")


class MoveOutIn(Schema):
    moved_out: date | None = Field(None, description="不填为今天")


class TagIn(Schema):
    tag: str = Field(max_length=40, description="标签代码")
    note: str = Field("", max_length=200)


class MemberOut(Schema):
    person_id: int
    name: str
    relation: str
    relation_label: str


class HouseholdOut(Schema):
    id: int
    number: str
    house_id: int | None
    address: str
    grid: GridRef
    head_id: int | None
    head_name: str
    members: list[MemberOut]
    version: int


class HouseholdPage(PageMeta):
    items: list[HouseholdOut]


class HouseholdFilters(PageParams):
    grid: str = Field("", description="只列出该代码节点之下的户")


class MemberIn(Schema):
    person_id: int
    relation: str


class HouseholdIn(Schema):
    house_id: int
    head_id: int
    number: str = Field("", max_length=30)
    members: list[MemberIn] = Field(default_factory=list, max_length=50)


class GridHealthOut(Schema):
    code: str
    name: str
    grid_kind: str
    households: int
    people: int
    care_tagged: int = Field(description="有关爱对象标签的人数")
    special_tagged: int | None = Field(description="有特殊人群标签的人数;无权查看时为 null")
    houses: int
    area_m2: float | None
    compared: bool = Field(description="是否参与规模比较(专属网格不参与)")
    ratio: float | None = Field(description="户数与社区中位数之比")
    flag: Literal["over", "under", ""]
    flag_label: str


class SplitOut(Schema):
    code: str
    name: str
    households: int
    parts: int
    households_per_part: int
    message: str


class MergeOut(Schema):
    code: str
    name: str
    neighbour_code: str
    neighbour_name: str
    households: int = Field(description="合并后的户数")
    message: str


class HealthOut(Schema):
    community_code: str
    community_name: str
    median_households: float | None
    over_factor: float
    under_factor: float
    special_visible: bool
    grids: list[GridHealthOut]
    splits: list[SplitOut]
    merges: list[MergeOut]
    unmatched: list[str] = Field(description="规模过小但没有合适相邻网格可合并的网格代码")


# --- Shaping -------------------------------------------------------------------------------


def _person_tag(t) -> dict:
    return {"code": t.tag.code, "name": t.tag.name, "group": t.tag.group,
            "restricted": t.tag.restricted, "colour": t.tag.colour, "note": t.note,
            "added_by": t.added_by.name if t.added_by_id else "", "added_at": t.added_at}


def _person(p: Person, tags: list) -> dict:
    return {"id": p.id, "name": p.name, "sex": p.sex, "sex_label": p.get_sex_display(),
            "id_type": p.id_type, "id_type_label": p.get_id_type_display(),
            "id_number_mask": p.id_number_mask, "birth_date": p.birth_date,
            "ethnicity": p.ethnicity, "ethnicity_label": p.get_ethnicity_display(),
            "phone_mask": p.phone_mask, "political_status": p.political_status,
            "political_status_label": p.get_political_status_display(),
            "residence_type": p.residence_type,
            "residence_type_label": p.get_residence_type_display(), "employer": p.employer,
            "notes": p.notes, "grid": grid_ref(p.grid),
            "tags": [_person_tag(t) for t in tags], "version": p.version}


def _person_with_tags(request, person: Person) -> dict:
    tags = selectors.person_tags(viewer=request.user, persons=[person]).get(person.pk, [])
    return _person(person, tags)


def _residence(r) -> dict:
    return {"id": r.id, "person_id": r.person_id, "house_id": r.house_id,
            "address": r.house.address, "kind": r.kind, "kind_label": r.get_kind_display(),
            "relation": r.relation, "relation_label": r.get_relation_display(),
            "moved_in": r.moved_in, "moved_out": r.moved_out, "current": r.moved_out is None}


def _household(h) -> dict:
    return {"id": h.id, "number": h.number, "house_id": h.house_id,
            "address": h.house.address if h.house_id else "", "grid": grid_ref(h.grid),
            "head_id": h.head_id, "head_name": h.head.name if h.head_id else "",
            "members": [{"person_id": m.person_id, "name": m.person.name,
                         "relation": m.relation, "relation_label": m.get_relation_display()}
                        for m in h.members.all()],
            "version": h.version}


# --- People --------------------------------------------------------------------------------


@router.get("/people", response={200: PersonPage, **ERRORS}, tags=["people"],
            summary=gettext_lazy("实有人口列表(证件号、电话均为脱敏)"))
def person_list(request, filters: Query[PersonFilters]):
    viewer = request.user
    qs = selectors.person_list(viewer=viewer, q=filters.q.strip(), tag=filters.tag,
                               residence_type=filters.residence_type)
    if filters.grid:
        qs = in_subtree_of(qs, filters.grid, "grid__path")
    items, meta = paginate(request, qs, filters)
    tags = selectors.person_tags(viewer=viewer, persons=items)
    if filters.tag and has_perm(viewer, Perm.SPECIAL_VIEW) and Tag.objects.filter(
            code=filters.tag, sensitivity="restricted").exists():
        services.special_view_record(
            actor=viewer, row_count=meta["count"], ip_address=client_ip(request),
            details={"list": "people", "api": True, "tag": filters.tag, "q": filters.q,
                     "grid": filters.grid, "residence_type": filters.residence_type})
    return {**meta, "items": [_person(p, tags.get(p.pk, [])) for p in items]}


@router.post("/people", response={201: PersonOut, **WRITE_ERRORS}, tags=["people"],
             summary=gettext_lazy("登记人员"),
             description=gettext_lazy("证件号码按 GB 11643 校验;重复证件号返回 422 duplicate_person。"))
def person_create(request, payload: PersonIn):
    fields = payload.dict()
    grid = grid_for_write(fields.pop("grid"))
    person = services.person_create(actor=request.user, grid=grid, **fields)
    return Status(201, _person(person, []))


@router.get("/people/{person_id}", response={200: PersonOut, **ERRORS}, tags=["people"],
            summary=gettext_lazy("人员详情"))
def person_detail(request, person_id: int):
    person = selectors.person_get(viewer=request.user, pk=person_id)
    tags = selectors.person_tags(viewer=request.user, persons=[person]).get(person.pk, [])
    restricted = [t.tag.code for t in tags if t.tag.restricted]
    if restricted:
        services.special_view_record(actor=request.user, person=person,
                                     ip_address=client_ip(request),
                                     details={"tags": restricted, "api": True})
    return _person(person, tags)


@router.patch("/people/{person_id}", response={200: PersonOut, 409: ErrorOut, **WRITE_ERRORS},
              tags=["people"], summary=gettext_lazy("修改人员信息"), description=CONFLICT_DOC)
def person_patch(request, person_id: int, payload: PersonPatch):
    person = selectors.person_get(viewer=request.user, pk=person_id)
    changes = payload.dict(exclude_unset=True)
    version = changes.pop("version")
    grid = grid_for_write(changes.pop("grid", ""))
    person = services.person_update(actor=request.user, person=person, version=version,
                                    grid=grid, **changes)
    return _person_with_tags(request, person)


@router.post("/people/{person_id}/reveal",
             response={200: PersonRevealOut, **WRITE_ERRORS},
             tags=["people"], summary=gettext_lazy("查看证件号码或电话明文(记入访问日志)"))
def person_reveal(request, person_id: int, payload: PersonRevealIn):
    person = selectors.person_get(viewer=request.user, pk=person_id)
    value = services.personal_reveal(actor=request.user, obj=person, field=payload.field,
                                     reason=payload.reason, ip_address=client_ip(request))
    return {"field": payload.field, "value": value}


# --- Residence links -----------------------------------------------------------------------


@router.get("/people/{person_id}/residences", response={200: ResidencePage, **ERRORS},
            tags=["people"], summary=gettext_lazy("人员的居住关系(现住在前,历史保留)"))
def person_residences(request, person_id: int, page: Query[PageParams]):
    person = selectors.person_get(viewer=request.user, pk=person_id)
    items, meta = paginate(request, selectors.person_residences(person=person), page)
    return {**meta, "items": [_residence(r) for r in items]}


@router.post("/people/{person_id}/residences", response={201: ResidenceOut, **WRITE_ERRORS},
             tags=["people"], summary=gettext_lazy("迁入:登记人员在某房屋居住或户籍登记"),
             description=gettext_lazy("迁入新的实际居住地会结束原居住关系,人员的所属网格随之变更。"))
def person_move_in(request, person_id: int, payload: MoveInIn):
    person = selectors.person_get(viewer=request.user, pk=person_id)
    house = house_get(viewer=request.user, pk=payload.house_id)
    residence = services.residence_move_in(actor=request.user, person=person, house=house,
                                           relation=payload.relation, kind=payload.kind,
                                           moved_in=payload.moved_in)
    return Status(201, _residence(residence))


@router.post("/residences/{residence_id}/move-out", response={200: ResidenceOut, **WRITE_ERRORS},
             tags=["people"], summary=gettext_lazy("迁出:结束一条居住关系(记录保留)"))
def residence_move_out(request, residence_id: int, payload: MoveOutIn | None = None):
    residence = selectors.residence_get(viewer=request.user, pk=residence_id)
    residence = services.residence_move_out(
        actor=request.user, residence=residence,
        moved_out=payload.moved_out if payload is not None else None)
    return _residence(residence)


# --- Tags ----------------------------------------------------------------------------------


@router.get("/tags", response={200: TagPage, **ERRORS}, tags=["people"],
            summary=gettext_lazy("人员标签种类(仅限有权查看的)"))
def tag_list(request, page: Query[PageParams]):
    qs = (selectors.tags_for(viewer=request.user) if has_perm(request.user, Perm.BASE_VIEW)
          else Tag.objects.none())
    items, meta = paginate(request, qs, page)
    return {**meta, "items": [{"code": t.code, "name": t.name, "group": t.group,
                               "group_label": t.get_group_display(), "restricted": t.restricted,
                               "colour": t.colour} for t in items]}


def _tag(code: str) -> Tag:
    tag = Tag.objects.filter(code=code).first()
    if tag is None:
        raise ValidationFailed(_("标签代码无效:%(code)s") % {"code": code},
                               details={"field": "tag"})
    return tag


@router.post("/people/{person_id}/tags", response={201: PersonOut, **WRITE_ERRORS},
             tags=["people"], summary=gettext_lazy("给人员加标签"),
             description=gettext_lazy("特殊人群标签须有查看特殊人群的权限,否则返回 403。"))
def person_tag_add(request, person_id: int, payload: TagIn):
    person = selectors.person_get(viewer=request.user, pk=person_id)
    services.person_tag_add(actor=request.user, person=person, tag=_tag(payload.tag),
                            note=payload.note)
    return Status(201, _person_with_tags(request, person))


@router.delete("/people/{person_id}/tags/{tag_code}", response={200: PersonOut, **WRITE_ERRORS},
               tags=["people"], summary=gettext_lazy("去掉人员的标签(记录保留)"))
def person_tag_remove(request, person_id: int, tag_code: str):
    person = selectors.person_get(viewer=request.user, pk=person_id)
    services.person_tag_end(actor=request.user, person=person, tag=_tag(tag_code))
    return _person_with_tags(request, person)


# --- Households ----------------------------------------------------------------------------


@router.get("/households", response={200: HouseholdPage, **ERRORS}, tags=["people"],
            summary=gettext_lazy("户列表"))
def household_list(request, filters: Query[HouseholdFilters]):
    qs = selectors.household_list(viewer=request.user)
    if filters.grid:
        qs = in_subtree_of(qs, filters.grid, "grid__path")
    items, meta = paginate(request, qs, filters)
    return {**meta, "items": [_household(h) for h in items]}


@router.post("/households", response={201: HouseholdOut, **WRITE_ERRORS}, tags=["people"],
             summary=gettext_lazy("建户:户主与成员"))
def household_create(request, payload: HouseholdIn):
    house = house_get(viewer=request.user, pk=payload.house_id)
    head = selectors.person_get(viewer=request.user, pk=payload.head_id)
    members = [(selectors.person_get(viewer=request.user, pk=m.person_id), m.relation)
               for m in payload.members]
    household = services.household_create(actor=request.user, house=house, head=head,
                                          number=payload.number, members=members)
    household = selectors.household_get(viewer=request.user, pk=household.pk)
    return Status(201, _household(household))


# --- Grid health ---------------------------------------------------------------------------


@router.get("/regions/{code}/health", response={200: HealthOut, **ERRORS}, tags=["regions"],
            summary=gettext_lazy("社区网格健康报告:各网格户数、人数、标签人数,规模过大或过小的网格及拆分、合并建议"))
def region_health(request, code: str):
    community = health.health_community_get(viewer=request.user, code=code)
    report = health.grid_health(viewer=request.user, community=community)
    return {
        "community_code": community.code, "community_name": community.name,
        "median_households": report.median_households, "over_factor": report.over_factor,
        "under_factor": report.under_factor, "special_visible": report.special_visible,
        "grids": [{"code": r.grid.code, "name": r.grid.name, "grid_kind": r.grid.grid_kind,
                   "households": r.households, "people": r.people,
                   "care_tagged": r.care_tagged, "special_tagged": r.special_tagged,
                   "houses": r.houses, "area_m2": r.grid.area_m2, "compared": r.compared,
                   "ratio": round(r.ratio, 3) if r.ratio is not None else None,
                   "flag": r.flag, "flag_label": r.flag_label} for r in report.rows],
        "splits": [{"code": s.load.grid.code, "name": s.load.grid.name,
                    "households": s.load.households, "parts": s.parts,
                    "households_per_part": s.households_per_part, "message": s.message}
                   for s in report.splits],
        "merges": [{"code": m.load.grid.code, "name": m.load.grid.name,
                    "neighbour_code": m.neighbour.grid.code,
                    "neighbour_name": m.neighbour.grid.name, "households": m.households,
                    "message": m.message} for m in report.merges],
        "unmatched": [r.grid.code for r in report.unmatched],
    }

