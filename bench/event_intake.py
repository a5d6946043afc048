"""How many events a second does Gezhi take in through its API, and how fast does each report
come back, beside a bare Django view that inserts one row, in the same run?

    .venv/bin/python bench/event_intake.py                            # 16 and 32 clients, 30 s
    .venv/bin/python bench/event_intake.py --clients 32 --seconds 10  # quicker

It starts a throwaway PostgreSQL cluster (bench/pgtemp.py; fsync and synchronous commit on, as
in production), migrates it, and builds a city of 32 grids with one grid worker and one API
token per client. Gunicorn serves Gezhi (gthread workers, keep-alive) with two more views
mounted beside its URLs in the same processes:

- the baseline, a bare Django view (same middleware) that parses the same JSON and inserts one
  row into the events table: no authentication, validation, grid lookup, serial number,
  timeline, indicator counts or answer document — the floor for any intake through Django
  and PostgreSQL on the machine;
- Gezhi's intake service (`event_report`) behind the thinnest view (the token and category
  looked up as the API does, the serial number as the answer), which splits the API's time
  into the intake itself and the API around it.

For each number of concurrent clients, each target is loaded for the given time by client
threads (in two processes, so that the load generator's own GIL does not set the pace), each
with its own keep-alive connection and token, reporting at random points in its grid with a
fresh client_id:

    POST /api/v1/events  {"category": "0102", "description": …, "lat": …, "lon": …,
                          "source": "patrol", "client_id": uuid}   Authorization: Bearer …

Throughput counts answered 201s over the wall time from the first request sent to the last
answer received; latency is per request, measured by the client (so it includes queueing in
the server's listen backlog). CPU per event is the user + system time of the gunicorn and
PostgreSQL process trees during the run over the events it took in: on a machine shared with
other jobs it says more than the rate does. The load average before and after each run is
printed beside it, and the share of busy PostgreSQL backends that wait for a lock (sampled
every 50 ms) with the statement most of them wait on. At the end it checks that every 201
left exactly one event (and, but for the baseline, one timeline entry) in the database.

Before the load, one Django process sends reports to each target through Django's test client
on the same database, one at a time: the SQL statements a report issues (counted with
CaptureQueriesContext, BEGIN and COMMIT included) and the CPU time of that process per report.
`--cprofile` also prints where that process spends the API's time (cProfile, by cumulative
time).

`--profile` serves the API from one process under pyinstrument (pip install pyinstrument into
the venv) and prints where the time goes.
"""

from __future__ import annotations

import argparse
import datetime
import http.client
import json
import multiprocessing
import os
import random
import signal
import statistics
import subprocess
import sys
import threading
import time
import uuid
from pathlib import Path

from pgtemp import DURABLE, gezhi_database, machine  # bench/, the script's directory

ROOT = Path(__file__).resolve().parent.parent
BENCH = ROOT / "bench"
COMMUNITIES, GRIDS = 4, 8  # 32 grids of 0.01° × 0.01° (about 0.9 km × 1.1 km) near 滕州
LON0, LAT0, STEP = 117.10, 35.05, 0.01
CATEGORY = "0102"  # 暴露垃圾
API_PATH = "/api/v1/events"
BASELINE_PATH = "/bench/baseline"
SERVICE_PATH = "/bench/service"


def grid_code(community: int, grid: int) -> str:
    return f"370481001{community + 1:03d}{grid + 1:03d}"


def grid_box(index: int) -> tuple[float, float, float, float]:
    """(lon0, lat0, lon1, lat1) of grid `index` (0 … 31)."""
    community, grid = divmod(index, GRIDS)
    lon = LON0 + community * STEP
    lat = LAT0 + grid * STEP
    return lon, lat, lon + STEP, lat + STEP


# ---------------------------------------------------------------------------------------------
# Inside gunicorn: the application, with the baseline view mounted beside Gezhi's URLs.


