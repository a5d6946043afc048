"""GET /api/v1/indicators: rows and a total, rates with 4 decimals or null, scoped."""

import datetime as dt

from gezhi.events.tests.conftest import IN_B1
from gezhi.indicators.selectors import indicator_totals

PERIOD = "start=2026-03-01&end=2026-03-31"


def rows(response) -> dict:
    assert response.status_code == 200, response.content
    return {r["unit"]["code"]: r for r in response.json()["rows"]}


def test_by_grid_for_the_dispatcher_of_subdistrict_a(history, django_assert_max_num_queries):
    api = history.api("dispatcher_a")
    # The same for any number of units (PostgreSQL: 3 more, a savepoint for planner settings).
    with django_assert_max_num_queries(11):
        response = api.get(f"/api/v1/indicators?by=grid&{PERIOD}")
    body = response.json()
    by_grid = rows(response)
    assert set(by_grid) == {"370481001001001", "370481001001002"}  # not B-1
    a1, a2 = by_grid["370481001001001"], by_grid["370481001001002"]
    assert (a1["reported"], a1["closed"], a1["close_rate"]) == (3, 3, 1.0)
    assert a1["self_resolve_rate"] == 1.0 and a1["satisfaction_rate"] == 1.0
    assert a1["avg_accept_hours"] == 0.17  # 10 minutes
    assert (a2["reported"], a2["closed"], a2["close_rate"], a2["overdue"]) == (1, 0, 0.0, 1)
    assert a2["satisfaction_rate"] is None  # nothing rated: no rate, not 0
    assert body["total"]["unit"] is None and body["total"]["reported"] == 4
    assert body["total"]["close_rate"] == 0.75
    assert body["by"] == "grid" and body["start"] == "2026-03-01"


def test_rates_have_four_decimals(history, report):
    report("worker_b1", where=IN_B1, description="井盖缺失")  # still open
    body = history.api("admin").get(f"/api/v1/indicators?by=district&{PERIOD}").json()
    total = body["total"]
    # 7 reported, 1 rejected: 6 due, 4 closed; grid workers' due reports 4, 3 self-resolved
    assert (total["reported"], total["rejected"], total["due"], total["closed"]) == (7, 1, 6, 4)
    assert total["close_rate"] == 0.6667 and total["self_resolve_rate"] == 0.75
    assert [r["unit"]["code"] for r in body["rows"]] == ["370481"]
    assert body["rows"][0]["close_rate"] == 0.6667
    assert total == {**indicator_totals(start=dt.date(2026, 3, 1), end=dt.date(2026, 3, 31)),
                     "unit": None}


def test_subdistrict_and_community_levels(history):
    by_sub = rows(history.api("admin").get(f"/api/v1/indicators?by=subdistrict&{PERIOD}"))
    assert by_sub["370481001"]["reported"] == 4 and by_sub["370481002"]["reported"] == 2
    by_comm = rows(history.api("leader_a").get(f"/api/v1/indicators?by=community&{PERIOD}"))
    assert list(by_comm) == ["370481001001"]
    within = rows(history.api("admin").get(
        f"/api/v1/indicators?by=grid&within=370481002&{PERIOD}"))
    assert list(within) == ["370481002001001"]


def test_a_grid_worker_sees_their_grid_only(history):
    api = history.api("worker_a1")
    for by in ("grid", "community", "subdistrict", "city"):
        by_unit = rows(api.get(f"/api/v1/indicators?by={by}&{PERIOD}"))
        assert list(by_unit) == ["370481001001001"], by
    body = api.get(f"/api/v1/indicators?{PERIOD}").json()
    assert body["by"] == "grid" and body["total"]["reported"] == 3
    assert api.get(f"/api/v1/indicators?within=370481001001002&{PERIOD}").status_code == 404
    assert api.get(f"/api/v1/indicators?within=370481002&{PERIOD}").status_code == 404


def test_a_handler_sees_their_departments_row(history):
    api = history.api("handler")
    body = api.get(f"/api/v1/indicators?by=department&{PERIOD}").json()
    assert [r["unit"]["code"] for r in body["rows"]] == ["cg-370481001"]
    row = body["rows"][0]
    assert (row["reported"], row["closed"], row["satisfaction_rate"]) == (1, 1, 1.0)
    assert body["total"]["reported"] == 1  # only what was sent to 城管
    by_grid = rows(api.get(f"/api/v1/indicators?by=grid&{PERIOD}"))
    assert list(by_grid) == ["370481001001001"] and by_grid["370481001001001"]["reported"] == 1


def test_department_rows_for_a_leader_list_serving_departments(history):
    body = history.api("leader_a").get(f"/api/v1/indicators?by=department&{PERIOD}").json()
    assert [r["unit"]["name"] for r in body["rows"]] == ["北辛街道城管中队"]
    assert body["total"]["reported"] == 4  # every event of subdistrict A


def test_bad_input(history):
    api = history.api("admin")
    for query in ("start=2026-13-01", "end=yesterday", "start=2026-04-01&end=2026-03-01",
                  "by=street"):
        response = api.get(f"/api/v1/indicators?{query}")
        assert response.status_code == 422, query
        assert response.json()["code"] in ("validation_failed", "bad_period")
    assert api.get("/api/v1/indicators?within=999999").status_code == 404
    assert history.api("resident").get("/api/v1/indicators").status_code == 403
    assert history.api(None).get("/api/v1/indicators").status_code == 401


def test_trend_is_monthly(history):
    body = history.api("admin").get(
        "/api/v1/indicators?by=subdistrict&start=2026-02-15&end=2026-04-10&trend=true").json()
    assert [t["month"] for t in body["trend"]] == ["2026-02", "2026-03", "2026-04"]
    assert [t["reported"] for t in body["trend"]] == [0, 6, 0]
