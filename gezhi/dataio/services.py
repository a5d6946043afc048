"""Imports (writes) and the background jobs that run them.

`import_file` reads a file in batches of 2,000 rows inside one transaction: in "all" mode
(全部无误才写入, the default) any bad row rolls everything back, in "valid" mode the good rows
are written and the bad ones reported, a dry run rolls back whatever happens. Either way the
whole file is read and every bad row reported, and an access-log entry records the import.
"""

from __future__ import annotations

import json
import logging
import os
import re
import shutil
import threading
import time
from collections.abc import Callable
from pathlib import Path

from django.conf import settings
from django.db import close_old_connections, connection, transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import pgettext

from gezhi.accounts.models import AccessAction, AccessLog
from gezhi.accounts.roles import Perm
from gezhi.accounts.scope import has_perm
from gezhi.core.errors import GezhiError, PermissionDenied, ValidationFailed
from gezhi.dataio import bulk, pipeline
from gezhi.dataio.kinds import KINDS
from gezhi.dataio.kinds.base import Importer, Report, RowError, normalise_header
from gezhi.dataio.models import ImportJob, ImportKind, ImportMode, JobStatus
from gezhi.dataio.readers import FileRejected, Table, open_table
from gezhi.regions.models import Region

log = logging.getLogger(__name__)

# A running job whose progress file has not moved for this long died with its process.
STALE_AFTER = 600


def max_upload_bytes() -> int:
    return settings.GEZHI_IMPORT_MAX_BYTES


def megabytes(size: int) -> str:
    return f"{size / 1024 / 1024:.0f}" if size >= 10 * 1024 * 1024 else f"{size / 1024 / 1024:.1f}"


def too_large_message(size: int | None = None) -> str:
    limit = max_upload_bytes()
    if size:
        return _("文件过大:上限 %(limit)s MB,此文件约 %(size)s MB。请拆分成几个文件分批导入。") % {
            "limit": megabytes(limit), "size": megabytes(size)}
    return _("文件过大:上限 %(limit)s MB。请拆分成几个文件分批导入。") % {"limit": megabytes(limit)}


class _Rollback(Exception):
    pass


def _header_map(importer: type[Importer], headers: list[str]) -> tuple[list, dict, str]:
    """(column index, key) pairs, key → header as written, and a problem message or ""."""
    lookup = {}
    for column in importer.columns:
        for name in (column.header, *column.aliases):
            lookup[normalise_header(name)] = column.key
    ignored = {normalise_header(h) for h in importer.ignored_headers}
    pairs, labels, unknown, repeated = [], {}, [], []
    for index, header in enumerate(headers):
        name = normalise_header(header)
        if not name or name in ignored:
            continue
        key = lookup.get(name)
        if key is None:
            unknown.append(header)
        elif key in labels:
            repeated.append(header)
        else:
            pairs.append((index, key))
            labels[key] = header
    missing = [c.header for c in importer.columns if c.required and c.key not in labels]
    problems = []
    names = pgettext("between the items of a list", "、").join
    if missing:
        problems.append(_("缺少必填列:%(names)s") % {"names": names(missing)})
    if unknown:
        problems.append(_("无法识别的列:%(names)s") % {"names": names(unknown)})
    if repeated:
        problems.append(_("重复的列:%(names)s") % {"names": names(repeated)})
    if not problems:
        return pairs, labels, ""
    message = _("表头与「%(kind)s」导入模板不符。%(problems)s。请下载导入模板核对表头。") % {
        "kind": importer.label,
        "problems": pgettext("between the clauses of a sentence", ";").join(problems)}
    for other in KINDS.values():
        if other is not importer and other.columns and not _header_map_quiet(other, headers):
            message += _("(这似乎是「%(kind)s」的导入文件。)") % {"kind": other.label}
            break
    return pairs, labels, message


def _header_map_quiet(importer: type[Importer], headers: list[str]) -> bool:
    """Whether the headers have a problem for this kind (no hint about other kinds)."""
    names = {normalise_header(h) for h in headers}
    required = [c for c in importer.columns if c.required]
    return not all(any(normalise_header(n) in names for n in (c.header, *c.aliases))
                   for c in required)


def _columns(importer: type[Importer], table: Table) -> tuple[list, dict]:
    pairs, labels, message = _header_map(importer, table.headers)
    if message and not pairs and sum(1 for h in table.headers if h) <= 1 and table.next_header():
        # A title row above the headers ("某某社区实有人口登记表"): the next row has them.
        pairs, labels, message = _header_map(importer, table.headers)
    if message:
        raise FileRejected(message)
    return pairs, labels


