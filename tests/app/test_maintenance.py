"""The nightly tasks on the queue: retention (answers, and old jobs with their files) and the
optional backup; both safe to repeat, both with progress on the command line."""

from __future__ import annotations

import io
import logging
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskCliRunner
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from app.cli_progress import TerminalProgress
from surveys import jobs
from surveys.backup import SCHEDULED_PREFIX, database_kind, scheduled_backup, scheduled_backups
from surveys.models import Answer, Job, JobFile, JobStatus, RetentionAction, utcnow
from surveys.retention import run_retention
from tests.factories import make_answer, make_organisation, make_wall


def _job(session: Session, organisation_id: int, status: JobStatus, ended_days_ago: float) -> int:
    ended = utcnow() - timedelta(days=ended_days_ago)
    job = Job(
        kind="report",
        key=f"report:{status.value}:{ended_days_ago}",
        status=status,
        organisation_id=organisation_id,
        params={"campaign_id": 1, "format": "pdf"},
        created_at=ended - timedelta(minutes=1),
        finished_at=ended if status in (JobStatus.DONE, JobStatus.FAILED) else None,
    )
    session.add(job)
    session.flush()
    jobs.add_file(
        session, job.id, role="output", name="r.pdf", content_type="application/pdf", data=b"%PDF"
    )
    session.commit()
    return job.id


def _ids(session: Session) -> tuple[list[int], int]:
    session.expire_all()
    ids = list(session.scalars(select(Job.id).order_by(Job.id)))
    files = session.scalar(select(func.count(JobFile.id))) or 0
    session.commit()
    return ids, files


def test_the_nightly_retention_removes_old_jobs_and_their_files_and_old_answers(
    app: Flask, session: Session, caplog: pytest.LogCaptureFixture
) -> None:
    from app.maintenance import nightly_retention

    organisation = make_organisation(session)
    old_done = _job(session, organisation.id, JobStatus.DONE, 31)
    old_failed = _job(session, organisation.id, JobStatus.FAILED, 40)
    recent = _job(session, organisation.id, JobStatus.DONE, 29)
    running = _job(session, organisation.id, JobStatus.RUNNING, 60)  # never deleted
    wall = make_wall(session, organisation=organisation)
    wall.campaign.retention_months = 12
    wall.campaign.retention_action = RetentionAction.DELETE
    make_answer(session, wall, "Gammelt svar", created_at=utcnow() - timedelta(days=400))
    make_answer(session, wall, "Nyt svar")
    session.commit()
    with caplog.at_level(logging.INFO, logger="app.maintenance"):
        outcome = nightly_retention.call_local()  # the periodic task's work, as a worker does it
    assert outcome == {"anonymised": 0, "deleted": 1, "jobs_deleted": 2, "files_deleted": 2}
    assert _ids(session) == ([recent, running], 2)
    assert old_done and old_failed
    assert list(session.scalars(select(Answer.text))) == ["Nyt svar"]
    assert "deleted 1 answers" in caplog.text and "deleted 2 background jobs" in caplog.text
    # Again (another worker's scheduler queued it too): nothing more to do.
    assert nightly_retention.call_local() == {
        "anonymised": 0,
        "deleted": 0,
        "jobs_deleted": 0,
        "files_deleted": 0,
    }
    assert _ids(session) == ([recent, running], 2)
    # The scheduler of every worker queues it at 02:30 UTC.
    assert nightly_retention.s().validate_datetime(datetime(2026, 12, 8, 2, 30))
    assert not nightly_retention.s().validate_datetime(datetime(2026, 12, 8, 3, 30))


def test_job_keep_days_is_a_setting(make_app: Callable[..., Flask], session: Session) -> None:
    from app.maintenance import nightly_retention

    make_app(JOB_KEEP_DAYS=7)
    organisation = make_organisation(session)
    _job(session, organisation.id, JobStatus.DONE, 8)
    kept = _job(session, organisation.id, JobStatus.DONE, 6)
    assert nightly_retention.call_local()["jobs_deleted"] == 1
    assert _ids(session) == ([kept], 1)


def test_retention_on_the_command_line_reports_jobs_and_draws_progress(
    runner: FlaskCliRunner, session: Session
) -> None:
    organisation = make_organisation(session)
    _job(session, organisation.id, JobStatus.DONE, 31)
    dry = runner.invoke(args=["retention", "run", "--dry-run"])
    assert "Would delete 1 background jobs that ended over 30 days ago, with 1 files" in dry.output
    assert len(_ids(session)[0]) == 1
    result = runner.invoke(args=["retention", "run"])
    assert result.exit_code == 0, result.output
    assert "Did delete 1 background jobs" in result.output and _ids(session) == ([], 0)
    # On a terminal: "1.200 af 4.000"-style progress over the answers due.
    wall = make_wall(session, organisation=organisation)
    wall.campaign.retention_months = 12
    wall.campaign.retention_action = RetentionAction.ANONYMISE
    for i in range(3):
        make_answer(session, wall, f"Svar {i}", created_at=utcnow() - timedelta(days=400))
    terminal = _Terminal()
    with TerminalProgress("Retention", file=terminal) as progress:
        report = run_retention(session, progress=progress)
    assert report.anonymised == 3 and "3/3" in terminal.getvalue()


def test_the_nightly_backup_is_off_without_a_folder(app: Flask) -> None:
    from app.maintenance import nightly_backup

    assert nightly_backup.call_local() is None
    assert not (Path(app.instance_path) / "backups").exists()


def test_the_nightly_backup_makes_one_a_day_and_keeps_the_newest(
    make_app: Callable[..., Flask], database_url: str, session: Session, tmp_path: Path
) -> None:
    from app.maintenance import nightly_backup

    folder = tmp_path / "nightly"
    make_app(BACKUP_DIR=str(folder), BACKUP_KEEP=2)
    wall = make_wall(session)
    make_answer(session, wall, "Gemmes i backuppen")
    session.commit()
    manual = folder / "stemmer-20260101-000000.sqlite3"
    folder.mkdir()
    manual.write_bytes(b"kept: flask backup wrote it")
    made = nightly_backup.call_local()
    assert made is not None and Path(made).name.startswith(SCHEDULED_PREFIX)
    assert nightly_backup.call_local() is None  # run again the same night: not made twice
    assert len(scheduled_backups(folder)) == 1
    # Three more nights: only the newest two scheduled backups stay; the manual one too.
    for night in (1, 2, 3):
        later = datetime.now(UTC) + timedelta(days=night)
        outcome = scheduled_backup(database_url, folder, keep=2, now=later)
        assert outcome.made is not None
    names = [path.name for _when, path in scheduled_backups(folder)]
    assert len(names) == 2 and manual.exists()
    kind = database_kind(database_url)
    assert all(name.endswith(".sqlite3" if kind == "sqlite" else ".dump") for name in names)


def test_backup_on_the_command_line_draws_progress(
    database_url: str, session: Session, tmp_path: Path
) -> None:
    from surveys.backup import backup_database

    make_answer(session, make_wall(session), "Et svar")
    terminal = _Terminal()
    with TerminalProgress("Backup", file=terminal) as progress:
        summary = backup_database(database_url, tmp_path / "b", progress)
    drawn = terminal.getvalue()
    assert summary.size > 0 and "Backup" in drawn and "[####" in drawn


class _Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True
