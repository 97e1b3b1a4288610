"""surveys.db: the prepared INSERT of the answer path and the driver-level commit."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta, timezone

import pytest
from sqlalchemy import Engine, select, text
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.exc import IntegrityError, OperationalError
from sqlalchemy.orm import Session

from surveys.db import PreparedInsert, commit_driver
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
