"""The staff file import as a background job: the request hands the file to a job and goes to
its page at once; the worker checks every row and stores the answers in batches with
progress; a killed worker's job runs again without doubling answers; rows that are not
imported are listed with their reasons; other organisations cannot see the job."""

from __future__ import annotations

import io
import re
from datetime import timedelta

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from app.queue import huey
from surveys import imports, jobs
from surveys.models import Answer, AuditEntry, Job, JobFile, JobStatus, Moderation, Wall, utcnow
from tests.app.staff_helpers import login
from tests.app.test_jobs import queued  # noqa: F401  (the fixture: the queue not immediate)
from tests.factories import make_staff, make_wall


def _csv(rows: int, *, bad: dict[int, str] | None = None) -> bytes:
    """A file of ``rows`` answers (row numbers count the header as row 1); ``bad`` replaces
    the text of some rows."""
    texts = [f"Flere bænke ved legepladsen nr. {n} 🌳" for n in range(2, rows + 2)]
    for number, text in (bad or {}).items():
        texts[number - 2] = text
    return ("Svar\n" + "".join(f"{t}\n" for t in texts)).encode()


def _import(client: FlaskClient, wall: Wall, data: bytes, **form: str) -> str:
    """Upload, then import from the preview; the address the import went to."""
    page = client.post(
        f"/staff/walls/{wall.id}/import",
        data={"file": (io.BytesIO(data), "svar.csv")},
        content_type="multipart/form-data",
    ).get_data(as_text=True)
    found = re.search(r'name="upload" value="([^"]+)"', page)
    assert found is not None, page[:2000]
    response = client.post(
        f"/staff/walls/{wall.id}/import",
        data={"upload": found.group(1), "action": "import", "map_text": "Svar", **form},
    )
    assert response.status_code == 303
    return response.headers["Location"]


def _job(session: Session, location: str) -> Job:
    assert location.startswith("/staff/jobs/"), location
    session.expire_all()
    job = session.get(Job, int(location.rsplit("/", 1)[1]))
    assert job is not None
    return job


def _answers(session: Session, wall: Wall) -> int:
    session.expire_all()
    return session.scalar(select(func.count()).where(Answer.wall_id == wall.id)) or 0


@pytest.fixture
def wall(session: Session) -> Wall:
    return make_wall(session, prompts=("Hvad savner du?",), moderation=Moderation.POST)


