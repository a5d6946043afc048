"""Console pages for people: scope, masking, the logged reveal, special-group tags, tags,
optimistic locking, the access log, and pinned query counts."""

import re

import pytest

from gezhi.accounts.models import AccessAction, AccessLog
from gezhi.people.models import Person, PersonTag, Tag
from gezhi.people.services import person_create, person_tag_add, person_update

CORRECTION = "社区矫正对象"


def text(response) -> str:
    return response.content.decode()


def option_labels(page: str, select_id: str) -> list[str]:
    select = re.search(rf'<select name="[^"]+" id="{select_id}".*?</select>', page, re.S).group(0)
    return re.findall(r"<option [^>]*>([^<]+)</option>", select)


# Lists and search

def test_grid_worker_lists_their_grid_with_masked_numbers(base, world):
    page = text(world.client("worker_a1").get("/console/people/"))
    assert "张桂兰" in page and "赵强" in page
    assert "王芳" not in page
    assert base.zhang_a1.id_number_mask in page and "138****1111" in page
    assert base.ZHANG_ID not in page and base.ZHANG_PHONE not in page
    assert "共 2 人" in page
    # Current address links to the house page; the age comes from the ID number.
    assert f'href="/console/places/houses/{base.house_a1.pk}/"' in page
    assert "善国盛景小区1号楼1单元101" in page


@pytest.mark.parametrize("query, expected", [
    ("张桂兰", ["张桂兰"]),
    ("37048119450302002", []),  # 17 characters: neither a whole number nor a tail
    ("13806321111", ["张桂兰"]),
    ("2222", ["赵强"]),  # phone tail
    ("善国盛景小区1号楼1单元201", ["赵强"]),
])
def test_search_by_name_number_tail_and_address(base, world, query, expected):
    response = world.client("worker_a1").get("/console/people/", {"q": query})
    names = [row["person"].name for row in response.context["rows"]]
    assert names == expected


def test_search_by_whole_id_number_and_its_tail(base, world):
    client = world.client("worker_a1")
    rows = client.get("/console/people/", {"q": base.ZHANG_ID}).context["rows"]
    assert [r["person"].name for r in rows] == ["张桂兰"]
    rows = client.get("/console/people/", {"q": base.ZHAO_ID[-4:]}).context["rows"]
    assert [r["person"].name for r in rows] == ["赵强"]


def test_search_never_reaches_outside_the_scope(base, world):
    client = world.client("worker_a1")
    for query in ("王芳", base.WANG_ID, "15806323333", base.WANG_ID[-4:]):
        response = client.get("/console/people/", {"q": query})
        assert response.context["rows"] == []
        assert "没有符合条件的人员" in text(response)
        assert f'href="/console/people/{base.wang_b1.pk}/"' not in text(response)
    rows = world.client("admin").get("/console/people/", {"q": base.WANG_ID}).context["rows"]
    assert [r["person"].name for r in rows] == ["王芳"]


def test_filters_by_grid_tag_and_residence_type(base, world):
    client = world.client("chief_a1")
    page = text(client.get("/console/people/"))
    assert option_labels(page, "grid")[1:] == ["文化路第一网格", "文化路第二网格"]
    rows = client.get("/console/people/", {"tag": "lone_elderly"}).context["rows"]
    assert [r["person"].name for r in rows] == ["张桂兰"]
    rows = client.get("/console/people/", {"grid": world.grid_a2.code}).context["rows"]
    assert rows == []
    Person.objects.filter(pk=base.zhao_a1.pk).update(residence_type="floating")
    rows = client.get("/console/people/", {"residence_type": "floating"}).context["rows"]
    assert [r["person"].name for r in rows] == ["赵强"]
    # A grid outside the scope is not a filter for them: the list stays within their scope.
    rows = client.get("/console/people/", {"grid": world.grid_b1.code}).context["rows"]
    assert {r["person"].name for r in rows} == {"张桂兰", "赵强"}


def test_tag_chips_are_coloured_by_the_tag(base, world):
    page = text(world.client("worker_a1").get("/console/people/"))
    assert '<span class="chip" style="--chip: #d97706">独居老人</span>' in page


# Special-group (restricted) tags

