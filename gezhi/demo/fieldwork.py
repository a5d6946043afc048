"""The demo's field work: 文化路社区, the pilot community of seed 000, records its 入户走访,
民情日记 and 巡查 in the platform; the other communities have not started yet, so the coverage
page shows both.

Over the last 90 days each grid's full-time worker (and now and then the grid chief) visited
the households with care tags — most of them at about their rule's interval, some not for a
while (they are on the due list), now and then nobody was at home — and knocked on a few other
doors (敲门行动); diary entries, a quarter of which became the grid's patrol events; two
patrols of the demo grid worker with their routes. Written in bulk, as the event history is;
deterministic for a given day (a seeded random generator, times counted back from now).
"""

from __future__ import annotations

import datetime as dt
import math
import random
import uuid
from collections import defaultdict

from django.contrib.auth.hashers import make_password
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _
from shapely.geometry import Point, shape

from gezhi.accounts.models import User
from gezhi.accounts.roles import Role
from gezhi.accounts.services import role_assign
from gezhi.core import clock
from gezhi.demo import data
from gezhi.events.models import Event, Source
from gezhi.fieldwork.models import DiaryEntry, Patrol, Visit, VisitOutcome, VisitRule
from gezhi.fieldwork.services import track_length
from gezhi.people.codes import ResidenceKind
from gezhi.people.models import PersonTag, Residence
from gezhi.places.models import Estate
from gezhi.regions.models import GridKind, GridPost, PostKind, Region

PILOT_COMMUNITY = "370481001001"  # 文化路社区
DAYS = 90
DIARY_ENTRIES = 60

NEEDS = {
    "lone_elderly": [("希望有人陪同去医院复查", "联系社区卫生服务站上门随访"),
                     ("家中水龙头漏水", "已联系物业上门维修"),
                     ("想吃上热乎饭", "对接社区老年食堂送餐"),
                     ("身体状况良好,无特殊需求", ""),
                     ("冬季取暖费用有压力", "协助申请取暖补贴")],
    "empty_nest": [("子女在外地,希望常来看看", "纳入志愿者结对探访"),
                   ("需要上门理发", "联系志愿服务队"), ("老两口身体都好", "")],
    "disabled": [("咨询残疾人两项补贴", "协助准备申请材料"),
                 ("需要轮椅等辅助器具", "对接残联申请辅具"),
                 ("楼道台阶出行不便", "上报无障碍改造需求")],
    "left_behind_child": [("孩子放学后无人辅导作业", "推荐社区四点半课堂"),
                          ("祖辈监护人身体欠佳", "加强联系,每周电话问候"),
                          ("孩子情况良好", "")],
    "hardship_family": [("咨询低保续保材料", "协助整理材料并报送民政"),
                        ("孩子上学需要资助", "对接教育资助政策"),
                        ("家庭成员就业困难", "推荐社区公益岗位")],
    "veteran": [("咨询优待证办理", "协助线上申请"), ("节日慰问", "")],
    "": [("家中一切正常", ""), ("反映楼道灯不亮", "已报物业维修"),
         ("反映小区停车难", "记入民情日记,提交议事会"), ("无特殊需求", "")],
}
NOBODY_NOTES = ["敲门无人应答,已在门上留联系卡", "邻居说老人去女儿家小住", "电话未接通,改日再访"]
REFUSED_NOTES = ["住户表示近期不便,改日再访", "住户在门口简单交谈,不愿入户"]
DIARY_TEXTS = [
    "{estate}3号楼楼道堆放杂物,已提醒住户清理",
    "{street}沿街商户门前三包落实情况良好",
    "参加居民议事会,{estate}居民关注停车难问题",
    "听{estate}居民反映小区健身器材损坏,已转物业",
    "协助社区开展反诈宣传,在{estate}发放资料50余份",
    "{street}两处路灯不亮,已上报",
    "{estate}电动车楼道充电,已劝导并宣传消防安全",
    "今日走访{estate}独居老人,情况稳定",
    "{street}施工围挡破损,已联系施工方修复",
    "雨后巡查{estate}地下车库,无积水",
]
PATROL_NOTES = ["巡查{street}沿线及{estate},未发现异常", "巡查{estate},发现楼道杂物一处已督促清理"]


