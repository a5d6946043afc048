"""The one scope mechanism.

Every selector and API list over scoped data goes through `visible_to(queryset, viewer)`.
A model says how it is placed in the region tree with a class attribute `scope_path`
(the lookup of a materialised region path, e.g. "path" or "grid__path"), and optionally
`scope_department` (the lookup of a department id) for data owned by departments, or
`scope_department_q(ids) -> Q` where a department reaches the data through another table.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.db.models import Q, QuerySet

from gezhi.accounts.roles import DEPARTMENT_BOUND, ROLE_PERMS, Role


@dataclass(frozen=True)
class Scope:
    everything: bool = False
    paths: tuple[str, ...] = ()
    department_ids: tuple[int, ...] = ()

    @property
    def empty(self) -> bool:
        return not (self.everything or self.paths or self.department_ids)

    def covers_path(self, path: str) -> bool:
        return self.everything or any(path.startswith(p) for p in self.paths)

    def region_q(self, lookup: str = "path") -> Q:
        if self.everything:
            return Q()
        if not self.paths:
            return Q(pk__in=[])
        q = Q()
        for p in self.paths:
            q |= Q(**{f"{lookup}__startswith": p})
        return q


def _minimal(paths: set[str]) -> tuple[str, ...]:
    """Drop paths already covered by an ancestor path, so filters stay short."""
    kept: list[str] = []
    for p in sorted(paths, key=len):
        if not any(p.startswith(k) for k in kept):
            kept.append(p)
    return tuple(sorted(kept))


def _assignments(user) -> list:
    """The user's role assignments, loaded once per user object (one query)."""
    if "_gezhi_assignments" not in user.__dict__:
        user.__dict__["_gezhi_assignments"] = list(
            user.role_assignments.select_related("region", "department__region"))
    return user.__dict__["_gezhi_assignments"]


def scope_for(user, perm: str | None = None) -> Scope:
    """The viewer's scope, for all their roles or only those that hold `perm`."""
    if user is None or not getattr(user, "is_authenticated", False) or not user.is_active:
        return Scope()
    cache = user.__dict__.setdefault("_gezhi_scopes", {})
    if perm in cache:
        return cache[perm]
    everything = bool(user.is_superuser)
    paths: set[str] = set()
    departments: set[int] = set()
    for a in _assignments(user):
        if perm is not None and perm not in ROLE_PERMS.get(a.role, ()):
            continue
        if a.role == Role.ADMIN:
            everything = True
        elif a.region_id:
            paths.add(a.region.path)
        if a.department_id:
            departments.add(a.department_id)
            if not a.region_id and a.department.region_id and perm not in DEPARTMENT_BOUND:
                paths.add(a.department.region.path)
    scope = Scope(everything=everything, paths=_minimal(paths),
                  department_ids=tuple(sorted(departments)))
    cache[perm] = scope
    return scope


def user_roles(user) -> set[str]:
    if not getattr(user, "is_authenticated", False):
        return set()
    roles = {a.role for a in _assignments(user)}
    if user.is_superuser:
        roles.add(Role.ADMIN)
    return roles


def has_perm(user, perm: str, *, path: str | None = None) -> bool:
    """Whether the user holds `perm` anywhere (path None) or over the node at `path`."""
    scope = scope_for(user, perm)
    if path is None:
        return not scope.empty
    return scope.covers_path(path)


def visible_to(queryset: QuerySet, viewer, perm: str | None = None) -> QuerySet:
    """Filter any scoped queryset down to what the viewer may see."""
    model = queryset.model
    scope = scope_for(viewer, perm)
    if scope.everything:
        return queryset
    q = scope.region_q(model.scope_path) if getattr(model, "scope_path", None) else Q(pk__in=[])
    dept_lookup = getattr(model, "scope_department", None)
    dept_q = getattr(model, "scope_department_q", None)
    if dept_q and scope.department_ids:
        q |= dept_q(scope.department_ids)
    elif dept_lookup and scope.department_ids:
        q |= Q(**{f"{dept_lookup}__in": scope.department_ids})
    return queryset.filter(q)


def clear_cache(user) -> None:
    for key in ("_gezhi_scopes", "_gezhi_assignments", "_gezhi_region_levels"):
        user.__dict__.pop(key, None)


def authorize(actor, perm: str, path: str) -> None:
    """Check that `actor` holds `perm` over the node at `path`; `actor` None is the system (CLI).

    Outside what the actor may even see, the object does not exist for them (NotFound);
    inside it, a missing right is PermissionDenied.
    """
    from gezhi.accounts.roles import Perm
    from gezhi.core.errors import NotFound, PermissionDenied

    if actor is None:
        return
    if scope_for(actor, perm).covers_path(path):
        return
    if scope_for(actor, Perm.BASE_VIEW).covers_path(path) or scope_for(
            actor, Perm.CONSOLE).covers_path(path):
        raise PermissionDenied()
    raise NotFound()
