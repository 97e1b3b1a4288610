"""Background jobs in the workspace: a theme run is a job with a page of its own, its
progress as JSON, its result or error; stalled jobs run again; the queue's status page."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import timedelta

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select, update
from sqlalchemy.orm import Session

from app.queue import huey
from surveys import jobs
from surveys.models import AuditEntry, Job, JobStatus, ThemeRun, utcnow
from surveys.themes import Scope, latest_run
from tests.app.staff_helpers import login
from tests.app.test_staff_themes import Themed, make_themed
from tests.factories import make_staff


@pytest.fixture
def themed(session: Session) -> Themed:
    return make_themed(session)


def _job(session: Session, job_id: int) -> Job:
    session.expire_all()
    job = session.get(Job, job_id)
    assert job is not None
    return job


def _job_id(location: str) -> int:
    assert location.startswith("/staff/jobs/"), location
    return int(location.rsplit("/", 1)[1])


def test_a_theme_run_is_a_job_whose_page_shows_the_result(
    client: FlaskClient, session: Session, themed: Themed
) -> None:
    login(client, themed.analyst)
    response = client.post(f"{themed.base}/run")
    job = _job(session, _job_id(response.headers["Location"]))
    assert job.status is JobStatus.DONE and job.kind == "themes"
    assert job.requested_by_id == themed.analyst.id and job.result is not None
    assert (job.done, job.total) == (32, 32)
    run = latest_run(session, Scope(themed.campaign.id).key)
    assert run is not None and run.id == job.result["run_id"] != themed.run.id
    page = client.get(f"/staff/jobs/{job.id}").get_data(as_text=True)
    assert "Temaerne er opdateret" in page and "data-job-finished" in page
    state = client.get(f"/staff/jobs/{job.id}/status.json").get_json()
    assert state["status"] == "done" and state["finished"] and state["count"] == "32 af 32 svar"
    assert session.scalars(select(AuditEntry.action).order_by(AuditEntry.id.desc())).first() == (
        "theme.run"
    )


def test_another_organisation_cannot_see_the_job(
    client: FlaskClient, session: Session, themed: Themed
) -> None:
    login(client, themed.analyst)
    job_id = _job_id(client.post(f"{themed.base}/run").headers["Location"])
    client.post("/staff/logout")
    login(client, make_staff(session, role="admin"))
    assert client.get(f"/staff/jobs/{job_id}").status_code == 404
    assert client.get(f"/staff/jobs/{job_id}/status.json").status_code == 404


@pytest.fixture
def queued(make_app: Callable[..., Flask]) -> Iterator[Flask]:
    app = make_app(QUEUE_IMMEDIATE=False)
    huey.flush()
    yield app
    huey.flush()
    huey.immediate = True


def test_while_queued_the_page_shows_progress_and_asking_again_gives_the_same_job(
    queued: Flask, session: Session, themed: Themed
) -> None:
    client = queued.test_client()
    login(client, themed.analyst)
    first = _job_id(client.post(f"{themed.base}/run").headers["Location"])
    again = _job_id(client.post(f"{themed.base}/run").headers["Location"])
    assert first == again and huey.pending_count() == 1
    page = client.get(f"/staff/jobs/{first}").get_data(as_text=True)
    assert "<progress" in page and "Venter på sin tur" in page
    assert "data-job-finished" not in page and "staff/job.js" in page
    assert "<script>" not in page  # no inline script (CSP script-src 'self')
    # A worker has done 1,200 of 4,000 so far, in 30 seconds.
    started = utcnow() - timedelta(seconds=30)
    session.execute(
        update(Job)
        .where(Job.id == first)
        .values(status=JobStatus.RUNNING, started_at=started, heartbeat_at=utcnow())
        .values(done=1200, total=4000, message="Reading the answers and finding themes")
    )
    session.commit()
    state = client.get(f"/staff/jobs/{first}/status.json").get_json()
    assert state["count"] == "1.200 af 4.000 svar"
    assert state["time_left"] == "Mindre end et minut tilbage" or "tilbage" in state["time_left"]
    assert state["message"] == "Læser svarene og finder temaer" and not state["finished"]
    # The worker runs the task it was given: the job is running elsewhere, so nothing happens.
    huey.execute(huey.dequeue())
    assert _job(session, first).status is JobStatus.RUNNING


def test_a_job_whose_worker_was_killed_runs_again(
    queued: Flask, session: Session, themed: Themed
) -> None:
    from app.jobs import retry_stalled_jobs

    client = queued.test_client()
    login(client, themed.analyst)
    job_id = _job_id(client.post(f"{themed.base}/run").headers["Location"])
    huey.flush()  # the worker took the task and was killed (kill -9) while running it
    dead = utcnow() - jobs.STALE_AFTER - timedelta(seconds=5)
    session.execute(
        update(Job)
        .where(Job.id == job_id)
        .values(status=JobStatus.RUNNING, started_at=dead, heartbeat_at=dead, attempts=1)
    )
    session.commit()
    runs_before = len(session.scalars(select(ThemeRun)).all())
    retry_stalled_jobs()  # the periodic task, as the scheduler queues it
    huey.execute(huey.dequeue())  # ... and a worker runs it: it queues the job again
    huey.execute(huey.dequeue())  # ... which another worker runs
    job = _job(session, job_id)
    assert job.status is JobStatus.DONE and job.attempts == 2
    assert len(session.scalars(select(ThemeRun)).all()) == runs_before + 1  # once, not twice


def test_a_failed_job_shows_why(client: FlaskClient, session: Session, themed: Themed) -> None:
    login(client, themed.analyst)
    job, _ = jobs.request_job(
        session,
        kind="themes",
        key="themes:test",
        organisation_id=themed.analyst.organisation_id,
        requested_by_id=themed.analyst.id,
        params={},
    )
    jobs.claim(session, job.id)
    jobs.fail(
        session,
        job.id,
        {
            "code": "too_few_answers",
            "message": "There are only %(num)d answers here. The themes need at least "
            "%(min)d answers to be useful.",
            "params": {"num": 3, "min": 10},
        },
    )
    page = client.get(f"/staff/jobs/{job.id}").get_data(as_text=True)
    assert "Der er kun 3 svar her." in page and "alert-error" in page


def test_the_queue_status_page_is_for_admins(
    queued: Flask, session: Session, themed: Themed
) -> None:
    client = queued.test_client()
    login(client, themed.analyst)
    client.post(f"{themed.base}/run")
    assert client.get("/staff/queue").status_code == 403
    assert 'href="/staff/queue"' not in client.get("/staff/").get_data(as_text=True)
    client.post("/staff/logout")
    login(client, themed.admin)
    state = client.get("/staff/queue.json").get_json()
    assert state["tasks_waiting"] == 1 and state["jobs_queued"] == 1
    assert state["oldest_waiting_seconds"] >= 0 and state["workers"] == []
    page = client.get("/staff/queue").get_data(as_text=True)
    assert "Der har ikke været en worker i to minutter" in page
    # The staff menu leads there.
    assert 'href="/staff/queue"' in page and 'aria-current="page"' in page
    jobs.seen_worker(session, "worker-host:42", utcnow())
    state = client.get("/staff/queue.json").get_json()
    assert [w["name"] for w in state["workers"]] == ["worker-host:42"]


def test_a_monitor_reads_the_queue_with_its_token_and_without_a_session(
    make_app: Callable[..., Flask], session: Session, themed: Themed
) -> None:
    app = make_app(QUEUE_IMMEDIATE=False, MONITORING_TOKEN="overvaagning-7f3a")
    huey.flush()
    try:
        staff_client = app.test_client()
        login(staff_client, themed.analyst)
        staff_client.post(f"{themed.base}/run")
        jobs.seen_worker(session, "worker-host:7", utcnow())
        client = app.test_client()  # no session
        refused = client.get("/healthz/queue")
        assert refused.status_code == 401
        assert refused.headers["WWW-Authenticate"].startswith("Bearer")
        for wrong in ("Bearer forkert", "Bearer overvaagning-7f3", "overvaagning-7f3a"):
            assert client.get("/healthz/queue", headers={"Authorization": wrong}).status_code == 401
        response = client.get(
            "/healthz/queue", headers={"Authorization": "Bearer overvaagning-7f3a"}
        )
        assert response.status_code == 200 and response.headers["Cache-Control"] == "no-store"
        state = response.get_json()
        assert state["tasks_waiting"] == 1 and state["jobs_queued"] == 1
        assert [w["name"] for w in state["workers"]] == ["worker-host:7"]
        # Operational figures only: no job titles or organisations' data.
        assert "recent_jobs" not in state and "schedule" not in state
    finally:
        huey.flush()
        huey.immediate = True


def test_without_a_token_the_monitor_address_does_not_exist(client: FlaskClient) -> None:
    assert client.get("/healthz/queue").status_code == 404
    assert client.get("/healthz/queue", headers={"Authorization": "Bearer "}).status_code == 404
