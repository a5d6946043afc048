import pytest

from gezhi.accounts.models import AccessLog
from gezhi.core.errors import NotFound, PermissionDenied, ValidationFailed
from gezhi.core.personal import lookup
from gezhi.core.versioning import Conflict
from gezhi.people.models import Person, Tag
from gezhi.people.services import (
    person_create,
    person_tag_add,
    person_update,
    personal_reveal,
    residence_move_in,
)


def test_id_and_phone_are_stored_encrypted_and_masked(base):
    person = Person.objects.get(pk=base.zhang_a1.pk)
    assert base.ZHANG_ID not in person.id_number_ct
    assert person.id_number_mask == base.ZHANG_ID[:4] + "*" * 10 + base.ZHANG_ID[-4:]
    assert person.phone_mask == "138****1111"
    assert Person.objects.filter(**lookup("id_number", base.ZHANG_ID)).get() == person
    assert str(person.birth_date) == "1945-03-02" and person.sex == "female"


@pytest.mark.parametrize("bad, reason", [
    ("37048119450302001X", "校验位"), ("370481194503020", "18位"), ("37048120991231002X", "晚于"),
    ("37048119451302002X", "出生日期无效")])
def test_bad_id_numbers_are_refused_with_a_reason(world, bad, reason):
    with pytest.raises(ValidationFailed) as caught:
        person_create(actor=None, grid=world.grid_a1, name="测试", id_type="resident_id",
                      id_number=bad)
    assert reason in str(caught.value.message)
    assert caught.value.details == {"field": "id_number"}


def test_duplicate_id_number_is_refused(base, world):
    with pytest.raises(ValidationFailed) as caught:
        person_create(actor=None, grid=world.grid_a1, name="张桂兰", id_type="resident_id",
                      id_number=base.ZHANG_ID)
    assert caught.value.code == "duplicate_person"


def test_stale_edit_is_refused_not_lost(base, world):
    person = Person.objects.get(pk=base.zhang_a1.pk)
    started_at = person.version
    person_update(actor=world.user("worker_a1"), person=person, version=started_at,
                  employer="滕州市第一中学")
    other = Person.objects.get(pk=base.zhang_a1.pk)
    with pytest.raises(Conflict):
        person_update(actor=world.user("chief_a1"), person=other, version=started_at,
                      employer="别的单位")
    assert Person.objects.get(pk=base.zhang_a1.pk).employer == "滕州市第一中学"


def test_grid_worker_cannot_create_or_edit_in_another_grid(base, world):
    with pytest.raises(NotFound):
        person_create(actor=world.user("worker_a1"), grid=world.grid_b1, name="越权",
                      id_type="passport", id_number="E12345678")
    with pytest.raises(NotFound):
        person_update(actor=world.user("worker_a1"), person=base.wang_b1, version=None,
                      employer="x")


def test_restricted_tags_need_the_special_right(base, world):
    tag = Tag.objects.get(code="released_prisoner")
    with pytest.raises(PermissionDenied):
        person_tag_add(actor=world.user("worker_a1"), person=base.zhang_a1, tag=tag)
    assert person_tag_add(actor=world.user("chief_a1"), person=base.zhang_a1, tag=tag)


def test_reveal_needs_reason_and_right_and_is_logged(base, world):
    worker = world.user("worker_a1")
    with pytest.raises(ValidationFailed):
        personal_reveal(actor=worker, obj=base.zhang_a1, field="id_number", reason="")
    assert personal_reveal(actor=worker, obj=base.zhang_a1, field="id_number",
                           reason="核实身份") == base.ZHANG_ID
    log = AccessLog.objects.get()
    assert (log.user, log.field, log.reason, log.target_id) == (worker, "id_number", "核实身份",
                                                                base.zhang_a1.pk)
    with pytest.raises(NotFound):
        personal_reveal(actor=worker, obj=base.wang_b1, field="phone", reason="核实")
    with pytest.raises(PermissionDenied):
        personal_reveal(actor=world.user("dispatcher_a"), obj=base.zhang_a1, field="phone",
                        reason="核实")
    assert AccessLog.objects.count() == 1


def test_moving_house_keeps_history_and_moves_the_grid(base, world):
    residence_move_in(actor=None, person=base.zhang_a1, house=base.house_b1, relation="family")
    person = Person.objects.get(pk=base.zhang_a1.pk)
    assert person.grid == world.grid_b1
    links = list(person.residences.order_by("id"))
    assert [link.moved_out is None for link in links] == [False, True]
