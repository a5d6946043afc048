"""Console pages of the event closed loop (事件闭环): the work queues, one event with its
timeline and the operations the viewer may do now, the report form, and the events layer of
the situation map. Reads go through gezhi.events.selectors, writes through services."""

from __future__ import annotations

import datetime as dt

from django.contrib import messages
from django.core.paginator import Paginator
from django.db.models import Q
from django.http import Http404, JsonResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views.decorators.http import require_GET, require_POST

from gezhi.accounts.models import Department
from gezhi.accounts.roles import Perm
from gezhi.accounts.scope import has_perm, visible_to
from gezhi.core import clock
from gezhi.core.errors import GezhiError, NotFound, PermissionDenied, ValidationFailed
from gezhi.dashboard.console import console_page, grid_choices
from gezhi.events import selectors, services
from gezhi.events.forms import OP_FIELDS, OpForm, ReportForm
from gezhi.events.models import (
    Category,
    Event,
    Extension,
    Level,
    LimitUnit,
    Op,
    Photo,
    Rating,
    Source,
    State,
    SupervisionLevel,
)
from gezhi.regions.models import Level as RegionLevel
from gezhi.regions.models import Region
from gezhi.regions.selectors import region_feature

PAGE_SIZE = 30
BULK_LIMIT = 100

# Colours of open events on maps, one per state; overdue events are drawn red whatever their
# state, and those past the warning share get an amber ring.
STATE_COLOURS = {
    State.REPORTED: "#6b7280",
    State.ACCEPTED: "#7c3aed",
    State.DISPATCHED: "#2563a8",
    State.HANDLING: "#0e7490",
    State.HANDLED: "#15803d",
    State.VERIFIED: "#65a30d",
    State.SUSPENDED: "#a8a29e",
}
OVERDUE_COLOUR = "#c8102e"
WARN_COLOUR = "#e0a040"


# ---------------------------------------------------------------------------------------------
# Remaining time, as people read it


def _is_calendar_days(event: Event, status) -> bool:
    if status.kind == "dispatch":
        return event.urgent
    return event.category.handle_limit_unit == LimitUnit.DAYS


def remaining_label(event: Event, status) -> str:
    """"剩余 1 个工作日 3 小时" / "超期 25 分钟"; empty when no deadline runs."""
    if not status.colour:
        return ""
    parts = status.parts
    pieces = []
    if parts["days"]:
        n = parts["days"]
        pieces.append(ngettext("%(n)d 天", "%(n)d 天", n) % {"n": n}
                      if _is_calendar_days(event, status)
                      else ngettext("%(n)d 个工作日", "%(n)d 个工作日", n) % {"n": n})
    if parts["hours"]:
        n = parts["hours"]
        pieces.append(ngettext("%(n)d 小时", "%(n)d 小时", n) % {"n": n})
    if parts["minutes"] and not parts["days"] or not pieces:
        n = parts["minutes"]
        pieces.append(ngettext("%(n)d 分钟", "%(n)d 分钟", n) % {"n": n})
    text = " ".join(pieces)
    return (_("超期 %(time)s") if parts["overdue"] else _("剩余 %(time)s")) % {"time": text}


# ---------------------------------------------------------------------------------------------
# Work queue (工作台)


def _date(value: str):
    try:
        return dt.date.fromisoformat(value)
    except ValueError:
        return None


def _category_groups() -> list[tuple[Category, list[Category]]]:
    groups: dict = {}
    for c in Category.objects.filter(active=True).select_related("parent").order_by(
            "parent__sort_order", "parent__code", "sort_order", "code"):
        if c.parent_id is None:
            groups.setdefault(c, [])
        else:
            groups.setdefault(c.parent, []).append(c)
    return sorted(groups.items(), key=lambda pair: (pair[0].sort_order, pair[0].code))


