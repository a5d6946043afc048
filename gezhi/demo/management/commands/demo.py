"""`gezhi demo`: migrate, load the demo subdistrict, print where to go and how to log in, serve.

The password of every demo login is --password, else $GEZHI_DEMO_PASSWORD, else
data.DEFAULT_PASSWORD ("gezhi-demo-2026", stated in the README).
"""

from __future__ import annotations

import os
import time

from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandError

from gezhi.accounts.models import User
from gezhi.core.errors import GezhiError
from gezhi.core.management.commands.serve import default_workers
from gezhi.demo import data
from gezhi.demo.loader import load_demo


class Command(BaseCommand):
    help = ("演示:迁移数据库、载入演示街道、打印网址和演示账号,然后启动服务 / "
            "Demo: migrate, load the demo subdistrict, print the URL and logins, then serve")

    def add_arguments(self, parser):
        parser.add_argument("--port", type=int, default=8000, help="端口 / port (default 8000)")
        parser.add_argument("--host", default="127.0.0.1",
                            help="监听地址 / address to bind (default 127.0.0.1)")
        parser.add_argument("--no-serve", action="store_true",
                            help="只准备数据,不启动服务 / prepare and print, do not serve")
        parser.add_argument("--password", default="",
                            help="演示账号密码 / password of the demo logins (default "
                                 f"$GEZHI_DEMO_PASSWORD or {data.DEFAULT_PASSWORD})")

    def handle(self, *args, port, host, no_serve, password, **options):
        started = time.monotonic()
        if not 0 < port < 65536:
            raise CommandError("--port 应在 1 到 65535 之间 / --port must be 1–65535")
        password = password or os.environ.get("GEZHI_DEMO_PASSWORD") or data.DEFAULT_PASSWORD
        self.stdout.write("准备数据库 / migrating the database …")
        call_command("migrate", interactive=False, verbosity=0)
        self.stdout.write("收集静态文件 / collecting static files …")
        call_command("collectstatic", interactive=False, verbosity=0)
        try:
            summary = load_demo(password=password, stdout=self.stdout)
        except GezhiError as exc:
            raise CommandError(exc.message) from exc
        self._print_banner(summary, host=host, port=port, password=password,
                           seconds=time.monotonic() - started, serving=not no_serve)
        if not no_serve:
            call_command("serve", host=host, port=port, skip_collectstatic=True,
                         workers=min(default_workers(), 4))

    def _print_banner(self, summary: dict, *, host: str, port: int, password: str,
                      seconds: float, serving: bool) -> None:
        shown_host = "127.0.0.1" if host in ("0.0.0.0", "::", "") else host
        if ":" in shown_host:
            shown_host = f"[{shown_host}]"
        base = f"http://{shown_host}:{port}"
        rule = "=" * 72
        out = self.stdout
        out.write(rule)
        out.write(self.style.SUCCESS("格治 Gezhi 演示已就绪 / demo ready") + f"  ({seconds:.1f} s)")
        if not summary["created"]:
            out.write("演示数据已存在,保持不变;演示账号已恢复,密码见下。\n"
                      "Demo data was already loaded and is left as it is; the demo logins are "
                      "restored with the password below.")
        out.write(f"演示街道 Demo subdistrict: {data.DISTRICT_NAME}{data.SUBDISTRICT_NAME} — "
                  f"{summary['communities']} 个社区 communities, "
                  f"{summary['basic_grids']} 个基础网格 basic grids, "
                  f"{summary['dedicated_grids']} 个专属网格 dedicated grids, "
                  f"{summary['staff']} 名网格工作人员 grid staff")
        out.write(f"基础数据 Base data: {summary['estates']} 个小区 estates, "
                  f"{summary['houses']} 套房屋 houses, {summary['people']} 名实有人口 people, "
                  f"{summary['households']} 户 households, "
                  f"{summary['organisations']} 个组织 organisations, "
                  f"{summary['components']} 个部件 components")
        out.write("")
        out.write(f"  居民门户「我的网格员」 Residents:  {base}/")
        out.write(f"  工作人员控制台 Staff console:    {base}/console/")
        out.write(f"  接口文档 API docs:               {base}/api/v1/docs")
        out.write("")
        out.write("演示账号 Demo logins — 密码 password: " + self.style.WARNING(password))
        for username, role, scope, name in self._logins():
            where = f" · {scope}" if scope else ""
            who = f"({name})" if name != role else ""
            out.write(f"  {username:<12} {role}{where}{who}")
        out.write(rule)
        if serving:
            out.write("按 Ctrl-C 停止 / Press Ctrl-C to stop")
        else:
            out.write("启动服务 / to serve: gezhi demo   (或 or: gezhi serve --host 127.0.0.1)")

    def _logins(self):
        """(username, role, scope, name) of each demo login, as the database holds them."""
        users = (User.objects.filter(username__in=[u[0] for u in data.DEMO_USERS])
                 .prefetch_related("role_assignments__region", "role_assignments__department"))
        by_name = {user.username: user for user in users}
        for username, *_rest in data.DEMO_USERS:
            user = by_name.get(username)
            if user is None:
                continue
            for assignment in user.role_assignments.all():
                scope = assignment.region or assignment.department
                yield (username, str(assignment.get_role_display()),
                       scope.name if scope else "", user.name)
