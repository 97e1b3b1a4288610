"""Storing an answer (surveys.answers) while the wall changes in another process."""

from __future__ import annotations

import ast
import inspect
import threading
from collections.abc import Iterator

import pytest
from sqlalchemy import Engine, delete, select
from sqlalchemy.orm import Session, sessionmaker

from surveys import answers
from surveys.db import make_engine, make_session_factory
from surveys.errors import InvalidInput, NotFound
from surveys.models import Moderation, Prompt, Wall
from tests.factories import count_answers, make_wall, run_in_threads, submit


@pytest.fixture
def sessions(database_url: str) -> Iterator[sessionmaker[Session]]:
    """Sessions on an engine of their own: one per request (or thread) of a test."""
    engine = make_engine(database_url)
    yield make_session_factory(engine)
    engine.dispose()


def test_a_question_deleted_in_another_process_is_refused_not_a_crash(
    sessions: sessionmaker[Session], elsewhere: Engine
) -> None:
    with sessions() as setup:
        wall = make_wall(setup, "slettet-spoergsmaal")
        gone, kept = wall.prompts[1].id, wall.prompts[0].id
    with elsewhere.begin() as connection:
        connection.execute(delete(Prompt).where(Prompt.id == gone))
    with sessions() as request:
        wall = answers.get_wall_by_slug(request, "slettet-spoergsmaal")
        with pytest.raises(InvalidInput) as refused:
            submit(request, wall, prompt_id=gone)
        assert refused.value.code == "invalid_prompt"
        assert submit(request, wall, prompt_id=kept, client_submission_id="slettet-09").created
        assert count_answers(request) == 1


def test_a_wall_deleted_in_another_process_is_not_found(
    sessions: sessionmaker[Session], elsewhere: Engine
) -> None:
    with sessions() as setup:
        wall_id = make_wall(setup, "slettet").id
    with elsewhere.begin() as connection:
        connection.execute(delete(Prompt).where(Prompt.wall_id == wall_id))
        connection.execute(delete(Wall).where(Wall.id == wall_id))
    with sessions() as request, pytest.raises(NotFound):
        answers.get_wall_by_slug(request, "slettet")


def test_concurrent_sends_of_one_answer_store_it_once(sessions: sessionmaker[Session]) -> None:
    with sessions() as setup:
        make_wall(setup, "samtidig", moderation=Moderation.POST)
    results: list[answers.SubmitResult] = []
    start = threading.Barrier(4)

    def send() -> None:
        with sessions() as own:
            wall = answers.get_wall_by_slug(own, "samtidig")
            start.wait()
            results.append(submit(own, wall, client_submission_id="samtidig-01"))

    assert not run_in_threads(send, 4)
    assert sorted(r.created for r in results) == [False, False, False, True]
    assert len({r.answer.id for r in results}) == 1
    with sessions() as check:
        assert count_answers(check) == 1


def test_a_new_answer_is_put_under_the_latest_themes(session: Session) -> None:
    from surveys.models import ThemeAssignment
    from surveys.themes import Scope, build_themes, place_new_answers
    from tests.surveys.test_themes import _memberships, _wall_with_topics

    wall, ids = _wall_with_topics(session)
    run = build_themes(session, Scope(wall.campaign_id), n_themes=3)
    bus_theme = sorted(_memberships(session, run)[ids["bus"][0]])[0]
    result = submit(
        session,
        wall,
        text="Bussen kører for sjældent om aftenen",
        client_submission_id="answer-theme-01",
    )
    assert place_new_answers(session, [result.answer.id]) == 1  # the queue's task
    rows = session.scalars(
        select(ThemeAssignment).where(ThemeAssignment.answer_id == result.answer.id)
    ).all()
    assert rows and all(r.source == "transform" for r in rows)
    assert {t.id: t.key for t in run.themes}[rows[0].theme_id] == bus_theme


def test_storing_an_answer_leaves_the_themes_to_the_queue() -> None:
    """The answer service imports nothing inside its functions and nothing of the theme
    engine: theme placement follows the ``answer_stored`` signal (app.queue), off the write."""
    tree = ast.parse(inspect.getsource(answers))
    functions = [node for node in ast.walk(tree) if isinstance(node, ast.FunctionDef)]
    imports_inside = [
        node
        for function in functions
        for node in ast.walk(function)
        if isinstance(node, ast.Import | ast.ImportFrom)
    ]
    assert imports_inside == []
    imported = {
        alias.name for node in tree.body if isinstance(node, ast.ImportFrom) for alias in node.names
    } | {node.module or "" for node in tree.body if isinstance(node, ast.ImportFrom)}
    assert not imported & {"themes", "nlp", "surveys.themes", "vectors", "surveys.vectors"}
    assert "events" in imported