def app():
    """Gunicorn app factory (`event_intake:app()`): Gezhi's WSGI application, with this module
    as the URLconf so that the baseline view sits beside Gezhi's URLs in the same processes."""
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "gezhi.settings")
    from django.conf import settings
    from django.core.wsgi import get_wsgi_application

    application = get_wsgi_application()
    settings.ROOT_URLCONF = __name__
    return application


def __getattr__(name: str):
    # URLconf attribute, built on first use (Django is set up by then).
    if name == "urlpatterns":
        from django.urls import path

        from gezhi.urls import urlpatterns

        return [path(BASELINE_PATH.lstrip("/"), baseline_view),
                path(SERVICE_PATH.lstrip("/"), service_view), *urlpatterns]
    raise AttributeError(name)


_BASELINE_IDS: dict[str, int] = {}


def baseline_view(request):
    """One row into the events table from the posted JSON, nothing else: the floor any intake
    through Django and PostgreSQL pays on this machine."""
    from django.http import JsonResponse

    from gezhi.events.models import Category, Event
    from gezhi.regions.models import Region

    if request.method != "POST":
        return JsonResponse({"code": "method_not_allowed"}, status=405)
    if not _BASELINE_IDS:
        _BASELINE_IDS["category"] = Category.objects.get(code=CATEGORY).pk
        _BASELINE_IDS["grid"] = Region.objects.get(code=grid_code(0, 0)).pk
    data = json.loads(request.body)
    event = Event.objects.create(
        serial=uuid.uuid4().hex, client_id=data["client_id"], source=data["source"],
        category_id=_BASELINE_IDS["category"], description=data["description"],
        lat=data["lat"], lon=data["lon"], grid_id=_BASELINE_IDS["grid"])
    return JsonResponse({"id": event.pk, "serial": event.serial}, status=201)


def service_view(request):
    """Gezhi's intake service behind the thinnest view: the token checked and the category
    found as the API does, `event_report`, and an answer of the serial only. The gap to the
    API row is the API's own work (parsing and checking the request, the full event document
    it answers with)."""
    from django.http import JsonResponse

    from gezhi.accounts.auth import BearerAuth
    from gezhi.core.errors import NotAuthenticated
    from gezhi.events.services import Intake, event_report, intake_category

    raw = request.headers.get("Authorization", "").removeprefix("Bearer ")
    try:
        user = BearerAuth().authenticate(request, raw)
    except NotAuthenticated:
        return JsonResponse({"code": "not_authenticated"}, status=401)
    data = json.loads(request.body)
    event = event_report(actor=user, intake=Intake(
        category=intake_category(data["category"]), description=data["description"],
        lat=data["lat"], lon=data["lon"], source=data["source"],
        client_id=data["client_id"]))
    return JsonResponse({"serial": event.serial}, status=201)


# Django's CSRF middleware would refuse a cookie-less POST to a plain view; the API does its
# own CSRF check for sessions only, as bearer tokens cannot be forged cross-site.
baseline_view.csrf_exempt = True
service_view.csrf_exempt = True


# ---------------------------------------------------------------------------------------------
# Setup (a child process with Django): the city, the grid workers and their tokens.


