"""Nightly upkeep on the task queue: retention, then (when a folder is set) a backup.

Huey's scheduler in every worker queues these periodic tasks (times in UTC); with several
workers each queues them, so each task takes a lock on the queue (``huey.lock_task``: one at
a time, on the SQLite queue file or Redis) and is safe to repeat: retention finds nothing
left to do, and a backup is not made again within 20 hours of the last
(``surveys.backup.scheduled_backup``). Both log what they did. ``flask --app wsgi retention
run`` and ``flask --app wsgi backup`` do the same by hand.
"""

from __future__ import annotations

import logging
from datetime import timedelta
from pathlib import Path
from typing import Any

from flask import current_app
from huey import crontab

from surveys.backup import BackupError, scheduled_backup
from surveys.retention import RetentionReport, run_retention

from .extensions import db
from .queue import huey, in_app_context

log = logging.getLogger(__name__)

#: When the nightly tasks run (UTC): retention first, so that the backup after it does not
#: hold what retention deleted that night.
RETENTION_HOUR, RETENTION_MINUTE = 2, 30
BACKUP_HOUR, BACKUP_MINUTE = 3, 15


def retention_summary(report: RetentionReport) -> str:
    """What a retention run did, in one line (for the log and the command line)."""
    return (
        f"anonymised {report.anonymised} and deleted {report.deleted} answers in "
        f"{len(report.campaigns)} campaigns with a retention period; deleted "
        f"{report.old_jobs.jobs} background jobs that ended over the keeping time, with "
        f"{report.old_jobs.files} files ({report.old_jobs.bytes:,} bytes)"
    )


def job_keep() -> timedelta:
    """How long finished jobs and their files are kept (``JOB_KEEP_DAYS``)."""
    return timedelta(days=int(current_app.config["JOB_KEEP_DAYS"]))


@huey.periodic_task(crontab(hour=str(RETENTION_HOUR), minute=str(RETENTION_MINUTE)))
@huey.lock_task("stemmer-retention")
@in_app_context
def nightly_retention() -> dict[str, int]:
    """Every night: each campaign's retention period, and old background jobs deleted."""
    report = run_retention(db.session, keep_jobs=job_keep())
    log.info("retention: %s", retention_summary(report))
    return {
        "anonymised": report.anonymised,
        "deleted": report.deleted,
        "jobs_deleted": report.old_jobs.jobs,
        "files_deleted": report.old_jobs.files,
    }


def backup_folder() -> Path | None:
    """The folder of the nightly backup, or None when it is off (``BACKUP_DIR`` unset)."""
    configured = current_app.config.get("BACKUP_DIR")
    return Path(configured) if configured else None


@huey.periodic_task(crontab(hour=str(BACKUP_HOUR), minute=str(BACKUP_MINUTE)))
@huey.lock_task("stemmer-backup")
@in_app_context
def nightly_backup() -> str | None:
    """Every night, when ``BACKUP_DIR`` is set: a backup there, keeping the newest
    ``BACKUP_KEEP``; the file's name, or None."""
    folder = backup_folder()
    if folder is None:
        return None
    try:
        outcome = scheduled_backup(
            current_app.config["DATABASE_URL"], folder, int(current_app.config["BACKUP_KEEP"])
        )
    except BackupError:
        log.exception("the nightly backup to %s failed", folder)
        raise
    for path in outcome.removed:
        log.info("backup: removed the old scheduled backup %s", path)
    if outcome.made is None:
        log.info("backup: none made, %s", outcome.skipped)
        return None
    log.info("backup: wrote %s (%s bytes)", outcome.made.path, f"{outcome.made.size:,}")
    return str(outcome.made.path)


def schedule() -> dict[str, Any]:
    """The nightly tasks as the queue's status page shows them."""
    folder = backup_folder()
    return {
        "retention_at": f"{RETENTION_HOUR:02d}:{RETENTION_MINUTE:02d} UTC",
        "job_keep_days": int(current_app.config["JOB_KEEP_DAYS"]),
        "backup_at": f"{BACKUP_HOUR:02d}:{BACKUP_MINUTE:02d} UTC" if folder else None,
        "backup_keep": int(current_app.config["BACKUP_KEEP"]) if folder else None,
    }
