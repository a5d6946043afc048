"""Organisations in the API: scope, rights, credit code validation and the masked contact phone.

The world (conftest.py): the shop 善国便利店 in grid A-1 (contact phone 13806324444); this
module adds a company in grid B-1. Responses go through `call`, which checks that no
plaintext phone or ID number is in any body except a reveal's answer.
"""

import pytest
from django.test import Client

from conftest import valid_credit_code
from gezhi.accounts.models import AccessAction, AccessLog
from gezhi.orgs.models import Organisation, OrgKind
from gezhi.orgs.services import organisation_create
from gezhi.people.tests.test_api import Request, call

SHOP_PHONE = "13806324444"
IN_A1 = {"lat": 35.085, "lon": 117.115}
IN_B1 = {"lat": 35.085, "lon": 117.225}


@pytest.fixture
def company_b1(base):
    return organisation_create(actor=None, name="荆河机械厂", kind=OrgKind.ENTERPRISE,
                               credit_code=valid_credit_code("91370481MA3D5E6F7"),
                               lat=35.083, lon=117.223, contact_phone="15806325555")


def requests_on(base, company_b1, side: str) -> dict[str, Request]:
    org = base.shop_a1 if side == "a1" else company_b1
    point = IN_A1 if side == "a1" else IN_B1
    version = Organisation.objects.get(pk=org.pk).version
    o = f"/api/v1/organisations/{org.pk}"
    return {
        "detail": Request("get", o),
        "create": Request("post", "/api/v1/organisations",
                          {"name": "新店", "kind": "shop", **point}, True),
        "patch": Request("patch", o, {"version": version, "employees": 12}, True),
        "reveal": Request("post", f"{o}/reveal", {"reason": "联系负责人"}, True),
    }


ENDPOINTS = ["detail", "create", "patch", "reveal"]


def send(client, request: Request):
    return call(client, request.method, request.url, request.body)


@pytest.mark.parametrize("endpoint", ENDPOINTS)
def test_grid_worker_uses_every_endpoint_in_their_grid(base, company_b1, world, endpoint):
    request = requests_on(base, company_b1, "a1")[endpoint]
    response = send(world.api("worker_a1"), request)
    assert response.status_code == (201 if endpoint == "create" else 200), response.content


@pytest.mark.parametrize(("persona", "side"), [("worker_a1", "b1"), ("worker_b1", "a1"),
                                               ("resident", "a1"), ("dispatcher_a", "b1")])
@pytest.mark.parametrize("endpoint", ENDPOINTS)
def test_outside_the_scope_every_endpoint_is_404(base, company_b1, world, persona, side,
                                                 endpoint):
    response = send(world.api(persona), requests_on(base, company_b1, side)[endpoint])
    assert response.status_code == 404, response.content
    assert response.json()["code"] == "not_found"
    assert Organisation.objects.count() == 2
    assert not AccessLog.objects.exists()


@pytest.mark.parametrize("endpoint", ENDPOINTS)
def test_dispatcher_may_look_but_not_change_or_reveal(base, company_b1, world, endpoint):
    request = requests_on(base, company_b1, "a1")[endpoint]
    response = send(world.api("dispatcher_a"), request)
    if request.write:
        assert response.status_code == 403, response.content
        assert response.json()["code"] == "permission_denied"
        assert Organisation.objects.count() == 2
        assert Organisation.objects.get(pk=base.shop_a1.pk).employees is None
        assert not AccessLog.objects.exists()
    else:
        assert response.status_code == 200


@pytest.mark.parametrize("endpoint", [*ENDPOINTS, "list"])
def test_anonymous_gets_401_everywhere(base, company_b1, endpoint):
    request = {**requests_on(base, company_b1, "a1"),
               "list": Request("get", "/api/v1/organisations")}[endpoint]
    response = send(Client(), request)
    assert response.status_code == 401
    assert response.json()["code"] == "not_authenticated"


@pytest.mark.parametrize(("persona", "expected"), [
    ("worker_a1", ["善国便利店"]), ("worker_b1", ["荆河机械厂"]), ("dispatcher_a", ["善国便利店"]),
    ("resident", []), ("admin", ["善国便利店", "荆河机械厂"]),
])
def test_list_is_the_viewers_scope_with_masked_phones(base, company_b1, world, persona,
                                                      expected):
    body = call(world.api(persona), "get", "/api/v1/organisations").json()
    assert [o["name"] for o in body["items"]] == expected
    assert all("****" in o["contact_phone_mask"] for o in body["items"])
    assert all("contact_phone" not in o for o in body["items"])


