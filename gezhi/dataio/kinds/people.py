"""Import of people (实有人口), with their house (居住关系) and tags.

A batch is validated row by row with the shared rules (people.services.clean_person, minus
its per-row "already registered" query), then matched as a whole: one query finds the people
already registered under the batch's ID numbers (blind index), one the houses, one their
current homes and tags. Re-importing a person updates them; a blank cell keeps what is stored.
"""

from __future__ import annotations

import functools
import operator
import re
from collections import namedtuple
from dataclasses import dataclass, field
from types import SimpleNamespace

from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from gezhi.accounts.roles import Perm
from gezhi.accounts.scope import scope_for
from gezhi.core.errors import ValidationFailed
from gezhi.dataio import bulk
from gezhi.dataio.kinds.base import (
    REQUIRED_NOTE,
    Column,
    Duplicates,
    Importer,
    Problem,
    RowError,
    choice_map,
    field_error,
    parse_date,
    text,
)
from gezhi.people.codes import (
    ETHNICITIES,
    IdType,
    PoliticalStatus,
    ResidenceKind,
    ResidenceRelation,
    ResidenceType,
    Sex,
)
from gezhi.people.models import Person, PersonTag, Residence, Tag
from gezhi.people.services import apply_person, clean_person
from gezhi.places.models import House

COLUMNS = [
    Column("name", "姓名", ("姓 名",), required=True, note=REQUIRED_NOTE, example="张桂兰"),
    Column("id_type", "证件类型", codes="id_type", example="居民身份证",
           note=gettext_lazy("留空为居民身份证。")),
    Column("id_number", "证件号码", ("身份证号", "身份证号码", "公民身份号码", "证件号"),
           required=True, text=True, width=22, example="370481194503020026",
           note=gettext_lazy("必填。居民身份证为18位,校验位不对会被指出。请把本列设为文本格式,"
                             "否则 Excel 会把号码存成数字、丢掉末几位。")),
    Column("sex", "性别", codes="sex", width=8, example="女",
           note=gettext_lazy("居民身份证可留空,由证件号码得出;填写时须与号码一致。")),
    Column("birth_date", "出生日期", ("出生年月",), example="1945-03-02",
           note=gettext_lazy("居民身份证可留空,由证件号码得出。格式如 1980-01-31。")),
    Column("ethnicity", "民族", codes="ethnicity", width=10, example="汉族"),
    Column("phone", "联系电话", ("手机号", "手机号码", "电话", "联系方式", "电话号码"), text=True,
           width=16, example="13806321111",
           note=gettext_lazy("11位手机号,或带区号的固定电话(0632-5512345)。")),
    Column("political_status", "政治面貌", codes="political_status", example="群众"),
    Column("residence_type", "人口类型", ("人员类型", "户籍类型"), codes="residence_type",
           example="户籍人口", note=gettext_lazy("留空为户籍人口。")),
    Column("employer", "工作单位", ("工作单位或学校", "服务处所"), width=20),
    Column("grid", "网格编码", codes="grids", text=True, width=18, example="370481001001001",
           note=gettext_lazy("有住址时可留空,按房屋所在网格。")),
    Column("address", "住址", ("房屋地址", "现住址", "居住地址"), width=30,
           note=gettext_lazy("与系统中的房屋地址完全一致;也可不填本列,改填小区、楼栋、单元、户室号。"
                             "房屋须先导入。")),
    Column("estate", "小区", ("小区名称", "院落"), width=16, example="善国盛景小区"),
    Column("building", "楼栋", ("楼号", "楼栋号"), width=10, example="1号楼"),
    Column("unit", "单元", width=8, example="1单元"),
    Column("number", "户室号", ("房号", "户室", "门牌号"), text=True, width=10, example="101"),
    Column("relation", "与房屋关系", ("居住关系",), codes="relation", example="产权人",
           note=gettext_lazy("留空为其他。搬到新房屋时,原住址的居住关系自动结束。")),
    Column("tags", "标签", ("人员标签",), codes="tags", width=20, example="独居老人",
           note=gettext_lazy("多个标签用逗号分隔。导入只添加标签,不移除已有标签。")),
    Column("notes", "备注", width=20),
]

