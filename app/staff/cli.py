"""Command line of the staff area: ``flask --app wsgi retention run``."""

from __future__ import annotations

import click
from flask.cli import AppGroup

from surveys.retention import run_retention

from ..cli_progress import TerminalProgress
from ..extensions import db
from ..maintenance import job_keep

retention_cli = AppGroup("retention", help="Retention of answers (GDPR).")


@retention_cli.command("run")
@click.option("--dry-run", is_flag=True, help="Only report what would be done.")
def retention_run(dry_run: bool) -> None:
    """Anonymise or delete answers older than their campaign's retention period, and delete
    background jobs (with their files) that ended more than JOB_KEEP_DAYS ago.

    Idempotent and safe to run any time; the task queue's worker runs it every night.
    """
    with TerminalProgress("Retention") as progress:
        report = run_retention(db.session, dry_run=dry_run, keep_jobs=job_keep(), progress=progress)
    verb = "Would" if dry_run else "Did"
    for item in report.campaigns:
        click.echo(
            f"{item.slug}: {item.action.value} {item.answers} answers older than "
            f"{item.cutoff.date().isoformat()}"
        )
    click.echo(
        f"{verb} anonymise {report.anonymised} and delete {report.deleted} answers "
        f"in {len(report.campaigns)} campaigns with a retention period."
    )
    click.echo(
        f"{verb} delete {report.old_jobs.jobs} background jobs that ended over "
        f"{job_keep().days} days ago, with {report.old_jobs.files} files."
    )
