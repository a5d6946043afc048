"""`gezhi serve`: the production server (gunicorn, several worker processes).

Static files are served by WhiteNoise from STATIC_ROOT, so they are collected first. Behind a
reverse proxy (nginx) bind to 127.0.0.1 and let the proxy terminate TLS.
"""

from __future__ import annotations

import ipaddress
import os

from django.conf import settings
from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandError
from django.db import connections
from gunicorn.app.base import BaseApplication

LOOPBACK_NAMES = {"127.0.0.1", "localhost", "::1"}


def cpu_count() -> int:
    try:
        return len(os.sched_getaffinity(0))  # honours container CPU limits
    except AttributeError:  # not on Linux
        return os.cpu_count() or 1


def default_workers() -> int:
    return min(2 * cpu_count() + 1, 8)


def bind_address(host: str, port: int) -> str:
    try:
        if ipaddress.ip_address(host).version == 6:
            return f"[{host}]:{port}"
    except ValueError:  # a host name
        pass
    return f"{host}:{port}"


class GezhiServer(BaseApplication):
    def __init__(self, options: dict):
        self.options = options
        super().__init__()

    def load_config(self):
        for key, value in self.options.items():
            self.cfg.set(key, value)

    def load(self):
        from gezhi.wsgi import application

        return application


class Command(BaseCommand):
    help = "生产服务器(gunicorn 多进程)/ Production server (gunicorn, several worker processes)"

    def add_arguments(self, parser):
        parser.add_argument("--host", default="0.0.0.0",
                            help="监听地址 / address to bind (default 0.0.0.0)")
        parser.add_argument("--port", type=int, default=8000,
                            help="端口 / port (default 8000)")
        parser.add_argument("--workers", type=int, default=None,
                            help="工作进程数 / worker processes (default min(2 × CPU + 1, 8) = "
                                 f"{default_workers()})")
        parser.add_argument("--timeout", type=int, default=60,
                            help="请求超时秒数 / seconds before a silent worker is restarted")
        parser.add_argument("--skip-collectstatic", action="store_true",
                            help="不收集静态文件(已在部署时收集)/ static files were collected already")

    def handle(self, *args, host, port, workers, timeout, skip_collectstatic, **options):
        workers = default_workers() if workers is None else workers
        if workers < 1:
            raise CommandError("--workers 至少为 1 / --workers must be at least 1")
        if not 0 < port < 65536:
            raise CommandError("--port 应在 1 到 65535 之间 / --port must be 1–65535")
        if not skip_collectstatic:
            call_command("collectstatic", interactive=False, verbosity=0)
        if host not in LOOPBACK_NAMES and set(settings.ALLOWED_HOSTS) <= LOOPBACK_NAMES:
            self.stderr.write(self.style.WARNING(
                "注意:GEZHI_ALLOWED_HOSTS 只含本机地址,其他机器访问会得到 400。"
                "请设置 GEZHI_ALLOWED_HOSTS=你的域名或IP。\n"
                "Note: GEZHI_ALLOWED_HOSTS holds only loopback names; requests from other "
                "machines get 400. Set GEZHI_ALLOWED_HOSTS to your host name or IP."))
        # Workers are forked from this process: none may inherit its database connections.
        connections.close_all()
        GezhiServer({
            "bind": [bind_address(host, port)],
            "workers": workers,
            "timeout": timeout,
            "accesslog": "-",
            "errorlog": "-",
            "proc_name": "gezhi",
            # Load the application once in the master: a broken deployment fails at start, not
            # in every worker, and the workers share its memory.
            "preload_app": True,
            # No gunicornc control socket: it would live in $HOME and clash between instances.
            "control_socket_disable": True,
            "worker_tmp_dir": "/dev/shm" if os.path.isdir("/dev/shm") else None,
        }).run()