ID_TYPES = choice_map(IdType.choices, {"身份证": IdType.RESIDENT_ID})
SEXES = choice_map(Sex.choices, {"男性": Sex.MALE, "女性": Sex.FEMALE})
ETHNICITY_CODES = {**choice_map(ETHNICITIES),
                   **{name.removesuffix("族"): code for code, name in ETHNICITIES},
                   **{str(int(code)): code for code, _name in ETHNICITIES}}
POLITICAL = choice_map(PoliticalStatus.choices, {
    "党员": PoliticalStatus.CPC_MEMBER, "中国共产党党员": PoliticalStatus.CPC_MEMBER,
    "预备党员": PoliticalStatus.CPC_PROBATIONARY, "团员": PoliticalStatus.LEAGUE_MEMBER,
    "共青团员": PoliticalStatus.LEAGUE_MEMBER})
RESIDENCE_TYPES = choice_map(ResidenceType.choices, {
    "户籍": ResidenceType.REGISTERED, "常住人口": ResidenceType.REGISTERED,
    "流动": ResidenceType.FLOATING, "境外": ResidenceType.OVERSEAS})
RELATIONS = choice_map(ResidenceRelation.choices, {
    "业主": ResidenceRelation.OWNER, "房主": ResidenceRelation.OWNER,
    "家属": ResidenceRelation.FAMILY, "租客": ResidenceRelation.TENANT,
    "承租人": ResidenceRelation.TENANT})
CHOICES = [("id_type", ID_TYPES), ("sex", SEXES), ("ethnicity", ETHNICITY_CODES),
           ("political_status", POLITICAL), ("residence_type", RESIDENCE_TYPES)]
LABELS = {"birth_date": gettext_lazy("出生日期")}
TAG_SPLIT = re.compile(r"[,,、;;\s]+")

# Person columns the import sets; "version" last (bulk.update checks it).
FIELDS = ["name", "id_type", "birth_date", "sex", "ethnicity", "political_status",
          "residence_type", "employer", "notes", "grid_id", "id_number_ct", "id_number_bidx",
          "id_number_mask", "phone_ct", "phone_bidx", "phone_mask", "id_tail", "phone_tail",
          "updated_at"]
PLAIN_FIELDS = ["name", "id_type", "birth_date", "sex", "ethnicity", "political_status",
                "residence_type", "employer", "notes"]
PLAIN = PLAIN_FIELDS
RESIDENCE_FIELDS = ["person_id", "house_id", "kind", "relation", "moved_in", "created_at",
                    "created_by_id"]
TAG_FIELDS = ["person_id", "tag_id", "note", "added_by_id", "added_at"]


# The stored columns a re-import compares with, read without building model instances.
Stored = namedtuple("Stored", ["pk", "id_number_bidx", "grid_id", "version", *PLAIN_FIELDS,
                               "phone_ct", "phone_bidx", "phone_mask", "phone_tail"])


SECRET = ["id_number_ct", "id_number_bidx", "id_number_mask", "phone_ct", "phone_bidx",
          "phone_mask", "id_tail", "phone_tail"]
_secret = operator.attrgetter(*SECRET)


@dataclass
class Pending:
    """A row that passed the rules needing no database: cleaned values, which were given,
    the encrypted forms of its ID and phone numbers (SECRET order), and what it names.
    `house_key` is ("address", text) or ("parts", estate, building, unit, number), building
    and unit in their short form (see `short_name`)."""

    row: int
    cleaned: dict
    given: set
    secret: tuple
    grid_code: str = ""
    house_key: tuple | None = None
    relation: str = ""
    tag_names: list = field(default_factory=list)
    grid: object = None
    tags: list = field(default_factory=list)

    @property
    def bidx(self) -> str:
        return self.secret[1]


