"""Backups of the database and restoring them, for SQLite and PostgreSQL.

- SQLite: the online backup API copies a consistent snapshot while the app keeps serving
  (WAL readers and writers are not stopped); restore copies a backup back the same way.
- PostgreSQL: ``pg_dump --format=custom`` and ``pg_restore --clean --single-transaction``
  (all or nothing). The client tools must be at least the server's major version.

Backups hold citizens' answers: files are written with mode 600 in a directory of mode 700,
and appear under their final name only when complete.

:func:`scheduled_backup` is the nightly backup the task queue makes when a folder is set
(``STEMMER_BACKUP_DIR``, ``app/maintenance.py``): at most one a day, keeping the newest few.
"""

from __future__ import annotations

import os
import re
import shutil
import sqlite3
import subprocess
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import inspect
from sqlalchemy.engine import URL, make_url

from .db import make_engine, normalise_url

#: Told how far a backup is: ``done`` of ``total`` (SQLite pages, PostgreSQL tables).
BackupProgress = Callable[[int, int], None]

SQLITE_MAGIC = b"SQLite format 3\x00"
PG_DUMP_MAGIC = b"PGDMP"
SUFFIXES = {"sqlite": ".sqlite3", "postgresql": ".dump"}


class BackupError(Exception):
    """A backup or restore could not be made; the message says why (English, for the CLI)."""


@dataclass(frozen=True)
class BackupSummary:
    """What a backup file holds, as far as can be seen without restoring it."""

    path: Path
    kind: str  # "sqlite" or "postgresql"
    size: int
    #: Alembic revision of the schema (SQLite backups; None for pg_dump files).
    revision: str | None
    #: Number of answers (SQLite backups), or None.
    answers: int | None
    #: Number of table-data entries in a pg_dump archive, or None.
    tables: int | None = None


def database_kind(url: str) -> str:
    """``sqlite`` or ``postgresql``; anything else is a :class:`BackupError`."""
    backend = make_url(normalise_url(url)).get_backend_name()
    if backend not in SUFFIXES:
        raise BackupError(f"Backups support SQLite and PostgreSQL, not {backend}.")
    return backend


def default_backup_path(
    directory: Path, url: str, now: datetime | None = None, *, prefix: str = "stemmer"
) -> Path:
    """``<directory>/stemmer-YYYYmmdd-HHMMSS.<sqlite3|dump>`` (UTC; ``-2`` etc. if taken)."""
    stamp = (now or datetime.now(UTC)).strftime("%Y%m%d-%H%M%S")
    suffix = SUFFIXES[database_kind(url)]
    path = directory / f"{prefix}-{stamp}{suffix}"
    number = 1
    while path.exists():
        number += 1
        path = directory / f"{prefix}-{stamp}-{number}{suffix}"
    return path


#: Scheduled backups are named ``stemmer-scheduled-<UTC time>``; only these are pruned.
SCHEDULED_PREFIX = "stemmer-scheduled"
_SCHEDULED_NAME = re.compile(rf"^{SCHEDULED_PREFIX}-(\d{{8}}-\d{{6}})(-\d+)?(\.sqlite3|\.dump)$")
#: A scheduled backup is not made again within this time of the last one (several workers
#: each run the nightly task; a worker started again runs it once more).
SCHEDULED_MIN_GAP = timedelta(hours=20)


@dataclass(frozen=True)
class ScheduledBackup:
    """What :func:`scheduled_backup` did."""

    made: BackupSummary | None
    #: Why none was made (the last one is recent), or None.
    skipped: str | None
    removed: list[Path]


def scheduled_backups(directory: Path) -> list[tuple[datetime, Path]]:
    """The scheduled backups in ``directory``, oldest first, with when they were made."""
    found = []
    if directory.is_dir():
        for path in directory.iterdir():
            match = _SCHEDULED_NAME.match(path.name)
            if match:
                made = datetime.strptime(match.group(1), "%Y%m%d-%H%M%S").replace(tzinfo=UTC)
                found.append((made, path))
    return sorted(found)


