"""People, residence links, tags and households in the API: scope, rights and personal data.

The world (conftest.py): zhang_a1 (care tag 独居老人) and zhao_a1 (restricted tag 社区矫正对象)
live in grid A-1, wang_b1 in grid B-1. worker_a1 works in A-1, worker_b1 in B-1; dispatcher_a
sees subdistrict A but may not edit or reveal; chief_a1 (community A1) sees special groups;
the resident has no access. Every response goes through `call`, which checks that no
plaintext ID or phone number is in the body unless it is the answer of a reveal.
"""

import json
from dataclasses import dataclass

import pytest
from django.test import Client

from conftest import Base, valid_id
from gezhi.accounts.models import AccessAction, AccessLog
from gezhi.people.models import Person, PersonTag, Residence, Tag
from gezhi.people.services import household_create, person_create, person_tag_add

PLAINTEXT = [Base.ZHANG_ID, Base.ZHAO_ID, Base.WANG_ID, Base.ZHANG_PHONE, "13906322222",
             "15806323333", "13806324444"]


def call(client: Client, method: str, url: str, body: dict | None = None):
    """One request; a body that is not a reveal's answer never holds a plaintext number."""
    kwargs = {"content_type": "application/json"} if body is not None else {}
    payload = json.dumps(body) if body is not None else None
    response = getattr(client, method)(url, payload, **kwargs) if payload else getattr(
        client, method)(url)
    if not url.endswith("/reveal"):
        text = response.content.decode()
        for secret in PLAINTEXT:
            assert secret not in text, f"plaintext {secret} in {method.upper()} {url}"
    return response


@dataclass
class Request:
    method: str
    url: str
    body: dict | None = None
    write: bool = False


@pytest.fixture
def households(base, world):
    a1 = household_create(actor=None, house=base.house_a1, head=base.zhang_a1, number="A1-0001")
    b1 = household_create(actor=None, house=base.house_b1, head=base.wang_b1, number="B1-0001")
    return a1, b1


def requests_on(base, world, side: str) -> dict[str, Request]:
    """Every endpoint on a person of one grid: 'a1' (zhang_a1) or 'b1' (wang_b1)."""
    person = base.zhang_a1 if side == "a1" else base.wang_b1
    house = base.house_a1_2 if side == "a1" else base.house_b1
    grid = world.grid_a1 if side == "a1" else world.grid_b1
    residence = Residence.objects.get(person=person, moved_out__isnull=True)
    version = Person.objects.get(pk=person.pk).version
    tag = "lone_elderly"
    if side == "b1":
        person_tag_add(actor=None, person=person, tag=Tag.objects.get(code=tag))
    p = f"/api/v1/people/{person.pk}"
    return {
        "detail": Request("get", p),
        "residences": Request("get", f"{p}/residences"),
        "patch": Request("patch", p, {"version": version, "employer": "滕州市第一中学"}, True),
        "reveal": Request("post", f"{p}/reveal", {"field": "phone", "reason": "电话回访"}, True),
        "move_in": Request("post", f"{p}/residences", {"house_id": house.pk,
                                                       "relation": "family"}, True),
        "move_out": Request("post", f"/api/v1/residences/{residence.pk}/move-out", {}, True),
        "tag_add": Request("post", f"{p}/tags", {"tag": "disabled"}, True),
        "tag_remove": Request("delete", f"{p}/tags/{tag}", None, True),
        "create": Request("post", "/api/v1/people", {
            "grid": grid.code, "name": "新登记", "id_type": "resident_id",
            "id_number": valid_id("37048120000101123")}, True),
        "household": Request("post", "/api/v1/households", {
            "house_id": house.pk, "head_id": person.pk, "number": "新户"}, True),
    }


ENDPOINTS = ["detail", "residences", "patch", "reveal", "move_in", "move_out", "tag_add",
             "tag_remove", "create", "household"]
