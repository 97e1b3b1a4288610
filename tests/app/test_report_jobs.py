"""The report's PDF and the answers' workbook are built by the task queue: a job with a page
and progress, a download for the organisation's staff with the file's permission, run again
without doubling after its worker died; the command line shows progress."""

from __future__ import annotations

import io
from collections.abc import Callable, Iterator
from datetime import timedelta
from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskCliRunner
from openpyxl import load_workbook
from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from app.cli_progress import TerminalProgress
from app.queue import huey
from surveys import jobs
from surveys.models import AuditEntry, Job, JobFile, JobStatus, StaffRole, utcnow
from tests.app.staff_helpers import login
from tests.app.test_report import DANISH, World, _pdf_text, make_report_world
from tests.factories import make_staff


@pytest.fixture
def world(session: Session) -> World:
    return make_report_world(session)


@pytest.fixture
def queued(make_app: Callable[..., Flask]) -> Iterator[Flask]:
    app = make_app(QUEUE_IMMEDIATE=False)
    huey.flush()
    yield app
    huey.flush()
    huey.immediate = True


def _job(session: Session, job_id: int) -> Job:
    session.expire_all()
    job = session.get(Job, job_id)
    assert job is not None
    return job


def _exports(session: Session) -> int:
    return session.scalar(select(func.count()).where(AuditEntry.action == "campaign.export"))  # type: ignore[return-value]


def test_the_pdf_is_a_job_whose_page_offers_the_file_when_the_worker_has_made_it(
    queued: Flask, session: Session, world: World
) -> None:
    client = queued.test_client()
    login(client, world.staff[StaffRole.VIEWER])
    base = f"/staff/campaigns/{world.campaign.id}"
    html = client.get(f"{base}/report").get_data(as_text=True)
    assert f'action="{base}/report.pdf"' in html and 'method="post"' in html
    first = client.post(f"{base}/report.pdf").headers["Location"]
    again = client.post(f"{base}/report.pdf").headers["Location"]
    assert first == again and huey.pending_count() == 1  # asking again: the same job
    job_id = int(first.rsplit("/", 1)[1])
    page = client.get(first).get_data(as_text=True)
    assert "<h1>Rapporten som PDF</h1>" in page and "Venter på sin tur" in page
    assert client.get(f"{first}/file").status_code == 404  # nothing made yet
    huey.execute(huey.dequeue())  # a worker (no request around it) builds the PDF
    job = _job(session, job_id)
    assert job.status is JobStatus.DONE and (job.done, job.total) == (4, 4)
    assert job.result is not None
    assert job.result["file"].startswith(f"{world.campaign.slug}-rapport-")
    state = client.get(f"{first}/status.json").get_json()
    assert state["finished"] and state["count"] == "trin 4 af 4"
    page = client.get(first).get_data(as_text=True)
    assert f'href="{first}/file"' in page and f"Hent {job.result['file']}" in page
    response = client.get(f"{first}/file")
    assert response.status_code == 200 and response.mimetype == "application/pdf"
    assert response.headers["Content-Disposition"] == (f"attachment; filename={job.result['file']}")
    text = _pdf_text(response.data)
    assert DANISH in text and "Legepladser og natur" in text and "Side 2 af" in text
    # The same document as the command line makes (in the request, as before the queue).
    runner = queued.test_cli_runner()
    out = Path(queued.instance_path) / "rapport.pdf"
    Path(queued.instance_path).mkdir(parents=True, exist_ok=True)
    result = runner.invoke(args=["report", "build", world.campaign.slug, "--out", str(out)])
    assert result.exit_code == 0, result.output
    assert _pdf_text(out.read_bytes()) == text


def test_a_report_job_whose_worker_died_after_making_the_file_is_not_made_twice(
    queued: Flask, session: Session, world: World
) -> None:
    from app.jobs import retry_stalled_jobs, run_report_job

    client = queued.test_client()
    analyst = world.staff[StaffRole.ANALYST]
    login(client, analyst)
    location = client.post(f"/staff/campaigns/{world.campaign.id}/report.xlsx").headers["Location"]
    job_id = int(location.rsplit("/", 1)[1])
    huey.flush()  # the worker took the task ...
    with queued.app_context():  # ... made and stored the workbook, and was killed (kill -9)
        from app.extensions import db

        job = jobs.claim(db.session, job_id)
        assert job is not None
        run_report_job(job, jobs.Progress(db.sessions, job_id))
    dead = utcnow() - jobs.STALE_AFTER - timedelta(seconds=5)
    session.execute(update(Job).where(Job.id == job_id).values(heartbeat_at=dead))
    session.commit()
    assert _job(session, job_id).status is JobStatus.RUNNING and _exports(session) == 1
    retry_stalled_jobs()  # the periodic task queues the job again ...
    huey.execute(huey.dequeue())
    huey.execute(huey.dequeue())  # ... and another worker runs it
    job = _job(session, job_id)
    assert job.status is JobStatus.DONE and job.attempts == 2
    files = session.scalars(select(JobFile).where(JobFile.job_id == job_id)).all()
    assert len(files) == 1 and _exports(session) == 1  # one workbook, one audit entry
    body = client.get(f"{location}/file").data
    assert load_workbook(io.BytesIO(body)).active.title == "Svar"


