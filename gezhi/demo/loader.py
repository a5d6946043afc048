"""Load the demo subdistrict (data.py) with the real services, idempotently.

The subdistrict 370481001 is the marker: when it exists the territory, staff and party
organisations are left exactly as they are (a visitor may have edited them in the console), and
only the demo logins are repaired — created if missing, roles re-granted, password reset to the
one given, login lockouts lifted. The base data (estates, houses, about 30,000 people,
organisations, components) comes from the synthetic city generator (citygen) and is made only
while the subdistrict holds none, so a demo loaded before there was base data gets it and a
second run adds nothing. Everything runs in one transaction, so an interrupted load leaves
nothing behind.
"""

from __future__ import annotations

import math
import random
import time
from datetime import date

from axes.models import AccessAttempt
from axes.utils import reset as axes_reset
from django.contrib.auth.hashers import check_password, make_password
from django.db import transaction
from django.db.models import Count
from django.utils.translation import gettext as _
from shapely.geometry import Point, Polygon

from gezhi.accounts.models import Department, User
from gezhi.accounts.roles import Role
from gezhi.accounts.services import role_assign
from gezhi.core.errors import ValidationFailed
from gezhi.demo import data
from gezhi.demo.citygen import estate_scope, generate_city, holds_base_data
from gezhi.demo.fieldwork import ensure_demo_fieldwork
from gezhi.demo.residents import ensure_resident_reports
from gezhi.indicators.history import ensure_demo_history
from gezhi.orgs.models import Organisation
from gezhi.party.models import PartyOrg, PartyOrgKind
from gezhi.people.models import Household, Person
from gezhi.places.models import Component, Estate, House
from gezhi.regions.geometry import EARTH_RADIUS_M, geojson_geometry
from gezhi.regions.models import GridKind, GridPost, Level, PostKind, Region, StaffMember
from gezhi.regions.services import grid_post_assign, region_create
from gezhi.regions.tiling import split_polygon


def load_demo(*, password: str, stdout=None) -> dict:
    """Create the demo subdistrict unless it exists, (re)set the demo logins; return counts."""
    if not password:
        raise ValidationFailed(_("演示账号密码不能为空。"), details={"field": "password"})
    started = time.monotonic()
    with transaction.atomic():
        subdistrict = Region.objects.filter(code=data.SUBDISTRICT_CODE).first()
        created = subdistrict is None
        if created:
            _say(stdout, _("正在生成演示街道:北辛街道(10个社区、176个网格)……"))
            subdistrict = _build_territory()
        _ensure_base_data(subdistrict, stdout=stdout)
        departments = _ensure_departments(subdistrict)
        _ensure_users(password=password, subdistrict=subdistrict, departments=departments)
        ensure_demo_history(subdistrict=subdistrict, reporters={data.SHOWCASE_GRID: "gridworker"},
                            stdout=stdout)
        ensure_demo_fieldwork(subdistrict=subdistrict, stdout=stdout)
        ensure_resident_reports(subdistrict=subdistrict)
    summary = demo_summary(subdistrict)
    summary["created"] = created
    summary["seconds"] = round(time.monotonic() - started, 2)
    return summary


def demo_summary(subdistrict: Region) -> dict:
    regions = Region.objects.filter(path__startswith=subdistrict.path)
    grids = regions.filter(level=Level.GRID)
    posts = GridPost.objects.filter(grid__path__startswith=subdistrict.path)
    staff_by_kind = dict(posts.values_list("kind").annotate(n=Count("member", distinct=True))
                         .values_list("kind", "n"))
    return {
        "communities": regions.filter(level=Level.COMMUNITY).count(),
        "basic_grids": grids.filter(grid_kind=GridKind.BASIC).count(),
        "dedicated_grids": grids.filter(grid_kind=GridKind.DEDICATED).count(),
        "staff": posts.values("member").distinct().count(),
        "staff_by_kind": {kind: staff_by_kind.get(kind, 0) for kind in PostKind.values},
        "posts": posts.count(),
        "party_orgs": PartyOrg.objects.filter(region__path__startswith=subdistrict.path).count(),
        "departments": Department.objects.filter(region=subdistrict).count(),
        "users": User.objects.filter(username__in=[u[0] for u in data.DEMO_USERS]).count(),
        **{name: model.objects.filter(grid__path__startswith=subdistrict.path).count()
           for name, model in (("estates", Estate), ("houses", House), ("people", Person),
                               ("households", Household), ("organisations", Organisation),
                               ("components", Component))},
    }


def _say(stdout, message: str) -> None:
    if stdout is not None:
        stdout.write(message)


