"""Personas for every test (after Healthchecks' Alice/Bob/Charlie).

The world: district 370481 with subdistrict A (370481001) and subdistrict B (370481002).
A has community A1 (370481001001) with basic grids A-1 (…001) and A-2 (…002);
B has community B1 (370481002001) with grid B-1 (…001). Grids are squares that tile
their community.

Personas: `admin`; `leader_a` and `dispatcher_a` of subdistrict A; `chief_a1` of community
A1; `worker_a1` of grid A-1; `worker_b1` of grid B-1; `handler` of the 城管 department serving
subdistrict A; `resident`; and the anonymous visitor (an unauthenticated client).
"""

from dataclasses import dataclass

import pytest
from django.contrib.auth.hashers import Argon2PasswordHasher
from django.test import Client

from gezhi.accounts.models import Department, User
from gezhi.accounts.roles import Role
from gezhi.accounts.services import role_assign
from gezhi.regions.models import GridKind, Level, PostKind, Region, StaffMember
from gezhi.regions.services import grid_post_assign, region_create

PASSWORD = "Gezhi-test-2026"


class QuickArgon2PasswordHasher(Argon2PasswordHasher):
    """Argon2 with tiny costs: production hashing is deliberately slow, tests need not be."""

    time_cost = 1
    memory_cost = 64
    parallelism = 1


@pytest.fixture(autouse=True)
def _quick_password_hashing(settings):
    settings.PASSWORD_HASHERS = ["conftest.QuickArgon2PasswordHasher"]


@pytest.fixture(autouse=True)
def _calendar_loaded_once_per_test(monkeypatch):
    """The working calendar's overrides are re-read at most every 30 s in production; in tests
    they are read once per test (and on every change), so pinned query counts are exact."""
    from gezhi.events import workcal

    monkeypatch.setattr(workcal, "CACHE_SECONDS", 10**9)
    workcal.clear_cache()


def square(lon0: float, lat0: float, lon1: float, lat1: float) -> dict:
    return {"type": "Polygon",
            "coordinates": [[[lon0, lat0], [lon1, lat0], [lon1, lat1], [lon0, lat1], [lon0, lat0]]]}


@dataclass
class World:
    district: Region
    sub_a: Region
    sub_b: Region
    comm_a1: Region
    comm_b1: Region
    grid_a1: Region
    grid_a2: Region
    grid_b1: Region
    department: Department
    users: dict

    def user(self, name: str) -> User:
        return self.users[name]

    def client(self, name: str | None) -> Client:
        client = Client()
        if name is not None:
            client.force_login(self.users[name])
        return client

    def token(self, name: str) -> str:
        client = Client()
        response = client.post("/api/v1/auth/token",
                               {"username": name, "password": PASSWORD},
                               content_type="application/json")
        assert response.status_code == 200, response.content
        return response.json()["token"]

    def api(self, name: str | None) -> Client:
        """A client that speaks to the API with a bearer token (no token for anonymous)."""
        if name is None:
            return Client()
        return Client(HTTP_AUTHORIZATION=f"Bearer {self.token(name)}")


def make_user(username: str, display_name: str, role: str | None = None, **scope) -> User:
    user = User.objects.create_user(username=username, password=PASSWORD,
                                    display_name=display_name)
    if role:
        role_assign(user=user, role=role, **scope)
    return user


@pytest.fixture
def world(db) -> World:
    district = region_create(code="370481", name="滕州市", level=Level.DISTRICT,
                             boundary=square(117.00, 35.00, 117.30, 35.20))
    sub_a = region_create(code="370481001", name="北辛街道", level=Level.SUBDISTRICT,
                          parent=district, boundary=square(117.10, 35.06, 117.14, 35.10))
    sub_b = region_create(code="370481002", name="荆河街道", level=Level.SUBDISTRICT,
                          parent=district, boundary=square(117.20, 35.06, 117.24, 35.10))
    comm_a1 = region_create(code="370481001001", name="文化路社区", level=Level.COMMUNITY,
                            parent=sub_a, boundary=square(117.10, 35.06, 117.14, 35.10))
    comm_b1 = region_create(code="370481002001", name="荆河社区", level=Level.COMMUNITY,
                            parent=sub_b, boundary=square(117.20, 35.06, 117.24, 35.10))
    grid_a1 = region_create(code="370481001001001", name="文化路第一网格", level=Level.GRID,
                            parent=comm_a1, grid_kind=GridKind.BASIC,
                            description="善国盛景小区 1-12号楼",
                            boundary=square(117.10, 35.06, 117.12, 35.10))
    grid_a2 = region_create(code="370481001001002", name="文化路第二网格", level=Level.GRID,
                            parent=comm_a1, grid_kind=GridKind.BASIC,
                            description="文化路 100-200 号",
                            boundary=square(117.12, 35.06, 117.14, 35.10))
    grid_b1 = region_create(code="370481002001001", name="荆河第一网格", level=Level.GRID,
                            parent=comm_b1, grid_kind=GridKind.BASIC,
                            description="荆河花园小区",
                            boundary=square(117.20, 35.06, 117.24, 35.10))
    department = Department.objects.create(code="cg-370481001", name="北辛街道城管中队",
                                           region=sub_a)
    users = {
        "admin": make_user("admin", "系统管理员", Role.ADMIN),
        "leader_a": make_user("leader_a", "梁刚", Role.LEADER, region=sub_a),
        "dispatcher_a": make_user("dispatcher_a", "王子娥", Role.DISPATCHER, region=sub_a),
        "chief_a1": make_user("chief_a1", "刘合贵", Role.GRID_CHIEF, region=comm_a1),
        "worker_a1": make_user("worker_a1", "樊荣", Role.GRID_WORKER, region=grid_a1),
        "worker_b1": make_user("worker_b1", "孙丽", Role.GRID_WORKER, region=grid_b1),
        "handler": make_user("handler", "黄金", Role.HANDLER, department=department),
        "resident": make_user("resident", "李女士", Role.RESIDENT),
    }
    users["admin"].is_staff = True
    users["admin"].is_superuser = True
    users["admin"].save()
    for grid, member_user in ((grid_a1, users["worker_a1"]), (grid_b1, users["worker_b1"])):
        member = StaffMember.objects.create(name=member_user.display_name, title="专职网格员",
                                            work_phone="0632-5512345", user=member_user)
        grid_post_assign(grid=grid, kind=PostKind.FULL_TIME, member=member)
    chief = StaffMember.objects.create(name="刘合贵", title="文化路社区党委书记",
                                       work_phone="13806321234", user=users["chief_a1"])
    for grid in (grid_a1, grid_a2):
        grid_post_assign(grid=grid, kind=PostKind.CHIEF, member=chief)
    hidden = StaffMember.objects.create(name="未公示人员", work_phone="13900000000",
                                        published=False)
    grid_post_assign(grid=grid_a2, kind=PostKind.PART_TIME, member=hidden)
    return World(district, sub_a, sub_b, comm_a1, comm_b1, grid_a1, grid_a2, grid_b1,
                 department, users)