SUCCESS = {"detail": 200, "residences": 200, "patch": 200, "reveal": 200, "move_in": 201,
           "move_out": 200, "tag_add": 201, "tag_remove": 200, "create": 201, "household": 201}


def send(client, request: Request):
    return call(client, request.method, request.url, request.body)


# --- The permission matrix -------------------------------------------------------------------


@pytest.mark.parametrize("endpoint", ENDPOINTS)
def test_grid_worker_uses_every_endpoint_in_their_grid(base, world, endpoint):
    request = requests_on(base, world, "a1")[endpoint]
    response = send(world.api("worker_a1"), request)
    assert response.status_code == SUCCESS[endpoint], response.content


@pytest.mark.parametrize(("persona", "side"), [("worker_a1", "b1"), ("worker_b1", "a1"),
                                               ("resident", "a1"), ("resident", "b1"),
                                               ("dispatcher_a", "b1")])
@pytest.mark.parametrize("endpoint", ENDPOINTS)
def test_outside_the_scope_every_endpoint_is_404(base, world, persona, side, endpoint):
    request = requests_on(base, world, side)[endpoint]
    response = send(world.api(persona), request)
    assert response.status_code == 404, response.content
    assert response.json()["code"] == "not_found"
    assert AccessLog.objects.filter(action=AccessAction.REVEAL).count() == 0


@pytest.mark.parametrize("endpoint", ENDPOINTS)
def test_dispatcher_may_look_but_not_change_or_reveal(base, world, endpoint):
    request = requests_on(base, world, "a1")[endpoint]
    before = Person.objects.get(pk=base.zhang_a1.pk).version
    response = send(world.api("dispatcher_a"), request)
    if request.write:
        assert response.status_code == 403, response.content
        assert response.json()["code"] == "permission_denied"
        assert Person.objects.get(pk=base.zhang_a1.pk).version == before
        assert not Person.objects.filter(name="新登记").exists()
    else:
        assert response.status_code == 200, response.content


@pytest.mark.parametrize("endpoint", ENDPOINTS + ["list", "tags", "households"])
def test_anonymous_gets_401_everywhere(base, world, endpoint):
    request = {**requests_on(base, world, "a1"), "list": Request("get", "/api/v1/people"),
               "tags": Request("get", "/api/v1/tags"),
               "households": Request("get", "/api/v1/households")}[endpoint]
    response = send(Client(), request)
    assert response.status_code == 401
    assert response.json()["code"] == "not_authenticated"


# --- Lists -----------------------------------------------------------------------------------


def names(response) -> list[str]:
    assert response.status_code == 200, response.content
    return [item["name"] for item in response.json()["items"]]


@pytest.mark.parametrize(("persona", "expected"), [
    ("worker_a1", ["张桂兰", "赵强"]), ("worker_b1", ["王芳"]), ("dispatcher_a", ["张桂兰", "赵强"]),
    ("chief_a1", ["张桂兰", "赵强"]), ("resident", []), ("admin", ["张桂兰", "赵强", "王芳"]),
])
def test_person_list_is_the_viewers_scope(base, world, persona, expected):
    assert names(call(world.api(persona), "get", "/api/v1/people")) == expected


def test_person_list_shows_masks_only(base, world):
    item = call(world.api("worker_a1"), "get", "/api/v1/people?q=张桂兰").json()["items"][0]
    assert item["id_number_mask"] == Base.ZHANG_ID[:4] + "*" * 10 + Base.ZHANG_ID[-4:]
    assert item["phone_mask"] == "138****1111"
    assert not {"id_number", "phone", "id_number_ct", "phone_ct"} & set(item)