def test_the_upload_returns_at_once_and_the_worker_imports_with_progress(
    queued: Flask,  # noqa: F811
    session: Session,
    wall: Wall,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(imports.background, "WRITE_BATCH", 300)
    client = queued.test_client()
    login(client, make_staff(session, wall.campaign.organisation, "manager"))
    data = _csv(1000, bad={8: "=SUM(A1:A3)"})
    location = _import(client, wall, data, skip_invalid="y")
    job = _job(session, location)
    # Nothing is imported in the request: the file waits with the job for a worker.
    assert job.status is JobStatus.QUEUED and _answers(session, wall) == 0
    (item,) = session.scalars(select(JobFile).where(JobFile.job_id == job.id))
    assert (item.role, item.name, item.data) == ("input", "svar.csv", data)
    page = client.get(location).get_data(as_text=True)
    assert "Importerer svar" in page and "<progress" in page and "Venter på sin tur" in page

    seen: list[tuple[int, int | None, str]] = []
    real_progress = jobs.Progress.__call__

    def watch(
        self: jobs.Progress, done: int, total: int | None = None, message: str | None = None
    ) -> None:
        seen.append((done, total, message or ""))
        real_progress(self, done, total, message)

    monkeypatch.setattr(jobs.Progress, "__call__", watch)
    huey.execute(huey.dequeue())  # a worker runs the job
    job = _job(session, location)
    assert job.status is JobStatus.DONE, job.error
    assert _answers(session, wall) == 999
    assert job.result is not None and (job.result["imported"], job.result["errors"]) == (999, 1)
    # Progress every few hundred rows while checking, and after every batch while saving.
    checking = [done for done, _total, message in seen if message == "Checking the rows"]
    saving = [done for done, _total, message in seen if message == "Saving the answers"]
    assert checking == [0, 250, 500, 750] and saving == [0, 300, 600, 900, 999]
    state = client.get(f"{location}/status.json").get_json()
    assert state["count"] == "999 af 999 svar" and state["finished"]
    page = client.get(location).get_data(as_text=True)
    assert "999 svar blev importeret (0 venter på moderation)" in page
    assert "Række 8: Teksten er en regnearksformel" in page
    audit = session.scalars(select(AuditEntry).where(AuditEntry.action == "answers.import")).one()
    assert audit.after is not None and audit.after["imported"] == 999


def test_asking_twice_while_it_waits_gives_the_same_job(
    queued: Flask,  # noqa: F811
    session: Session,
    wall: Wall,
) -> None:
    client = queued.test_client()
    login(client, make_staff(session, wall.campaign.organisation, "manager"))
    first = _import(client, wall, _csv(20))
    again = _import(client, wall, _csv(20))
    assert first == again and huey.pending_count() == 1


class Killed(BaseException):
    """The worker process dies (kill -9): nothing after this point runs."""


def test_a_killed_worker_s_import_runs_again_without_doubling_answers(
    queued: Flask,  # noqa: F811
    session: Session,
    wall: Wall,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from app.jobs import retry_stalled_jobs

    monkeypatch.setattr(imports.background, "WRITE_BATCH", 100)
    client = queued.test_client()
    manager = make_staff(session, wall.campaign.organisation, "manager")
    login(client, manager)
    # Duplicates are kept: only the rows' stable submission ids keep the re-run from doubling.
    data = _csv(450, bad={3: "x" * 5000})
    location = _import(client, wall, data, skip_invalid="y", keep_duplicates="y")
    huey.flush()  # the worker took the task ...
    job = jobs.claim(session, _job(session, location).id)
    assert job is not None

    def die_after_two_batches(done: int, total: int | None, message: str) -> None:
        if message == "Saving the answers" and done >= 200:
            raise Killed

    with pytest.raises(Killed):  # ... and was killed half way through saving
        imports.run_import(session, job, manager, die_after_two_batches)
    session.rollback()
    assert _answers(session, wall) == 200
    dead = utcnow() - jobs.STALE_AFTER - timedelta(seconds=5)
    session.execute(update(Job).where(Job.id == job.id).values(heartbeat_at=dead))
    session.commit()

    retry_stalled_jobs()  # the periodic task finds the job without a heartbeat ...
    huey.execute(huey.dequeue())  # ... queues it again ...
    huey.execute(huey.dequeue())  # ... and another worker runs it
    job = _job(session, location)
    assert job.status is JobStatus.DONE and job.attempts == 2
    assert _answers(session, wall) == 449  # every answer once, none twice
    texts = session.scalars(select(Answer.text).where(Answer.wall_id == wall.id)).all()
    assert len(set(texts)) == 449
    # The result counts the whole import, not only what the second attempt stored.
    assert job.result is not None and (job.result["imported"], job.result["errors"]) == (449, 1)
    assert job.result["duplicates"] == 0
    audits = session.scalars(select(AuditEntry).where(AuditEntry.action == "answers.import"))
    assert len(audits.all()) == 1
    page = client.get(location).get_data(as_text=True)
    assert "449 svar blev importeret" in page and "Række 3:" in page


def test_a_bad_row_beyond_the_preview_fails_the_job_and_nothing_is_stored(
    client: FlaskClient,
    session: Session,
    wall: Wall,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from app.staff import imports_views

    monkeypatch.setattr(imports_views, "PREVIEW_ROWS", 5)
    login(client, make_staff(session, wall.campaign.organisation, "manager"))
    # Row 40 is longer than any answer: the preview (5 rows) cannot see it, the job does.
    location = _import(client, wall, _csv(60, bad={40: "lang " * 3000}))
    job = _job(session, location)
    assert job.status is JobStatus.FAILED and _answers(session, wall) == 0
    page = client.get(location).get_data(as_text=True)
    assert "alert-error" in page and "Række 40 har en celle med mere end 10000 tegn" in page


def test_rows_with_errors_refuse_the_whole_file_unless_skipped(
    client: FlaskClient, session: Session, wall: Wall
) -> None:
    login(client, make_staff(session, wall.campaign.organisation, "manager"))
    location = _import(client, wall, _csv(30, bad={12: "=A1", 20: "=B2"}))
    job = _job(session, location)
    assert job.status is JobStatus.FAILED and _answers(session, wall) == 0
    page = client.get(location).get_data(as_text=True)
    assert "2 rækker har fejl, så intet er importeret" in page
    assert "Række 12:" in page and "Række 20:" in page
    assert session.scalar(select(func.count()).select_from(AuditEntry).where(
        AuditEntry.action == "answers.import")) == 0  # fmt: skip


def test_another_organisation_cannot_see_an_import_job(
    client: FlaskClient, session: Session, wall: Wall
) -> None:
    login(client, make_staff(session, wall.campaign.organisation, "manager"))
    location = _import(client, wall, _csv(5, bad={3: "=A1"}), skip_invalid="y")
    assert _job(session, location).status is JobStatus.DONE
    client.post("/staff/logout")
    login(client, make_staff(session, role="admin"))  # an admin of another organisation
    assert client.get(location).status_code == 404
    assert client.get(f"{location}/status.json").status_code == 404
    # Nor import into the other organisation's wall.
    response = client.post(
        f"/staff/walls/{wall.id}/import",
        data={"file": (io.BytesIO(_csv(3)), "svar.csv")},
        content_type="multipart/form-data",
    )
    assert response.status_code == 404
