"""Browser tests: Playwright's sync API driving Debian's Chromium against pytest-django's
live_server. Requesting `live_server` makes pytest-django run the test in a transaction it
truncates afterwards (transactional_db), so the `world` personas are visible to the server
thread; the `world` fixture itself is reused as is.

Truncating empties every table, the rows data migrations seed included (tag kinds,
component classes, event categories …), so `bworld` asks for serialized rollback: the
database as migrations left it is saved once per run and restored before each browser test.
"""

import os

import pytest

CHROMIUM = os.environ.get("GEZHI_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run"]
DESKTOP = {"width": 1280, "height": 860}
PHONE = {"width": 375, "height": 740}


@pytest.fixture(scope="module")
def chromium():
    """One Chromium per test module.

    Playwright's sync API keeps an event loop running in this thread, and Django refuses ORM
    calls from such a thread unless DJANGO_ALLOW_ASYNC_UNSAFE is set. It is set only while
    Playwright runs, so it never reaches other tests (`check --deploy` rejects it).
    """
    if not os.path.exists(CHROMIUM):
        message = f"Chromium not found at {CHROMIUM} (apt install chromium)"
        if os.environ.get("GEZHI_REQUIRE_BROWSER"):  # CI: a missing browser is a failure
            pytest.fail(message)
        pytest.skip(message)
    from django.db import connections
    from playwright.sync_api import sync_playwright

    migrated = {alias: getattr(connections[alias], "_test_serialized_contents", None)
                for alias in connections}
    before = os.environ.get("DJANGO_ALLOW_ASYNC_UNSAFE")
    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
    try:
        with sync_playwright() as playwright:
            # From here on Django's connection handler, which keeps a connection per context,
            # hands this thread fresh connection objects: give them the rows saved for
            # serialized rollback, or the next test's database starts empty.
            for alias, rows in migrated.items():
                if rows is not None:
                    connections[alias]._test_serialized_contents = rows
            browser = playwright.chromium.launch(executable_path=CHROMIUM, headless=True,
                                                 args=CHROMIUM_ARGS)
            yield browser
            browser.close()
    finally:
        if before is None:
            os.environ.pop("DJANGO_ALLOW_ASYNC_UNSAFE", None)
        else:
            os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = before


@pytest.fixture
def browse(chromium):
    """Open pages in fresh browser contexts (own cookies, viewport, geolocation)."""
    contexts = []

    def open_page(viewport=DESKTOP, **options):
        options.setdefault("locale", "zh-CN")
        context = chromium.new_context(viewport=viewport, **options)
        context.set_default_timeout(15_000)
        contexts.append(context)
        page = context.new_page()
        page.errors = []
        page.on("pageerror", lambda error: page.errors.append(str(error)))
        return page

    yield open_page
    for context in contexts:
        context.close()


@pytest.fixture
def bworld(django_db_serialized_rollback, live_server, world):
    """The personas and regions of `world`, committed so the live server sees them, over
    the seeded rows of the migrations (see above)."""
    return world
