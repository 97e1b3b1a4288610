"""``flask --app wsgi backup [create|restore|verify]``: back up and restore the database."""

from __future__ import annotations

from pathlib import Path

import click
from flask import current_app
from flask.cli import AppGroup

from surveys.backup import (
    BackupError,
    BackupSummary,
    backup_database,
    default_backup_path,
    restore_database,
    verify_backup,
)

from .cli_progress import TerminalProgress
from .extensions import db


def _describe(summary: BackupSummary) -> str:
    parts = [f"{summary.path} ({summary.kind}, {summary.size:,} bytes"]
    if summary.revision:
        parts.append(f", schema {summary.revision}")
    if summary.answers is not None:
        parts.append(f", {summary.answers} answers")
    if summary.tables is not None:
        parts.append(f", {summary.tables} tables")
    return "".join(parts) + ")"


def _backup_dir() -> Path:
    configured = current_app.config["BACKUP_DIR"]
    return Path(configured) if configured else Path(current_app.instance_path) / "backups"


@click.group("backup", cls=AppGroup, invoke_without_command=True)
@click.pass_context
def backup_cli(context: click.Context) -> None:
    """Back up and restore the database; without a command, make a backup."""
    if context.invoked_subcommand is None:
        context.invoke(backup_create)


@backup_cli.command("create")
@click.option(
    "--output",
    "-o",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Backup file (default: $STEMMER_BACKUP_DIR or instance/backups, "
    "stemmer-<UTC time>.sqlite3|.dump).",
)
def backup_create(output: Path | None = None) -> None:
    """Back up the database while the app keeps running."""
    url = current_app.config["DATABASE_URL"]
    try:
        target = output or default_backup_path(_backup_dir(), url)
        with TerminalProgress("Backup") as progress:
            summary = backup_database(url, target, progress)
    except BackupError as error:
        raise click.ClickException(str(error)) from error
    click.echo(f"Backup written: {_describe(summary)}")


@backup_cli.command("verify")
@click.argument("path", type=click.Path(exists=True, dir_okay=False, path_type=Path))
def backup_verify(path: Path) -> None:
    """Check that a backup file is complete and readable."""
    try:
        summary = verify_backup(path)
    except BackupError as error:
        raise click.ClickException(str(error)) from error
    click.echo(f"Backup is readable: {_describe(summary)}")


@backup_cli.command("restore")
@click.argument("path", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--yes", is_flag=True, help="Do not ask for confirmation.")
@click.option(
    "--no-safety-backup",
    is_flag=True,
    help="Do not back up the current database before replacing it.",
)
def backup_restore(path: Path, yes: bool, no_safety_backup: bool) -> None:
    """Replace the database with a backup (stop the app servers first)."""
    url = current_app.config["DATABASE_URL"]
    try:
        summary = verify_backup(path)
    except BackupError as error:
        raise click.ClickException(str(error)) from error
    if not yes:
        click.confirm(
            f"Replace the database with {_describe(summary)}? Answers stored since then are lost",
            abort=True,
        )
    # Let go of the app's own connections so that nothing holds a lock during the restore.
    db.session.close()
    db.engine.dispose()
    try:
        if not no_safety_backup:
            safety = backup_database(url, default_backup_path(_backup_dir(), url))
            click.echo(f"Current database saved first: {safety.path}")
        restore_database(url, path)
    except BackupError as error:
        raise click.ClickException(str(error)) from error
    click.echo(f"Restored {_describe(summary)}.")
    click.echo("Run 'flask --app wsgi db upgrade' if the backup is from an older version.")
