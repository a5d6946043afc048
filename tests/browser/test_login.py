import pytest

from conftest import PASSWORD

pytestmark = pytest.mark.browser


def test_wrong_password_then_right_password(bworld, live_server, browse):
    page = browse()
    page.goto(f"{live_server.url}/console/")
    page.wait_for_url(f"{live_server.url}/accounts/login/?next=/console/")
    page.fill("#id_username", "worker_a1")
    page.fill("#id_password", "not-the-password")
    page.click("main form button[type=submit]")
    error = page.locator("#login-error")
    error.wait_for()
    assert "用户名或密码错误" in error.inner_text()
    # The username stays filled in; only the password is typed again.
    assert page.input_value("#id_username") == "worker_a1"

    page.fill("#id_password", PASSWORD)
    page.click("main form button[type=submit]")
    page.wait_for_url(f"{live_server.url}/console/")
    assert "樊荣" in page.inner_text(".topbar__user")
    assert page.locator("h1").inner_text() == "概览"

    page.click("text=退出登录")
    page.wait_for_url(f"{live_server.url}/accounts/login/")
    assert page.errors == []
