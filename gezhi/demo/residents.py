"""The demo resident's own reports (我的反映): one closed and waiting for a rating, one being
handled. Made through the event services, so their timelines, counters and indicators are
exactly what the platform records for a real report."""

from __future__ import annotations

import datetime as dt

from django.utils import timezone

from gezhi.accounts.models import Department, User
from gezhi.core import clock
from gezhi.demo import data
from gezhi.events import services
from gezhi.events.models import Category, Event
from gezhi.regions.models import Region


def ensure_resident_reports(*, subdistrict: Region) -> int:
    """Report, unless the demo resident has reports already. Returns how many were made."""
    users = {u.username: u for u in User.objects.filter(
        username__in=["resident", "dispatcher", "handler", "gridworker"])}
    grid = Region.objects.filter(code=data.SHOWCASE_GRID).first()
    department = Department.objects.filter(code=data.HANDLER_DEPARTMENT).first()
    if len(users) < 4 or grid is None or department is None or \
            Event.objects.filter(reporter=users["resident"]).exists():
        return 0
    categories = {c.code: c for c in Category.objects.filter(code__in=["1102", "0105"])}
    lat, lon = grid.centroid_lat, grid.centroid_lon
    start = timezone.localtime(clock.now()).replace(hour=9, minute=0, second=0,
                                                    microsecond=0) - dt.timedelta(days=6)

    def step(hours: float):
        return clock.frozen(start + dt.timedelta(hours=hours))

    with step(0):
        light = services.event_report(actor=users["resident"], intake=services.Intake(
            category=categories["1102"], source="resident", lat=lat + 0.0004, lon=lon,
            description="楼下小路的路灯坏了好几天,晚上出门看不清路,老人走路不方便。",
            address="文化路善国盛景小区 1 号楼北侧"))
    with step(1):
        light = services.event_accept(event=light, actor=users["dispatcher"])
    with step(1.5):
        light = services.event_dispatch(event=light, actor=users["dispatcher"],
                                        department=department)
    with step(3):
        light = services.event_claim(event=light, actor=users["handler"])
    with step(26):
        light = services.event_handle(event=light, actor=users["handler"],
                                      note="已更换灯泡并检修线路,路灯恢复照明。")
    with step(28):
        light = services.event_verify(event=light, actor=users["gridworker"],
                                      note="晚上现场查看,路灯正常。")
    with step(29):
        services.event_close(event=light, actor=users["dispatcher"])
    with step(120):
        pile = services.event_report(actor=users["resident"], intake=services.Intake(
            category=categories["0105"], source="resident", lat=lat, lon=lon + 0.0004,
            description="单元门口堆了很多装修垃圾,堵住了消防通道。",
            address="文化路善国盛景小区 2 号楼 3 单元门口"))
    with step(121):
        pile = services.event_accept(event=pile, actor=users["dispatcher"])
    with step(121.5):
        services.event_dispatch(event=pile, actor=users["dispatcher"], department=department)
    return 2
