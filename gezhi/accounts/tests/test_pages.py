"""Login, logout, lockout and the language switch, as a person at a browser meets them."""

import re

from django.conf import settings
from django.test import Client

from conftest import PASSWORD


def html_lang(response) -> str:
    return re.search(r'<html lang="([^"]+)"', response.content.decode()).group(1)


def test_login_page_is_chinese_with_labels(db):
    response = Client().get("/accounts/login/")
    assert response.status_code == 200
    assert html_lang(response) == "zh-hans"
    page = response.content.decode()
    assert "工作人员登录" in page
    assert '<label for="id_username">用户名</label>' in page
    assert '<label for="id_password">密码</label>' in page


def test_wrong_password_shows_chinese_error_and_right_one_opens_console(world):
    client = Client()
    response = client.post("/accounts/login/", {"username": "worker_a1", "password": "wrong"})
    assert response.status_code == 200
    assert "用户名或密码错误" in response.content.decode()

    response = client.post("/accounts/login/", {"username": "worker_a1", "password": PASSWORD},
                           follow=True)
    assert response.redirect_chain[-1][0] == "/console/"
    assert "樊荣" in response.content.decode()


def test_login_returns_to_the_page_asked_for(world):
    client = Client()
    response = client.get("/console/map/")
    assert response.status_code == 302
    assert response["Location"] == "/accounts/login/?next=/console/map/"
    response = client.post("/accounts/login/?next=/console/map/",
                           {"username": "worker_a1", "password": PASSWORD, "next": "/console/map/"})
    assert response["Location"] == "/console/map/"


def test_logout_is_a_post_button_and_ends_the_session(world):
    client = world.client("worker_a1")
    page = client.get("/console/").content.decode()
    assert re.search(r'<form class="logout" method="post" action="/accounts/logout/">', page)
    response = client.post("/accounts/logout/")
    assert response.status_code == 302
    assert client.get("/console/").status_code == 302


def test_repeated_failures_lock_the_account_with_a_chinese_page(world):
    client = Client()
    for _ in range(settings.AXES_FAILURE_LIMIT - 1):
        response = client.post("/accounts/login/", {"username": "leader_a", "password": "nope"})
        assert response.status_code == 200
    response = client.post("/accounts/login/", {"username": "leader_a", "password": "nope"})
    assert response.status_code == 429
    page = response.content.decode()
    assert "账号已暂时锁定" in page
    minutes = round(settings.AXES_COOLOFF_TIME.total_seconds() / 60)
    assert f"{minutes} 分钟后再试" in page
    # Even the right password is refused while locked.
    response = client.post("/accounts/login/", {"username": "leader_a", "password": PASSWORD})
    assert response.status_code == 429


def test_language_switch_renders_english(world):
    client = Client()
    page = client.get("/accounts/login/").content.decode()
    assert 'action="/i18n/setlang/"' in page and 'value="en"' in page
    response = client.post("/i18n/setlang/", {"language": "en", "next": "/accounts/login/"})
    assert response.status_code == 302
    response = client.get("/accounts/login/")
    assert html_lang(response) == "en"
    assert 'aria-pressed="true">English' in response.content.decode()
