"""Backups and restore, on the test's own database (SQLite, or PostgreSQL under test-pg)."""

from __future__ import annotations

import stat
from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskCliRunner
from sqlalchemy import delete, select
from sqlalchemy import text as sql
from sqlalchemy.orm import Session

from app import create_app
from surveys.backup import (
    BackupError,
    backup_database,
    backup_kind,
    database_kind,
    default_backup_path,
    restore_database,
    verify_backup,
)
from surveys.db import make_engine, make_session_factory
from surveys.models import Answer, Wall
from tests.databases import TemplateDatabase
from tests.factories import make_answer, make_wall


def _texts(session: Session) -> list[str]:
    session.expire_all()
    texts = list(session.scalars(select(Answer.text).order_by(Answer.id)))
    session.commit()  # end the read transaction: a restore must not wait for it
    return texts


def _world(session: Session) -> list[str]:
    wall = make_wall(session, "backup-vaeg")
    for text in ("Flere bænke", "Længere åbningstider", "Bedre cykelstier 🚲"):
        make_answer(session, wall, text)
    return _texts(session)


def test_backup_then_restore_brings_back_exactly_that_moment(
    session: Session, database_url: str, tmp_path: Path
) -> None:
    before = _world(session)
    summary = backup_database(database_url, tmp_path / "backups" / "one")
    assert summary.kind == database_kind(database_url)
    assert summary.size > 0
    if summary.kind == "sqlite":
        assert summary.answers == 3
        assert summary.revision
    else:
        assert summary.tables and summary.tables >= 5

    # Life goes on: a new answer, a deleted one.
    wall = session.scalars(select(Wall)).one()
    make_answer(session, wall, "Efter backup")
    session.execute(delete(Answer).where(Answer.text == "Flere bænke"))
    session.commit()
    assert _texts(session) != before
    session.close()

    restore_database(database_url, tmp_path / "backups" / "one")
    assert _texts(session) == before
    # The restored database takes new answers as before.
    make_answer(session, session.scalars(select(Wall)).one(), "Efter gendannelsen")
    assert _texts(session) == [*before, "Efter gendannelsen"]


def _schema_revision(session: Session) -> str | None:
    return session.scalar(sql("SELECT version_num FROM alembic_version"))


def test_a_backup_restores_onto_a_new_servers_empty_database(
    session: Session, database_url: str, template_db: TemplateDatabase, tmp_path: Path
) -> None:
    """Disaster recovery (docs/operations.md): the backup restored into a new, empty
    database has the answers and the schema, and takes new answers after them."""
    before = _world(session)
    revision = _schema_revision(session)
    backup = backup_database(database_url, tmp_path / "backups" / "nightly").path
    session.close()
    with template_db.empty(tmp_path) as new_url:
        restore_database(new_url, backup)
        engine = make_engine(new_url)
        try:
            with make_session_factory(engine)() as restored:
                assert _texts(restored) == before
                assert _schema_revision(restored) == revision
                wall = restored.scalars(select(Wall)).one()
                make_answer(restored, wall, "Det første svar på den nye server")
                assert _texts(restored) == [*before, "Det første svar på den nye server"]
        finally:
            engine.dispose()
    assert _texts(session) == before  # the old database was only read


def test_backup_files_are_private_complete_and_never_overwritten(
    session: Session, database_url: str, tmp_path: Path
) -> None:
    _world(session)
    target = default_backup_path(tmp_path / "backups", database_url)
    assert target.name.startswith("stemmer-")
    backup_database(database_url, target)
    assert stat.S_IMODE(target.stat().st_mode) == 0o600
    assert stat.S_IMODE(target.parent.stat().st_mode) == 0o700
    assert [p.name for p in target.parent.iterdir()] == [target.name]  # no partial files
    assert backup_kind(target) == database_kind(database_url)
    with pytest.raises(BackupError, match="exists already"):
        backup_database(database_url, target)


def test_damaged_or_foreign_files_are_refused(
    session: Session, database_url: str, tmp_path: Path
) -> None:
    _world(session)
    good = backup_database(database_url, tmp_path / "good").path
    truncated = tmp_path / "truncated"
    truncated.write_bytes(good.read_bytes()[: good.stat().st_size // 2])
    text_file = tmp_path / "notes.txt"
    text_file.write_text("not a backup")
    for path in (truncated, text_file):
        with pytest.raises(BackupError):
            verify_backup(path)
        with pytest.raises(BackupError):
            restore_database(database_url, path)
    assert len(_texts(session)) == 3  # nothing was touched


def test_a_backup_of_the_other_database_kind_is_refused(
    session: Session, database_url: str, tmp_path: Path
) -> None:
    _world(session)
    if database_kind(database_url) == "sqlite":
        other = tmp_path / "other.sqlite3"
        backup_database(database_url, other)
        with pytest.raises(BackupError, match="sqlite backup; the database is postgresql"):
            restore_database("postgresql://nobody@127.0.0.1:1/none", other)
    else:
        sqlite_url = f"sqlite:///{tmp_path / 'plain.db'}"
        with pytest.raises(BackupError, match="postgresql backup; the database is sqlite"):
            restore_database(sqlite_url, backup_database(database_url, tmp_path / "pg").path)


def test_cli_backup_verify_and_restore(
    app: Flask, runner: FlaskCliRunner, session: Session
) -> None:
    before = _world(session)
    created = runner.invoke(args=["backup"])
    assert created.exit_code == 0, created.output
    backups = Path(app.instance_path) / "backups"
    [backup] = list(backups.iterdir())
    assert str(backup) in created.output

    verified = runner.invoke(args=["backup", "verify", str(backup)])
    assert verified.exit_code == 0, verified.output
    assert "readable" in verified.output

    make_answer(session, session.scalars(select(Wall)).one(), "Efter backup")
    refused = runner.invoke(args=["backup", "restore", str(backup)], input="n\n")
    assert refused.exit_code != 0
    assert len(_texts(session)) == 4

    restored = runner.invoke(args=["backup", "restore", str(backup), "--yes"])
    assert restored.exit_code == 0, restored.output
    assert "Current database saved first" in restored.output
    assert _texts(session) == before
    assert len(list(backups.iterdir())) == 2  # the backup and the safety copy

    bad = runner.invoke(args=["backup", "create", "--output", str(backup)])
    assert bad.exit_code != 0 and "exists already" in bad.output


def test_cli_restore_on_a_new_server_as_the_operations_guide_says(
    session: Session, database_url: str, template_db: TemplateDatabase, tmp_path: Path
) -> None:
    """docs/operations.md, "Restore on a new server": an empty database, then
    ``backup restore FILE --no-safety-backup --yes`` and ``db upgrade``."""
    before = _world(session)
    backup = backup_database(database_url, tmp_path / "backups" / "nightly").path
    with template_db.empty(tmp_path) as new_url:
        app = create_app({"TESTING": True, "DATABASE_URL": new_url, "SECRET_KEY": "new-server"})
        app.instance_path = str(tmp_path / "new-instance")
        try:
            runner = app.test_cli_runner()
            restored = runner.invoke(
                args=["backup", "restore", str(backup), "--no-safety-backup", "--yes"]
            )
            assert restored.exit_code == 0, restored.output
            upgraded = runner.invoke(args=["db", "upgrade"])
            assert upgraded.exit_code == 0, upgraded.output
        finally:
            app.extensions["stemmer.db"].engine.dispose()
        engine = make_engine(new_url)
        try:
            with make_session_factory(engine)() as new_session:
                assert _texts(new_session) == before
        finally:
            engine.dispose()
