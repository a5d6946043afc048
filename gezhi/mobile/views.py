"""The grid worker's mobile workbench (/m/): server-rendered pages for a phone held in one hand.

Pages only read. Every record made here (event report, visit, diary entry, patrol) is saved on
the phone first (the outbox, static/mobile/outbox.js) and sent to the JSON API, so the pages
work the same with and without network. The service worker (/m/sw.js) keeps the pages and
their assets for offline use; see docs/mobile.md.
"""

from __future__ import annotations

import json
from functools import wraps

from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpResponse, JsonResponse
from django.shortcuts import render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.cache import never_cache
from django.views.decorators.csrf import ensure_csrf_cookie

from gezhi.accounts.roles import Perm
from gezhi.accounts.scope import has_perm, visible_to
from gezhi.core.errors import NotFound
from gezhi.events import selectors as event_selectors
from gezhi.events.models import Category
from gezhi.fieldwork import selectors as field
from gezhi.fieldwork.models import VisitOutcome
from gezhi.mobile import shell
from gezhi.notify.services import inbox
from gezhi.people.models import Tag
from gezhi.people.selectors import current_homes, person_list
from gezhi.places.selectors import (
    building_list,
    estate_list,
    house_get,
    house_list,
    house_residents,
    house_tags,
)
from gezhi.regions.models import Level, Region
from gezhi.regions.selectors import region_feature

# Upper bounds of what one page carries, so a city-wide account still gets a light page.
MAP_GRIDS = 200
MAP_ESTATES = 300
MAP_BUILDINGS = 1500
MAP_HOUSES = 1500
LIST_ITEMS = 8
SEARCH_ITEMS = 30
# Work queues shown on 今日任务 (the others belong to the console's dispatch work).
TASK_QUEUES = ("to_handle", "to_verify", "overdue", "supervised", "open")


def mobile_page(perm: str | None = None):
    """Workbench views: anonymous users go to the login page (and come back); users who may
    neither record field work nor report events, or lack `perm`, get a page saying so."""

    def decorate(view):
        @login_required
        @ensure_csrf_cookie  # the outbox reads the cookie when it sends
        @wraps(view)
        def wrapped(request, *args, **kwargs):
            user = request.user
            if not (has_perm(user, Perm.FIELD_RECORD) or has_perm(user, Perm.EVENT_REPORT)):
                return _denied(request, _("移动工作台供网格员和网格长使用。您的账号没有记录走访、"
                                          "民情日记或上报事件的权限。"))
            if perm is not None and not has_perm(user, perm):
                return _denied(request, PERM_MESSAGES.get(perm, _("您没有使用此功能的权限。")))
            try:
                return view(request, *args, **kwargs)
            except NotFound as exc:
                raise Http404(str(exc.message)) from exc

        return wrapped

    return decorate


PERM_MESSAGES = {
    Perm.FIELD_RECORD: gettext_lazy("您的账号没有记录走访、民情日记和巡查的权限(网格员、网格长才有)。"),
    Perm.EVENT_REPORT: gettext_lazy("您的账号没有上报事件的权限。"),
    Perm.BASE_VIEW: gettext_lazy("您的账号没有查看房屋和人员信息的权限。"),
}


