"""Background jobs and the task queue in the workspace.

- ``/staff/jobs/<id>``: a job's progress bar ("1.200 af 4.000 svar", time left), then its
  result or error. The page asks ``/staff/jobs/<id>/status.json`` every second (static
  script, ``staff/job.js``) and reloads itself when the job has ended.
- ``/staff/jobs/<id>/file``: the file a job made (a report's PDF or workbook), for staff of
  the job's organisation with the permission the file needs.
- ``/staff/queue`` (and ``/staff/queue.json``): queue length, the oldest waiting job, the
  workers seen and the recent jobs of every kind, so that an operator sees when the worker
  is behind.
"""

from __future__ import annotations

import io
from datetime import datetime, timedelta
from typing import Any

from flask import abort, jsonify, render_template, send_file
from flask.typing import ResponseReturnValue
from flask_babel import format_decimal, format_timedelta
from flask_babel import gettext as _

from surveys import accounts, imports, jobs
from surveys.accounts import Permission
from surveys.models import Job, JobStatus, utcnow

from ..extensions import db
from ..maintenance import schedule
from ..queue import describe_queue
from . import bp
from .auth import requires, staff
from .report_views import FILE_PERMISSIONS

#: Rows not imported listed on an import job's page (the counts cover all of them).
SHOWN_REFUSED = 100


def job_title(job: Job) -> str:
    """What the job does, as its page and the queue's page name it."""
    if job.kind == "themes":
        return _("Finding themes")
    if job.kind == imports.background.KIND:
        return _("Importing answers")
    if job.kind == "report":
        if (job.params or {}).get("format") == "xlsx":
            return _("Answers with themes (Excel)")
        return _("The report as PDF")
    return _("Background job")


def file_permission(job: Job) -> Permission:
    """The permission needed to download the file the job made: a report's file needs what
    asking for it needs (the PDF: view; the answers: export); other files export."""
    if job.kind == "report":
        return FILE_PERMISSIONS.get(str((job.params or {}).get("format")), Permission.EXPORT)
    return Permission.EXPORT


def _status_label(job: Job) -> str:
    return {
        JobStatus.QUEUED: _("Waiting"),
        JobStatus.RUNNING: _("Running"),
        JobStatus.DONE: _("Done"),
        JobStatus.FAILED: _("Failed"),
    }[job.status]


def _units(job: Job, done: int, total: int) -> str:
    """ "1.200 af 4.000 svar", or a report's "trin 2 af 4" (numbers in the page's language)."""
    if job.kind == "report":
        return _(
            "step %(done)s of %(total)s", done=format_decimal(done), total=format_decimal(total)
        )
    return _(
        "%(done)s of %(total)s answers", done=format_decimal(done), total=format_decimal(total)
    )


def _time_left(job: Job, now: datetime) -> str:
    """An estimate from the pace so far; empty until there is one."""
    if job.status is not JobStatus.RUNNING or not job.total or not job.done or not job.started_at:
        return ""
    if job.kind == "report":  # its steps take very different times: no estimate
        return ""
    elapsed = (now - job.started_at).total_seconds()
    left = elapsed / job.done * (job.total - job.done)
    if left < 60:
        return _("Less than a minute left")
    return _("About %(time)s left", time=format_timedelta(timedelta(seconds=left)))


def _result_text(job: Job) -> str:
    result = job.result or {}
    if job.kind == "themes":
        return _(
            "The themes were updated: %(themes)d themes from %(answers)d answers. "
            "Your changes were kept.",
            themes=result.get("themes", 0),
            answers=result.get("answers", 0),
        )
    if job.kind == "report" and result.get("file"):
        return _("The file %(name)s is ready.", name=result["file"])
    if job.kind == "codebook":
        return _(
            "The answers were sorted into the codebook: %(themes)d codebook themes and "
            "%(proposed)d new suggestions from %(answers)d answers.",
            themes=result.get("themes", 0),
            proposed=result.get("proposed", 0),
            answers=result.get("answers", 0),
        )
    if job.kind == imports.background.KIND:
        return _(
            "%(imported)d answers were imported (%(held)d wait for moderation). Skipped: "
            "%(duplicates)d already stored or repeated in the file, %(empty)d empty rows, "
            "%(errors)d rows with errors.",
            imported=result.get("imported", 0),
            held=result.get("held", 0),
            duplicates=result.get("duplicates", 0),
            empty=result.get("empty", 0),
            errors=result.get("errors", 0),
        )
    return _("Done.")