@console_page(Perm.EVENT_VIEW)
def queue(request):
    viewer = request.user
    queues = selectors.queues_for(viewer)
    counts = selectors.queue_counts(viewer=viewer)
    keys = [q.key for q in queues]
    tab = request.GET.get("tab", "")
    if tab not in keys:
        tab = keys[0]
    grids = grid_choices(viewer, Perm.EVENT_VIEW)
    grid = {g.code: g for g in grids}.get(request.GET.get("grid", ""))
    groups = _category_groups()
    codes = {c.code for parent, children in groups for c in [parent, *children]}
    category = request.GET.get("category", "")
    category = category if category in codes else ""
    source = request.GET.get("source", "")
    source = source if source in Source.values else ""
    state = request.GET.get("state", "")
    state = state if state in State.values else ""
    start, end = _date(request.GET.get("start", "")), _date(request.GET.get("end", ""))
    q = request.GET.get("q", "").strip()[:50]
    events = selectors.event_list(viewer=viewer, queue=tab, state=state,
                                  grid_code=grid.code if grid else "", category_code=category,
                                  source=source, q=q, start=start, end=end)
    page = Paginator(events, PAGE_SIZE).get_page(request.GET.get("page"))
    now = clock.now()
    rows = []
    for event in page.object_list:
        status = selectors.deadline_status(event, now)
        rows.append({"event": event, "status": status,
                     "remaining": remaining_label(event, status)})
    return render(request, "events/queue.html", {
        "tabs": [{"key": x.key, "label": x.label, "count": counts.get(x.key, 0),
                  "current": x.key == tab} for x in queues],
        "tab": tab,
        "page_obj": page,
        "rows": rows,
        "grids": grids,
        "grid_code": grid.code if grid else "",
        "category_groups": groups,
        "category": category,
        "sources": Source.choices,
        "source": source,
        "states": State.choices,
        "state": state,
        "start": start.isoformat() if start else "",
        "end": end.isoformat() if end else "",
        "q": q,
        "filtered": bool(grid or category or source or state or start or end or q),
        "bulk_accept": tab == "to_accept" and has_perm(viewer, Perm.EVENT_DISPATCH),
        "can_report": has_perm(viewer, Perm.EVENT_REPORT),
    })


@require_POST
@console_page(Perm.EVENT_DISPATCH)
def bulk_accept(request):
    """受理 several events at once, each through the service with the version its row was
    rendered with, so an event someone else changed meanwhile is reported, not overwritten."""
    done, failed = [], []
    for value in request.POST.getlist("events")[:BULK_LIMIT]:
        serial, _sep, version = value.rpartition(":")
        try:
            event = selectors.event_get(viewer=request.user, serial=serial)
            services.event_accept(event=event, actor=request.user,
                                  version=int(version) if version.isdigit() else None)
        except GezhiError as exc:
            failed.append((serial, str(exc.message)))
        else:
            done.append(serial)
    if not done and not failed:
        messages.error(request, _("请先勾选要受理的事件。"))
    if done:
        messages.success(request, ngettext("已受理 %(n)d 件:%(serials)s",
                                           "已受理 %(n)d 件:%(serials)s", len(done)) % {
            "n": len(done), "serials": "、".join(done)})
    for serial, reason in failed:
        messages.error(request, _("%(serial)s 未受理:%(reason)s") % {"serial": serial,
                                                                      "reason": reason})
    target = request.POST.get("next", "")
    if not url_has_allowed_host_and_scheme(target, allowed_hosts={request.get_host()},
                                           require_https=request.is_secure()):
        target = reverse("events:queue") + "?tab=to_accept"
    return redirect(target)


# ---------------------------------------------------------------------------------------------
# One event


def _dispatch_units(event: Event) -> dict:
    """Units an event can be sent to: departments serving its area (or everywhere), and its
    own community and grid."""
    parts = event.grid.path.rstrip(".").split(".")
    ancestors = [".".join(parts[:i]) + "." for i in range(1, len(parts) + 1)]
    departments = list(Department.objects.filter(
        Q(region__isnull=True) | Q(region__path__in=ancestors)).order_by("kind", "code"))
    regions = list(Region.objects.filter(path__in=ancestors, level__in=(
        RegionLevel.COMMUNITY, RegionLevel.GRID)).order_by("path"))
    return {"departments": departments, "regions": regions}