# Text the page script shows, translated here (the pages are kept offline with it).
JS_TEXT = {
    "photo_n": gettext_lazy("照片 %(n)s"),
    "photo_remove": gettext_lazy("删除照片 %(n)s"),
    "photo_max": gettext_lazy("最多 %(n)s 张照片。"),
    "photo_bad": gettext_lazy("“%(name)s”不是可以识别的图片,未添加。"),
    "fix_and_save": gettext_lazy("上次上传未成功:%(message)s 请修改后重新保存。"),
    "saved_sending": gettext_lazy("已保存在手机上,正在上传……"),
    "save_failed": gettext_lazy("无法保存在手机上(存储空间不足或浏览器禁止),请重试。"),
    "sent_event": gettext_lazy("已上传,事件编号 %(serial)s。"),
    "sent": gettext_lazy("已上传。"),
    "send_failed": gettext_lazy("上传失败:%(message)s 记录保留在“待上传”中,可修改后重新上传。"),
    "saved_login": gettext_lazy("已保存。登录已过期,请重新登录后自动上传。"),
    "saved_offline": gettext_lazy("已保存到“待上传”,联网后自动上传。"),
    "no_grid": gettext_lazy("不在您负责的网格内"),
    "locating": gettext_lazy("正在定位……"),
    "located": gettext_lazy("已按手机定位(精度约 %(m)s 米),可拖动红点或点地图调整。"),
    "gps_denied": gettext_lazy("没有定位权限,请在地图上点选事件位置。"),
    "gps_failed": gettext_lazy("暂时无法定位,请在地图上点选位置。"),
    "placed": gettext_lazy("已在地图上选定位置。"),
    "placed_house": gettext_lazy("位置取自房屋所在楼栋,可拖动红点调整。"),
    "need_point": gettext_lazy("请先确定事件位置:允许定位,或在地图上点选。"),
    "outside_grids": gettext_lazy("该位置不在您可以上报的网格内,请移动红点。"),
    "house_ref": gettext_lazy("关联房屋:%(address)s"),
    "patrol_on": gettext_lazy("巡查中,开始于 %(since)s,已记录 %(n)s 个点,约 %(m)s 米。"),
    "patrol_points": gettext_lazy("巡查轨迹 %(n)s 个点"),
    "patrol_gps_denied": gettext_lazy("没有定位权限,无法记录巡查轨迹。请在浏览器设置中允许定位。"),
    "patrol_label": gettext_lazy("巡查开始 %(since)s"),
    "patrol_stop": gettext_lazy("巡查结束(开始于 %(since)s)"),
    "patrol_done": gettext_lazy("巡查已结束,共记录 %(n)s 个点。"),
    "other_user": gettext_lazy("这条记录属于账号 %(user)s,请该账号登录后上传。"),
    "failed": gettext_lazy("上传失败:%(message)s"),
    "need_login": gettext_lazy("登录已过期,请重新登录后自动上传。"),
    "pending": gettext_lazy("待上传"),
    "edit": gettext_lazy("修改"),
    "retry": gettext_lazy("重新上传"),
    "delete": gettext_lazy("删除"),
    "delete_confirm": gettext_lazy("删除后这条记录不会上传,且无法恢复。确定删除吗?"),
    "kind_event": gettext_lazy("事件上报"),
    "kind_diary": gettext_lazy("民情日记"),
    "kind_visit": gettext_lazy("入户走访"),
    "kind_patrol_start": gettext_lazy("巡查开始"),
    "kind_patrol_points": gettext_lazy("巡查轨迹"),
    "kind_patrol_stop": gettext_lazy("巡查结束"),
    "photos_n": gettext_lazy("%(n)s 张照片"),
    "search_offline": gettext_lazy("离线时无法查找。联网后再查,或打开联网时看过的住户页面。"),
}


def _page(request, template: str, context: dict, status: int = 200):
    context = {"js_text": {k: str(v) for k, v in JS_TEXT.items()}, "v": shell.version(),
               **context}
    return render(request, template, context, status=status)


def _denied(request, message: str):
    return _page(request, "mobile/denied.html", {"message": message}, status=403)


def _category_tree() -> list[dict]:
    """Active 大类 with their active 小类 (events are reported under a 小类)."""
    groups: dict[int, dict] = {}
    rows = (Category.objects.filter(active=True, parent__isnull=False, parent__active=True)
            .select_related("parent")
            .order_by("parent__sort_order", "parent__code", "sort_order", "code"))
    for c in rows:
        group = groups.setdefault(c.parent_id, {"code": c.parent.code, "name": c.parent.name,
                                                "children": []})
        group["children"].append({"code": c.code, "name": c.name})
    return list(groups.values())


def _grid_outline(viewer, perm: str) -> dict:
    grids = (visible_to(Region.objects.filter(level=Level.GRID, boundary__isnull=False),
                        viewer, perm)
             .only("code", "name", "path", "boundary").order_by("path")[:MAP_GRIDS])
    return {"type": "FeatureCollection", "features": [region_feature(g) for g in grids]}