def _error_text(job: Job) -> str:
    error = job.error or {}
    if error.get("message"):
        return _(error["message"], **(error.get("params") or {}))
    return _("Something went wrong on our side. Please try again.")


def job_state(job: Job, now: datetime | None = None) -> dict[str, Any]:
    """What the job page shows, as its JSON endpoint gives it."""
    now = now or utcnow()
    total = job.total or 0
    return {
        "id": job.id,
        "kind": job.kind,
        "status": job.status.value,
        "finished": job.status in (JobStatus.DONE, JobStatus.FAILED),
        "done": job.done,
        "total": job.total,
        "count": _units(job, job.done, total) if job.total is not None else "",
        "message": _(job.message) if job.message else "",
        "time_left": _time_left(job, now),
        "result": _result_text(job) if job.status is JobStatus.DONE else "",
        "error": _error_text(job) if job.status is JobStatus.FAILED else "",
    }


@bp.get("/jobs/<int:job_id>")
@requires(Permission.VIEW)
def job_page(job_id: int) -> ResponseReturnValue:
    """A job's progress, then its result or error."""
    job = jobs.get_job(db.session, staff().organisation_id, job_id)
    output = jobs.output_file(db.session, job.id) if job.status is JobStatus.DONE else None
    refused = _refused_rows(job)
    return render_template(
        "staff/job.html",
        job=job,
        state=job_state(job),
        title=job_title(job),
        back=(job.params or {}).get("back"),
        output=output if output and accounts.can(staff(), file_permission(job)) else None,
        refused=refused[:SHOWN_REFUSED],
        refused_more=max(len(refused) - SHOWN_REFUSED, 0),
    )


@bp.get("/jobs/<int:job_id>/file")
@requires(Permission.VIEW)
def job_file(job_id: int) -> ResponseReturnValue:
    """Download the file the job made (its organisation's staff with the file's permission)."""
    job = jobs.get_job(db.session, staff().organisation_id, job_id)
    if not accounts.can(staff(), file_permission(job)):
        abort(403)
    output = jobs.output_file(db.session, job.id)
    if output is None:
        abort(404)
    return send_file(
        io.BytesIO(output.data),
        mimetype=output.content_type,
        as_attachment=True,
        download_name=output.name,
        max_age=0,
    )


def _refused_rows(job: Job) -> list[str]:
    """The rows a finished import job did not import, with the reason (in the page's
    language)."""
    if job.kind != imports.background.KIND or job.status not in (JobStatus.DONE, JobStatus.FAILED):
        return []
    summary = imports.background.summary(db.session, job.id)
    return [issue.render(_) for issue in summary.refused] if summary else []


@bp.get("/jobs/<int:job_id>/status.json")
@requires(Permission.VIEW)
def job_status(job_id: int) -> ResponseReturnValue:
    """The job's progress as JSON (what the job page polls)."""
    job = jobs.get_job(db.session, staff().organisation_id, job_id)
    return jsonify(job_state(job))


def queue_state(recent: list[Job]) -> dict[str, Any]:
    """The queue as an operator needs it: waiting tasks (all), the organisation's waiting and
    running jobs and the oldest of them, the workers seen; and the organisation's recent jobs."""
    return {
        **describe_queue(jobs.summary(db.session, staff().organisation_id)),
        "recent_jobs": [
            {
                "id": job.id,
                "kind": job.kind,
                "title": job_title(job),
                "status": job.status.value,
                "status_label": _status_label(job),
                "created_at": job.created_at.isoformat(),
                "finished_at": job.finished_at.isoformat() if job.finished_at else None,
            }
            for job in recent
        ],
        "schedule": schedule(),
    }


@bp.get("/queue")
@requires(Permission.VIEW_AUDIT)
def queue_page() -> ResponseReturnValue:
    """The task queue's state: is the worker keeping up? And the recent jobs."""
    recent = jobs.recent_jobs(db.session, staff().organisation_id)
    return render_template(
        "staff/queue.html",
        state=queue_state(recent),
        created={job.id: job.created_at for job in recent},
        active_page="queue",
    )


@bp.get("/queue.json")
@requires(Permission.VIEW_AUDIT)
def queue_status() -> ResponseReturnValue:
    """The task queue's state as JSON (for monitoring)."""
    return jsonify(queue_state(jobs.recent_jobs(db.session, staff().organisation_id)))
