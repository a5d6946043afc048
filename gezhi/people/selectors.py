"""People reads. Lists go through `visible_to`; restricted (special-group) tags are shown and
filterable only where the viewer holds Perm.SPECIAL_VIEW."""

from __future__ import annotations

import re
from collections import defaultdict

from django.db.models import F, Prefetch, Q, QuerySet

from gezhi.accounts.roles import Perm
from gezhi.accounts.scope import scope_for, visible_to
from gezhi.core.errors import NotFound
from gezhi.core.personal import lookup
from gezhi.people.codes import ResidenceKind, Sensitivity
from gezhi.people.models import Household, Person, PersonTag, Residence, Tag
from gezhi.regions.models import Region

_ID_RE = re.compile(r"\d{17}[\dXx]")
_PHONE_RE = re.compile(r"1[3-9]\d{9}")
_TAIL_RE = re.compile(r"[\dXx]{4}")


def tags_for(*, viewer, path: str | None = None) -> QuerySet[Tag]:
    """Tag kinds the viewer may see (over `path`, or anywhere in their scope)."""
    special = scope_for(viewer, Perm.SPECIAL_VIEW)
    allowed = special.covers_path(path) if path is not None else not special.empty
    qs = Tag.objects.all()
    return qs if allowed else qs.exclude(sensitivity=Sensitivity.RESTRICTED)


def person_search_q(q: str) -> Q:
    """Name, a whole ID or phone number (blind index), an ID/phone tail, or an address."""
    q = q.strip()
    if _ID_RE.fullmatch(q):
        return Q(**lookup("id_number", q.upper()))
    if _PHONE_RE.fullmatch(q):
        return Q(**lookup("phone", q))
    condition = Q(name__icontains=q)
    if _TAIL_RE.fullmatch(q):
        condition |= Q(id_tail=q.upper()) | Q(phone_tail=q)
    condition |= Q(pk__in=Residence.objects.filter(moved_out__isnull=True,
                                                   house__address__icontains=q)
                   .values("person_id"))
    return condition


def person_list(*, viewer, q: str = "", grid: Region | None = None, tag: str = "",
                residence_type: str = "") -> QuerySet[Person]:
    qs = visible_to(Person.objects.all(), viewer, Perm.BASE_VIEW).select_related("grid")
    if grid is not None:
        qs = qs.filter(grid__path__startswith=grid.path)
    if residence_type:
        qs = qs.filter(residence_type=residence_type)
    if tag:
        found = Tag.objects.filter(code=tag).first()
        if found is None:
            return qs.none()
        tagged = PersonTag.objects.filter(tag=found, removed_at__isnull=True)
        qs = qs.filter(pk__in=tagged.values("person_id"))
        if found.restricted:
            qs = qs.filter(scope_for(viewer, Perm.SPECIAL_VIEW).region_q("grid__path"))
    if q:
        qs = qs.filter(person_search_q(q))
    return qs.order_by("grid__path", "name", "id")


def person_get(*, viewer, pk: int) -> Person:
    person = (visible_to(Person.objects.all(), viewer, Perm.BASE_VIEW)
              .select_related("grid__parent").filter(pk=pk).first())
    if person is None:
        raise NotFound()
    return person


def person_tags(*, viewer, persons) -> dict[int, list[PersonTag]]:
    """Active tags of each person that the viewer may see, in one query."""
    special = scope_for(viewer, Perm.SPECIAL_VIEW)
    by_person: dict[int, list[PersonTag]] = defaultdict(list)
    grid_paths = {p.pk: p.grid.path for p in persons}
    rows = (PersonTag.objects.filter(person_id__in=grid_paths, removed_at__isnull=True)
            .select_related("tag", "added_by").order_by("tag__sort_order", "tag__code"))
    for row in rows:
        if row.tag.restricted and not special.covers_path(grid_paths[row.person_id]):
            continue
        by_person[row.person_id].append(row)
    return by_person


def current_homes(*, persons) -> dict[int, Residence]:
    """Where each person lives now (their current `lives` link), in one query."""
    links = (Residence.objects.filter(person__in=persons, kind=ResidenceKind.LIVES,
                                      moved_out__isnull=True)
             .select_related("house").only("person_id", "house__id", "house__address",
                                           "house__number").order_by("-moved_in", "-id"))
    homes: dict[int, Residence] = {}
    for link in links:
        homes.setdefault(link.person_id, link)
    return homes


def person_residences(*, person: Person) -> list[Residence]:
    """Every residence link of a person, current first (history kept)."""
    return list(Residence.objects.filter(person=person)
                .select_related("house__building__estate", "house__unit")
                # PostgreSQL sorts NULLs last, SQLite first: say which (current links first).
                .order_by(F("moved_out").asc(nulls_first=True), "-moved_in"))


def household_list(*, viewer, grid: Region | None = None) -> QuerySet[Household]:
    qs = visible_to(Household.objects.all(), viewer, Perm.BASE_VIEW)
    if grid is not None:
        qs = qs.filter(grid__path__startswith=grid.path)
    return qs.select_related("head", "house", "grid").prefetch_related(
        Prefetch("members__person"))


def household_get(*, viewer, pk: int) -> Household:
    household = household_list(viewer=viewer).filter(pk=pk).first()
    if household is None:
        raise NotFound()
    return household


def residence_get(*, viewer, pk: int) -> Residence:
    """One residence link, visible where its house is (Residence.scope_path)."""
    residence = (visible_to(Residence.objects.all(), viewer, Perm.BASE_VIEW)
                 .select_related("house__grid", "person__grid").filter(pk=pk).first())
    if residence is None:
        raise NotFound()
    return residence