def test_list_filters(base, company_b1, world):
    admin = world.api("admin")

    def names(query):
        return [o["name"] for o in call(admin, "get",
                                        f"/api/v1/organisations?{query}").json()["items"]]

    assert names("kind=enterprise") == ["荆河机械厂"]
    assert names(f"q={base.shop_a1.credit_code.lower()}") == ["善国便利店"]
    assert names(f"grid={world.comm_b1.code}") == ["荆河机械厂"]


def test_list_query_count_is_pinned(base, world, django_assert_max_num_queries):
    for i in range(8):
        organisation_create(actor=None, name=f"加测商户{i}", kind=OrgKind.SHOP, lat=35.07,
                            lon=117.105, estate=base.estate_a1, contact_phone="13800000000")
    client = world.api("worker_a1")
    call(client, "get", "/api/v1/auth/me")
    # token, role assignments, count, page (grid and estate are joins)
    with django_assert_max_num_queries(4):
        body = call(client, "get", "/api/v1/organisations").json()
    assert body["count"] == 9
    assert {o["estate"]["name"] for o in body["items"] if o["estate"]} == {"善国盛景小区"}


def test_create_validates_the_credit_code(base, world):
    worker = world.api("worker_a1")
    code = valid_credit_code("91370481MA3AAAAA1")
    created = call(worker, "post", "/api/v1/organisations", {
        "name": "文化书店", "kind": "shop", "credit_code": code.lower(), **IN_A1,
        "contact_phone": "13912340000", "estate_id": base.estate_a1.pk})
    assert created.status_code == 201, created.content
    body = created.json()
    assert (body["credit_code"], body["contact_phone_mask"], body["estate"]["name"]) == (
        code, "139****0000", "善国盛景小区")
    assert "13912340000" not in created.content.decode()
    for payload, field, code_ in [
        ({"credit_code": code[:-1] + ("0" if code[-1] != "0" else "1")}, "credit_code",
         "bad_credit_code"),
        ({"credit_code": code}, "credit_code", "duplicate_org"),
        ({"kind": "club"}, "kind", "validation_failed"),
        ({"contact_phone": "555"}, "contact_phone", "bad_phone"),
        ({"name": " "}, "name", "validation_failed"),
    ]:
        response = call(worker, "post", "/api/v1/organisations",
                        {"name": "另一家", "kind": "shop", **IN_A1, **payload})
        assert response.status_code == 422, payload
        assert (response.json()["code"], response.json()["details"]["field"]) == (code_, field)
    assert Organisation.objects.count() == 2


def test_patch_changes_only_what_is_sent_and_refuses_a_stale_version(base, world):
    worker, chief = world.api("worker_a1"), world.api("chief_a1")
    url = f"/api/v1/organisations/{base.shop_a1.pk}"
    started = call(worker, "get", url).json()
    first = call(worker, "patch", url, {"version": started["version"], "contact_name": "孙店长",
                                        "contact_phone": "13700007777"})
    assert first.status_code == 200, first.content
    assert (first.json()["contact_name"], first.json()["contact_phone_mask"],
            first.json()["credit_code"]) == ("孙店长", "137****7777", started["credit_code"])
    stale = call(chief, "patch", url, {"version": started["version"], "employees": 3})
    assert (stale.status_code, stale.json()["code"]) == (409, "conflict")
    assert Organisation.objects.get(pk=base.shop_a1.pk).employees is None
    bad = call(worker, "patch", url, {"version": started["version"] + 1, "credit_code": "123"})
    assert (bad.status_code, bad.json()["details"]["field"]) == (422, "credit_code")


def test_reveal_gives_the_phone_and_is_logged(base, world):
    worker = world.api("worker_a1")
    url = f"/api/v1/organisations/{base.shop_a1.pk}/reveal"
    response = call(worker, "post", url, {"field": "contact_phone", "reason": "联系负责人"})
    assert response.json() == {"field": "contact_phone", "value": SHOP_PHONE}
    log = AccessLog.objects.get()
    assert (log.user.username, log.action, log.target_type, log.target_id, log.field,
            log.reason) == ("worker_a1", AccessAction.REVEAL, "organisation", base.shop_a1.pk,
                            "contact_phone", "联系负责人")
    no_reason = call(worker, "post", url, {"reason": ""})
    assert (no_reason.status_code, no_reason.json()["details"]["field"]) == (422, "reason")
    assert AccessLog.objects.count() == 1