def test_person_list_filters(base, world):
    worker = world.api("worker_a1")
    assert names(call(worker, "get", f"/api/v1/people?q={Base.ZHANG_ID}")) == ["张桂兰"]
    assert names(call(worker, "get", f"/api/v1/people?q={Base.WANG_ID}")) == []
    assert names(call(worker, "get", "/api/v1/people?q=1111")) == ["张桂兰"]
    assert names(call(worker, "get", "/api/v1/people?q=1号楼1单元201")) == ["赵强"]
    assert names(call(worker, "get", "/api/v1/people?tag=lone_elderly")) == ["张桂兰"]
    assert names(call(worker, "get", f"/api/v1/people?grid={world.grid_a2.code}")) == []
    assert names(call(worker, "get", f"/api/v1/people?grid={world.comm_a1.code}")) == [
        "张桂兰", "赵强"]
    assert names(call(worker, "get", "/api/v1/people?residence_type=floating")) == []
    # A grid outside the scope narrows nothing into view.
    assert names(call(worker, "get", f"/api/v1/people?grid={world.grid_b1.code}")) == []


def test_person_list_is_paginated(base, world):
    body = call(world.api("admin"), "get", "/api/v1/people?page_size=2").json()
    assert (body["count"], len(body["items"])) == (3, 2)
    assert body["next"].endswith("page_size=2&page=2")
    assert names(call(world.api("admin"), "get", "/api/v1/people?page_size=2&page=2")) == ["王芳"]


def test_person_list_query_count_is_pinned(base, world, django_assert_max_num_queries):
    care = Tag.objects.get(code="disabled")
    for i in range(12):
        person = person_create(actor=None, grid=world.grid_a1, name=f"居民{i:02d}",
                               id_type="passport", id_number=f"E{i:08d}")
        person_tag_add(actor=None, person=person, tag=care)
    client = world.api("worker_a1")
    call(client, "get", "/api/v1/auth/me")  # the token's first use is recorded once
    # token, role assignments, count, page, the page's tags
    with django_assert_max_num_queries(5):
        body = call(client, "get", "/api/v1/people").json()
    assert body["count"] == 14
    assert all(item["tags"][0]["code"] == "disabled" for item in body["items"]
               if item["name"].startswith("居民"))


# --- Restricted (special-group) tags ---------------------------------------------------------


def tag_codes(response) -> list[str]:
    assert response.status_code in (200, 201), response.content
    return [t["code"] for t in response.json()["tags"]]


def test_restricted_tag_is_hidden_from_the_grid_worker_and_shown_to_the_chief(base, world):
    url = f"/api/v1/people/{base.zhao_a1.pk}"
    assert tag_codes(call(world.api("worker_a1"), "get", url)) == []
    assert tag_codes(call(world.api("dispatcher_a"), "get", url)) == []
    assert tag_codes(call(world.api("chief_a1"), "get", url)) == ["community_correction"]
    listed = {i["name"]: [t["code"] for t in i["tags"]]
              for i in call(world.api("worker_a1"), "get", "/api/v1/people").json()["items"]}
    assert listed == {"张桂兰": ["lone_elderly"], "赵强": []}
    listed = {i["name"]: [t["code"] for t in i["tags"]]
              for i in call(world.api("chief_a1"), "get", "/api/v1/people").json()["items"]}
    assert listed == {"张桂兰": ["lone_elderly"], "赵强": ["community_correction"]}


def test_filtering_by_a_restricted_tag_finds_nothing_without_the_right(base, world):
    url = "/api/v1/people?tag=community_correction"
    assert names(call(world.api("worker_a1"), "get", url)) == []
    assert names(call(world.api("chief_a1"), "get", url)) == ["赵强"]


def test_seeing_special_groups_is_logged(base, world):
    call(world.api("worker_a1"), "get", f"/api/v1/people/{base.zhao_a1.pk}")
    assert not AccessLog.objects.exists()
    call(world.api("chief_a1"), "get", f"/api/v1/people/{base.zhao_a1.pk}")
    call(world.api("chief_a1"), "get", "/api/v1/people?tag=community_correction")
    logs = list(AccessLog.objects.order_by("id"))
    assert [(log.user.username, log.action) for log in logs] == [
        ("chief_a1", AccessAction.VIEW_SPECIAL), ("chief_a1", AccessAction.VIEW_SPECIAL)]
    assert logs[0].target_id == base.zhao_a1.pk
    assert logs[1].row_count == 1 and logs[1].details["tag"] == "community_correction"


