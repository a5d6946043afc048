"""Console pages for people (实有人口): the list, the person's profile (画像) with the logged
reveal and tags, and the edit form with optimistic locking."""

from __future__ import annotations

from django.contrib import messages
from django.core.paginator import Paginator
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from gezhi.accounts.roles import Perm
from gezhi.accounts.scope import has_perm, visible_to
from gezhi.core.errors import NotFound, PermissionDenied, ValidationFailed
from gezhi.core.versioning import Conflict
from gezhi.dashboard.console import client_ip, console_page, export_link, grid_choices
from gezhi.events.selectors import events_about
from gezhi.people.codes import ETHNICITY_NAMES, ResidenceKind, ResidenceType
from gezhi.people.forms import REVEAL_REASONS, PersonForm, RevealForm, TagAddForm
from gezhi.people.models import HouseholdMember
from gezhi.people.selectors import (
    current_homes,
    person_get,
    person_list,
    person_residences,
    person_tags,
    tags_for,
)
from gezhi.people.services import (
    REVEALABLE,
    person_tag_add,
    person_tag_remove,
    person_update,
    personal_reveal,
    special_view_record,
)

PAGE_SIZE = 50


def age(birth_date, today) -> int | None:
    if birth_date is None:
        return None
    return today.year - birth_date.year - ((today.month, today.day)
                                           < (birth_date.month, birth_date.day))


@console_page(Perm.BASE_VIEW)
def person_list_page(request):
    viewer = request.user
    grids = grid_choices(viewer)
    grid = {g.code: g for g in grids}.get(request.GET.get("grid", ""))
    tags = list(tags_for(viewer=viewer))
    tag = next((t for t in tags if t.code == request.GET.get("tag", "")), None)
    residence_type = request.GET.get("residence_type", "")
    if residence_type not in ResidenceType.values:
        residence_type = ""
    q = request.GET.get("q", "").strip()[:50]
    people = person_list(viewer=viewer, q=q, grid=grid, tag=tag.code if tag else "",
                         residence_type=residence_type)
    page = Paginator(people, PAGE_SIZE).get_page(request.GET.get("page"))
    persons = list(page.object_list)
    visible_tags = person_tags(viewer=viewer, persons=persons)
    homes = current_homes(persons=persons)
    today = timezone.localdate()
    rows = [{"person": p, "age": age(p.birth_date, today), "home": homes.get(p.pk),
             "tags": visible_tags.get(p.pk, [])} for p in persons]
    if tag is not None and tag.restricted:
        special_view_record(actor=viewer, row_count=page.paginator.count,
                            ip_address=client_ip(request),
                            details={"list": "people", "tag": tag.code, "q": q,
                                     "grid": grid.code if grid else "",
                                     "residence_type": residence_type})
    return render(request, "people/list.html", {
        "page_obj": page,
        "rows": rows,
        "q": q,
        "grids": grids,
        "grid_code": grid.code if grid else "",
        "tags": tags,
        "tag_code": tag.code if tag else "",
        "residence_types": ResidenceType.choices,
        "residence_type": residence_type,
        "filtered": bool(q or grid or tag or residence_type),
        "export_url": export_link(request, "people"),
    })


def _person_context(request, person, **extra) -> dict:
    """Everything the person page (画像) shows, as the viewer may see it."""
    viewer = request.user
    path = person.grid.path
    tags = person_tags(viewer=viewer, persons=[person]).get(person.pk, [])
    residences = person_residences(person=person)
    current = {r.kind: r for r in residences if r.moved_out is None}
    lives, registered = current.get(ResidenceKind.LIVES), current.get(ResidenceKind.REGISTERED)
    memberships = list(visible_to(HouseholdMember.objects.filter(person=person), viewer,
                                  Perm.BASE_VIEW).select_related("household__house",
                                                                 "household__head"))
    members = (visible_to(HouseholdMember.objects.filter(
        household__in=[m.household_id for m in memberships]), viewer, Perm.BASE_VIEW)
        .select_related("person").order_by("household_id", "id"))
    households = [{"household": m.household, "relation": m.get_relation_display(),
                   "members": [x for x in members if x.household_id == m.household_id]}
                  for m in memberships]
    can_edit = has_perm(viewer, Perm.BASE_EDIT, path=path)
    active = {t.tag_id for t in tags}
    addable = ([t for t in tags_for(viewer=viewer, path=path) if t.pk not in active]
               if can_edit else [])
    return {
        "person": person,
        "age": age(person.birth_date, timezone.localdate()),
        "ethnicity": ETHNICITY_NAMES.get(person.ethnicity, ""),
        "tags": tags,
        "residences": residences,
        "lives": lives,
        "registered": registered,
        "separated": bool(lives and registered and lives.house_id != registered.house_id),
        "households": households,
        "can_edit": can_edit,
        "can_reveal": has_perm(viewer, Perm.REVEAL, path=path),
        "addable_tags": addable,
        "reveal_reasons": REVEAL_REASONS,
        "revealed": {},
        "reveal_errors": {},
        "related_events": events_about(viewer=viewer, person=person),
        **extra,
    }


