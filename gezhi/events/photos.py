"""Event photos: validated, turned upright, GPS kept, every other metadata field stripped.

A photo is re-encoded as JPEG (at most GEZHI_PHOTO_MAX_SIDE pixels on the long side), so what
is stored never carries the camera's serial number, owner name or thumbnails from the upload.
"""

from __future__ import annotations

import datetime as dt
import io
import struct
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


def max_bytes() -> int:
    return int(getattr(settings, "GEZHI_PHOTO_MAX_BYTES", 15 * 1024 * 1024))


def max_side() -> int:
    return int(getattr(settings, "GEZHI_PHOTO_MAX_SIDE", 2560))


def max_pixels() -> int:
    """Decompression-bomb guard, above any phone photo taken in the usual modes."""
    return int(getattr(settings, "GEZHI_PHOTO_MAX_PIXELS", 60_000_000))


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


def _text(value) -> str:
    if isinstance(value, bytes):
        value = value.decode("ascii", "ignore")
    return str(value or "").strip("\x00 ").upper()


def _gps(exif) -> tuple[float | None, float | None]:
    try:
        gps = exif.get_ifd(GPS_IFD)
    except Exception:  # noqa: BLE001 - a damaged GPS block just means no position
        return None, None
    try:
        lat_ref, lat, lon_ref, lon = gps.get(1), gps.get(2), gps.get(3), gps.get(4)
        if not (lat and lon) or _text(gps.get(9)) == "V":  # GPSStatus V: measurement void
            return None, None

        def degrees(parts) -> float:
            d, m, s = (_rational(p) for p in parts)
            return d + m / 60 + s / 3600

        la, lo = degrees(lat), degrees(lon)
        if _text(lat_ref).startswith("S"):
            la = -la
        if _text(lon_ref).startswith("W"):
            lo = -lo
        # 0,0 is what cameras without a fix write, not a place anyone reports from
        if not (-90 <= la <= 90 and -180 <= lo <= 180) or (la == 0 and lo == 0):
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


def _refuse(message, code: str, field: str, name: str):
    return ValidationFailed(message, code=code, details={"field": field, "name": name})


def _mb(size: int) -> str:
    return f"{size / 1024 / 1024:.1f}".removesuffix(".0")


def photo_clean(upload, *, field: str = "photos") -> CleanPhoto:
    """Check an uploaded file is a photo of acceptable size and return it cleaned."""
    name = getattr(upload, "name", "") or ""
    size = getattr(upload, "size", None)
    if size is None:
        upload.seek(0, io.SEEK_END)
        size = upload.tell()
    limit = max_bytes()
    if size > limit:
        raise _refuse(_("照片“%(name)s”过大(约 %(size)s MB),每张不超过 %(limit)s MB。") % {
            "name": name, "size": _mb(size), "limit": _mb(limit)}, "photo_too_large", field, name)
    not_image = _refuse(
        _("“%(name)s”不是可识别的图片,请上传 JPEG、PNG 或 WebP 照片。") % {"name": name},
        "photo_not_image", field, name)
    try:
        upload.seek(0)
        image = Image.open(upload)  # reads the header only
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError, TypeError,
            Image.DecompressionBombError):
        raise not_image from None
    if image.width * image.height > max_pixels():
        # a few KB that would decode to gigabytes (a decompression bomb), or no phone photo
        raise _refuse(_("照片“%(name)s”的像素过多(%(width)s×%(height)s),请缩小后再上传。") % {
            "name": name, "width": image.width, "height": image.height},
            "photo_too_many_pixels", field, name)
    try:
        image.verify()  # checks the file's structure; the image must be opened again after it
        upload.seek(0)
        image = Image.open(upload)
        image.draft("RGB", (max_side(), max_side()))  # JPEG: decode at the size we keep
        image.load()
    except (OSError, SyntaxError, ValueError, TypeError, IndexError, struct.error,
            Image.DecompressionBombError):
        raise _refuse(_("照片“%(name)s”不完整或已损坏(可能上传中断),请重新上传。") % {
            "name": name}, "photo_damaged", field, name) from None
    exif = image.getexif()
    lat, lon = _gps(exif)
    taken_at = _taken_at(exif)
    try:
        image = ImageOps.exif_transpose(image)
    except (ValueError, TypeError, KeyError, OSError):
        pass  # a damaged orientation tag: keep the photo as it was taken
    if image.mode in ("RGBA", "LA", "PA") or (image.mode == "P"
                                              and "transparency" in image.info):
        background = Image.new("RGB", image.size, "white")
        rgba = image.convert("RGBA")
        background.paste(rgba, mask=rgba.getchannel("A"))
        image = background
    elif image.mode not in ("RGB", "L"):
        image = image.convert("RGB")
    image.thumbnail((max_side(), max_side()))
    image.info = {}  # Pillow would carry a JPEG comment (COM) over into the new file
    out = io.BytesIO()
    image.save(out, "JPEG", quality=85, optimize=True)  # no exif=, xmp=, icc_profile=
    data = out.getvalue()
    return CleanPhoto(content=ContentFile(data, name="photo.jpg"), width=image.width,
                      height=image.height, size=len(data), lat=lat, lon=lon, taken_at=taken_at)


def photos_clean(uploads, *, field: str = "photos") -> list[CleanPhoto]:
    if hasattr(uploads, "read"):  # one file rather than a list of them
        uploads = [uploads]
    uploads = [u for u in (uploads or []) if u]
    if len(uploads) > max_count():
        raise ValidationFailed(_("照片最多 %(count)s 张。") % {"count": max_count()},
                               code="too_many_photos", details={"field": field})
    return [photo_clean(u, field=field) for u in uploads]