def _outline() -> Polygon:
    """The subdistrict outline in lon/lat, from metre offsets around the centre of 滕州."""
    ky = math.radians(1) * EARTH_RADIUS_M
    kx = ky * math.cos(math.radians(data.CENTRE_LAT))
    return Polygon([(round(data.CENTRE_LON + east / kx, 7), round(data.CENTRE_LAT + north / ky, 7))
                    for east, north in data.OUTLINE_M])


def _onto_boundary(cell: Polygon, parent: Polygon) -> Polygon:
    """Put back onto the parent's edge the vertices that rounding moved a few mm off it.

    split_polygon rounds coordinates to 7 decimals; a vertex where a cell edge meets a slanted
    edge of the parent then lies up to ~5 mm off it, which along a 1 km edge is a sliver of a
    few m² of overlap with (or gap to) the cell on the other side of the parent's edge.
    """
    edge = parent.exterior
    corners = list(edge.coords)
    tolerance = 1e-6  # degrees, ~10 cm: far more than rounding moves, far less than a grid

    def fix(x: float, y: float) -> tuple[float, float]:
        for cx, cy in corners:  # the parent's own corners first, exactly
            if abs(cx - x) < tolerance and abs(cy - y) < tolerance:
                return cx, cy
        point = Point(x, y)
        if 0 < edge.distance(point) < tolerance:
            on_edge = edge.interpolate(edge.project(point))
            return on_edge.x, on_edge.y
        return x, y

    return Polygon([fix(x, y) for x, y in cell.exterior.coords])


def _region(code: str, **fields) -> Region:
    """An existing node (a deployment may already hold 滕州市) or a new one."""
    return Region.objects.filter(code=code).first() or region_create(code=code, **fields)


def _build_territory() -> Region:
    people = data.PersonFactory()
    city = _region(data.CITY_CODE, name=data.CITY_NAME, level=Level.CITY)
    district = _region(data.DISTRICT_CODE, name=data.DISTRICT_NAME, level=Level.DISTRICT,
                       parent=city)
    outline = _outline()
    subdistrict = region_create(code=data.SUBDISTRICT_CODE, name=data.SUBDISTRICT_NAME,
                                level=Level.SUBDISTRICT, parent=district,
                                description=data.SUBDISTRICT_DESCRIPTION,
                                boundary=geojson_geometry(outline))
    working_committee = PartyOrg.objects.create(
        name=data.WORKING_COMMITTEE_NAME, kind=PartyOrgKind.WORKING_COMMITTEE,
        region=subdistrict, secretary=data.WORKING_COMMITTEE_SECRETARY)
    # More relaxation than the default: communities of comparable size (规模适度).
    cells = split_polygon(outline, len(data.COMMUNITIES), seed=data.RANDOM_SEED, relax=15)
    cells = [_onto_boundary(c, outline) for c in cells]
    for index, (spec, cell) in enumerate(zip(data.COMMUNITIES, cells, strict=True)):
        _build_community(spec=spec, index=index, cell=cell, subdistrict=subdistrict,
                         working_committee=working_committee, people=people)
    return subdistrict


