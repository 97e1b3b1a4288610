"""Background jobs someone waits for: asked for once, claimed by one worker, with progress.

A view asks for a job (:func:`request_job`) with an idempotency key (a theme run of one scope,
...): while that job is queued or running, asking again returns it. The queue's task claims it
by one atomic UPDATE (:func:`claim`), so two workers given the same job do not both run it;
while it runs the worker reports progress and a heartbeat (:class:`Progress`), and it ends
done with a result or failed with an error. A job whose worker was killed stops beating: the
catch-up task finds it (:func:`jobs_to_retry`) and queues it again, and the next claim takes
it over. Nothing here imports Flask.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Protocol

from sqlalchemy import and_, delete, func, or_, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from .errors import N_, NotFound
from .models import Job, JobFile, JobStatus, QueueWorker, utcnow

#: A running job whose heartbeat is older than this has lost its worker.
STALE_AFTER = timedelta(seconds=90)
#: A queued job not started after this long may have lost its task (a queue emptied).
LOST_AFTER = timedelta(minutes=10)
#: How often a running job's worker refreshes its heartbeat.
HEARTBEAT_SECONDS = 20.0
#: A worker not seen for this long is shown as gone.
WORKER_GONE_AFTER = timedelta(minutes=2)
#: Finished jobs (and their files) older than this are deleted by retention (the default of
#: the ``JOB_KEEP_DAYS`` setting).
KEEP_FINISHED = timedelta(days=30)
#: The role of a file a job reads (an uploaded import).
INPUT = "input"
#: The role of a file a job makes (downloaded from its page).
OUTPUT = "output"


def request_job(
    session: Session,
    *,
    kind: str,
    key: str,
    organisation_id: int,
    requested_by_id: int | None,
    params: dict[str, Any],
    inputs: Mapping[str, bytes] | None = None,
) -> tuple[Job, bool]:
    """The job with this key that is queued or running, else a new one (committed) with the
    files it reads (``inputs``: name -> content, committed with it); and whether it is new."""
    existing = session.scalars(select(Job).where(Job.active_key == key)).first()
    if existing is not None:
        return existing, False
    job = Job(
        kind=kind,
        key=key,
        active_key=key,
        organisation_id=organisation_id,
        requested_by_id=requested_by_id,
        params=params,
    )
    session.add(job)
    try:
        session.flush()
        for name, data in (inputs or {}).items():
            session.add(
                JobFile(
                    job_id=job.id,
                    role=INPUT,
                    name=name[:200],
                    content_type="application/octet-stream",
                    size=len(data),
                    data=data,
                )
            )
        session.commit()
    except IntegrityError:  # asked for at the same moment elsewhere: that one
        session.rollback()
        return session.scalars(select(Job).where(Job.active_key == key)).one(), False
    return job, True


def active_job(session: Session, organisation_id: int, key: str) -> Job | None:
    """The organisation's job with this key that is queued or running, if any."""
    return session.scalars(
        select(Job).where(Job.active_key == key, Job.organisation_id == organisation_id)
    ).first()


def get_job(session: Session, organisation_id: int, job_id: int) -> Job:
    """One of the organisation's jobs."""
    job = session.get(Job, job_id)
    if job is None or job.organisation_id != organisation_id:
        raise NotFound(N_("This job does not exist."), code="job_not_found")
    return job


def input_file(session: Session, job_id: int) -> JobFile:
    """The file the job reads (the first, when it has several)."""
    item = session.scalars(
        select(JobFile).where(JobFile.job_id == job_id, JobFile.role == INPUT).order_by(JobFile.id)
    ).first()
    if item is None:
        raise NotFound(N_("The job's file is gone."), code="job_file_not_found")
    return item


def claim(session: Session, job_id: int, now: datetime | None = None) -> Job | None:
    """Start the job if it is queued, or take it over if its worker stopped beating; None
    when it is done, failed or running elsewhere (committed)."""
    now = now or utcnow()
    taken = session.execute(
        update(Job)
        .where(
            Job.id == job_id,
            or_(
                Job.status == JobStatus.QUEUED,
                and_(Job.status == JobStatus.RUNNING, Job.heartbeat_at < now - STALE_AFTER),
            ),
        )
        .values(
            status=JobStatus.RUNNING,
            attempts=Job.attempts + 1,
            started_at=now,
            heartbeat_at=now,
            done=0,
        )
        .execution_options(synchronize_session=False)
    )
    session.commit()
    if not taken.rowcount:  # type: ignore[attr-defined]
        return None
    job = session.get(Job, job_id)
    if job is not None:
        session.refresh(job)
    return job


class StepProgress(Protocol):
    """What long work tells as it goes: ``done`` of ``total`` (answers, steps, ...) and what
    it is doing (English, translated where it is shown). A job's :class:`Progress` or a
    command line's progress bar."""

    def __call__(self, done: int, total: int | None = None, message: str | None = None) -> None:
        """How far the work is."""


def no_progress(done: int, total: int | None = None, message: str | None = None) -> None:
    """Progress nobody watches."""


@dataclass
class Progress:
    """How a running job tells how far it is; written in a session of its own, so that the
    job's own unfinished work is not committed with it."""

    sessions: sessionmaker[Session]
    job_id: int

    def __call__(self, done: int, total: int | None = None, message: str | None = None) -> None:
        values: dict[str, Any] = {"done": done, "heartbeat_at": utcnow()}
        if total is not None:
            values["total"] = total
        if message is not None:
            values["message"] = message[:200]
        self._update(values)

    def beat(self) -> None:
        """Still alive (nothing else changed)."""
        self._update({"heartbeat_at": utcnow()})

    def _update(self, values: dict[str, Any]) -> None:
        with self.sessions() as session:
            session.execute(
                update(Job)
                .where(Job.id == self.job_id, Job.status == JobStatus.RUNNING)
                .values(**values)
            )
            session.commit()


