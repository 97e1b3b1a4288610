"""The task queue (app.queue): built from the environment, tasks in an app context of their
own, a new answer stored in the request and put under themes by a task."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskCliRunner
from huey import RedisHuey, SqliteHuey
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from app.queue import huey, make_huey
from surveys.models import Answer, ThemeAssignment
from surveys.themes import Scope, build_themes
from tests.surveys.test_themes import _wall_with_topics


def test_the_queue_is_a_sqlite_file_on_one_machine_and_redis_with_redis_url(
    tmp_path: Path,
) -> None:
    local = make_huey({"STEMMER_QUEUE_FILE": str(tmp_path / "q" / "queue.db")})
    assert isinstance(local, SqliteHuey) and (tmp_path / "q" / "queue.db").exists()
    shared = make_huey({"REDIS_URL": "redis://127.0.0.1:6399/3"})  # connects on first use
    assert isinstance(shared, RedisHuey)


@pytest.fixture
def queued_app(make_app: Callable[..., Flask]) -> Iterator[Flask]:
    """An app whose tasks go on the queue (this test process's file), emptied before and after."""
    app = make_app(QUEUE_IMMEDIATE=False)
    assert not huey.immediate
    huey.flush()
    yield app
    huey.flush()
    huey.immediate = True


def _post(app: Flask, wall, number: int) -> int:
    response = app.test_client().post(
        f"/api/v1/walls/{wall.slug}/answers",
        json={
            "prompt_id": wall.prompts[0].id,
            "text": "Bussen kører for sjældent om aftenen",
            "client_submission_id": f"queue-test-{number:04d}",
        },
    )
    assert response.status_code == 201, response.get_data(as_text=True)
    return int(response.get_json()["id"])


def _placements(session: Session, answer_id: int) -> list[tuple[int, int, str]]:
    session.expire_all()
    rows = session.execute(
        select(ThemeAssignment.run_id, ThemeAssignment.theme_id, ThemeAssignment.source).where(
            ThemeAssignment.answer_id == answer_id
        )
    ).tuples()
    result = list(rows)
    session.commit()
    return result


def test_in_immediate_mode_a_posted_answer_is_under_its_theme_at_once(
    app: Flask, session: Session
) -> None:
    wall, _ids = _wall_with_topics(session)
    build_themes(session, Scope(wall.campaign_id), n_themes=3)
    answer_id = _post(app, wall, 1)
    placed = _placements(session, answer_id)
    assert placed and {source for *_rest, source in placed} == {"transform"}
    assert session.get(Answer, answer_id).themes_placed_at is not None


def test_with_a_queue_the_request_stores_the_answer_and_a_worker_places_it(
    queued_app: Flask, session: Session
) -> None:
    wall, _ids = _wall_with_topics(session)
    build_themes(session, Scope(wall.campaign_id), n_themes=3)
    answer_id = _post(queued_app, wall, 1)
    # Stored, not placed: the theme engine did not run in the request.
    assert _placements(session, answer_id) == []
    assert huey.pending_count() == 1
    task = huey.dequeue()
    # What a worker thread does with it (no application context of its own).
    huey.execute(task)
    placed = _placements(session, answer_id)
    assert placed
    # The same job again (a worker killed before it could mark the job done): nothing doubles.
    huey.execute(task)
    assert _placements(session, answer_id) == placed


def test_without_runs_nothing_is_queued(queued_app: Flask, session: Session) -> None:
    wall, _ids = _wall_with_topics(session)
    _post(queued_app, wall, 1)
    assert huey.pending_count() == 0


def test_the_catch_up_places_what_the_queue_lost(queued_app: Flask, session: Session) -> None:
    from app.queue import catch_up

    wall, _ids = _wall_with_topics(session)
    build_themes(session, Scope(wall.campaign_id), n_themes=3)
    ids = [_post(queued_app, wall, number) for number in range(3)]
    huey.flush()  # the tasks are lost (a queue emptied, a worker killed as it took them)
    catch_up()  # enqueued, as the scheduler and a starting worker do
    huey.execute(huey.dequeue())
    assert all(_placements(session, answer_id) for answer_id in ids)
    session.expire_all()
    assert session.scalar(select(func.count()).where(Answer.themes_placed_at.is_(None))) == 0


def test_the_worker_refuses_to_run_in_immediate_mode(runner: FlaskCliRunner) -> None:
    result = runner.invoke(args=["worker"])
    assert result.exit_code != 0 and "STEMMER_QUEUE_IMMEDIATE" in result.output


def test_one_task_places_the_answers_waiting_with_it(queued_app: Flask, session: Session) -> None:
    wall, _ids = _wall_with_topics(session)
    build_themes(session, Scope(wall.campaign_id), n_themes=3)
    ids = [_post(queued_app, wall, number) for number in range(3)]
    assert huey.pending_count() == 3
    huey.execute(huey.dequeue())  # a backlog drains in batches, not one answer per task
    assert all(_placements(session, answer_id) for answer_id in ids)
    placed = [_placements(session, answer_id) for answer_id in ids]
    while huey.pending_count():
        huey.execute(huey.dequeue())  # the other tasks find nothing left to do
    assert [_placements(session, answer_id) for answer_id in ids] == placed


def test_the_worker_lowers_its_priority_by_the_setting(monkeypatch: pytest.MonkeyPatch) -> None:
    import click

    from app import queue_cli

    asked: list[int] = []
    monkeypatch.setattr(queue_cli.os, "nice", asked.append)
    queue_cli._lower_priority(10)
    queue_cli._lower_priority(0)  # 0: left as it is
    assert asked == [10]
    for wrong in (-5, 20):
        with pytest.raises(click.ClickException, match="STEMMER_WORKER_NICE"):
            queue_cli._lower_priority(wrong)
    assert asked == [10]
