"""A synthetic city: the base data (人地事物组织) of given grids, consistent and deterministic.

`generate_city` fills grids (Region rows with boundaries) with estates, buildings, units and
houses, the people living in them in households, residence links with history, care and
special-group tags, organisations and components. The same seed and grids give the same city.
`build_synthetic_regions` makes the grids themselves for benchmarks (`gezhi gen-city`), under
the code 370499 and west of the demo, so the two never overlap on the map or in codes.

What stays consistent:
- everything located lies inside its grid (points are drawn in the grid shrunk by about a
  metre, so rounding never moves one across an edge); a house is where its building is;
- a person's grid is the grid of the house they live in; each household has one head;
- ID numbers are valid GB 11643 numbers whose birth date and sex are the person's, phones are
  unique, both stored only as ciphertext + blind index + mask (gezhi.core.personal);
- credit codes are valid GB 32100 codes with a GB 11714 organisation code inside.

A grid whose 覆盖范围 reads like "龙泉苑1-6号楼、电业局宿舍1-3号楼、文化路1-45号沿街商户" (the
demo's grids do) gets exactly those estates with those buildings and its shops at those street
numbers; other grids get invented ones, and that description is written for them.

Rows are built as plain dicts with ids reserved in advance and written every 20,000 rows with
executemany (SQLite) or COPY (PostgreSQL), so memory does not grow with the city; see _Rows.
"""

from __future__ import annotations

import bisect
import functools
import itertools
import math
import random
import re
import time
from dataclasses import dataclass, replace
from datetime import date, datetime, timedelta
from decimal import Decimal
from types import SimpleNamespace

import shapely
from django.db import DatabaseError, connections, router, transaction
from django.db.models import Max, Q
from django.utils import timezone
from django.utils.translation import gettext as _
from shapely.geometry import shape

from gezhi.core.errors import GezhiError
from gezhi.core.personal import set_sensitive
from gezhi.core.validators import credit_check_char, id_check_digit, mask_id_number, mask_phone
from gezhi.demo import data
from gezhi.orgs.models import Organisation, OrgKind
from gezhi.party.models import PartyOrg
from gezhi.people.codes import (
    HouseholdRelation,
    IdType,
    PoliticalStatus,
    ResidenceKind,
    ResidenceRelation,
    ResidenceType,
    Sex,
)
from gezhi.people.models import Household, HouseholdMember, Person, PersonTag, Residence, Tag
from gezhi.people.services import tags_ensure
from gezhi.places.codes import COMPONENT_CLASSES
from gezhi.places.models import (
    Building,
    Component,
    ComponentClass,
    ComponentState,
    Estate,
    House,
    HouseUsage,
    Unit,
)
from gezhi.regions.geometry import geojson_geometry, metres_per_degree
from gezhi.regions.models import GridKind, GridPost, Level, Region, StaffMember
from gezhi.regions.services import region_create
from gezhi.regions.tiling import rectangle, split_polygon

SYNTHETIC_DISTRICT_CODE = "370499"  # not a real county: the benchmark city never meets real data
SYNTHETIC_DISTRICT_NAME = "格治模拟区"
SYNTHETIC_MARK = "gezhi gen-city 生成的模拟城区,用于性能测试。"
SYNTHETIC_EAST_LON = 116.95  # the synthetic city lies west of this meridian, the demo east of it
SYNTHETIC_CENTRE_LAT = 35.0
GRID_AREA_M2 = 100_000
GRIDS_PER_COMMUNITY = 12
COMMUNITIES_PER_SUBDISTRICT = 10
MARGIN_M = 1.5  # points keep this far from grid edges

# --- code tables -------------------------------------------------------------------------

# GB/T 2260 county codes in ID numbers. 户籍人口 of 滕州 mostly carry 370481, some were born in
# the rest of 枣庄 or in neighbouring counties; 流动人口 come from the rest of south Shandong,
# north Jiangsu, north Anhui and Henan.
LOCAL_ID_PREFIXES = (("370481", 86), ("370402", 2), ("370403", 2), ("370404", 2),
                     ("370405", 1), ("370406", 2), ("370883", 2), ("370826", 2), ("370881", 1))
FLOATING_ID_PREFIXES = (("370883", 4), ("370826", 4), ("370828", 2), ("370830", 2),
                        ("371302", 3), ("371721", 2), ("371722", 2), ("320382", 4),
                        ("320321", 3), ("320322", 4), ("341321", 3), ("341322", 3),
                        ("341302", 2), ("341221", 2), ("411525", 1), ("410526", 1),
                        ("500101", 1), ("130203", 1))
ETHNICITY_WEIGHTS = (("01", 9880), ("03", 70), ("11", 20), ("02", 10), ("08", 5), ("10", 5),
                     ("06", 5), ("15", 5))
HOUSEHOLD_SIZES = ((1, 22), (2, 30), (3, 27), (4, 13), (5, 8))
USAGE_WEIGHTS = ((HouseUsage.OWNER_OCCUPIED, 75), (HouseUsage.RENTED, 15), (HouseUsage.VACANT, 8))
COMMERCIAL_SHARE = 0.02  # of all houses; only ground floors are shops

ESTATE_WORDS = ("善国", "龙泉", "荆河", "文昌", "金地", "鑫源", "恒泰", "华府", "盛世", "阳光",
                "幸福", "和谐", "锦绣", "翡翠", "紫御", "天润", "北辛", "杏坛", "鲁班", "墨子",
                "滨河", "御景", "香榭", "碧水", "东城", "西苑", "南湖", "泰和", "瑞丰", "安居",
                "康乐", "富源", "丽景", "凤凰", "银河", "新城", "中央", "尚城", "玉龙", "春晖",
                "明德", "博文", "清泉", "荷花", "红荷", "善园", "滕阳", "薛国", "微湖", "龙阳")
ESTATE_SUFFIXES = ("小区", "花园", "苑", "家园", "新村", "华庭", "名邸", "嘉园", "公馆", "华府",
                   "雅居", "佳苑", "景园", "名苑", "盛景小区", "花苑", "新苑")
STREET_WORDS = ("文化", "育才", "善国", "杏坛", "北辛", "平行", "龙泉", "荆河", "解放", "学院",
                "府前", "塔寺", "鲁班", "墨子", "大同", "益康", "玄武", "腾飞", "恒山", "泰山",
                "华山", "衡山", "嵩山", "长白山", "太行山", "峄山", "奚仲", "孟尝君", "滨湖",
                "工业", "建设", "民生", "振兴", "和平", "幸福", "光明", "吉祥", "永安", "新兴")
STREET_SUFFIXES = ("路", "中路", "北路", "南路", "东路", "西路", "大道", "街")
COMMUNITY_WORDS = ESTATE_WORDS
OLD_COMPOUND_SUFFIXES = ("宿舍", "家属院")

# 个体工商户 along the streets: (shop, industry). 羊肉汤 and 菜煎饼 are what 滕州 eats.
SHOP_KINDS = (("便利店", "零售业"), ("超市", "零售业"), ("水果店", "零售业"), ("烧烤", "餐饮业"),
              ("羊肉汤馆", "餐饮业"), ("菜煎饼", "餐饮业"), ("面馆", "餐饮业"), ("早餐店", "餐饮业"),
              ("理发店", "居民服务业"), ("干洗店", "居民服务业"), ("药店", "零售业"),
              ("五金店", "零售业"), ("手机店", "零售业"), ("母婴店", "零售业"), ("茶叶店", "零售业"),
              ("烟酒店", "零售业"), ("修车铺", "修理业"), ("快递驿站", "邮政业"), ("打印店", "商务服务业"),
              ("花店", "零售业"), ("粮油店", "零售业"), ("眼镜店", "零售业"))
SHOP_WORDS = ("惠民", "便民", "好运来", "家家乐", "福满多", "百姓", "金牛", "兴旺", "顺发", "喜盈门",
              "鑫鑫", "红运", "万家", "众鑫", "开心", "乐购", "老街坊", "实惠", "诚信", "美佳")
ENTERPRISE_WORDS = ("鑫源", "恒泰", "华宇", "盛达", "鲁南", "金科", "润丰", "宏图", "瑞祥", "博远",
                    "天成", "聚德", "嘉禾", "信达", "永盛", "东方", "新世纪", "银丰", "泰丰", "德润",
                    "开元", "中诚", "金鼎", "汇通", "广源", "远航", "正泰", "宏达", "隆昌", "亿丰")
ENTERPRISE_TRADES = (("机械制造", "制造业"), ("商贸", "批发和零售业"), ("建筑工程", "建筑业"),
                     ("电子科技", "信息技术服务业"), ("食品", "制造业"), ("物流", "交通运输业"),
                     ("装饰工程", "建筑业"), ("纺织", "制造业"), ("信息技术", "信息技术服务业"),
                     ("餐饮管理", "餐饮业"), ("家政服务", "居民服务业"), ("医药", "批发和零售业"),
                     ("教育咨询", "教育"), ("广告传媒", "商务服务业"), ("汽车销售", "批发和零售业"))
PROPERTY_SUFFIXES = ("物业服务有限公司", "物业管理有限公司")
SOCIAL_ORGS = (("老年人协会", "51"), ("志愿者协会", "51"), ("书画协会", "51"),
               ("社会工作服务中心", "52"), ("养老服务中心", "52"), ("托育服务中心", "52"))