def test_worker_never_sees_the_special_group_tag(base, world):
    client = world.client("worker_a1")
    page = text(client.get("/console/people/"))
    assert CORRECTION not in page
    assert CORRECTION not in option_labels(page, "tag")
    assert "独居老人" in option_labels(page, "tag")
    assert CORRECTION not in text(client.get(f"/console/people/{base.zhao_a1.pk}/"))
    # Asking for the tag by its code does not single anyone out either.
    response = client.get("/console/people/", {"tag": "community_correction"})
    assert CORRECTION not in text(response)
    assert response.context["tag_code"] == ""
    assert not AccessLog.objects.filter(action=AccessAction.VIEW_SPECIAL).exists()


def test_chief_sees_the_special_group_tag_and_the_view_is_logged(base, world):
    client = world.client("chief_a1")
    page = text(client.get("/console/people/"))
    assert CORRECTION in option_labels(page, "tag")
    assert CORRECTION in page
    response = client.get("/console/people/", {"tag": "community_correction"})
    assert [r["person"].name for r in response.context["rows"]] == ["赵强"]
    listed = AccessLog.objects.get(action=AccessAction.VIEW_SPECIAL, target_id=None)
    assert listed.user == world.user("chief_a1") and listed.row_count == 1
    assert listed.details["tag"] == "community_correction"

    page = text(client.get(f"/console/people/{base.zhao_a1.pk}/"))
    assert CORRECTION in page
    seen = AccessLog.objects.get(action=AccessAction.VIEW_SPECIAL, target_id=base.zhao_a1.pk)
    assert seen.details == {"tags": ["community_correction"]}


# The person page

def test_person_page_shows_profile_residence_and_tag_history(base, world):
    response = world.client("worker_a1").get(f"/console/people/{base.zhang_a1.pk}/")
    assert response.status_code == 200
    page = text(response)
    assert "1945-03-02" in page and "汉族" in page and "居民身份证" in page
    assert base.zhang_a1.id_number_mask in page and base.ZHANG_ID not in page
    assert "善国盛景小区1号楼1单元101" in page and "产权人" in page
    assert "系统导入 于" in page  # the fixture's tag was added by the system (no actor)
    assert "人户分离" not in page


def test_person_outside_the_scope_is_a_404(base, world):
    client = world.client("worker_a1")
    for url in (f"/console/people/{base.wang_b1.pk}/", f"/console/people/{base.wang_b1.pk}/edit/"):
        assert client.get(url).status_code == 404
    response = client.post(f"/console/people/{base.wang_b1.pk}/reveal/",
                           {"field": "id_number", "reason": "核实身份信息"})
    assert response.status_code == 404
    assert not AccessLog.objects.exists()


def test_household_separation_is_shown(base, world):
    from gezhi.people.services import residence_move_in

    residence_move_in(actor=None, person=base.zhang_a1, house=base.house_a1_2,
                      relation="family", kind="registered")
    page = text(world.client("worker_a1").get(f"/console/people/{base.zhang_a1.pk}/"))
    assert "人户分离" in page
    assert f"户籍登记在 {base.house_a1_2.address},实际居住在 {base.house_a1.address}" in page


# Reveal

def test_reveal_needs_a_reason(base, world):
    client = world.client("worker_a1")
    response = client.post(f"/console/people/{base.zhang_a1.pk}/reveal/",
                           {"field": "id_number", "reason": "  "})
    assert response.status_code == 422
    assert "请填写查看事由" in text(response)
    assert base.ZHANG_ID not in text(response)
    assert not AccessLog.objects.exists()


def test_reveal_logs_then_shows_the_number_once(base, world):
    client = world.client("worker_a1")
    response = client.post(f"/console/people/{base.zhang_a1.pk}/reveal/",
                           {"field": "phone", "reason": "入户走访联系"}, REMOTE_ADDR="10.1.2.3")
    assert response.status_code == 200
    assert response["Cache-Control"] == "no-store"
    page = text(response)
    assert f'data-revealed="phone">{base.ZHANG_PHONE}<' in page
    assert base.ZHANG_ID not in page  # only the field asked for
    entry = AccessLog.objects.get()
    assert (entry.user, entry.action, entry.field, entry.reason) == (
        world.user("worker_a1"), AccessAction.REVEAL, "phone", "入户走访联系")
    assert (entry.target_type, entry.target_id, entry.ip_address) == (
        "person", base.zhang_a1.pk, "10.1.2.3")
    # Opening the page again shows the mask.
    assert base.ZHANG_PHONE not in text(client.get(f"/console/people/{base.zhang_a1.pk}/"))


def test_reveal_is_a_post(base, world):
    response = world.client("worker_a1").get(f"/console/people/{base.zhang_a1.pk}/reveal/")
    assert response.status_code == 405


