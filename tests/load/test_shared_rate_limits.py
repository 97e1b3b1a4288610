"""Rate limits hold across processes and servers, served by gunicorn as in production.

Two servers of two worker processes each, sharing a Redis server: a burst of answers from one
client gets the limit through, not the limit per process. Needs a Redis server:
``STEMMER_TEST_REDIS_URL`` (CI starts one with scripts/redis-test-server). One process counts
in its memory; several without Redis are refused (tests/app/test_gunicorn_conf.py).
"""

from __future__ import annotations

import os
import uuid
from concurrent.futures import ThreadPoolExecutor
from itertools import cycle
from pathlib import Path

import pytest
import requests
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from surveys.models import Answer, Moderation
from tests.factories import make_wall

from .servers import gunicorn

pytestmark = pytest.mark.slow

REDIS_URL = os.environ.get("STEMMER_TEST_REDIS_URL")


def _burst(urls: list[str], prompt_id: int, count: int) -> dict[int, int]:
    """``count`` answers from one client, 8 at a time, spread over ``urls`` (a new connection
    each, so that every worker process gets its share); returns how many got each status."""
    targets = cycle(urls)
    jobs = [(next(targets), number) for number in range(count)]

    def send(job: tuple[str, int]) -> int:
        url, number = job
        body = {
            "prompt_id": prompt_id,
            "text": f"Svar nummer {number} i en byge",
            "client_submission_id": f"burst-{uuid.uuid4().hex[:16]}",
        }
        response = requests.post(url, json=body, timeout=30, headers={"Connection": "close"})
        return response.status_code

    with ThreadPoolExecutor(max_workers=8) as pool:
        statuses = list(pool.map(send, jobs))
    return {status: statuses.count(status) for status in set(statuses)}


def _stored(session: Session) -> int:
    session.expire_all()
    stored = session.scalar(select(func.count()).select_from(Answer)) or 0
    session.commit()
    return stored


def _limits(storage_uri: str, answers: str) -> dict[str, str]:
    return {
        "RATELIMIT_ENABLED": "1",
        "RATELIMIT_STORAGE_URI": storage_uri,
        "RATELIMIT_ANSWERS": answers,
        # A key of its own: nothing counted by an earlier run in a shared Redis is seen.
        "SECRET_KEY": f"rate-limit-test-{uuid.uuid4().hex}",
    }


@pytest.mark.skipif(
    not REDIS_URL, reason="needs a Redis server: set STEMMER_TEST_REDIS_URL (CI starts one)"
)
def test_two_servers_share_one_limit_in_redis(
    session: Session, database_url: str, tmp_path: Path
) -> None:
    assert REDIS_URL is not None
    wall = make_wall(session, "to-servere-byge", moderation=Moderation.POST)
    env = _limits(REDIS_URL, "60 per minute")
    path = "/api/v1/walls/to-servere-byge/answers"
    with (
        gunicorn(database_url, tmp_path, workers=2, threads=4, env=env) as first,
        gunicorn(database_url, tmp_path, workers=2, threads=4, env=env) as second,
    ):
        statuses = _burst([first.url + path, second.url + path], wall.prompts[0].id, 250)
    # Counted per server (and process), up to 4 x 60 got through; within 10 %: at most 66.
    assert statuses.get(201, 0) + statuses.get(429, 0) == 250, statuses
    assert 60 <= statuses[201] <= 66, statuses
    assert _stored(session) == statuses[201]
