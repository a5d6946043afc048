"""What a report through the API costs, and the shortcuts that keep it cheap: categories and
grid rows kept in the process, the client_id looked up only when a send repeats one.

The world (conftest.py): worker_a1 works in grid A-1, worker_b1 in grid B-1. Category 0102
暴露垃圾 is seeded by the migrations.
"""

import json

import pytest
from django.db import DatabaseError, connection, transaction
from django.test import Client
from django.utils import timezone

from conftest import square
from gezhi.accounts import auth
from gezhi.accounts.models import ApiToken, User
from gezhi.accounts.roles import Role
from gezhi.accounts.services import role_assign
from gezhi.events import services as s
from gezhi.events import stats
from gezhi.events.models import Category, Event, TimelineEntry
from gezhi.events.tests.conftest import IN_A1, IN_B1, OUTSIDE
from gezhi.indicators.models import NodeLevel, Rollup, Span
from gezhi.regions.models import Region
from gezhi.regions.services import region_set_boundary

API = "/api/v1"


def post(client, body: dict):
    return client.post(f"{API}/events", json.dumps(body), content_type="application/json")


def body(point=IN_A1, **fields) -> dict:
    return {"category": "0102", "description": "楼下垃圾堆积三天无人清理", "lat": point[0],
            "lon": point[1], **fields}


def test_a_report_through_the_api_is_a_few_statements(world, django_assert_max_num_queries):
    worker = world.api("worker_a1")
    assert post(worker, body()).status_code == 201  # the token's first use is written down
    # Token with its user; the user's role assignments, the category and the grid row (kept in
    # the process outside tests' transactions); serial number, savepoint, event, timeline
    # entry, indicator counts, release. No reads back for the answer.
    with django_assert_max_num_queries(10):
        response = post(worker, body())
    assert response.status_code == 201
    answer = response.json()
    assert answer["grid"]["code"] == world.grid_a1.code
    assert [o["op"] for o in answer["allowed_ops"]] == ["self_resolve", "comment"]
    assert answer["duplicates"] == [] and answer["photos"] == []


def test_a_repeated_send_answers_with_the_first_event_even_if_it_would_now_be_refused(world):
    worker = world.api("worker_a1")
    sent = body(client_id="0d4c1f8e-7c52-4b8e-9c1e-2a5b3c4d5e6f")
    first = post(worker, sent)
    assert first.status_code == 201
    Category.objects.filter(code="0102").update(active=False)
    for again in (sent, {**sent, "lat": OUTSIDE[0], "lon": OUTSIDE[1]},
                  {**sent, "description": ""}):
        response = post(worker, again)
        assert response.status_code == 200, response.content
        assert response.json()["serial"] == first.json()["serial"]
    assert Event.objects.count() == 1
    # Someone else's client_id is refused however the report looks.
    taken = post(world.api("worker_b1"), {**sent, "lat": IN_B1[0], "lon": IN_B1[1]})
    assert taken.status_code == 422 and taken.json()["code"] == "client_id_taken"
    assert Event.objects.count() == 1


def test_a_repeated_send_by_the_service_returns_the_first_event(world, report):
    first = report("worker_a1", client_id="5e0b3a3c-2f6d-4f7e-8a9b-1c2d3e4f5a6b")
    again = report("worker_a1", client_id="5e0b3a3c-2f6d-4f7e-8a9b-1c2d3e4f5a6b",
                   description="又报了一次")
    assert again.pk == first.pk and again.existing
    assert again.description == first.description
    assert first.timeline.count() == 1


# --- Kept in the process: only outside transactions, dropped when they change ---------------


