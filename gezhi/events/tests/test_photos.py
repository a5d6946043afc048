"""Event photos, with real images made by Pillow: turned upright, GPS kept, everything else
about the camera and its owner gone, and anything that is not a sound photo refused."""

import io
import struct
import zlib

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from PIL import Image

from gezhi.core.errors import ValidationFailed
from gezhi.events.models import Event, Photo
from gezhi.events.photos import photo_clean, photos_clean
from gezhi.events.tests.conftest import jpeg

ORIENTATION, MAKE, MODEL, ARTIST = 0x0112, 0x010F, 0x0110, 0x013B
GPS_IFD, EXIF_IFD = 0x8825, 0x8769


def upload(data: bytes, name: str = "photo.jpg", content_type="image/jpeg"):
    return SimpleUploadedFile(name, data, content_type=content_type)


def camera_jpeg(size=(40, 20), *, orientation=None, gps=None, comment=None, owner=True,
                color="red") -> bytes:
    """A JPEG as a phone writes it: EXIF with the camera, its owner, the time and a position."""
    image = Image.new("RGB", size, color)
    image.paste((0, 0, 255), (0, 0, 6, 6))  # top-left marker, to see where it ends up
    exif = Image.Exif()
    if owner:
        exif[MAKE], exif[MODEL], exif[ARTIST] = "Canon", "EOS R5", "张三 13800001111"
        exif.get_ifd(EXIF_IFD)[0x9003] = "2026:11:25 09:30:00"  # DateTimeOriginal
    if orientation:
        exif[ORIENTATION] = orientation
    if gps:
        exif.get_ifd(GPS_IFD).update(gps)
    buf = io.BytesIO()
    extra = {"comment": comment} if comment else {}
    image.save(buf, "JPEG", exif=exif, quality=95, **extra)
    return buf.getvalue()


TENGZHOU_GPS = {
    0: b"\x02\x03\x00\x00",  # GPSVersionID
    1: "N", 2: (35.0, 4.0, 48.0),  # 35°4'48" N = 35.08
    3: "E", 4: (117.0, 6.0, 36.0),  # 117°6'36" E = 117.11
    7: (1.0, 30.0, 0.0),  # GPSTimeStamp
    29: "2026:11:25",  # GPSDateStamp
}


def stored(photo) -> Image.Image:
    return Image.open(io.BytesIO(photo.content.read()))


def refused(upload_or_list, code: str):
    with pytest.raises(ValidationFailed) as info:
        if isinstance(upload_or_list, list):
            photos_clean(upload_or_list)
        else:
            photo_clean(upload_or_list)
    assert info.value.code == code
    return info.value


def test_exif_orientation_is_applied():
    photo = photo_clean(upload(camera_jpeg((40, 20), orientation=6)))
    assert (photo.width, photo.height) == (20, 40)
    image = stored(photo)
    assert image.size == (20, 40)
    assert ORIENTATION not in image.getexif()  # turned once, not again by the viewer
    # orientation 6 is "rotate 90° clockwise to view": the top-left marker goes top-right
    r, g, b = image.getpixel((17, 2))
    assert b > 150 and r < 100


def test_gps_is_kept_as_lat_lon():
    photo = photo_clean(upload(camera_jpeg(gps=TENGZHOU_GPS)))
    assert photo.lat == pytest.approx(35.08) and photo.lon == pytest.approx(117.11)
    south_west = {**TENGZHOU_GPS, 1: "S", 3: "W"}
    photo = photo_clean(upload(camera_jpeg(gps=south_west)))
    assert photo.lat == pytest.approx(-35.08) and photo.lon == pytest.approx(-117.11)


def test_no_position_when_the_camera_had_no_fix():
    assert photo_clean(upload(camera_jpeg())).lat is None
    zeros = {**TENGZHOU_GPS, 2: (0.0, 0.0, 0.0), 4: (0.0, 0.0, 0.0)}
    assert photo_clean(upload(camera_jpeg(gps=zeros))).lat is None
    void = {**TENGZHOU_GPS, 9: "V"}  # GPSStatus: measurement void
    assert photo_clean(upload(camera_jpeg(gps=void))).lat is None


def test_other_metadata_is_absent_from_the_stored_jpeg():
    raw = camera_jpeg(gps=TENGZHOU_GPS, comment=b"owner: Zhang San 13800001111")
    assert b"Canon" in raw and b"13800001111" in raw
    photo = photo_clean(upload(raw))
    assert photo.taken_at is not None and photo.taken_at.hour == 9  # read, then dropped
    data = photo.content.read()
    for secret in (b"Canon", b"EOS R5", "张三".encode(), b"13800001111", b"Zhang San",
                   b"2026:11:25", b"Exif"):
        assert secret not in data
    image = Image.open(io.BytesIO(data))
    assert dict(image.getexif()) == {}
    assert "comment" not in image.info and "exif" not in image.info