def test_dispatcher_without_reveal_gets_no_button_and_a_403(base, world):
    client = world.client("dispatcher_a")
    page = text(client.get(f"/console/people/{base.zhang_a1.pk}/"))
    assert base.zhang_a1.id_number_mask in page
    assert 'name="reason"' not in page and "/reveal/" not in page
    response = client.post(f"/console/people/{base.zhang_a1.pk}/reveal/",
                           {"field": "id_number", "reason": "核实身份信息"})
    assert response.status_code == 403
    assert "没有查看明文的权限" in text(response)
    assert base.ZHANG_ID not in text(response)
    assert not AccessLog.objects.exists()


def test_worker_sees_the_reveal_form(base, world):
    page = text(world.client("worker_a1").get(f"/console/people/{base.zhang_a1.pk}/"))
    assert page.count('name="reason"') == 2  # ID number and phone
    assert f'action="/console/people/{base.zhang_a1.pk}/reveal/"' in page


# Edit with optimistic locking

def edit_data(person, **changes) -> dict:
    data = {"version": person.version, "name": person.name, "id_type": person.id_type,
            "id_number": "", "sex": "", "birth_date": "", "ethnicity": person.ethnicity,
            "phone": "", "political_status": person.political_status,
            "residence_type": person.residence_type, "employer": person.employer,
            "notes": person.notes, "grid": person.grid.code}
    data.update(changes)
    return data


def test_edit_saves_and_keeps_numbers_unless_replaced(base, world):
    person = Person.objects.get(pk=base.zhang_a1.pk)
    client = world.client("worker_a1")
    form = text(client.get(f"/console/people/{person.pk}/edit/"))
    assert f'name="version" value="{person.version}"' in form
    assert base.ZHANG_ID not in form and base.ZHANG_PHONE not in form
    response = client.post(f"/console/people/{person.pk}/edit/",
                           edit_data(person, employer="滕州市第一中学", phone="13912345678"))
    assert response.status_code == 302
    person.refresh_from_db()
    assert person.employer == "滕州市第一中学"
    assert person.phone_mask == "139****5678"
    assert person.id_number_mask == base.zhang_a1.id_number_mask
    assert person.version == base.zhang_a1.version + 1


def test_edit_errors_are_shown_next_to_the_field(base, world):
    person = Person.objects.get(pk=base.zhang_a1.pk)
    response = world.client("worker_a1").post(f"/console/people/{person.pk}/edit/",
                                              edit_data(person, id_number="37048119450302001X"))
    assert response.status_code == 200
    assert "校验位" in text(response)
    assert response.context["form"].errors["id_number"]
    assert Person.objects.get(pk=person.pk).version == person.version


def test_stale_edit_shows_the_conflict_and_overwrites_nothing(base, world):
    person = Person.objects.get(pk=base.zhang_a1.pk)
    opened_at = person.version
    person_update(actor=world.user("chief_a1"), person=Person.objects.get(pk=person.pk),
                  version=opened_at, employer="社区居委会")
    response = world.client("worker_a1").post(
        f"/console/people/{person.pk}/edit/",
        edit_data(person, version=opened_at, employer="滕州市第一中学", notes="我的备注"))
    assert response.status_code == 409
    page = text(response)
    assert "该记录已被他人修改,请刷新后重试(您的修改未保存)。" in page
    assert 'value="滕州市第一中学"' in page and "我的备注" in page  # the user's input is kept
    assert "社区居委会" in page  # and what the other person saved is shown beside it
    stored = Person.objects.get(pk=person.pk)
    assert stored.employer == "社区居委会" and stored.notes == ""


def test_dispatcher_may_not_edit(base, world):
    response = world.client("dispatcher_a").get(f"/console/people/{base.zhang_a1.pk}/edit/")
    assert response.status_code == 403
    page = text(world.client("dispatcher_a").get(f"/console/people/{base.zhang_a1.pk}/"))
    assert "/edit/" not in page


# Tags