def _op_forms(event: Event, ops: list[str], *, failed: OpForm | None = None,
              keep: dict | None = None) -> list[OpForm]:
    units = _dispatch_units(event) if Op.DISPATCH in ops else {}
    forms = []
    for op in ops:
        if op not in OP_FIELDS:
            continue
        if failed is not None and failed.op == op:
            forms.append(failed)
            continue
        initial = {"version": event.version}
        if op == Op.DISPATCH and event.category.default_department_id:
            default = next((d for d in units["departments"]
                            if d.pk == event.category.default_department_id), None)
            if default is not None:
                initial["unit"] = f"department:{default.pk}"
        if keep and keep.get("op") == op:
            initial["note"] = keep.get("note", "")
        forms.append(OpForm(op=op, initial=initial, **(units if op == Op.DISPATCH else {})))
    for form in forms:
        if form.op == Op.DISPATCH and event.state != State.ACCEPTED:
            form.op_label = _("改派")  # to another unit while one is already on it
    return forms


def _entry_detail(entry) -> str:
    """What an entry's data says, in words: the unit sent to, levels, days, ratings."""
    data = entry.data or {}
    if entry.op == Op.DISPATCH and data.get("unit"):
        text = _("派遣至 %(unit)s") % {"unit": data["unit"]}
        if data.get("assist"):
            text += _(",协办:%(units)s") % {"units": "、".join(data["assist"])}
        return text
    if entry.op == Op.ESCALATE and data.get("to_level"):
        return _("由%(from)s上报至%(to)s") % {"from": Level(data["from_level"]).label,
                                             "to": Level(data["to_level"]).label}
    if entry.op == Op.EXTEND_REQUEST and data.get("days"):
        return ngettext("申请延期 %(n)d 个工作日", "申请延期 %(n)d 个工作日",
                        data["days"]) % {"n": data["days"]}
    if entry.op == Op.EXTEND_DECIDE and "approve" in data:
        return (_("批准延期 %(n)d 个工作日") if data["approve"] else _("不批准延期")) % {
            "n": data.get("days", 0)}
    if entry.op == Op.SUPERVISE and data.get("level"):
        return str(SupervisionLevel(data["level"]).label)
    if entry.op == Op.MERGE and data.get("master"):
        return _("并入 %(serial)s") % {"serial": data["master"]}
    if entry.op == Op.MERGE and data.get("duplicate"):
        return _("%(serial)s 并入本事件") % {"serial": data["duplicate"]}
    if entry.op == Op.RATE and data.get("rating"):
        return str(Rating(data["rating"]).label)
    if entry.op == Op.RETURN and data.get("unit"):
        return _("%(unit)s 退回") % {"unit": data["unit"]}
    if entry.op == Op.CLOSE and "on_time" in data:
        return _("按期结案") if data["on_time"] else _("超期结案")
    return ""


def _detail_context(request, event: Event, *, failed: OpForm | None = None,
                    alert: str = "", keep: dict | None = None) -> dict:
    viewer = request.user
    ops = services.allowed_ops(event=event, user=viewer)
    if failed is not None and failed.op not in ops:
        # The form the error belongs to is no longer offered: say it at the top instead.
        alert = alert or " ".join(str(e) for errors in failed.errors.values() for e in errors)
        failed = None
    status = selectors.deadline_status(event)
    timeline = selectors.event_timeline(event=event)
    photos = list(event.photos.order_by("id"))
    duplicates = []
    if Op.MERGE in ops:
        duplicates = selectors.duplicate_candidates(
            viewer=viewer, category=event.category, lat=event.lat, lon=event.lon,
            at=event.reported_at, exclude=event)
    points = [{"lat": event.lat, "lon": event.lon, "label": event.serial,
               "colour": OVERDUE_COLOUR if status.overdue else STATE_COLOURS.get(
                   event.state, "#2563a8")}]
    return {
        "event": event,
        "status": status,
        "remaining": remaining_label(event, status),
        "forms": _op_forms(event, ops, failed=failed, keep=keep),
        "failed_op": failed.op if failed is not None else "",
        "alert": alert,
        "timeline": [{"entry": e, "detail": _entry_detail(e)} for e in timeline],
        "report_photos": [p for p in photos if p.stage == Photo.Stage.REPORT],
        "result_photos": [p for p in photos if p.stage == Photo.Stage.RESULT],
        "assignments": list(event.assignments.select_related("department", "region")
                            .order_by("created_at", "id")),
        "supervisions": list(event.supervisions.select_related("by", "department",
                                                               "unit_region")),
        "extensions": list(event.extensions.select_related("requested_by", "decided_by")),
        "merged": list(event.duplicates.order_by("reported_at")),
        "duplicates": duplicates,
        "map_data": {
            "outline": {"type": "FeatureCollection",
                        "features": [region_feature(event.grid)] if event.grid.boundary else []},
            "points": points,
        },
        "pending_extension": Extension.Status.PENDING,
        # Linked people and places are base data: only for those who may see it there.
        "show_related": has_perm(viewer, Perm.BASE_VIEW, path=event.grid.path),
    }


