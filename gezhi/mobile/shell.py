"""The app shell the service worker keeps on the phone: which pages and static files, and a
version that changes whenever one of those files changes (so phones fetch the new ones)."""

from __future__ import annotations

import hashlib
from functools import lru_cache

from django.contrib.staticfiles import finders
from django.contrib.staticfiles.storage import staticfiles_storage
from django.templatetags.static import static
from django.urls import reverse

# Pages kept for offline use, by URL name. Each is fetched with the worker's session when the
# service worker installs and again whenever one is missing (after a logout cleared them).
PAGES = ("mobile:tasks", "mobile:report", "mobile:diary", "mobile:patrol", "mobile:outbox",
         "mobile:grid", "mobile:houses", "mobile:offline")
ASSETS = ("mobile/mobile.css", "mobile/outbox.js", "mobile/mobile.js", "mobile/icon-192.png",
          "vendor/leaflet/leaflet.css", "vendor/leaflet/leaflet.js")


def _read(path: str) -> bytes:
    found = finders.find(path)
    if found:
        with open(found, "rb") as f:
            return f.read()
    with staticfiles_storage.open(path) as f:
        return f.read()


@lru_cache(maxsize=1)
def version() -> str:
    """A short hash of the shell's static files (read once per process)."""
    digest = hashlib.sha256()
    for path in ASSETS:
        digest.update(path.encode())
        digest.update(_read(path))
    return digest.hexdigest()[:12]


def asset_url(path: str) -> str:
    """A shell file's address with the shell version: a new version is a new address, so
    neither the browser's HTTP cache nor the service worker can serve an old copy."""
    return f"{static(path)}?v={version()}"


def worker_context() -> dict:
    return {
        "version": version(),
        "pages": [reverse(name) for name in PAGES],
        "assets": [asset_url(path) for path in ASSETS],
        "scope": reverse("mobile:tasks"),
        "offline_url": reverse("mobile:offline"),
        "login_url": reverse("accounts:login"),
        "static_url": static(""),
    }