def _build_community(*, spec: data.Community, index: int, cell: Polygon, subdistrict: Region,
                     working_committee: PartyOrg, people: data.PersonFactory) -> None:
    code = f"{data.SUBDISTRICT_CODE}{index + 1:03d}"
    rng = random.Random(int(code))
    shown = "、".join(spec.estates[:3])
    community = region_create(
        code=code, name=spec.name, level=Level.COMMUNITY, parent=subdistrict, sort_order=index,
        boundary=geojson_geometry(cell),
        description=f"{'、'.join(spec.streets)}沿线,辖{shown}等{len(spec.estates)}个小区")
    since = date(*data.POSTS_SINCE)

    secretary = StaffMember.objects.create(
        name=spec.secretary or people.name(), title=f"{spec.name}党委书记",
        work_phone=people.mobile())
    committee = PartyOrg.objects.create(
        name=f"中共滕州市北辛街道{spec.name}委员会", kind=PartyOrgKind.COMMITTEE,
        parent=working_committee, region=community, secretary=secretary.name)
    instructors = [
        StaffMember.objects.create(
            name=people.name(), work_phone=people.mobile(),
            title=f"北辛街道{data.INSTRUCTOR_OFFICES[(index + k) % len(data.INSTRUCTOR_OFFICES)]}干部",
            # Two people did not consent to being published (公示); they still hold their posts.
            published=not (index == 3 and k == 5))
        for k in range(data.INSTRUCTORS_PER_COMMUNITY)]

    n_cells = spec.basic + len(spec.dedicated)
    cells = [_onto_boundary(c, cell)
             for c in split_polygon(cell, n_cells, seed=int(code), relax=8)]
    dedicated_cells = set(rng.sample(range(n_cells), len(spec.dedicated)))
    basic_cells = [c for i, c in enumerate(cells) if i not in dedicated_cells]
    special_cells = [c for i, c in enumerate(cells) if i in dedicated_cells]
    next_house_number = dict.fromkeys(spec.streets, 1)

    for number, grid_cell in enumerate(basic_cells, start=1):
        grid = region_create(
            code=f"{code}{number:03d}", name=f"{spec.name}第{number}网格", level=Level.GRID,
            parent=community, grid_kind=GridKind.BASIC, sort_order=number,
            description=_basic_description(spec, number, next_house_number, rng),
            boundary=geojson_geometry(grid_cell))
        instructor = instructors[(number - 1) % len(instructors)]
        worker = StaffMember.objects.create(name=people.name(), title="专职网格员",
                                            work_phone=people.mobile())
        grid_post_assign(grid=grid, kind=PostKind.CHIEF, member=secretary,
                         duties=data.DUTIES["chief"])
        grid_post_assign(grid=grid, kind=PostKind.INSTRUCTOR, member=instructor,
                         duties=data.DUTIES["instructor"], sort_order=1)
        grid_post_assign(grid=grid, kind=PostKind.FULL_TIME, member=worker,
                         duties=data.DUTIES["full_time"], sort_order=2)
        if spec.name == "文化路社区":  # the pilot community (seed 000) also has 兼职网格员
            helper = StaffMember.objects.create(
                name=people.name(), work_phone=people.mobile(),
                title="在职党员(双报到)" if number % 2 else "退休党员",
                published=number != 4)
            grid_post_assign(grid=grid, kind=PostKind.PART_TIME, member=helper,
                             duties=data.DUTIES["part_time"], sort_order=3)
        PartyOrg.objects.create(name=f"{grid.name}党支部", kind=PartyOrgKind.BRANCH,
                                parent=committee, region=grid, secretary=instructor.name)

    for k, (spec_d, grid_cell) in enumerate(zip(spec.dedicated, special_cells, strict=True)):
        title, duties = data.DEDICATED_KINDS[spec_d.kind]
        grid = region_create(
            code=f"{code}{data.DEDICATED_CODE_START + k}", name=f"{spec_d.name}专属网格",
            level=Level.GRID, parent=community, grid_kind=GridKind.DEDICATED,
            purpose=spec_d.name, sort_order=data.DEDICATED_CODE_START + k,
            description=_dedicated_description(spec_d), boundary=geojson_geometry(grid_cell))
        # Police posts at hospitals and the bus station answer on the 警务室 landline.
        phone = people.landline() if spec_d.kind in ("hospital", "station") else people.mobile()
        professional = StaffMember.objects.create(name=people.name(), title=title,
                                                  work_phone=phone)
        grid_post_assign(grid=grid, kind=PostKind.CHIEF, member=secretary,
                         duties=data.DUTIES["chief"])
        grid_post_assign(grid=grid, kind=PostKind.PROFESSIONAL, member=professional,
                         duties=duties, sort_order=1)
    GridPost.objects.filter(grid__parent=community, since__isnull=True).update(since=since)