def prepare(rows: list[tuple[int, dict]], context: dict) -> list:
    """Check and encrypt a batch of rows without the database, so worker processes can do it
    beside the one that writes: a Pending or a Problem per row."""
    out = []
    for number, raw in rows:
        try:
            out.append(_prepare_row(number, raw, context))
        except RowError as exc:
            out.append(Problem(number, exc.column, str(exc.message)))
    return out


def _prepare_row(number: int, raw: dict, context: dict) -> Pending:
    id_raw = raw.get("id_number")
    if isinstance(id_raw, float):
        raise RowError("id_number", _("证件号码被 Excel 存成了数字,末几位已丢失:请把本列设为文本格式后重新填写。"))
    id_number = text(id_raw)
    if "*" in id_number:
        raise RowError("id_number", _("证件号码是脱敏后的号码(含 *),无法导入,请填写完整号码。"))
    fields = {"name": text(raw.get("name")), "id_number": id_number, "id_type": ""}
    given = set()
    for key, mapping in CHOICES:
        value = raw.get(key)
        if value is not None:
            value = text(value)
            if value:
                # An unknown spelling goes to clean_person as is, which says it is invalid.
                fields[key] = mapping.get(value, value)
                given.add(key)
    for key in ("phone", "employer", "notes"):
        value = raw.get(key)
        if value is not None:
            value = text(value)
            if value:
                fields[key] = value
                given.add(key)
    if "birth_date" in raw:
        birth = parse_date(raw["birth_date"], "birth_date", LABELS["birth_date"],
                           date1904=context["date1904"])
        if birth is not None:
            fields["birth_date"] = birth
            given.add("birth_date")
    try:
        cleaned = clean_person(**fields, check_duplicate=False, today=context["today"])
    except ValidationFailed as exc:
        raise field_error(exc, "id_number") from None
    if len(cleaned["notes"]) > 2000:
        raise RowError("notes", _("备注过长(最多 2000 字)。"))
    secret = _secret(apply_person(SimpleNamespace(), cleaned))
    # Only the encrypted forms leave the worker: the plaintext numbers are not needed again.
    del cleaned["id_number"], cleaned["phone"]
    pending = Pending(number, cleaned, given, secret, grid_code=text(raw.get("grid")))
    address = text(raw.get("address"))
    if address:
        pending.house_key = ("address", address)
    elif "building" in raw or "number" in raw or "estate" in raw or "unit" in raw:
        building, house_number = text(raw.get("building")), text(raw.get("number"))
        if not building or not house_number:
            missing = "building" if not building else "number"
            raise RowError(missing, _("填写住址时,楼栋和户室号都要填写。"))
        pending.house_key = ("parts", text(raw.get("estate")), short_name(building, "号楼"),
                             short_name(text(raw.get("unit")), "单元"), house_number)
    relation = text(raw.get("relation"))
    if relation:
        if relation not in RELATIONS:
            raise RowError("relation", _("与房屋关系的取值无效:%(value)s") % {"value": relation})
        if pending.house_key is None:
            raise RowError("relation", _("填写了与房屋关系,但没有填写住址。"))
    pending.relation = RELATIONS.get(relation, ResidenceRelation.OTHER)
    if "tags" in raw:
        pending.tag_names = [n for n in TAG_SPLIT.split(text(raw["tags"])) if n]
    return pending


@functools.lru_cache(maxsize=4096)
def short_name(value: str | None, suffix: str) -> str:
    """"1" and "1单元" name the same unit, "3" and "3号楼" the same building: both "1", "3"."""
    if value and value.endswith(suffix) and value[:-len(suffix)].isdigit():
        return value[:-len(suffix)]
    return value or ""


def _spellings(value: str, suffix: str) -> tuple[str, ...]:
    """The names a short name may be stored under."""
    return (value, value + suffix) if value.isdigit() else (value,)


