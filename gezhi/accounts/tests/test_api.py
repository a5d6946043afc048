"""/api/v1/auth/: tokens, login throttling, token errors, session + CSRF."""

from datetime import timedelta

import pytest
from axes.models import AccessAttempt
from django.conf import settings
from django.test import Client
from django.utils import timezone

from conftest import PASSWORD
from gezhi.accounts.models import ApiToken

A1_POINT = {"points": [[35.08, 117.11]]}


def post_token(client: Client, username: str, password: str):
    return client.post("/api/v1/auth/token", {"username": username, "password": password},
                       content_type="application/json")


def test_token_is_issued_for_the_right_password_and_opens_the_api(world):
    response = post_token(Client(), "worker_a1", PASSWORD)
    assert response.status_code == 200
    body = response.json()
    assert body["token"].startswith("gz_")
    assert body["token_type"] == "Bearer"
    expires = timezone.datetime.fromisoformat(body["expires_at"])
    assert expires - timezone.now() > settings.GEZHI_TOKEN_TTL - timedelta(minutes=1)
    # Only a hash is stored: the raw token is not in the database.
    assert not ApiToken.objects.filter(key_hash=body["token"]).exists()

    me = Client(HTTP_AUTHORIZATION=f"Bearer {body['token']}").get("/api/v1/auth/me")
    assert me.status_code == 200
    assert me.json() == {"username": "worker_a1", "name": "樊荣", "roles": ["grid_worker"],
                         "scope_paths": [world.grid_a1.path], "everything": False}


@pytest.mark.parametrize("username", ["worker_a1", "nobody"])
def test_wrong_password_or_unknown_user_is_401_bad_credentials(world, username):
    response = post_token(Client(), username, "wrong-password")
    assert response.status_code == 401
    assert response.json() == {"code": "bad_credentials", "message": "用户名或密码错误。",
                               "details": {}}


def test_repeated_failures_lock_the_user_out_even_with_the_right_password(world):
    client = Client()
    limit = settings.AXES_FAILURE_LIMIT
    assert limit == 5
    for _attempt in range(limit - 1):
        assert post_token(client, "worker_a1", "wrong-password").status_code == 401
    # django-axes counted the failures made through the API with the real request.
    attempt = AccessAttempt.objects.get(username="worker_a1")
    assert attempt.failures_since_start == limit - 1
    assert attempt.ip_address == "127.0.0.1"

    locked = post_token(client, "worker_a1", "wrong-password")
    assert locked.status_code == 429
    assert locked["Content-Type"].startswith("application/json")  # not axes' HTML page
    assert locked.json()["code"] == "locked_out"
    assert "锁定" in locked.json()["message"]

    right_password = post_token(client, "worker_a1", PASSWORD)
    assert right_password.status_code == 429
    assert right_password.json()["code"] == "locked_out"
    assert not ApiToken.objects.filter(user=world.user("worker_a1")).exists()

    # The lock is per user name (and address): colleagues can still log in.
    assert post_token(client, "worker_b1", PASSWORD).status_code == 200


def test_a_success_before_the_limit_resets_the_failure_count(world):
    client = Client()
    for _attempt in range(settings.AXES_FAILURE_LIMIT - 1):
        post_token(client, "worker_a1", "wrong-password")
    assert post_token(client, "worker_a1", PASSWORD).status_code == 200
    for _attempt in range(settings.AXES_FAILURE_LIMIT - 1):
        assert post_token(client, "worker_a1", "wrong-password").status_code == 401


def test_malformed_token_request_is_a_structured_error(world):
    not_json = Client().post("/api/v1/auth/token", b"{username", content_type="application/json")
    assert not_json.status_code == 400
    assert not_json.json()["code"] == "malformed_request"
    missing = Client().post("/api/v1/auth/token", {"username": "worker_a1"},
                            content_type="application/json")
    assert missing.status_code == 422
    assert missing.json()["code"] == "validation_failed"
    assert missing.json()["details"]["errors"][0]["loc"] == ["body", "payload", "password"]


def test_expired_token_is_401_token_expired(world):
    token = world.token("worker_a1")
    ApiToken.objects.filter(user=world.user("worker_a1")).update(
        expires_at=timezone.now() - timedelta(seconds=1))
    response = Client(HTTP_AUTHORIZATION=f"Bearer {token}").get("/api/v1/auth/me")
    assert response.status_code == 401
    assert response.json()["code"] == "token_expired"
    assert response.json()["message"] == "访问令牌已过期,请重新获取。"


