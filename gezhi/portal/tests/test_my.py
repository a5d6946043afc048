"""我的反映: a resident's own reports with their progress in plain words, photos through the
permission-checked link, rating once after closing, a follow-up comment, and 我的网格员."""

import datetime as dt
import re

import pytest
from django.test import Client

from gezhi.core import clock
from gezhi.events import services as s
from gezhi.events.models import Event, Op, Rating, TimelineEntry
from gezhi.portal import services

from .conftest import IN_A1, OTHER_PHONE, close_event, jpeg, sign_in


def report(user, *, photos=(), description="楼道灯坏了一个月"):
    return services.resident_report(user=user, category="1102", description=description,
                                    lat=IN_A1[0], lon=IN_A1[1], photos=photos).event


def page(client, url) -> str:
    response = client.get(url)
    assert response.status_code == 200, response.status_code
    return response.content.decode()


def test_my_reports_lists_only_mine_with_state_and_progress(world, resident_client,
                                                            resident_user):
    mine = report(resident_user)
    theirs = report(world.user("resident"), description="别人的问题")
    staff = s.event_report(actor=world.user("worker_a1"), intake=s.Intake(
        category=mine.category, description="网格员巡查发现", lat=IN_A1[0], lon=IN_A1[1]))
    s.event_accept(event=mine, actor=world.user("dispatcher_a"))
    text = page(resident_client, "/my/")
    assert mine.serial in text and "路灯损坏" in text and "楼道灯坏了一个月" in text
    assert "待派遣" in text and "已受理,正在安排处理。" in text
    assert theirs.serial not in text and "别人的问题" not in text
    assert staff.serial not in text and "网格员巡查发现" not in text


def test_another_residents_serial_is_not_found(world, resident_client, resident_user):
    theirs = report(world.user("resident"))
    staff = s.event_report(actor=world.user("worker_a1"), intake=s.Intake(
        category=theirs.category, description="巡查", lat=IN_A1[0], lon=IN_A1[1]))
    for serial in (theirs.serial, staff.serial, "370481-20260101-9999", str(theirs.pk)):
        assert resident_client.get(f"/my/{serial}/").status_code == 404
        assert resident_client.post(f"/my/{serial}/", {"action": "comment",
                                                       "note": "x"}).status_code == 404
    assert TimelineEntry.objects.filter(op=Op.COMMENT).count() == 0


def test_progress_uses_the_same_words_as_the_api(world, resident_client, resident_user):
    event = report(resident_user)
    close_event(event, world)
    text = page(resident_client, f"/my/{event.serial}/")
    api = resident_client.get("/api/v1/events/mine").json()["items"][0]
    for step in api["steps"]:
        assert step["text"] in text
    texts = re.findall(r'<span class="steps__text">(.*?)</span>', text)
    assert [t.replace("&quot;", '"') for t in texts] == [step["text"] for step in api["steps"]]


def test_reporter_never_sees_internal_notes_or_staff_phones(world, resident_client,
                                                            resident_user):
    event = report(resident_user)
    s.event_supervise(event=event, actor=world.user("leader_a"), level=2,
                      note="内部督办:联系 13933334444")
    close_event(event, world)
    text = page(resident_client, f"/my/{event.serial}/")
    for secret in ("内部", "13911112222", "13922223333", "13933334444", "0632-5512345",
                   "13806321234", "王子娥", "黄金", "梁刚"):
        assert secret not in text, secret
    assert "已办结。" in text and f"已交由“{world.department.name}”处理。" in text
    assert "领导已督办。" in text  # that it was supervised, not what was said


def test_photos_through_the_permission_checked_link(world, resident_client, resident_user):
    event = report(resident_user, photos=[jpeg()])
    close_event(event, world)  # the handler adds a result photo
    text = page(resident_client, f"/my/{event.serial}/")
    urls = re.findall(r'<img src="(/photos/event/\d+\.jpg)"', text)
    assert len(urls) == 2 and "现场照片" in text and "处置结果照片" in text
    for url in urls:
        response = resident_client.get(url)
        assert response.status_code == 200 and response["Content-Type"] == "image/jpeg"
        assert world.client("resident").get(url).status_code == 404
        assert Client().get(url).status_code == 404