def valid_id(first17: str) -> str:
    from gezhi.core.validators import id_check_digit

    return first17 + id_check_digit(first17)


def valid_credit_code(first17: str) -> str:
    from gezhi.core.validators import credit_check_char

    return first17 + credit_check_char(first17)


@dataclass
class Base:
    """Base data in the world: an estate with a building in A-1, one in B-1, their people.

    zhang_a1 (lone elderly, care tag) and zhao_a1 (community correction, restricted tag) live
    in A-1; wang_b1 lives in B-1. An organisation (shop) in A-1 with a contact phone.
    """

    estate_a1: object
    building_a1: object
    house_a1: object
    house_a1_2: object
    estate_b1: object
    building_b1: object
    house_b1: object
    zhang_a1: object
    zhao_a1: object
    wang_b1: object
    shop_a1: object

    ZHANG_ID = valid_id("37048119450302002")
    ZHAO_ID = valid_id("37048119800715003")
    WANG_ID = valid_id("37048119900101004")
    ZHANG_PHONE = "13806321111"


@pytest.fixture
def base(world) -> Base:
    from gezhi.orgs.models import OrgKind
    from gezhi.orgs.services import organisation_create
    from gezhi.people.models import Tag
    from gezhi.people.services import person_create, person_tag_add, residence_move_in
    from gezhi.places.services import building_create, estate_create, house_create

    estate_a1 = estate_create(actor=None, name="善国盛景小区", lat=35.08, lon=117.11,
                              street="文化路")
    building_a1 = building_create(actor=None, name="1号楼", estate=estate_a1, lat=35.081,
                                  lon=117.111, floors=3, units=2)
    unit1 = building_a1.units.get(sort_order=1)
    house_a1 = house_create(actor=None, building=building_a1, unit=unit1, number="101",
                            area_m2="88.5")
    house_a1_2 = house_create(actor=None, building=building_a1, unit=unit1, number="201",
                              usage="rented")
    estate_b1 = estate_create(actor=None, name="荆河花园", lat=35.08, lon=117.22)
    building_b1 = building_create(actor=None, name="2号楼", estate=estate_b1, lat=35.081,
                                  lon=117.221, units=1)
    house_b1 = house_create(actor=None, building=building_b1,
                            unit=building_b1.units.first(), number="302")
    zhang = person_create(actor=None, grid=world.grid_a1, name="张桂兰", id_type="resident_id",
                          id_number=Base.ZHANG_ID, phone=Base.ZHANG_PHONE, ethnicity="01")
    zhao = person_create(actor=None, grid=world.grid_a1, name="赵强", id_type="resident_id",
                         id_number=Base.ZHAO_ID, phone="13906322222")
    wang = person_create(actor=None, grid=world.grid_b1, name="王芳", id_type="resident_id",
                         id_number=Base.WANG_ID, phone="15806323333")
    residence_move_in(actor=None, person=zhang, house=house_a1, relation="owner")
    residence_move_in(actor=None, person=zhao, house=house_a1_2, relation="tenant")
    residence_move_in(actor=None, person=wang, house=house_b1, relation="owner")
    person_tag_add(actor=None, person=zhang, tag=Tag.objects.get(code="lone_elderly"))
    person_tag_add(actor=None, person=zhao, tag=Tag.objects.get(code="community_correction"))
    shop = organisation_create(actor=None, name="善国便利店", kind=OrgKind.SHOP,
                               credit_code=valid_credit_code("92370481MA3C4K5L6"),
                               lat=35.082, lon=117.112, contact_phone="13806324444")
    return Base(estate_a1, building_a1, house_a1, house_a1_2, estate_b1, building_b1, house_b1,
                zhang, zhao, wang, shop)