def scheduled_backup(
    url: str, directory: Path, keep: int, now: datetime | None = None
) -> ScheduledBackup:
    """Make the nightly backup in ``directory`` unless one was made in the last 20 hours,
    then delete all but the newest ``keep`` scheduled backups there (files that
    ``flask backup`` wrote are never deleted). Safe to run again."""
    now = now or datetime.now(UTC)
    existing = scheduled_backups(directory)
    made = None
    skipped = None
    if existing and now - existing[-1][0] < SCHEDULED_MIN_GAP:
        skipped = f"the last scheduled backup, {existing[-1][1].name}, is recent"
    else:
        path = default_backup_path(directory, url, now, prefix=SCHEDULED_PREFIX)
        made = backup_database(url, path)
        existing.append((now, path))
    removed = [path for _when, path in existing[: max(0, len(existing) - max(keep, 1))]]
    for path in removed:
        path.unlink(missing_ok=True)
    return ScheduledBackup(made=made, skipped=skipped, removed=removed)


def backup_database(
    url: str, destination: Path, progress: BackupProgress | None = None
) -> BackupSummary:
    """Write a backup of the database at ``url`` to ``destination`` (not overwritten);
    ``progress`` hears how far it is (SQLite: pages copied; PostgreSQL: tables dumped)."""
    kind = database_kind(url)
    destination = Path(destination)
    if destination.exists():
        raise BackupError(f"{destination} exists already; choose another file.")
    destination.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    fd, partial_name = tempfile.mkstemp(
        prefix=f".{destination.name}.", suffix=".partial", dir=destination.parent
    )
    os.close(fd)
    partial = Path(partial_name)
    try:
        if kind == "sqlite":
            partial.unlink()
            _sqlite_copy(_sqlite_path(url), partial, journal_mode="DELETE", progress=progress)
        else:
            _pg_dump(url, partial, progress)
        partial.chmod(0o600)
        partial.replace(destination)
    finally:
        partial.unlink(missing_ok=True)
    return verify_backup(destination)


def verify_backup(path: Path) -> BackupSummary:
    """Check that ``path`` is a complete, readable backup and summarise it."""
    path = Path(path)
    kind = backup_kind(path)
    size = path.stat().st_size
    if kind == "sqlite":
        connection = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
        try:
            check = connection.execute("PRAGMA integrity_check").fetchone()
            if not check or check[0] != "ok":
                raise BackupError(f"{path} is damaged: {check[0] if check else 'no result'}.")
            revision = _first(connection, "SELECT version_num FROM alembic_version")
            answers = _first(connection, "SELECT count(*) FROM answer")
        except sqlite3.DatabaseError as error:
            raise BackupError(f"{path} is not a Stemmer database: {error}.") from error
        finally:
            connection.close()
        return BackupSummary(
            path, kind, size, str(revision), int(answers) if answers is not None else None
        )
    listing = _run("pg_restore", "--list", str(path))
    tables = sum(1 for line in listing.splitlines() if " TABLE DATA " in line)
    if tables == 0:
        raise BackupError(f"{path} holds no table data.")
    return BackupSummary(path, kind, size, None, None, tables)


def backup_kind(path: Path) -> str:
    """``sqlite`` or ``postgresql`` from the file's first bytes."""
    try:
        with open(path, "rb") as handle:
            head = handle.read(len(SQLITE_MAGIC))
    except OSError as error:
        raise BackupError(f"Cannot read {path}: {error.strerror}.") from error
    if head.startswith(SQLITE_MAGIC):
        return "sqlite"
    if head.startswith(PG_DUMP_MAGIC):
        return "postgresql"
    raise BackupError(f"{path} is neither an SQLite backup nor a pg_dump archive.")


def restore_database(url: str, source: Path) -> BackupSummary:
    """Replace the database at ``url`` with the backup ``source``.

    Stop the app servers first (or accept that requests during the restore fail with 503).
    Afterwards run ``flask --app wsgi db upgrade`` when the backup is from an older version.
    """
    summary = verify_backup(source)
    kind = database_kind(url)
    if summary.kind != kind:
        raise BackupError(f"{source} is a {summary.kind} backup; the database is {kind}.")
    if kind == "sqlite":
        target = _sqlite_path(url)
        target.parent.mkdir(parents=True, exist_ok=True)
        _sqlite_copy(Path(source), target, journal_mode="WAL")
    else:
        _run(
            "pg_restore",
            "--clean",
            "--if-exists",
            "--no-owner",
            "--no-privileges",
            "--single-transaction",
            "--exit-on-error",
            str(source),
            url=url,
        )
    return summary


