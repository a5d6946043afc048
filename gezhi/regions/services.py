"""Region writes. Every change of a boundary bumps the spatial version in the same transaction
(see signals.py), so every process's point-to-grid index refreshes."""

from __future__ import annotations

from django.db import transaction
from django.utils.translation import gettext as _

from gezhi.core.errors import ValidationFailed
from gezhi.regions.geometry import boundary_fields, parse_boundary
from gezhi.regions.models import CHILD_LEVEL, CODE_LENGTH, GridKind, GridPost, Level, Region


def _check_code(code: str, level: str, parent: Region | None) -> None:
    if not code.isdigit() or len(code) != CODE_LENGTH[level]:
        raise ValidationFailed(
            _("%(level)s代码应为 %(n)d 位数字:%(code)s")
            % {"level": Level(level).label, "n": CODE_LENGTH[level], "code": code},
            details={"field": "code"})
    if parent is not None:
        if CHILD_LEVEL.get(parent.level) != level:
            raise ValidationFailed(
                _("%(parent)s下不能直接设立%(level)s。")
                % {"parent": parent.name, "level": Level(level).label}, details={"field": "level"})
        if parent.level != Level.CITY and not code.startswith(parent.code):
            raise ValidationFailed(_("代码 %(code)s 与上级代码 %(parent)s 不一致。")
                                   % {"code": code, "parent": parent.code},
                                   details={"field": "code"})


@transaction.atomic
def region_create(*, code: str, name: str, level: str, parent: Region | None = None,
                  grid_kind: str = "", purpose: str = "", description: str = "",
                  boundary: dict | None = None, sort_order: int = 0) -> Region:
    _check_code(code, level, parent)
    if level == Level.GRID and grid_kind not in GridKind.values:
        grid_kind = GridKind.BASIC
    if level != Level.GRID:
        grid_kind = ""
    region = Region(code=code, name=name, level=level, parent=parent, grid_kind=grid_kind,
                    purpose=purpose, description=description, sort_order=sort_order,
                    depth=(parent.depth + 1) if parent else 0)
    region.path = region.compute_path()
    if boundary is not None:
        for field, value in boundary_fields(parse_boundary(boundary, label=code)).items():
            setattr(region, field, value)
    region.save()
    return region


@transaction.atomic
def region_set_boundary(*, region: Region, boundary: dict | None) -> Region:
    if boundary is None:
        fields = dict.fromkeys(["boundary", "min_lon", "min_lat", "max_lon", "max_lat",
                                "centroid_lon", "centroid_lat", "area_m2"])
    else:
        fields = boundary_fields(parse_boundary(boundary, label=region.code))
    for field, value in fields.items():
        setattr(region, field, value)
    region.save(update_fields=[*fields, "updated_at"])
    return region


@transaction.atomic
def grid_post_assign(*, grid: Region, kind: str, member, duties: str = "",
                     sort_order: int = 0) -> GridPost:
    if grid.level not in (Level.GRID, Level.MICROGRID):
        raise ValidationFailed(_("岗位只能设在网格或微网格上。"), details={"field": "grid"})
    post, _created = GridPost.objects.update_or_create(
        grid=grid, kind=kind, member=member,
        defaults={"duties": duties, "sort_order": sort_order})
    return post