def child_setup(clients: int) -> list[dict]:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "gezhi.settings")
    import django

    django.setup()
    from django.utils import timezone

    from gezhi.accounts.models import ApiToken, User
    from gezhi.accounts.roles import Role
    from gezhi.accounts.services import role_assign
    from gezhi.regions.models import GridKind, Level
    from gezhi.regions.services import region_create

    def square(x0, y0, x1, y1):
        return {"type": "Polygon",
                "coordinates": [[[x0, y0], [x1, y0], [x1, y1], [x0, y1], [x0, y0]]]}

    top = (LON0, LAT0, LON0 + COMMUNITIES * STEP, LAT0 + GRIDS * STEP)
    district = region_create(code="370481", name="滕州市", level=Level.DISTRICT,
                             boundary=square(*top))
    sub = region_create(code="370481001", name="北辛街道", level=Level.SUBDISTRICT,
                        parent=district, boundary=square(*top))
    grids = []
    for c in range(COMMUNITIES):
        x = LON0 + c * STEP
        community = region_create(code=f"370481001{c + 1:03d}", name=f"第{c + 1}社区",
                                  level=Level.COMMUNITY, parent=sub,
                                  boundary=square(x, LAT0, x + STEP, LAT0 + GRIDS * STEP))
        for g in range(GRIDS):
            grids.append(region_create(
                code=grid_code(c, g), name=f"第{c + 1}社区第{g + 1}网格", level=Level.GRID,
                parent=community, grid_kind=GridKind.BASIC,
                boundary=square(*grid_box(c * GRIDS + g))))
    out = []
    for i in range(clients):
        user = User.objects.create_user(username=f"worker{i:03d}", password=None,
                                        display_name=f"网格员{i}")
        index = i % len(grids)
        role_assign(user=user, role=Role.GRID_WORKER, region=grids[index])
        raw = ApiToken.new_raw()
        ApiToken.objects.create(user=user, key_hash=ApiToken.hash(raw), prefix=raw[:8],
                                expires_at=timezone.now() + datetime.timedelta(days=1))
        out.append({"token": raw, "box": grid_box(index)})
    return out


def child_count() -> dict:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "gezhi.settings")
    import django

    django.setup()
    from gezhi.events.models import Event, TimelineEntry

    return {"api": Event.objects.filter(serial__contains="-").count(),
            "baseline": Event.objects.exclude(serial__contains="-").count(),
            "timeline": TimelineEntry.objects.count(),
            "django": django.get_version()}


def child_inprocess(accounts_file: str, reports: int, profile: bool) -> dict:
    """Each target in this one process through Django's test client, one report at a time:
    {path: {"statements": [...], "cpu_ms": per report}}; with `profile`, the API under
    cProfile (printed to stderr)."""
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "gezhi.settings")
    import django

    django.setup()
    from django.conf import settings
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext

    settings.ROOT_URLCONF = __name__
    account = json.loads(Path(accounts_file).read_text())[0]
    client = Client(SERVER_NAME="127.0.0.1", HTTP_AUTHORIZATION=f"Bearer {account['token']}")
    rng = random.Random(1)
    lon0, lat0, lon1, lat1 = account["box"]

    def send(path: str) -> None:
        body = {"category": CATEGORY, "description": "楼下垃圾堆积三天无人清理",
                "lat": round(rng.uniform(lat0 + 1e-4, lat1 - 1e-4), 6),
                "lon": round(rng.uniform(lon0 + 1e-4, lon1 - 1e-4), 6),
                "source": "patrol", "client_id": str(uuid.uuid4())}
        url, extra = _split(path)
        response = client.post(url, body, content_type="application/json", headers=extra)
        if response.status_code != 201:
            raise SystemExit(f"{path}: {response.status_code} {response.content[:300]!r}")

    out = {}
    for path in (BASELINE_PATH, SERVICE_PATH, API_PATH, MINIMAL_PATH):
        for _ in range(20):  # imports, the grid index, the connection
            send(path)
        with CaptureQueriesContext(connection) as queries:
            send(path)
        statements = [q["sql"][:80] for q in queries.captured_queries]  # before the next request
        started = time.process_time()
        for _ in range(reports):
            send(path)
        cpu = time.process_time() - started
        out[path] = {"statements": statements,
                     "cpu_ms": cpu / reports * 1000, "sent": reports + 21}
    if profile:
        import cProfile
        import io
        import pstats

        profiler = cProfile.Profile()
        profiler.enable()
        for _ in range(reports):
            send(API_PATH)
        profiler.disable()
        out[API_PATH]["sent"] += reports
        text = io.StringIO()
        pstats.Stats(profiler, stream=text).sort_stats("cumulative").print_stats(45)
        print(text.getvalue(), file=sys.stderr)
    return out


def run_child(mode: str, env: dict, *extra: str):
    done = subprocess.run([sys.executable, __file__, "--child", mode, *extra], cwd=ROOT,
                          env=env, stdout=subprocess.PIPE, check=True)
    return json.loads(done.stdout.decode().strip().splitlines()[-1])


