"""A throwaway PostgreSQL cluster for benchmarks and CI, and the setup the benchmarks share.

    with temporary_cluster() as url:
        psycopg.connect(url)

initdb into a temporary directory, start the server on a unix socket in that directory (and on
no TCP address), yield a libpq URL, then stop the server and delete the directory. When run as
root, the cluster is created and run as the `postgres` user, since PostgreSQL refuses to run as
root. Binaries come from $PG_BINDIR, else /usr/lib/postgresql/15/bin, else $PATH.

    with gezhi_database(database_url=args.database_url, settings={**DURABLE, ...}) as db:
        subprocess.run([..., "-m", "gezhi", ...], env=db.env)

a migrated Gezhi database (a throwaway cluster, or the empty database at `database_url`), with
the environment for Gezhi processes that use it; `machine()` is the line each benchmark prints
about where it ran.
"""

from __future__ import annotations

import contextlib
import os
import platform
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import quote

DEFAULT_BINDIR = "/usr/lib/postgresql/15/bin"
ROOT = Path(__file__).resolve().parent.parent
# As in production: a benchmark that writes measures what a durable commit costs.
DURABLE = {"fsync": "on", "synchronous_commit": "on", "full_page_writes": "on"}


def _bindir() -> Path | None:
    for candidate in (os.environ.get("PG_BINDIR"), DEFAULT_BINDIR):
        if candidate and (Path(candidate) / "initdb").exists():
            return Path(candidate)
    found = shutil.which("initdb")
    return Path(found).parent if found else None


def _free_port() -> int:
    # The server listens only on a unix socket, but the port number names the socket file;
    # a port free on TCP avoids clashing with a local server's lock file conventions.
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _run(cmd: list[str], log: Path | None = None) -> None:
    done = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    if done.returncode != 0:
        output = done.stdout.decode(errors="replace")
        if log is not None and log.exists():
            output += log.read_text(errors="replace")
        raise RuntimeError(f"{' '.join(cmd)} 失败(退出码 {done.returncode}):\n{output}")


@contextlib.contextmanager
def temporary_cluster(*, user: str = "bench", database: str = "bench",
                      settings: dict[str, str] | None = None) -> Iterator[str]:
    """Start a throwaway cluster; yield its URL
    (postgresql://user@/database?host=socketdir&port=N)."""
    bindir = _bindir()
    if bindir is None:
        raise RuntimeError("找不到 PostgreSQL 的 initdb;请安装 postgresql-15 或设置 PG_BINDIR。")
    as_root = os.geteuid() == 0
    run_as: list[str] = ["runuser", "-u", "postgres", "--"] if as_root else []
    tmp = Path(tempfile.mkdtemp(prefix="gezhi-pg-"))
    datadir = tmp / "data"
    port = _free_port()
    if as_root:
        if subprocess.run(["id", "postgres"], capture_output=True).returncode != 0:
            _run(["useradd", "--system", "--no-create-home", "postgres"])
        shutil.chown(tmp, "postgres")
    started = False
    # A SIGTERM (CI timeout, kill) should still stop the server and delete the directory.
    previous = signal.getsignal(signal.SIGTERM)
    if previous == signal.SIG_DFL and threading.current_thread() is threading.main_thread():
        signal.signal(signal.SIGTERM, _exit_on_sigterm)
    try:
        _run([*run_as, str(bindir / "initdb"), "-D", str(datadir), "-U", user,
              "--auth=trust", "--encoding=UTF8", "--locale=C.UTF-8", "--no-sync"])
        options = {"listen_addresses": "''", "unix_socket_directories": f"'{tmp}'",
                   "port": str(port), "fsync": "off", "synchronous_commit": "off",
                   "full_page_writes": "off"}
        options.update(settings or {})
        opts = " ".join(f"-c {k}={v}" for k, v in options.items())
        _run([*run_as, str(bindir / "pg_ctl"), "-D", str(datadir), "-o", opts,
              "-l", str(tmp / "server.log"), "-w", "start"], log=tmp / "server.log")
        started = True
        _run([*run_as, str(bindir / "createdb"), "-h", str(tmp), "-p", str(port), "-U", user,
              database])
        yield f"postgresql://{user}@/{database}?host={quote(str(tmp), safe='')}&port={port}"
    finally:
        if started:
            subprocess.run([*run_as, str(bindir / "pg_ctl"), "-D", str(datadir), "-m", "immediate",
                            "-w", "stop"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        shutil.rmtree(tmp, ignore_errors=True)
        if signal.getsignal(signal.SIGTERM) is _exit_on_sigterm:
            signal.signal(signal.SIGTERM, previous)


def _exit_on_sigterm(signum, frame):
    raise SystemExit(128 + signum)


@dataclass
class Database:
    url: str
    env: dict[str, str]  # for Gezhi processes: DATABASE_URL, GEZHI_DATA_DIR, PYTHONPATH …
    data_dir: str  # GEZHI_DATA_DIR, a temporary directory
    version: str  # the server's


@contextlib.contextmanager
def gezhi_database(*, database_url: str | None = None, settings: dict[str, str] | None = None,
                   env: dict[str, str] | None = None,
                   pythonpath: tuple[Path, ...] = ()) -> Iterator[Database]:
    """A migrated Gezhi database in a throwaway cluster started with `settings` (or the empty
    database at `database_url`), and a temporary data directory; both go away on exit."""
    import psycopg

    with contextlib.ExitStack() as stack:
        data_dir = stack.enter_context(tempfile.TemporaryDirectory(prefix="gezhi-bench-"))
        url = database_url or stack.enter_context(temporary_cluster(settings=settings))
        full_env = {**os.environ, "DATABASE_URL": url, "GEZHI_DATA_DIR": data_dir,
                    "PYTHONPATH": os.pathsep.join(str(p) for p in (ROOT, *pythonpath)),
                    **(env or {})}
        subprocess.run([sys.executable, "-m", "gezhi", "migrate", "-v0"], cwd=ROOT,
                       env=full_env, check=True)
        with psycopg.connect(url) as conn:
            version = conn.execute("SHOW server_version").fetchone()[0]
        yield Database(url, full_env, data_dir, version)


def machine() -> str:
    """CPUs, memory, the load average now (other jobs on a shared machine) and Python."""
    cpu = next((line.split(":", 1)[1].strip() for line in
                Path("/proc/cpuinfo").read_text().splitlines()
                if line.startswith("model name")), platform.processor())
    mem = next((int(line.split()[1]) for line in Path("/proc/meminfo").read_text().splitlines()
                if line.startswith("MemTotal")), 0)
    load = ", ".join(f"{x:.1f}" for x in os.getloadavg())
    return (f"{os.cpu_count()} CPU ({cpu}), {mem / 1024 / 1024:.1f} GiB RAM, "
            f"load average {load}; Python {platform.python_version()}")


if __name__ == "__main__":
    import psycopg

    with temporary_cluster() as url:
        with psycopg.connect(url) as conn:
            print(url)
            print(conn.execute("select version()").fetchone()[0])
