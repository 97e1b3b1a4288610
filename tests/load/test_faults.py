"""Faults under a write load, with the app served by gunicorn as in production.

- A worker killed with SIGKILL in the middle of a write load: every answer acknowledged
  with 201 (or 200 for a retry) is stored exactly once, and nothing else is.
- The same client_submission_id sent at the same moment to two app servers on one
  database: one 201, one 200 with the same answer, one row.
"""

from __future__ import annotations

import os
import signal
import threading
import time
import uuid
from collections import Counter
from pathlib import Path
from typing import Any

import pytest
import requests
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from surveys.models import Answer, Moderation
from tests.factories import make_wall

from .servers import gunicorn

pytestmark = pytest.mark.slow


class Outbox:
    """A load client that behaves like the browser's offline outbox.

    Each answer keeps its id until the server confirms it (201 or 200); connection errors and
    5xx are retried with the same id. It logs which ids were confirmed and how.
    """

    def __init__(self, url: str, prompt_id: int, prefix: str) -> None:
        self.url = url
        self.prompt_id = prompt_id
        self.prefix = prefix
        self.confirmed: dict[str, int] = {}
        self.interrupted = 0
        self.lock = threading.Lock()

    def send(self, http: requests.Session, number: int) -> None:
        submission = f"{self.prefix}-{number:06d}"
        body = {
            "prompt_id": self.prompt_id,
            "text": f"Svar {number} under belastning",
            "client_submission_id": submission,
        }
        for _attempt in range(100):
            try:
                # A new connection per request (as many phones do): the load spreads over
                # all workers, so a killed worker is always in the middle of something.
                response = http.post(
                    self.url, json=body, timeout=10, headers={"Connection": "close"}
                )
            except requests.RequestException:
                with self.lock:
                    self.interrupted += 1
                http.close()  # a fresh connection, as a browser would open
                time.sleep(0.05)
                continue
            if response.status_code in (200, 201):
                assert response.json()["client_submission_id"] == submission
                with self.lock:
                    self.confirmed[submission] = response.status_code
                return
            assert response.status_code >= 500, response.text
            with self.lock:
                self.interrupted += 1
            time.sleep(0.05)
        raise AssertionError(f"{submission} was never confirmed")

    def run(self, worker: int, stop: threading.Event) -> None:
        http = requests.Session()
        number = worker * 100_000
        while not stop.is_set():
            self.send(http, number)
            number += 1
        http.close()


def _stored(session: Session) -> Counter[str]:
    session.expire_all()
    rows = session.execute(
        select(Answer.client_submission_id, func.count()).group_by(Answer.client_submission_id)
    ).all()
    session.commit()
    return Counter(dict(rows))


def test_killing_a_worker_during_a_write_load_loses_and_doubles_nothing(
    session: Session, database_url: str, tmp_path: Path
) -> None:
    wall = make_wall(session, "belastning", moderation=Moderation.POST)
    with gunicorn(database_url, tmp_path, workers=2, threads=4) as server:
        outbox = Outbox(f"{server.url}/api/v1/walls/belastning/answers", wall.prompts[0].id, "kill")
        stop = threading.Event()
        clients = [
            threading.Thread(target=outbox.run, args=(n, stop), daemon=True) for n in range(8)
        ]
        for client in clients:
            client.start()
        time.sleep(1.5)
        # Kill a worker; if that happened to interrupt no request (it was between two),
        # kill another one, up to three times.
        victims = []
        for _round in range(3):
            victim = sorted(server.workers())[0]
            victims.append(victim)
            os.kill(victim, signal.SIGKILL)
            time.sleep(1.5)
            if outbox.interrupted:
                break
        stop.set()
        for client in clients:
            client.join(timeout=30)
        assert not any(client.is_alive() for client in clients)
        after = server.wait_for_workers(2)
        assert not set(victims) & after  # the master replaced the killed workers

    stored = _stored(session)
    confirmed = outbox.confirmed
    assert len(confirmed) > 50, "the load was too small to mean anything"
    assert outbox.interrupted >= 1, "the kill interrupted no request"
    # Every confirmed answer is stored exactly once, and nothing unconfirmed was stored.
    assert set(stored) == set(confirmed)
    assert set(stored.values()) == {1}


def _post(url: str, body: dict[str, Any], barrier: threading.Barrier, out: list[Any]) -> None:
    barrier.wait()
    out.append(requests.post(url, json=body, timeout=20))


def test_the_same_retry_on_two_app_servers_at_once_is_stored_once(
    session: Session, database_url: str, tmp_path: Path
) -> None:
    wall = make_wall(session, "to-servere", moderation=Moderation.POST)
    path = "/api/v1/walls/to-servere/answers"
    with (
        gunicorn(database_url, tmp_path, workers=1, threads=4) as first,
        gunicorn(database_url, tmp_path, workers=1, threads=4) as second,
    ):
        for number in range(40):
            body = {
                "prompt_id": wall.prompts[number % 2].id,
                "text": f"Samme svar to gange {number}",
                "client_submission_id": f"twice-{uuid.uuid4().hex[:12]}",
            }
            barrier = threading.Barrier(2)
            responses: list[Any] = []
            threads = [
                threading.Thread(target=_post, args=(server.url + path, body, barrier, responses))
                for server in (first, second)
            ]
            for thread in threads:
                thread.start()
            for thread in threads:
                thread.join(timeout=30)
            assert sorted(r.status_code for r in responses) == [200, 201], [
                r.text for r in responses
            ]
            assert len({r.json()["id"] for r in responses}) == 1
    stored = _stored(session)
    assert len(stored) == 40
    assert set(stored.values()) == {1}
