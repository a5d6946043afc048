"""Grid boundaries: the tiling rule (无缝覆盖), and GeoJSON import and export.

The children of one region (the grids of a community, the communities of a subdistrict) must
not overlap each other, must not stick out of their parent, and must cover it without gaps.
An import is checked as a whole on the state it would leave behind and is written in one
transaction, or not at all.

The GeoJSON is a FeatureCollection; each feature has a Polygon or MultiPolygon geometry
(WGS-84 longitude/latitude) and the properties
    code         区划代码 (required)
    name         名称 (required for a new region)
    level        district / subdistrict / community / grid / microgrid (default: from the
                 code's length)
    parent_code  上级代码 (default: the code's prefix)
    grid_kind    basic / dedicated, grids only (default: basic)
    purpose      专属网格对象
    description  覆盖范围
A property left out (or a null geometry) keeps what is stored. Export writes the same format,
so an export imported again changes nothing.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict, dataclass, field

import numpy as np
import shapely
from django.db import transaction
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from shapely.geometry import shape
from shapely.strtree import STRtree

from gezhi.accounts.roles import Perm
from gezhi.accounts.scope import Scope, has_perm, scope_for
from gezhi.core.errors import PermissionDenied, ValidationFailed
from gezhi.regions.geometry import (
    from_metres,
    geojson_geometry,
    parse_boundary,
    polygonal,
    to_metres,
)
from gezhi.regions.models import CHILD_LEVEL, CODE_LENGTH, GridKind, Level, Region
from gezhi.regions.selectors import region_list
from gezhi.regions.services import region_create, region_set_boundary

# Pieces smaller than this, or thinner than SLIVER_WIDTH_M, are rounding noise (tiling.py rounds
# coordinates to about 1 cm), not a real overlap or gap.
MIN_AREA_M2 = 1.0
SLIVER_WIDTH_M = 0.1

PROBLEM_KINDS = {
    "bad_geometry": gettext_lazy("边界格式错误"),
    "invalid_ring": gettext_lazy("边界无效"),
    "overlap": gettext_lazy("重叠"),
    "gap": gettext_lazy("未覆盖"),
    "outside_parent": gettext_lazy("超出上级"),
    "unknown_parent": gettext_lazy("上级不存在"),
    "bad_code": gettext_lazy("代码错误"),
    "duplicate_code": gettext_lazy("代码重复"),
    "out_of_scope": gettext_lazy("超出权限范围"),
    "bad_level": gettext_lazy("层级错误"),
    "bad_property": gettext_lazy("属性错误"),
}

LEVEL_BY_LENGTH = {6: Level.DISTRICT, 9: Level.SUBDISTRICT, 12: Level.COMMUNITY, 15: Level.GRID,
                   18: Level.MICROGRID}
# The level whose code is the prefix of a child's code. A district's parent (a city) has a code
# of the same length, so it is never inferred.
PARENT_LEVEL = {child: parent for parent, child in CHILD_LEVEL.items() if parent != Level.CITY}


@dataclass
class Problem:
    kind: str
    codes: list[str]
    message: str
    area_m2: float | None = None
    feature_index: int | None = None  # 0-based position in the imported FeatureCollection

    @property
    def kind_label(self) -> str:
        return str(PROBLEM_KINDS.get(self.kind, self.kind))


@dataclass
class ImportReport:
    created: list[str] = field(default_factory=list)
    updated: list[str] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)


def _area_text(area: float) -> str:
    return f"{area:.0f}" if area >= 10 else f"{area:.1f}"


def _level_label(level: str | None) -> str:
    return str(Level(level).label) if level in Level.values else _("区划")


# --- The tiling rule -------------------------------------------------------------------------


def _significant_area(piece_m) -> float | None:
    """The area of a piece (in metres) if it is a real overlap or gap, None if it is noise."""
    piece_m = polygonal(piece_m)
    area = float(piece_m.area)
    if area < MIN_AREA_M2 or shapely.buffer(piece_m, -SLIVER_WIDTH_M / 2).is_empty:
        return None
    return area


def _as_shape(boundary):
    if not boundary:
        return None
    geom = shape(boundary)
    if geom.is_empty:
        return None
    return geom if geom.is_valid else shapely.make_valid(geom)


def tiling_problems(*, parent: Region, children: Sequence[tuple[str, object]] | None = None
                    ) -> list[Problem]:
    """Overlaps between the children of `parent`, gaps in their coverage of it, and children
    sticking out of it.

    `children` are (code, shapely geometry or None) pairs; by default the stored children.
    `parent` may be an unsaved Region holding a boundary about to be imported. Children without
    a boundary are left out; without the parent's boundary only overlaps are checked.
    """
    if children is None:
        rows = (Region.objects.filter(parent=parent).order_by("path")
                .values_list("code", "boundary") if parent.pk else [])
        children = [(code, _as_shape(boundary)) for code, boundary in rows]
    pairs = [(code, geom if geom.is_valid else shapely.make_valid(geom))
             for code, geom in children if geom is not None and not geom.is_empty]
    if not pairs:
        return []
    codes = [code for code, _geom in pairs]
    parent_geom = _as_shape(parent.boundary)
    if parent_geom is not None:
        lat0 = parent_geom.centroid.y
    else:
        lat0 = float(np.mean(shapely.total_bounds([g for _c, g in pairs])[[1, 3]]))
    geoms = to_metres(np.array([g for _c, g in pairs], dtype=object), lat0)
    tree = STRtree(geoms)
    child_label = _level_label(CHILD_LEVEL.get(parent.level))
    problems = _overlaps(codes, geoms, tree, child_label)
    if parent_geom is not None:
        parent_m = to_metres(parent_geom, lat0)
        shapely.prepare(parent_m)
        parent_label = _level_label(parent.level)
        problems += _outside(codes, geoms, parent_m, parent, child_label, parent_label)
        problems += _gaps(codes, geoms, tree, parent_m, parent, lat0, child_label, parent_label)
    return problems


def _overlaps(codes, geoms, tree, label) -> list[Problem]:
    left, right = tree.query(geoms, predicate="intersects")
    keep = left < right
    left, right = left[keep], right[keep]
    interiors_meet = shapely.relate_pattern(geoms[left], geoms[right], "T********")
    problems = []
    for i, j in zip(left[interiors_meet].tolist(), right[interiors_meet].tolist(), strict=True):
        area = _significant_area(shapely.intersection(geoms[i], geoms[j]))
        if area is None:
            continue
        a, b = sorted((codes[i], codes[j]))
        problems.append(Problem(
            "overlap", [a, b],
            _("%(label)s %(a)s 与 %(b)s 重叠约 %(area)s 平方米") % {
                "label": label, "a": a, "b": b, "area": _area_text(area)},
            area_m2=round(area, 1)))
    return sorted(problems, key=lambda p: p.codes)


def _outside(codes, geoms, parent_m, parent, label, parent_label) -> list[Problem]:
    problems = []
    for i in np.flatnonzero(~shapely.covers(parent_m, geoms)).tolist():
        area = _significant_area(shapely.difference(geoms[i], parent_m))
        if area is None:
            continue
        problems.append(Problem(
            "outside_parent", [codes[i], parent.code],
            _("%(label)s %(code)s 超出上级%(parent_label)s %(parent)s 约 %(area)s 平方米") % {
                "label": label, "code": codes[i], "parent_label": parent_label,
                "parent": parent.code, "area": _area_text(area)},
            area_m2=round(area, 1)))
    return problems


def _gaps(codes, geoms, tree, parent_m, parent, lat0, label, parent_label) -> list[Problem]:
    uncovered = polygonal(shapely.difference(parent_m, shapely.union_all(geoms)))
    parts = shapely.get_parts(uncovered)
    problems = []
    for part in parts[shapely.area(parts) >= MIN_AREA_M2]:
        area = _significant_area(part)
        if area is None:
            continue
        near = sorted(codes[k] for k in tree.query(part, predicate="dwithin", distance=1.0))
        where = from_metres(shapely.point_on_surface(part), lat0)
        problems.append(Problem(
            "gap", [parent.code, *near],
            _("%(parent_label)s %(parent)s 内约 %(area)s 平方米未被任何%(label)s覆盖"
              "(经度 %(lon).6f、纬度 %(lat).6f 附近,相邻%(label)s:%(near)s)") % {
                "parent_label": parent_label, "parent": parent.code, "area": _area_text(area),
                "label": label, "lon": where.x, "lat": where.y,
                "near": "、".join(near) or _("无")},
            area_m2=round(area, 1)))
    return problems


# --- Import ----------------------------------------------------------------------------------


@dataclass
class _Node:
    """The state a region named in the file will have after the import."""

    index: int
    code: str
    level: str
    parent_code: str | None
    path: str
    existing: Region | None
    values: dict  # name, grid_kind, purpose, description as they will be
    changed: list[str]  # fields of `values` that differ from `existing`
    boundary: dict | None  # the boundary as it will be
    boundary_changed: bool
    geometry_failed: bool
    needs_parent_perm: bool  # allowed only while it changes nothing (scope is the node itself)

    @property
    def geom(self):
        return _as_shape(self.boundary)

    @property
    def is_change(self) -> bool:
        return self.existing is None or bool(self.changed) or self.boundary_changed


@dataclass
class _Plan:
    nodes: dict[str, _Node] = field(default_factory=dict)
    problems: list[Problem] = field(default_factory=list)

    def add(self, kind: str, codes: list[str], message: str, index: int | None = None) -> None:
        self.problems.append(Problem(kind, codes, message, feature_index=index))


def _text(value) -> str | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, (str, int, float)):
        raise TypeError
    return str(value).strip()


def _features(collection) -> list:
    if not isinstance(collection, dict) or collection.get("type") != "FeatureCollection":
        raise ValidationFailed(_("文件不是 GeoJSON FeatureCollection(最外层应为 "
                                 "{\"type\": \"FeatureCollection\", \"features\": [...]})。"),
                               code="bad_geojson")
    features = collection.get("features")
    if not isinstance(features, list):
        raise ValidationFailed(_("FeatureCollection 缺少 features 列表。"), code="bad_geojson")
    if not features:
        raise ValidationFailed(_("文件中没有任何要素(features 为空)。"), code="bad_geojson")
    return features


def _read(features: list, plan: _Plan) -> list[tuple[int, dict, str]]:
    """(index, feature, code) of each feature whose code is usable, parents first."""
    entries: list[tuple[int, dict, str]] = []
    first_seen: dict[str, int] = {}
    for index, feature in enumerate(features):
        n = index + 1
        if not isinstance(feature, dict) or feature.get("type") != "Feature":
            plan.add("bad_geometry", [], _("第 %(n)d 个要素不是 GeoJSON Feature。") % {"n": n},
                     index)
            continue
        props = feature.get("properties")
        props = props if isinstance(props, dict) else {}
        try:
            code = _text(props.get("code")) or ""
        except TypeError:
            code = ""
        if not code:
            plan.add("bad_code", [], _("第 %(n)d 个要素缺少 code(区划代码)属性。") % {"n": n},
                     index)
            continue
        if not code.isdigit() or len(code) not in LEVEL_BY_LENGTH:
            plan.add("bad_code", [code],
                     _("第 %(n)d 个要素的代码 %(code)s 应为 6、9、12、15 或 18 位数字。")
                     % {"n": n, "code": code}, index)
            continue
        if code in first_seen:
            plan.add("duplicate_code", [code],
                     _("代码 %(code)s 在文件中出现了多次(第 %(a)d 和第 %(b)d 个要素)。")
                     % {"code": code, "a": first_seen[code] + 1, "b": n}, index)
            continue
        first_seen[code] = index
        entries.append((index, feature, code))
    entries.sort(key=lambda e: (len(e[2]), e[0]))
    return entries


def _existing(codes: set[str]) -> dict[str, Region]:
    found: dict[str, Region] = {}
    ordered = sorted(codes)
    for start in range(0, len(ordered), 500):
        chunk = ordered[start:start + 500]
        found.update(Region.objects.select_related("parent").in_bulk(chunk, field_name="code"))
    return found


def _plan(collection, actor) -> _Plan:
    if actor is not None and not has_perm(actor, Perm.REGION_IMPORT):
        raise PermissionDenied(_("您没有导入网格边界的权限。"))
    scope = Scope(everything=True) if actor is None else scope_for(actor, Perm.REGION_IMPORT)
    plan = _Plan()
    entries = _read(_features(collection), plan)
    wanted = set()
    for _index, feature, code in entries:
        props = feature.get("properties") or {}
        wanted.add(code)
        parent_code = props.get("parent_code")
        if isinstance(parent_code, (str, int)) and not isinstance(parent_code, bool):
            wanted.add(str(parent_code).strip())
        level = LEVEL_BY_LENGTH[len(code)]
        if level in PARENT_LEVEL:
            wanted.add(code[:CODE_LENGTH[PARENT_LEVEL[level]]])
    existing = _existing(wanted)
    for index, feature, code in entries:
        node = _plan_feature(index, feature, code, existing, plan, scope)
        if node is not None:
            plan.nodes[code] = node
    for node in plan.nodes.values():
        if node.needs_parent_perm and node.is_change:
            plan.add("out_of_scope", [node.code],
                     _("无权修改 %(code)s:它的变化会影响上级 %(parent)s 的划分,需要对上级的导入权限。")
                     % {"code": node.code, "parent": node.parent_code or "-"}, node.index)
    _check_tilings(plan, existing)
    return plan


def _plan_feature(index: int, feature: dict, code: str, existing: dict[str, Region],
                  plan: _Plan, scope: Scope) -> _Node | None:
    n = index + 1
    props = feature.get("properties") or {}
    try:
        text = {key: _text(props.get(key)) for key in
                ("name", "level", "parent_code", "grid_kind", "purpose", "description")}
    except TypeError:
        plan.add("bad_property", [code],
                 _("%(code)s 的属性应为文字(第 %(n)d 个要素)。") % {"code": code, "n": n}, index)
        return None
    level = text["level"] or LEVEL_BY_LENGTH[len(code)]
    if level not in Level.values:
        plan.add("bad_level", [code],
                 _("%(code)s 的层级 %(level)s 无效,应为 %(choices)s 之一。")
                 % {"code": code, "level": level, "choices": "、".join(Level.values)}, index)
        return None
    if CODE_LENGTH[level] != len(code):
        plan.add("bad_code", [code],
                 _("%(code)s 的代码长度与层级不符:%(level)s代码应为 %(length)d 位。")
                 % {"code": code, "level": _level_label(level), "length": CODE_LENGTH[level]},
                 index)
        return None
    parent_code = text["parent_code"] or None
    if parent_code is None and level in PARENT_LEVEL:
        parent_code = code[:CODE_LENGTH[PARENT_LEVEL[level]]]

    # Scope first, and with one message whether or not the region or its parent exists,
    # so that an import reveals nothing outside the actor's scope.
    region = existing.get(code)
    parent_node = plan.nodes.get(parent_code) if parent_code else None
    parent_region = existing.get(parent_code) if parent_code else None
    if parent_node is not None:
        parent_path, parent_level = parent_node.path, parent_node.level
    elif parent_region is not None:
        parent_path, parent_level = parent_region.path, parent_region.level
    else:
        parent_path = parent_level = None
    own_scope = region is not None and scope.covers_path(region.path)
    if parent_code is None:
        parent_allowed = scope.everything
    else:
        parent_allowed = parent_path is not None and scope.covers_path(parent_path)
    if not (parent_allowed or own_scope):
        if parent_code is None:
            message = _("无权导入 %(code)s:新建或修改顶级区划需要系统管理员权限。")
        elif parent_path is None and scope.everything:
            plan.add("unknown_parent", [code, parent_code],
                     _("%(code)s 的上级 %(parent)s 不存在(文件中也没有)。")
                     % {"code": code, "parent": parent_code}, index)
            return None
        else:
            message = _("无权导入 %(code)s:上级 %(parent)s 不存在或不在您的导入权限范围内。")
        plan.add("out_of_scope", [code], message % {"code": code, "parent": parent_code}, index)
        return None

    if region is not None and not own_scope and not scope.everything:
        # Only a region stored under another parent than its code says gets here.
        plan.add("out_of_scope", [code],
                 _("无权导入 %(code)s:上级 %(parent)s 不存在或不在您的导入权限范围内。")
                 % {"code": code, "parent": parent_code}, index)
        return None
    if parent_code is not None:
        if CHILD_LEVEL.get(parent_level) != level:
            plan.add("bad_level", [code, parent_code],
                     _("%(code)s 是%(level)s,不能直接设在%(parent_level)s %(parent)s 下。")
                     % {"code": code, "level": _level_label(level), "parent": parent_code,
                        "parent_level": _level_label(parent_level)}, index)
        elif parent_level != Level.CITY and not code.startswith(parent_code):
            plan.add("bad_code", [code, parent_code],
                     _("代码 %(code)s 与上级代码 %(parent)s 不一致(下级代码应以上级代码开头)。")
                     % {"code": code, "parent": parent_code}, index)
    if region is not None:
        if region.level != level:
            plan.add("bad_level", [code],
                     _("%(code)s 已存在,层级为%(old)s,导入不能把它改为%(new)s。")
                     % {"code": code, "old": _level_label(region.level),
                        "new": _level_label(level)}, index)
        old_parent = region.parent.code if region.parent_id else None
        if old_parent != parent_code:
            plan.add("bad_code", [code],
                     _("%(code)s 已属于 %(old)s,导入不能把它移到 %(new)s 下。")
                     % {"code": code, "old": old_parent or "-", "new": parent_code or "-"}, index)

    values = {
        "name": text["name"], "grid_kind": text["grid_kind"], "purpose": text["purpose"],
        "description": text["description"],
    }
    for key, value in values.items():
        if value is None:
            values[key] = getattr(region, key) if region is not None else ""
    if level == Level.GRID and not values["grid_kind"]:
        values["grid_kind"] = region.grid_kind if region is not None else GridKind.BASIC
    if not values["name"]:
        if region is None:
            message = _("新建 %(code)s 需要 name(名称)属性。")
        else:
            message = _("%(code)s 的名称不能为空。")
        plan.add("bad_property", [code], message % {"code": code}, index)
    elif len(values["name"]) > 100 or len(values["purpose"]) > 100:
        plan.add("bad_property", [code],
                 _("%(code)s 的名称或专属网格对象超过 100 个字。") % {"code": code}, index)
    if level == Level.GRID and values["grid_kind"] not in GridKind.values:
        plan.add("bad_property", [code],
                 _("%(code)s 的网格类型 %(kind)s 无效,应为 basic(基础网格)或 dedicated(专属网格)。")
                 % {"code": code, "kind": values["grid_kind"]}, index)
    elif level != Level.GRID and values["grid_kind"]:
        plan.add("bad_property", [code],
                 _("%(code)s 不是网格,不能设置网格类型。") % {"code": code}, index)

    geometry_failed = False
    boundary = region.boundary if region is not None else None
    boundary_changed = False
    geometry = feature.get("geometry")
    if geometry is None and region is None and level == Level.GRID:
        plan.add("bad_geometry", [code],
                 _("新建网格 %(code)s 需要边界(Polygon 或 MultiPolygon)。") % {"code": code},
                 index)
    elif geometry is not None:
        try:
            geom = parse_boundary(geometry, label=code)
        except ValidationFailed as exc:
            plan.add(exc.code, [code], str(exc.message), index)
            geometry_failed = True
        else:
            new = geojson_geometry(geom)
            old = _as_shape(boundary)
            if old is None or not (new == boundary or shapely.equals_exact(
                    shapely.normalize(geom), shapely.normalize(old), 0)):
                boundary, boundary_changed = new, True

    if region is not None:
        path = region.path
    elif parent_code is None:
        path = f"{code}."
    else:
        local = code[len(parent_code):] if code.startswith(parent_code) else code
        path = f"{parent_path}{local}."
    changed = [key for key, value in values.items()
               if region is not None and getattr(region, key) != value]
    node = _Node(index=index, code=code, level=level, parent_code=parent_code, path=path,
                 existing=region, values=values, changed=changed, boundary=boundary,
                 boundary_changed=boundary_changed, geometry_failed=geometry_failed,
                 needs_parent_perm=not parent_allowed)
    return node


def _check_tilings(plan: _Plan, existing: dict[str, Region]) -> None:
    in_file_by_parent: dict[str, list[_Node]] = {}
    for node in plan.nodes.values():
        if node.parent_code:
            in_file_by_parent.setdefault(node.parent_code, []).append(node)
    touched: set[str] = set()
    for node in plan.nodes.values():
        if node.existing is None or node.boundary_changed:
            if node.parent_code:
                touched.add(node.parent_code)
            if node.existing is not None or node.code in in_file_by_parent:
                touched.add(node.code)  # its own children must still fit it
    stored_children: dict[str, dict] = {}
    ordered = sorted(touched)
    for start in range(0, len(ordered), 500):
        rows = (Region.objects.filter(parent__code__in=ordered[start:start + 500])
                .values_list("parent__code", "code", "boundary"))
        for parent_code, code, boundary in rows:
            stored_children.setdefault(parent_code, {})[code] = boundary
    for parent_code in ordered:
        parent_node = plan.nodes.get(parent_code)
        in_file = in_file_by_parent.get(parent_code, [])
        if any(n.geometry_failed for n in in_file) or (parent_node and parent_node.geometry_failed):
            continue  # fix the geometry first; a broken ring would only add noise here
        if parent_node is not None:
            parent = Region(code=parent_code, name=parent_node.values["name"],
                            level=parent_node.level, boundary=parent_node.boundary)
        elif parent_code in existing:
            parent = existing[parent_code]
        else:
            continue
        children = {code: _as_shape(boundary)
                    for code, boundary in stored_children.get(parent_code, {}).items()}
        children.update({n.code: n.geom for n in in_file})
        for problem in tiling_problems(parent=parent, children=sorted(children.items())):
            in_file_codes = [c for c in problem.codes if c in plan.nodes]
            if in_file_codes:
                problem.feature_index = plan.nodes[in_file_codes[-1]].index
            plan.problems.append(problem)


def boundaries_validate(*, collection: dict, actor) -> list[Problem]:
    """Every problem the import of `collection` by `actor` would meet; writes nothing.

    Raises ValidationFailed when `collection` is not a FeatureCollection, PermissionDenied when
    the actor may not import boundaries at all. `actor` None is the command line (system).
    """
    return _plan(collection, actor).problems


def boundaries_import(*, collection: dict, actor, dry_run: bool = False) -> ImportReport:
    """Create and update the regions of a GeoJSON FeatureCollection, all or nothing.

    With any problem nothing is written: ValidationFailed with details {"problems": [...]},
    or, for a dry run, the report listing them.
    """
    plan = _plan(collection, actor)
    report = ImportReport(problems=plan.problems)
    for node in plan.nodes.values():
        if node.existing is None:
            report.created.append(node.code)
        elif node.is_change:
            report.updated.append(node.code)
        else:
            report.unchanged.append(node.code)
    if dry_run:
        return report
    if plan.problems:
        raise ValidationFailed(
            _("导入未执行:发现 %(n)d 个问题,未写入任何数据。") % {"n": len(plan.problems)},
            code="boundaries_invalid",
            details={"problems": [asdict(p) for p in plan.problems]})
    _apply(plan)
    return report


@transaction.atomic
def _apply(plan: _Plan) -> None:
    regions: dict[str, Region] = {}
    for node in plan.nodes.values():
        if node.existing is None:
            parent = None
            if node.parent_code:
                parent = regions.get(node.parent_code) or Region.objects.get(code=node.parent_code)
            regions[node.code] = region_create(
                code=node.code, level=node.level, parent=parent, boundary=node.boundary,
                **node.values)
            continue
        region = regions[node.code] = node.existing
        if node.changed:
            for key in node.changed:
                setattr(region, key, node.values[key])
            region._boundary_changed = False  # no spatial version bump for a renamed grid
            region.save(update_fields=[*node.changed, "updated_at"])
            del region._boundary_changed
        if node.boundary_changed:
            region_set_boundary(region=region, boundary=node.boundary)


# --- Export ----------------------------------------------------------------------------------


def boundaries_export(*, viewer, within: Region | None = None,
                      level: str | None = Level.GRID) -> dict:
    """The viewer's visible regions as a FeatureCollection in the format import reads.

    `viewer` None is the command line (everything); `level` None exports every level.
    """
    if level is not None and level not in Level.values:
        raise ValidationFailed(_("层级 %(level)s 无效,应为 %(choices)s 之一。")
                               % {"level": level, "choices": "、".join(Level.values)},
                               code="bad_level")
    qs = Region.objects.all() if viewer is None else region_list(viewer=viewer)
    if level is not None:
        qs = qs.filter(level=level)
    if within is not None:
        qs = qs.filter(path__startswith=within.path)
    features = [
        {"type": "Feature", "id": r.code, "geometry": r.boundary,
         "properties": {"code": r.code, "name": r.name, "level": r.level,
                        "parent_code": r.parent.code if r.parent_id else None,
                        "grid_kind": r.grid_kind, "purpose": r.purpose,
                        "description": r.description}}
        for r in qs.select_related("parent").order_by("path")
    ]
    return {"type": "FeatureCollection", "features": features}
