"""随手拍 on /report/: logged in or anonymous with a contact, a point or only an address,
photos checked by the event intake, and the follow link of an anonymous report."""

import re

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client

from gezhi.events.models import Event, Source, State
from gezhi.portal import services
from gezhi.portal.models import ReportTicket

from .conftest import IN_A1, IN_B1, jpeg

FORM = {"category": "0102", "description": "小区门口垃圾堆了三天没人清理"}


def post_report(client, *, where=IN_A1, photos=(), **fields):
    data = {**FORM, **fields}
    if where is not None:
        data.update(lat=str(where[0]), lon=str(where[1]))
    if photos:
        data["photos"] = list(photos)
    return client.post("/report/", data)


def test_form_offers_resident_categories_grouped_by_class(world):
    page = Client().get("/report/").content.decode()
    assert '<optgroup label="市容环境">' in page
    assert '<option value="0102">暴露垃圾</option>' in page
    assert 'value="2501"' in page  # 关爱对象帮扶: a neighbour needs help
    assert 'value="2502"' not in page  # 特殊人群异常情况: not for residents to label people
    assert 'accept="image/*"' in page and 'enctype="multipart/form-data"' in page
    # Without JavaScript: the map stays hidden, latitude and longitude can be typed.
    assert 'id="report-map" class="map report-map" hidden' in page
    assert '<noscript>' in page and 'name="lat"' in page
    assert 'name="contact_phone"' in page  # anonymous visitors leave a contact


def test_resident_reports_with_photo_and_point(resident_client, resident_user):
    response = post_report(resident_client, photos=[jpeg()], address="善国盛景3号楼")
    event = Event.objects.get()
    assert response.status_code == 302
    assert response["Location"] == f"/my/{event.serial}/"
    assert event.reporter == resident_user and event.source == Source.RESIDENT
    assert event.grid.code == "370481001001001" and event.address == "善国盛景3号楼"
    assert (event.lat, event.lon) == IN_A1 and event.photos.count() == 1
    # The resident's own phone is the contact, stored like every phone: encrypted.
    assert event.contact_phone_mask == "138****5678" and "13812345678" not in event.contact_phone_ct
    page = resident_client.get(response["Location"]).content.decode()
    assert f"已收到您反映的问题,编号 {event.serial}" in page
    assert "您反映了该问题,已登记。" in page


def test_anonymous_report_needs_a_contact_phone(world):
    response = post_report(Client(), photos=[jpeg()])
    assert response.status_code == 422
    page = response.content.decode()
    assert "不登录反映问题,请留下手机号,以便告知处理结果。" in page
    assert "请重新选择照片" in page  # file inputs cannot be refilled
    assert FORM["description"] in page  # what was typed is kept
    assert not Event.objects.exists()
    response = post_report(Client(), contact_phone="12345")
    assert "请输入正确的11位手机号码" in response.content.decode()
    assert not Event.objects.exists()


def test_anonymous_report_gets_a_private_follow_link(world):
    client = Client()
    response = post_report(client, photos=[jpeg()], contact_name="王先生",
                           contact_phone="139 0632 1234")
    event = Event.objects.get()
    assert event.reporter is None and event.contact_name == "王先生"
    assert event.contact_phone_mask == "139****1234"
    follow = response["Location"]
    token = re.fullmatch(r"/follow/([\w-]+)/", follow).group(1)
    assert len(token) >= 32
    assert ReportTicket.objects.get(event=event).token_hash == services.token_hash(token)
    assert not ReportTicket.objects.filter(token_hash=token).exists()  # only the hash is kept

    page = client.get(follow)
    text = page.content.decode()
    assert page["Cache-Control"] == "private, no-store"
    assert page["Referrer-Policy"] == "no-referrer"
    assert f"已收到您反映的问题,编号 {event.serial}" in text
    assert event.serial in text and "待受理" in text and "您反映了该问题,已登记。" in text
    assert f"http://testserver{follow}" in text  # the link to keep
    # The photo is shown through a signed link, which works without logging in.
    photo_url = re.search(r'<img src="(/photos/event/\d+\.jpg\?s=[^"]+)"', text).group(1)
    assert Client().get(photo_url.replace("&amp;", "&")).status_code == 200
    assert Client().get(photo_url.split("?")[0]).status_code == 404

    assert Client().get("/follow/not-a-real-token/").status_code == 404
    assert Client().get(f"/follow/{token[:-1]}x/").status_code == 404