def ensure_demo_fieldwork(*, subdistrict: Region, stdout=None, seed: int = data.RANDOM_SEED
                          ) -> dict:
    """The pilot community's field work, unless the subdistrict has visits already.
    Returns how many visits, diary entries and patrols were made."""
    if Visit.objects.filter(grid__path__startswith=subdistrict.path).exists():
        return {}
    community = Region.objects.filter(code=PILOT_COMMUNITY,
                                       path__startswith=subdistrict.path).first()
    if community is None:  # a visitor deleted it
        return {}
    grids = list(Region.objects.grids().filter(parent=community, grid_kind=GridKind.BASIC)
                 .order_by("path"))
    if not grids:
        return {}
    if stdout is not None:
        stdout.write(_("正在生成文化路社区近 %(days)s 天的走访、民情日记和巡查……") % {"days": DAYS})
    rng = random.Random(f"gezhi-fieldwork:{seed}")
    now = clock.now()
    workers = _workers(grids)
    chief = User.objects.filter(username="gridchief").first()
    visits = _visits(rng, now, grids, workers, chief)
    diary = _diary(rng, now, grids, workers)
    patrols = _patrols(rng, now, grids[0], workers.get(grids[0].pk))
    return {"visits": visits, "diary": diary, "patrols": patrols}


def _workers(grids: list[Region]) -> dict[int, User]:
    """Each grid's full-time worker as a user (the demo grid worker's login for the first;
    accounts without a password for the others, as an administrator would make them)."""
    members = {post.grid_id: post.member for post in GridPost.objects.filter(
        kind=PostKind.FULL_TIME, grid__in=grids).select_related("member__user")}
    unusable = make_password(None)
    out = {}
    for grid in grids:
        member = members.get(grid.pk)
        if member is None:
            continue
        user = member.user
        if user is None:
            user, _created = User.objects.get_or_create(
                username=f"gw{grid.code[-6:]}",
                defaults={"display_name": member.name, "password": unusable})
            member.user = user
            member.save(update_fields=["user"])
        role_assign(user=user, role=Role.GRID_WORKER, region=grid)
        out[grid.pk] = user
    return out


def _at(rng, day: dt.date, now: dt.datetime, start_hour: float = 8.5,
        end_hour: float = 17.5) -> dt.datetime:
    minutes = rng.randint(int(start_hour * 60), int(end_hour * 60))
    moment = timezone.make_aware(dt.datetime.combine(day, dt.time()) + dt.timedelta(
        minutes=minutes))
    return min(moment, now - dt.timedelta(minutes=rng.randint(5, 90)))


def _workday(rng, day: dt.date) -> dt.date:
    """Grid workers visit on weekdays and now and then on Saturdays."""
    while day.weekday() == 6 or (day.weekday() == 5 and rng.random() < 0.6):
        day -= dt.timedelta(days=1)
    return day