@console_page(Perm.EVENT_VIEW)
def detail(request, serial):
    event = selectors.event_get(viewer=request.user, serial=serial)
    return render(request, "events/detail.html", _detail_context(request, event))


def _perform(op: str, event: Event, actor, kwargs: dict, version: int | None):
    if op in (Op.VERIFY, Op.VERIFY_FAIL):
        return services.event_verify(event=event, actor=actor, passed=op == Op.VERIFY,
                                     note=kwargs.get("note", ""), version=version)
    if op == Op.COMMENT:  # a comment changes no state, so it needs no version check
        return services.event_comment(event=event, actor=actor, **kwargs)
    return services.OPERATIONS[op](event=event, actor=actor, version=version, **kwargs)


def _master(viewer, serial: str) -> Event:
    try:
        return selectors.event_get(viewer=viewer, serial=(serial or "").strip())
    except NotFound:
        raise ValidationFailed(_("要并入的事件不存在或不在您的管辖范围内。"), code="bad_master",
                               details={"field": "master"}) from None


@require_POST
@console_page(Perm.EVENT_VIEW)
def operate(request, serial, op):
    """One operation from the event page. Success goes back to the page (POST-redirect-GET);
    an error shows the page again with the message, and nothing is changed."""
    if op not in OP_FIELDS:
        raise Http404
    event = selectors.event_get(viewer=request.user, serial=serial)
    units = _dispatch_units(event) if op == Op.DISPATCH else {}
    form = OpForm(request.POST, request.FILES, op=op, **units)
    alert, status, keep = "", 422, None
    if form.is_valid():
        try:
            kwargs = form.service_kwargs()
            if op == Op.MERGE:
                kwargs["master"] = _master(request.user, kwargs["master"])
            _perform(op, event, request.user, kwargs, form.cleaned_data["version"])
        except ValidationFailed as exc:
            form.add_service_error(exc)
        except NotFound:
            raise
        except GezhiError as exc:
            # Someone else acted first, or the operation no longer fits the event: show what
            # it is now, keeping what the user typed.
            alert, status = str(exc.message), exc.status
            keep = {"op": op, "note": form.cleaned_data.get("note", "")}
            form = None
        else:
            messages.success(request, _("已完成“%(op)s”。") % {"op": Op(op).label})
            return redirect("events:detail", serial=event.serial)
    event = selectors.event_get(viewer=request.user, serial=serial)
    context = _detail_context(request, event, failed=form, alert=alert, keep=keep)
    return render(request, "events/detail.html", context, status=status)


# ---------------------------------------------------------------------------------------------
# Report (上报)


def _report_categories() -> list[Category]:
    return list(Category.objects.filter(active=True, parent__isnull=False, parent__active=True)
                .select_related("parent")
                .order_by("parent__sort_order", "parent__code", "sort_order", "code"))


REPORT_MAP_GRIDS = 500  # a city-wide reporter gets the first ones; the map still zooms anywhere


