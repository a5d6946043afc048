"""Request and response shapes of the event API (/api/v1/events…, see gezhi/events/api.py)."""

from __future__ import annotations

from datetime import date, datetime
from typing import Literal

from ninja import Field, Schema

from gezhi.core.pagination import PageMeta, PageParams
from gezhi.core.schemas import FormSchema

# --- References ----------------------------------------------------------------------------


class CodeName(Schema):
    code: str
    name: str


class UnitRef(Schema):
    kind: Literal["department", "region"]
    code: str
    name: str


class IdName(Schema):
    id: int
    name: str


# --- Categories and units ------------------------------------------------------------------


class CategoryOut(Schema):
    code: str
    name: str
    parent: str | None = Field(description="大类编码;大类本身为 null")
    group: str
    group_label: str
    leaf: bool = Field(description="小类:上报事件时只能选小类")
    urgent: bool
    dispatch_limit_minutes: int
    handle_limit: int
    handle_limit_unit: str = Field(description="work_hours / work_days / days")
    handle_limit_label: str = Field(description="处置时限,如“4 工作小时”")
    reopen_on_dissatisfied: bool = Field(description="反映人评价不满意时自动返工")
    default_department: CodeName | None
    children: list[CategoryOut] = Field(default_factory=list,
                                        description="tree 视图下大类的小类;flat 视图为空")


class CategoryPage(PageMeta):
    items: list[CategoryOut]


class CategoryFilters(PageParams):
    view: Literal["flat", "tree"] = Field(
        "flat", description="flat:大类和小类平铺;tree:按大类分页,每个大类带其小类")
    group: str = Field("", description="city / component / social")
    leaf: bool | None = Field(None, description="flat 视图下只列小类(true)或只列大类(false)")


class UnitsFilters(Schema):
    event: str = Field(description="事件编号")


class DispatchUnitOut(Schema):
    code: str
    name: str
    kind: str
    kind_label: str


class UnitsOut(Schema):
    event: str
    departments: list[DispatchUnitOut] = Field(description="服务区域包含事件所在网格的部门")
    regions: list[DispatchUnitOut] = Field(description="事件所在的社区和网格")
    default_department: str | None = Field(description="分类的默认处置部门编码(可派遣时)")


# --- Intake --------------------------------------------------------------------------------


class EventIn(Schema):
    category: str = Field(max_length=16, description="小类编码,如 0102")
    description: str = Field(description="问题描述(最多 2000 字)")
    lat: float | None = Field(None, ge=-90, le=90, description="纬度 (WGS-84);按位置确定网格")
    lon: float | None = Field(None, ge=-180, le=180, description="经度 (WGS-84)")
    address: str = Field("", max_length=200)
    title: str = Field("", max_length=100)
    source: str = Field("", description="来源,工作人员可选(默认 patrol);居民一律为 resident")
    urgent: bool | None = Field(None, description="不填按分类;居民上报时按分类")
    contact_name: str = Field("", max_length=50)
    contact_phone: str = Field("", max_length=20)
    external_id: str = Field("", max_length=64, description="外部工单号(如 12345 工单)")
    client_id: str | None = Field(
        None, description="手机生成的 UUID;同一 client_id 重复提交返回原事件(200)")
    person: int | None = Field(None, description="关联人员编号(须在您的管辖范围内)")
    house: int | None = Field(None, description="关联房屋编号")
    organisation: int | None = Field(None, description="关联组织编号")
    self_resolve: bool = Field(False, description="自行处置:当场解决,须填 result")
    result: str = Field("", description="自行处置的处置结果")


class EventForm(FormSchema, EventIn):
    """The same fields as a multipart form; an empty form field counts as not sent."""


class OpIn(Schema):
    version: int | None = Field(
        None, description="打开事件时的 version;事件已被他人处理时返回 409 conflict")
    note: str = Field("", description="说明、理由、处置结果、留言(按操作要求)")
    department: str = Field("", description="dispatch:主办部门编码")
    region: str = Field("", description="dispatch:主办社区或网格代码")
    assist: list[str] = Field(default_factory=list, max_length=20,
                              description="dispatch:协办部门编码")
    days: int | None = Field(None, description="extend_request:延期工作日数 (1–60)")
    approve: bool | None = Field(None, description="extend_decide:是否批准")
    level: int | None = Field(None, description="supervise:1 一般督办、2 黄牌、3 红牌")
    master: str = Field("", description="merge:并入的事件编号")
    rating: str = Field("", description="rate:satisfied / basic / dissatisfied")


class OpForm(FormSchema):
    version: int | None = None
    note: str = ""


# --- Events --------------------------------------------------------------------------------


class DeadlineOut(Schema):
    kind: Literal["dispatch", "handle", ""] = Field(
        description="正在计时的时限:dispatch 派遣、handle 处置;空表示没有计时")
    deadline: datetime | None
    remaining_minutes: int | None = Field(
        description="剩余工作时间(分钟,自然日时限按自然时间);负数为已超期")
    remaining: dict = Field(description="{overdue, days, hours, minutes},一天为一个工作日")
    colour: Literal["green", "yellow", "red", ""] = Field(
        description="green 正常、yellow 已用时限的大部分、red 超期")
    overdue: bool
    estimated: bool = Field(description="时限跨越工作日历未知的年份,按周一至周五估算")


