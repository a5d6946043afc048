"""Open311 GeoReport v2 as a client sees it: every JSON answer checked against the published
schemas, every XML answer parsed, errors in the spec's shape."""

import datetime as dt
from xml.etree import ElementTree as ET

import pytest
from django.test import Client
from django.utils import timezone

from gezhi.core import clock
from gezhi.core.personal import get_sensitive
from gezhi.events import services as s
from gezhi.events.models import Category, Event, Source, State
from gezhi.events.tests.conftest import IN_A1, IN_B1, OUTSIDE, jpeg
from gezhi.open311.services import apikey_create, apikey_revoke
from gezhi.open311.tests.conftest import work_order

BASE = "/open311/v2"


def get(path: str, **params):
    return Client().get(f"{BASE}/{path}", params)


def xml(response) -> ET.Element:
    assert response["Content-Type"].startswith("text/xml")
    assert response.content.startswith(b'<?xml version="1.0" encoding="UTF-8"?>')
    return ET.fromstring(response.content)


def error_of(response, fmt: str = "json") -> tuple[int, str]:
    """(code, description) of a spec-shaped error, checking its shape on the way."""
    if fmt == "xml":
        root = xml(response)
        assert root.tag == "errors" and [e.tag for e in root] == ["error"]
        code, description = root.find("error/code").text, root.find("error/description").text
        assert int(code) == response.status_code
        return int(code), description
    body = response.json()
    assert isinstance(body, list) and len(body) == 1 and set(body[0]) == {"code", "description"}
    assert body[0]["code"] == response.status_code
    return body[0]["code"], body[0]["description"]


# ---------------------------------------------------------------------------------------------
# Discovery, services, service definitions


def test_discovery_names_this_endpoint_in_both_formats(world):
    body = get("discovery.json").json()
    endpoint = body["endpoints"][0]
    assert endpoint["url"] == "http://testserver/open311/v2/"
    assert endpoint["specification"] == "http://wiki.open311.org/GeoReport_v2"
    assert set(endpoint["formats"]) == {"text/xml", "application/json"}
    assert body["changeset"] and body["contact"] and body["key_service"]
    root = xml(get("discovery.xml"))
    assert root.tag == "discovery"
    assert [f.text for f in root.findall("endpoints/endpoint/formats/format")] == [
        "text/xml", "application/json"]


def test_services_are_the_active_leaf_categories(world, conform):
    response = get("services.json")
    assert response.status_code == 200 and response["Content-Type"].startswith("application/json")
    services = response.json()
    conform("services.json", services)
    leaves = Category.objects.filter(active=True, parent__isnull=False)
    assert sorted(x["service_code"] for x in services) == sorted(c.code for c in leaves)
    garbage = next(x for x in services if x["service_code"] == "0102")
    assert garbage["service_name"] == "暴露垃圾" and garbage["type"] == "realtime"
    assert garbage["group"] == Category.objects.get(code="0102").parent.name
    assert garbage["metadata"] is False and "4" in garbage["description"]

    Category.objects.filter(code="0102").update(active=False)
    assert "0102" not in [x["service_code"] for x in get("services.json").json()]
    root = xml(get("services.xml"))
    assert root.tag == "services" and {e.tag for e in root} == {"service"}
    first = root[0]
    assert [e.tag for e in first] == ["service_code", "service_name", "description", "metadata",
                                      "type", "keywords", "group"]
    assert first.find("metadata").text == "false"


def test_service_definition_and_unknown_service(world, conform):
    body = get("services/0102.json").json()
    conform("service-definition.json", body)
    assert body == {"service_code": "0102", "attributes": []}
    root = xml(get("services/0102.xml"))
    assert root.tag == "service_definition" and root.find("service_code").text == "0102"
    assert root.find("attributes") is not None

    for fmt in ("json", "xml"):
        response = get(f"services/9999.{fmt}")
        assert response.status_code == 404
        assert "9999" in error_of(response, fmt)[1]