def test_worker_adds_and_removes_a_care_tag(base, world):
    client = world.client("worker_a1")
    page = text(client.get(f"/console/people/{base.zhang_a1.pk}/"))
    offered = option_labels(page, "add-tag")
    assert "残疾人" in offered and "独居老人" not in offered  # already tagged
    assert CORRECTION not in offered
    response = client.post(f"/console/people/{base.zhang_a1.pk}/tags/",
                           {"tag": "disabled", "note": "肢体二级"}, follow=True)
    page = text(response)
    assert "已添加标签“残疾人”" in page
    assert "樊荣 于" in page and "肢体二级" in page
    added = PersonTag.objects.get(person=base.zhang_a1, tag__code="disabled")
    response = client.post(f"/console/people/{base.zhang_a1.pk}/tags/{added.pk}/remove/",
                           follow=True)
    assert "已移除标签“残疾人”" in text(response)
    added.refresh_from_db()
    assert added.removed_by == world.user("worker_a1") and added.removed_at is not None


def test_worker_cannot_add_or_remove_a_special_group_tag(base, world):
    client = world.client("worker_a1")
    response = client.post(f"/console/people/{base.zhang_a1.pk}/tags/",
                           {"tag": "community_correction"}, follow=True)
    assert "请选择有效的标签" in text(response)
    assert not PersonTag.objects.filter(person=base.zhang_a1,
                                        tag__code="community_correction").exists()
    hidden = PersonTag.objects.get(person=base.zhao_a1, tag__code="community_correction")
    response = client.post(f"/console/people/{base.zhao_a1.pk}/tags/{hidden.pk}/remove/")
    assert response.status_code == 404
    hidden.refresh_from_db()
    assert hidden.removed_at is None


def test_chief_is_offered_special_group_tags(base, world):
    page = text(world.client("chief_a1").get(f"/console/people/{base.zhang_a1.pk}/"))
    assert CORRECTION in option_labels(page, "add-tag")


# Export link

def test_export_link_only_for_users_who_may_export(base, world):
    from django.urls import NoReverseMatch, reverse

    try:
        export_url = reverse("dataio:export", args=["people"])
    except NoReverseMatch:
        pytest.skip("the export page (dataio:export) is not installed")
    assert export_url not in text(world.client("worker_a1").get("/console/people/"))
    page = text(world.client("chief_a1").get("/console/people/",
                                             {"tag": "lone_elderly", "page": "1"}))
    # The list's filters go along; the page number does not.
    assert f'href="{export_url}?tag=lone_elderly"' in page


# Query counts

def test_person_list_query_count_does_not_grow_with_people(base, world,
                                                           django_assert_max_num_queries):
    from conftest import valid_id

    care = Tag.objects.get(code="disabled")
    for i in range(60):
        person = person_create(actor=None, grid=world.grid_a1, name=f"居民{i:02d}",
                               id_type="resident_id",
                               id_number=valid_id(f"37048119700101{i:03d}"),
                               phone=f"1380000{i:04d}")
        person_tag_add(actor=None, person=person, tag=care)
    client = world.client("chief_a1")
    client.get("/console/people/")  # session and user loaded once
    with django_assert_max_num_queries(12):
        response = client.get("/console/people/", {"page": 2})
    assert len(response.context["rows"]) == 12
    with django_assert_max_num_queries(12):
        client.get(f"/console/people/{base.zhang_a1.pk}/")


# Access log

def test_access_log_page_lists_reveals_for_admins_only(base, world):
    world.client("worker_a1").post(f"/console/people/{base.zhang_a1.pk}/reveal/",
                                   {"field": "id_number", "reason": "核实身份信息"})
    world.client("chief_a1").post(f"/console/orgs/{base.shop_a1.pk}/reveal/",
                                  {"field": "contact_phone", "reason": "事件处置联系"})
    admin = world.client("admin")
    page = text(admin.get("/console/people/access-log/"))
    assert "共 2 条记录" in page
    assert "樊荣" in page and "核实身份信息" in page and "证件号码" in page
    assert f'href="/console/people/{base.zhang_a1.pk}/"' in page
    assert base.ZHANG_ID not in page
    response = admin.get("/console/people/access-log/",
                         {"user": world.user("chief_a1").pk, "action": "reveal"})
    assert [r["entry"].reason for r in response.context["rows"]] == ["事件处置联系"]
    response = admin.get("/console/people/access-log/", {"date_from": "2000-01-01",
                                                         "date_to": "2000-01-02"})
    assert response.context["rows"] == []
    for persona in ("worker_a1", "chief_a1", "leader_a"):
        assert world.client(persona).get("/console/people/access-log/").status_code == 404


def test_access_log_is_in_the_admin_navigation_only(world):
    assert "访问日志" in text(world.client("admin").get("/console/"))
    assert "访问日志" not in text(world.client("leader_a").get("/console/"))