def _visits(rng, now, grids, workers, chief) -> int:
    today = timezone.localdate(now)
    rules = dict(VisitRule.objects.values_list("tag__code", "interval_days"))
    homes: dict[int, list[int]] = defaultdict(list)
    grid_of: dict[int, int] = {}
    for house, person, grid in (Residence.objects.filter(
            house__grid__in=grids, kind=ResidenceKind.LIVES, moved_out__isnull=True)
            .order_by("house_id", "person_id").values_list("house_id", "person_id",
                                                           "house__grid_id")):
        homes[house].append(person)
        grid_of[house] = grid
    tags: dict[int, list[str]] = defaultdict(list)
    for person, code in (PersonTag.objects.filter(person__residences__house_id__in=list(homes),
                                                  removed_at__isnull=True)
                         .order_by("person_id", "tag__sort_order")
                         .values_list("person_id", "tag__code")):
        tags[person].append(code)
    diligence = {g.pk: rng.uniform(0.35, 0.95) for g in grids}
    diligence[grids[0].pk] = 0.8  # the demo grid worker keeps up, with a few gaps to show

    rows: list[tuple[int, dt.datetime, str, str, str, str, dt.date | None]] = []
    for house in sorted(homes):
        codes = [c for p in homes[house] for c in tags.get(p, []) if c in rules]
        topic = codes[0] if codes else ""
        if codes:
            interval = min(rules[c] for c in codes)
            if rng.random() < diligence[grid_of[house]]:
                # Kept up: the last visit within about one interval, earlier ones further apart.
                back = rng.uniform(0, interval * 1.1)
                for _k in range(3):
                    if back > DAYS:
                        break
                    rows.append(_visit_row(rng, house, today - dt.timedelta(days=back), topic))
                    back += interval * rng.uniform(1.0, 2.5)
            elif rng.random() < 0.4:
                back = rng.uniform(interval + 10, DAYS)
                rows.append(_visit_row(rng, house, today - dt.timedelta(days=back), topic))
        elif rng.random() < 0.05:  # 敲门行动: untagged households too, now and then
            rows.append(_visit_row(rng, house, today - dt.timedelta(
                days=rng.uniform(0, DAYS)), ""))
    visits = []
    for house, day, outcome, needs, follow_ups, note, next_on in rows:
        grid = grid_of[house]
        visitor = chief if chief is not None and rng.random() < 0.12 else workers.get(grid)
        if visitor is None:
            continue
        at = _at(rng, _workday(rng, day), now)
        visits.append(Visit(
            house_id=house, grid_id=grid, visitor=visitor, visited_at=at, outcome=outcome,
            needs=needs, follow_ups=follow_ups, note=note,
            next_visit_on=next_on if next_on and next_on > timezone.localdate(at) else None,
            created_at=at + dt.timedelta(minutes=rng.randint(1, 30))))
    Visit.objects.bulk_create(visits, batch_size=500)
    met = Visit.people_met.through
    links = []
    for v in visits:
        if v.outcome == VisitOutcome.MET:
            people = homes[v.house_id]
            links += [met(visit_id=v.pk, person_id=p)
                      for p in rng.sample(people, min(len(people), rng.choice([1, 1, 2])))]
    met.objects.bulk_create(links, batch_size=1000)
    return len(visits)


def _visit_row(rng, house: int, day: dt.date, topic: str):
    roll = rng.random()
    if roll < 0.08:
        return (house, day, VisitOutcome.NOBODY, "", "", rng.choice(NOBODY_NOTES),
                day + dt.timedelta(days=rng.randint(1, 3)))
    if roll < 0.11:
        return house, day, VisitOutcome.REFUSED, "", "", rng.choice(REFUSED_NOTES), None
    needs, follow_ups = rng.choice(NEEDS.get(topic) or NEEDS[""])
    plan = day + dt.timedelta(days=rng.randint(2, 5)) if follow_ups and rng.random() < 0.2 \
        else None
    return house, day, VisitOutcome.MET, needs, follow_ups, "", plan


def _places(grids) -> dict[int, tuple[list[str], list[str]]]:
    estates = defaultdict(list)
    for grid_id, name, street in Estate.objects.filter(grid__in=grids).values_list(
            "grid_id", "name", "street"):
        estates[grid_id].append((name, street or "文化路"))
    return {g.pk: ([e[0] for e in estates[g.pk]] or [g.name],
                   sorted({e[1] for e in estates[g.pk]}) or ["文化路"]) for g in grids}


def _inside(rng, polygon, tries: int = 50) -> tuple[float, float]:
    minx, miny, maxx, maxy = polygon.bounds
    for _k in range(tries):
        p = Point(rng.uniform(minx, maxx), rng.uniform(miny, maxy))
        if polygon.contains(p):
            return round(p.y, 6), round(p.x, 6)
    p = polygon.representative_point()
    return round(p.y, 6), round(p.x, 6)


