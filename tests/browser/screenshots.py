"""Take the README screenshots from a fresh demo: on a phone the public page, the resident's
随手拍 and 我的反映, the grid worker's workbench (/m/) and its report flow; on a desktop the
console's situation map.

    .venv/bin/python tests/browser/screenshots.py [OUTPUT_DIR]    # default docs/screenshots

Loads the demo into a temporary data directory, serves it on a free local port, drives
Debian's Chromium (GEZHI_CHROMIUM to use another) and writes PNG files.
"""

import os
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

from playwright.sync_api import sync_playwright

ROOT = Path(__file__).resolve().parents[2]
GEZHI = str(Path(sys.executable).with_name("gezhi"))
CHROMIUM = os.environ.get("GEZHI_CHROMIUM", "/usr/bin/chromium")
ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
        "--disable-component-update", "--disable-sync", "--no-first-run"]
PASSWORD = "gezhi-screenshots"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_for(url: str, seconds: float = 30) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            urllib.request.urlopen(url, timeout=2)
            return
        except OSError:
            time.sleep(0.3)
    raise SystemExit(f"server did not answer at {url}")


def grid_centre(env: dict, code_suffix: str = "001001") -> tuple[float, float]:
    """Centroid (lat, lon) of the first grid of the first community of the demo."""
    script = ("import django; django.setup();"
              "from gezhi.regions.models import Region;"
              f"g = Region.objects.grids().filter(code__endswith='{code_suffix}').order_by('path')"
              ".first(); print(g.centroid_lat, g.centroid_lon)")
    out = subprocess.run([sys.executable, "-c", script], env=env, check=True,
                         capture_output=True, text=True).stdout.split()
    return float(out[0]), float(out[1])


PHONE_SHOTS = ("resident-report.png", "resident-my.png", "mobile-tasks.png", "mobile-report.png")


def phone_context(browser, lat: float, lon: float):
    return browser.new_context(
        viewport={"width": 375, "height": 740}, device_scale_factor=2, is_mobile=True,
        has_touch=True, locale="zh-CN", geolocation={"latitude": lat, "longitude": lon},
        permissions=["geolocation"])


def log_in(page, base: str, username: str, next_url: str) -> None:
    page.goto(f"{base}/accounts/login/?next={next_url}")
    page.fill("#id_username", username)
    page.fill("#id_password", PASSWORD)
    page.click("main form button[type=submit]")
    page.wait_for_url(base + next_url)


def phone_shots(browser, base: str, lat: float, lon: float, out_dir: Path) -> None:
    """The resident's report form and reports, then the grid worker's workbench and report."""
    context = phone_context(browser, lat, lon)
    page = context.new_page()
    log_in(page, base, "resident", "/my/")
    page.goto(base + "/report/")
    page.wait_for_timeout(1200)  # the map and the position
    page.screenshot(path=str(out_dir / "resident-report.png"))
    page.goto(base + "/my/")
    page.screenshot(path=str(out_dir / "resident-my.png"))
    context.close()

    context = phone_context(browser, lat, lon)
    page = context.new_page()
    log_in(page, base, "gridworker", "/m/")
    page.wait_for_timeout(800)
    page.screenshot(path=str(out_dir / "mobile-tasks.png"))
    page.goto(base + "/m/report/")
    page.wait_for_timeout(1500)  # the position, the grid found on the phone
    page.screenshot(path=str(out_dir / "mobile-report.png"))
    context.close()


def main() -> None:
    out_dir = Path(sys.argv[1] if len(sys.argv) > 1 else ROOT / "docs" / "screenshots")
    out_dir.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as data_dir:
        env = {**os.environ, "GEZHI_DATA_DIR": data_dir, "GEZHI_DEMO_PASSWORD": PASSWORD,
               "DJANGO_SETTINGS_MODULE": "gezhi.settings", "GEZHI_DEBUG": "1"}
        env.pop("DATABASE_URL", None)
        subprocess.run([GEZHI, "demo", "--no-serve"], env=env, check=True, cwd=ROOT,
                       stdout=subprocess.DEVNULL)
        lat, lon = grid_centre(env)
        port = free_port()
        base = f"http://127.0.0.1:{port}"
        server = subprocess.Popen([GEZHI, "runserver", f"127.0.0.1:{port}", "--noreload"],
                                  env=env, cwd=ROOT, stdout=subprocess.DEVNULL,
                                  stderr=subprocess.DEVNULL)
        try:
            wait_for(base + "/")
            with sync_playwright() as p:
                browser = p.chromium.launch(executable_path=CHROMIUM, headless=True, args=ARGS)
                phone = browser.new_context(
                    viewport={"width": 375, "height": 740}, device_scale_factor=2,
                    is_mobile=True, has_touch=True, locale="zh-CN",
                    geolocation={"latitude": lat, "longitude": lon}, permissions=["geolocation"])
                page = phone.new_page()
                page.goto(base + "/")
                page.click("#use-location")
                page.locator("#lookup-result .staff-card").first.wait_for()
                page.wait_for_timeout(800)  # let the map finish zooming to the grid
                page.screenshot(path=str(out_dir / "portal-phone.png"), full_page=True)
                phone_shots(browser, base, lat, lon, out_dir)

                desktop = browser.new_context(viewport={"width": 1440, "height": 900},
                                              locale="zh-CN")
                page = desktop.new_page()
                page.goto(base + "/accounts/login/")
                page.fill("#id_username", "leader")
                page.fill("#id_password", PASSWORD)
                page.click("main form button[type=submit]")
                page.wait_for_url(base + "/console/")
                page.goto(base + "/console/map/")
                paths = page.locator("#situation-map .leaflet-overlay-pane path")
                paths.first.wait_for()
                paths.nth(40).click()
                page.locator(".leaflet-popup-content").wait_for()
                page.wait_for_timeout(300)
                page.screenshot(path=str(out_dir / "console-map.png"))
                browser.close()
        finally:
            server.terminate()
            server.wait(timeout=10)
    for name in ("portal-phone.png", *PHONE_SHOTS, "console-map.png"):
        print(out_dir / name)


if __name__ == "__main__":
    main()