def test_unknown_paths_and_methods_answer_in_the_spec_format(world):
    response = get("nothing/here.json")
    assert response.status_code == 404 and error_of(response)[0] == 404
    response = get("nothing")
    assert response.status_code == 404 and error_of(response, "xml")[0] == 404
    response = Client().delete(f"{BASE}/services.json")
    assert response.status_code == 405 and response["Allow"] == "GET"
    assert error_of(response)[0] == 405


def test_jurisdiction_is_the_district_code(world):
    assert get("services.json", jurisdiction_id="370481").status_code == 200
    response = get("services.json", jurisdiction_id="999999")
    assert response.status_code == 404 and "jurisdiction_id" in error_of(response)[1]


# ---------------------------------------------------------------------------------------------
# A 12345 hotline work order: submitted, deduplicated, read back


def test_hotline_work_order_becomes_an_event_and_reads_back(world, hotline_key, post, conform):
    key, secret = hotline_key
    response = post("json", **work_order(secret))
    assert response.status_code == 201
    (answer,) = response.json()
    assert answer["account_id"] is None and answer["service_notice"]
    event = Event.objects.get(serial=answer["service_request_id"])
    assert event.source == Source.HOTLINE and event.external_id == "GD20261127000123"
    assert event.api_key == key and event.reporter is None
    assert event.grid == world.grid_a1 and event.address == "文化路 36 号东侧"
    assert event.contact_name == "李女士"
    assert get_sensitive(event, "contact_phone") == "13806329876"
    assert event.level == "subdistrict"  # 12345 work orders go to the command centre

    one = get(f"requests/{event.serial}.json").json()
    conform("requests.json", one)
    (request,) = one
    assert request["service_request_id"] == event.serial and request["status"] == "open"
    assert request["service_code"] == "0102" and request["external_id"] == "GD20261127000123"
    assert request["requested_datetime"].endswith("+08:00")
    assert (request["lat"], request["long"]) == IN_A1
    by_number = get("requests.json", external_id="GD20261127000123").json()
    conform("requests.json", by_number)
    assert [r["service_request_id"] for r in by_number] == [event.serial]

    token = get(f"tokens/{answer['token']}.json").json()
    assert token == [{"service_request_id": event.serial, "token": answer["token"]}]
    root = xml(get(f"tokens/{answer['token']}.xml"))
    assert root.tag == "service_requests"
    assert root.find("request/service_request_id").text == event.serial
    assert get("tokens/not-a-token.json").status_code == 404


def test_resubmitting_a_work_order_does_not_duplicate_it(world, hotline_key, post):
    _key, secret = hotline_key
    first = post("json", **work_order(secret)).json()[0]
    again = post("json", **work_order(secret, description="重复推送"))
    assert again.status_code == 200
    assert again.json()[0]["service_request_id"] == first["service_request_id"]
    assert Event.objects.filter(external_id="GD20261127000123").count() == 1
    other = post("json", **work_order(secret, external_id="GD20261127000124"))
    assert other.status_code == 201
    assert other.json()[0]["service_request_id"] != first["service_request_id"]


def test_concurrent_delivery_of_one_work_order_answers_with_the_winner(world, hotline_key, post,
                                                                       monkeypatch):
    """The other delivery got in between the lookup and the insert: the unique client_id
    refuses the second event and the answer names the first."""
    _key, secret = hotline_key
    first = post("json", **work_order(secret)).json()[0]
    real = Event.objects.filter

    def blind_to_client_id(*args, **kwargs):
        # Both lookups before the insert (ours and the intake's) miss the first event.
        if "client_id" in kwargs and blind_to_client_id.misses < 2:
            blind_to_client_id.misses += 1
            return real(pk__in=[])
        return real(*args, **kwargs)

    blind_to_client_id.misses = 0
    monkeypatch.setattr(Event.objects, "filter", blind_to_client_id)
    again = post("json", **work_order(secret))
    monkeypatch.undo()
    assert again.status_code == 200
    assert again.json()[0]["service_request_id"] == first["service_request_id"]
    assert Event.objects.count() == 1


