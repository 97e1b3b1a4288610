"""Answers' semantic vectors (surveys.vectors): embedded once, stored as float16, reused by
every theme run; runs still work without them."""

from __future__ import annotations

import numpy as np
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from surveys import vectors
from surveys.models import AnswerStatus, AnswerVector, ThemeAssignment, ThemeRun
from surveys.themes import Scope, build_themes
from tests.factories import FakeEncoder, make_answer
from tests.surveys.test_themes import _wall_with_topics


def _stored(session: Session) -> int:
    return session.scalar(select(func.count()).select_from(AnswerVector)) or 0


def test_each_answer_is_embedded_once_and_stored_in_768_bytes(session: Session) -> None:
    _wall, ids = _wall_with_topics(session)
    every = [a for group in ids.values() for a in group]
    encoder = FakeEncoder()
    assert vectors.embed_answers(session, every, encoder) == len(every)
    assert _stored(session) == len(every)
    assert {len(row.vector) for row in session.scalars(select(AnswerVector))} == {768}
    calls = encoder.calls
    assert vectors.embed_answers(session, every, encoder) == 0
    assert encoder.calls == calls  # nothing asked of the model again
    assert vectors.answers_to_embed(session) == []


def test_a_redacted_answer_is_embedded_again_and_hidden_ones_never(session: Session) -> None:
    wall, ids = _wall_with_topics(session)
    hidden = make_answer(session, wall, "Skjult svar om bussen", status=AnswerStatus.HIDDEN)
    encoder = FakeEncoder()
    vectors.embed_answers(session, [ids["bus"][0], hidden.id], encoder)
    assert encoder.texts == [session.get(type(hidden), ids["bus"][0]).text]
    assert hidden.id not in vectors.answers_to_embed(session)
    answer = session.get(type(hidden), ids["bus"][0])
    answer.text = "[fjernet] kører for sjældent"
    session.commit()
    assert vectors.stored_vectors(session, [answer]) is None  # the old text's vector is stale
    assert vectors.embed_answers(session, [answer.id], encoder) == 1
    assert encoder.texts[-1] == "[fjernet] kører for sjældent"
    assert vectors.stored_vectors(session, [answer]) is not None


def test_a_theme_run_uses_the_stored_vectors_and_embeds_only_the_missing(
    session: Session,
) -> None:
    wall, ids = _wall_with_topics(session)
    every = [a for group in ids.values() for a in group]
    encoder = FakeEncoder()
    vectors.embed_answers(session, every[:10], encoder)
    encoder.texts.clear()
    run = build_themes(session, Scope(wall.campaign_id), n_themes=3, encoder=encoder)
    assert len(encoder.texts) == len(every) - 10  # the other 14, once
    assert _stored(session) == len(every)
    assert run.themes
    encoder.texts.clear()
    build_themes(session, Scope(wall.campaign_id), n_themes=3, encoder=encoder)
    assert encoder.texts == []


def _result(session: Session, run: ThemeRun) -> tuple[list[tuple[str, str, int]], list[tuple]]:
    themes = [(t.key, t.label, t.size) for t in run.themes]
    rows = session.execute(
        select(ThemeAssignment.answer_id, ThemeAssignment.theme_id)
        .where(ThemeAssignment.run_id == run.id)
        .order_by(ThemeAssignment.answer_id)
    ).all()
    keys = {t.id: t.key for t in run.themes}
    return themes, [(a, keys[t]) for a, t in rows]


def test_re_runs_on_unchanged_answers_with_stored_vectors_give_identical_themes(
    session: Session,
) -> None:
    wall, _ids = _wall_with_topics(session)
    scope = Scope(wall.campaign_id)
    encoder = FakeEncoder()
    first = build_themes(session, scope, n_themes=3, encoder=encoder)
    second = build_themes(session, scope, n_themes=3, encoder=encoder)
    assert _result(session, first) == _result(session, second)


def test_vectors_round_trip_through_float16() -> None:
    vector = np.linspace(-1, 1, 384, dtype=np.float32)
    back = vectors.from_bytes(vectors.to_bytes(vector))
    assert back.dtype == np.float32 and np.allclose(back, vector, atol=1e-3)


def test_without_an_encoder_a_run_works_on_words_alone(session: Session) -> None:
    wall, _ids = _wall_with_topics(session)
    run = build_themes(session, Scope(wall.campaign_id), n_themes=3)
    assert run.themes and _stored(session) == 0
