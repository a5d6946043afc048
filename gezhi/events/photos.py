"""Event photos: validated, turned upright, GPS kept, every other metadata field stripped.

A photo is re-encoded as JPEG (at most GEZHI_PHOTO_MAX_SIDE pixels on the long side), so what
is stored never carries the camera's serial number, owner name or thumbnails from the upload.
"""

from __future__ import annotations

import datetime as dt
import io
from dataclasses import dataclass

from django.conf import settings
from django.core.files.base import ContentFile
from django.utils import timezone
from django.utils.translation import gettext as _
from PIL import Image, ImageOps, UnidentifiedImageError

from gezhi.core.errors import ValidationFailed

GPS_IFD = 0x8825
EXIF_IFD = 0x8769
DATETIME_ORIGINAL = 0x9003
MAX_PIXELS = 60_000_000  # decompression-bomb guard, well above any phone camera


def max_bytes() -> int:
    return int(getattr(settings, "GEZHI_PHOTO_MAX_BYTES", 15 * 1024 * 1024))


def max_side() -> int:
    return int(getattr(settings, "GEZHI_PHOTO_MAX_SIDE", 2560))


def max_count() -> int:
    return int(getattr(settings, "GEZHI_PHOTO_MAX_COUNT", 9))


@dataclass
class CleanPhoto:
    content: ContentFile
    width: int
    height: int
    size: int
    lat: float | None
    lon: float | None
    taken_at: dt.datetime | None


def _rational(value) -> float:
    try:
        return float(value)
    except (TypeError, ZeroDivisionError):
        num, den = value
        return num / den if den else 0.0


def _gps(exif) -> tuple[float | None, float | None]:
    try:
        gps = exif.get_ifd(GPS_IFD)
    except Exception:  # noqa: BLE001 - a damaged GPS block just means no position
        return None, None
    try:
        lat_ref, lat, lon_ref, lon = gps.get(1), gps.get(2), gps.get(3), gps.get(4)
        if not (lat and lon):
            return None, None

        def degrees(parts) -> float:
            d, m, s = (_rational(p) for p in parts)
            return d + m / 60 + s / 3600

        la, lo = degrees(lat), degrees(lon)
        if str(lat_ref).upper().startswith("S"):
            la = -la
        if str(lon_ref).upper().startswith("W"):
            lo = -lo
        if not (-90 <= la <= 90 and -180 <= lo <= 180):
            return None, None
        return round(la, 7), round(lo, 7)
    except (TypeError, ValueError, ZeroDivisionError):
        return None, None


def _taken_at(exif) -> dt.datetime | None:
    try:
        raw = exif.get_ifd(EXIF_IFD).get(DATETIME_ORIGINAL)
        if not raw:
            return None
        naive = dt.datetime.strptime(str(raw).strip("\x00 "), "%Y:%m:%d %H:%M:%S")
        return timezone.make_aware(naive)
    except (ValueError, TypeError, KeyError, AttributeError):
        return None


def photo_clean(upload, *, field: str = "photos") -> CleanPhoto:
    """Check an uploaded file is a photo of acceptable size and return it cleaned."""
    name = getattr(upload, "name", "") or ""
    size = getattr(upload, "size", None)
    if size is None:
        upload.seek(0, io.SEEK_END)
        size = upload.tell()
        upload.seek(0)
    limit = max_bytes()
    if size > limit:
        raise ValidationFailed(
            _("照片“%(name)s”过大(约 %(size)s MB),每张不超过 %(limit)s MB。") % {
                "name": name, "size": f"{size / 1024 / 1024:.1f}",
                "limit": f"{limit / 1024 / 1024:.0f}"},
            code="photo_too_large", details={"field": field, "name": name})
    Image.MAX_IMAGE_PIXELS = MAX_PIXELS
    try:
        upload.seek(0)
        image = Image.open(upload)
        image.verify()  # checks the file's structure; the image must be opened again after it
        upload.seek(0)
        image = Image.open(upload)
        image.load()
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError,
            Image.DecompressionBombError):
        raise ValidationFailed(
            _("“%(name)s”不是可识别的图片,请上传 JPEG、PNG 或 WebP 照片。") % {"name": name},
            code="photo_not_image", details={"field": field, "name": name}) from None
    exif = image.getexif()
    lat, lon = _gps(exif)
    taken_at = _taken_at(exif)
    image = ImageOps.exif_transpose(image)
    if image.mode not in ("RGB", "L"):
        background = Image.new("RGB", image.size, "white")
        rgba = image.convert("RGBA")
        background.paste(rgba, mask=rgba.getchannel("A"))
        image = background
    image.thumbnail((max_side(), max_side()))
    out = io.BytesIO()
    image.save(out, "JPEG", quality=85, optimize=True)  # no exif= argument: metadata dropped
    data = out.getvalue()
    return CleanPhoto(content=ContentFile(data, name="photo.jpg"), width=image.width,
                      height=image.height, size=len(data), lat=lat, lon=lon, taken_at=taken_at)


def photos_clean(uploads, *, field: str = "photos") -> list[CleanPhoto]:
    uploads = list(uploads or [])
    if len(uploads) > max_count():
        raise ValidationFailed(_("照片最多 %(count)s 张。") % {"count": max_count()},
                               code="too_many_photos", details={"field": field})
    return [photo_clean(u, field=field) for u in uploads]