def test_tag_kinds_are_the_ones_the_viewer_may_see(base, world):
    def kinds(persona):
        return [t["code"] for t in call(world.api(persona), "get", "/api/v1/tags").json()["items"]]

    assert "community_correction" not in kinds("worker_a1")
    assert "lone_elderly" in kinds("worker_a1")
    assert "community_correction" in kinds("chief_a1")
    assert kinds("resident") == []


def test_restricted_tags_need_the_special_right_to_add_or_remove(base, world):
    worker, chief = world.api("worker_a1"), world.api("chief_a1")
    add = {"tag": "released_prisoner", "note": "2025 年刑满"}
    refused = call(worker, "post", f"/api/v1/people/{base.zhang_a1.pk}/tags", add)
    assert refused.status_code == 403
    assert refused.json()["code"] == "permission_denied"
    # Whether zhao has the tag or not, the worker gets the same answer.
    for person in (base.zhao_a1, base.zhang_a1):
        response = call(worker, "delete", f"/api/v1/people/{person.pk}/tags/community_correction")
        assert response.status_code == 403
    assert tag_codes(call(chief, "post", f"/api/v1/people/{base.zhang_a1.pk}/tags", add)) == [
        "lone_elderly", "released_prisoner"]
    assert tag_codes(call(chief, "delete",
                          f"/api/v1/people/{base.zhao_a1.pk}/tags/community_correction")) == []
    removed = PersonTag.objects.get(person=base.zhao_a1, tag__code="community_correction")
    assert removed.removed_at is not None and removed.removed_by == world.user("chief_a1")


def test_tag_errors_name_the_problem(base, world):
    worker = world.api("worker_a1")
    url = f"/api/v1/people/{base.zhang_a1.pk}/tags"
    unknown = call(worker, "post", url, {"tag": "no_such_tag"})
    assert (unknown.status_code, unknown.json()["details"]["field"]) == (422, "tag")
    twice = call(worker, "post", url, {"tag": "lone_elderly"})
    assert twice.status_code == 422 and "已有此标签" in twice.json()["message"]
    missing = call(worker, "delete", f"{url}/disabled")
    assert missing.status_code == 404


# --- Detail, create, edit --------------------------------------------------------------------


def test_create_person_returns_masks_and_validates(world):
    worker = world.api("worker_a1")
    new_id = valid_id("37048120000101123")
    created = call(worker, "post", "/api/v1/people", {
        "grid": world.grid_a1.code, "name": "李明", "id_type": "resident_id",
        "id_number": new_id, "phone": "13912345678", "ethnicity": "03"})
    assert created.status_code == 201, created.content
    body = created.json()
    assert new_id not in created.content.decode() and "13912345678" not in created.content.decode()
    assert (body["id_number_mask"], body["phone_mask"]) == (new_id[:4] + "*" * 10 + new_id[-4:],
                                                            "139****5678")
    assert (body["birth_date"], body["sex"], body["ethnicity_label"]) == ("2000-01-01", "male",
                                                                         "回族")
    bad = call(worker, "post", "/api/v1/people", {
        "grid": world.grid_a1.code, "name": "李明", "id_number": new_id[:-1] + "0"})
    assert bad.status_code == 422
    assert bad.json()["details"]["field"] == "id_number"
    assert "校验位" in bad.json()["message"]
    duplicate = call(worker, "post", "/api/v1/people", {
        "grid": world.grid_a1.code, "name": "李明", "id_number": new_id})
    assert (duplicate.json()["code"], duplicate.json()["details"]["field"]) == (
        "duplicate_person", "id_number")
    missing = call(worker, "post", "/api/v1/people", {"grid": world.grid_a1.code})
    assert (missing.status_code, missing.json()["details"]["field"]) == (422, "name")
    phone = call(worker, "post", "/api/v1/people", {
        "grid": world.grid_a1.code, "name": "王五", "id_type": "passport",
        "id_number": "E99999999", "phone": "12345"})
    assert (phone.status_code, phone.json()["details"]["field"]) == (422, "phone")
    community = call(worker, "post", "/api/v1/people", {
        "grid": world.comm_a1.code, "name": "王五", "id_type": "passport",
        "id_number": "E99999999"})
    assert (community.status_code, community.json()["details"]["field"]) == (422, "grid")
    assert Person.objects.filter(name="王五").count() == 0