def _point(obj) -> tuple[float | None, float | None]:
    """A house's own position, else its building's."""
    if obj.lat is not None and obj.lon is not None:
        return obj.lat, obj.lon
    building = obj.building
    return building.lat, building.lon


# --- 今日任务 ---------------------------------------------------------------------------------


@mobile_page()
def tasks(request):
    user = request.user
    counts = event_selectors.queue_counts(viewer=user)
    queues = [{"key": q.key, "label": q.label, "count": counts.get(q.key, 0)}
              for q in event_selectors.queues_for(user) if q.key in TASK_QUEUES]
    keys = {q["key"] for q in queues}

    def events(queue: str) -> list:
        if queue not in keys:
            return []
        return list(event_selectors.event_list(viewer=user, queue=queue)[:LIST_ITEMS])

    due = field.households_due(viewer=user) if has_perm(user, Perm.FIELD_RECORD) else []
    unread = inbox(user=user, unread_only=True).select_related("event").order_by(
        "-created_at", "-id")
    return _page(request, "mobile/tasks.html", {
        "tab": "tasks",
        "queues": queues,
        "to_verify": events("to_verify"),
        "to_handle": events("to_handle"),
        "due": due[:LIST_ITEMS],
        "due_count": len(due),
        "unread": list(unread[:3]),
        "unread_count": unread.count(),
        "can_record": has_perm(user, Perm.FIELD_RECORD),
        "can_report": has_perm(user, Perm.EVENT_REPORT),
    })


# --- 我的网格 ---------------------------------------------------------------------------------


@mobile_page(Perm.BASE_VIEW)
def grid_map(request):
    user = request.user
    tags = {t.pk: t for t in Tag.objects.all()}
    tagged = house_tags(viewer=user)
    houses = []
    for pk, row in list(tagged.items())[:MAP_HOUSES]:
        if row["lat"] is None or row["lon"] is None:
            continue
        houses.append({"id": pk, "lat": row["lat"], "lon": row["lon"], "address": row["address"],
                       "tags": [{"name": tags[t].name, "colour": tags[t].colour}
                                for t in sorted(row["tags"], key=lambda t: tags[t].sort_order)]})
    data = {
        "grids": _grid_outline(user, Perm.BASE_VIEW),
        "estates": [{"name": e.name, "lat": e.lat, "lon": e.lon}
                    for e in estate_list(viewer=user)[:MAP_ESTATES] if e.lat is not None],
        "buildings": [{"name": f"{b.estate.name if b.estate_id else ''}{b.name}",
                       "lat": b.lat, "lon": b.lon}
                      for b in building_list(viewer=user)[:MAP_BUILDINGS] if b.lat is not None],
        "houses": houses,
        "house_url": reverse("mobile:house", args=[0]),
    }
    legend = {t["name"]: t["colour"] for h in houses for t in h["tags"]}
    return _page(request, "mobile/grid.html", {"tab": "grid", "map_data": data,
                                                "legend": sorted(legend.items())})


# --- 住户查询 ---------------------------------------------------------------------------------


@mobile_page(Perm.BASE_VIEW)
def houses(request):
    user = request.user
    q = request.GET.get("q", "").strip()[:50]
    results: dict[int, dict] = {}
    if q:
        for house in house_list(viewer=user, q=q)[:SEARCH_ITEMS]:
            results[house.pk] = {"house": house, "people": []}
        people = list(person_list(viewer=user, q=q)[:SEARCH_ITEMS])
        homes = current_homes(persons=people)
        visible = {h.pk for h in house_list(viewer=user).filter(
            pk__in=[link.house_id for link in homes.values()])}
        for person in people:
            link = homes.get(person.pk)
            if link is None or link.house_id not in visible:
                continue
            entry = results.setdefault(link.house_id, {"house": link.house, "people": []})
            entry["people"].append(person.name)
    return _page(request, "mobile/houses.html", {"tab": "houses", "q": q,
                                                  "results": list(results.values())})