def _sqlite_path(url: str) -> Path:
    database = make_url(normalise_url(url)).database
    if not database or database == ":memory:":
        raise BackupError("An in-memory SQLite database cannot be backed up.")
    return Path(database)


def _sqlite_copy(
    source: Path, target: Path, journal_mode: str, progress: BackupProgress | None = None
) -> None:
    """Copy a database with SQLite's online backup API (a consistent snapshot).

    A backup file gets ``journal_mode=DELETE`` (one self-contained file); a restored live
    database goes back to WAL, as the app uses it.
    """
    if not source.exists():
        raise BackupError(f"{source} does not exist.")
    reader = sqlite3.connect(f"file:{source}?mode=ro", uri=True, timeout=30)
    writer = sqlite3.connect(target, timeout=30)
    try:
        reader.backup(
            writer,
            pages=1024,
            progress=(lambda _s, left, total: progress(total - left, total)) if progress else None,
        )
        writer.execute(f"PRAGMA journal_mode={journal_mode}")
    except sqlite3.Error as error:
        raise BackupError(f"Copying {source} failed: {error}.") from error
    finally:
        writer.close()
        reader.close()


def _pg_dump(url: str, target: Path, progress: BackupProgress | None) -> None:
    """``pg_dump --format=custom`` of the whole database to ``target``. With ``progress``
    it runs ``--verbose`` and counts the tables whose data it has dumped."""
    args = ["--format=custom", "--no-owner", "--no-privileges", f"--file={target}"]
    if progress is None:
        _run("pg_dump", *args, url=url)
        return
    engine = make_engine(url)
    try:
        with engine.connect() as connection:
            total = len(inspect(connection).get_table_names())
    finally:
        engine.dispose()
    connection_url, env = _libpq(url)
    command = [_tool("pg_dump"), "--verbose", *args, f"--dbname={connection_url}"]
    lines: list[str] = []
    with subprocess.Popen(
        command, stderr=subprocess.PIPE, stdout=subprocess.DEVNULL, text=True, env=env
    ) as process:
        assert process.stderr is not None
        done = 0
        progress(0, total)
        for line in process.stderr:
            lines.append(line)
            if "dumping contents of table" in line:
                done += 1
                progress(min(done, total), total)
    if process.returncode != 0:
        errors = [line.strip() for line in lines if "error" in line.lower()] or lines[-1:]
        raise BackupError(f"pg_dump failed: {errors[-1] if errors else process.returncode}")
    progress(total, total)


def _first(connection: sqlite3.Connection, statement: str) -> Any:
    """The first column of the first row (None without rows); sqlite3's values are untyped."""
    row = connection.execute(statement).fetchone()
    return row[0] if row else None


def _tool(name: str) -> str:
    """The PostgreSQL client program: on PATH, else the newest under /usr/lib/postgresql."""
    found = shutil.which(name)
    if found:
        return found
    candidates = sorted(
        Path("/usr/lib/postgresql").glob(f"*/bin/{name}"),
        key=lambda p: int(p.parent.parent.name) if p.parent.parent.name.isdecimal() else 0,
    )
    if candidates:
        return str(candidates[-1])
    raise BackupError(f"{name} was not found: install PostgreSQL's client tools.")


def _libpq(url: str) -> tuple[str, dict[str, str]]:
    """A libpq connection URL without the password, and the environment carrying it."""
    parsed: URL = make_url(normalise_url(url)).set(drivername="postgresql")
    env = dict(os.environ)
    if parsed.password:
        env["PGPASSWORD"] = str(parsed.password)
        parsed = parsed.set(password=None)
    return parsed.render_as_string(hide_password=False), env


def _run(program: str, *args: str, url: str | None = None) -> str:
    command = [_tool(program), *args]
    env = None
    if url is not None:
        connection, env = _libpq(url)
        command.append(f"--dbname={connection}")
    result = subprocess.run(command, capture_output=True, text=True, env=env, check=False)
    if result.returncode != 0:
        message = (result.stderr or result.stdout).strip().splitlines()
        raise BackupError(f"{program} failed: {message[-1] if message else result.returncode}")
    return result.stdout
