"""API keys (接入密钥): created by administrators on the console or the command line, shown
once, stored as a hash, refused once revoked."""

import hashlib
import io

import pytest
from django.core.management import CommandError, call_command

from gezhi.events.models import ApiKey, Event, Source
from gezhi.open311.tests.conftest import work_order

KEYS = "/console/open311/keys/"


def test_cli_creates_lists_and_revokes(world, post):
    out, err = io.StringIO(), io.StringIO()
    call_command("apikey", "create", "--name", "12345 热线", "--source", "12345", stdout=out,
                 stderr=err)
    secret = out.getvalue().strip()
    assert len(secret) == 48 and "shown only this once" in err.getvalue()
    key = ApiKey.objects.get()
    assert key.source == Source.HOTLINE and key.prefix == secret[:8]
    assert key.key_hash == hashlib.sha256(secret.encode()).hexdigest()
    assert secret not in {key.name, key.prefix, key.key_hash}

    assert post("json", **work_order(secret)).status_code == 201
    listing = io.StringIO()
    call_command("apikey", "list", stdout=listing)
    assert key.prefix in listing.getvalue() and "active" in listing.getvalue()
    assert secret not in listing.getvalue()

    call_command("apikey", "revoke", key.prefix, stdout=io.StringIO())
    key.refresh_from_db()
    assert key.revoked_at is not None
    assert post("json", **work_order(secret, external_id="GD2")).status_code == 403
    listing = io.StringIO()
    call_command("apikey", "list", stdout=listing)
    assert "revoked" in listing.getvalue()
    with pytest.raises(CommandError):
        call_command("apikey", "revoke", "nosuchkey", stdout=io.StringIO())


def test_cli_refuses_a_bad_source_or_empty_name(world):
    with pytest.raises(CommandError):
        call_command("apikey", "create", "--name", "x", "--source", "fax")
    with pytest.raises(CommandError):
        call_command("apikey", "create", "--name", " ", stdout=io.StringIO())
    assert not ApiKey.objects.exists()


def test_console_page_is_for_administrators(world):
    assert world.client(None).get(KEYS).status_code == 302  # to the login page
    for name in ("dispatcher_a", "leader_a", "worker_a1", "handler"):
        assert world.client(name).get(KEYS).status_code == 404, name
        assert world.client(name).post(KEYS, {"name": "x", "source": "api"}).status_code == 404
    assert not ApiKey.objects.exists()
    page = world.client("admin").get(KEYS)
    assert page.status_code == 200
    assert "接入密钥" in page.content.decode() and "/open311/v2/" in page.content.decode()


def test_console_creates_a_key_shown_once_and_revokes_it(world, post):
    admin = world.client("admin")
    page = admin.post(KEYS, {"name": "12345 政务服务热线", "source": "12345"})
    assert page.status_code == 200
    key = ApiKey.objects.get()
    secret = page.context["raw_key"]
    assert secret.startswith(key.prefix) and secret in page.content.decode()
    assert key.created_by == world.user("admin") and key.source == Source.HOTLINE
    assert post("json", **work_order(secret)).status_code == 201

    again = admin.get(KEYS).content.decode()
    assert secret not in again  # shown only on the answer to its creation
    assert key.prefix in again and "12345 政务服务热线" in again

    assert world.client("dispatcher_a").post(
        f"/console/open311/keys/{key.pk}/revoke/").status_code == 404
    response = admin.post(f"/console/open311/keys/{key.pk}/revoke/", follow=True)
    assert response.status_code == 200 and "已停用" in response.content.decode()
    assert post("json", **work_order(secret, external_id="GD9")).status_code == 403
    assert Event.objects.count() == 1


def test_console_form_errors(world):
    page = world.client("admin").post(KEYS, {"name": "", "source": "fax"})
    assert page.status_code == 200 and page.context["form"].errors.keys() == {"name", "source"}
    assert not ApiKey.objects.exists()