def test_a_report_job_killed_before_the_file_was_made_makes_it_once(
    queued: Flask, session: Session, world: World
) -> None:
    from app.jobs import retry_stalled_jobs

    client = queued.test_client()
    login(client, world.staff[StaffRole.ANALYST])
    location = client.post(f"/staff/campaigns/{world.campaign.id}/report.xlsx").headers["Location"]
    job_id = int(location.rsplit("/", 1)[1])
    huey.flush()
    dead = utcnow() - jobs.STALE_AFTER - timedelta(seconds=5)
    session.execute(
        update(Job)
        .where(Job.id == job_id)
        .values(status=JobStatus.RUNNING, started_at=dead, heartbeat_at=dead, attempts=1)
    )
    session.commit()
    retry_stalled_jobs()
    huey.execute(huey.dequeue())
    huey.execute(huey.dequeue())
    assert _job(session, job_id).status is JobStatus.DONE
    assert len(session.scalars(select(JobFile).where(JobFile.job_id == job_id)).all()) == 1
    assert _exports(session) == 1


def test_report_files_are_for_the_organisation_and_the_permission_of_the_file(
    app: Flask, session: Session, world: World
) -> None:
    client = app.test_client()
    login(client, world.staff[StaffRole.ANALYST])
    pdf = client.post(f"/staff/campaigns/{world.campaign.id}/report.pdf").headers["Location"]
    xlsx = client.post(f"/staff/campaigns/{world.campaign.id}/report.xlsx").headers["Location"]
    assert client.get(f"{pdf}/file").status_code == 200
    assert client.get(f"{xlsx}/file").status_code == 200
    client.post("/staff/logout")
    # A viewer of the same organisation may read the report, not the answers.
    login(client, world.staff[StaffRole.VIEWER])
    assert client.get(f"{pdf}/file").status_code == 200
    assert client.get(f"{xlsx}/file").status_code == 403
    assert "/file" not in client.get(xlsx).get_data(as_text=True)  # no download offered
    client.post("/staff/logout")
    # An admin of another organisation gets nothing of it.
    login(client, make_staff(session, role="admin"))
    for location in (pdf, xlsx):
        assert client.get(f"{location}/file").status_code == 404
        assert client.get(location).status_code == 404


def test_the_queue_page_lists_recent_jobs_of_every_kind(
    app: Flask, session: Session, world: World
) -> None:
    client = app.test_client()
    login(client, world.staff[StaffRole.ADMIN])
    client.post(f"/staff/campaigns/{world.campaign.id}/report.pdf")
    client.post(f"/staff/campaigns/{world.campaign.id}/report.xlsx")
    jobs.request_job(
        session,
        kind="themes",
        key="themes:queued",
        organisation_id=world.organisation.id,
        requested_by_id=None,
        params={},
    )
    state = client.get("/staff/queue.json").get_json()
    assert [(j["kind"], j["status"]) for j in state["recent_jobs"]] == [
        ("themes", "queued"),
        ("report", "done"),
        ("report", "done"),
    ]
    assert state["schedule"]["retention_at"] == "02:30 UTC"
    assert state["schedule"]["backup_at"] is None
    page = client.get("/staff/queue").get_data(as_text=True)
    for words in ("Finder temaer", "Rapporten som PDF", "Svar med temaer (Excel)", "Venter"):
        assert words in page, words
    assert "Færdig" in page and "Ingen planlagt sikkerhedskopi" in page


def test_report_build_on_the_command_line_shows_progress(
    runner: FlaskCliRunner, session: Session, world: World, tmp_path: Path
) -> None:
    out = tmp_path / "svar.xlsx"
    result = runner.invoke(args=["report", "build", world.campaign.slug, "--out", str(out)])
    assert result.exit_code == 0, result.output
    assert result.output.startswith("XLSX\n")  # not a terminal: the bar's label only
    assert load_workbook(out).active.title == "Svar" and _exports(session) == 1
    terminal = _Terminal()
    with TerminalProgress("PDF", file=terminal) as progress:
        progress(0, 4, "Collecting")
        progress(2, 4, "Laying out the pages")
        progress(4, 4, "Done")
    drawn = terminal.getvalue()
    assert "PDF" in drawn and "2/4" in drawn and "Laying out the pages" in drawn
    assert "4/4  Done" in drawn


class _Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True