PUBLIC_EMPLOYERS = ("滕州市人民医院", "滕州市中心人民医院", "滕州市中医医院", "滕州市第一中学",
                    "滕州市实验小学", "滕州市北辛街道办事处", "滕州市公安局", "国网滕州市供电公司",
                    "滕州市自来水公司", "中国邮政滕州市分公司", "滕州市公共交通公司",
                    "滕州市城市管理局", "滕州市税务局", "中国工商银行滕州支行", "滕州农商银行")
OVERSEAS = ((IdType.HK_MACAO, ("陈家豪", "黄志明", "梁淑仪", "李嘉欣", "何国强")),
            (IdType.TAIWAN, ("林志宏", "张雅婷", "王建民", "吴佩珊")),
            (IdType.PASSPORT, ("金敏俊", "朴智妍", "李贤宇", "崔秀晶", "佐藤健太", "铃木美咲")))

# Components (部件) of a basic grid, by class code of gezhi.places.codes: (code, owner unit,
# how many). A dedicated grid has more street lights and cameras, fewer of the rest.
COMPONENT_KINDS = (
    ("0101", "滕州市自来水公司", (3, 8)),  # 上水井盖
    ("0102", "滕州市排水管理处", (3, 8)),  # 污水井盖
    ("0103", "滕州市排水管理处", (2, 6)),  # 雨水井盖
    ("0105", "国网滕州市供电公司", (1, 4)),  # 电力井盖
    ("0107", "中国联通滕州市分公司", (1, 4)),  # 通信井盖
    ("0111", "滕州市燃气公司", (1, 3)),  # 燃气井盖
    ("0114", "滕州市消防救援大队", (2, 5)),  # 消火栓
    ("0117", "滕州市路灯管理所", (8, 20)),  # 路灯
    ("0122", "滕州市公安局", (2, 6)),  # 监控电子眼
    ("0306", "滕州市环境卫生管理处", (2, 6)),  # 垃圾箱
    ("0126", "滕州市体育局", (0, 2)),  # 健身设施
)
DEDICATED_MORE = ("0117", "0122")
COMPONENT_STATES = ((ComponentState.NORMAL, 95), (ComponentState.DAMAGED, 4),
                    (ComponentState.LOST, 1))

# 专属网格: what a dedicated grid serves, from the name of its purpose.
DEDICATED_KEYWORDS = (("school", ("中学", "小学", "学校", "幼儿园", "学院")),
                      ("hospital", ("医院", "卫生", "保健院")),
                      ("park", ("产业园", "创业园", "科技园", "工业园")),
                      ("station", ("车站", "汽车站", "总站", "火车站")),
                      ("market", ("市场", "装饰城", "批发")),
                      ("commerce", ("步行街", "商业街", "街区", "商城")))
SYNTHETIC_DEDICATED = (("school", "{street}小学"), ("market", "{street}农贸市场"),
                       ("hospital", "{word}医院"), ("park", "{word}产业园"),
                       ("venue", "{word}公园"), ("school", "{word}中学"),
                       ("commerce", "{street}商业街"))

CARE_NOTES = {
    "disabled": ("肢体残疾三级", "肢体残疾四级", "视力残疾二级", "听力残疾三级", "智力残疾三级"),
    "hardship_family": ("低保户", "特困供养人员", "低保边缘户", "因病致困"),
    "lone_elderly": ("子女在外地", "老伴已故", ""),
    "left_behind_child": ("父母在外务工",),
}
# Rates of special groups (特殊人群, restricted) among adults: a few in ten thousand.
RESTRICTED_RATES = (("community_correction", 0.0008, 20, 60),
                    ("released_prisoner", 0.0012, 25, 70),
                    ("severe_mental_disorder", 0.0015, 18, 85),
                    ("drug_user", 0.0003, 20, 55),
                    ("key_petitioner", 0.0006, 40, 80))

_CREDIT_ALPHABET = "0123456789ABCDEFGHJKLMNPQRTUWXY"
_ORG_CODE_WEIGHTS = (3, 7, 9, 10, 5, 8, 4, 2)


# --- small helpers -----------------------------------------------------------------------

@functools.cache
def _cumulative(table: tuple) -> tuple[tuple, list[float]]:
    values, weights = zip(*table, strict=True)
    return values, list(itertools.accumulate(weights))


def _weighted(rng: random.Random, table: tuple):
    values, cumulative = _cumulative(table)
    return values[bisect.bisect(cumulative, rng.random() * cumulative[-1])]


def _org_code(rng: random.Random, *, head: str = "") -> str:
    """A 9-character GB 11714 organisation code, check character included.

    Codes issued together with a credit code since 2015 start with MA (market regulators) or
    MJ (civil affairs); older ones are 8 digits and a check."""
    if head:
        body = head + "".join(rng.choice(_CREDIT_ALPHABET) for _char in range(8 - len(head)))
    else:
        body = "".join(rng.choice("0123456789") for _char in range(8))
    total = sum(int(c, 36) * w for c, w in zip(body, _ORG_CODE_WEIGHTS, strict=True))
    check = 11 - total % 11
    return body + ("X" if check == 10 else "0" if check == 11 else str(check))


def credit_code(rng: random.Random, *, kind: str, region: str) -> str:
    """A valid 18-character unified social credit code (GB 32100) for this kind of
    organisation: registering office and category, region, organisation code, check."""
    prefix, head = {
        OrgKind.SHOP: ("92", "MA"),
        OrgKind.ENTERPRISE: ("91", "MA" if rng.random() < 0.6 else ""),
        OrgKind.PROPERTY_COMPANY: ("91", "MA" if rng.random() < 0.5 else ""),
        OrgKind.SOCIAL_ORG: (rng.choice(("51", "52")), "MJ"),
        OrgKind.OWNERS_COMMITTEE: ("Y1", ""),  # registered with housing offices: 其他
        OrgKind.RESIDENT_UNIT: ("12", ""),  # 事业单位 such as schools and hospitals
    }[kind]
    body = prefix + region + _org_code(rng, head=head)
    return body + credit_check_char(body)


def id_number(rng: random.Random, *, prefix: str, birth: date, male: bool) -> str:
    """A GB 11643 citizen ID number: region, birth date, sequence (odd for men), check digit."""
    sequence = rng.randrange(100) * 10 + rng.choice((1, 3, 5, 7, 9) if male else (0, 2, 4, 6, 8))
    first17 = f"{prefix}{birth:%Y%m%d}{sequence:03d}"
    return first17 + id_check_digit(first17)


def _mobile(rng: random.Random) -> str:
    return rng.choice(data.MOBILE_PREFIXES) + f"{rng.randrange(10**8):08d}"


def _landline(rng: random.Random) -> str:
    return f"0632-{rng.randrange(5_100_000, 8_899_999)}"


def person_name(rng: random.Random, *, surname: str, male: bool, birth_year: int) -> str:
    """A name that fits the person's generation."""
    roll = rng.random()
    if birth_year < 1965 and roll < 0.5:
        return surname + rng.choice(data.ELDER_MALE_GIVEN if male else data.ELDER_FEMALE_GIVEN)
    if birth_year >= 2005 and roll < 0.5:
        return surname + rng.choice(data.YOUNG_MALE_GIVEN if male else data.YOUNG_FEMALE_GIVEN)
    chars = data.MALE_CHARS if male else data.FEMALE_CHARS
    if rng.random() < 0.25:
        given = rng.choice(chars)
    else:
        given = rng.choice(data.MIDDLE_CHARS) + rng.choice(chars)
    name = surname + given
    return name if name not in data.RESERVED_NAMES else name + rng.choice(chars)


def _surname(rng: random.Random, *, other_than: str = "") -> str:
    while True:
        surname = rng.choice(data.SURNAMES)
        if surname != other_than:
            return surname


def dedicated_kind(purpose: str) -> str:
    """school, hospital, park, station, market, commerce or venue, from the purpose's name."""
    for kind, words in DEDICATED_KEYWORDS:
        if any(word in purpose for word in words):
            return kind
    return "venue"


def allocate(total: int, weights: list[float]) -> list[int]:
    """Integers proportional to weights that sum exactly to total (largest remainder)."""
    if total <= 0 or not weights or sum(weights) <= 0:
        return [0] * len(weights)
    scale = total / sum(weights)
    raw = [w * scale for w in weights]
    counts = [int(r) for r in raw]
    order = sorted(range(len(raw)), key=lambda i: raw[i] - counts[i], reverse=True)
    for i in order[:total - sum(counts)]:
        counts[i] += 1
    return counts


def _grid_rng(seed: int, code: str, salt: str = "") -> random.Random:
    return random.Random(f"gezhi-citygen:{seed}:{code}:{salt}")


# --- grid plans ----------------------------------------------------------------------------

@dataclass(frozen=True)
class GridPlan:
    """What a grid holds: estates with their building count, and a stretch of street whose
    numbers are its shops (沿街商户). A dedicated grid names what it serves instead."""

    estates: tuple[tuple[str, int], ...] = ()
    street: str = ""
    numbers: tuple[int, int] | None = None
    dedicated: str = ""

    def describe(self) -> str:
        parts = [estate_scope(name, n) for name, n in self.estates]
        if self.street and self.numbers:
            parts.append(f"{self.street}{self.numbers[0]}-{self.numbers[1]}号沿街商户")
        return "、".join(parts)