def test_png_with_transparency_becomes_jpeg_on_white():
    image = Image.new("RGBA", (30, 30), (0, 0, 0, 0))
    image.paste((255, 0, 0, 255), (0, 0, 10, 10))
    buf = io.BytesIO()
    image.save(buf, "PNG")
    photo = photo_clean(upload(buf.getvalue(), "screenshot.png", "image/png"))
    result = stored(photo)
    assert result.format == "JPEG" and result.mode == "RGB"
    assert min(result.getpixel((20, 20))) > 245  # was transparent: white, not black
    r, g, b = result.getpixel((4, 4))
    assert r > 200 and g < 80


def test_palette_png_with_a_transparent_colour_becomes_white():
    image = Image.new("P", (20, 20), 0)
    image.putpalette([0, 0, 0, 255, 0, 0] + [0] * 762)
    buf = io.BytesIO()
    image.save(buf, "PNG", transparency=0)
    assert min(stored(photo_clean(upload(buf.getvalue(), "p.png"))).getpixel((5, 5))) > 245


def test_a_text_file_named_jpg_is_refused_in_chinese():
    error = refused(upload("这不是照片".encode(), "现场.jpg"), "photo_not_image")
    assert str(error.message) == "“现场.jpg”不是可识别的图片,请上传 JPEG、PNG 或 WebP 照片。"
    assert error.details == {"field": "photos", "name": "现场.jpg"}
    refused(upload(b"", "empty.jpg"), "photo_not_image")


def test_a_file_over_the_size_limit_is_refused(settings):
    settings.GEZHI_PHOTO_MAX_BYTES = 2000
    big = camera_jpeg((400, 400), color="blue")
    big += b"\0" * max(0, 2001 - len(big))
    error = refused(upload(big, "big.jpg"), "photo_too_large")
    assert "big.jpg" in str(error.message) and "过大" in str(error.message)
    assert photo_clean(upload(camera_jpeg((8, 8), owner=False))).width == 8


def test_too_many_photos_are_refused(settings):
    settings.GEZHI_PHOTO_MAX_COUNT = 3
    error = refused([jpeg(f"{i}.jpg") for i in range(4)], "too_many_photos")
    assert str(error.message) == "照片最多 3 张。"
    assert len(photos_clean([jpeg(f"{i}.jpg") for i in range(3)])) == 3
    assert len(photos_clean(jpeg())) == 1  # one file rather than a list
    assert photos_clean(None) == []


def test_a_truncated_jpeg_is_refused_cleanly():
    image = Image.effect_noise((300, 300), 80).convert("RGB")  # noise: no early end
    buf = io.BytesIO()
    image.save(buf, "JPEG", quality=90)
    half = buf.getvalue()[: len(buf.getvalue()) // 2]  # the upload stopped halfway
    error = refused(upload(half, "half.jpg"), "photo_damaged")
    assert "不完整" in str(error.message) and "half.jpg" in str(error.message)


def png_header_only(width: int, height: int) -> bytes:
    """A valid PNG signature and header claiming a huge image, with a tiny compressed body."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(
            ">I", zlib.crc32(kind + data) & 0xFFFFFFFF)

    header = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)
    body = zlib.compress(b"\0" * 100_000, 9)  # zeros compress to almost nothing
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", body) + chunk(
        b"IEND", b"")


def test_a_decompression_bomb_is_refused():
    bomb = png_header_only(50_000, 50_000)  # 2.5 gigapixels in a few hundred bytes
    assert len(bomb) < 2000
    refused(upload(bomb, "bomb.png"), "photo_not_image")  # over Pillow's own hard limit
    bomb = png_header_only(9_000, 9_000)  # 81 MP: under Pillow's limit, over ours
    error = refused(upload(bomb, "bomb.png"), "photo_too_many_pixels")
    assert "9000×9000" in str(error.message)


def test_the_pixel_limit_comes_from_settings(settings):
    settings.GEZHI_PHOTO_MAX_PIXELS = 100 * 100
    buf = io.BytesIO()
    Image.new("L", (200, 200), 0).save(buf, "PNG")
    refused(upload(buf.getvalue(), "wide.png"), "photo_too_many_pixels")
    assert photo_clean(jpeg(size=(100, 100))).width == 100


def test_large_photos_are_scaled_down(settings):
    settings.GEZHI_PHOTO_MAX_SIDE = 64
    photo = photo_clean(upload(camera_jpeg((400, 200), orientation=6)))
    assert (photo.width, photo.height) == (32, 64)


def test_a_report_with_a_bad_photo_leaves_nothing_behind(world, report, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    with pytest.raises(ValidationFailed) as info:
        report("worker_a1", photos=[jpeg(), upload(b"not a photo", "x.jpg")])
    assert info.value.details["field"] == "photos"
    assert not Event.objects.exists() and not Photo.objects.exists()
    event = report("worker_a1", photos=[upload(camera_jpeg(orientation=6, gps=TENGZHOU_GPS))])
    photo = event.photos.get()
    assert (photo.width, photo.height, photo.lat, photo.lon) == (20, 40, 35.08, 117.11)
    with photo.image.open("rb") as f:
        assert b"Canon" not in f.read()
