"""Validators for Chinese identifiers: resident ID (GB 11643), unified social credit code
(GB 32100), mobile and landline numbers. Each returns the normalised value or raises
ValidationFailed with a Chinese message naming the problem."""

from __future__ import annotations

import datetime
import re

from django.utils import timezone
from django.utils.translation import gettext as _

from gezhi.core.errors import ValidationFailed

_ID_WEIGHTS = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2]
_ID_CHECK = "10X98765432"


def id_check_digit(first17: str) -> str:
    return _ID_CHECK[sum(int(d) * w for d, w in zip(first17, _ID_WEIGHTS, strict=True)) % 11]


def normalise_id_number(value: str, *, today: datetime.date | None = None) -> str:
    """A GB 11643 citizen ID number: 18 characters, valid birth date, valid check digit.

    `today` saves a caller checking many numbers (an import) the time-zone lookup per number.
    """
    value = (value or "").strip().upper().replace(" ", "")
    if not re.fullmatch(r"\d{17}[\dX]", value):
        raise ValidationFailed(_("身份证号应为18位,前17位为数字,最后一位为数字或X。"),
                               code="bad_id_number")
    birth = id_birth_date(value)
    if birth is None:
        raise ValidationFailed(_("身份证号中的出生日期无效。"), code="bad_id_number")
    if birth > (today or timezone.localdate()):
        raise ValidationFailed(_("身份证号中的出生日期晚于今天。"), code="bad_id_number")
    if id_check_digit(value[:17]) != value[17]:
        raise ValidationFailed(_("身份证号校验位错误,请核对是否录入有误。"),
                               code="bad_id_number")
    return value


def id_birth_date(value: str) -> datetime.date | None:
    try:
        return datetime.date(int(value[6:10]), int(value[10:12]), int(value[12:14]))
    except ValueError:
        return None


def id_sex(value: str) -> str:
    """'male' or 'female' from the 17th digit (odd: male)."""
    return "male" if int(value[16]) % 2 else "female"


def mask_id_number(value: str) -> str:
    if len(value) <= 8:
        return "*" * len(value)
    return value[:4] + "*" * (len(value) - 8) + value[-4:]


_MOBILE = re.compile(r"1[3-9]\d{9}")
_LANDLINE = re.compile(r"0\d{2,3}-?\d{7,8}(-\d{1,6})?")


def normalise_phone(value: str) -> str:
    """A mainland mobile (11 digits, 1[3-9]…) or a landline with area code (0632-5512345)."""
    value = re.sub(r"[\s()()]", "", value or "")
    if value.startswith("+86"):
        value = value[3:]
    elif value.startswith("0086"):
        value = value[4:]
    if _MOBILE.fullmatch(value) or _LANDLINE.fullmatch(value):
        return value
    raise ValidationFailed(_("电话号码格式不正确:应为11位手机号或带区号的固定电话。"),
                           code="bad_phone")


def mask_phone(value: str) -> str:
    if _MOBILE.fullmatch(value):
        return value[:3] + "****" + value[-4:]
    area, dash, number = value.rpartition("-") if "-" in value else ("", "", value)
    if len(number) <= 4:
        return area + dash + "*" * len(number)
    return area + dash + "*" * (len(number) - 4) + number[-4:]


# GB 32100-2015 unified social credit code: 18 characters from this alphabet (no I O Z S V).
_CREDIT_ALPHABET = "0123456789ABCDEFGHJKLMNPQRTUWXY"
_CREDIT_WEIGHTS = [1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28]


def credit_check_char(first17: str) -> str:
    total = sum(_CREDIT_ALPHABET.index(c) * w for c, w in zip(first17, _CREDIT_WEIGHTS,
                                                              strict=True))
    return _CREDIT_ALPHABET[(31 - total % 31) % 31]


def normalise_credit_code(value: str) -> str:
    value = (value or "").strip().upper()
    if len(value) != 18 or any(c not in _CREDIT_ALPHABET for c in value):
        raise ValidationFailed(_("统一社会信用代码应为18位数字或大写字母(不含 I、O、Z、S、V)。"),
                               code="bad_credit_code")
    if credit_check_char(value[:17]) != value[17]:
        raise ValidationFailed(_("统一社会信用代码校验位错误。"), code="bad_credit_code")
    return value