def estate_scope(name: str, buildings: int) -> str:
    """An estate's part of a 覆盖范围: 龙泉苑1-6号楼, or 电业局宿舍1号楼."""
    return f"{name}1号楼" if buildings == 1 else f"{name}1-{buildings}号楼"


_ESTATE_PART = re.compile(r"^(?P<name>.+?)(?:1-(?P<n>\d+)|1)号楼$")
_STREET_PART = re.compile(r"^(?P<street>\D+?)(?P<start>\d+)-(?P<end>\d+)号沿街商户$")


def plan_of(grid: Region) -> GridPlan | None:
    """The plan a grid's kind, purpose and 覆盖范围 state, or None when they state none."""
    if grid.grid_kind == GridKind.DEDICATED:
        return GridPlan(dedicated=dedicated_kind(grid.purpose or grid.name))
    estates, street, numbers = [], "", None
    for part in (p.strip() for p in (grid.description or "").split("、")):
        if m := _ESTATE_PART.match(part):
            estates.append((m["name"], max(1, min(int(m["n"] or 1), 60))))
        elif m := _STREET_PART.match(part):
            street, numbers = m["street"], (int(m["start"]), int(m["end"]))
    if not estates and not street:
        return None
    return GridPlan(estates=tuple(estates), street=street, numbers=numbers)


# --- sampling points inside a grid ---------------------------------------------------------

class _Area:
    """Random points strictly inside a grid, kept MARGIN_M from its edges."""

    def __init__(self, grid: Region, rng: random.Random):
        geom = shape(grid.boundary)
        lat0 = geom.centroid.y
        self.kx, self.ky = metres_per_degree(lat0)
        margin = MARGIN_M / self.ky
        inner = geom.buffer(-margin)
        self.geom = inner if not inner.is_empty and inner.area > geom.area * 0.05 else geom
        shapely.prepare(self.geom)
        self.bounds = self.geom.bounds
        self.rng = rng

    def point(self) -> tuple[float, float]:
        minx, miny, maxx, maxy = self.bounds
        for _attempt in range(10_000):
            x, y = self.rng.uniform(minx, maxx), self.rng.uniform(miny, maxy)
            if shapely.contains_xy(self.geom, x, y):
                return self._rounded(x, y)
        point = self.geom.representative_point()
        return point.x, point.y

    def near(self, lon: float, lat: float, radius_m: float) -> tuple[float, float]:
        """A point within radius_m of (lon, lat), inside the grid; anywhere inside if the
        neighbourhood is mostly outside."""
        for _attempt in range(30):
            x = lon + self.rng.uniform(-radius_m, radius_m) / self.kx
            y = lat + self.rng.uniform(-radius_m, radius_m) / self.ky
            if shapely.contains_xy(self.geom, x, y):
                return self._rounded(x, y)
        return self.point()

    def _rounded(self, x: float, y: float) -> tuple[float, float]:
        """Seven decimals (about 1 cm), still inside: the margin is far wider than that."""
        rx, ry = round(x, 7), round(y, 7)
        return (rx, ry) if shapely.contains_xy(self.geom, rx, ry) else (x, y)


# --- people ----------------------------------------------------------------------------------

@dataclass
class _Member:
    relation: str
    age: int
    male: bool
    surname: str = ""


def _composition(rng: random.Random, size: int, *, tenant: bool) -> tuple[str, list[_Member]]:
    """(household type, members with the head first), ages consistent between generations."""
    H = HouseholdRelation

    def couple(lo: int, hi: int) -> list[_Member]:
        age = rng.randint(lo, hi)
        male = rng.random() < 0.72
        spouse_age = max(18, age + (rng.randint(-5, 2) if male else rng.randint(-2, 5)))
        return [_Member(H.HEAD, age, male), _Member(H.SPOUSE, spouse_age, not male)]

    def children(parent_age: int, n: int, relation: str = H.CHILD) -> list[_Member]:
        out, age = [], parent_age - rng.randint(22, max(22, min(36, parent_age)))
        for _child in range(n):
            out.append(_Member(relation, max(0, age), rng.random() < 0.51))
            age -= rng.randint(1, 8)
        return out

    def parents(child_age: int, n: int) -> list[_Member]:
        age = min(98, child_age + rng.randint(22, 34))
        first_male = rng.random() < 0.4
        return [_Member(H.PARENT, min(98, age + (2 if k == 0 and first_male else 0)),
                        first_male if k == 0 else not first_male) for k in range(n)]

    roll = rng.random()
    if size == 1:
        if tenant:
            age = rng.randint(20, 40) if roll < 0.75 else rng.randint(40, 60) if roll < 0.95 \
                else rng.randint(60, 80)
            return ("single", [_Member(H.HEAD, age, rng.random() < 0.6)])
        if roll < 0.45:
            return ("lone_elderly", [_Member(H.HEAD, rng.randint(65, 93), rng.random() < 0.38)])
        return ("single", [_Member(H.HEAD, rng.randint(23, 64), rng.random() < 0.55)])
    if size == 2:
        if not tenant and roll < 0.45:
            return ("elderly_couple", couple(60, 88))
        if roll < (0.75 if not tenant else 0.6):
            return ("couple", couple(23, 40))
        if roll < 0.9:
            head = _Member(H.HEAD, rng.randint(30, 52), rng.random() < 0.3)
            return ("single_parent", [head, *children(head.age, 1)])
        if tenant:
            head = _Member(H.HEAD, rng.randint(19, 32), rng.random() < 0.5)
            return ("siblings", [head, _Member(H.SIBLING, max(16, head.age + rng.randint(-5, 5)),
                                               rng.random() < 0.5)])
        head = _Member(H.HEAD, rng.randint(32, 58), rng.random() < 0.55)
        return ("with_parent", [head, *parents(head.age, 1)])
    if size == 3:
        if not tenant and roll < 0.06:
            grandparents = couple(56, 74)
            return ("left_behind", [*grandparents,
                                    _Member(H.GRANDCHILD, rng.randint(3, 15), rng.random() < 0.52)])
        if roll < 0.84:
            pair = couple(26, 52)
            return ("family", [*pair, *children(pair[0].age, 1)])
        pair = couple(30, 56)
        return ("with_parent", [*pair, *parents(pair[0].age, 1)])
    if size == 4:
        if not tenant and roll < 0.08:
            grandparents = couple(56, 74)
            return ("left_behind", [*grandparents,
                                    *children(grandparents[0].age - 26, 2, H.GRANDCHILD)])
        if roll < 0.62:
            pair = couple(30, 52)
            return ("family", [*pair, *children(pair[0].age, 2)])
        pair = couple(28, 52)
        return ("three_generations", [*pair, *children(pair[0].age, 1), *parents(pair[0].age, 1)])
    pair = couple(30, 50)
    if roll < 0.5:
        return ("three_generations", [*pair, *children(pair[0].age, 2), *parents(pair[0].age, 1)])
    return ("three_generations", [*pair, *children(pair[0].age, 1), *parents(pair[0].age, 2)])


def _household_sizes(rng: random.Random, people: int) -> list[int]:
    sizes, total = [], 0
    while total < people:
        size = min(_weighted(rng, HOUSEHOLD_SIZES), people - total)
        sizes.append(size)
        total += size
    return sizes


# --- writing rows ----------------------------------------------------------------------------

# Column types the database drivers take as Python gives them; others go through the field.
_PLAIN_TYPES = frozenset({"AutoField", "BigAutoField", "CharField", "TextField", "IntegerField",
                          "BigIntegerField", "SmallIntegerField", "PositiveIntegerField",
                          "PositiveSmallIntegerField", "PositiveBigIntegerField", "FloatField",
                          "ForeignKey"})
WRITE_ORDER = (Organisation, Estate, Building, Unit, House, Person, Household, HouseholdMember,
               Residence, PersonTag, Component)
ID_BLOCK = 1000
FLUSH_ROWS = 20_000  # rows kept before writing: few round trips, bounded memory


