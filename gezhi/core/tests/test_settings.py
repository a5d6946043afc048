import os
import subprocess
import sys


def _gezhi(*args: str, tmp_path, **env) -> subprocess.CompletedProcess:
    dropped = {"DATABASE_URL", "DJANGO_ALLOW_ASYNC_UNSAFE"}  # set by the browser tests
    environment = {k: v for k, v in os.environ.items() if k not in dropped}
    environment.update(GEZHI_DATA_DIR=str(tmp_path), **env)
    return subprocess.run([sys.executable, "-m", "gezhi", *args], env=environment,
                          capture_output=True, text=True, timeout=120)


def test_deploy_check_is_clean_with_production_settings(tmp_path):
    result = _gezhi("check", "--deploy", "--fail-level", "WARNING", tmp_path=tmp_path,
                    GEZHI_HTTPS="1", GEZHI_DEBUG="0")
    assert result.returncode == 0, result.stdout + result.stderr
    assert "no issues" in result.stdout


def test_data_dir_holds_generated_secret_key(tmp_path):
    result = _gezhi("check", tmp_path=tmp_path)
    assert result.returncode == 0, result.stderr
    key_file = tmp_path / "secret_key"
    assert key_file.exists() and len(key_file.read_text()) >= 50
    assert oct(key_file.stat().st_mode & 0o777) == "0o600"


def _database_options(tmp_path, **env) -> dict:
    import json

    script = ("import django, json; django.setup(); from django.conf import settings; "
              "print(json.dumps(settings.DATABASES['default'].get('OPTIONS', {})))")
    environment = {k: v for k, v in os.environ.items() if k != "DJANGO_ALLOW_ASYNC_UNSAFE"}
    environment.update(GEZHI_DATA_DIR=str(tmp_path), DJANGO_SETTINGS_MODULE="gezhi.settings",
                       **env)
    result = subprocess.run([sys.executable, "-c", script], env=environment,
                            capture_output=True, text=True, timeout=60, check=True)
    return json.loads(result.stdout)


def test_postgres_prepares_statements_and_keeps_the_urls_options(tmp_path):
    url = "postgres://gezhi@/gezhi?host=/tmp/pg-socket&sslmode=disable"
    options = _database_options(tmp_path, DATABASE_URL=url)
    assert options == {"host": "/tmp/pg-socket", "sslmode": "disable",
                       "server_side_binding": True, "prepare_threshold": 2}
    # Behind a transaction-mode pooler, no prepared statements.
    options = _database_options(tmp_path, DATABASE_URL=url, GEZHI_PG_PREPARED="0")
    assert options == {"host": "/tmp/pg-socket", "sslmode": "disable"}
