"""Console pages for organisations: scope, the masked contact phone and its logged reveal."""

from gezhi.accounts.models import AccessAction, AccessLog
from gezhi.orgs.models import OrgKind
from gezhi.orgs.services import organisation_create

SHOP_PHONE = "13806324444"


def text(response) -> str:
    return response.content.decode()


def test_list_is_scoped_masked_and_filtered_by_kind(base, world):
    organisation_create(actor=None, name="荆河物业", kind=OrgKind.PROPERTY_COMPANY,
                        lat=35.081, lon=117.221)
    organisation_create(actor=None, name="文化路社区业委会", kind=OrgKind.OWNERS_COMMITTEE,
                        lat=35.081, lon=117.111)
    client = world.client("worker_a1")
    page = text(client.get("/console/orgs/"))
    assert "善国便利店" in page and "文化路社区业委会" in page and "荆河物业" not in page
    assert "138****4444" in page and SHOP_PHONE not in page
    assert base.shop_a1.credit_code in page
    response = client.get("/console/orgs/", {"kind": OrgKind.SHOP})
    assert [o.name for o in response.context["page_obj"]] == ["善国便利店"]
    response = client.get("/console/orgs/", {"q": base.shop_a1.credit_code.lower()})
    assert [o.name for o in response.context["page_obj"]] == ["善国便利店"]
    assert "荆河物业" in text(world.client("admin").get("/console/orgs/"))


def test_organisation_page_and_scope(base, world):
    url = f"/console/orgs/{base.shop_a1.pk}/"
    page = text(world.client("worker_a1").get(url))
    assert "个体工商户" in page and base.shop_a1.credit_code in page
    assert "138****4444" in page and SHOP_PHONE not in page
    assert 'data-gezhi-map="points"' in page
    assert world.client("worker_b1").get(url).status_code == 404
    response = world.client("worker_b1").post(f"{url}reveal/", {"field": "contact_phone",
                                                                 "reason": "核实"})
    assert response.status_code == 404
    assert not AccessLog.objects.exists()


def test_contact_phone_reveal_needs_a_reason_and_is_logged(base, world):
    client = world.client("worker_a1")
    url = f"/console/orgs/{base.shop_a1.pk}/reveal/"
    response = client.post(url, {"field": "contact_phone", "reason": ""})
    assert response.status_code == 422 and "请填写查看事由" in text(response)
    assert not AccessLog.objects.exists()
    response = client.post(url, {"field": "contact_phone", "reason": "事件处置联系"})
    assert response.status_code == 200
    assert f'data-revealed="contact_phone">{SHOP_PHONE}<' in text(response)
    entry = AccessLog.objects.get()
    assert (entry.action, entry.target_type, entry.target_id, entry.field, entry.reason) == (
        AccessAction.REVEAL, "organisation", base.shop_a1.pk, "contact_phone", "事件处置联系")


def test_dispatcher_cannot_reveal(base, world):
    client = world.client("dispatcher_a")
    page = text(client.get(f"/console/orgs/{base.shop_a1.pk}/"))
    assert "/reveal/" not in page
    response = client.post(f"/console/orgs/{base.shop_a1.pk}/reveal/",
                           {"field": "contact_phone", "reason": "核实"})
    assert response.status_code == 403 and SHOP_PHONE not in text(response)
    assert not AccessLog.objects.exists()


def test_list_query_count_does_not_grow(base, world, django_assert_max_num_queries):
    for i in range(40):
        organisation_create(actor=None, name=f"商户{i}", kind=OrgKind.SHOP, lat=35.081,
                            lon=117.111, contact_phone=f"1390000{i:04d}")
    client = world.client("chief_a1")
    client.get("/console/")
    with django_assert_max_num_queries(8):
        response = client.get("/console/orgs/")
    assert len(response.context["page_obj"]) == 41
