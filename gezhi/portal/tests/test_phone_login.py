"""手机号登录: codes through the outbox, expiry, wrong tries, resend throttle, daily caps, new
versus returning residents, the phone encrypted at rest, and the same through the API."""

import datetime as dt

import pytest
from django.contrib.auth import SESSION_KEY
from django.db import connection
from django.test import Client
from django.utils import timezone

from gezhi.accounts.models import ApiToken, RoleAssignment, User
from gezhi.accounts.roles import Role
from gezhi.core import clock
from gezhi.core.errors import ValidationFailed
from gezhi.notify.models import Channel, Message
from gezhi.portal import services
from gezhi.portal.models import PhoneCode, ResidentAccount
from gezhi.portal.services import TooMany

from .conftest import OTHER_PHONE, PHONE, last_code, sign_in

T0 = timezone.make_aware(dt.datetime(2026, 11, 27, 9, 0))
MASK = "138****5678"


def send(client, phone=PHONE):
    return client.post("/login/", {"phone": phone, "action": "send"})


def enter(client, code, phone=PHONE):
    return client.post("/login/", {"phone": phone, "code": code, "action": "login"})


def wrong(code: str) -> str:
    return f"{(int(code) + 1) % 10**6:06d}"


def logged_in_user(client):
    return User.objects.filter(pk=client.session.get(SESSION_KEY)).first()


def test_first_login_creates_a_resident_and_returning_login_finds_them(world):
    client = Client()
    with clock.frozen(T0):
        response = send(client)
    page = response.content.decode()
    assert "验证码已发送至 138****5678,5 分钟内有效。" in page
    assert 'id="login-code"' in page
    message = Message.objects.get(kind="login_code")
    assert message.channel == Channel.SMS and message.phone_mask == MASK
    assert "【格治】您的登录验证码是" in message.text

    with clock.frozen(T0 + dt.timedelta(minutes=1)):
        response = enter(client, last_code())
    assert response.status_code == 302 and response["Location"] == "/my/"
    user = logged_in_user(client)
    assert user is not None and not user.has_usable_password()
    assert user.resident_account.phone_mask == MASK
    assert RoleAssignment.objects.filter(user=user, role=Role.RESIDENT).exists()
    assert "注册成功" in client.get("/my/").content.decode()

    again = Client()
    with clock.frozen(T0 + dt.timedelta(minutes=5)):
        send(again)
        response = enter(again, last_code())
    assert response.status_code == 302
    assert logged_in_user(again) == user
    assert ResidentAccount.objects.count() == 1 and User.objects.filter(
        resident_account__isnull=False).count() == 1


def test_phone_is_encrypted_at_rest_and_codes_are_hashed(world):
    client = Client()
    with clock.frozen(T0):
        send(client)
        code = last_code()
        enter(client, code)
    account = ResidentAccount.objects.get()
    assert PHONE not in account.phone_ct and account.phone_ct.startswith("s1:")
    assert account.phone_bidx and account.phone_bidx == services.phone_index(PHONE)
    assert PHONE not in account.user.username and PHONE not in account.user.display_name
    stored = PhoneCode.objects.get()
    assert code not in stored.code_hash and PHONE not in stored.phone_bidx
    # Nothing in the portal's or the accounts' tables holds the plain number.
    with connection.cursor() as cursor:
        for table in ("portal_residentaccount", "portal_phonecode", "accounts_user"):
            cursor.execute(f"SELECT * FROM {table}")  # noqa: S608 - fixed table names
            assert PHONE not in repr(cursor.fetchall())


def test_code_expires_after_five_minutes(world):
    client = Client()
    with clock.frozen(T0):
        send(client)
    with clock.frozen(T0 + dt.timedelta(minutes=5, seconds=1)):
        response = enter(client, last_code())
    assert response.status_code == 200
    assert "验证码已过期,请重新获取。" in response.content.decode()
    assert logged_in_user(client) is None


def test_five_wrong_tries_and_the_code_is_dead(world):
    client = Client()
    with clock.frozen(T0):
        send(client)
        code = last_code()
        for left in (4, 3, 2, 1):
            page = enter(client, wrong(code)).content.decode()
            assert f"验证码不正确,还可以再试 {left} 次。" in page
        assert "验证码错误次数过多" in enter(client, wrong(code)).content.decode()
        # Even the right code no longer works: a new one must be asked for.
        page = enter(client, code).content.decode()
    assert "验证码错误次数过多,已失效,请重新获取。" in page
    assert logged_in_user(client) is None
    assert PhoneCode.objects.get().attempts == 5