def import_file(*, actor, kind: str, path: Path, file_name: str, mode: str = ImportMode.ALL,
                default_grid: Region | None = None,
                progress: Callable[[int, float], None] | None = None,
                max_bytes: int | None = None, ip_address: str | None = None) -> Report:
    """Import one file; returns the report (never raises for bad input: the report says).

    `actor` None is the system (CLI). The importer needs Perm.BASE_IMPORT over each row's grid.
    """
    report = Report(kind=kind, file_name=file_name, mode=mode)
    try:
        importer_class = KINDS.get(kind)
        if importer_class is None:
            raise ValidationFailed(_("未知的导入类型:%(kind)s") % {"kind": kind})
        if mode not in ImportMode.values:
            raise ValidationFailed(_("未知的导入方式:%(mode)s") % {"mode": mode})
        if actor is not None and not has_perm(actor, Perm.BASE_IMPORT):
            raise PermissionDenied()
        table = open_table(path, file_name, max_bytes=max_bytes)
        try:
            pairs, labels = _columns(importer_class, table)
            importer = importer_class(actor=actor, report=report, headers=labels,
                                      default_grid=default_grid, date1904=table.date1904)
            if default_grid is not None:
                importer.grids.check(default_grid)
            _run(importer, table, pairs, report, mode, progress)
        finally:
            table.close()
    except _Rollback:
        pass
    except bulk.StaleRows:
        report.fatal = _("导入期间有人修改了其中的数据,为避免覆盖,本次未写入任何数据。请重新导入。")
    except GezhiError as exc:
        report.fatal = str(exc.message)
    except RowError as exc:  # outside any row: the default grid
        report.fatal = _("默认网格:%(message)s") % {"message": exc.message}
    finally:
        report.problems.sort(key=lambda p: p.row)
        if report.fatal:
            report.written = False
        _log_import(actor, report, ip_address)
    return report


def _run(importer: Importer, table: Table, pairs, report: Report, mode: str, progress) -> None:
    with pipeline.Prepared(importer, table, pairs) as batches:
        _run_batches(importer, table, batches, report, mode, progress)


def _run_batches(importer: Importer, table: Table, batches, report: Report, mode: str,
                 progress) -> None:
    last = 0.0
    with transaction.atomic():
        bulk.immediate_constraints()
        with pipeline.Overlapped(importer) as run:
            for batch, count in batches:
                # In "all" mode a bad row means nothing will be kept: stop writing, keep
                # checking.
                write = mode == ImportMode.VALID or (mode == ImportMode.ALL
                                                     and not report.problem_count)
                run(batch, write=write)
                report.rows += count
                if progress is not None and time.monotonic() - last >= 0.5:
                    progress(report.rows, table.progress())
                    last = time.monotonic()
        if progress is not None:
            progress(report.rows, 1.0)
        if report.rows == 0:
            raise FileRejected(_("文件只有表头,没有数据行。"))
        if mode == ImportMode.DRY_RUN or (mode == ImportMode.ALL and report.problem_count):
            raise _Rollback()
        report.written = True


def _log_import(actor, report: Report, ip_address: str | None) -> None:
    AccessLog.objects.create(
        user=actor, action=AccessAction.IMPORT, target_type=report.kind,
        target_label=report.file_name[:200], row_count=report.rows, ip_address=ip_address,
        details={"file": report.file_name, "mode": report.mode, "written": report.written,
                 "created": report.created, "updated": report.updated,
                 "unchanged": report.unchanged, "bad_rows": report.bad_rows,
                 "error": report.fatal})


def summary(report: Report) -> str:
    """One sentence about the outcome, for the job page and the terminal."""
    counts = {"created": report.created, "updated": report.updated,
              "unchanged": report.unchanged, "bad": report.bad_rows, "rows": report.rows}
    if report.fatal:
        return report.fatal + _("未写入任何数据。")
    if report.mode == ImportMode.DRY_RUN:
        text = _("试运行(未写入):共 %(rows)d 行,将新增 %(created)d、更新 %(updated)d,"
                 "%(unchanged)d 行无变化。") % counts
    elif not report.written:
        return _("共 %(rows)d 行,其中 %(bad)d 行有问题。按“全部无误才写入”的方式,未写入任何数据;"
                 "请修改后重新导入,或选择“只写入无误的行”。") % counts
    else:
        text = _("已导入:共 %(rows)d 行,新增 %(created)d、更新 %(updated)d,"
                 "%(unchanged)d 行无变化。") % counts
    if report.bad_rows:
        text += _("%(bad)d 行有问题,未导入。") % counts
    return text


# Background jobs ------------------------------------------------------------------------

def _jobs_dir() -> Path:
    path = Path(settings.DATA_DIR) / "imports"
    path.mkdir(mode=0o700, exist_ok=True)
    return path


def _job_dir(job_id: int) -> Path:
    return _jobs_dir() / str(job_id)


def _safe_name(name: str) -> str:
    name = os.path.basename(name or "").strip() or "upload"
    return re.sub(r"[^\w.\-()()\u4e00-\u9fff]", "_", name)[:120]


