"""Writes of the resident portal: phone login codes, resident accounts, 随手拍 reports, and the
saved home address.

Login by phone (手机号 + 短信验证码): a random 6-digit code, stored as a keyed hash, valid for
a few minutes, a few wrong tries, one new code a minute and a daily cap per phone and per
client address. Codes go out through the notification outbox like every other message (the
demo's log sender prints them to the console log).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import math
import re
import secrets
from dataclasses import dataclass

from django.conf import settings
from django.contrib.auth import user_logged_in
from django.db import IntegrityError, transaction
from django.db.models import CharField, F, Value
from django.db.models.functions import Length
from django.utils import timezone
from django.utils.crypto import constant_time_compare, salted_hmac
from django.utils.translation import gettext as _

from gezhi.accounts.models import ApiToken, User
from gezhi.accounts.roles import Perm, Role
from gezhi.accounts.scope import has_perm
from gezhi.accounts.services import role_assign
from gezhi.core import clock, crypto
from gezhi.core.errors import GezhiError, PermissionDenied, ValidationFailed
from gezhi.core.personal import get_sensitive, set_sensitive
from gezhi.core.validators import mask_phone
from gezhi.events.models import Category, Event, Source
from gezhi.events.services import Intake, event_report
from gezhi.notify.services import message_enqueue
from gezhi.portal.models import PhoneCode, ReportTicket, ResidentAccount
from gezhi.regions.selectors import check_point, public_grid_search

_MOBILE = re.compile(r"1[3-9]\d{9}")
_CODE = re.compile(r"\d{6}")
CODE_KIND = "login_code"
# Anonymous reporters give a name and a phone; the limits of the event's own columns.
CONTACT_NAME_MAX = 50
ADDRESS_MAX = 100


def _setting(name: str, default: int) -> int:
    return int(getattr(settings, name, default))


def code_ttl() -> dt.timedelta:
    """How long a code is valid (GEZHI_PHONE_CODE_TTL_SECONDS, default 5 minutes)."""
    return dt.timedelta(seconds=_setting("GEZHI_PHONE_CODE_TTL_SECONDS", 300))


def resend_wait() -> dt.timedelta:
    """How long before a phone may ask for another code (default 60 s)."""
    return dt.timedelta(seconds=_setting("GEZHI_PHONE_CODE_RESEND_SECONDS", 60))


def max_tries() -> int:
    return _setting("GEZHI_PHONE_CODE_MAX_TRIES", 5)


def daily_per_phone() -> int:
    return _setting("GEZHI_PHONE_CODE_DAILY_PER_PHONE", 10)


def daily_per_ip() -> int:
    return _setting("GEZHI_PHONE_CODE_DAILY_PER_IP", 30)


class TooMany(GezhiError):
    status = 429
    code = "too_many"


def normalise_mobile(value: str, *, field: str = "phone") -> str:
    """A mainland mobile number (1[3-9] and 9 more digits); spaces, dashes and +86 allowed."""
    value = re.sub(r"[\s\-()()]", "", value or "")
    if value.startswith("+86"):
        value = value[3:]
    elif value.startswith("0086"):
        value = value[4:]
    if not value:
        raise ValidationFailed(_("请输入手机号码。"), code="required", details={"field": field})
    if not _MOBILE.fullmatch(value):
        raise ValidationFailed(_("请输入正确的11位手机号码(以1开头,如 138 0000 0000)。"),
                               code="bad_phone", details={"field": field})
    return value


def phone_index(phone: str) -> str:
    """The blind index of a normalised phone, the same as every `phone` column's."""
    return crypto.blind_index(phone, kind="phone")


def _code_hash(bidx: str, code: str) -> str:
    return salted_hmac("gezhi.portal.PhoneCode", f"{bidx}:{code}",
                       algorithm="sha256").hexdigest()


def _today_start(now: dt.datetime) -> dt.datetime:
    local = timezone.localtime(now)
    return local.replace(hour=0, minute=0, second=0, microsecond=0)