class EventOut(Schema):
    serial: str
    state: str
    state_label: str
    category: CodeName
    grid: CodeName
    unit: UnitRef | None = Field(description="当前主办单位")
    level: str
    level_label: str
    source: str
    source_label: str
    description: str
    address: str
    lat: float
    lon: float
    urgent: bool
    reported_at: datetime
    deadline: DeadlineOut
    supervision_level: int | None = Field(description="督办:1 一般、2 黄牌、3 红牌")
    supervision_label: str
    version: int


class EventPage(PageMeta):
    items: list[EventOut]


class EventFilters(PageParams):
    queue: str = Field("all", description="to_accept / to_dispatch / to_handle / to_verify / "
                       "to_close / extensions / overdue / supervised / open / all")
    state: str = ""
    grid: str = Field("", description="网格或上级区划代码")
    category: str = Field("", description="小类或大类编码")
    source: str = ""
    department: str = Field("", description="主办部门编码")
    q: str = Field("", max_length=50, description="编号、描述、地址或外部工单号")
    start: date | None = Field(None, description="上报日期起")
    end: date | None = Field(None, description="上报日期止")


class AllowedOpOut(Schema):
    op: str
    label: str
    required: list[str] = Field(description="规则表要求的字段(unit 即 department 或 region)")
    path: str = Field(description="执行该操作的接口地址")


class PhotoOut(Schema):
    id: int
    url: str
    stage: str
    stage_label: str
    width: int
    height: int
    lat: float | None
    lon: float | None
    taken_at: datetime | None


class AssignmentOut(Schema):
    role: str
    role_label: str
    unit: UnitRef
    outcome: str
    outcome_label: str
    created_at: datetime
    ended_at: datetime | None


class ExtensionOut(Schema):
    id: int
    days: int
    reason: str
    status: str
    status_label: str
    requested_by: str
    requested_at: datetime
    decided_by: str
    decided_at: datetime | None
    decision_note: str


class SupervisionOut(Schema):
    level: int
    level_label: str
    note: str
    unit: str
    by: str
    created_at: datetime


class EventDetail(EventOut):
    title: str
    external_id: str
    reporter: str = Field(description="上报人姓名,或匿名反映人留下的称呼")
    contact_phone_mask: str
    person: IdName | None = Field(description="关联人员(仅对有权查看者显示)")
    house: IdName | None
    organisation: IdName | None
    result: str
    master: str | None = Field(description="已合并时:并入的事件编号")
    duplicates: list[str] = Field(description="并入本事件的重复事件编号")
    self_resolved: bool
    closed_on_time: bool | None
    reopen_count: int
    return_count: int
    escalation_count: int
    extension_count: int
    rating: str
    rating_label: str
    accepted_at: datetime | None
    dispatched_at: datetime | None
    handled_at: datetime | None
    closed_at: datetime | None
    rated_at: datetime | None
    dispatch_deadline: datetime | None
    handle_deadline: datetime | None
    allowed_ops: list[AllowedOpOut] = Field(description="当前用户现在可以执行的操作")
    photos: list[PhotoOut]
    assignments: list[AssignmentOut]
    extensions: list[ExtensionOut]
    supervisions: list[SupervisionOut]


class TimelineEntryOut(Schema):
    id: int
    op: str
    op_label: str
    actor: str
    from_state: str
    from_label: str
    to_state: str
    to_label: str
    note: str
    data: dict
    created_at: datetime
    photos: list[PhotoOut]


class TimelinePage(PageMeta):
    items: list[TimelineEntryOut]


class QueueOut(Schema):
    key: str
    label: str
    count: int


class QueuesOut(Schema):
    items: list[QueueOut]


class DuplicateOut(Schema):
    serial: str
    state: str
    state_label: str
    category: CodeName
    grid: CodeName
    description: str
    address: str
    reported_at: datetime
    distance_m: int = Field(description="与该位置的距离(米)")


class DuplicatesOut(Schema):
    metres: int = Field(description="查找范围(米)")
    hours: int = Field(description="查找时间窗(小时)")
    items: list[DuplicateOut]


class DuplicateFilters(Schema):
    category: str = Field(description="小类编码")
    lat: float = Field(ge=-90, le=90)
    lon: float = Field(ge=-180, le=180)


class MapFilters(Schema):
    limit: int = Field(2000, ge=1, le=5000)


class MapPointOut(Schema):
    serial: str
    lat: float
    lon: float
    state: str
    state_label: str
    category: str
    colour: str = Field(description="超期状态颜色:green / yellow / red,无计时为空")
    urgent: bool
    supervised: int = Field(description="督办级别,0 为未督办")


class MapOut(Schema):
    count: int
    items: list[MapPointOut]


class StepOut(Schema):
    at: datetime
    op: str
    text: str


class MyEventOut(Schema):
    serial: str
    category: str
    description: str
    address: str
    state: str
    state_label: str
    reported_at: datetime
    closed_at: datetime | None
    result: str
    rating: str
    rating_label: str
    can_rate: bool
    steps: list[StepOut] = Field(description="办理经过,用居民看得懂的话")


class MyEventPage(PageMeta):
    items: list[MyEventOut]


# --- Inbox ---------------------------------------------------------------------------------


class MessageOut(Schema):
    id: int
    kind: str
    text: str
    event: str | None = Field(description="相关事件编号")
    created_at: datetime
    read_at: datetime | None


class MessagePage(PageMeta):
    items: list[MessageOut]


class MessageFilters(PageParams):
    unread: bool = Field(False, description="只列未读")


class MessagesReadIn(Schema):
    ids: list[int] | None = Field(None, max_length=500, description="不填则全部标为已读")


class MessagesReadOut(Schema):
    marked: int
