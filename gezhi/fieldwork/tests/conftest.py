"""Field-work fixtures on top of the world personas and their base data (conftest.py).

Base: house_a1 (grid A-1) where 张桂兰 lives, tagged lone elderly (独居老人, visited weekly);
house_a1_2 (A-1) where 赵强 lives, tagged community correction (restricted); house_b1 (B-1)
where 王芳 lives, untagged. worker_a1 records in A-1, worker_b1 in B-1, chief_a1 in A-1 and
A-2 (and sees special groups there); leader_a reads subdistrict A but records nothing.
"""

import datetime as dt
import io
import itertools
import json

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.utils import timezone
from PIL import Image

from gezhi.core import clock
from gezhi.fieldwork.services import visit_create
from gezhi.people.models import PersonTag, Tag
from gezhi.people.services import person_create, person_tag_add, residence_move_in

API = "/api/v1/fieldwork"
IN_A1 = (35.08, 117.11)
IN_A2 = (35.08, 117.13)
IN_B1 = (35.08, 117.22)
OUTSIDE = (35.50, 117.50)


@pytest.fixture(autouse=True)
def _media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path


def post(client: Client, url: str, body: dict | None = None):
    return client.post(f"{API}{url}", json.dumps(body or {}), content_type="application/json")


def get(client: Client, url: str, **params):
    return client.get(f"{API}{url}", params)


def error(response, status: int, code: str | None = None, field: str | None = None) -> dict:
    assert response.status_code == status, response.content
    body = response.json()
    assert set(body) == {"code", "message", "details"} and body["message"], body
    if code:
        assert body["code"] == code, body
    if field:
        assert body["details"].get("field") == field, body
    return body


def jpeg(name: str = "photo.jpg", size=(64, 48), color="red") -> SimpleUploadedFile:
    buf = io.BytesIO()
    Image.new("RGB", size, color).save(buf, "JPEG")
    return SimpleUploadedFile(name, buf.getvalue(), content_type="image/jpeg")


def local(*args) -> dt.datetime:
    return timezone.make_aware(dt.datetime(*args))


NOW = local(2026, 3, 10, 10, 0)
TAGGED_ON = local(2026, 1, 1, 9, 0)
_ids = itertools.count(1)


@pytest.fixture
def frozen(base):
    """The clock stopped at NOW, every base tag added on TAGGED_ON."""
    PersonTag.objects.update(added_at=TAGGED_ON)
    with clock.frozen(NOW):
        yield


def visit(world, who: str, house, when, outcome="met", **fields):
    """A visit to `house` at `when`, recorded by `who` on the phone an hour later."""
    with clock.frozen(when + dt.timedelta(hours=1)):
        return visit_create(actor=world.user(who), fields={
            "house": house.pk, "visited_at": when, "outcome": outcome, **fields})[0]


def resident(house, tag: str | None = None, *, grid=None, tagged_on=TAGGED_ON):
    """Someone who lives in `house`, carrying `tag` since `tagged_on`."""
    person = person_create(actor=None, grid=grid or house.grid, name=f"居民{next(_ids)}",
                           id_type="other", id_number=f"T{next(_ids):08d}")
    residence_move_in(actor=None, person=person, house=house, relation="owner")
    if tag:
        row = person_tag_add(actor=None, person=person, tag=Tag.objects.get(code=tag))
        PersonTag.objects.filter(pk=row.pk).update(added_at=tagged_on)
    return person
