"""Background jobs (surveys.jobs): asked for once, claimed by one worker, taken over when
the worker stops beating, with progress written beside the job's own work."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker

from surveys import jobs
from surveys.models import Job, JobStatus, utcnow
from tests.factories import make_organisation, make_staff


def _ask(session: Session, key: str = "themes:c1") -> tuple[Job, bool]:
    user = make_staff(session)
    return jobs.request_job(
        session,
        kind="themes",
        key=key,
        organisation_id=user.organisation_id,
        requested_by_id=user.id,
        params={"scope": {"campaign_id": 1}},
    )


def test_asking_again_while_it_is_active_returns_the_same_job(session: Session) -> None:
    first, created = _ask(session)
    again, created_again = _ask(session)
    assert created and not created_again and again.id == first.id
    jobs.finish(session, first.id, {"ok": True})
    # Once it has ended, the same key makes a new job.
    third, created_third = _ask(session)
    assert created_third and third.id != first.id


def test_only_one_worker_claims_a_job_and_a_silent_one_is_taken_over(session: Session) -> None:
    job, _ = _ask(session)
    now = utcnow()
    assert jobs.claim(session, job.id, now) is not None
    assert jobs.claim(session, job.id, now) is None  # running, heart beating: not twice
    assert jobs.jobs_to_retry(session, now + timedelta(seconds=30)) == []
    later = now + jobs.STALE_AFTER + timedelta(seconds=1)  # the worker was killed
    assert jobs.jobs_to_retry(session, later) == [job.id]
    taken = jobs.claim(session, job.id, later)
    assert taken is not None and taken.attempts == 2
    jobs.finish(session, job.id, {"n": 1})
    assert jobs.claim(session, job.id, later + timedelta(hours=1)) is None  # done: never again
    session.refresh(job)
    assert job.status is JobStatus.DONE and job.active_key is None and job.result == {"n": 1}


def test_a_queued_job_whose_task_was_lost_is_retried(session: Session) -> None:
    job, _ = _ask(session)
    assert jobs.jobs_to_retry(session) == []
    assert jobs.jobs_to_retry(session, utcnow() + jobs.LOST_AFTER + timedelta(seconds=1)) == [
        job.id
    ]


def test_progress_is_written_beside_the_jobs_own_unfinished_work(
    session: Session, elsewhere: Engine
) -> None:
    job, _ = _ask(session)
    jobs.claim(session, job.id)
    organisation = make_organisation(session)
    organisation.name = "Ændret i jobbet, ikke gemt endnu"  # the job's own work, not committed
    progress = jobs.Progress(sessionmaker(elsewhere), job.id)
    progress(1200, 4000, "Reading")
    with Session(elsewhere) as other:
        seen = other.get(Job, job.id)
        assert seen is not None and (seen.done, seen.total, seen.message) == (1200, 4000, "Reading")
    session.rollback()
    session.refresh(organisation)
    assert organisation.name != "Ændret i jobbet, ikke gemt endnu"


def test_failing_keeps_the_error_and_frees_the_key(session: Session) -> None:
    job, _ = _ask(session)
    jobs.claim(session, job.id)
    jobs.fail(session, job.id, {"code": "too_few_answers", "message": "x", "params": {}})
    session.refresh(job)
    assert job.status is JobStatus.FAILED and job.active_key is None
    assert job.error == {"code": "too_few_answers", "message": "x", "params": {}}


def test_summary_counts_waiting_and_running_jobs_and_recent_workers(session: Session) -> None:
    first, _ = _ask(session, "a")
    _ask(session, "b")
    jobs.claim(session, first.id)
    jobs.seen_worker(session, "host:1", utcnow())
    summary = jobs.summary(session)
    assert (summary.queued, summary.running) == (1, 1)
    assert summary.oldest_queued_at is not None
    assert [w.name for w in summary.live_workers()] == ["host:1"]
    assert summary.live_workers(utcnow() + jobs.WORKER_GONE_AFTER + timedelta(seconds=1)) == []
