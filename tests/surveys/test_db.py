"""surveys.db: the prepared INSERT of the answer path, the driver-level commit and SQLite's
writer."""

from __future__ import annotations

import multiprocessing
import sqlite3
import time
from datetime import UTC, date, datetime, timedelta, timezone
from pathlib import Path

import pytest
from sqlalchemy import Engine, select, text
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.exc import IntegrityError, OperationalError
from sqlalchemy.orm import Session

from surveys.db import PreparedInsert, SQLiteWriter, commit_driver, make_engine
from surveys.models import Answer, AnswerStatus, Channel
from tests.factories import make_wall

COLUMNS = tuple(column.key for column in Answer.__table__.columns if column.key != "id")
INSERT = PreparedInsert(Answer.__table__, COLUMNS)
COPENHAGEN_SUMMER = timezone(timedelta(hours=2))


def _row(session: Session, submission: str) -> dict[str, object]:
    wall = make_wall(session)
    values: dict[str, object] = dict.fromkeys(COLUMNS)
    values.update(
        wall_id=wall.id,
        prompt_id=wall.prompts[0].id,
        text="Flere bænke 🪑 ved <legepladsen>",
        created_at=datetime(2026, 6, 1, 14, 30, tzinfo=COPENHAGEN_SUMMER),
        channel=Channel.KIOSK,
        client_submission_id=submission,
        status=AnswerStatus.PENDING,
        language="da",
        pii_findings=[{"kind": "phone", "start": 3, "end": 11}],
        written_on=date(2026, 5, 31),
        place="Biblioteket",
    )
    return values


def _stored(engine: Engine, answer_id: int) -> dict[str, object]:
    """The committed row as the database holds it, read without the ORM's type conversions."""
    query = text(f"SELECT {', '.join(COLUMNS)} FROM answer WHERE id = :id")
    with engine.connect() as connection:
        return dict(connection.execute(query, {"id": answer_id}).one()._mapping)


def test_the_prepared_insert_stores_what_the_orm_stores(
    session: Session, elsewhere: Engine
) -> None:
    values = _row(session, "orm-0001")
    through_orm = Answer(**values)
    session.add(through_orm)
    session.commit()
    prepared = {**values, "client_submission_id": "prepared-0001"}
    connection = session.connection()
    answer_id = INSERT.execute(connection, INSERT.parameters(connection.dialect, prepared))
    session.commit()
    assert isinstance(answer_id, int) and answer_id != through_orm.id
    expected = {**_stored(elsewhere, through_orm.id), "client_submission_id": "prepared-0001"}
    assert _stored(elsewhere, answer_id) == expected
    loaded = session.get(Answer, answer_id)
    assert loaded is not None
    assert loaded.created_at == datetime(2026, 6, 1, 12, 30, tzinfo=UTC)
    assert (loaded.channel, loaded.status) == (Channel.KIOSK, AnswerStatus.PENDING)
    assert loaded.pii_findings == [{"kind": "phone", "start": 3, "end": 11}]
    assert loaded.written_on == date(2026, 5, 31)


def test_parameters_are_the_drivers_positional_for_sqlite_and_named_for_psycopg() -> None:
    row: dict[str, object] = dict.fromkeys(COLUMNS)
    row.update(
        channel=Channel.WEB,
        status=AnswerStatus.APPROVED,
        created_at=datetime(2026, 1, 2, 3, 4, tzinfo=UTC),
        pii_findings=[],
    )
    on_sqlite = INSERT.parameters(sqlite.dialect(), row)
    assert isinstance(on_sqlite, tuple) and len(on_sqlite) == len(COLUMNS)
    by_column = dict(zip(COLUMNS, on_sqlite, strict=True))
    assert by_column["channel"] == "web" and by_column["status"] == "approved"
    assert by_column["created_at"] == "2026-01-02 03:04:00.000000"
    assert by_column["pii_findings"] == "[]"
    on_postgresql = INSERT.parameters(postgresql.psycopg.dialect(), row)
    assert isinstance(on_postgresql, dict) and set(on_postgresql) == set(COLUMNS)
    assert on_postgresql["created_at"] == datetime(2026, 1, 2, 3, 4)
    with pytest.raises(KeyError):
        INSERT.parameters(sqlite.dialect(), {"text": "no other columns"})


def test_a_prepared_insert_refuses_columns_its_table_lacks() -> None:
    with pytest.raises(ValueError, match="cannot prepare"):
        PreparedInsert(Answer.__table__, ["wall_id", "no_such_column"]).parameters(
            sqlite.dialect(), {"wall_id": 1, "no_such_column": 2}
        )


def test_a_refused_prepared_insert_raises_sqlalchemys_error(session: Session) -> None:
    values = _row(session, "twice-0001")
    connection = session.connection()
    INSERT.execute(connection, INSERT.parameters(connection.dialect, values))
    with pytest.raises(IntegrityError):  # the unique submission id, as a session would raise it
        INSERT.execute(connection, INSERT.parameters(connection.dialect, values))
    session.rollback()


def test_commit_driver_commits_before_the_session_does(session: Session, elsewhere: Engine) -> None:
    values = _row(session, "driver-0001")
    connection = session.connection()
    answer_id = INSERT.execute(connection, INSERT.parameters(connection.dialect, values))
    with elsewhere.connect() as other:
        assert other.scalar(select(Answer.id).where(Answer.id == answer_id)) is None
    commit_driver(connection)
    assert _stored(elsewhere, answer_id)["client_submission_id"] == "driver-0001"
    session.commit()  # nothing left to commit: ends the session's transaction without error
    assert _stored(elsewhere, answer_id)["client_submission_id"] == "driver-0001"