@dataclass
class CodeSent:
    phone_mask: str
    expires_at: dt.datetime
    resend_at: dt.datetime


def phone_code_send(*, phone: str, ip: str | None = None) -> CodeSent:
    """获取验证码: a new code for the phone, sent through the outbox. A newer code replaces
    the older ones (only the latest is accepted)."""
    phone = normalise_mobile(phone)
    bidx = phone_index(phone)
    now = clock.now()
    with transaction.atomic():
        last = PhoneCode.objects.filter(phone_bidx=bidx).order_by("-created_at", "-id").first()
        if last is not None and now - last.created_at < resend_wait():
            wait = math.ceil((last.created_at + resend_wait() - now).total_seconds())
            raise TooMany(_("验证码已发送,请 %(n)s 秒后再重新获取。") % {"n": wait},
                          code="too_soon", details={"field": "phone", "retry_after": wait})
        today = _today_start(now)
        if PhoneCode.objects.filter(phone_bidx=bidx, created_at__gte=today).count() \
                >= daily_per_phone():
            raise TooMany(_("该手机号今天获取验证码的次数已达上限,请明天再试。"),
                          code="daily_limit", details={"field": "phone"})
        if ip and PhoneCode.objects.filter(ip_address=ip, created_at__gte=today).count() \
                >= daily_per_ip():
            raise TooMany(_("您今天获取验证码的次数过多,请明天再试。"), code="ip_daily_limit",
                          details={"field": "phone"})
        # Yesterday's codes are no longer needed for the daily caps (nor is their address).
        PhoneCode.objects.filter(phone_bidx=bidx, created_at__lt=today - dt.timedelta(days=1)
                                 ).delete()
        code = f"{secrets.randbelow(10**6):06d}"
        minutes = max(1, int(code_ttl().total_seconds() // 60))
        PhoneCode.objects.create(phone_bidx=bidx, code_hash=_code_hash(bidx, code),
                                 ip_address=ip or None, created_at=now,
                                 expires_at=now + code_ttl())
        message_enqueue(
            text=_("【格治】您的登录验证码是 %(code)s,%(minutes)s 分钟内有效。"
                   "请勿告诉他人;如非本人操作,请忽略本短信。") % {"code": code, "minutes": minutes},
            phone=phone, kind=CODE_KIND)
    return CodeSent(phone_mask=mask_phone(phone), expires_at=now + code_ttl(),
                    resend_at=now + resend_wait())


def _code_check(bidx: str, code: str) -> None:
    """Accept the phone's latest code once, or count a wrong try. The try is counted even
    though the caller sees an error, so the count is written before raising."""
    now = clock.now()
    failure = None
    with transaction.atomic():
        latest = (PhoneCode.objects.select_for_update().filter(phone_bidx=bidx)
                  .order_by("-created_at", "-id").first())
        if latest is None or latest.used_at is not None:
            raise ValidationFailed(_("请先获取验证码。"), code="no_code",
                                   details={"field": "code"})
        if latest.expires_at <= now:
            raise ValidationFailed(_("验证码已过期,请重新获取。"), code="code_expired",
                                   details={"field": "code"})
        if latest.attempts >= max_tries():
            raise TooMany(_("验证码错误次数过多,已失效,请重新获取。"), code="too_many_tries",
                          details={"field": "code"})
        if constant_time_compare(_code_hash(bidx, code), latest.code_hash):
            PhoneCode.objects.filter(pk=latest.pk).update(used_at=now)
            return
        PhoneCode.objects.filter(pk=latest.pk).update(attempts=F("attempts") + 1)
        left = max_tries() - latest.attempts - 1
        if left <= 0:
            failure = TooMany(_("验证码错误次数过多,已失效,请重新获取。"),
                              code="too_many_tries", details={"field": "code"})
        else:
            failure = ValidationFailed(
                _("验证码不正确,还可以再试 %(n)s 次。") % {"n": left}, code="bad_code",
                details={"field": "code", "remaining": left})
    raise failure


def _new_resident(phone: str, bidx: str) -> User:
    user = User.objects.create_user(username=f"r_{secrets.token_hex(8)}", password=None,
                                    display_name=_("居民%(phone)s") % {"phone": mask_phone(phone)})
    role_assign(user=user, role=Role.RESIDENT)
    account = ResidentAccount(user=user)
    set_sensitive(account, "phone", phone, mask=mask_phone)
    account.save()
    return user


@dataclass
class PhoneLogin:
    user: User
    created: bool


def phone_login(*, phone: str, code: str) -> PhoneLogin:
    """Check the code and return the phone's resident user, created on first login.

    Staff accounts never sign in by a text message alone: a phone bound to a user holding
    console rights is refused (they use the staff login, throttled by django-axes)."""
    phone = normalise_mobile(phone)
    code = re.sub(r"\s", "", code or "")
    if not _CODE.fullmatch(code):
        raise ValidationFailed(_("请输入短信中的6位数字验证码。"), code="bad_code_format",
                               details={"field": "code"})
    bidx = phone_index(phone)
    _code_check(bidx, code)
    account = ResidentAccount.objects.select_related("user").filter(phone_bidx=bidx).first()
    created = False
    if account is None:
        try:
            with transaction.atomic():
                user = _new_resident(phone, bidx)
                created = True
        except IntegrityError:  # the same phone signed up at the same moment elsewhere
            account = ResidentAccount.objects.select_related("user").get(phone_bidx=bidx)
    if account is not None:
        user = account.user
    if not user.is_active:
        raise PermissionDenied(_("该账号已停用,请联系所在社区。"), code="inactive",
                               details={"field": "phone"})
    if user.is_staff or has_perm(user, Perm.CONSOLE):
        raise PermissionDenied(_("该手机号绑定的是工作人员账号,请使用工作人员登录。"),
                               code="staff_account", details={"field": "phone"})
    return PhoneLogin(user=user, created=created)


def api_token_issue(*, request, user: User) -> tuple[ApiToken, str]:
    """A bearer token for an app that signed a resident in by phone. Like POST /auth/token,
    issuing it is a login: Django records last_login and django-axes logs the access."""
    user_logged_in.send(sender=user.__class__, request=request, user=user)
    raw = ApiToken.new_raw()
    token = ApiToken.objects.create(user=user, key_hash=ApiToken.hash(raw), prefix=raw[:8],
                                    expires_at=timezone.now() + settings.GEZHI_TOKEN_TTL)
    return token, raw


def account_phone(user) -> str:
    """The resident's own phone number, to put on their own report as its contact."""
    account = getattr(user, "resident_account", None) if user.is_authenticated else None
    return get_sensitive(account, "phone") if account is not None else ""


# --- 随手拍 --------------------------------------------------------------------------------


def hidden_category_codes() -> set[str]:
    """Subclasses residents do not choose: 特殊人群异常情况 would have a resident label a
    neighbour as a special-group person (GEZHI_PORTAL_HIDDEN_CATEGORIES)."""
    return set(getattr(settings, "GEZHI_PORTAL_HIDDEN_CATEGORIES", ("2502",)))


def _resident_category(code: str) -> Category:
    category = (Category.objects.filter(code=code, active=True, parent__isnull=False,
                                        parent__active=True).first() if code else None)
    if category is None or category.code in hidden_category_codes():
        raise ValidationFailed(_("请选择问题类别。"), code="bad_category",
                               details={"field": "category"})
    return category


def _point_in(boundary: dict) -> tuple[float, float]:
    from shapely.geometry import shape

    point = shape(boundary).representative_point()
    return round(point.y, 7), round(point.x, 7)


def locate_by_address(address: str) -> tuple[float, float]:
    """A point for a report that has only an address: the estate (小区) named in it, else the
    one grid whose name or covered streets match it. Several grids: ask for the map."""
    from gezhi.places.models import Estate

    address = (address or "").strip()
    if not address:
        raise ValidationFailed(_("请在地图上点选问题位置,或填写详细地址。"), code="required",
                               details={"field": "location"})
    estate = (Estate.objects.alias(text=Value(address, output_field=CharField()))
              .filter(text__contains=F("name")).exclude(name="")
              .select_related("grid").order_by(Length("name").desc(), "id").first())
    if estate is not None:
        if estate.lat is not None and estate.lon is not None:
            return estate.lat, estate.lon
        if estate.grid.boundary:
            return _point_in(estate.grid.boundary)
    grids = [g for g in public_grid_search(q=address, limit=2) if g.boundary]
    if len(grids) == 1:
        return _point_in(grids[0].boundary)
    if grids:
        raise ValidationFailed(_("这个地址对应多个网格,请在地图上点选问题位置,"
                                 "或把地址写得更具体(如小区名和楼号)。"),
                               code="address_ambiguous", details={"field": "location"})
    raise ValidationFailed(_("没有找到这个地址,请在地图上点选问题位置,或填写小区名、街巷名。"),
                           code="address_unknown", details={"field": "location"})


@dataclass
class ReportDone:
    event: Event
    token: str = ""  # anonymous reports: the follow link's secret, shown once


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def resident_report(*, user, category: str, description: str, lat: float | None,
                    lon: float | None, address: str = "", contact_name: str = "",
                    contact_phone: str = "", photos=()) -> ReportDone:
    """随手拍: a resident's report. Logged in: as themselves, with their phone as the contact.
    Anonymous: a contact phone is required, and a follow token is issued with the event."""
    anonymous = user is None or not user.is_authenticated
    chosen = _resident_category(category)
    address = (address or "").strip()[:ADDRESS_MAX]
    if anonymous:
        contact_phone = (contact_phone or "").strip()
        if not contact_phone:
            raise ValidationFailed(_("不登录反映问题,请留下手机号,以便告知处理结果。"),
                                   code="required", details={"field": "contact_phone"})
        contact_phone = normalise_mobile(contact_phone, field="contact_phone")
        contact_name = (contact_name or "").strip()[:CONTACT_NAME_MAX]
    else:
        contact_phone, contact_name = account_phone(user), ""
    if lat is None or lon is None:
        lat, lon = locate_by_address(address)
    else:
        try:
            check_point(lat, lon)
        except ValidationFailed as exc:
            exc.details = {"field": "location"}
            raise
    intake = Intake(category=chosen, description=description, lat=lat, lon=lon,
                    source=Source.RESIDENT, address=address, contact_name=contact_name,
                    contact_phone=contact_phone, photos=list(photos or []))
    with transaction.atomic():
        event = event_report(actor=None if anonymous else user, intake=intake)
        if not anonymous:
            return ReportDone(event=event)
        token = secrets.token_urlsafe(24)
        ReportTicket.objects.create(event=event, token_hash=token_hash(token))
    return ReportDone(event=event, token=token)


def home_address_save(*, user, address: str) -> ResidentAccount:
    """保存常住地址: only an address that finds at least one grid is kept; empty clears it."""
    account = getattr(user, "resident_account", None)
    if account is None:
        raise PermissionDenied(_("只有用手机号登录的居民可以保存常住地址。"),
                               details={"field": "address"})
    address = (address or "").strip()
    if len(address) > ADDRESS_MAX:
        raise ValidationFailed(_("地址不能超过 %(n)s 字。") % {"n": ADDRESS_MAX},
                               code="too_long", details={"field": "address"})
    if address and not public_grid_search(q=address, limit=1).exists():
        raise ValidationFailed(
            _("没有找到与“%(q)s”相符的网格。请试试小区名、街巷名或门牌号。") % {"q": address},
            code="address_unknown", details={"field": "address"})
    ResidentAccount.objects.filter(pk=account.pk).update(home_address=address)
    account.home_address = address
    return account
