"""Portal fixtures: signing a resident in by phone, the way a person does it (the code is read
from the outbox, where the demo's log sender would print it)."""

import re

import pytest
from django.test import Client

from gezhi.notify.models import Message

PHONE = "13812345678"
OTHER_PHONE = "15900001111"


def last_code(phone_mask: str | None = None) -> str:
    messages = Message.objects.filter(kind="login_code")
    if phone_mask:
        messages = messages.filter(phone_mask=phone_mask)
    message = messages.order_by("-id").first()
    assert message is not None, "no login code in the outbox"
    return re.search(r"\d{6}", message.text).group(0)


def sign_in(client: Client, phone: str = PHONE):
    """Ask for a code on /login/ and type it in; returns the final response."""
    response = client.post("/login/", {"phone": phone, "action": "send"})
    assert response.status_code == 200, response.content.decode()[:500]
    mask = phone[:3] + "****" + phone[-4:]
    return client.post("/login/", {"phone": phone, "code": last_code(mask), "action": "login"})


@pytest.fixture
def resident_client(world) -> Client:
    client = Client()
    response = sign_in(client)
    assert response.status_code == 302, response.content.decode()[:500]
    return client


def jpeg(name: str = "photo.jpg", size=(64, 48), color="red"):
    import io

    from django.core.files.uploadedfile import SimpleUploadedFile
    from PIL import Image

    buf = io.BytesIO()
    Image.new("RGB", size, color).save(buf, "JPEG")
    return SimpleUploadedFile(name, buf.getvalue(), content_type="image/jpeg")


IN_A1 = (35.08, 117.11)
IN_B1 = (35.08, 117.22)


def close_event(event, world, *, note: str = "已清运"):
    """Staff drive an event through the loop to 已结案, with internal notes on the way."""
    from gezhi.events import services as s

    dispatcher, handler = world.user("dispatcher_a"), world.user("handler")
    s.event_accept(event=event, actor=dispatcher, note="内部:先核实 13911112222")
    s.event_dispatch(event=event, actor=dispatcher, department=world.department,
                     note="内部:请黄金 13922223333 处理")
    s.event_claim(event=event, actor=handler)
    s.event_handle(event=event, actor=handler, note=note, photos=[jpeg(color="green")])
    s.event_verify(event=event, actor=world.user("worker_a1"), note="内部:核查人樊荣")
    return s.event_close(event=event, actor=dispatcher, note="内部:结案备注")


@pytest.fixture
def resident_user(resident_client):
    from gezhi.portal.models import ResidentAccount

    return ResidentAccount.objects.get().user
