"""The demo subdistrict: 北辛街道, 滕州市 (seed 000), as plain data.

Everything here is invented except what seed 000 names: 北辛街道 with 10 community party
committees (社区党委), 128 basic grids and 48 dedicated grids, the community party secretary as
网格长 of every grid of the community, 120 网格指导员, 128 专职网格员 and 48 专业网格员;
文化路社区 and its secretary 刘合贵, 育才路社区, 善国盛景小区, 办事处主任梁刚, the resident 赵怀普.

Grid codes are the community code + 3 digits: basic grids 001…, dedicated grids (专属网格)
901… — a code starting with 9 says "dedicated" at a glance and leaves 001–899 for basic grids
when a community is re-divided.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field

CITY_CODE, CITY_NAME = "370400", "枣庄市"
DISTRICT_CODE, DISTRICT_NAME = "370481", "滕州市"
SUBDISTRICT_CODE, SUBDISTRICT_NAME = "370481001", "北辛街道"
SUBDISTRICT_DESCRIPTION = (
    "演示数据:北辛街道位于滕州市中心城区,下设10个社区党委,划分128个基础网格、48个专属网格。"
    "本演示中的社区、小区、人员和电话均为虚构,仅供体验。")
DEDICATED_CODE_START = 901

# Centre of 滕州 and the subdistrict outline, as metre offsets (east, north) from it. Convex, so
# every Voronoi cell of it (community, grid) is one convex polygon.
CENTRE_LON, CENTRE_LAT = 117.16, 35.08
OUTLINE_M = [(-2700, 1900), (-1200, 2450), (1500, 2350), (2800, 1500), (2950, -1200),
             (1800, -2300), (-900, -2450), (-2600, -1500)]

# Real-life structure: the 2020 reorganisation (seed 000) created the grids; posts date from it.
POSTS_SINCE = (2020, 7, 1)
RANDOM_SEED = 370481001

# 专属网格 kinds: what the professional grid worker (专业网格员) of such a grid is and does.
DEDICATED_KINDS = {
    "school": ("北辛派出所社区民警", "校园及周边治安防控、护学岗、交通秩序"),
    "hospital": ("北辛派出所社区民警", "院区治安巡查、医疗纠纷调处协助、消防安全"),
    "market": ("北辛市场监管所市场监管员", "食品安全、价格秩序、计量器具检查"),
    "park": ("街道应急管理办公室安全生产监管员", "企业安全生产检查、危化品与消防隐患排查"),
    "venue": ("北辛街道城管中队城管队员", "场馆周边市容秩序、占道经营与停车秩序"),
    "station": ("北辛派出所社区民警", "站区治安、旅客疏导、反诈宣传"),
    "commerce": ("北辛街道城管中队城管队员", "商业街区市容环境、店外经营、广告招牌管理"),
}


@dataclass(frozen=True)
class Dedicated:
    name: str  # the school, hospital, market … the grid serves (Region.purpose)
    kind: str  # key of DEDICATED_KINDS
    address: str  # street address, for the 覆盖范围 text


@dataclass(frozen=True)
class Community:
    name: str
    basic: int  # number of basic grids
    streets: tuple[str, ...]
    estates: tuple[str, ...]
    dedicated: tuple[Dedicated, ...]
    secretary: str = ""  # "" = generated
    extras: tuple[str, ...] = field(default=())  # small 宿舍 / 家属院 added to some grids


def _d(name: str, kind: str, address: str) -> Dedicated:
    return Dedicated(name, kind, address)


# In the order the tiling numbers the communities: north-west to south-east.
COMMUNITIES: tuple[Community, ...] = (
    Community(
        "文化路社区", 13, ("文化路", "善国北路", "学院中路"),
        ("善国盛景小区", "文化路小区", "翰林苑", "书香门第", "文化东苑", "学府花园", "东方红小区",
         "金色华庭", "银河小区", "康乐园", "文昌苑", "清华园", "状元府"),
        (_d("滕州市第一中学", "school", "学院中路1号"),
         _d("滕州市实验小学", "school", "文化路56号"),
         _d("文化路农贸市场", "market", "文化路东段118号"),
         _d("滕州市图书馆", "venue", "善国北路66号"),
         _d("善国商业步行街", "commerce", "善国北路与文化路交叉口")),
        secretary="刘合贵", extras=("教育局家属院", "电业局宿舍", "新华书店宿舍")),
    Community(
        "育才路社区", 13, ("育才路", "杏坛路", "北辛中路"),
        ("育才小区", "杏坛花园", "红荷花园", "教师新村", "育才东苑", "书院名邸", "锦华苑",
         "绿景花园", "北辛花园", "盛世华庭", "阳光丽景", "幸福里小区", "怡和园"),
        (_d("滕州市育才中学", "school", "育才路88号"),
         _d("滕州市育才小学", "school", "育才路12号"),
         _d("滕州市中医医院", "hospital", "杏坛路181号"),
         _d("育才路农贸市场", "market", "育才路与北辛中路交叉口"),
         _d("滕州市体育中心", "venue", "北辛中路299号")),
        extras=("体育场宿舍", "卫生局家属院")),
    Community(
        "善国社区", 12, ("善国中路", "平行路", "龙泉路"),
        ("善国花园", "善国新村", "平行路小区", "龙泉苑", "御景华庭", "华府名居", "金色港湾",
         "中央公馆", "凤凰城小区", "城建小区", "和顺园", "善国东苑"),
        (_d("滕州市人民医院", "hospital", "善国中路181号"),
         _d("善国农贸市场", "market", "平行路36号"),
         _d("滕州市妇幼保健院", "hospital", "龙泉路98号"),
         _d("滕州汽车总站", "station", "善国中路与平行路交叉口")),
        extras=("供电公司宿舍", "百货大楼宿舍")),
    Community(
        "北坛社区", 13, ("北坛路", "北辛西路", "荆河西路"),
        ("北坛小区", "北坛新村", "坛山花园", "荆西家园", "玉龙湾小区", "北辛西苑", "和谐家园",
         "龙城御苑", "尚城国际", "西城花园", "金地华府", "泰山苑", "坛东小区"),
        (_d("滕州市北辛中学", "school", "北坛路20号"),
         _d("北坛农贸市场", "market", "北坛路与北辛西路交叉口"),
         _d("北辛街道小微企业创业园", "park", "荆河西路666号"),
         _d("滕州机床产业园", "park", "北辛西路1号"),
         _d("北坛公园", "venue", "北坛路99号")),
        extras=("粮食局宿舍", "纺织厂宿舍", "机械厂宿舍")),
    Community(
        "荆河路社区", 13, ("荆河中路", "荆河东路", "解放北路"),
        ("荆河花园", "荆河小区", "荆东苑", "河畔人家", "滨河名苑", "水岸新城", "东湖苑",
         "荆水嘉园", "碧水湾小区", "银座华府", "解放路小区", "润园", "荆河湾"),
        (_d("滕州市荆河中学", "school", "荆河中路200号"),
         _d("荆河公园", "venue", "荆河中路与解放北路交叉口"),
         _d("银座商城滕州店", "commerce", "荆河中路128号"),
         _d("荆河农贸市场", "market", "荆河东路45号"),
         _d("滕州市第二人民医院", "hospital", "解放北路77号")),
        extras=("水利局宿舍", "交通局家属院")),
    Community(
        "杏坛社区", 13, ("杏坛东路", "学院东路", "北辛东路"),
        ("杏坛小区", "杏林苑", "桃李园", "学院小区", "书香苑", "明德园", "博文苑", "智慧家园",
         "春晖小区", "雅居园", "惠民小区", "杏坛新村", "北辛东苑"),
        (_d("滕州市职业教育中心学校", "school", "学院东路9号"),
         _d("滕州市实验幼儿园", "school", "杏坛东路15号"),
         _d("杏坛农贸市场", "market", "杏坛东路与北辛东路交叉口"),
         _d("滕州市电子商务产业园", "park", "北辛东路388号"),
         _d("北辛街道社区卫生服务中心", "hospital", "杏坛东路60号")),
        extras=("学院家属院", "邮政局宿舍")),
    Community(
        "府前路社区", 12, ("府前中路", "府前东路", "塔寺路"),
        ("府前小区", "府前花园", "塔寺小区", "塔寺新苑", "鑫源花园", "泰和园", "锦绣华城",
         "城市花园", "华泰园", "景园小区", "府东苑", "中心广场小区"),
        (_d("滕州市政务服务中心", "venue", "府前中路1号"),
         _d("塔寺路农贸市场", "market", "塔寺路52号"),
         _d("滕州市第二实验小学", "school", "府前东路30号"),
         _d("府前商业街", "commerce", "府前中路与塔寺路交叉口")),
        extras=("公安局家属院", "政府宿舍")),
    Community(
        "鲁班社区", 13, ("鲁班大道", "鲁班路", "龙泉南路"),
        ("鲁班花园", "鲁班新村", "匠心苑", "鲁班佳苑", "正和园", "恒泰花园", "万和园",
         "丰华苑", "天宇小区", "建设新村", "公输苑", "巧工坊小区", "龙南家园"),
        (_d("鲁班纪念馆", "venue", "鲁班大道1号"),
         _d("滕州市鲁班中学", "school", "鲁班路66号"),
         _d("鲁班科技产业园", "park", "鲁班大道888号"),
         _d("滕州建材装饰城", "market", "龙泉南路201号"),
         _d("滕州市鲁班小学", "school", "鲁班路9号")),
        extras=("建工宿舍", "二建公司宿舍")),
    Community(
        "墨子社区", 13, ("墨子路", "墨子东路", "大同南路"),
        ("墨子家园", "墨香苑", "兼爱小区", "尚贤苑", "墨园", "和平小区", "永安小区", "长安花园",
         "盛景苑", "百合园", "墨韵华庭", "书圣苑", "大同南苑"),
        (_d("墨子纪念馆", "venue", "墨子路1号"),
         _d("滕州市墨子中学", "school", "墨子东路18号"),
         _d("滕州市中心人民医院", "hospital", "墨子东路181号"),
         _d("墨子农贸市场", "market", "墨子路与大同南路交叉口"),
         _d("滕州市科技创业园", "park", "大同南路500号")),
        extras=("化肥厂宿舍", "棉纺厂宿舍")),
    Community(
        "龙泉社区", 13, ("龙泉北路", "龙泉中路", "大同路"),
        ("龙泉小区", "龙泉新村", "泉城花园", "大同小区", "大同新苑", "清泉苑", "泉水湾",
         "龙脉家园", "晨光小区", "永丰园", "瑞丰苑", "泉韵华府", "龙泉东苑"),
        (_d("龙泉广场", "venue", "龙泉中路与大同路交叉口"),
         _d("龙泉塔文化街区", "commerce", "龙泉北路2号"),
         _d("滕州市龙泉小学", "school", "大同路60号"),
         _d("龙泉农贸市场", "market", "龙泉中路75号"),
         _d("滕州市蔬菜批发市场", "market", "大同路999号")),
        extras=("烟草公司宿舍", "供销社宿舍")),
)

# 网格指导员 come from the subdistrict's offices (机关干部下沉网格).
INSTRUCTOR_OFFICES = ("党政办公室", "党建工作办公室", "经济发展办公室", "社会事务办公室",
                      "城市管理办公室", "综治中心", "财政所", "司法所", "退役军人服务站",
                      "便民服务中心", "规划建设办公室", "社区管理办公室")
INSTRUCTORS_PER_COMMUNITY = 12  # 10 × 12 = 120; in a 13-grid community one instructor takes two

DUTIES = {
    "chief": "统筹网格党建和治理工作,主持网格事务",
    "instructor": "联系指导网格工作,督导问题处置",
    "full_time": "日常巡查、入户走访、信息采集、矛盾排查、事件上报",
    "part_time": "协助巡查走访、政策宣传、邻里互助",
}

# 职能部门 serving the subdistrict: (code, name).
DEPARTMENTS = (
    ("cg-370481001", "北辛街道城管中队"),
    ("ga-370481001", "北辛派出所"),
    ("scjg-370481001", "北辛市场监管所"),
    ("yj-370481001", "北辛街道应急管理办公室"),
    ("xf-370481001", "北辛街道信访办公室"),
    ("sw-370481001", "北辛街道社会事务办公室"),
    ("zj-370481001", "北辛街道住建服务站"),
    ("water-370481001", "滕州市供水公司北辛营业所"),
)
HANDLER_DEPARTMENT = "cg-370481001"

# Which unit each event category (大类 code) goes to by default (默认处置部门).
CATEGORY_DEPARTMENTS = {
    "01": "cg-370481001", "02": "cg-370481001", "03": "zj-370481001", "04": "yj-370481001",
    "05": "cg-370481001", "11": "cg-370481001", "12": "cg-370481001", "13": "cg-370481001",
    "14": "cg-370481001", "21": "xf-370481001", "22": "yj-370481001", "23": "ga-370481001",
    "24": "sw-370481001", "25": "sw-370481001",
}
CATEGORY_DEPARTMENT_EXCEPTIONS = {"0402": "water-370481001", "2401": "water-370481001",
                                  "2202": "zj-370481001"}

WORKING_COMMITTEE_NAME = "中共滕州市北辛街道工作委员会"
WORKING_COMMITTEE_SECRETARY = "孔祥东"

RESIDENT_NAME = "赵怀普"  # the resident login; seed 000's elderly resident of 文化路社区

# Demo logins: (username, display name, role, where). `where` is "subdistrict", a region code,
# a department code, or "" for none.
DEMO_USERS = (
    ("admin", "系统管理员", "admin", ""),
    ("leader", "梁刚", "leader", "subdistrict"),
    ("dispatcher", "王子娥", "dispatcher", "subdistrict"),
    ("gridchief", "刘合贵", "grid_chief", "370481001001"),
    ("gridworker", "", "grid_worker", "370481001001001"),  # named after the grid's 专职网格员
    ("handler", "褚衍峰", "handler", HANDLER_DEPARTMENT),
    ("resident", RESIDENT_NAME, "resident", ""),
)
DEFAULT_PASSWORD = "gezhi-demo-2026"

# Base data: people shared unevenly among the 128 basic grids (dedicated grids have no homes);
# the grid worker's grid always shows care tags and special-group (restricted) tags.
DEMO_PEOPLE = 30_000
SHOWCASE_GRID = "370481001001001"

# Names generated must not collide with the people named above.
RESERVED_NAMES = frozenset({"刘合贵", "梁刚", "王子娥", "赵怀普", "黄金", "褚衍峰",
                            WORKING_COMMITTEE_SECRETARY})

# Surnames common in 滕州 and south Shandong (褚, 颜, 种, 满 are local), weighted by frequency.
SURNAMES = ("王" * 12 + "李" * 10 + "张" * 10 + "刘" * 8 + "孙" * 7 + "杨" * 5 + "陈" * 5
            + "赵" * 4 + "徐" * 4 + "马" * 4 + "褚" * 3 + "颜" * 3 + "邵" * 3 + "田" * 3
            + "杜" * 3 + "高" * 3 + "朱" * 2 + "周" * 2 + "吴" * 2 + "郑" * 2 + "胡" * 2
            + "郭" * 2 + "宋" * 2 + "韩" * 2 + "冯" * 2 + "董" * 2 + "程" * 2 + "曹" * 2
            + "种" * 2 + "满" * 2 + "殷" + "鲍" + "魏" + "薛" + "贾" + "丁" + "袁" + "许"
            + "孔" + "颜" + "闫" + "侯" + "姜" + "秦" + "范" + "甘" + "任" + "牛")
MALE_CHARS = "伟强磊军勇杰明超刚平辉鹏华飞斌波宁健峰林亮浩凯成志国庆建文海东永春宏振广德兴义彬鑫昊旭晨宇博帅冬金涛毅锋"
FEMALE_CHARS = "芳娜敏静丽艳娟霞燕玲婷雪慧莉萍梅琳颖倩洁蕾丹晶璐薇佳欣悦雯琦月秀凤兰英红梦瑶"
MIDDLE_CHARS = "晓志建春海玉振文宏永丽秀德传庆新绍金立广明红兆延淑瑞子"
# Given names that mark a generation, for residents (户籍人口): a 1950s 建国 or 秀英, a 2010s
# 梓涵 or 浩宇. Other residents get names built from the characters above.
ELDER_MALE_GIVEN = ("建国", "国庆", "建华", "振华", "德才", "玉山", "广田", "长顺", "宝山", "富贵",
                    "学文", "树林", "春生", "庆余", "传增", "继忠", "兆祥", "立本", "修德", "维新")
ELDER_FEMALE_GIVEN = ("秀英", "桂兰", "玉兰", "凤英", "秀兰", "桂英", "淑珍", "秀珍", "玉珍",
                      "翠兰", "桂芳", "素梅", "玉梅", "兰芝", "爱华", "金凤", "秀云", "素贞")
YOUNG_MALE_GIVEN = ("浩宇", "子轩", "宇轩", "浩然", "一鸣", "俊熙", "子墨", "梓睿", "沐宸",
                    "博文", "皓轩", "铭泽", "奕辰", "锦程", "思远", "承泽", "嘉懿", "泽宇")
YOUNG_FEMALE_GIVEN = ("欣怡", "雨桐", "梓涵", "诗涵", "一诺", "子涵", "思琪", "可馨", "语桐",
                      "梓萱", "若汐", "佳怡", "芷若", "雨萱", "安琪", "梦琪", "书瑶", "依诺")
MOBILE_PREFIXES = ("138", "139", "150", "151", "152", "157", "158", "159", "182", "187", "188",
                   "135", "136", "137", "183", "186", "155", "156", "177", "199")


class PersonFactory:
    """Deterministic names and phone numbers: the same demo on every machine."""

    def __init__(self, seed: int = RANDOM_SEED):
        self.rng = random.Random(seed)
        self.names: set[str] = set(RESERVED_NAMES)
        self.phones: set[str] = set()
        self.landline_seq = 5512100

    def name(self) -> str:
        while True:
            surname = self.rng.choice(SURNAMES)
            chars = FEMALE_CHARS if self.rng.random() < 0.45 else MALE_CHARS
            if self.rng.random() < 0.3:
                given = self.rng.choice(chars)
            else:
                given = self.rng.choice(MIDDLE_CHARS) + self.rng.choice(chars)
            name = surname + given
            if name in self.names or (len(given) == 2 and given[0] == given[1]):
                continue
            self.names.add(name)
            return name

    def mobile(self) -> str:
        while True:
            number = self.rng.choice(MOBILE_PREFIXES) + f"{self.rng.randrange(10**8):08d}"
            if number not in self.phones:
                self.phones.add(number)
                return number

    def landline(self) -> str:
        """An office number of 滕州 (area code 0632, 7 digits)."""
        self.landline_seq += self.rng.randrange(7, 97)
        return f"0632-{self.landline_seq}"