def _diary(rng, now, grids, workers) -> int:
    today = timezone.localdate(now)
    places = _places(grids)
    shapes = {g.pk: shape(g.boundary) for g in grids if g.boundary}
    # A quarter of the entries are what became the grid's patrol events.
    since = now - dt.timedelta(days=DAYS)
    events = list(Event.objects.filter(grid__in=grids, source=Source.PATROL,
                                       reported_at__gte=since)
                  .filter(Q(reporter__isnull=True) | Q(reporter__in=list(workers.values())))
                  .order_by("reported_at", "pk"))
    linked = rng.sample(events, min(len(events), DIARY_ENTRIES // 4))
    entries = []
    for event in linked:
        author = workers.get(event.grid_id)
        if author is None:
            continue
        entries.append(DiaryEntry(
            author=author, grid_id=event.grid_id, date=timezone.localdate(event.reported_at),
            place=event.address[:200], lat=event.lat, lon=event.lon, text=event.description,
            event=event, created_at=event.reported_at))
    while len(entries) < DIARY_ENTRIES:
        grid = rng.choice(grids)
        author = workers.get(grid.pk)
        if author is None or grid.pk not in shapes:
            continue
        estates, streets = places[grid.pk]
        estate, street = rng.choice(estates), rng.choice(streets)
        day = _workday(rng, today - dt.timedelta(days=rng.randint(0, DAYS - 1)))
        at = _at(rng, day, now, 16.5, 20.0)
        lat, lon = _inside(rng, shapes[grid.pk])
        entries.append(DiaryEntry(
            author=author, grid=grid, date=day, place=estate, lat=lat, lon=lon,
            text=rng.choice(DIARY_TEXTS).format(estate=estate, street=street), created_at=at))
    DiaryEntry.objects.bulk_create(entries)
    return len(entries)


def _walk(rng, polygon, start: dt.datetime, minutes: int) -> list[list]:
    """A walk along the grid's streets: a point every 30 s at about 1.1 m/s, straight blocks
    of 80–220 m north–south or east–west, turning at corners and back at the grid's edge;
    a few metres of GPS noise on every point."""
    lat, lon = _inside(rng, polygon.buffer(-0.0004) if polygon.area > 2e-6 else polygon)
    kx = 111_320 * math.cos(math.radians(lat))
    headings = [(1, 0), (0, 1), (-1, 0), (0, -1)]  # north, east, south, west
    heading = rng.randrange(4)
    block = rng.uniform(80, 220)
    track = []
    for i in range(minutes * 2):
        at = (start + dt.timedelta(seconds=30 * i)).astimezone(dt.UTC)
        nlat, nlon = lat + rng.gauss(0, 3) / 111_320, lon + rng.gauss(0, 3) / kx
        if not polygon.contains(Point(nlon, nlat)):
            nlat, nlon = lat, lon
        track.append([round(nlat, 7), round(nlon, 7), at.isoformat(timespec="milliseconds")])
        step = rng.uniform(30, 38)
        for _k in range(4):
            dn, de = headings[heading]
            nlat, nlon = lat + dn * step / 111_320, lon + de * step / kx
            if block > 0 and polygon.contains(Point(nlon, nlat)):
                lat, lon, block = nlat, nlon, block - step
                break
            # A corner (or the edge): turn left or right, now and then back.
            heading = (heading + rng.choice([1, 3, 1, 3, 2])) % 4
            block = rng.uniform(80, 220)
    return track


def _patrols(rng, now, grid: Region, worker: User | None) -> int:
    if worker is None or not grid.boundary:
        return 0
    polygon = shape(grid.boundary)
    estates, streets = _places([grid])[grid.pk]
    today = timezone.localdate(now)
    patrols = []
    for days_back, hour, minutes in ((1, 9.0, 70), (3, 14.5, 65)):
        day = today - dt.timedelta(days=days_back)
        start = timezone.make_aware(dt.datetime.combine(day, dt.time()) + dt.timedelta(
            hours=hour))
        track = _walk(rng, polygon, start, minutes)
        patrols.append(Patrol(
            client_id=_uuid(rng), worker=worker, grid=grid, started_at=start,
            ended_at=start + dt.timedelta(minutes=minutes), track=track,
            distance_m=track_length(track),
            note=rng.choice(PATROL_NOTES).format(estate=estates[0], street=streets[0])))
    Patrol.objects.bulk_create(patrols)
    return len(patrols)


def _uuid(rng) -> uuid.UUID:
    return uuid.UUID(int=rng.getrandbits(128), version=4)