def test_post_in_xml(world, hotline_key, post):
    _key, secret = hotline_key
    root = xml(post("xml", **work_order(secret)))
    assert root.tag == "service_requests"
    assert [e.tag for e in root.find("request")] == ["service_request_id", "service_notice",
                                                     "account_id", "token"]
    assert Event.objects.filter(serial=root.find("request/service_request_id").text).exists()


def test_plain_api_key_without_external_id(world, post):
    _key, secret = apikey_create(name="随手拍小程序", source=Source.WECHAT)
    fields = work_order(secret)
    del fields["external_id"]
    response = post("json", **fields)
    assert response.status_code == 201
    event = Event.objects.get(serial=response.json()[0]["service_request_id"])
    assert event.source == Source.WECHAT and event.external_id == ""
    assert post("json", **fields).status_code == 201  # without a number, no deduplication
    assert Event.objects.count() == 2


# ---------------------------------------------------------------------------------------------
# Bad input: nothing is created, the error says what is wrong


@pytest.mark.parametrize("fmt", ["json", "xml"])
def test_bad_missing_or_revoked_api_key_is_403(world, hotline_key, post, fmt):
    key, secret = hotline_key
    for fields in (work_order("0" * 48), {k: v for k, v in work_order(secret).items()
                                          if k != "api_key"}):
        response = post(fmt, **fields)
        assert response.status_code == 403
        assert "api_key" in error_of(response, fmt)[1]
    apikey_revoke(prefix=key.prefix)
    response = post(fmt, **work_order(secret))
    assert response.status_code == 403
    assert not Event.objects.exists()


def test_unknown_or_inactive_service_is_404(world, hotline_key, post):
    _key, secret = hotline_key
    response = post("json", **work_order(secret, service_code="9999"))
    assert response.status_code == 404 and "9999" in error_of(response)[1]
    parent = Category.objects.get(code="0102").parent.code
    assert post("json", **work_order(secret, service_code=parent)).status_code == 404
    response = post("json", **work_order(secret, service_code=""))
    assert response.status_code == 400 and "service_code" in error_of(response)[1]
    assert not Event.objects.exists()


@pytest.mark.parametrize("fmt", ["json", "xml"])
def test_a_point_is_required_even_with_an_address(world, hotline_key, post, fmt):
    _key, secret = hotline_key
    response = post(fmt, **work_order(secret, lat="", long=""))
    assert response.status_code == 400
    description = error_of(response, fmt)[1]
    assert "lat" in description and "address_string" in description
    response = post(fmt, **work_order(secret, lat="north"))
    assert response.status_code == 400 and "lat" in error_of(response, fmt)[1]
    assert not Event.objects.exists()


def test_a_point_outside_every_grid_is_400(world, hotline_key, post):
    _key, secret = hotline_key
    response = post("json", **work_order(secret, lat=OUTSIDE[0], long=OUTSIDE[1]))
    assert response.status_code == 400
    assert "网格" in error_of(response)[1]
    response = post("json", **work_order(secret, lat=95, long=117.1))
    assert response.status_code == 400
    response = post("json", **work_order(secret, lat=IN_B1[0], long=IN_B1[1],
                                         jurisdiction_id="370481001"))
    assert response.status_code == 404  # a subdistrict is not a jurisdiction
    assert not Event.objects.exists()


def test_other_bad_fields_are_400(world, hotline_key, post):
    _key, secret = hotline_key
    response = post("json", **work_order(secret, description=" "))
    assert response.status_code == 400 and "description" in error_of(response)[1]
    response = post("json", **work_order(secret, phone="12345"))
    assert response.status_code == 400 and "phone" in error_of(response)[1]
    response = post("json", **work_order(secret, external_id="x" * 65))
    assert response.status_code == 400 and "external_id" in error_of(response)[1]
    assert not Event.objects.exists()