class _Rows:
    """Rows of the base-data tables, as dicts keyed by column (attname), written with one
    executemany per table and grid.

    Ids are reserved as a row is made (a block of the PostgreSQL sequence at a time; on SQLite,
    counting on from the highest id, safe because the transaction holds the write lock), so
    rows refer to each other before anything is written. bulk_create builds its SQL value by
    value, which at this volume costs more than generating the city."""

    def __init__(self):
        self.connection = connections[router.db_for_write(Person)]
        self.pending: dict[type, list[dict]] = {model: [] for model in WRITE_ORDER}
        self.written: dict[type, int] = dict.fromkeys(WRITE_ORDER, 0)
        self.next_id: dict[type, int] = {}
        self.reserved: dict[type, list[int]] = {}
        self.count = 0  # rows pending
        self.analysed = False
        # Unique values of the pending rows, which a database query cannot see yet.
        self.unique: dict[str, set[str]] = {"id_number_bidx": set(), "phone_bidx": set(),
                                            "credit_code": set()}

    def add(self, model, **row) -> dict:
        row["id"] = self._reserve(model)
        self.pending[model].append(row)
        self.count += 1
        return row

    def _reserve(self, model) -> int:
        if self.connection.vendor == "postgresql":
            block = self.reserved.get(model)
            if not block:
                with self.connection.cursor() as cursor:
                    cursor.execute("SELECT nextval(pg_get_serial_sequence(%s, %s))"
                                   " FROM generate_series(1, %s)",
                                   [model._meta.db_table, model._meta.pk.column, ID_BLOCK])
                    block = self.reserved[model] = [r[0] for r in cursor.fetchall()][::-1]
            return block.pop()
        if model not in self.next_id:
            self.next_id[model] = self._highest_id(model) + 1
        value = self.next_id[model]
        self.next_id[model] = value + 1
        return value

    def _highest_id(self, model) -> int:
        highest = model.objects.aggregate(m=Max("pk"))["m"] or 0
        if self.connection.vendor == "sqlite":  # AUTOINCREMENT never reuses a deleted id
            with self.connection.cursor() as cursor:
                cursor.execute("SELECT seq FROM sqlite_sequence WHERE name = %s",
                               [model._meta.db_table])
                found = cursor.fetchone()
            highest = max(highest, found[0] if found else 0)
        return highest

    def flush(self) -> None:
        now = timezone.now()
        connection = self.connection
        quote = connection.ops.quote_name
        with connection.cursor() as cursor:
            for model, rows in self.pending.items():
                if not rows:
                    continue
                fields = model._meta.concrete_fields
                names = [f.attname for f in fields]
                plain = [f.get_internal_type() in _PLAIN_TYPES for f in fields]
                # Defaults (created_at, version …) are the same for every row: prepared once.
                defaults = [now if getattr(f, "auto_now", False) or getattr(f, "auto_now_add", False)
                            else f.get_default() for f in fields]
                defaults = [d if p else f.get_db_prep_save(d, connection)
                            for d, p, f in zip(defaults, plain, fields, strict=True)]
                convert = [(i, f.attname, f) for i, (f, p) in enumerate(zip(fields, plain,
                                                                           strict=True)) if not p]
                columns = ", ".join(quote(f.column) for f in fields)
                if connection.vendor == "postgresql":
                    sql = f"COPY {quote(model._meta.db_table)} ({columns}) FROM STDIN"
                else:
                    sql = "INSERT INTO {} ({}) VALUES ({})".format(
                        quote(model._meta.db_table), columns, ", ".join(["%s"] * len(fields)))
                values = []
                for row in rows:
                    value = [row.get(name, default) for name, default in zip(names, defaults,
                                                                             strict=True)]
                    for i, name, f in convert:
                        if name in row:
                            value[i] = f.get_db_prep_save(value[i], connection)
                    values.append(value)
                if connection.vendor == "postgresql":  # COPY: one stream, no statement per row
                    with cursor.cursor.copy(sql) as copy:
                        for value in values:
                            copy.write_row(value)
                else:
                    for start in range(0, len(values), 2000):
                        cursor.executemany(sql, values[start:start + 2000])
                self.written[model] += len(rows)
                rows.clear()
        self.count = 0
        for values in self.unique.values():
            values.clear()
        if connection.vendor == "postgresql" and not self.analysed:
            self._analyse()

    def _analyse(self) -> None:
        """Fresh statistics once the first rows are in: without them PostgreSQL plans the
        uniqueness checks on a table it believes empty as full scans, for the whole run."""
        self.analysed = True
        tables = ", ".join(self.connection.ops.quote_name(m._meta.db_table)
                           for m in (Person, Organisation, Component))
        try:
            with transaction.atomic(using=self.connection.alias), self.connection.cursor() as cursor:
                cursor.execute(f"ANALYZE {tables}")
        except DatabaseError:  # not the tables' owner: slower checks, same result
            pass


def _sensitive(name: str, value: str, mask) -> dict:
    """The ciphertext, blind index and mask columns of one value (gezhi.core.personal)."""
    holder = SimpleNamespace()
    set_sensitive(holder, name, value, mask=mask)
    return vars(holder)


# --- the generator ---------------------------------------------------------------------------

@dataclass
class _BuildingSpec:
    estate: dict
    number: int
    floors: int
    units: int
    per_floor: int
    point: tuple[float, float]
    area_base: float


@dataclass
class _Resident:
    row: dict
    age: int
    male: bool
    relation: str
    number: str
    phone: str