class PeopleImport(Importer):
    kind = "people"
    label = gettext_lazy("实有人口")
    columns = COLUMNS
    ignored_headers = ("序号", "所属网格")

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self.duplicates = Duplicates()
        self.special = scope_for(self.actor, Perm.SPECIAL_VIEW) if self.actor else None
        self.tag_names = {}
        for tag in Tag.objects.all():
            self.tag_names[tag.name] = tag
            self.tag_names[tag.code] = tag
        self.actor_id = self.actor.pk if self.actor is not None else None
        self.by_estate = False  # how this batch's houses are keyed (see _houses)

    prepare = staticmethod(prepare)

    def _resolve(self, p: Pending) -> None:
        """The grid and tags a row names (cached lookups)."""
        if p.grid_code:
            p.grid = self.grids.resolve(p.grid_code, "grid")
        for name in p.tag_names:
            tag = self.tag_names.get(name)
            if tag is None:
                raise RowError("tags", _("未知的标签:%(name)s") % {"name": name[:20]})
            p.tags.append(tag)

    # Phase 2: the batch against the database.

    def _houses(self, pendings: list[Pending]) -> tuple[dict, dict]:
        """The houses the batch names, as (pk, grid id, estate, short unit name) tuples: by
        address, and by (estate, short building name, number), the estate "" unless every
        row of the batch names one."""
        addresses = {p.house_key[1] for p in pendings
                     if p.house_key and p.house_key[0] == "address"}
        parts = [p.house_key for p in pendings if p.house_key and p.house_key[0] == "parts"]
        by_address: dict[str, list[tuple]] = {}
        by_parts: dict[tuple[str, str], list[tuple]] = {}
        columns = ("pk", "grid_id", "building__estate__name", "unit__name", "building__name",
                   "number", "address")
        if addresses:
            for pk, grid_id, estate, unit, _b, _n, address in (
                    House.objects.filter(address__in=addresses).values_list(*columns)):
                by_address.setdefault(address, []).append((pk, grid_id, estate, unit))
        if parts:
            qs = House.objects.filter(
                number__in={key[4] for key in parts},
                building__name__in={v for b in {key[2] for key in parts}
                                    for v in _spellings(b, "号楼")})
            self.by_estate = all(key[1] for key in parts)
            if self.by_estate:
                qs = qs.filter(building__estate__name__in={key[1] for key in parts})
            for pk, grid_id, estate, unit, building, number, _a in qs.values_list(*columns):
                key = (estate if self.by_estate else "", short_name(building, "号楼"), number)
                by_parts.setdefault(key, []).append((pk, grid_id, estate,
                                                     short_name(unit, "单元")))
        return by_address, by_parts

    def _house(self, pending: Pending, by_address: dict, by_parts: dict) -> tuple | None:
        """(house pk, grid) of the row's house; RowError if none or several match."""
        key = pending.house_key
        if key is None:
            return None
        if key[0] == "address":
            found, column = by_address.get(key[1], []), "address"
        else:
            _kind, estate, building, unit, number = key
            found = by_parts.get((estate if self.by_estate else "", building, number), ())
            if estate or unit:
                found = [h for h in found
                         if (not estate or h[2] == estate) and (not unit or h[3] == unit)]
            column = "number"
        if pending.grid is not None and len(found) > 1:
            found = [h for h in found if h[1] == pending.grid.pk]
        if not found:
            raise RowError(column, _("找不到该住址的房屋,请核对,或先导入房屋。"))
        if len(found) > 1:
            raise RowError(column, _("该住址对应多处房屋,请填写小区、单元或网格编码以区分。"))
        house_pk, grid_id = found[0][0], found[0][1]
        if pending.grid is not None and pending.grid.pk != grid_id:
            raise RowError("grid", _("网格编码与房屋所在网格不一致。"))
        grid = self.grids.by_id(grid_id)
        self.grids.check(grid, column)
        return house_pk, grid

    def process(self, rows: list, *, write: bool) -> None:
        self.write(self.match(rows, write=write))

    def match(self, rows: list, *, write: bool, fetched=None) -> Writes | None:
        """Check a prepared batch against the stored people and houses, report its bad rows,
        and say what to write (None: nothing). `fetched` is called once the batch's queries
        are done: the previous batch's writes may run from then on, beside the rest of this
        (nothing read here depends on them: a person is in a file once, or is a duplicate).
        """
        report = self.report
        pendings: list[Pending] = []
        for item in rows:
            if isinstance(item, Problem):
                self.problem(item.row, item.column, item.message)
                continue
            try:
                self._resolve(item)
            except RowError as exc:
                self.problem(item.row, exc.column, exc.message)
                continue
            pendings.append(item)
        # The blind index is a keyed hash already: its first 64 bits serve as the key.
        repeats = self.duplicates.check([(p.row, int(p.bidx[:16], 16)) for p in pendings])
        if repeats:
            for p in pendings:
                if p.row in repeats:
                    self.problem(p.row, "id_number", _("与第 %(row)d 行的证件号码重复。")
                                 % {"row": repeats[p.row]})
            pendings = [p for p in pendings if p.row not in repeats]
        if not pendings:
            return None

        existing: dict[str, list[Stored]] = {}
        for values in bulk.select_in(Person, ["id", *Stored._fields[1:]], "id_number_bidx",
                                     {p.bidx for p in pendings}):
            person = Stored._make(values)
            existing.setdefault(person.id_number_bidx, []).append(person)
        by_address, by_parts = self._houses(pendings)
        known = [existing[p.bidx][0].pk for p in pendings if p.bidx in existing]
        homes: dict[int, list[tuple[int, int]]] = {}
        active: set[tuple[int, int]] = set()
        if known:
            for rid, pid, hid in bulk.select_in(Residence, ["id", "person_id", "house_id"],
                                                "person_id", known, kind=ResidenceKind.LIVES,
                                                moved_out=None):
                homes.setdefault(pid, []).append((rid, hid))
            active = set(bulk.select_in(PersonTag, ["person_id", "tag_id"], "person_id", known,
                                        removed_at=None))
        # The grids of the houses and people found, so that checking makes no query.
        self.grids.load({h[1] for found in (*by_address.values(), *by_parts.values())
                         for h in found} | {m.grid_id for ms in existing.values() for m in ms})
        if fetched is not None:
            fetched()

        now = timezone.now()
        plan = Writes(now)
        creates, new_links, new_tags = plan.creates, plan.new_links, plan.new_tags
        for p in pendings:
            try:
                action = self._decide(p, existing.get(p.bidx, ()), by_address, by_parts,
                                      active, now, write=write)
            except RowError as exc:
                self.problem(p.row, exc.column, exc.message)
                continue
            kind, changed, values, person, house, added_tags = action
            if kind == "create":
                if house is not None:
                    new_links.append((len(creates), house, p.relation))
                if added_tags:
                    new_tags += [(len(creates), tag.pk) for tag in added_tags]
                creates.append(values)
                report.created += 1
                continue
            if changed and write:
                plan.updates.append((person.pk, *values, person.version + 1))
            if house is not None and all(hid != house for _rid, hid in homes.get(person.pk, [])):
                plan.ended += [rid for rid, _hid in homes.get(person.pk, [])]
                plan.links.append((person.pk, house, ResidenceKind.LIVES, p.relation,
                                   self.today, now, self.actor_id))
                changed = True
            for tag in added_tags:
                plan.tag_rows.append((person.pk, tag.pk, "", self.actor_id, now))
                changed = True
            if changed:
                report.updated += 1
            else:
                report.unchanged += 1
        return plan if write else None

    def write(self, plan: Writes | None) -> None:
        if plan is None:
            return
        now, actor_id, today = plan.now, self.actor_id, self.today
        ids = bulk.insert(Person, [*FIELDS, "created_at", "version"], plan.creates)
        bulk.update(Person, [*FIELDS, "version"], plan.updates, versioned=True)
        if plan.ended:
            Residence.objects.filter(pk__in=plan.ended).update(moved_out=today)
        bulk.insert(Residence, RESIDENCE_FIELDS, plan.links + [
            (ids[i], house, ResidenceKind.LIVES, relation, today, now, actor_id)
            for i, house, relation in plan.new_links])
        bulk.insert(PersonTag, TAG_FIELDS, plan.tag_rows + [
            (ids[i], tag, "", actor_id, now) for i, tag in plan.new_tags])

    def _decide(self, p: Pending, matches, by_address, by_parts, active, now, *, write: bool):
        """What to do with one valid row: ("create" | "update", whether the person changes,
        the column values to write (None when not writing), the stored person, the house,
        tags to add).
        Raises RowError for a rule that involves stored data."""
        if len(matches) > 1:
            raise RowError("id_number", _("系统中已有多人登记了该证件号码,请先在系统中核对。"))
        person = matches[0] if matches else None
        if person is not None and not self.grids.allowed(self.grids.by_id(person.grid_id)):
            raise RowError("id_number", _("该证件号码已在您管辖范围以外的网格登记,无法在此更新。"))
        found = self._house(p, by_address, by_parts) if p.house_key is not None else None
        house = found[0] if found else None
        if found is not None:
            grid, grid_column = found[1], "address" if p.house_key[0] == "address" else "number"
        elif p.grid is not None:
            grid, grid_column = p.grid, "grid"
        elif person is not None:
            grid, grid_column = self.grids.by_id(person.grid_id), "grid"
        elif self.default_grid is not None:
            grid, grid_column = self.default_grid, "grid"
        else:
            raise RowError("grid", _("请填写网格编码或住址。"))
        if found is None:  # a house's grid was checked with the house
            self.grids.check(grid, grid_column)
        for tag in p.tags:
            if tag.restricted and self.special is not None and not self.special.covers_path(
                    grid.path):
                raise RowError("tags", _("您无权设置特殊人群标签:%(name)s") % {"name": tag.name})
        cleaned = p.cleaned
        if person is None:
            values = self._row(cleaned, p.secret, grid.pk, now) + [now, 1] if write else None
            return ("create", True, values, None, house, p.tags)
        added = [t for t in p.tags if (person.pk, t.pk) not in active]
        kept = ["ethnicity", "political_status", "residence_type", "employer", "notes"]
        if cleaned["id_type"] != IdType.RESIDENT_ID:  # otherwise both follow from the number
            kept += ["birth_date", "sex"]
        for key in kept:  # a blank cell keeps the stored value
            if key not in p.given:
                cleaned[key] = getattr(person, key)
        secret = p.secret
        if "phone" not in p.given:  # a blank phone cell keeps the stored number
            secret = (*secret[:3], person.phone_ct, person.phone_bidx, person.phone_mask,
                      secret[6], person.phone_tail)
        if (all(cleaned[key] == getattr(person, key) for key in PLAIN)
                and grid.pk == person.grid_id and secret[4] == person.phone_bidx):
            return ("update", False, None, person, house, added)
        values = self._row(cleaned, secret, grid.pk, now) if write else None
        return ("update", True, values, person, house, added)

    @staticmethod
    def _row(cleaned: dict, secret: tuple, grid_id: int, now) -> list:
        """The FIELDS values of a person."""
        return [cleaned["name"], cleaned["id_type"], cleaned["birth_date"], cleaned["sex"],
                cleaned["ethnicity"], cleaned["political_status"], cleaned["residence_type"],
                cleaned["employer"], cleaned["notes"], grid_id, *secret, now]


@dataclass
class Writes:
    """What one batch writes: new people (FIELDS values, created_at, version), their
    residence links and tags by index into `creates`; updates, ended residence links, new
    links and tags of stored people."""

    now: object
    creates: list = field(default_factory=list)
    new_links: list = field(default_factory=list)  # (index in creates, house, relation)
    new_tags: list = field(default_factory=list)  # (index in creates, tag)
    updates: list = field(default_factory=list)
    ended: list = field(default_factory=list)
    links: list = field(default_factory=list)
    tag_rows: list = field(default_factory=list)
