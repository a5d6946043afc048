"""Events appear on the profile pages (画像) of the house, person and organisation they concern."""

from gezhi.events.tests.conftest import IN_A1


def test_profile_pages_list_related_events(world, base, report):
    event = report("worker_a1", where=IN_A1, house=base.house_a1, person=base.zhang_a1,
                   organisation=base.shop_a1)
    for url in (f"/console/places/houses/{base.house_a1.pk}/",
                f"/console/people/{base.zhang_a1.pk}/",
                f"/console/orgs/{base.shop_a1.pk}/"):
        page = world.client("worker_a1").get(url)
        assert page.status_code == 200, url
        assert event.serial in page.content.decode(), url