def test_a_code_works_once(world):
    client = Client()
    with clock.frozen(T0):
        send(client)
        code = last_code()
        assert enter(client, code).status_code == 302
        other = Client()
        page = enter(other, code).content.decode()
    assert "请先获取验证码。" in page
    assert logged_in_user(other) is None


def test_resend_waits_a_minute_and_only_the_newest_code_counts(world):
    client = Client()
    with clock.frozen(T0):
        send(client)
        first = last_code()
    with clock.frozen(T0 + dt.timedelta(seconds=20)):
        page = send(client).content.decode()
    assert "验证码已发送,请 40 秒后再重新获取。" in page
    assert 'data-wait="40"' in page  # the countdown on the resend button
    assert Message.objects.filter(kind="login_code").count() == 1
    with clock.frozen(T0 + dt.timedelta(seconds=61)):
        send(client)
        second = last_code()
        assert Message.objects.filter(kind="login_code").count() == 2
        if first != second:
            assert "验证码不正确" in enter(client, first).content.decode()
        assert enter(client, second).status_code == 302


def test_daily_cap_per_phone(world, settings):
    settings.GEZHI_PHONE_CODE_DAILY_PER_PHONE = 3
    for minute in range(3):
        with clock.frozen(T0 + dt.timedelta(minutes=2 * minute)):
            services.phone_code_send(phone=PHONE)
    with clock.frozen(T0 + dt.timedelta(minutes=10)), pytest.raises(TooMany) as caught:
        services.phone_code_send(phone=PHONE)
    assert caught.value.code == "daily_limit"
    assert "今天获取验证码的次数已达上限" in str(caught.value.message)
    # Another phone is not affected, and the next day the phone may ask again.
    with clock.frozen(T0 + dt.timedelta(minutes=10)):
        services.phone_code_send(phone=OTHER_PHONE)
    with clock.frozen(T0 + dt.timedelta(days=1)):
        services.phone_code_send(phone=PHONE)


def test_daily_cap_per_client_address(world, settings):
    settings.GEZHI_PHONE_CODE_DAILY_PER_IP = 2
    phones = ["13900000001", "13900000002", "13900000003"]
    with clock.frozen(T0):
        services.phone_code_send(phone=phones[0], ip="10.0.0.8")
        services.phone_code_send(phone=phones[1], ip="10.0.0.8")
        with pytest.raises(TooMany) as caught:
            services.phone_code_send(phone=phones[2], ip="10.0.0.8")
        assert caught.value.code == "ip_daily_limit"
        services.phone_code_send(phone=phones[2], ip="10.0.0.9")
    # The page counts the client's address as django-axes sees it.
    client = Client(REMOTE_ADDR="10.0.0.8")
    with clock.frozen(T0):
        page = send(client, "13900000004").content.decode()
    assert "您今天获取验证码的次数过多,请明天再试。" in page


@pytest.mark.parametrize("phone,message", [
    ("", "请输入手机号码。"),
    ("12345678901", "请输入正确的11位手机号码"),
    ("1381234567", "请输入正确的11位手机号码"),
    ("0632-5512345", "请输入正确的11位手机号码"),
])
def test_bad_phone_numbers_get_a_clear_message(world, phone, message):
    response = send(Client(), phone)
    assert message in response.content.decode()
    assert not Message.objects.exists() and not PhoneCode.objects.exists()


def test_phone_formats_people_type_are_accepted(world):
    with clock.frozen(T0):
        sent = services.phone_code_send(phone="+86 138-1234-5678")
    assert sent.phone_mask == MASK


@pytest.mark.parametrize("code", ["", "12345", "abcdef"])
def test_code_must_be_six_digits(world, code):
    with pytest.raises(ValidationFailed) as caught:
        services.phone_login(phone=PHONE, code=code)
    assert caught.value.details["field"] == "code"
    assert str(caught.value.message) == "请输入短信中的6位数字验证码。"


def test_staff_phones_cannot_sign_in_by_text_message(world):
    with clock.frozen(T0):
        sign_in(Client())
    user = ResidentAccount.objects.get().user
    from gezhi.accounts.services import role_assign

    role_assign(user=user, role=Role.GRID_WORKER, region=world.grid_a1)
    client = Client()
    with clock.frozen(T0 + dt.timedelta(minutes=2)):
        page = sign_in(client).content.decode()
    assert "该手机号绑定的是工作人员账号,请使用工作人员登录。" in page
    assert logged_in_user(client) is None


