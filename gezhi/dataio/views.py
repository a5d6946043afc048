"""Console pages for import and export (/console/data/)."""

from __future__ import annotations

import os
from urllib.parse import quote

from django.core.files.uploadhandler import FileUploadHandler, StopUpload
from django.http import FileResponse, Http404, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.csrf import csrf_exempt, csrf_protect

from gezhi.accounts.roles import Perm
from gezhi.accounts.scope import has_perm
from gezhi.core.errors import PermissionDenied, ValidationFailed
from gezhi.dashboard.console import client_ip, console_page, grid_choices
from gezhi.dataio.exports import CONSOLE_MAX_ROWS, SENSITIVE, export_workbook
from gezhi.dataio.forms import ImportForm, PlaintextExportForm
from gezhi.dataio.models import ImportJob, ImportKind
from gezhi.dataio.services import (
    job_check_stale,
    job_create,
    job_progress,
    max_upload_bytes,
    megabytes,
    too_large_message,
)
from gezhi.dataio.workbooks import template_workbook

# Room for the form's other fields and the multipart boundaries around the file.
FORM_OVERHEAD = 64 * 1024


class _SizeLimit(FileUploadHandler):
    """Stops reading an upload once it passes the limit (a request without Content-Length)."""

    def __init__(self, request, limit: int):
        super().__init__(request)
        self.limit = limit
        self.received = 0

    def receive_data_chunk(self, raw_data, start):
        self.received += len(raw_data)
        if self.received > self.limit:
            raise StopUpload(connection_reset=True)
        return raw_data

    def file_complete(self, file_size):
        return None


def _page(request, form, *, error: str = "", status: int = 200):
    jobs = ImportJob.objects.filter(user=request.user).select_related("default_grid")[:10]
    return render(request, "dataio/import.html", {
        "form": form, "error": error, "jobs": jobs, "kinds": ImportKind.choices,
        "max_bytes": max_upload_bytes(), "max_mb": megabytes(max_upload_bytes()),
        "can_export": has_perm(request.user, Perm.BASE_EXPORT),
        "export_grids": grid_choices(request.user, Perm.BASE_EXPORT)
        if has_perm(request.user, Perm.BASE_EXPORT) else [],
    }, status=status)


@csrf_exempt  # the upload limits must be set before anything reads the body; see _upload
@console_page(Perm.BASE_IMPORT)
def import_page(request):
    grids = grid_choices(request.user, Perm.BASE_IMPORT)
    if request.method != "POST":
        return _page(request, ImportForm(grids=grids))
    length = int(request.META.get("CONTENT_LENGTH") or 0)
    if length > max_upload_bytes() + FORM_OVERHEAD:
        # Refused from the header alone: a 300 MB upload is never read.
        response = _page(request, ImportForm(grids=grids), error=too_large_message(length),
                         status=413)
        response["Connection"] = "close"
        return response
    limit = _SizeLimit(request, max_upload_bytes())
    request.upload_handlers.insert(0, limit)
    return _upload(request, grids, limit)


@csrf_protect
def _upload(request, grids, limit: _SizeLimit):
    form = ImportForm(request.POST, request.FILES, grids=grids)
    if limit.received > limit.limit:
        return _page(request, ImportForm(grids=grids), error=too_large_message(), status=413)
    if not form.is_valid():
        return _page(request, form, status=400)
    try:
        job = job_create(actor=request.user, kind=form.cleaned_data["kind"],
                         upload=form.cleaned_data["file"], mode=form.cleaned_data["mode"],
                         default_grid=form.grid(), ip_address=client_ip(request))
    except ValidationFailed as exc:
        field = (exc.details or {}).get("field")
        form.add_error(field if field in form.fields else None, str(exc.message))
        return _page(request, form, status=400)
    return redirect("dataio:job", pk=job.pk)


def _job(request, pk: int) -> ImportJob:
    job = get_object_or_404(ImportJob.objects.select_related("default_grid"), pk=pk,
                            user=request.user)
    return job_check_stale(job)


def _job_context(job: ImportJob) -> dict:
    progress = job_progress(job)
    return {"job": job, "progress": progress, "percent": int(progress["fraction"] * 100),
            "problems": job.report.get("problems", []),
            "more": job.report.get("problem_count", 0) - len(job.report.get("problems", []))}


@console_page(Perm.BASE_IMPORT)
def job_page(request, pk):
    job = _job(request, pk)
    return render(request, "dataio/job.html", _job_context(job))


@console_page(Perm.BASE_IMPORT)
def job_status(request, pk):
    """The progress bar (polled every second while the job runs), then the report."""
    job = _job(request, pk)
    return render(request, "dataio/_job_status.html", _job_context(job))


@console_page(Perm.BASE_IMPORT)
def template_download(request, kind):
    if kind not in ImportKind.values:
        raise Http404
    content = template_workbook(kind=kind, viewer=request.user)
    return _attachment(HttpResponse(
        content, content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"),
        _("%(kind)s导入模板.xlsx") % {"kind": ImportKind(kind).label})


def _attachment(response, name: str):
    response["Content-Disposition"] = f"attachment; filename*=UTF-8''{quote(name)}"
    return response


@console_page(Perm.BASE_EXPORT)
def export(request, kind):
    """GET: the filtered list as xlsx, masked. With plain=1, a form asks for the reason of a
    plaintext export (POST), for users who may see plaintext."""
    if kind not in ImportKind.values:
        raise Http404
    params = request.GET
    plaintext = params.get("plain") == "1" and kind in SENSITIVE
    if plaintext:
        if not has_perm(request.user, Perm.REVEAL):
            raise PermissionDenied(_("您没有查看明文的权限,只能导出脱敏数据。"))
        form = PlaintextExportForm(request.POST or None)
        if request.method != "POST" or not form.is_valid():
            return render(request, "dataio/export_plain.html", {
                "form": form, "kind_label": ImportKind(kind).label,
                "back": _list_url(kind, params)}, status=400 if request.method == "POST" else 200)
        reason = form.cleaned_data["reason"]
    else:
        reason = ""
    try:
        result = export_workbook(viewer=request.user, kind=kind, params=params,
                                 plaintext=plaintext, reason=reason,
                                 ip_address=client_ip(request), max_rows=CONSOLE_MAX_ROWS)
    except ValidationFailed as exc:
        return render(request, "dataio/export_error.html", {
            "message": exc.message, "back": _list_url(kind, params)}, status=400)
    handle = open(result.path, "rb")  # noqa: SIM115 - FileResponse closes it
    os.unlink(result.path)  # the open handle keeps the data until the response is sent
    response = FileResponse(
        handle, content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")
    return _attachment(response, result.file_name)


def _list_url(kind: str, params) -> str:
    from django.urls import NoReverseMatch, reverse

    names = {"people": "people:list", "houses": "places:houses", "orgs": "orgs:list",
             "components": "places:components"}
    try:
        url = reverse(names[kind])
    except NoReverseMatch:
        return reverse("dataio:import")
    query = params.copy()
    query.pop("plain", None)
    return f"{url}?{query.urlencode()}" if query else url
