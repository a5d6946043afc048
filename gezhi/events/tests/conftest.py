"""Event fixtures on top of the world personas: points in each grid and a report helper."""

import io

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from PIL import Image

from gezhi.events.models import Category
from gezhi.events.services import Intake, event_report

IN_A1 = (35.08, 117.11)  # (lat, lon) inside grid A-1
IN_A2 = (35.08, 117.13)
IN_B1 = (35.08, 117.22)
OUTSIDE = (35.50, 117.50)


def jpeg(name: str = "photo.jpg", size=(64, 48), color="red") -> SimpleUploadedFile:
    buf = io.BytesIO()
    Image.new("RGB", size, color).save(buf, "JPEG")
    return SimpleUploadedFile(name, buf.getvalue(), content_type="image/jpeg")


@pytest.fixture
def category(db) -> Category:
    return Category.objects.get(code="0102")  # 暴露垃圾, 4 working hours, reopen on 不满意


@pytest.fixture
def report(world, category):
    """report(user_name, where=IN_A1, **intake fields) -> Event"""

    def make(name: str | None = "worker_a1", where=IN_A1, **fields):
        fields.setdefault("description", "楼下垃圾堆积三天无人清理")
        fields.setdefault("category", category)
        actor = world.user(name) if name else None
        if actor is None:
            fields.setdefault("contact_phone", "13800001234")
            fields.setdefault("source", "resident")
        return event_report(actor=actor, intake=Intake(lat=where[0], lon=where[1], **fields))

    return make
