"""Writes behind Open311: API keys (接入密钥) and service requests submitted with one.

A key is shown once, when it is created; only its SHA-256 and its first characters (to name it
in lists and on the command line) are stored. A request goes through the same intake as every
other report (events.services.event_report), with the key's source (e.g. 12345).
"""

from __future__ import annotations

import hashlib
import secrets
import uuid
from dataclasses import dataclass

from django.db import IntegrityError
from django.utils.translation import gettext as _

from gezhi.core import clock
from gezhi.core.errors import NotFound, PermissionDenied, ValidationFailed
from gezhi.events.models import ApiKey, Category, Event, Source
from gezhi.events.services import MAX_TEXT, Intake, event_report
from gezhi.regions.models import Region
from gezhi.regions.selectors import grid_at

PREFIX_LENGTH = 8
# What an outside system may report as; patrols and home visits are staff work, reported by
# the staff member (and counted for them).
KEY_SOURCES = [s for s in Source if s not in (Source.PATROL, Source.VISIT)]
EXTERNAL_ID_MAX = 64
# Resubmitting a work order maps onto the intake's idempotent client_id: the same external
# number from the same key always names the same UUID.
EXTERNAL_NAMESPACE = uuid.UUID("6f1c2a52-7d0e-4b8a-9a43-311031103110")


def _hash(raw: str) -> str:
    return hashlib.sha256(raw.encode()).hexdigest()


def apikey_create(*, name: str, source: str = Source.API, actor=None) -> tuple[ApiKey, str]:
    """A new key for an application; returns it with the only copy of the secret."""
    name = (name or "").strip()
    if not name:
        raise ValidationFailed(_("请填写应用名称。"), code="required", details={"field": "name"})
    if len(name) > 100:
        raise ValidationFailed(_("应用名称不能超过 100 字。"), code="too_long",
                               details={"field": "name"})
    if source not in KEY_SOURCES:
        raise ValidationFailed(_("事件来源无效。"), code="bad_source", details={"field": "source"})
    while True:
        raw = secrets.token_hex(24)
        # The prefix names the key when revoking it, so no two keys share one.
        if not ApiKey.objects.filter(prefix=raw[:PREFIX_LENGTH]).exists():
            break
    key = ApiKey.objects.create(name=name, prefix=raw[:PREFIX_LENGTH], key_hash=_hash(raw),
                                source=source, created_by=actor, created_at=clock.now())
    return key, raw


def apikey_revoke(*, prefix: str) -> ApiKey:
    """Revoke a key by its prefix (or the whole key); a revoked key is refused from then on.
    Revoking twice keeps the first time."""
    prefix = (prefix or "").strip()[:PREFIX_LENGTH]
    key = ApiKey.objects.filter(prefix=prefix).first() if prefix else None
    if key is None:
        raise NotFound(_("找不到该接入密钥。"))
    if key.revoked_at is None:
        key.revoked_at = clock.now()
        key.save(update_fields=["revoked_at"])
    return key


def apikey_check(raw: str | None) -> ApiKey:
    """The active key for a secret, or PermissionDenied (unknown, revoked or missing)."""
    raw = (raw or "").strip()
    key = ApiKey.objects.filter(key_hash=_hash(raw), revoked_at__isnull=True).first() \
        if raw else None
    if key is None:
        raise PermissionDenied(_("api_key 无效或已停用。"), code="bad_api_key",
                               details={"field": "api_key"})
    return key


@dataclass
class Submission:
    """A GeoReport POST, parsed. `lat`/`lon` stay text until checked."""

    service_code: str = ""
    lat: str = ""
    lon: str = ""
    address: str = ""
    description: str = ""
    first_name: str = ""
    last_name: str = ""
    phone: str = ""
    email: str = ""
    media_url: str = ""
    external_id: str = ""


def _point(value: str, name: str) -> float:
    try:
        number = float(value)
    except (TypeError, ValueError):
        raise ValidationFailed(_("%(name)s 应为数字(WGS-84 经纬度)。") % {"name": name},
                               code="bad_point", details={"field": name}) from None
    if number != number or number in (float("inf"), float("-inf")):  # NaN, infinities
        raise ValidationFailed(_("%(name)s 应为数字(WGS-84 经纬度)。") % {"name": name},
                               code="bad_point", details={"field": name})
    return number


def _client_id(key: ApiKey, external_id: str) -> uuid.UUID:
    return uuid.uuid5(EXTERNAL_NAMESPACE, f"{key.pk}:{external_id}")


def request_submit(*, key: ApiKey, data: Submission, within: Region | None = None
                   ) -> tuple[Event, bool]:
    """A service request from an application: (event, created). The same `external_id` from
    the same key again returns the event the first submission created. `within`: the
    jurisdiction the client named; the point must lie in it."""
    code = data.service_code.strip()
    if not code:
        raise ValidationFailed(_("缺少 service_code。"), code="required",
                               details={"field": "service_code"})
    category = Category.objects.filter(code=code, active=True, parent__isnull=False) \
        .select_related("parent").first()
    if category is None:
        raise NotFound(_("服务类型 %(code)s 不存在或已停用。") % {"code": code},
                       details={"field": "service_code"})
    external_id = data.external_id.strip()
    if len(external_id) > EXTERNAL_ID_MAX:
        raise ValidationFailed(_("external_id 不能超过 %(n)s 个字符。") % {"n": EXTERNAL_ID_MAX},
                               code="too_long", details={"field": "external_id"})
    client_id = _client_id(key, external_id) if external_id else uuid.uuid4()
    if external_id:
        existing = Event.objects.filter(client_id=client_id).first()
        if existing is not None:
            return existing, False
    if not data.lat.strip() or not data.lon.strip():
        # GeoReport allows address_string alone; Gezhi places every event in a grid by its
        # point and has no geocoder, so the point is required.
        raise ValidationFailed(_("缺少 lat/long:事件须按坐标落入网格,仅有 address_string 无法受理。"),
                               code="required", details={"field": "lat"})
    lat, lon = _point(data.lat, "lat"), _point(data.lon, "long")
    if within is not None:
        grid = grid_at(lat=lat, lon=lon)
        if grid is not None and not grid.path.startswith(within.path):
            raise ValidationFailed(_("该位置不在 %(region)s 范围内。") % {"region": within.name},
                                   code="outside_jurisdiction", details={"field": "lat"})
    description = data.description.strip()
    if not description:
        raise ValidationFailed(_("缺少 description:请描述问题。"), code="required",
                               details={"field": "description"})
    if data.media_url.strip():
        # Not fetched (the server does not reach out to arbitrary addresses); kept for the
        # dispatcher to open.
        attachment = _("附件:%(url)s") % {"url": data.media_url.strip()[:500]}
        description = f"{description}\n{attachment}"
    if len(description) > MAX_TEXT:
        raise ValidationFailed(_("描述不能超过 %(n)s 字。") % {"n": MAX_TEXT}, code="too_long",
                               details={"field": "description"})
    intake = Intake(
        category=category, description=description, lat=lat, lon=lon, source=key.source,
        address=data.address.strip(), external_id=external_id, client_id=client_id,
        contact_name=(data.last_name.strip() + data.first_name.strip()),
        contact_phone=data.phone.strip())
    try:
        return event_report(actor=None, intake=intake, api_key=key), True
    except IntegrityError:
        # Two deliveries of one work order at once: the other one won; answer with its event.
        existing = Event.objects.filter(client_id=client_id).first()
        if existing is None:
            raise
        return existing, False
