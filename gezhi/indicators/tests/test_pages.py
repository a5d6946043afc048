"""The indicators page: filters, chart data, ranking table; the xlsx export, scoped and logged."""

import io
import json

from django.urls import reverse
from openpyxl import load_workbook

from gezhi.accounts.models import AccessLog

PERIOD = {"start": "2026-03-01", "end": "2026-03-31"}


def chart_data(response) -> dict:
    html = response.content.decode()
    start = html.index('<script id="indicator-chart-data" type="application/json">')
    body = html[start:].split(">", 1)[1].split("</script>", 1)[0]
    return json.loads(body)


def test_page_shows_charts_and_ranking(history, django_assert_max_num_queries):
    client = history.client("dispatcher_a")
    url = reverse("indicators:home")
    # The same for any number of units (PostgreSQL: 3 more, a savepoint for planner settings).
    with django_assert_max_num_queries(15):
        response = client.get(url, {**PERIOD, "by": "grid", "sort": "close_rate"})
    assert response.status_code == 200
    html = response.content.decode()
    assert "vendor/echarts/echarts.min.js" in html and 'data-indicator-chart="bars"' in html
    data = chart_data(response)
    # Ranked by 结案率: A-1 (100%) before A-2 (0%); B-1 is outside the dispatcher's scope.
    assert data["units"] == ["文化路第一网格", "文化路第二网格"]
    assert data["bars"][0]["name"] == "结案率" and data["bars"][0]["data"] == [100.0, 0.0]
    assert data["months"] == ["2026-03"] and data["reported"]["data"] == [4]
    assert "荆河第一网格" not in html
    assert "75.0%" in html  # the total 结案率 (3 of 4)
    assert reverse("indicators:export") in html


def test_page_defaults_and_levels(history):
    response = history.client("admin").get(reverse("indicators:home"), PERIOD)
    assert response.status_code == 200  # by subdistrict: one level below the district
    assert chart_data(response)["units"] == ["荆河街道", "北辛街道"]  # 结案率 100% before 75%
    response = history.client("admin").get(reverse("indicators:home"),
                                            {**PERIOD, "by": "community", "sort": "reported"})
    assert chart_data(response)["units"] == ["文化路社区", "荆河社区"]  # 4 reports before 2


def test_page_for_a_grid_worker_and_a_handler(history):
    response = history.client("worker_a1").get(reverse("indicators:home"),
                                               {**PERIOD, "by": "community"})
    assert chart_data(response)["units"] == ["文化路第一网格"]
    response = history.client("handler").get(reverse("indicators:home"), PERIOD)
    assert response.status_code == 200
    assert chart_data(response)["units"] == ["北辛街道城管中队"]


def test_bad_dates_are_shown_on_the_page(history):
    response = history.client("admin").get(reverse("indicators:home"),
                                           {"start": "2026-04-01", "end": "2026-03-01"})
    assert response.status_code == 400
    assert "开始日期不能晚于结束日期" in response.content.decode()
    response = history.client("admin").get(reverse("indicators:home"), {"start": "三月"})
    assert response.status_code == 400 and "请输入有效的日期" in response.content.decode()


def test_page_needs_the_permission(history):
    assert history.client("resident").get(reverse("indicators:home")).status_code == 404
    response = history.client(None).get(reverse("indicators:home"))
    assert response.status_code == 302


def export_rows(response) -> list[list]:
    assert response.status_code == 200
    assert response["Content-Type"].startswith("application/vnd.openxmlformats")
    book = load_workbook(io.BytesIO(response.content), read_only=True)
    return [list(r) for r in book["指标"].iter_rows(values_only=True)]


def test_export_holds_the_report_and_is_logged(history):
    response = history.client("admin").get(reverse("indicators:export"),
                                           {**PERIOD, "by": "subdistrict"})
    rows = export_rows(response)
    header = rows[0]
    assert header[:5] == ["代码", "统计单位", "上报数", "应结案", "已结案"]
    by_code = {r[0]: dict(zip(header, r, strict=True)) for r in rows[1:]}
    assert by_code["370481001"]["上报数"] == 4 and by_code["370481001"]["结案率"] == 0.75
    assert by_code["370481002"]["不予受理"] == 1
    total = dict(zip(header, rows[-1], strict=True))
    assert total["统计单位"] == "合计" and total["上报数"] == 6 and total["满意率"] == 1.0
    log = AccessLog.objects.get(target_type="indicators")
    assert log.user == history.user("admin") and log.action == "export" and log.row_count == 2
    assert log.details["by"] == "subdistrict" and log.details["start"] == "2026-03-01"


def test_export_of_a_grid_worker_holds_their_grid_only(history):
    rows = export_rows(history.client("worker_a1").get(reverse("indicators:export"),
                                                       {**PERIOD, "by": "subdistrict"}))
    assert [r[0] for r in rows[1:-1]] == ["370481001001001"]
    assert rows[-1][2] == 3  # the total: A-1's three reports
    response = history.client("worker_a1").get(reverse("indicators:export"),
                                               {**PERIOD, "within": "370481002"})
    assert response.status_code == 400  # not a choice they have
    assert AccessLog.objects.filter(target_type="indicators").count() == 1
