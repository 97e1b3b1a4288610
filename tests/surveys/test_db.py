"""surveys.db: engines whose writes wait a bounded time for a lock, and what an answer's
columns hold after a round trip through the database."""

from __future__ import annotations

import sqlite3
import time
from datetime import UTC, date, datetime, timedelta, timezone
from pathlib import Path

import pytest
from sqlalchemy import text
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session

from surveys.db import make_engine
from surveys.models import Answer, AnswerStatus, Channel
from tests.factories import make_wall

COPENHAGEN_SUMMER = timezone(timedelta(hours=2))


def test_an_answers_values_come_back_as_they_were_stored(session: Session) -> None:
    wall = make_wall(session)
    answer = Answer(
        wall_id=wall.id,
        prompt_id=wall.prompts[0].id,
        text="Flere bænke 🪑 ved <legepladsen>",
        created_at=datetime(2026, 6, 1, 14, 30, tzinfo=COPENHAGEN_SUMMER),
        channel=Channel.KIOSK,
        client_submission_id="roundtrip-0001",
        status=AnswerStatus.PENDING,
        language="da",
        pii_findings=[{"kind": "phone", "start": 3, "end": 11}],
        written_on=date(2026, 5, 31),
        place="Biblioteket",
    )
    session.add(answer)
    session.commit()
    session.expire_all()
    loaded = session.get(Answer, answer.id)
    assert loaded is not None
    assert loaded.text == "Flere bænke 🪑 ved <legepladsen>"
    assert loaded.created_at == datetime(2026, 6, 1, 12, 30, tzinfo=UTC)
    assert (loaded.channel, loaded.status) == (Channel.KIOSK, AnswerStatus.PENDING)
    assert loaded.pii_findings == [{"kind": "phone", "start": 3, "end": 11}]
    assert loaded.written_on == date(2026, 5, 31)


def test_a_write_waits_for_sqlites_lock_a_bounded_time_then_raises_operational_error(
    tmp_path: Path,
) -> None:
    path = tmp_path / "busy.sqlite"
    engine = make_engine(f"sqlite:///{path}", lock_timeout=0.05)
    with engine.begin() as connection:
        connection.execute(text("CREATE TABLE scratch (id INTEGER PRIMARY KEY, text TEXT)"))
    blocker = sqlite3.connect(path, isolation_level=None)
    blocker.execute("BEGIN IMMEDIATE")  # another program holds SQLite's write lock
    try:
        started = time.monotonic()
        with pytest.raises(OperationalError, match="locked"), engine.begin() as connection:
            connection.execute(text("INSERT INTO scratch (text) VALUES ('a')"))  # 503 in the app
        assert time.monotonic() - started < 5
    finally:
        blocker.execute("ROLLBACK")
        blocker.close()
    with engine.begin() as connection:
        connection.execute(text("INSERT INTO scratch (text) VALUES ('b')"))
        assert connection.scalar(text("SELECT text FROM scratch")) == "b"
    engine.dispose()