def test_rating_only_when_closed_and_only_once(world, resident_client, resident_user):
    event = report(resident_user)
    url = f"/my/{event.serial}/"
    assert 'id="rate"' not in page(resident_client, url)
    response = resident_client.post(url, {"action": "rate", "rating": "satisfied"})
    assert response.status_code == 422
    assert "不能执行“评价”" in response.content.decode()
    assert Event.objects.get(pk=event.pk).rating == ""

    close_event(event, world)
    assert 'id="rate"' in page(resident_client, url)
    response = resident_client.post(url, {"action": "rate", "rating": ""})
    assert "请选择满意、基本满意或不满意。" in response.content.decode()
    response = resident_client.post(url, {"action": "rate", "rating": Rating.BASIC,
                                          "rating_note": "处理及时"})
    assert response.status_code == 302
    text = page(resident_client, url)
    assert "感谢您的评价。" in text and "您的评价:基本满意" in text
    assert 'id="rate"' not in text
    assert Event.objects.get(pk=event.pk).rating == Rating.BASIC

    response = resident_client.post(url, {"action": "rate", "rating": Rating.DISSATISFIED})
    assert "该事件已经评价过了,不能重复评价。" in response.content.decode()
    assert Event.objects.get(pk=event.pk).rating == Rating.BASIC
    assert TimelineEntry.objects.filter(event=event, op=Op.RATE).count() == 1


def test_list_offers_rating_for_closed_reports(world, resident_client, resident_user):
    event = report(resident_user)
    close_event(event, world)
    assert f'href="/my/{event.serial}/#rate">去评价' in page(resident_client, "/my/")


def test_a_follow_up_comment(world, resident_client, resident_user):
    event = report(resident_user)
    url = f"/my/{event.serial}/"
    response = resident_client.post(url, {"action": "comment", "comment": "灯在3单元二楼"})
    assert response.status_code == 302
    assert "您留言:灯在3单元二楼" in page(resident_client, url)
    response = resident_client.post(url, {"action": "comment", "comment": "  "})
    assert response.status_code == 422 and "请填写留言内容。" in response.content.decode()


def test_my_grid_staff_from_the_latest_report(world, resident_client, resident_user):
    assert "保存您的常住地址,或反映一次问题后" in page(resident_client, "/my/")
    report(resident_user)
    text = page(resident_client, "/my/")
    assert "按您最近一次反映问题的位置查找" in text
    assert "文化路第一网格" in text and "樊荣" in text and "刘合贵" in text
    assert "未公示人员" not in text


def test_saved_home_address_decides_my_grid(world, resident_client, resident_user):
    report(resident_user)  # in A-1
    response = resident_client.post("/my/", {"address": "荆河花园"})
    assert response.status_code == 302
    text = page(resident_client, "/my/")
    assert "常住地址已保存。" in text and "按您保存的常住地址“荆河花园”查找" in text
    assert "荆河第一网格" in text and "孙丽" in text and "樊荣" not in text
    response = resident_client.post("/my/", {"address": "火星基地"})
    assert response.status_code == 422
    assert "没有找到与“火星基地”相符的网格" in response.content.decode()
    resident_user.resident_account.refresh_from_db()
    assert resident_user.resident_account.home_address == "荆河花园"
    resident_client.post("/my/", {"address": ""})
    assert "按您最近一次反映问题的位置查找" in page(resident_client, "/my/")


def test_my_page_query_count_is_pinned(world, resident_client, resident_user,
                                       django_assert_num_queries):
    for i in range(5):
        event = report(resident_user, description=f"问题 {i}")
        s.event_accept(event=event, actor=world.user("dispatcher_a"))
    resident_client.post("/my/", {"address": "善国盛景"})
    # session, user, account, reports (count + page + timelines), grids, staff, and the
    # roles for the header's console link: the same for 5 reports as for 50
    with django_assert_num_queries(9):
        text = page(resident_client, "/my/")
    assert text.count('class="report-card"') == 5


def test_anonymous_visitors_are_asked_to_log_in(world):
    response = Client().get("/my/")
    assert response.status_code == 302 and response["Location"] == "/login/?next=/my/"


def test_two_residents_see_only_their_own(world, resident_client, resident_user):
    mine = report(resident_user)
    other = Client()
    with clock.frozen(clock.now() + dt.timedelta(minutes=2)):
        sign_in(other, OTHER_PHONE)
    assert mine.serial not in page(other, "/my/")
    assert other.get(f"/my/{mine.serial}/").status_code == 404


@pytest.mark.parametrize("path", ["/my/", "/report/", "/"])
def test_pages_fit_the_resident_base(world, resident_client, path):
    text = page(resident_client, path)
    assert '<nav class="portal-nav"' in text and 'href="/static/portal/portal.css"' in text