@mobile_page(Perm.BASE_VIEW)
def house(request, pk: int):
    user = request.user
    obj = house_get(viewer=user, pk=pk)
    residents = house_residents(viewer=user, house=obj)
    current = [{"person": link.person, "relation": link.get_relation_display(),
                "tags": [t.tag for t in residents["tags"].get(link.person_id, [])]}
               for link in residents["current"]]
    can_record = has_perm(user, Perm.FIELD_RECORD, path=obj.grid.path)
    visits = list(field.visits_for_house(viewer=user, house=obj)[:LIST_ITEMS]) \
        if has_perm(user, Perm.FIELD_VIEW) else []
    lat, lon = _point(obj)
    return _page(request, "mobile/house.html", {
        "tab": "houses",
        "house": obj,
        "lat": lat, "lon": lon,
        "residents": current,
        "visits": visits,
        "events": event_selectors.events_about(viewer=user, house=obj, limit=LIST_ITEMS),
        "can_record": can_record,
        "can_report": has_perm(user, Perm.EVENT_REPORT, path=obj.grid.path),
        "outcomes": VisitOutcome.choices,
    })


# --- 上报, 民情日记, 巡查, 待上传 -------------------------------------------------------------------


@mobile_page(Perm.EVENT_REPORT)
def report(request):
    outline = _grid_outline(request.user, Perm.EVENT_REPORT)
    return _page(request, "mobile/report.html", {
        "tab": "report",
        "categories": _category_tree(),
        "outline": outline,
        # Every grid the worker may report in is on the page: a point outside them all is
        # refused on the phone already.
        "outline_complete": len(outline["features"]) < MAP_GRIDS,
    })


@mobile_page(Perm.FIELD_RECORD)
def diary(request):
    recent = field.my_recent(user=request.user)
    return _page(request, "mobile/diary.html", {
        "tab": "tasks",
        "entries": list(recent["diary"][:20]),
        "categories": _category_tree() if has_perm(request.user, Perm.EVENT_REPORT) else [],
    })


@mobile_page(Perm.FIELD_RECORD)
def patrol(request):
    recent = list(field.my_recent(user=request.user)["patrols"][:10])
    return _page(request, "mobile/patrol.html", {
        "tab": "tasks",
        "patrols": recent,
        "tracks": [{"id": str(p.client_id), "track": [pt[:2] for pt in p.track]}
                   for p in recent],
        "outline": _grid_outline(request.user, Perm.FIELD_RECORD),
    })


@mobile_page()
def outbox(request):
    return _page(request, "mobile/outbox.html", {"tab": "outbox"})


@mobile_page()
def offline(request):
    """Shown by the service worker for a page that was never opened while online."""
    return _page(request, "mobile/offline.html", {"tab": ""})


# --- The installable app: manifest and service worker ----------------------------------------


def manifest(request):
    data = {
        "name": _("格治·网格员移动工作台"),
        "short_name": _("格治网格"),
        "description": _("巡查、走访、民情日记和事件上报,离线也能记录。"),
        "lang": "zh-CN",
        "start_url": reverse("mobile:tasks"),
        "scope": reverse("mobile:tasks"),
        "display": "standalone",
        "orientation": "portrait",
        "theme_color": "#c8102e",
        "background_color": "#f4f5f7",
        "icons": [
            {"src": shell.asset_url("mobile/icon-192.png"), "sizes": "192x192",
             "type": "image/png"},
            {"src": shell.asset_url("mobile/icon-512.png"), "sizes": "512x512", "type": "image/png",
             "purpose": "any maskable"},
        ],
    }
    return JsonResponse(data, content_type="application/manifest+json",
                        json_dumps_params={"ensure_ascii": False})


@never_cache
def service_worker(request):
    config = json.dumps(shell.worker_context(), ensure_ascii=False)
    body = render(request, "mobile/sw.js", {"config": config}).content
    response = HttpResponse(body, content_type="text/javascript; charset=utf-8")
    response["Service-Worker-Allowed"] = reverse("mobile:tasks")
    return response