def _log_special(request, person, tags) -> None:
    restricted = [t.tag.code for t in tags if t.tag.restricted]
    if restricted:
        special_view_record(actor=request.user, person=person, ip_address=client_ip(request),
                            details={"tags": restricted})


@console_page(Perm.BASE_VIEW)
def person_detail(request, pk):
    person = person_get(viewer=request.user, pk=pk)
    context = _person_context(request, person)
    _log_special(request, person, context["tags"])
    return render(request, "people/person.html", context)


@require_POST
@console_page(Perm.BASE_VIEW)
def person_reveal(request, pk):
    """Show one sensitive number in full, once: needs Perm.REVEAL and a reason, and the
    access log records it before the number is shown. Reloading shows the mask again."""
    person = person_get(viewer=request.user, pk=pk)
    if not has_perm(request.user, Perm.REVEAL, path=person.grid.path):
        raise PermissionDenied(_("您没有查看明文的权限。"))
    form = RevealForm(request.POST)
    if not form.is_valid() or form.cleaned_data["field"] not in REVEALABLE:
        raise NotFound()
    field = form.cleaned_data["field"]
    revealed, errors = {}, {}
    try:
        revealed[field] = personal_reveal(actor=request.user, obj=person, field=field,
                                          reason=form.cleaned_data["reason"],
                                          ip_address=client_ip(request))
    except ValidationFailed as exc:
        errors[field] = exc.message
    context = _person_context(request, person, revealed=revealed, reveal_errors=errors)
    _log_special(request, person, context["tags"])
    response = render(request, "people/person.html", context,
                      status=422 if errors else 200)
    response["Cache-Control"] = "no-store"
    return response


@console_page(Perm.BASE_VIEW)
def person_edit(request, pk):
    person = person_get(viewer=request.user, pk=pk)
    if not has_perm(request.user, Perm.BASE_EDIT, path=person.grid.path):
        raise PermissionDenied(_("您没有修改该人员信息的权限。"))
    grids = grid_choices(request.user, Perm.BASE_EDIT)
    conflict = None
    if request.method == "POST":
        form = PersonForm(request.POST, grids=grids)
        if form.is_valid():
            try:
                person_update(actor=request.user, person=person,
                              version=form.cleaned_data["version"], grid=form.grid_region(),
                              **form.changes())
            except Conflict as exc:
                # The user's input stays in the form; nothing was written.
                form.add_error(None, str(exc.message))
                conflict = person_get(viewer=request.user, pk=pk)
            except (ValidationFailed, PermissionDenied) as exc:
                form.add_service_error(exc)
            else:
                messages.success(request, _("已保存 %(name)s 的信息。") % {"name": person.name})
                return redirect("people:detail", pk=person.pk)
    else:
        form = PersonForm(grids=grids, initial={
            "version": person.version, "name": person.name, "id_type": person.id_type,
            "sex": person.sex, "birth_date": person.birth_date, "ethnicity": person.ethnicity,
            "political_status": person.political_status,
            "residence_type": person.residence_type, "employer": person.employer,
            "notes": person.notes, "grid": person.grid.code})
    return render(request, "people/edit.html", {"person": person, "form": form,
                                                "conflict": conflict},
                  status=409 if conflict else 200)


@require_POST
@console_page(Perm.BASE_VIEW)
def person_tag_add_view(request, pk):
    person = person_get(viewer=request.user, pk=pk)
    form = TagAddForm(request.POST)
    tag = None
    if form.is_valid():
        # Only tags the viewer may see over this person's grid (restricted ones need
        # Perm.SPECIAL_VIEW); anything else is not a tag for them.
        tag = tags_for(viewer=request.user, path=person.grid.path).filter(
            code=form.cleaned_data["tag"]).first()
    if tag is None:
        messages.error(request, _("请选择有效的标签。"))
    else:
        try:
            person_tag_add(actor=request.user, person=person, tag=tag,
                           note=form.cleaned_data["note"].strip())
        except ValidationFailed as exc:
            messages.error(request, exc.message)
        else:
            messages.success(request, _("已添加标签“%(tag)s”。") % {"tag": tag.name})
    return redirect("people:detail", pk=person.pk)


@require_POST
@console_page(Perm.BASE_VIEW)
def person_tag_remove_view(request, pk, tag_pk):
    person = person_get(viewer=request.user, pk=pk)
    visible = {t.pk: t for t in person_tags(viewer=request.user, persons=[person])
               .get(person.pk, [])}
    person_tag = visible.get(tag_pk)
    if person_tag is None:
        raise NotFound()
    person_tag_remove(actor=request.user, person_tag=person_tag)
    messages.success(request, _("已移除标签“%(tag)s”。") % {"tag": person_tag.tag.name})
    return redirect("people:detail", pk=person.pk)

