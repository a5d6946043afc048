"""Request and response shapes of the field-work API (/api/v1/fieldwork/…, see api.py)."""

from __future__ import annotations

import datetime as dt
import re
from typing import Literal
from uuid import UUID

from ninja import Field, Schema
from pydantic import field_validator

from gezhi.core.pagination import PageMeta, PageParams
from gezhi.core.schemas import FormSchema

CLIENT_ID_DOC = "手机生成的 UUID;同一 client_id 再次提交返回原记录(200),不会重复记录"


# --- References ----------------------------------------------------------------------------


class CodeName(Schema):
    code: str
    name: str


class IdName(Schema):
    id: int
    name: str


class HouseRef(Schema):
    id: int
    address: str


class PhotoOut(Schema):
    id: int
    url: str = Field(description="照片地址(仅对可查看该记录的用户开放)")
    width: int
    height: int


class EventRef(Schema):
    serial: str
    state: str
    state_label: str


# --- 民情日记 ------------------------------------------------------------------------------


class DiaryIn(Schema):
    client_id: UUID | None = Field(None, description=CLIENT_ID_DOC)
    date: dt.date | None = Field(None, description="日期,默认今天")
    place: str = Field("", description="地点(最多 200 字)")
    lat: float | None = Field(None, ge=-90, le=90, description="纬度 (WGS-84)")
    lon: float | None = Field(None, ge=-180, le=180, description="经度 (WGS-84)")
    house: int | None = Field(None, description="房屋编号")
    text: str = Field("", description="所见所闻(必填,最多 2000 字)")
    event_category: str = Field(
        "", description="同时上报事件:小类编码;事件来源为网格员巡查,带日记的文字、位置和照片")
    event_self_resolve: bool = Field(False, description="事件已自行处置(须填 event_result)")
    event_result: str = Field("", description="自行处置的结果")


class DiaryForm(FormSchema, DiaryIn):
    pass


class DiaryEventIn(Schema):
    category: str = Field(description="小类编码")
    description: str = Field("", description="事件描述,默认用日记的文字")
    self_resolve: bool = False
    result: str = ""


class DiaryOut(Schema):
    id: int
    client_id: UUID | None
    date: dt.date
    place: str
    lat: float | None
    lon: float | None
    grid: CodeName
    house: HouseRef | None
    text: str
    author: str
    photos: list[PhotoOut]
    event: EventRef | None = Field(description="由这条日记上报的事件")
    created_at: dt.datetime


class DiaryPage(PageMeta):
    items: list[DiaryOut]


class DiaryFilters(PageParams):
    author: Literal["me", "all"] = Field("all", description="me:只看我记的")
    grid: str = Field("", description="网格或上级区划代码")
    start: dt.date | None = Field(None, description="日期起")
    end: dt.date | None = Field(None, description="日期止")


# --- 入户走访 ------------------------------------------------------------------------------


class VisitIn(Schema):
    client_id: UUID | None = Field(None, description=CLIENT_ID_DOC)
    house: int | None = Field(None, description="房屋编号(必填)")
    visited_at: dt.datetime | None = Field(None, description="走访时间,默认现在")
    outcome: str = Field("met", description="met 见到住户 / nobody 无人在家 / refused 拒绝入户")
    people_met: list[int] = Field(default_factory=list, max_length=50,
                                  description="见到的人:该房屋现住人员的编号")
    needs: str = Field("", description="发现的需求")
    follow_ups: str = Field("", description="跟进事项")
    note: str = Field("", description="备注")
    next_visit_on: dt.date | None = Field(None, description="下次走访日期(可早于走访周期)")
    lat: float | None = Field(None, ge=-90, le=90)
    lon: float | None = Field(None, ge=-180, le=180)


class VisitForm(FormSchema, VisitIn):
    """people_met as repeated form fields or one comma-separated field."""

    @field_validator("people_met", mode="before")
    @classmethod
    def _split(cls, value):
        if isinstance(value, str):
            value = [value]
        if isinstance(value, list | tuple):
            out = []
            for item in value:
                out += [p for p in re.split(r"[,,\s]+", item) if p] if isinstance(item, str) \
                    else [item]
            return out
        return value


