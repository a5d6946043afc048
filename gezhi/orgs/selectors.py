"""Organisation reads, scoped by grid."""

from __future__ import annotations

from django.db.models import Q, QuerySet

from gezhi.accounts.roles import Perm
from gezhi.accounts.scope import visible_to
from gezhi.core.errors import NotFound
from gezhi.orgs.models import Organisation
from gezhi.regions.models import Region


def organisation_list(*, viewer, grid: Region | None = None, kind: str = "",
                      q: str = "") -> QuerySet[Organisation]:
    qs = visible_to(Organisation.objects.all(), viewer, Perm.BASE_VIEW).select_related(
        "grid", "estate")
    if grid is not None:
        qs = qs.filter(grid__path__startswith=grid.path)
    if kind:
        qs = qs.filter(kind=kind)
    if q:
        qs = qs.filter(Q(name__icontains=q) | Q(credit_code=q.upper()) | Q(address__icontains=q))
    return qs.order_by("grid__path", "name")


def organisation_get(*, viewer, pk: int) -> Organisation:
    org = (visible_to(Organisation.objects.all(), viewer, Perm.BASE_VIEW)
           .select_related("grid", "estate").filter(pk=pk).first())
    if org is None:
        raise NotFound()
    return org