def finish(session: Session, job_id: int, result: dict[str, Any]) -> None:
    """The job is done with this result (committed)."""
    _end(session, job_id, JobStatus.DONE, result=result)


def fail(session: Session, job_id: int, error: dict[str, Any]) -> None:
    """The job failed with this error (committed)."""
    _end(session, job_id, JobStatus.FAILED, error=error)


def _end(session: Session, job_id: int, status: JobStatus, **values: Any) -> None:
    session.rollback()
    session.execute(
        update(Job)
        .where(Job.id == job_id)
        .values(status=status, active_key=None, finished_at=utcnow(), **values)
        .execution_options(synchronize_session=False)
    )
    session.commit()


def add_file(
    session: Session, job_id: int, *, role: str, name: str, content_type: str, data: bytes
) -> JobFile:
    """Keep a file a job read or made (flushed; the caller commits)."""
    item = JobFile(
        job_id=job_id, role=role, name=name, content_type=content_type, size=len(data), data=data
    )
    session.add(item)
    session.flush()
    return item


def output_file(session: Session, job_id: int) -> JobFile | None:
    """The file the job made, if it made one."""
    return session.scalars(
        select(JobFile).where(JobFile.job_id == job_id, JobFile.role == OUTPUT).order_by(JobFile.id)
    ).first()


@dataclass(frozen=True)
class JobsDeleted:
    """What :func:`delete_finished_jobs` removed."""

    jobs: int
    files: int
    bytes: int


def delete_finished_jobs(
    session: Session,
    keep: timedelta = KEEP_FINISHED,
    now: datetime | None = None,
    *,
    dry_run: bool = False,
) -> JobsDeleted:
    """Delete the jobs that ended longer than ``keep`` ago, with their files (committed); with
    ``dry_run`` only count them.

    Queued and running jobs are never deleted. Safe to run again: what is gone is gone.
    """
    cutoff = (now or utcnow()) - keep
    old = select(Job.id).where(
        Job.status.in_([JobStatus.DONE, JobStatus.FAILED]), Job.finished_at < cutoff
    )
    files, size = session.execute(
        select(func.count(JobFile.id), func.coalesce(func.sum(JobFile.size), 0)).where(
            JobFile.job_id.in_(old)
        )
    ).one()
    if dry_run:
        count = session.scalar(select(func.count()).select_from(old.subquery())) or 0
        return JobsDeleted(jobs=count, files=int(files), bytes=int(size))
    session.execute(
        delete(JobFile).where(JobFile.job_id.in_(old)).execution_options(synchronize_session=False)
    )
    gone = session.execute(
        delete(Job).where(Job.id.in_(old)).execution_options(synchronize_session=False)
    )
    session.commit()
    return JobsDeleted(jobs=gone.rowcount or 0, files=int(files), bytes=int(size))  # type: ignore[attr-defined]


def recent_jobs(session: Session, organisation_id: int | None = None, limit: int = 30) -> list[Job]:
    """The newest jobs of every kind (of one organisation, or all), newest first."""
    stmt = select(Job).order_by(Job.created_at.desc(), Job.id.desc()).limit(limit)
    if organisation_id is not None:
        stmt = stmt.where(Job.organisation_id == organisation_id)
    return list(session.scalars(stmt))


def jobs_to_retry(session: Session, now: datetime | None = None) -> list[int]:
    """Running jobs whose worker stopped beating and queued jobs waiting suspiciously long:
    the catch-up queues them again (a claim decides who runs them)."""
    now = now or utcnow()
    return list(
        session.scalars(
            select(Job.id)
            .where(
                or_(
                    and_(Job.status == JobStatus.RUNNING, Job.heartbeat_at < now - STALE_AFTER),
                    and_(Job.status == JobStatus.QUEUED, Job.created_at < now - LOST_AFTER),
                )
            )
            .order_by(Job.id)
        )
    )


def seen_worker(session: Session, name: str, started_at: datetime) -> None:
    """A worker process says it is alive (committed)."""
    worker = session.get(QueueWorker, name)
    if worker is None:
        session.add(QueueWorker(name=name, started_at=started_at, seen_at=utcnow()))
    else:
        worker.seen_at = utcnow()
    session.commit()


@dataclass(frozen=True)
class JobsSummary:
    """The jobs' side of the queue's status page."""

    queued: int
    running: int
    oldest_queued_at: datetime | None
    workers: list[QueueWorker]

    def live_workers(self, now: datetime | None = None) -> list[QueueWorker]:
        """Workers seen lately."""
        since = (now or utcnow()) - WORKER_GONE_AFTER
        return [w for w in self.workers if w.seen_at >= since]


def summary(session: Session, organisation_id: int | None = None) -> JobsSummary:
    """Queued and running jobs (of one organisation, or all), the oldest waiting, workers."""
    counts = select(Job.status, func.count(), func.min(Job.created_at)).where(
        Job.status.in_([JobStatus.QUEUED, JobStatus.RUNNING])
    )
    if organisation_id is not None:
        counts = counts.where(Job.organisation_id == organisation_id)
    rows = {
        status: (n, oldest) for status, n, oldest in session.execute(counts.group_by(Job.status))
    }
    workers = list(session.scalars(select(QueueWorker).order_by(QueueWorker.seen_at.desc())))
    return JobsSummary(
        queued=rows.get(JobStatus.QUEUED, (0, None))[0],
        running=rows.get(JobStatus.RUNNING, (0, None))[0],
        oldest_queued_at=rows.get(JobStatus.QUEUED, (0, None))[1],
        workers=workers,
    )