def test_follow_page_shows_progress_in_plain_words(world):
    from .conftest import close_event

    client = Client()
    follow = post_report(client, contact_phone="13906321234")["Location"]
    close_event(Event.objects.get(), world)
    text = client.get(follow).content.decode()
    assert "已结案" in text and "已办结。" in text and "已处理:已清运" in text
    assert "内部" not in text and "13922223333" not in text
    assert 'name="rating"' in text


def test_the_follow_link_rates_an_anonymous_report_once(world):
    from .conftest import close_event

    client = Client()
    follow = post_report(client, contact_phone="13906321234")["Location"]
    # Not before it is closed.
    refused = client.post(follow, {"rating": "satisfied"})
    assert refused.status_code == 422 and Event.objects.get().rating == ""
    close_event(Event.objects.get(), world)
    assert client.post(follow, {"rating": ""}).status_code == 422  # nothing chosen
    done = client.post(follow, {"rating": "basic", "rating_note": "还行"})
    assert done.status_code == 302
    event = Event.objects.get()
    assert event.rating == "basic"
    entry = event.timeline.get(op="rate")
    assert entry.actor_id is None and entry.note == "还行"
    again = client.post(follow, {"rating": "satisfied"})
    assert again.status_code == 422 and "不能重复评价" in again.content.decode()
    assert Event.objects.get().rating == "basic"
    # A wrong link rates nothing.
    assert client.post(follow[:-3] + "xyz/", {"rating": "satisfied"}).status_code == 404


def test_a_staff_report_cannot_be_rated_as_anonymous(world):
    from gezhi.core.errors import PermissionDenied
    from gezhi.events import services

    from .conftest import close_event

    post_report(Client(), contact_phone="13906321234")
    event = Event.objects.get()
    Event.objects.filter(pk=event.pk).update(reporter=world.user("worker_a1"))
    close_event(Event.objects.get(), world)
    with pytest.raises(PermissionDenied):
        services.event_rate(event=Event.objects.get(), actor=None, rating="satisfied",
                            anonymous_reporter=True)


def test_address_alone_places_the_report(base):
    client = Client()
    response = post_report(client, where=None, address="善国盛景小区3号楼东侧",
                           contact_phone="13906321234")
    assert response.status_code == 302
    event = Event.objects.get()
    assert (event.lat, event.lon) == (35.08, 117.11)  # the estate's point
    assert event.grid == base.estate_a1.grid


def test_address_of_a_grid_places_the_report_inside_it(world):
    response = post_report(Client(), where=None, address="荆河花园小区",
                           contact_phone="13906321234")
    assert response.status_code == 302
    assert Event.objects.get().grid == world.grid_b1


@pytest.mark.parametrize("address,message", [
    ("", "请在地图上点选问题位置,或填写详细地址。"),
    ("文化路", "这个地址对应多个网格"),
    ("火星基地", "没有找到这个地址"),
])
def test_no_point_and_no_usable_address(world, address, message):
    response = post_report(Client(), where=None, address=address, contact_phone="13906321234")
    assert response.status_code == 422
    assert message in response.content.decode()
    assert not Event.objects.exists()


def test_point_outside_every_grid(world):
    response = post_report(Client(), where=(35.5, 117.5), contact_phone="13906321234")
    assert "该位置不在任何网格内" in response.content.decode()
    assert not Event.objects.exists()


def test_a_file_that_is_not_a_photo(world):
    fake = SimpleUploadedFile("note.jpg", b"not an image at all", content_type="image/jpeg")
    response = post_report(Client(), photos=[fake], contact_phone="13906321234")
    assert response.status_code == 422
    assert "“note.jpg”不是可识别的图片" in response.content.decode()
    assert not Event.objects.exists()


@pytest.mark.parametrize("fields,message", [
    ({"category": ""}, "请选择问题类别。"),
    ({"category": "2502"}, "请选择问题类别。"),
    ({"category": "01"}, "请选择问题类别。"),  # a class, not a subclass
    ({"description": "  "}, "请描述问题。"),
])
def test_category_and_description_are_required(world, fields, message):
    response = post_report(Client(), contact_phone="13906321234", **fields)
    assert response.status_code == 422
    assert message in response.content.decode()
    assert not Event.objects.exists()


def test_staff_report_from_the_portal_as_themselves(world):
    worker = world.client("worker_a1")
    response = post_report(worker)
    event = Event.objects.get()
    assert response["Location"] == f"/my/{event.serial}/"
    assert event.reporter == world.user("worker_a1") and event.source == Source.RESIDENT
    assert event.state == State.REPORTED
    # Outside their own grid the intake's scope rule applies, with its message.
    response = post_report(worker, where=IN_B1)
    assert "不在您的辖区内" in response.content.decode()
    assert Event.objects.count() == 1