def _basic_description(spec: data.Community, number: int, next_house_number: dict[str, int],
                       rng: random.Random) -> str:
    """覆盖范围: an estate with its building numbers, maybe a 宿舍, and a stretch of street.

    House numbers along a street run on from grid to grid, so an address is in one grid only.
    """
    estate = spec.estates[(number - 1) % len(spec.estates)]
    parts = [estate_scope(estate, rng.randint(2, 6))]
    if spec.extras and number % 4 == 2 and number // 4 < len(spec.extras):
        extra = spec.extras[number // 4]  # each 宿舍 / 家属院 in one grid only
        parts.append(estate_scope(extra, rng.randint(1, 3)))
    street = spec.streets[(number - 1) % len(spec.streets)]
    start = next_house_number[street]
    end = start + rng.randrange(20, 60)
    next_house_number[street] = end + 1
    parts.append(f"{street}{start}-{end}号沿街商户")
    return "、".join(parts)


DEDICATED_SCOPE = {
    "school": "{name}校园({address})及校门口周边道路",
    "hospital": "{name}院区({address})及门诊、住院楼周边",
    "market": "{name}({address})场内摊位及周边商户",
    "park": "{name}({address})园区内企业、厂房及仓储",
    "venue": "{name}({address})及周边广场、停车场",
    "station": "{name}({address})站区、候车厅及进出站通道",
    "commerce": "{name}({address})沿街商户及公共区域",
}


def _dedicated_description(spec: data.Dedicated) -> str:
    return DEDICATED_SCOPE[spec.kind].format(name=spec.name, address=spec.address)


def _ensure_base_data(subdistrict: Region, *, stdout=None) -> None:
    """Estates, houses, people, organisations and components of every grid, from the grids'
    覆盖范围 (estates and building numbers, the stretch of street with its shops), unless the
    subdistrict holds base data already."""
    grids = Region.objects.grids().filter(path__startswith=subdistrict.path)
    if holds_base_data(grids):
        return
    _say(stdout, _("正在生成基础数据:小区、楼栋、房屋、约%(people)s名实有人口、组织和部件……")
         % {"people": f"{data.DEMO_PEOPLE:,}"})
    counts = generate_city(grids=list(grids), people=data.DEMO_PEOPLE, seed=data.RANDOM_SEED,
                           showcase={data.SHOWCASE_GRID}, stdout=stdout)
    _name_the_resident()
    _say(stdout, _("基础数据:%(estates)s个小区、%(houses)s套房屋、%(people)s名实有人口、"
                   "%(households)s户、%(organisations)s个组织、%(components)s个部件(%(seconds)s 秒)")
         % {k: f"{v:,}" if isinstance(v, int) else v for k, v in counts.items()})


def _name_the_resident() -> None:
    """赵怀普老人 of seed 000, the demo's resident login, lives in 文化路社区第1网格."""
    elderly = (Person.objects.filter(grid__code=data.SHOWCASE_GRID, sex="male",
                                     birth_date__lt=date(1956, 1, 1),
                                     headed_households__isnull=False)
               .order_by("birth_date", "pk").first())
    if elderly is not None:
        Person.objects.filter(pk=elderly.pk).update(name=data.RESIDENT_NAME)


def _ensure_departments(subdistrict: Region) -> dict[str, Department]:
    departments = {}
    for code, name in data.DEPARTMENTS:
        department, _created = Department.objects.get_or_create(
            code=code, defaults={"name": name, "region": subdistrict})
        departments[code] = department
    _ensure_category_departments(departments)
    return departments


def _ensure_category_departments(departments: dict[str, Department]) -> None:
    from gezhi.events.models import Category

    for category in Category.objects.filter(parent__isnull=False, default_department=None) \
            .select_related("parent"):
        code = data.CATEGORY_DEPARTMENT_EXCEPTIONS.get(category.code) or \
            data.CATEGORY_DEPARTMENTS.get(category.parent.code)
        if code in departments:
            category.default_department = departments[code]
            category.save(update_fields=["default_department"])


def _password_hash(password: str) -> str:
    """One hash for all the demo logins, reused when it already matches the password.

    Argon2 takes a quarter of a second per hash on purpose; the logins share the password and
    it is printed at start, so one shared salt costs nothing, and a second run verifies once.
    """
    stored = set(User.objects.filter(username__in=[u[0] for u in data.DEMO_USERS])
                 .values_list("password", flat=True))
    if len(stored) == 1:
        current = stored.pop()
        if check_password(password, current):
            return current
    return make_password(password)


def _ensure_users(*, password: str, subdistrict: Region,
                  departments: dict[str, Department]) -> None:
    community = Region.objects.filter(code="370481001001").first()
    first_grid = Region.objects.filter(code="370481001001001").first()
    chief = worker = None
    if community is not None:
        chief = (StaffMember.objects.filter(name="刘合贵", posts__kind=PostKind.CHIEF,
                                            posts__grid__path__startswith=community.path)
                 .first())
    if first_grid is not None:
        worker = StaffMember.objects.filter(posts__kind=PostKind.FULL_TIME,
                                            posts__grid=first_grid).first()
    hashed = _password_hash(password)
    for username, display_name, role, where in data.DEMO_USERS:
        user, _created = User.objects.get_or_create(username=username)
        member = chief if username == "gridchief" else worker if username == "gridworker" else None
        user.display_name = display_name or (member.name if member else username)
        user.is_active = True
        if role == Role.ADMIN:
            user.is_staff = user.is_superuser = True
        user.password = hashed
        user.save()
        if where == "subdistrict":
            role_assign(user=user, role=role, region=subdistrict)
        elif where in departments:
            role_assign(user=user, role=role, department=departments[where])
        elif where:
            region = Region.objects.filter(code=where).first()
            if region is not None:  # a visitor may have deleted it; the login still works
                role_assign(user=user, role=role, region=region)
        else:
            role_assign(user=user, role=role)
        if member is not None and member.user_id is None and not hasattr(user, "staff_member"):
            member.user = user
            member.save(update_fields=["user"])
        # A visitor locked out by mistyping the password gets back in by running the demo again.
        if AccessAttempt.objects.filter(username=username).exists():
            axes_reset(username=username)
