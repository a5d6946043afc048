"""Code tables for people (national standards)."""

from django.db import models
from django.utils.translation import gettext_lazy as _

# GB/T 3304 民族 codes: 01 汉族 … 56 基诺族.
ETHNICITIES = [
    ("01", "汉族"), ("02", "蒙古族"), ("03", "回族"), ("04", "藏族"), ("05", "维吾尔族"),
    ("06", "苗族"), ("07", "彝族"), ("08", "壮族"), ("09", "布依族"), ("10", "朝鲜族"),
    ("11", "满族"), ("12", "侗族"), ("13", "瑶族"), ("14", "白族"), ("15", "土家族"),
    ("16", "哈尼族"), ("17", "哈萨克族"), ("18", "傣族"), ("19", "黎族"), ("20", "傈僳族"),
    ("21", "佤族"), ("22", "畲族"), ("23", "高山族"), ("24", "拉祜族"), ("25", "水族"),
    ("26", "东乡族"), ("27", "纳西族"), ("28", "景颇族"), ("29", "柯尔克孜族"), ("30", "土族"),
    ("31", "达斡尔族"), ("32", "仫佬族"), ("33", "羌族"), ("34", "布朗族"), ("35", "撒拉族"),
    ("36", "毛南族"), ("37", "仡佬族"), ("38", "锡伯族"), ("39", "阿昌族"), ("40", "普米族"),
    ("41", "塔吉克族"), ("42", "怒族"), ("43", "乌孜别克族"), ("44", "俄罗斯族"), ("45", "鄂温克族"),
    ("46", "德昂族"), ("47", "保安族"), ("48", "裕固族"), ("49", "京族"), ("50", "塔塔尔族"),
    ("51", "独龙族"), ("52", "鄂伦春族"), ("53", "赫哲族"), ("54", "门巴族"), ("55", "珞巴族"),
    ("56", "基诺族"),
]
ETHNICITY_NAMES = dict(ETHNICITIES)


class Sex(models.TextChoices):
    MALE = "male", _("男")
    FEMALE = "female", _("女")


class IdType(models.TextChoices):
    RESIDENT_ID = "resident_id", _("居民身份证")
    HK_MACAO = "hk_macao", _("港澳居民来往内地通行证")
    TAIWAN = "taiwan", _("台湾居民来往大陆通行证")
    PASSPORT = "passport", _("护照")
    FOREIGN_PR = "foreign_pr", _("外国人永久居留身份证")
    OTHER = "other", _("其他证件")


class PoliticalStatus(models.TextChoices):
    CPC_MEMBER = "cpc_member", _("中共党员")
    CPC_PROBATIONARY = "cpc_probationary", _("中共预备党员")
    LEAGUE_MEMBER = "league_member", _("共青团员")
    DEMOCRATIC_PARTY = "democratic_party", _("民主党派")
    MASSES = "masses", _("群众")


class ResidenceType(models.TextChoices):
    REGISTERED = "registered", _("户籍人口")
    FLOATING = "floating", _("流动人口")
    OVERSEAS = "overseas", _("境外人员")


class ResidenceKind(models.TextChoices):
    LIVES = "lives", _("实际居住")
    REGISTERED = "registered", _("户籍登记")


class ResidenceRelation(models.TextChoices):
    OWNER = "owner", _("产权人")
    FAMILY = "family", _("家庭成员")
    TENANT = "tenant", _("租户")
    OTHER = "other", _("其他")


class HouseholdRelation(models.TextChoices):
    HEAD = "head", _("户主")
    SPOUSE = "spouse", _("配偶")
    CHILD = "child", _("子女")
    PARENT = "parent", _("父母")
    GRANDPARENT = "grandparent", _("祖父母/外祖父母")
    GRANDCHILD = "grandchild", _("孙子女/外孙子女")
    SIBLING = "sibling", _("兄弟姐妹")
    OTHER = "other", _("其他")


class TagGroup(models.TextChoices):
    CARE = "care", _("关爱对象")
    SPECIAL = "special", _("特殊人群")


class Sensitivity(models.TextChoices):
    NORMAL = "normal", _("一般")
    RESTRICTED = "restricted", _("受限")


# Seeded tags (code, name, group, sensitivity, colour).
DEFAULT_TAGS = [
    ("lone_elderly", "独居老人", TagGroup.CARE, Sensitivity.NORMAL, "#d97706"),
    ("empty_nest", "空巢老人", TagGroup.CARE, Sensitivity.NORMAL, "#f59e0b"),
    ("disabled", "残疾人", TagGroup.CARE, Sensitivity.NORMAL, "#2563eb"),
    ("left_behind_child", "留守儿童", TagGroup.CARE, Sensitivity.NORMAL, "#16a34a"),
    ("hardship_family", "困难家庭", TagGroup.CARE, Sensitivity.NORMAL, "#9333ea"),
    ("veteran", "退役军人", TagGroup.CARE, Sensitivity.NORMAL, "#0f766e"),
    ("community_correction", "社区矫正对象", TagGroup.SPECIAL, Sensitivity.RESTRICTED, "#b91c1c"),
    ("released_prisoner", "刑满释放人员", TagGroup.SPECIAL, Sensitivity.RESTRICTED, "#dc2626"),
    ("severe_mental_disorder", "严重精神障碍患者", TagGroup.SPECIAL, Sensitivity.RESTRICTED,
     "#be185d"),
    ("drug_user", "吸毒人员", TagGroup.SPECIAL, Sensitivity.RESTRICTED, "#7f1d1d"),
    ("key_petitioner", "重点信访人员", TagGroup.SPECIAL, Sensitivity.RESTRICTED, "#c2410c"),
]