def test_commit_driver_raises_a_drivers_error_as_sqlalchemys(
    session: Session, monkeypatch: pytest.MonkeyPatch
) -> None:
    connection = session.connection()
    dialect = connection.dialect

    def failing_commit(_dbapi_connection: object) -> None:
        raise dialect.loaded_dbapi.OperationalError("disk I/O error")

    monkeypatch.setattr(dialect, "do_commit", failing_commit)
    with pytest.raises(OperationalError, match="disk I/O error"):
        commit_driver(connection)
    monkeypatch.undo()
    session.rollback()


SCRATCH_INSERT = "INSERT INTO scratch (text) VALUES (?)"


def _scratch_table(engine: Engine) -> None:
    with engine.begin() as connection:
        connection.execute(text("CREATE TABLE scratch (id INTEGER PRIMARY KEY, text TEXT)"))


def _writer(engine: Engine) -> SQLiteWriter:
    writer = SQLiteWriter.of(engine)
    if writer is None:
        pytest.skip("SQLite files only: other databases write through the session")
    return writer


def test_the_writer_stores_what_the_orm_stores_and_commits_at_once(
    session: Session, elsewhere: Engine
) -> None:
    writer = _writer(session.get_bind().engine)
    values = _row(session, "orm-0002")
    through_orm = Answer(**values)
    session.add(through_orm)
    session.commit()
    answer_id = INSERT.execute_now(writer, {**values, "client_submission_id": "writer-0002"})
    assert isinstance(answer_id, int) and answer_id != through_orm.id
    # Committed when it returns: another connection reads it, nothing else was committed.
    expected = {**_stored(elsewhere, through_orm.id), "client_submission_id": "writer-0002"}
    assert _stored(elsewhere, answer_id) == expected
    loaded = session.get(Answer, answer_id)
    assert loaded is not None and loaded.text == "Flere bænke 🪑 ved <legepladsen>"
    assert loaded.created_at == datetime(2026, 6, 1, 12, 30, tzinfo=UTC)


def test_a_writers_refused_insert_raises_sqlalchemys_error_and_leaves_nothing_open(
    session: Session, elsewhere: Engine
) -> None:
    writer = _writer(session.get_bind().engine)
    values = _row(session, "writer-0003")
    INSERT.execute_now(writer, values)
    with pytest.raises(IntegrityError):  # the unique submission id, as a session would raise it
        INSERT.execute_now(writer, values)
    # No transaction and no turn left behind: other writers and this one go on.
    with elsewhere.begin() as connection:
        connection.execute(text("UPDATE answer SET place = 'Havnen'"))
    assert INSERT.execute_now(writer, {**values, "client_submission_id": "writer-0004"})


def test_a_writer_that_cannot_get_the_database_raises_operational_error(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(SQLiteWriter, "_writers", {})
    path = tmp_path / "busy.sqlite"
    engine = make_engine(f"sqlite:///{path}")
    _scratch_table(engine)
    writer = _writer(engine)
    writer.set_busy_timeout(50)
    blocker = sqlite3.connect(path, isolation_level=None)
    blocker.execute("BEGIN IMMEDIATE")  # another program holds SQLite's write lock
    try:
        started = time.monotonic()
        with pytest.raises(OperationalError, match="locked"):  # the web layer answers 503
            writer.insert(SCRATCH_INSERT, ("a",))
        assert time.monotonic() - started < 5
    finally:
        blocker.execute("ROLLBACK")
        blocker.close()
    assert writer.insert(SCRATCH_INSERT, ("b",)) == 1
    writer.set_busy_timeout(60)  # also on the open connection
    assert writer._connection is not None
    assert writer._connection.execute("PRAGMA busy_timeout").fetchone() == (60,)
    writer._close()
    engine.dispose()


def _insert_in_child(url: str, queue: multiprocessing.Queue) -> None:  # type: ignore[type-arg]
    engine = make_engine(url)
    writer = SQLiteWriter.of(engine)
    assert writer is not None
    queue.put(writer.insert(SCRATCH_INSERT, ("c",)))


def test_writers_are_one_per_process_and_file(database_url: str, elsewhere: Engine) -> None:
    engine = make_engine(database_url)
    writer = SQLiteWriter.of(engine)
    if writer is None:
        assert engine.dialect.name != "sqlite"
        return
    assert SQLiteWriter.of(elsewhere) is writer  # another engine on the same file
    assert SQLiteWriter.of(make_engine("sqlite://")) is None  # in memory: the session writes
    assert SQLiteWriter.of(make_engine("sqlite:///:memory:")) is None
    _scratch_table(elsewhere)
    writer.insert(SCRATCH_INSERT, ("p",))
    # A forked process (a gunicorn worker) opens its own connection and lock file.
    context = multiprocessing.get_context("fork")
    queue = context.Queue()
    child = context.Process(target=_insert_in_child, args=(database_url, queue))
    child.start()
    child.join(30)
    assert child.exitcode == 0
    assert queue.get(timeout=5) > 0
    with elsewhere.connect() as connection:
        written = connection.scalars(text("SELECT text FROM scratch ORDER BY id")).all()
    assert written == ["p", "c"]
    engine.dispose()
