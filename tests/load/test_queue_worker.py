"""A real task-queue worker (``flask --app wsgi worker``) beside the app, as in production.

- One machine: the SQLite queue file; a new answer is under its theme within seconds, answers
  stored while no worker ran are placed when one starts, and a worker killed with ``kill -9``
  in the middle of its work leaves nothing lost and nothing doubled.
- Several machines: gunicorn and a worker sharing a Redis queue (``STEMMER_TEST_REDIS_URL``),
  on PostgreSQL when the suite runs there (``make test-pg``).
"""

from __future__ import annotations

import os
import time
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
import requests
from flask import Flask
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from app.queue import huey
from surveys import answers
from surveys.models import Answer, ThemeAssignment
from surveys.themes import Scope, build_themes
from tests.surveys.test_themes import _wall_with_topics

from .servers import gunicorn, queue_worker

pytestmark = pytest.mark.slow

REDIS_URL = os.environ.get("STEMMER_TEST_REDIS_URL")


@pytest.fixture
def queued_app(make_app: Callable[..., Flask]) -> Iterator[Flask]:
    """An app putting its tasks on this test process's queue file (emptied before and after)."""
    app = make_app(QUEUE_IMMEDIATE=False)
    huey.flush()
    yield app
    huey.flush()
    huey.immediate = True


def _unplaced(session: Session) -> int:
    session.expire_all()
    count = session.scalar(select(func.count()).where(Answer.themes_placed_at.is_(None))) or 0
    session.commit()
    return count


def _wait_until_placed(session: Session, timeout: float) -> float:
    started = time.monotonic()
    while _unplaced(session):
        if time.monotonic() - started > timeout:
            raise AssertionError(f"{_unplaced(session)} answers still not placed")
        time.sleep(0.1)
    return time.monotonic() - started


def _doubled(session: Session) -> int:
    """Memberships stored more than once (same run, theme and answer)."""
    session.expire_all()
    groups = (
        select(func.count())
        .select_from(ThemeAssignment)
        .group_by(ThemeAssignment.run_id, ThemeAssignment.theme_id, ThemeAssignment.answer_id)
        .having(func.count() > 1)
    )
    doubled = len(session.execute(groups).all())
    session.commit()
    return doubled


def _post(client_post: Callable[..., requests.Response | object], url: str, wall) -> None:
    body = {
        "prompt_id": wall.prompts[0].id,
        "text": "Bussen kører for sjældent om aftenen",
        "client_submission_id": f"worker-{uuid.uuid4().hex[:16]}",
    }
    response = client_post(url, json=body)
    assert getattr(response, "status_code", None) == 201


def test_a_worker_places_new_answers_and_catches_up_after_being_down(
    queued_app: Flask, session: Session, database_url: str, tmp_path: Path
) -> None:
    wall, _ids = _wall_with_topics(session)
    build_themes(session, Scope(wall.campaign_id), n_themes=3)
    client = queued_app.test_client()
    url = f"/api/v1/walls/{wall.slug}/answers"
    with queue_worker(database_url, tmp_path) as worker:
        worker.wait_for_log("catch_up")
        # STEMMER_WORKER_NICE (10): the web server gets the CPU first
        own = os.getpriority(os.PRIO_PROCESS, 0)
        assert os.getpriority(os.PRIO_PROCESS, worker.process.pid) == min(own + 10, 19)
        _post(client.post, url, wall)
        _wait_until_placed(session, timeout=60)
    # No worker: answers wait, and losing their tasks loses nothing.
    for _ in range(3):
        _post(client.post, url, wall)
    huey.flush()
    assert _unplaced(session) == 3
    with queue_worker(database_url, tmp_path, name="again"):
        _wait_until_placed(session, timeout=120)
    assert _doubled(session) == 0


def test_a_worker_killed_mid_job_loses_nothing_and_doubles_nothing(
    queued_app: Flask, session: Session, database_url: str, tmp_path: Path
) -> None:
    wall, _ids = _wall_with_topics(session)
    build_themes(session, Scope(wall.campaign_id), n_themes=3)
    # 1,200 answers stored while no worker ran (no task queued: the catch-up finds them).
    for number in range(1200):
        answers.submit_answer(
            session,
            wall,
            prompt_id=wall.prompts[number % 2].id,
            text=f"Bussen kører for sjældent om aftenen, nummer {number}",
            client_submission_id=f"killed-{number:05d}",
        )
    with queue_worker(database_url, tmp_path) as worker:
        worker.wait_for_log("Executing app.queue.catch_up")
        time.sleep(1.0)  # in the middle of placing them
        worker.kill()
    left = _unplaced(session)
    assert left > 0, "the worker finished before it was killed: nothing was tested"
    with queue_worker(database_url, tmp_path, name="again"):
        _wait_until_placed(session, timeout=300)
    assert _doubled(session) == 0


@pytest.mark.skipif(
    not REDIS_URL, reason="needs a Redis server: set STEMMER_TEST_REDIS_URL (CI starts one)"
)
def test_gunicorn_and_a_worker_share_a_redis_queue(
    session: Session, database_url: str, tmp_path: Path
) -> None:
    assert REDIS_URL is not None
    wall, _ids = _wall_with_topics(session)
    build_themes(session, Scope(wall.campaign_id), n_themes=3)
    env = {"REDIS_URL": REDIS_URL, "STEMMER_QUEUE_IMMEDIATE": "0"}
    with (
        gunicorn(database_url, tmp_path, workers=1, env=env) as server,
        queue_worker(database_url, tmp_path, env=env) as worker,
    ):
        worker.wait_for_log("catch_up")
        url = f"{server.url}/api/v1/walls/{wall.slug}/answers"
        _post(lambda u, json: requests.post(u, json=json, timeout=30), url, wall)
        _wait_until_placed(session, timeout=60)
    assert _doubled(session) == 0