def test_patch_changes_only_what_is_sent_and_refuses_a_stale_version(base, world):
    worker, chief = world.api("worker_a1"), world.api("chief_a1")
    url = f"/api/v1/people/{base.zhang_a1.pk}"
    started = call(worker, "get", url).json()
    first = call(worker, "patch", url, {"version": started["version"], "employer": "滕州一中"})
    assert first.status_code == 200, first.content
    assert (first.json()["employer"], first.json()["version"]) == ("滕州一中",
                                                                    started["version"] + 1)
    assert first.json()["phone_mask"] == started["phone_mask"]
    stale = call(chief, "patch", url, {"version": started["version"], "employer": "别的单位"})
    assert stale.status_code == 409
    assert stale.json()["code"] == "conflict"
    assert stale.json()["details"]["current_version"] == started["version"] + 1
    assert Person.objects.get(pk=base.zhang_a1.pk).employer == "滕州一中"
    no_version = call(worker, "patch", url, {"employer": "x"})
    assert (no_version.status_code, no_version.json()["details"]["field"]) == (422, "version")


def test_patch_of_the_phone_changes_the_mask_not_the_plaintext_in_the_answer(base, world):
    worker = world.api("worker_a1")
    url = f"/api/v1/people/{base.zhang_a1.pk}"
    version = call(worker, "get", url).json()["version"]
    response = call(worker, "patch", url, {"version": version, "phone": "13700001234"})
    assert response.json()["phone_mask"] == "137****1234"
    assert "13700001234" not in response.content.decode()


def test_reveal_gives_the_plaintext_and_is_logged(base, world):
    worker = world.api("worker_a1")
    url = f"/api/v1/people/{base.zhang_a1.pk}/reveal"
    revealed = call(worker, "post", url, {"field": "id_number", "reason": "核实身份"})
    assert revealed.status_code == 200
    assert revealed.json() == {"field": "id_number", "value": Base.ZHANG_ID}
    assert call(worker, "post", url, {"field": "phone", "reason": "电话回访"}).json()["value"] == (
        Base.ZHANG_PHONE)
    logs = list(AccessLog.objects.order_by("id"))
    assert [(log.user.username, log.action, log.target_id, log.field, log.reason)
            for log in logs] == [
        ("worker_a1", AccessAction.REVEAL, base.zhang_a1.pk, "id_number", "核实身份"),
        ("worker_a1", AccessAction.REVEAL, base.zhang_a1.pk, "phone", "电话回访")]
    assert logs[0].ip_address == "127.0.0.1"


def test_reveal_needs_a_reason_and_a_known_field(base, world):
    worker = world.api("worker_a1")
    url = f"/api/v1/people/{base.zhang_a1.pk}/reveal"
    no_reason = call(worker, "post", url, {"field": "phone", "reason": "  "})
    assert (no_reason.status_code, no_reason.json()["details"]["field"]) == (422, "reason")
    other = call(worker, "post", url, {"field": "name", "reason": "核实"})
    assert (other.status_code, other.json()["details"]["field"]) == (422, "field")
    assert not AccessLog.objects.exists()


# --- Residence links -------------------------------------------------------------------------