def test_unknown_token_is_401_token_invalid(world):
    response = Client(HTTP_AUTHORIZATION="Bearer gz_not-a-token").get("/api/v1/auth/me")
    assert response.status_code == 401
    assert response.json()["code"] == "token_invalid"


def test_token_of_a_deactivated_user_is_401_token_invalid(world):
    client = world.api("worker_a1")
    user = world.user("worker_a1")
    user.is_active = False
    user.save()
    assert client.get("/api/v1/auth/me").json()["code"] == "token_invalid"


def test_no_credentials_is_401_not_authenticated(world):
    response = Client().get("/api/v1/auth/me")
    assert response.status_code == 401
    assert response.json() == {"code": "not_authenticated",
                               "message": "请先登录或提供有效的访问令牌。", "details": {}}


def test_delete_token_revokes_it(world):
    client = world.api("worker_a1")
    assert client.get("/api/v1/auth/me").status_code == 200
    assert client.delete("/api/v1/auth/token").status_code == 204
    response = client.get("/api/v1/auth/me")
    assert response.status_code == 401
    assert response.json()["code"] == "token_invalid"
    assert ApiToken.objects.get(user=world.user("worker_a1")).revoked_at is not None


def test_delete_token_without_a_token_says_so(world):
    response = world.client("worker_a1").delete("/api/v1/auth/token")
    assert response.status_code == 400
    assert response.json()["code"] == "no_token"
    assert Client().delete("/api/v1/auth/token").status_code == 401


def test_me_shows_roles_and_scope(world):
    me = world.api("dispatcher_a").get("/api/v1/auth/me").json()
    assert me["roles"] == ["dispatcher"]
    assert me["scope_paths"] == [world.sub_a.path]
    admin = world.api("admin").get("/api/v1/auth/me").json()
    assert admin["everything"] is True
    resident = world.api("resident").get("/api/v1/auth/me").json()
    assert resident["roles"] == ["resident"] and resident["scope_paths"] == []


# --- Session auth and CSRF -----------------------------------------------------------------


def logged_in_csrf_client(world, name: str) -> Client:
    client = Client(enforce_csrf_checks=True)
    client.force_login(world.user(name))
    return client


def test_session_reads_work_without_csrf_token(world):
    client = logged_in_csrf_client(world, "worker_a1")
    response = client.get("/api/v1/auth/me")
    assert response.status_code == 200
    assert response.json()["username"] == "worker_a1"


def test_session_post_without_csrf_token_is_refused(world):
    client = logged_in_csrf_client(world, "worker_a1")
    response = client.post("/api/v1/grids/lookup", A1_POINT, content_type="application/json")
    assert response.status_code == 403
    assert response.json()["code"] == "csrf_failed"
    assert "CSRF" in response.json()["message"]


def test_session_post_with_csrf_token_works(world):
    client = logged_in_csrf_client(world, "worker_a1")
    page = client.get("/api/v1/docs")  # any page that sets the CSRF cookie
    csrf = page.cookies[settings.CSRF_COOKIE_NAME].value
    response = client.post("/api/v1/grids/lookup", A1_POINT, content_type="application/json",
                           HTTP_X_CSRFTOKEN=csrf)
    assert response.status_code == 200
    assert response.json()["results"] == [{"code": world.grid_a1.code, "name": world.grid_a1.name}]


def test_bearer_token_post_needs_no_csrf_token(world):
    token = world.token("worker_a1")
    client = Client(enforce_csrf_checks=True, HTTP_AUTHORIZATION=f"Bearer {token}")
    response = client.post("/api/v1/grids/lookup", A1_POINT, content_type="application/json")
    assert response.status_code == 200
    assert response.json()["results"][0]["code"] == world.grid_a1.code


def test_anonymous_post_is_not_authenticated_rather_than_csrf(world):
    response = Client(enforce_csrf_checks=True).post("/api/v1/grids/lookup", A1_POINT,
                                                     content_type="application/json")
    assert response.status_code == 401
    assert response.json()["code"] == "not_authenticated"