class VisitOut(Schema):
    id: int
    client_id: UUID | None
    house: HouseRef
    grid: CodeName
    visitor: str
    visited_at: dt.datetime
    outcome: str
    outcome_label: str
    people_met: list[IdName]
    needs: str
    follow_ups: str
    note: str
    next_visit_on: dt.date | None
    lat: float | None
    lon: float | None
    photos: list[PhotoOut]
    created_at: dt.datetime


class VisitPage(PageMeta):
    items: list[VisitOut]


class VisitFilters(PageParams):
    house: int | None = Field(None, description="房屋编号")
    visitor: Literal["me", "all"] = Field("all", description="me:只看我走访的")
    grid: str = Field("", description="网格或上级区划代码")
    start: dt.date | None = Field(None, description="走访日期起")
    end: dt.date | None = Field(None, description="走访日期止")


class DueHouse(Schema):
    id: int
    address: str
    lat: float | None
    lon: float | None


class TagOut(Schema):
    code: str
    name: str
    colour: str


class DueOut(Schema):
    house: DueHouse
    grid: CodeName
    tags: list[TagOut] = Field(description="现住人员的标签(特殊人群标签仅对有权查看者显示)")
    interval_days: int | None = Field(description="适用的走访周期(天);仅因约定日期而到期时为 null")
    last_visit_at: dt.datetime | None = Field(description="最近一次见到住户或拒绝入户的走访")
    next_visit_on: dt.date | None = Field(description="最近一次走访约定的下次走访日期")
    due_on: dt.date
    overdue_days: int = Field(description="已超期天数,0 为今天到期")


class DuePage(PageMeta):
    items: list[DueOut]


class DueFilters(PageParams):
    grid: str = Field("", description="网格或上级区划代码")


class CoverageFilters(Schema):
    region: str = Field("", description="区划代码(街道、社区或网格),默认全部辖区")
    days: int = Field(30, ge=1, le=366, description="统计最近多少天(含今天)")


class CoverageCounts(Schema):
    households: int = Field(description="户数:有现住人员的房屋")
    visited: int = Field(description="期间内走访到(见到住户或拒绝入户)的户数")
    share: float | None = Field(description="走访覆盖率 visited / households")
    tagged_households: int = Field(description="适用走访周期的关爱对象户数")
    tagged_visited: int
    tagged_share: float | None
    overdue: int = Field(description="走访已超期的户数")


class CoverageRow(CoverageCounts):
    grid: CodeName


class CoverageOut(Schema):
    days: int
    since: dt.date
    region: CodeName | None
    items: list[CoverageRow]
    totals: CoverageCounts


# --- 巡查 ----------------------------------------------------------------------------------


class PointIn(Schema):
    lat: float = Field(ge=-90, le=90)
    lon: float = Field(ge=-180, le=180)
    at: dt.datetime


class PatrolStartIn(Schema):
    client_id: UUID = Field(description=CLIENT_ID_DOC)
    started_at: dt.datetime | None = None
    lat: float | None = Field(None, ge=-90, le=90)
    lon: float | None = Field(None, ge=-180, le=180)


class PointsIn(Schema):
    points: list[PointIn] = Field(max_length=2000)


class PatrolStopIn(Schema):
    ended_at: dt.datetime | None = None
    note: str = Field("", description="巡查情况")
    points: list[PointIn] = Field(default_factory=list, max_length=2000)


class PatrolOut(Schema):
    client_id: UUID
    worker: str
    grid: CodeName
    started_at: dt.datetime
    ended_at: dt.datetime | None
    distance_m: int
    note: str
    track: dict = Field(description="GeoJSON Feature,几何为 LineString([经度, 纬度]),"
                        "properties.times 为各点时间;不足两点时坐标少于两个")
    points: int


class PatrolPage(PageMeta):
    items: list[PatrolOut]


class PatrolFilters(PageParams):
    worker: Literal["me", "all"] = Field("all", description="me:只看我的巡查")
    grid: str = Field("", description="网格或上级区划代码")