# ---------------------------------------------------------------------------------------------
# The load: client threads in a few processes, each with a keep-alive connection.


def _client(port: int, path: str, account: dict, start: float, stop: float, seed: int,
            out: list, lock: threading.Lock) -> None:
    rng = random.Random(seed)
    lon0, lat0, lon1, lat1 = account["box"]
    path, extra = _split(path)
    headers = {"Content-Type": "application/json", "Authorization": f"Bearer {account['token']}",
               **extra}
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    latencies, errors, first_error, last_end = [], 0, None, start
    while time.time() < start:
        time.sleep(0.001)
    while time.time() < stop:
        body = json.dumps({
            "category": CATEGORY, "description": "楼下垃圾堆积三天无人清理",
            "lat": round(rng.uniform(lat0 + 1e-4, lat1 - 1e-4), 6),
            "lon": round(rng.uniform(lon0 + 1e-4, lon1 - 1e-4), 6),
            "source": "patrol", "client_id": str(uuid.UUID(int=rng.getrandbits(128), version=4)),
        })
        began = time.perf_counter()
        try:
            conn.request("POST", path, body, headers)
            response = conn.getresponse()
            content = response.read()
        except (OSError, http.client.HTTPException) as exc:
            conn.close()
            errors += 1
            first_error = first_error or repr(exc)
            continue
        took = time.perf_counter() - began
        last_end = time.time()
        if response.status == 201:
            latencies.append(took)
        else:
            errors += 1
            first_error = first_error or f"{response.status} {content[:300]!r}"
    conn.close()
    with lock:
        out.append((latencies, errors, first_error, last_end))


def _load_process(port, path, accounts, start, stop, seed, queue) -> None:
    out: list = []
    lock = threading.Lock()
    threads = [threading.Thread(target=_client, args=(port, path, a, start, stop,
                                                      seed * 1000 + i, out, lock))
               for i, a in enumerate(accounts)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    queue.put(out)


def load(port: int, path: str, accounts: list[dict], seconds: float, processes: int,
         seed: int) -> dict:
    ctx = multiprocessing.get_context("fork")
    queue = ctx.Queue()
    start = time.time() + 0.5
    stop = start + seconds
    parts = [accounts[i::processes] for i in range(processes)]
    procs = [ctx.Process(target=_load_process, args=(port, path, part, start, stop,
                                                     seed + i, queue))
             for i, part in enumerate(parts) if part]
    for p in procs:
        p.start()
    results = [r for _ in procs for r in queue.get()]
    for p in procs:
        p.join()
    latencies = sorted(x for r in results for x in r[0])
    errors = sum(r[1] for r in results)
    wall = max(r[3] for r in results) - start
    q = statistics.quantiles(latencies, n=100, method="inclusive") if len(latencies) > 1 \
        else [float("nan")] * 99
    return {"ok": len(latencies), "errors": errors,
            "first_error": next((r[2] for r in results if r[2]), None),
            "wall": wall, "rate": len(latencies) / wall, "p50": q[49] * 1000,
            "p99": q[98] * 1000, "max": latencies[-1] * 1000 if latencies else float("nan")}


class LockSampler:
    """Samples pg_stat_activity every 50 ms while a run lasts: how many of the busy backends
    wait for a lock, and on which statement most often."""

    def __init__(self, url: str) -> None:
        self.url = url
        self.busy = self.waiting = 0
        self.where: dict[str, int] = {}
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def __enter__(self) -> LockSampler:
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._stop.set()
        self._thread.join()

    def _run(self) -> None:
        import psycopg

        with psycopg.connect(self.url, autocommit=True) as conn:
            while not self._stop.wait(0.05):
                for wait_type, query in conn.execute(
                        "SELECT wait_event_type, left(query, 60) FROM pg_stat_activity "
                        "WHERE backend_type = 'client backend' AND state = 'active' "
                        "AND pid <> pg_backend_pid()"):
                    self.busy += 1
                    if wait_type == "Lock":
                        self.waiting += 1
                        self.where[query] = self.where.get(query, 0) + 1

    def summary(self) -> str:
        if not self.busy:
            return "–"
        share = f"{self.waiting / self.busy:.0%}"
        if self.where:
            top = max(self.where, key=self.where.get)
            share += f" ({top.split('(')[0].strip()[:40]})"
        return share


def children(pid: int) -> list[int]:
    out = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[1]) == pid:
            out.append(int(stat.parent.name))
    return out