@transaction.atomic
def job_create(*, actor, kind: str, upload, mode: str = ImportMode.ALL,
               default_grid: Region | None = None, ip_address: str | None = None) -> ImportJob:
    """Keep the upload and queue its import; the import starts once this commits."""
    if kind not in ImportKind.values:
        raise ValidationFailed(_("请选择导入类型。"), details={"field": "kind"})
    if mode not in ImportMode.values:
        raise ValidationFailed(_("请选择导入方式。"), details={"field": "mode"})
    if actor is not None and not has_perm(actor, Perm.BASE_IMPORT):
        raise PermissionDenied()
    if upload.size > max_upload_bytes():
        raise ValidationFailed(too_large_message(upload.size), details={"field": "file"})
    job = ImportJob.objects.create(user=actor, kind=kind, mode=mode,
                                   file_name=os.path.basename(upload.name or "")[:200],
                                   file_size=upload.size, default_grid=default_grid,
                                   ip_address=ip_address)
    folder = _job_dir(job.pk)
    folder.mkdir(mode=0o700, exist_ok=True)
    target = folder / _safe_name(upload.name)
    with open(target, "wb") as handle:
        os.chmod(target, 0o600)
        for chunk in upload.chunks():
            handle.write(chunk)
    transaction.on_commit(lambda: job_start(job.pk))
    return job


def job_start(job_id: int) -> None:
    """Run the job in a thread of this process (GEZHI_IMPORT_BACKGROUND False: right now)."""
    if not getattr(settings, "GEZHI_IMPORT_BACKGROUND", True):
        job_run(job_id)
        return
    threading.Thread(target=_job_thread, args=(job_id,), name=f"import-{job_id}",
                     daemon=True).start()


def _job_thread(job_id: int) -> None:
    close_old_connections()
    try:
        job_run(job_id)
    except Exception:  # the job row says it failed; the traceback goes to the log
        log.exception("import job %s failed", job_id)
    finally:
        connection.close()


def _write_progress(job_id: int, rows: int, fraction: float) -> None:
    folder = _job_dir(job_id)
    if not folder.exists():
        return
    temp = folder / "progress.tmp"
    temp.write_text(json.dumps({"rows": rows, "fraction": round(fraction, 4)}))
    temp.replace(folder / "progress.json")


def job_progress(job: ImportJob) -> dict:
    """Rows read so far and the fraction of the file, while the job runs.

    Kept in a file beside the upload, not in the database: the import holds its transaction
    open until the end (on SQLite, the write lock too), so progress written to the job row
    would be invisible, or would wait, until then.
    """
    if job.finished:
        return {"rows": job.rows, "fraction": 1.0}
    try:
        return json.loads((_job_dir(job.pk) / "progress.json").read_text())
    except (OSError, ValueError):
        return {"rows": 0, "fraction": 0.0}


def job_check_stale(job: ImportJob) -> ImportJob:
    """A job still "running" whose progress stopped long ago died with its process (a
    restart): its transaction was rolled back, so say so."""
    if job.finished or job.started_at is None:
        return job
    marker = _job_dir(job.pk) / "progress.json"
    try:
        touched = marker.stat().st_mtime
    except OSError:
        touched = job.started_at.timestamp()
    if time.time() - touched > STALE_AFTER:
        job.status = JobStatus.FAILED
        job.message = _("导入已中断(服务重启或进程退出),未写入任何数据。请重新上传。")
        job.finished_at = timezone.now()
        job.save(update_fields=["status", "message", "finished_at"])
        shutil.rmtree(_job_dir(job.pk), ignore_errors=True)
    return job


def job_run(job_id: int) -> ImportJob:
    job = ImportJob.objects.select_related("user", "default_grid").get(pk=job_id)
    if job.status != JobStatus.PENDING:
        return job
    job.status = JobStatus.RUNNING
    job.started_at = timezone.now()
    job.save(update_fields=["status", "started_at"])
    folder = _job_dir(job.pk)
    files = [p for p in folder.iterdir() if p.name not in ("progress.json", "progress.tmp")] \
        if folder.exists() else []
    try:
        if not files:
            report = Report(kind=job.kind, file_name=job.file_name, mode=job.mode,
                            fatal=_("上传的文件已不存在,请重新上传。"))
        else:
            report = import_file(actor=job.user, kind=job.kind, path=files[0],
                                 file_name=job.file_name, mode=job.mode,
                                 default_grid=job.default_grid,
                                 progress=lambda rows, f: _write_progress(job.pk, rows, f),
                                 max_bytes=max_upload_bytes(), ip_address=job.ip_address)
    except Exception:
        job.status = JobStatus.FAILED
        job.message = _("导入时发生内部错误,未写入任何数据。请联系系统管理员。")
        job.finished_at = timezone.now()
        job.save()
        raise
    finally:
        # The file holds personal data in plaintext: it goes as soon as it has been read.
        shutil.rmtree(folder, ignore_errors=True)
    job.rows = report.rows
    job.created, job.updated, job.unchanged = report.created, report.updated, report.unchanged
    job.bad_rows = report.bad_rows
    job.written = report.written
    job.report = report.as_dict()
    job.message = summary(report)
    job.status = JobStatus.FAILED if report.fatal else JobStatus.DONE
    job.finished_at = timezone.now()
    job.save()
    return job