def test_json_body_and_ignored_fields(world, hotline_key):
    _key, secret = hotline_key
    fields = work_order(secret, media_url="https://12345.example.cn/att/1.jpg",
                        email="li@example.cn", **{"attribute[WHISPER]": "x"})
    response = Client().post(f"{BASE}/requests.json", fields, content_type="application/json")
    assert response.status_code == 201
    event = Event.objects.get()
    assert "https://12345.example.cn/att/1.jpg" in event.description
    response = Client().post(f"{BASE}/requests.json", "[1]", content_type="application/json")
    assert response.status_code == 400


# ---------------------------------------------------------------------------------------------
# Reading requests: filters, statuses, no personal data


def test_filters_and_default_window(world, report, conform):
    dispatcher = world.user("dispatcher_a")
    now = timezone.now()
    with clock.frozen(now - dt.timedelta(days=120)):
        old = report("worker_a1", description="很久以前的垃圾")
    with clock.frozen(now - dt.timedelta(days=10)):
        rejected = report("worker_a1", description="已不予受理的")
    s.event_reject(event=rejected, actor=dispatcher, note="不属于受理范围,已告知反映人")
    resolved = report("worker_a1", self_resolve=True, result="当场清理完毕")
    pothole = report("worker_a1", category=Category.objects.get(code="0401"),
                     description="路面塌陷一处")

    def ids(**params):
        body = get("requests.json", **params).json()
        conform("requests.json", body) if body else None
        return [r["service_request_id"] for r in body]

    assert ids() == [pothole.serial, resolved.serial, rejected.serial]  # newest first, 90 days
    assert ids(service_code="0401") == [pothole.serial]
    assert ids(service_code="0401,0102") == [pothole.serial, resolved.serial, rejected.serial]
    assert ids(status="open") == [pothole.serial]
    assert ids(status="closed") == [resolved.serial, rejected.serial]
    assert ids(status="open,closed") == [pothole.serial, resolved.serial, rejected.serial]
    start = timezone.localtime(now - dt.timedelta(days=130)).isoformat()
    end = timezone.localtime(now - dt.timedelta(days=50)).isoformat()
    assert ids(start_date=start, end_date=end) == [old.serial]
    assert ids(start_date=(now - dt.timedelta(days=1)).date().isoformat()) == [
        pothole.serial, resolved.serial]
    assert ids(service_request_id=f"{old.serial},{pothole.serial}") == [pothole.serial,
                                                                         old.serial]
    assert ids(jurisdiction_id="370481") == [pothole.serial, resolved.serial, rejected.serial]

    for bad in ({"status": "pending"}, {"start_date": "yesterday"},
                {"start_date": start, "end_date": timezone.localtime(now).isoformat()},
                {"start_date": end, "end_date": start}):
        response = get("requests.json", **bad)
        assert response.status_code == 400, bad
        assert next(iter(bad)) in error_of(response)[1] or "end_date" in error_of(response)[1]

    by_id = {r["service_request_id"]: r for r in get("requests.json").json()}
    assert by_id[rejected.serial]["status"] == "closed"
    assert by_id[rejected.serial]["status_notes"] == "不予受理:不属于受理范围,已告知反映人"
    assert by_id[resolved.serial]["status_notes"] == "已结案:当场清理完毕"
    assert by_id[pothole.serial]["status_notes"] == "待受理"
    assert by_id[pothole.serial]["agency_responsible"] is None