@pytest.fixture
def fresh_caches():
    s.clear_caches()
    auth._users_changed()
    yield
    s.clear_caches()
    auth._users_changed()


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_categories_are_kept_until_one_changes(fresh_caches, django_assert_num_queries):
    first = s.intake_category("0102")
    with django_assert_num_queries(0):
        again = s.intake_category("0102")
    assert again == first and again is not first  # a copy: nothing set on it is shared
    assert s.intake_category("9999") is None
    category = Category.objects.get(code="0102")
    category.active = False
    category.save()
    assert s.intake_category("0102").active is False
    with transaction.atomic(), django_assert_num_queries(1):
        # inside a transaction, read as the transaction sees it
        assert s.intake_category("0102").active is False


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_grid_rows_are_kept_until_a_boundary_changes(world, fresh_caches, settings,
                                                     django_assert_num_queries):
    settings.GEZHI_SPATIAL_RECHECK_SECONDS = 3600
    grid = s._grid_at(*IN_A1)
    assert grid == world.grid_a1 and grid.parent == world.comm_a1
    with django_assert_num_queries(0):
        again = s._grid_at(*IN_A1)
        assert again.parent.parent == world.sub_a  # with its community and subdistrict
    assert s._grid_at(*OUTSIDE) is None
    Region.objects.filter(pk=world.grid_a1.pk).update(name="文化路第一网格(调整后)")
    assert s._grid_at(*IN_A1).name == "文化路第一网格"  # a rename alone: up to CACHE_SECONDS
    region_set_boundary(region=world.grid_a1, boundary=square(117.10, 35.06, 117.12, 35.10))
    assert s._grid_at(*IN_A1).name == "文化路第一网格(调整后)"


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_a_report_outside_any_transaction_is_written_whole_or_not_at_all(
        world, fresh_caches, monkeypatch, settings, django_assert_max_num_queries):
    """Outside a transaction (as in production), the indicator counts go out with the COMMIT
    (on PostgreSQL without waiting for their answer first): they are there after a report,
    and a failure in that last statement leaves nothing of the report behind."""

    def reported() -> list:
        return sorted(Rollup.objects.filter(span=Span.DAY, department=0)
                      .values_list("node_level", "reported"))

    settings.GEZHI_SPATIAL_RECHECK_SECONDS = 3600
    worker = world.api("worker_a1")
    assert post(worker, body()).status_code == 201
    assert reported() == [(NodeLevel.GRID, 1), (NodeLevel.PARENT, 1)]
    assert post(worker, body()).status_code == 201  # (the user's roles now kept too)
    # The token, the serial number, then one transaction: event, timeline, counts.
    with django_assert_max_num_queries(7):
        assert post(worker, body()).status_code == 201

    def failing(before, event):
        with connection.cursor() as cursor:
            cursor.execute("SELECT * FROM no_such_table")

    monkeypatch.setattr(stats, "record", failing)
    with pytest.raises(DatabaseError):
        s.event_report(actor=world.user("worker_a1"), intake=s.Intake(
            category=s.intake_category("0102"), description="又一处垃圾", lat=IN_A1[0],
            lon=IN_A1[1]))
    monkeypatch.undo()
    assert not connection.in_atomic_block
    assert (Event.objects.count(), TimelineEntry.objects.count()) == (3, 3)
    assert post(worker, body()).status_code == 201  # the connection is fine afterwards
    assert reported() == [(NodeLevel.GRID, 4), (NodeLevel.PARENT, 4)]


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_a_tokens_user_is_kept_but_a_revoked_token_or_a_change_counts_at_once(
        world, fresh_caches, django_assert_num_queries):
    raw = world.token("worker_a1")
    worker = Client(HTTP_AUTHORIZATION=f"Bearer {raw}")
    for _ in range(2):  # the token with its user; then the user's roles, kept with it
        assert worker.get(f"{API}/auth/me").status_code == 200
    with django_assert_num_queries(1):  # the token row only
        me = worker.get(f"{API}/auth/me").json()
    assert me["roles"] == [Role.GRID_WORKER]
    # Each request has its own copy of the user.
    first = auth._kept_user(ApiToken.hash(raw))
    first.display_name = "改过的名字"
    assert auth._kept_user(ApiToken.hash(raw)).display_name == "樊荣"
    # A new role (in this process: at once; elsewhere within auth.USER_SECONDS).
    role_assign(user=world.user("worker_a1"), role=Role.GRID_CHIEF, region=world.comm_a1)
    assert worker.get(f"{API}/auth/me").json()["roles"] == [Role.GRID_CHIEF, Role.GRID_WORKER]
    # Deactivated: refused.
    user = User.objects.get(username="worker_a1")
    user.is_active = False
    user.save()
    assert worker.get(f"{API}/auth/me").status_code == 401
    # Revoked (an UPDATE, no signal): refused on the next request all the same.
    other = world.api("worker_b1")
    for _ in range(3):
        assert other.get(f"{API}/auth/me").status_code == 200
    ApiToken.objects.filter(user__username="worker_b1").update(revoked_at=timezone.now())
    assert other.get(f"{API}/auth/me").status_code == 401