def test_staff_logged_in_with_a_password_can_use_the_portal(world):
    client = world.client("worker_a1")
    assert client.get("/login/").status_code == 302  # already signed in
    page = client.get("/report/").content.decode()
    assert 'name="contact_phone"' not in page  # reports as themselves
    assert client.get("/my/").status_code == 200


def test_login_goes_back_to_where_the_resident_was(world):
    client = Client()
    response = client.get("/my/")
    assert response.status_code == 302 and response["Location"].startswith("/login/?next=/my/")
    page = client.get("/login/?next=/report/").content.decode()
    assert 'name="next" value="/report/"' in page
    with clock.frozen(T0):
        client.post("/login/", {"phone": PHONE, "action": "send", "next": "/report/"})
        response = client.post("/login/", {"phone": PHONE, "code": last_code(),
                                           "action": "login", "next": "/report/"})
    assert response["Location"] == "/report/"
    with clock.frozen(T0 + dt.timedelta(minutes=2)):
        client.post("/login/", {"phone": PHONE, "action": "send"})
        response = client.post("/login/", {"phone": PHONE, "code": last_code(),
                                           "action": "login", "next": "https://evil.example/"})
    assert response["Location"] == "/my/"


def test_logout(resident_client):
    assert resident_client.get("/").content.decode().count("退出登录") == 1
    response = resident_client.post("/logout/")
    assert response.status_code == 302 and response["Location"] == "/"
    assert SESSION_KEY not in resident_client.session
    assert resident_client.get("/my/").status_code == 302
    assert resident_client.get("/logout/").status_code == 405


# --- The same for apps: /api/v1/public/phone-code and /phone-login ---------------------------


def api_post(client, path, body):
    return client.post(f"/api/v1/public/{path}", body, content_type="application/json")


def test_api_phone_login_issues_a_token(world):
    client = Client()
    with clock.frozen(T0):
        response = api_post(client, "phone-code", {"phone": PHONE})
        assert response.status_code == 200
        assert response.json() == {"phone_mask": MASK, "expires_in": 300, "resend_in": 60}
        again = api_post(client, "phone-code", {"phone": PHONE})
        assert again.status_code == 429 and again.json()["code"] == "too_soon"
        assert again.json()["details"]["retry_after"] == 60
        bad = api_post(client, "phone-login", {"phone": PHONE, "code": wrong(last_code())})
        assert bad.status_code == 422 and bad.json()["code"] == "bad_code"
        assert bad.json()["details"] == {"field": "code", "remaining": 4}
        response = api_post(client, "phone-login", {"phone": PHONE, "code": last_code()})
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["created"] is True and body["token_type"] == "Bearer"
    assert body["user"] == {"name": "居民138****5678", "phone_mask": MASK}
    assert ApiToken.objects.filter(user__resident_account__isnull=False).count() == 1
    app = Client(HTTP_AUTHORIZATION=f"Bearer {body['token']}")
    assert app.get("/api/v1/events/mine").json()["count"] == 0
    assert app.get("/api/v1/auth/me").json()["name"] == "居民138****5678"


@pytest.mark.parametrize("body,status,code", [
    ({"phone": "123"}, 422, "bad_phone"),
    ({"phone": PHONE, "code": "000000"}, 422, "no_code"),
    ({"phone": PHONE}, 422, "validation_failed"),
])
def test_api_phone_login_errors(world, body, status, code):
    path = "phone-code" if body == {"phone": "123"} else "phone-login"
    response = api_post(Client(), path, body)
    assert response.status_code == status
    assert response.json()["code"] == code and response.json()["message"]


def test_api_too_many_tries(world):
    client = Client()
    with clock.frozen(T0):
        api_post(client, "phone-code", {"phone": PHONE})
        code = last_code()
        for _ in range(4):
            api_post(client, "phone-login", {"phone": PHONE, "code": wrong(code)})
        response = api_post(client, "phone-login", {"phone": PHONE, "code": wrong(code)})
        assert response.status_code == 429 and response.json()["code"] == "too_many_tries"
        response = api_post(client, "phone-login", {"phone": PHONE, "code": code})
    assert response.status_code == 429
