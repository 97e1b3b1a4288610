"""Background jobs staff wait for, run by the task queue with progress (``surveys.jobs``).

A view asks for a job (:func:`start_job`) and redirects to its page (``staff/job_views.py``),
which shows a progress bar until the job is done. The queue's :func:`run_job` claims the job,
runs the kind's runner with a :class:`surveys.jobs.Progress`, keeps its heartbeat while it
runs, and stores the result or the error. Every minute :func:`retry_stalled_jobs` queues again
the jobs whose worker was killed (no heartbeat) or whose task was lost.

Runners take the job and its progress and return the result (JSON); a domain error fails
the job with its message. They run with the job's requester as the acting staff member.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from typing import Any

from huey import crontab

from surveys import campaigns, codebook, export, imports, jobs
from surveys import theme_review as review
from surveys.errors import N_, DomainError, InvalidInput
from surveys.models import Job, Organisation, StaffUser
from surveys.themes import Scope

from .embeddings import encoder
from .extensions import db
from .queue import huey, in_app_context

log = logging.getLogger(__name__)

Runner = Callable[[Job, jobs.Progress], dict[str, Any]]


def start_job(
    kind: str,
    key: str,
    actor: StaffUser | Organisation,
    params: dict[str, Any],
    inputs: Mapping[str, bytes] | None = None,
) -> tuple[Job, bool]:
    """Ask for a job (the one already queued or running with this key, else a new one, which
    is queued, with the files it reads: ``inputs``); and whether it is new.

    ``actor`` is the staff member who asks, or the organisation a command asks for.
    """
    if isinstance(actor, StaffUser):
        organisation_id, requested_by_id = actor.organisation_id, actor.id
    else:
        organisation_id, requested_by_id = actor.id, None
    job, created = jobs.request_job(
        db.session,
        kind=kind,
        key=key,
        organisation_id=organisation_id,
        requested_by_id=requested_by_id,
        params=params,
        inputs=inputs,
    )
    if created:
        job_id = job.id
        run_job(job_id)
        db.session.expire_all()  # in immediate mode the job has run meanwhile
        job = db.session.get(Job, job_id) or job
    return job, created


# --------------------------------------------------------------------------- runners


def _actor(job: Job) -> StaffUser:
    if job.requested_by is None or not job.requested_by.is_active:
        raise InvalidInput(
            N_("The staff member who asked for this no longer has an account."),
            code="job_actor_gone",
        )
    return job.requested_by


def run_theme_job(job: Job, progress: jobs.Progress) -> dict[str, Any]:
    """A theme run of one scope (a campaign, a wall or a question)."""
    scope = Scope(**job.params["scope"])
    total = review.count_scope_answers(db.session, scope)
    progress(0, total, N_("Reading the answers and finding themes"))
    n_themes = job.params.get("n_themes", review.AUTO)
    run = review.run_themes(db.session, _actor(job), scope, n_themes=n_themes, encoder=encoder())
    progress(run.n_answers, total, N_("Done"))
    return {
        "run_id": run.id,
        "themes": sum(1 for t in run.themes if not t.hidden),
        "answers": run.n_answers,
    }


def run_codebook_job(job: Job, progress: jobs.Progress) -> dict[str, Any]:
    """A theme run of one scope with the campaign's codebook: answers sorted into the
    themes staff expect, proposals for what fits none, corrections learnt from curation."""
    scope = Scope(**job.params["scope"])
    total = review.ensure_enough_answers(db.session, scope)
    progress(0, total, N_("Sorting the answers into the codebook"))
    run = codebook.run_codebook_themes(db.session, _actor(job), scope, encoder=encoder())
    progress(run.n_answers, total, N_("Done"))
    return {
        "run_id": run.id,
        "themes": sum(1 for t in run.themes if t.codebook),
        "proposed": sum(1 for t in run.themes if t.proposed),
        "answers": run.n_answers,
    }


def run_import_job(job: Job, progress: jobs.Progress) -> dict[str, Any]:
    """Answers from an uploaded file into a wall (``surveys.imports.background``); asked for
    by a staff member or a command (``flask answers import --background``)."""
    actor = None if job.params.get("command") else _actor(job)
    return imports.run_import(db.session, job, actor, progress)


def run_report_job(job: Job, progress: jobs.Progress) -> dict[str, Any]:
    """The campaign's report as a PDF, or its answers as an XLSX workbook, kept as the job's
    output file (``JobFile``). Run again after its worker died, it does not make the file
    (nor record the export) twice: the file, and the workbook's audit entry, are committed
    together, and a file already made is the result."""
    from .staff.report_views import build_report_file

    made = jobs.output_file(db.session, job.id)
    if made is None:
        actor = _actor(job)
        campaign_id = job.params["campaign_id"]
        campaign = campaigns.get_campaign(db.session, job.organisation_id, campaign_id)
        draft = bool(job.params.get("draft"))
        built = build_report_file(campaign, job.params["format"], progress, draft=draft)
        made = jobs.add_file(
            db.session,
            job.id,
            role=jobs.OUTPUT,
            name=built.name,
            content_type=built.content_type,
            data=built.data,
        )
        if built.answers is not None:
            export.record_export(db.session, campaign, "xlsx", built.answers, actor=actor)
        db.session.commit()
    return {"file": made.name, "size": made.size, "format": job.params["format"]}


RUNNERS: dict[str, Runner] = {
    "themes": run_theme_job,
    "codebook": run_codebook_job,
    imports.background.KIND: run_import_job,
    "report": run_report_job,
}


# --------------------------------------------------------------------------- the queue's side


@contextmanager
def _heartbeat(progress: jobs.Progress) -> Iterator[None]:
    """Keep the job's heartbeat fresh while its runner works (a step can take minutes)."""
    stop = threading.Event()

    def beat() -> None:
        while not stop.wait(jobs.HEARTBEAT_SECONDS):
            try:
                progress.beat()
            except Exception:  # the database is away for a moment: the next beat will do
                log.warning("could not refresh the heartbeat of job %s", progress.job_id)

    thread = threading.Thread(target=beat, name=f"job-{progress.job_id}-heartbeat", daemon=True)
    thread.start()
    try:
        yield
    finally:
        stop.set()
        thread.join()


@huey.task()
@in_app_context
def run_job(job_id: int) -> None:
    """Run a job once: nothing when it is done, failed or running on a live worker."""
    job = jobs.claim(db.session, job_id)
    if job is None:
        return
    progress = jobs.Progress(db.sessions, job_id)
    with _heartbeat(progress):
        try:
            result = RUNNERS[job.kind](job, progress)
        except DomainError as error:
            jobs.fail(
                db.session,
                job_id,
                {"code": error.code, "message": error.message, "params": error.params},
            )
        except Exception:
            log.exception("job %s (%s) failed", job_id, job.kind)
            jobs.fail(db.session, job_id, {"code": "internal"})
        else:
            jobs.finish(db.session, job_id, result)


@huey.periodic_task(crontab(minute="*"))
@in_app_context
def retry_stalled_jobs() -> int:
    """Queue again the jobs whose worker was killed or whose task was lost."""
    stalled = jobs.jobs_to_retry(db.session)
    for job_id in stalled:
        log.warning("job %s stalled: queued again", job_id)
        run_job(job_id)
    return len(stalled)