class CityGenerator:
    """Generates grid after grid; see generate_city."""

    def __init__(self, *, seed: int, as_of: date | None = None, stdout=None,
                 progress: bool = True, showcase: frozenset[str] = frozenset()):
        self.seed = seed
        self.as_of = as_of or timezone.localdate()
        self.stdout = stdout
        self.progress = progress and stdout is not None
        self.showcase = showcase
        self.rows = _Rows()
        self.tags = _tags()
        self.component_classes = _component_classes()
        self.property_companies: list[dict] = []  # the latest, which new estates may share
        self.company_names: set[str] = set()
        self.employers: list[str] = list(PUBLIC_EMPLOYERS)
        self.elsewhere_houses: list[int] = []  # owner-occupied houses of earlier grids
        self.estate_names: set[str] = set()
        self.street_next: dict[str, int] = {}
        self.component_seq: dict[str, int] = {}
        self.tz = timezone.get_current_timezone()
        self.staff_phones = _staff_phones()
        self.restricted_tags = 0

    def run(self, grids: list[Region], people: list[int]) -> dict:
        started = time.monotonic()
        total = sum(people)
        self._existing_estate_names(grids)
        last_report = 0.0
        for index, (grid, n_people) in enumerate(zip(grids, people, strict=True)):
            self._grid(grid, n_people)
            if self.rows.count >= FLUSH_ROWS or index == len(grids) - 1:
                self.rows.flush()
            now = time.monotonic()
            if self.progress and (now - last_report > 0.5 or index == len(grids) - 1):
                last_report = now
                self._report(index + 1, len(grids), total, now - started)
        written = self.rows.written
        return {
            "grids": len(grids), "estates": written[Estate], "buildings": written[Building],
            "units": written[Unit], "houses": written[House], "people": written[Person],
            "households": written[Household], "residences": written[Residence],
            "person_tags": written[PersonTag], "restricted_tags": self.restricted_tags,
            "organisations": written[Organisation], "components": written[Component],
            "seconds": round(time.monotonic() - started, 2),
        }

    def _report(self, done: int, grids: int, total: int, seconds: float) -> None:
        written = self.rows.written
        rate = written[Person] / seconds if seconds else 0
        line = (f"网格 grids {done}/{grids} · 人口 people {written[Person]:,}/{total:,} · "
                f"房屋 houses {written[House]:,} · 组织 organisations {written[Organisation]:,}"
                f" · {rate:,.0f} 人/秒 people/s · {seconds:.1f} s")
        if getattr(self.stdout, "isatty", lambda: False)():
            _write(self.stdout, "\r" + line + "  ", newline=done == grids)
        elif done == grids or seconds - getattr(self, "_last_line", 0) >= 5:
            self._last_line = seconds
            _write(self.stdout, line, newline=True)

    def _existing_estate_names(self, grids: list[Region]) -> None:
        """Names already used, so invented estates repeat none of them."""
        roots = {g.path.split(".")[0] + "." for g in grids}
        query = Q()
        for root in roots:
            query |= Q(grid__path__startswith=root)
        if roots:
            self.estate_names.update(Estate.objects.filter(query).values_list("name", flat=True))
        for grid in grids:
            plan = plan_of(grid)
            if plan:
                self.estate_names.update(name for name, _n in plan.estates)

    # -- one grid --

    def _grid(self, grid: Region, n_people: int) -> None:
        rng = _grid_rng(self.seed, grid.code)
        area = _Area(grid, rng)
        stated = plan_of(grid)
        plan = stated or self._invent_plan(grid, rng, n_people)
        sizes = [] if plan.dedicated else _household_sizes(rng, n_people)
        if sizes and not plan.estates:  # people to house but no estate stated: invent one
            plan = replace(plan, estates=((self._estate_name(rng), max(1, n_people // 70)),))
        first_org = len(self.rows.pending[Organisation])
        estates = self._estates(grid, plan, rng, area)
        houses = self._houses(grid, plan, estates, sizes, rng, area) if estates else []
        if sizes:
            self._people(grid, houses, sizes, rng)
        self._organisations(grid, plan, estates, rng, area)
        self._components(grid, plan, rng, area)
        self._unique_credit_codes(rng, self.rows.pending[Organisation][first_org:])
        if not grid.description and plan.describe():
            Region.objects.filter(pk=grid.pk).update(description=plan.describe())
        owner_houses = [h["id"] for h in houses if h["usage"] == HouseUsage.OWNER_OCCUPIED]
        if owner_houses:
            picked = rng.sample(owner_houses, min(20, len(owner_houses)))
            self.elsewhere_houses = (self.elsewhere_houses + picked)[-2000:]

    def _invent_plan(self, grid: Region, rng: random.Random, n_people: int) -> GridPlan:
        street = self._street_of(grid)
        start = self.street_next.get(street, 1)
        end = start + rng.randrange(20, 60)
        self.street_next[street] = end + 1
        estates = []
        if n_people > 0:
            count = 1 if rng.random() < 0.7 or n_people < 150 else 2
            for k in range(count):
                buildings = max(1, min(12, round(n_people / count / 70 * rng.uniform(0.7, 1.3))))
                estates.append((self._estate_name(rng, old=k == 1), buildings))
        return GridPlan(estates=tuple(estates), street=street, numbers=(start, end))

    def _street_of(self, grid: Region) -> str:
        """Three streets per community; each grid faces one of them."""
        community_rng = _grid_rng(self.seed, grid.code[:-3], "streets")
        streets: list[str] = []
        while len(streets) < 3:
            street = rng_street(community_rng)
            if street not in streets:
                streets.append(street)
        return streets[int(grid.code[-3:]) % 3]

    def _estate_name(self, rng: random.Random, *, old: bool = False) -> str:
        for attempt in range(200):
            if old:
                name = (rng.choice(("粮食局", "供电公司", "机械厂", "纺织厂", "化肥厂", "建工",
                                    "水利局", "邮政局", "百货公司", "煤炭局", "交通局"))
                        + rng.choice(OLD_COMPOUND_SUFFIXES))
            else:
                name = rng.choice(ESTATE_WORDS) + rng.choice(ESTATE_SUFFIXES)
            if attempt > 50:
                name += rng.choice(("二期", "三期", "东区", "西区", "南区", "北区"))
            if attempt > 120:
                name += str(rng.randrange(2, 99))
            if name not in self.estate_names:
                self.estate_names.add(name)
                return name
        raise RuntimeError("estate names exhausted")

    def _estates(self, grid: Region, plan: GridPlan, rng: random.Random,
                 area: _Area) -> list[dict]:
        street = plan.street or self._street_of(grid)
        low, high = plan.numbers or (1, 200)
        estates = []
        for name, _buildings in plan.estates:
            old = name.endswith(OLD_COMPOUND_SUFFIXES)
            lon, lat = area.point()
            built = rng.randint(1980, 2002) if old else rng.randint(1992, 2022)
            company = None
            if rng.random() < (0.4 if old else 0.88):
                if self.property_companies and rng.random() < 0.65:
                    company = rng.choice(self.property_companies)
                else:
                    company = self._organisation(
                        grid, rng, kind=OrgKind.PROPERTY_COMPANY, point=area.near(lon, lat, 40),
                        name=self._company_name(rng), industry="物业管理",
                        employees=rng.randint(12, 160), address=f"{street}{rng.randint(low, high)}号")
                    self.property_companies = [*self.property_companies[-39:], company]
            estates.append(self.rows.add(
                Estate, grid_id=grid.pk, name=name, street=street, lat=lat, lon=lon,
                address=f"{street}{rng.randint(low, high)}号", built_year=built,
                property_company_id=company["id"] if company else None))
        return estates

    def _company_name(self, rng: random.Random) -> str:
        name = ""
        for attempt in range(100):
            word = rng.choice(ENTERPRISE_WORDS) + (rng.choice(ESTATE_WORDS) if attempt > 20 else "")
            name = f"滕州市{word}{rng.choice(PROPERTY_SUFFIXES)}"
            if name not in self.company_names:
                break
        self.company_names.add(name)
        return name

    def _houses(self, grid: Region, plan: GridPlan, estates: list[dict], sizes: list[int],
                rng: random.Random, area: _Area) -> list[dict]:
        """Buildings sized for the households, and exactly one occupied house per household."""
        counts = dict(plan.estates)
        specs: list[_BuildingSpec] = []
        for estate in estates:
            n = counts[estate["name"]]
            radius = 25 + 18 * math.sqrt(n)
            for number in range(1, n + 1):
                specs.append(_BuildingSpec(
                    estate=estate, number=number, floors=6, units=2, per_floor=2,
                    point=area.near(estate["lon"], estate["lat"], radius),
                    area_base=rng.uniform(58, 95) if estate["built_year"] < 2003
                    else rng.uniform(80, 128)))
        target = math.ceil(len(sizes) / 0.9) if sizes else 6 * len(specs)
        weights = [rng.uniform(0.7, 1.3) for _spec in specs]
        for spec, share in zip(specs, allocate(max(target, len(specs)), weights), strict=True):
            spec.floors, spec.units, spec.per_floor = _fit_building(
                rng, share, old=spec.estate["built_year"] < 2003)

        layout = [(b, u, f, k) for b, s in enumerate(specs) for u in range(1, s.units + 1)
                  for f in range(1, s.floors + 1) for k in range(1, s.per_floor + 1)]
        usages = [self._usage(rng, specs[b], f) for b, _u, f, _k in layout]
        needed = len(sizes)
        occupied = [i for i, u in enumerate(usages) if u in _OCCUPIED]
        while len(occupied) < needed:
            spare = [i for i, u in enumerate(usages) if u == HouseUsage.VACANT]
            if spare:
                for i in spare[:needed - len(occupied)]:
                    usages[i] = _weighted(rng, USAGE_WEIGHTS[:2])
            else:  # still short: the lowest building gets another floor
                b = min(range(len(specs)), key=lambda i: specs[i].floors)
                spec = specs[b]
                spec.floors += 1
                for u in range(1, spec.units + 1):
                    for k in range(1, spec.per_floor + 1):
                        layout.append((b, u, spec.floors, k))
                        usages.append(_weighted(rng, USAGE_WEIGHTS[:2]))
            occupied = [i for i, u in enumerate(usages) if u in _OCCUPIED]
        for i in rng.sample(occupied, len(occupied) - needed):
            usages[i] = HouseUsage.VACANT

        buildings, units = [], {}
        for b, spec in enumerate(specs):
            estate = spec.estate
            buildings.append(self.rows.add(
                Building, grid_id=grid.pk, estate_id=estate["id"], name=f"{spec.number}号楼",
                street=estate["street"], floors=spec.floors, lat=spec.point[1], lon=spec.point[0],
                address=f"{estate['address']}{estate['name']}{spec.number}号楼"))
            for u in range(1, spec.units + 1):
                units[b, u] = self.rows.add(Unit, building_id=buildings[b]["id"], name=f"{u}单元",
                                            sort_order=u)
        houses = []
        for (b, u, floor, k), usage in zip(layout, usages, strict=True):
            spec, building = specs[b], buildings[b]
            estate = spec.estate
            number = f"{floor}{k:02d}"
            size = min(140.0, max(50.0, spec.area_base * rng.uniform(0.85, 1.18)))
            houses.append(self.rows.add(
                House, grid_id=grid.pk, building_id=building["id"], unit_id=units[b, u]["id"],
                floor=floor, number=number, usage=usage, area_m2=Decimal(f"{size:.2f}"),
                lat=building["lat"], lon=building["lon"], _built_year=estate["built_year"],
                address=f"{estate['street']}{estate['name']}{building['name']}{u}单元{number}"))
        return houses

    def _usage(self, rng: random.Random, spec: _BuildingSpec, floor: int) -> str:
        if floor == 1 and rng.random() < min(0.5, COMMERCIAL_SHARE * spec.floors):
            return HouseUsage.COMMERCIAL
        return _weighted(rng, USAGE_WEIGHTS)

    # -- people, households, residences, tags --

    def _people(self, grid: Region, houses: list[dict], sizes: list[int],
                rng: random.Random) -> None:
        occupied = [h for h in houses if h["usage"] in _OCCUPIED]
        rng.shuffle(sizes)
        residents: list[_Resident] = []
        households: list[list[_Resident]] = []
        tags: list[tuple[_Resident, str, str]] = []
        for number, (house, size) in enumerate(zip(occupied, sizes, strict=True), start=1):
            tenant = house["usage"] == HouseUsage.RENTED
            kind, members = _composition(rng, size, tenant=tenant)
            residence_type = (
                ResidenceType.OVERSEAS if tenant and size <= 2 and rng.random() < 0.03
                else ResidenceType.FLOATING if rng.random() < (0.62 if tenant else 0.1)
                else ResidenceType.REGISTERED)
            prefix = _weighted(rng, FLOATING_ID_PREFIXES
                               if residence_type == ResidenceType.FLOATING else LOCAL_ID_PREFIXES)
            ethnicity = _weighted(rng, ETHNICITY_WEIGHTS)
            head_surname = _surname(rng)
            moved_in = self._moved_in(rng, house, tenant=tenant, head_age=members[0].age)
            household = [self._person(rng, grid, member, head_surname=head_surname,
                                      residence_type=residence_type, prefix=prefix,
                                      ethnicity=ethnicity) for member in members]
            head = household[0]
            record = self.rows.add(Household, number=f"{grid.code}{number:04d}",
                                   house_id=house["id"], grid_id=grid.pk, head_id=head.row["id"])
            for resident in household:
                self.rows.add(HouseholdMember, household_id=record["id"],
                              person_id=resident.row["id"], relation=resident.relation)
                since = max(moved_in, resident.row["birth_date"])
                family = resident.relation in (HouseholdRelation.HEAD, HouseholdRelation.SPOUSE)
                self.rows.add(
                    Residence, person_id=resident.row["id"], house_id=house["id"],
                    kind=ResidenceKind.LIVES, moved_in=since,
                    relation=(ResidenceRelation.TENANT if tenant else ResidenceRelation.OWNER
                              if family else ResidenceRelation.FAMILY))
                if family and rng.random() < 0.12:
                    self._lived_before(rng, resident, since, house, houses)
            if tenant and residence_type == ResidenceType.REGISTERED and rng.random() < 0.4:
                self._registered_elsewhere(rng, household, house, houses)
            residents += household
            households.append(household)
            self._care_tags(rng, kind, household, tags)
        for resident in residents:
            self._person_tags(rng, resident, tags)
        if grid.code in self.showcase:
            self._showcase(rng, households, tags)
        for resident, code, note in tags:
            self.rows.add(PersonTag, person_id=resident.row["id"], tag_id=self.tags[code].pk,
                          note=note, added_at=self._moment(rng, resident.row["birth_date"]))
            self.restricted_tags += self.tags[code].restricted
        self._unique_numbers(rng, residents)

    def _person(self, rng: random.Random, grid: Region, member: _Member, *, head_surname: str,
                residence_type: str, prefix: str, ethnicity: str) -> _Resident:
        H = HouseholdRelation
        if member.relation in (H.HEAD, H.CHILD, H.GRANDCHILD, H.SIBLING) or (
                member.relation == H.PARENT and member.male):
            surname = head_surname if rng.random() < 0.93 else _surname(rng)
        else:
            surname = _surname(rng, other_than=head_surname)
        birth = self.as_of - timedelta(days=member.age * 365 + rng.randrange(1, 365))
        overseas = residence_type == ResidenceType.OVERSEAS
        if overseas:
            id_type, names = rng.choice(OVERSEAS)
            name = rng.choice(names)
            number = _overseas_number(rng, id_type)
            ethnicity = "" if id_type == IdType.PASSPORT else "01"
        else:
            id_type = IdType.RESIDENT_ID
            name = person_name(rng, surname=surname, male=member.male, birth_year=birth.year)
            own_prefix = prefix
            if member.relation != H.HEAD and rng.random() < 0.15:  # e.g. a spouse from elsewhere
                own_prefix = _weighted(rng, LOCAL_ID_PREFIXES
                                       if residence_type == ResidenceType.REGISTERED
                                       else FLOATING_ID_PREFIXES)
            number = id_number(rng, prefix=own_prefix, birth=birth, male=member.male)
        age = member.age
        phone = ""
        if (age >= 16 and rng.random() < (0.62 if age >= 80 else 0.96)) or (
                12 <= age < 16 and rng.random() < 0.4):
            phone = _mobile(rng)
        row = self.rows.add(
            Person, name=name, sex=Sex.MALE if member.male else Sex.FEMALE, id_type=id_type,
            birth_date=birth, ethnicity=ethnicity,
            political_status="" if overseas else self._politics(rng, age),
            residence_type=residence_type, employer=self._employer(rng, age, residence_type),
            grid_id=grid.pk, id_tail=number[-4:], phone_tail=phone[-4:],
            **_sensitive("id_number", number, mask_id_number),
            **(_sensitive("phone", phone, mask_phone) if phone else {}))
        return _Resident(row=row, age=age, male=member.male, relation=member.relation,
                         number=number, phone=phone)

    def _politics(self, rng: random.Random, age: int) -> str:
        roll = rng.random()
        if age >= 18 and roll < (0.1 if age >= 60 else 0.075):
            return PoliticalStatus.CPC_MEMBER
        if 18 <= age <= 40 and roll < 0.11:
            return PoliticalStatus.CPC_PROBATIONARY if roll > 0.105 else PoliticalStatus.CPC_MEMBER
        if 14 <= age <= 28 and roll < 0.5:
            return PoliticalStatus.LEAGUE_MEMBER
        if age >= 30 and roll > 0.997:
            return PoliticalStatus.DEMOCRATIC_PARTY
        return PoliticalStatus.MASSES

    def _employer(self, rng: random.Random, age: int, residence_type: str) -> str:
        if not 18 <= age < 60:
            return ""
        roll = rng.random()
        if roll < 0.68:
            return self.employers[rng.randrange(len(self.employers))]
        if roll < 0.8:
            return "个体经营" if residence_type != ResidenceType.FLOATING else "灵活就业"
        return ""

    def _moved_in(self, rng: random.Random, house: dict, *, tenant: bool, head_age: int) -> date:
        if tenant:
            days = rng.randint(20, 4 * 365)
        else:
            built = date(house["_built_year"], 6, 1)
            adult = self.as_of - timedelta(days=max(0, head_age - 22) * 365)
            earliest = max(built, adult, self.as_of - timedelta(days=30 * 365))
            days = rng.randint(60, max(61, (self.as_of - earliest).days))
        return self.as_of - timedelta(days=days)

    def _moment(self, rng: random.Random, birth: date) -> datetime:
        day = max(birth, self.as_of - timedelta(days=rng.randint(1, 3 * 365)))
        return datetime(day.year, day.month, day.day, rng.randint(8, 17), rng.randrange(60),
                        tzinfo=self.tz)

    def _lived_before(self, rng, resident: _Resident, since: date, house: dict,
                      houses: list[dict]) -> None:
        """A closed residence at another house of the grid: where they rented before."""
        earliest = resident.row["birth_date"] + timedelta(days=18 * 365)
        moved_out = since - timedelta(days=rng.randint(1, 45))
        moved_in = moved_out - timedelta(days=rng.randint(200, 8 * 365))
        before = rng.choice(houses)
        if moved_in < earliest or before is house:
            return
        self.rows.add(Residence, person_id=resident.row["id"], house_id=before["id"],
                      kind=ResidenceKind.LIVES, relation=ResidenceRelation.TENANT,
                      moved_in=moved_in, moved_out=moved_out)

    def _registered_elsewhere(self, rng, household: list[_Resident], house: dict,
                              houses: list[dict]) -> None:
        """人户分离: local people renting here whose 户籍 is at another house."""
        candidates = self.elsewhere_houses or [
            h["id"] for h in houses if h is not house and h["usage"] == HouseUsage.OWNER_OCCUPIED]
        if not candidates:
            return
        other = rng.choice(candidates)
        for resident in household:
            self.rows.add(Residence, person_id=resident.row["id"], house_id=other,
                          kind=ResidenceKind.REGISTERED, relation=ResidenceRelation.FAMILY,
                          moved_in=max(resident.row["birth_date"], self.as_of - timedelta(
                              days=rng.randint(3 * 365, 25 * 365))))

    def _care_tags(self, rng, kind: str, household: list[_Resident], tags: list) -> None:
        head = household[0]
        if len(household) == 1 and head.age >= 65:
            if rng.random() < 0.8:
                tags.append((head, "lone_elderly", rng.choice(CARE_NOTES["lone_elderly"])))
        elif kind == "elderly_couple" and rng.random() < 0.45:
            tags += [(r, "empty_nest", "") for r in household if r.age >= 60]
        elif kind == "left_behind":
            tags += [(r, "left_behind_child", "父母在外务工") for r in household
                     if r.relation == HouseholdRelation.GRANDCHILD and r.age < 16
                     and rng.random() < 0.9]
        if rng.random() < (0.06 if kind in ("lone_elderly", "single_parent") else 0.015):
            tags.append((head, "hardship_family", rng.choice(CARE_NOTES["hardship_family"])))

    def _person_tags(self, rng, resident: _Resident, tags: list) -> None:
        age = resident.age
        if rng.random() < (0.035 if age >= 60 else 0.012):
            tags.append((resident, "disabled", rng.choice(CARE_NOTES["disabled"])))
        if resident.male and 25 <= age <= 85 and rng.random() < 0.04:
            year = min(self.as_of.year - 1, max(self.as_of.year - age + 20, self.as_of.year - 60))
            tags.append((resident, "veteran", f"{year}年退役"))
        if resident.row["id_type"] != IdType.RESIDENT_ID:
            return
        for code, rate, low, high in RESTRICTED_RATES:
            if low <= age <= high and rng.random() < rate:
                tags.append((resident, code, ""))

    def _showcase(self, rng, households: list[list[_Resident]], tags: list) -> None:
        """A demonstration grid: at least three households with care tags and two people in
        special groups (restricted), so the permissions have something to hide."""
        cared = {id(r) for r, code, _n in tags if not self.tags[code].restricted}
        plain = [h for h in households if not any(id(r) in cared for r in h)]
        missing = 3 - (len(households) - len(plain))
        for household in rng.sample(plain, max(0, min(missing, len(plain)))):
            head = household[0]
            code = "lone_elderly" if len(household) == 1 and head.age >= 65 else "disabled"
            tags.append((head, code, rng.choice(CARE_NOTES[code])))
        present = {code for _r, code, _n in tags if self.tags[code].restricted}
        flagged = {id(r) for r, code, _n in tags if self.tags[code].restricted}
        wanted = [c for c in ("community_correction", "severe_mental_disorder") if c not in present]
        adults = [r for h in households for r in h if 20 <= r.age <= 60 and id(r) not in flagged
                  and r.row["id_type"] == IdType.RESIDENT_ID]
        for code, resident in zip(wanted, rng.sample(adults, min(len(wanted), len(adults))),
                                  strict=False):
            tags.append((resident, code, ""))

    def _unique_numbers(self, rng: random.Random, residents: list[_Resident]) -> None:
        """No ID number or phone twice, in this grid, among the rows waiting to be written or
        among the people stored: the rare collision is drawn again."""
        for kind in ("id_number", "phone"):
            column = f"{kind}_bidx"
            pending = self.rows.unique[column]
            while True:
                seen: set[str] = set(pending)
                by_index: dict[str, _Resident] = {}
                clashes = []
                for resident in residents:
                    value = resident.row.get(column)
                    if not value:
                        continue
                    if value in seen or (kind == "phone" and resident.phone in self.staff_phones):
                        clashes.append(resident)
                    seen.add(value)
                    by_index[value] = resident
                clashes += [by_index[v] for v in _existing(Person, column, list(by_index))]
                if not clashes:
                    pending.update(by_index)
                    break
                for resident in clashes:
                    self._redraw(rng, resident, kind)

    def _redraw(self, rng: random.Random, resident: _Resident, kind: str) -> None:
        row = resident.row
        if kind == "phone":
            resident.phone = _mobile(rng)
            row.update(_sensitive("phone", resident.phone, mask_phone),
                       phone_tail=resident.phone[-4:])
            return
        if row["id_type"] == IdType.RESIDENT_ID:
            resident.number = id_number(rng, prefix=resident.number[:6], birth=row["birth_date"],
                                        male=resident.male)
        else:
            resident.number = _overseas_number(rng, row["id_type"])
        row.update(_sensitive("id_number", resident.number, mask_id_number),
                   id_tail=resident.number[-4:])

    # -- organisations and components --

    def _organisation(self, grid: Region, rng: random.Random, *, kind: str, name: str,
                      point: tuple[float, float], address: str = "", industry: str = "",
                      employees: int | None = None, estate: dict | None = None,
                      landline: bool = False) -> dict:
        contact = person_name(rng, surname=_surname(rng), male=rng.random() < 0.55,
                              birth_year=rng.randint(1960, 1998))
        representative = contact if kind in (OrgKind.SHOP, OrgKind.OWNERS_COMMITTEE) else \
            person_name(rng, surname=_surname(rng), male=rng.random() < 0.7,
                        birth_year=rng.randint(1955, 1990))
        phone = _landline(rng) if landline else _mobile(rng)
        return self.rows.add(
            Organisation, grid_id=grid.pk, name=name, kind=kind, lon=point[0], lat=point[1],
            address=address, industry=industry, employees=employees,
            estate_id=estate["id"] if estate else None, contact_name=contact,
            legal_representative=representative,
            credit_code=credit_code(rng, kind=kind, region=grid.code[:6]),
            **_sensitive("contact_phone", phone, mask_phone))

    def _unique_credit_codes(self, rng: random.Random, orgs: list[dict]) -> None:
        """A fresh code for the rare one drawn twice, waiting to be written or stored."""
        pending = self.rows.unique["credit_code"]
        while orgs:
            taken = set(_existing(Organisation, "credit_code", [o["credit_code"] for o in orgs]))
            seen: set[str] = set(pending)
            redo = []
            for org in orgs:
                if org["credit_code"] in taken or org["credit_code"] in seen:
                    redo.append(org)
                seen.add(org["credit_code"])
            if not redo:
                pending.update(o["credit_code"] for o in orgs)
                return
            for org in redo:
                org["credit_code"] = credit_code(rng, kind=org["kind"],
                                                 region=org["credit_code"][2:8])

    def _organisations(self, grid: Region, plan: GridPlan, estates: list[dict],
                       rng: random.Random, area: _Area) -> None:
        street = plan.street or self._street_of(grid)
        low, high = plan.numbers or (1, 120)

        def shops(n: int) -> None:
            for number in sorted(rng.sample(range(low, high + 1), min(n, high - low + 1))):
                shop, industry = rng.choice(SHOP_KINDS)
                label = (f"{_surname(rng)}记{shop}" if rng.random() < 0.35
                         else f"{rng.choice(SHOP_WORDS)}{shop}")
                self._organisation(grid, rng, kind=OrgKind.SHOP, name=f"滕州市{label}",
                                   point=area.point(), address=f"{street}{number}号",
                                   industry=industry, employees=rng.randint(1, 8))

        def enterprises(n: int) -> None:
            for _company in range(n):
                word, (trade, industry) = rng.choice(ENTERPRISE_WORDS), rng.choice(ENTERPRISE_TRADES)
                name = f"滕州市{word}{trade}有限公司"
                self._organisation(grid, rng, kind=OrgKind.ENTERPRISE, name=name,
                                   point=area.point(), industry=industry,
                                   address=f"{street}{rng.randint(low, high)}号",
                                   employees=rng.randint(8, 480), landline=rng.random() < 0.5)
                self.employers.append(name)

        if plan.dedicated:
            purpose = grid.purpose or grid.name
            public = plan.dedicated in ("school", "hospital", "venue", "station")
            operator = purpose if purpose.startswith("滕州") else f"滕州市{purpose}"
            self._organisation(
                grid, rng, kind=OrgKind.RESIDENT_UNIT if public else OrgKind.ENTERPRISE,
                name=purpose if public else f"{operator}运营管理有限公司", point=area.point(),
                address=f"{street}{rng.randint(low, high)}号",
                industry=DEDICATED_INDUSTRIES[plan.dedicated], employees=rng.randint(60, 1800),
                landline=True)
            if plan.dedicated in ("market", "commerce"):
                shops(rng.randint(14, 32))
            elif plan.dedicated == "park":
                enterprises(rng.randint(8, 20))
            else:
                shops(rng.randint(0, 3))
        else:
            if plan.numbers:
                shops(max(2, min(14, (high - low) // 4 + rng.randint(-3, 3))))
            enterprises(rng.choices((0, 1, 2, 3), (35, 35, 20, 10))[0])
            if rng.random() < 0.15:
                suffix, category = rng.choice(SOCIAL_ORGS)
                community = grid.parent.name if grid.parent_id else grid.name
                name = (f"{community}{suffix}" if category == "51"
                        else f"滕州市{rng.choice(ENTERPRISE_WORDS)}{suffix}")
                self._organisation(grid, rng, kind=OrgKind.SOCIAL_ORG, name=name,
                                   point=area.point(), industry="社会服务",
                                   employees=rng.randint(3, 40))
        for estate in estates:
            if not estate["name"].endswith(OLD_COMPOUND_SUFFIXES) and rng.random() < 0.3:
                self._organisation(
                    grid, rng, kind=OrgKind.OWNERS_COMMITTEE, name=f"{estate['name']}业主委员会",
                    point=area.near(estate["lon"], estate["lat"], 30), address=estate["address"],
                    estate=estate, industry="业主自治", employees=rng.randint(5, 9))
        del self.employers[:-400]

    def _components(self, grid: Region, plan: GridPlan, rng: random.Random,
                    area: _Area) -> None:
        street = plan.street or self._street_of(grid)
        low, high = plan.numbers or (1, 120)
        for code, owner, (least, most) in COMPONENT_KINDS:
            component_class = self.component_classes[code]
            if plan.dedicated:
                least, most = ((4, 12) if code in DEDICATED_MORE
                               else (min(1, least), max(1, most // 2)))
            prefix = grid.code[:6] + code
            seq = self.component_seq.get(prefix)
            if seq is None:
                seq = _last_sequence(prefix)
            for _component in range(rng.randint(least, most)):
                seq += 1
                lon, lat = area.point()
                self.rows.add(Component, grid_id=grid.pk, component_class_id=component_class.pk,
                              code=f"{prefix}{seq:06d}", name=component_class.name,
                              owner_unit=owner,
                              state=_weighted(rng, COMPONENT_STATES), lon=lon, lat=lat,
                              address=f"{street}{rng.randint(low, high)}号附近")
            self.component_seq[prefix] = seq


_OCCUPIED = (HouseUsage.OWNER_OCCUPIED, HouseUsage.RENTED)
DEDICATED_INDUSTRIES = {"school": "教育", "hospital": "卫生", "venue": "文化、体育和娱乐业",
                        "park": "园区管理", "station": "道路运输业", "market": "市场管理",
                        "commerce": "商业综合体"}


def _overseas_number(rng: random.Random, id_type: str) -> str:
    if id_type == IdType.HK_MACAO:  # 港澳居民来往内地通行证: H or M and 8 digits
        return rng.choice("HM") + f"{rng.randrange(10**8):08d}"
    if id_type == IdType.TAIWAN:  # 台湾居民来往大陆通行证: 8 digits
        return f"{rng.randrange(10**8):08d}"
    return rng.choice(("M", "E", "TR", "TZ")) + f"{rng.randrange(10**7):07d}"


def _fit_building(rng: random.Random, houses: int, *, old: bool) -> tuple[int, int, int]:
    """(floors, units, houses per floor) for about `houses` homes: mostly walk-ups of 3–7
    floors, always for old estates when they fit, otherwise up to 33 floors."""
    options = []
    for units in range(1, 5):
        for per_floor in range(2, 5):
            floors = round(houses / (units * per_floor))
            if 3 <= floors <= (7 if old else 33):
                options.append((floors, units, per_floor))
    if not options and old:
        return _fit_building(rng, houses, old=False)
    if not options:
        return (3, 1, 2) if houses < 6 else (33, 4, 4)
    walkups = [o for o in options if o[0] <= 7]
    return rng.choice(walkups if walkups and rng.random() < 0.7 else options)


def rng_street(rng: random.Random) -> str:
    return rng.choice(STREET_WORDS) + rng.choice(STREET_SUFFIXES)


def _write(stdout, text: str, *, newline: bool) -> None:
    try:
        stdout.write(text, ending="\n" if newline else "")
    except TypeError:  # a plain file, not Django's OutputWrapper
        stdout.write(text + ("\n" if newline else ""))
    flush = getattr(stdout, "flush", None)
    if flush:
        flush()


def _existing(model, column: str, values: list[str]) -> list[str]:
    found: list[str] = []
    for start in range(0, len(values), 500):
        found += model.objects.filter(**{f"{column}__in": values[start:start + 500]}).values_list(
            column, flat=True)
    return found


def _last_sequence(prefix: str) -> int:
    last = (Component.objects.filter(code__startswith=prefix, code__regex=rf"^{prefix}[0-9]{{6}}$")
            .aggregate(m=Max("code"))["m"])
    return int(last[len(prefix):]) if last else 0


def _staff_phones() -> set[str]:
    return set(StaffMember.objects.exclude(work_phone="").values_list("work_phone", flat=True))


def _tags() -> dict[str, Tag]:
    tags_ensure()
    return {tag.code: tag for tag in Tag.objects.all()}


def _component_classes() -> dict[str, ComponentClass]:
    """The classes used here by code, created from the seed table where missing (an
    administrator may have deleted one)."""
    wanted = {code for code, _owner, _range in COMPONENT_KINDS}
    found = {c.code: c for c in ComponentClass.objects.filter(code__in=wanted)}
    for code, name, major in COMPONENT_CLASSES:
        if code in wanted and code not in found:
            found[code] = ComponentClass.objects.create(code=code, name=name, major=major)
    return found


# --- public entry points ---------------------------------------------------------------------

class GridsNotEmpty(GezhiError):
    status = 409
    code = "grids_not_empty"


def holds_base_data(grids) -> bool:
    """Whether any of `grids` (Region rows or a queryset of them) holds base data already."""
    return any(model.objects.filter(grid__in=grids).exists()
               for model in (Estate, House, Person, Organisation, Component))


def generate_city(*, grids, people: int | None = None, people_per_grid: int | None = None,
                  seed: int = 0, stdout=None, progress: bool = True,
                  showcase: frozenset[str] | set[str] = frozenset(),
                  as_of: date | None = None) -> dict:
    """Fill `grids` (which must hold no base data yet) and return counts of what was made.

    Give `people`, a total shared unevenly among the basic grids as real grids differ (a few
    far above or below the rest, for the grid-health report to find), or `people_per_grid`,
    exactly that many in every basic grid. Dedicated grids (专属网格) get organisations and
    components but no homes. `showcase`: codes of grids that get at least three households
    with care tags and two people with special-group (restricted) tags.
    """
    if (people is None) == (people_per_grid is None):
        raise ValueError("give exactly one of people and people_per_grid")
    grids = sorted(Region.objects.filter(pk__in=[g.pk for g in grids], level=Level.GRID)
                   .select_related("parent"), key=lambda g: g.path)
    if holds_base_data(grids):
        raise GridsNotEmpty(_("所选网格中已有小区、人口、组织或部件数据,不能再生成。"))
    residential = [g for g in grids if g.grid_kind != GridKind.DEDICATED]
    if people_per_grid is not None:
        shares = dict.fromkeys((g.pk for g in residential), people_per_grid)
    else:
        weights = []
        for grid in residential:
            rng = _grid_rng(seed, grid.code, "weight")
            roll = rng.random()
            weights.append(rng.gammavariate(4.0, 1.0)
                           * (2.3 if roll < 0.05 else 0.35 if roll > 0.95 else 1.0))
        shares = dict(zip([g.pk for g in residential], allocate(people, weights), strict=True))
    generator = CityGenerator(seed=seed, stdout=stdout, progress=progress,
                              showcase=frozenset(showcase), as_of=as_of)
    with transaction.atomic():
        return generator.run(grids, [shares.get(g.pk, 0) for g in grids])


def build_synthetic_regions(*, grids: int, seed: int = 0,
                            district_code: str = SYNTHETIC_DISTRICT_CODE) -> list[Region]:
    """A district of `grids` grids of about 0.1 km² under `district_code`, west of the demo:
    subdistricts of up to 10 communities of about 12 grids, the last grid of a community of six
    or more a dedicated grid (专属网格). Returns the grids."""
    if grids < 1:
        raise ValueError("grids must be at least 1")
    rng = random.Random(f"gezhi-citygen-regions:{seed}")
    side = math.sqrt(grids * GRID_AREA_M2)
    kx, _ky = metres_per_degree(SYNTHETIC_CENTRE_LAT)
    outline = rectangle(SYNTHETIC_EAST_LON - side / 2 / kx, SYNTHETIC_CENTRE_LAT, side, side)
    district = region_create(code=district_code, name=SYNTHETIC_DISTRICT_NAME,
                             level=Level.DISTRICT, boundary=geojson_geometry(outline),
                             description=SYNTHETIC_MARK)
    n_communities = math.ceil(grids / GRIDS_PER_COMMUNITY)
    n_subdistricts = math.ceil(n_communities / COMMUNITIES_PER_SUBDISTRICT)
    per_subdistrict = allocate(n_communities, [1.0] * n_subdistricts)
    per_community = iter(allocate(grids, [1.0] * n_communities))
    pool = [w + s for s in ("", "东", "西", "南", "北") for w in COMMUNITY_WORDS]
    names = iter(rng.sample(pool, len(pool)))
    created: list[Region] = []
    number = 0
    cells = split_polygon(outline, n_subdistricts, seed=seed, relax=3)
    for s, (cell, n_comm) in enumerate(zip(cells, per_subdistrict, strict=True), start=1):
        code = f"{district_code}{s:03d}"
        number += 1
        subdistrict = region_create(code=code, name=f"{next(names, f'第{number}')}街道",
                                    level=Level.SUBDISTRICT, parent=district, sort_order=s,
                                    boundary=geojson_geometry(cell))
        for c, comm_cell in enumerate(split_polygon(cell, n_comm, seed=seed + s, relax=3),
                                      start=1):
            n_grids = next(per_community)
            number += 1
            comm_code = f"{code}{c:03d}"
            community = region_create(
                code=comm_code, name=f"{next(names, f'第{number}')}社区", level=Level.COMMUNITY,
                parent=subdistrict, sort_order=c, boundary=geojson_geometry(comm_cell))
            grid_cells = split_polygon(comm_cell, n_grids, seed=seed + int(comm_code[-6:]),
                                       relax=3)
            for g, grid_cell in enumerate(grid_cells, start=1):
                if n_grids >= 6 and g == n_grids:
                    _kind, template = SYNTHETIC_DEDICATED[number % len(SYNTHETIC_DEDICATED)]
                    purpose = template.format(street=rng.choice(STREET_WORDS),
                                              word=rng.choice(ESTATE_WORDS))
                    created.append(region_create(
                        code=f"{comm_code}901", name=f"{purpose}专属网格", level=Level.GRID,
                        parent=community, grid_kind=GridKind.DEDICATED, purpose=purpose,
                        sort_order=901, boundary=geojson_geometry(grid_cell)))
                else:
                    created.append(region_create(
                        code=f"{comm_code}{g:03d}", name=f"{community.name}第{g}网格",
                        level=Level.GRID, parent=community, grid_kind=GridKind.BASIC,
                        sort_order=g, boundary=geojson_geometry(grid_cell)))
    return created


def delete_synthetic_city(*, district_code: str = SYNTHETIC_DISTRICT_CODE) -> int:
    """Delete a district and all base data in it; return how many people were removed."""
    district = Region.objects.filter(code=district_code).first()
    if district is None:
        return 0
    if district.description != SYNTHETIC_MARK:  # never a real district, whatever the code
        raise GridsNotEmpty(_("%(code)s 不是 gen-city 生成的模拟城区,不能删除。")
                            % {"code": district_code})
    path = district.path
    inside = {"grid__path__startswith": path}
    removed = Person.objects.filter(**inside).count()
    with transaction.atomic():
        PersonTag.objects.filter(person__grid__path__startswith=path).delete()
        HouseholdMember.objects.filter(household__grid__path__startswith=path).delete()
        Residence.objects.filter(Q(house__grid__path__startswith=path)
                                 | Q(person__grid__path__startswith=path)).delete()
        Household.objects.filter(**inside).delete()
        Person.objects.filter(**inside).delete()
        Organisation.objects.filter(**inside).delete()
        Component.objects.filter(**inside).delete()
        House.objects.filter(**inside).delete()
        Unit.objects.filter(building__grid__path__startswith=path).delete()
        Building.objects.filter(**inside).delete()
        Estate.objects.filter(**inside).delete()
        GridPost.objects.filter(grid__path__startswith=path).delete()
        PartyOrg.objects.filter(region__path__startswith=path).delete()
        depths = Region.objects.filter(path__startswith=path).values_list("depth", flat=True)
        for depth in sorted(set(depths), reverse=True):
            Region.objects.filter(path__startswith=path, depth=depth).delete()
    return removed
