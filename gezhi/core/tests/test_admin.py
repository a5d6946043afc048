"""Django admin is for code tables and accounts, and only system administrators get in."""

import pytest

ADMIN_PAGES = ["/admin/", "/admin/regions/region/", "/admin/accounts/user/",
               "/admin/accounts/department/"]


@pytest.mark.parametrize("page", ADMIN_PAGES)
def test_system_admin_opens_admin(world, page):
    response = world.client("admin").get(page)
    assert response.status_code == 200


@pytest.mark.parametrize("persona", ["leader_a", "dispatcher_a", "chief_a1", "worker_a1",
                                     "handler", "resident"])
def test_other_roles_are_kept_out_of_admin(world, persona):
    user = world.user(persona)
    user.is_staff = True  # even a staff flag set by mistake does not open it
    user.save()
    response = world.client(persona).get("/admin/regions/region/")
    assert response.status_code == 302
    assert "/admin/login/" in response["Location"]


def test_passwords_are_hashed_with_argon2(world):
    assert world.user("worker_a1").password.startswith("argon2")