def test_moving_in_and_out_keeps_the_history(base, world):
    worker = world.api("worker_a1")
    p = f"/api/v1/people/{base.zhang_a1.pk}"
    moved = call(worker, "post", f"{p}/residences", {"house_id": base.house_a1_2.pk,
                                                     "relation": "family",
                                                     "moved_in": "2025-06-01"})
    assert moved.status_code == 201, moved.content
    history = call(worker, "get", f"{p}/residences").json()["items"]
    assert [(r["address"].endswith("201"), r["current"]) for r in history] == [(True, True),
                                                                             (False, False)]
    assert history[1]["moved_out"] == "2025-06-01"
    out = call(worker, "post", f"/api/v1/residences/{moved.json()['id']}/move-out",
               {"moved_out": "2025-01-01"})
    assert (out.status_code, out.json()["details"]["field"]) == (422, "moved_out")
    # No body at all: moved out today.
    out = worker.post(f"/api/v1/residences/{moved.json()['id']}/move-out",
                      content_type="application/json")
    assert out.status_code == 200 and out.json()["current"] is False
    again = call(worker, "post", f"/api/v1/residences/{moved.json()['id']}/move-out", {})
    assert again.status_code == 422 and "已结束" in again.json()["message"]


def test_moving_into_a_house_outside_the_scope_is_404(base, world):
    response = call(world.api("worker_a1"), "post",
                    f"/api/v1/people/{base.zhang_a1.pk}/residences",
                    {"house_id": base.house_b1.pk, "relation": "family"})
    assert response.status_code == 404
    assert Residence.objects.filter(person=base.zhang_a1).count() == 1


def test_bad_relation_is_refused_with_its_field(base, world):
    response = call(world.api("worker_a1"), "post",
                    f"/api/v1/people/{base.zhang_a1.pk}/residences",
                    {"house_id": base.house_a1_2.pk, "relation": "cousin"})
    assert (response.status_code, response.json()["details"]["field"]) == (422, "relation")


# --- Households ------------------------------------------------------------------------------


@pytest.mark.parametrize(("persona", "expected"), [
    ("worker_a1", ["A1-0001"]), ("worker_b1", ["B1-0001"]), ("dispatcher_a", ["A1-0001"]),
    ("resident", []), ("admin", ["A1-0001", "B1-0001"]),
])
def test_household_list_is_the_viewers_scope(households, world, persona, expected):
    body = call(world.api(persona), "get", "/api/v1/households").json()
    assert [h["number"] for h in body["items"]] == expected


def test_household_shows_head_and_members(households, base, world):
    worker = world.api("worker_a1")
    created = call(worker, "post", "/api/v1/households", {
        "house_id": base.house_a1_2.pk, "head_id": base.zhao_a1.pk, "number": "A1-0002",
        "members": [{"person_id": base.zhang_a1.pk, "relation": "parent"}]})
    assert created.status_code == 201, created.content
    assert [(m["name"], m["relation_label"]) for m in created.json()["members"]] == [
        ("赵强", "户主"), ("张桂兰", "父母")]
    member_outside = call(worker, "post", "/api/v1/households", {
        "house_id": base.house_a1_2.pk, "head_id": base.zhao_a1.pk,
        "members": [{"person_id": base.wang_b1.pk, "relation": "spouse"}]})
    assert member_outside.status_code == 404
    listed = call(worker, "get", f"/api/v1/households?grid={world.grid_a1.code}").json()
    assert [h["head_name"] for h in listed["items"]] == ["张桂兰", "赵强"]


def test_household_list_query_count_is_pinned(households, base, world,
                                              django_assert_max_num_queries):
    for i in range(6):
        person = person_create(actor=None, grid=world.grid_a1, name=f"户主{i}",
                               id_type="passport", id_number=f"H{i:08d}")
        household_create(actor=None, house=base.house_a1_2, head=person, number=f"X{i}",
                         members=[(base.zhao_a1, "other")])
    client = world.api("worker_a1")
    call(client, "get", "/api/v1/auth/me")
    # token, role assignments, count, page, members, their persons
    with django_assert_max_num_queries(6):
        body = call(client, "get", "/api/v1/households").json()
    assert body["count"] == 7
    assert all(len(h["members"]) == 2 for h in body["items"][1:])
