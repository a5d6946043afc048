"""The newcomer's path: `gezhi demo` on an empty data directory serves pages, and Ctrl-C stops it.

Runs the real console script in a subprocess on SQLite in a temporary GEZHI_DATA_DIR (never the
database the tests use, nor a DATABASE_URL from the environment).
"""

import os
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command

NEWCOMER_BUDGET_SECONDS = 60


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def get(url: str) -> tuple[int, bytes]:
    try:
        with urllib.request.urlopen(url, timeout=5) as response:
            return response.status, response.read()
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read()


@pytest.fixture
def demo_process(tmp_path):
    port = free_port()
    env = {k: v for k, v in os.environ.items()
           if k not in ("DATABASE_URL", "GEZHI_SQLITE_PATH", "GEZHI_DEBUG")}
    env.update(GEZHI_DATA_DIR=str(tmp_path / "data"), GEZHI_DEMO_PASSWORD="from-the-env-42",
               PYTHONUNBUFFERED="1", DJANGO_SETTINGS_MODULE="gezhi.settings")
    log = tmp_path / "demo.log"
    started = time.monotonic()
    with log.open("wb") as out:
        process = subprocess.Popen([sys.executable, "-m", "gezhi", "demo", "--port", str(port)],
                                   stdout=out, stderr=subprocess.STDOUT, env=env,
                                   cwd=Path(__file__).resolve().parents[3])
    try:
        yield process, port, started, log, tmp_path / "data"
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()


def test_gezhi_demo_serves_pages_within_a_minute_and_stops_on_ctrl_c(demo_process):
    process, port, started, log, data_dir = demo_process
    base = f"http://127.0.0.1:{port}"
    status = None
    while time.monotonic() - started < NEWCOMER_BUDGET_SECONDS:
        assert process.poll() is None, log.read_text()
        try:
            status, _body = get(base + "/")
            break
        except (urllib.error.URLError, ConnectionError):
            time.sleep(0.2)
    assert status == 200, log.read_text()
    waited = time.monotonic() - started
    assert waited < NEWCOMER_BUDGET_SECONDS

    printed = log.read_text()
    assert "from-the-env-42" in printed  # GEZHI_DEMO_PASSWORD sets the password
    assert f"{base}/console/" in printed and "gridworker" in printed

    status, body = get(base + "/api/v1/openapi.json")
    assert status == 200 and b'"openapi"' in body
    # Static files come from STATIC_ROOT through WhiteNoise, not from Django's debug server.
    css = next((data_dir / "static").rglob("*.css")).relative_to(data_dir / "static")
    status, body = get(f"{base}/static/{css.as_posix()}")
    assert status == 200 and body

    process.send_signal(signal.SIGINT)
    assert process.wait(timeout=20) == 0
    assert "GET / HTTP/1.1\" 200" in log.read_text()  # the access log goes to stdout


@pytest.mark.parametrize("argv", [["serve", "--workers", "0"], ["serve", "--port", "70000"],
                                  ["demo", "--port", "0", "--no-serve"]])
def test_bad_server_options_are_refused_before_anything_starts(argv):
    with pytest.raises(CommandError, match="--"):
        call_command(*argv)