def _report_outline(viewer) -> dict:
    grids = visible_to(Region.objects.filter(level=RegionLevel.GRID, boundary__isnull=False),
                       viewer, Perm.EVENT_REPORT).only("code", "name", "path", "boundary")
    grids = grids.order_by("path")[:REPORT_MAP_GRIDS]
    return {"type": "FeatureCollection", "features": [region_feature(g) for g in grids]}


@console_page(Perm.EVENT_REPORT)
def report(request):
    categories = _report_categories()
    status = 200
    if request.method == "POST":
        form = ReportForm(request.POST, request.FILES, categories=categories)
        if form.is_valid():
            try:
                event = services.event_report(actor=request.user, intake=form.intake())
            except (ValidationFailed, PermissionDenied) as exc:
                form.add_service_error(exc)
            else:
                if event.state == State.CLOSED:
                    messages.success(request, _("已上报并自行处置结案,事件编号 %(serial)s。") % {
                        "serial": event.serial})
                else:
                    messages.success(request, _("已上报,事件编号 %(serial)s。") % {
                        "serial": event.serial})
                return redirect("events:detail", serial=event.serial)
        status = 422
    else:
        initial = {}
        for name in ("lat", "lon"):
            try:
                initial[name] = float(request.GET[name])
            except (KeyError, ValueError):
                pass
        form = ReportForm(categories=categories, initial=initial)
    return render(request, "events/report.html", {
        "form": form,
        "outline": _report_outline(request.user),
        "photos_lost": status != 200 and bool(request.FILES),
    }, status=status)


def _float(value: str) -> float | None:
    try:
        return float(value)
    except (TypeError, ValueError):
        return None


@require_GET
@console_page(Perm.EVENT_REPORT)
def report_duplicates(request):
    """Open events of the chosen category near the chosen point, shown while reporting so
    the same problem is not reported twice (an htmx fragment of the report page)."""
    category = Category.objects.filter(code=request.GET.get("category", ""),
                                       parent__isnull=False).first()
    lat, lon = _float(request.GET.get("lat")), _float(request.GET.get("lon"))
    found = []
    if category is not None and lat is not None and lon is not None:
        found = selectors.duplicate_candidates(viewer=request.user, category=category,
                                               lat=lat, lon=lon)
    return render(request, "events/_duplicates.html", {
        "found": found, "asked": category is not None and lat is not None and lon is not None,
    })


# ---------------------------------------------------------------------------------------------
# Situation map (作战图) layer


@require_GET
@console_page(Perm.EVENT_VIEW)
def map_data(request):
    """Open events of the viewer's scope for the situation map, with the legend's colours."""
    rows = selectors.map_events(viewer=request.user)
    pattern = reverse("events:detail", args=["SERIAL"])
    for row in rows:
        row["url"] = pattern.replace("SERIAL", row["serial"])
    return JsonResponse({
        "events": rows,
        "colours": {**{str(k): v for k, v in STATE_COLOURS.items()},
                    "overdue": OVERDUE_COLOUR, "warn": WARN_COLOUR},
        "legend": [{"key": str(k), "label": str(State(k).label), "colour": v}
                   for k, v in STATE_COLOURS.items()]
        + [{"key": "overdue", "label": _("超期"), "colour": OVERDUE_COLOUR},
           {"key": "warn", "label": _("临近时限"), "colour": WARN_COLOUR, "ring": True}],
    })


PHOTO_SALT = "gezhi.events.photo"


def photo(request, pk: int):
    """An event photo, for those who may see the event (staff in scope, its reporter) or who
    hold a signed link (Open311 publishes those for non-sensitive categories). Event photos are
    never served from the public media folder."""
    from django.core import signing
    from django.http import FileResponse

    item = Photo.objects.select_related("event").filter(pk=pk).first()
    if item is None:
        raise Http404
    signed = request.GET.get("s", "")
    allowed = False
    if signed:
        try:
            allowed = signing.loads(signed, salt=PHOTO_SALT) == item.pk
        except signing.BadSignature:
            allowed = False
    if not allowed and not services.can_view(request.user, item.event):
        raise Http404
    response = FileResponse(item.image.open("rb"), content_type="image/jpeg")
    response["Cache-Control"] = "private, max-age=3600"
    return response