def tree_cpu(pid: int) -> float:
    """User + system CPU seconds of a process and its children so far, those that exited
    (and were waited for) included: backends come and go with their connections."""
    def times(p: int, reaped: bool) -> int:
        try:
            fields = Path(f"/proc/{p}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            return 0
        return sum(int(f) for f in fields[11:15 if reaped else 13])

    ticks = times(pid, True) + sum(times(c, False) for c in children(pid))
    return ticks / os.sysconf("SC_CLK_TCK")


def postmaster_pid(url: str) -> int | None:
    from urllib.parse import parse_qs, unquote, urlparse

    host = parse_qs(urlparse(url).query).get("host", [""])[0]
    pidfile = Path(unquote(host)) / "data" / "postmaster.pid"
    return int(pidfile.read_text().split()[0]) if pidfile.exists() else None


# ---------------------------------------------------------------------------------------------
# Gunicorn


def start_server(env: dict, port: int, workers: int, threads: int, log: Path,
                 worker_class: str = "gthread", profile: bool = False) -> subprocess.Popen:
    if profile:
        cmd = [sys.executable, __file__, "--child", "profile-server", "--port", str(port)]
    else:
        cmd = [sys.executable, "-m", "gunicorn", "event_intake:app()", "--chdir", str(BENCH),
               "--bind", f"127.0.0.1:{port}", "--workers", str(workers),
               "--worker-class", worker_class, "--threads", str(threads),
               "--backlog", "2048", "--keep-alive", "5", "--log-level", "warning",
               "--error-logfile", str(log)]
    server = subprocess.Popen(cmd, cwd=ROOT, env=env, stdout=subprocess.DEVNULL,
                              stderr=open(log, "ab"), start_new_session=True)
    deadline = time.time() + 60
    while time.time() < deadline:
        if server.poll() is not None:
            raise SystemExit(f"gunicorn exited:\n{log.read_text(errors='replace')[-3000:]}")
        try:
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
            conn.request("GET", "/api/v1/event-categories")
            if conn.getresponse().status in (200, 401):
                return server
        except OSError:
            time.sleep(0.2)
    raise SystemExit("gunicorn did not come up in 60 s")


def stop_server(server: subprocess.Popen) -> None:
    os.killpg(server.pid, signal.SIGTERM)
    try:
        server.wait(timeout=30)
    except subprocess.TimeoutExpired:
        os.killpg(server.pid, signal.SIGKILL)
        server.wait()


def child_profile_server(port: int) -> None:
    """One process, one thread, under pyinstrument: a plain wsgiref server (the profile is of
    the request handling, which is the same under gunicorn)."""
    from wsgiref.simple_server import WSGIRequestHandler, make_server

    from pyinstrument import Profiler

    sys.path.insert(0, str(BENCH))
    import event_intake

    application = event_intake.app()

    class Quiet(WSGIRequestHandler):
        def log_message(self, *args):
            pass

    profiler = Profiler(interval=0.0005)
    server = make_server("127.0.0.1", port, application, handler_class=Quiet)
    warmed = {"n": 0}

    def handler(signum, frame):
        profiler.stop()
        print(profiler.output_text(unicode=True, color=False, show_all=False), file=sys.stderr)
        raise SystemExit(0)

    signal.signal(signal.SIGTERM, handler)
    original = server.handle_request

    def counted():
        warmed["n"] += 1
        if warmed["n"] == 50:  # after the first requests (imports, grid index)
            profiler.start()
        original()

    while True:
        counted()


# ---------------------------------------------------------------------------------------------


def free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


# A target's path may end in "#minimal": the same API asked for a minimal answer (RFC 7240
# `Prefer: return=minimal`, as a system pushing work orders would send).
MINIMAL_PATH = API_PATH + "#minimal"
TARGETS = [("baseline: bare view, one INSERT", BASELINE_PATH), ("Gezhi API", API_PATH),
           ("Gezhi API, Prefer: return=minimal", MINIMAL_PATH),
           ("Gezhi service, serial-only answer", SERVICE_PATH)]


def _split(target: str) -> tuple[str, dict]:
    """The path to send to, and the extra headers the target asks for."""
    path, _, prefer = target.partition("#")
    return path, ({"Prefer": f"return={prefer}"} if prefer else {})


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--clients", default="16,32", help="concurrent clients, comma-separated")
    parser.add_argument("--seconds", type=float, default=30, help="per run (default 30)")
    parser.add_argument("--workers", type=int, default=3, help="gunicorn workers (default 3)")
    parser.add_argument("--threads", type=int, default=4,
                        help="threads per gunicorn worker (default 4)")
    parser.add_argument("--worker-class", default="gthread", choices=["gthread", "sync"])
    parser.add_argument("--load-processes", type=int, default=2)
    parser.add_argument("--database-url", help="an empty PostgreSQL database to use instead "
                        "of a throwaway cluster")
    parser.add_argument("--skip-baseline", action="store_true")
    parser.add_argument("--in-process", type=int, default=500, metavar="N",
                        help="reports a target in the one-process count (default 500)")
    parser.add_argument("--cprofile", action="store_true",
                        help="print where the one-process API reports spend their time")
    parser.add_argument("--profile", action="store_true",
                        help="profile the intake in one process with pyinstrument instead")
    parser.add_argument("--child", help=argparse.SUPPRESS)
    parser.add_argument("--port", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--accounts", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child == "setup":
        print(json.dumps(child_setup(int(args.clients))))
        return
    if args.child == "count":
        print(json.dumps(child_count()))
        return
    if args.child == "inprocess":
        print(json.dumps(child_inprocess(args.accounts, args.in_process, args.cprofile)))
        return
    if args.child == "profile-server":
        child_profile_server(args.port)
        return

    clients = sorted(int(c) for c in args.clients.split(","))
    began = machine()  # its load average is the other jobs': the runs add their own threads
    print(began, file=sys.stderr)
    settings = {**DURABLE, "jit": "off", "shared_buffers": "256MB", "max_connections": "200"}
    env = {"GEZHI_LOG_LEVEL": "WARNING", "GEZHI_ALLOWED_HOSTS": "127.0.0.1"}
    results = []
    with gezhi_database(database_url=args.database_url, settings=settings, env=env,
                        pythonpath=(BENCH,)) as db:
        db.env.pop("GEZHI_DEBUG", None)
        accounts = run_child("setup", db.env, "--clients", str(max(clients)))
        accounts_file = Path(db.data_dir) / "accounts.json"
        accounts_file.write_text(json.dumps(accounts))
        port = free_port()
        log = Path(db.data_dir) / "gunicorn.log"
        if args.profile:
            server = start_server(db.env, port, args.workers, args.threads, log,
                                  args.worker_class, profile=True)
            n = min(clients)
            try:
                r = load(port, API_PATH, accounts[:n], args.seconds, args.load_processes, 7)
            finally:
                stop_server(server)
            print(f"profiled run: {r['ok']} events, {r['rate']:.0f}/s, p50 "
                  f"{r['p50']:.1f} ms ({n} clients, one process)", file=sys.stderr)
            print(log.read_text(errors="replace"))
            return
        one = run_child("inprocess", db.env, "--accounts", str(accounts_file),
                        "--in-process", str(args.in_process),
                        *(["--cprofile"] if args.cprofile else []))
        sent = {path: one[path]["sent"] for _label, path in TARGETS}
        server = start_server(db.env, port, args.workers, args.threads, log, args.worker_class)
        try:
            # Warm every worker up (imports, the grid index, connections) before measuring.
            for seed, path in enumerate(sent):
                sent[path] += load(port, path, accounts, 3, args.load_processes, seed)["ok"]
            seed = 100
            postmaster = postmaster_pid(db.url)
            targets = TARGETS[1:] if args.skip_baseline else TARGETS
            for n in clients:
                for label, path in targets:
                    seed += 10
                    load_before = os.getloadavg()[0]
                    cpu = tree_cpu(server.pid), tree_cpu(postmaster) if postmaster else 0
                    with LockSampler(db.url) as locks:
                        r = load(port, path, accounts[:n], args.seconds, args.load_processes,
                                 seed)
                    r["lock_waits"] = locks.summary()
                    r["app_ms"] = (tree_cpu(server.pid) - cpu[0]) / r["ok"] * 1000
                    r["db_ms"] = ((tree_cpu(postmaster) - cpu[1]) / r["ok"] * 1000
                                  if postmaster else None)
                    r["load"] = (load_before, os.getloadavg()[0])
                    print(f"{label}, {n} clients: {r}", file=sys.stderr)
                    sent[path] += r["ok"]
                    results.append((label, path, n, r))
        finally:
            stop_server(server)
        counts = run_child("count", db.env)
        pg_version = db.version

    print(f"\nPostgreSQL {pg_version}; Django {counts['django']}")
    print(f"at the start: {began}\nat the end:   {machine()}")
    print(f"gunicorn {args.workers} workers × {args.threads} threads ({args.worker_class}); "
          f"{args.seconds:.0f} s a run; load from {args.load_processes} processes")
    reported = sent[API_PATH] + sent[MINIMAL_PATH] + sent[SERVICE_PATH]
    print(f"check: {reported:,} reports answered 201, {counts['api']:,} events and "
          f"{counts['timeline']:,} timeline entries in the database; "
          f"{sent[BASELINE_PATH]:,} baseline answers 201, {counts['baseline']:,} rows\n")
    print(f"One process, one report at a time ({args.in_process} reports a target):\n")
    print("| target | SQL statements a report | CPU ms a report |")
    print("|---|---:|---:|")
    for label, path in TARGETS:
        print(f"| {label} | {len(one[path]['statements'])} | {one[path]['cpu_ms']:.2f} |")
    print(f"\nStatements of one API report: {one[API_PATH]['statements']}\n")
    print("Under load (CPU: user + system time of the gunicorn and PostgreSQL process trees "
          "over the events taken in):\n")
    print("| target | clients | events | events/s | p50 ms | p99 ms | max ms | errors "
          "| CPU ms/event: app | PostgreSQL | total | × baseline | busy backends waiting "
          "for a lock | load average before → after |")
    print("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|---|")
    floor = {n: r["app_ms"] + (r["db_ms"] or 0) for _l, path, n, r in results
             if path == BASELINE_PATH}
    for label, _path, n, r in results:
        db = f"{r['db_ms']:.1f}" if r["db_ms"] is not None else "–"
        total = r["app_ms"] + (r["db_ms"] or 0)
        ratio = f"{total / floor[n]:.1f}" if n in floor else "–"
        print(f"| {label} | {n} | {r['ok']:,} | {r['rate']:,.0f} | {r['p50']:.1f} | "
              f"{r['p99']:.1f} | {r['max']:.0f} | {r['errors']} | {r['app_ms']:.1f} | {db} | "
              f"{total:.1f} | {ratio} | {r['lock_waits']} | "
              f"{r['load'][0]:.1f} → {r['load'][1]:.1f} |")
    for label, _path, n, r in results:
        if r["errors"]:
            print(f"\n{label}, {n} clients: {r['errors']} failed, the first: {r['first_error']}")
    if not counts["api"] == counts["timeline"] == reported or (
            counts["baseline"] != sent[BASELINE_PATH]):
        raise SystemExit("every 201 should have left exactly one event (and, but for the "
                         "baseline, one timeline entry)")


if __name__ == "__main__":
    main()