def test_status_follows_the_event(world, report, conform):
    dispatcher, handler = world.user("dispatcher_a"), world.user("handler")
    event = report("worker_a1")
    s.event_accept(event=event, actor=dispatcher)
    s.event_dispatch(event=event, actor=dispatcher, department=world.department)

    def current():
        body = get(f"requests/{event.serial}.json").json()
        conform("requests.json", body)
        return body[0]

    assert current()["agency_responsible"] == "北辛街道城管中队"
    assert current()["expected_datetime"] is not None
    s.event_suspend(event=event, actor=dispatcher, note="等待管线单位配合")
    assert current()["status"] == "open"
    assert current()["status_notes"] == "缓办:等待管线单位配合"
    s.event_resume(event=event, actor=dispatcher)
    s.event_claim(event=event, actor=handler)
    s.event_handle(event=event, actor=handler, note="已清运并消杀")
    s.event_verify(event=event, actor=world.user("worker_a1"))
    closed = s.event_close(event=event, actor=dispatcher)
    request = current()
    assert request["status"] == "closed" and request["status_notes"] == "已结案:已清运并消杀"
    assert request["updated_datetime"] == timezone.localtime(closed.closed_at).isoformat(
        timespec="seconds")

    duplicate = report("worker_a1")
    master = report("worker_a1")
    s.event_merge(event=duplicate, actor=dispatcher, master=master)
    (merged,) = get(f"requests/{duplicate.serial}.json").json()
    assert merged["status"] == "closed" and master.serial in merged["status_notes"]

    response = get("requests/370481-20000101-9999.json")
    assert response.status_code == 404 and error_of(response)[0] == 404


def test_requests_in_xml(world, report):
    event = report("worker_a1")
    root = xml(get("requests.xml"))
    assert root.tag == "service_requests" and [e.tag for e in root] == ["request"]
    request = root.find("request")
    for tag in ("service_request_id", "status", "status_notes", "service_name", "service_code",
                "description", "agency_responsible", "service_notice", "requested_datetime",
                "updated_datetime", "expected_datetime", "address", "address_id", "zipcode",
                "lat", "long", "media_url"):
        assert request.find(tag) is not None, tag
    assert request.find("service_request_id").text == event.serial
    assert request.find("status").text == "open"
    assert float(request.find("lat").text) == IN_A1[0]


def test_no_personal_data_in_answers(world, base, report, hotline_key, post):
    _key, secret = hotline_key
    post("json", **work_order(
        secret, description="李女士(13806329876)反映:门口垃圾没人清,身份证 370481199001010048"))
    report(None, contact_name="王建国", contact_phone="13911112222",
           description="王建国反映楼下垃圾", person=base.zhang_a1)
    dispute = report("worker_a1", category=Category.objects.get(code="2101"),
                     description=f"{base.zhang_a1.name}与邻居因漏水发生纠纷",
                     address="善国盛景小区1号楼101")
    body = get("requests.json").content.decode() + get("requests.xml").content.decode()
    for secret_text in ("13806329876", "李女士", "370481199001010048", "13911112222", "王建国",
                        base.zhang_a1.name, "漏水", "1号楼101"):
        assert secret_text not in body, secret_text
    assert "138****9876" in body or "138*****9876" in body
    (private,) = get(f"requests/{dispute.serial}.json").json()
    assert private["description"] is None and private["lat"] is None
    assert private["address"] == world.grid_a1.name and private["status"] == "open"


def test_media_url_is_the_first_photo(world, report, settings, tmp_path, conform):
    settings.MEDIA_ROOT = tmp_path
    event = report("worker_a1", photos=[jpeg(), jpeg(color="blue")])
    body = get(f"requests/{event.serial}.json").json()
    conform("requests.json", body)
    first = event.photos.order_by("id").first()
    assert body[0]["media_url"].startswith(f"http://testserver{first.url}?s=")


def test_list_query_count_is_pinned(world, report, django_assert_max_num_queries, settings,
                                    tmp_path):
    settings.MEDIA_ROOT = tmp_path
    for i in range(6):
        event = report("worker_a1", description=f"第 {i} 处垃圾", photos=[jpeg()])
        s.event_accept(event=event, actor=world.user("dispatcher_a"))
    with django_assert_max_num_queries(4):
        body = get("requests.json", jurisdiction_id="370481").json()
    assert len(body) == 6 and all(r["media_url"] for r in body)
    assert {r["status_notes"] for r in body} == {str(State.ACCEPTED.label)}
