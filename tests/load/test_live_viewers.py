"""200 projectors on the live wall at once, served by gunicorn as in production: every one
holds an event stream, the other routes keep answering quickly, and a new answer reaches all
of them within seconds."""

from __future__ import annotations

import selectors
import socket
import statistics
import time
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
import requests
from sqlalchemy.orm import Session

from surveys.models import Moderation
from tests.factories import make_answer, make_wall

from .servers import gunicorn

pytestmark = pytest.mark.slow

VIEWERS = 200


def _open_stream(host: str, port: int, path: str) -> tuple[socket.socket, int, bytes]:
    """Open an event stream as a browser does; return the socket, the status and what came
    after the headers."""
    sock = socket.create_connection((host, port), timeout=10)
    sock.sendall(
        f"GET {path} HTTP/1.1\r\nHost: {host}:{port}\r\nAccept: text/event-stream\r\n\r\n".encode()
    )
    received = b""
    while b"\r\n\r\n" not in received:
        chunk = sock.recv(4096)
        if not chunk:
            break
        received += chunk
    head, _, rest = received.partition(b"\r\n\r\n")
    status = int(head.split(b" ", 2)[1]) if head else 0
    return sock, status, rest


def _open_streams(host: str, port: int, path: str, count: int) -> list[Any]:
    """``count`` open streams. A process that is full answers 503 and the page tries again
    later (live.js), reaching whichever worker accepts it then; so does this."""
    streams: list[Any] = []
    refused = 0
    for _attempt in range(count * 3):
        sock, status, rest = _open_stream(host, port, path)
        if status == 200:
            streams.append((sock, status, rest))
            if len(streams) == count:
                return streams
        else:
            assert status == 503, status
            refused += 1
            sock.close()
    raise AssertionError(f"only {len(streams)} streams held, {refused} refusals")


def _timed_get(url: str) -> float:
    started = time.monotonic()
    response = requests.get(url, timeout=10)
    assert response.status_code == 200, response.status_code
    return time.monotonic() - started


def test_two_hundred_projectors_hold_streams_without_starving_the_other_routes(
    session: Session, database_url: str, tmp_path: Path
) -> None:
    wall = make_wall(session, "projektor", moderation=Moderation.POST)
    for number in range(40):
        make_answer(session, wall, f"Tidligere svar nummer {number}")
    text = "Et nyt svar til alle skærme"
    streams: list[Any] = []
    with gunicorn(database_url, tmp_path, workers=4, threads=None) as server:
        address = urlsplit(server.url)
        host, port = address.hostname or "127.0.0.1", address.port or 80
        before = [_timed_get(f"{server.url}/w/projektor") for _ in range(20)]
        try:
            streams = _open_streams(host, port, "/live/projektor/events", VIEWERS)
            # The other routes while all 200 streams are open.
            during_health = [_timed_get(f"{server.url}/healthz") for _ in range(20)]
            during_wall = [_timed_get(f"{server.url}/w/projektor") for _ in range(20)]
            assert max(during_health) < 1.0
            assert max(during_wall) < 1.0
            assert statistics.median(during_wall) < max(0.1, 3 * statistics.median(before))
            # A new answer reaches every projector.
            response = requests.post(
                f"{server.url}/api/v1/walls/projektor/answers",
                json={
                    "prompt_id": wall.prompts[0].id,
                    "text": text,
                    "client_submission_id": "projektor-0001",
                },
                timeout=10,
            )
            assert response.status_code == 201, response.text
            assert len(_reached(streams, text.encode(), seconds=10)) == VIEWERS
        except BaseException:
            for sock, _status, _rest in streams:
                sock.close()
            raise
        stopping = time.monotonic()
    # Stopping the server (a deploy) ends the streams at once instead of waiting for them.
    assert time.monotonic() - stopping < 10
    for sock, _status, _rest in streams:
        sock.close()


def _reached(streams: list[Any], needle: bytes, *, seconds: float) -> set[socket.socket]:
    """The streams on which ``needle`` arrives within ``seconds``."""
    received = {sock: rest for sock, _status, rest in streams}
    reached = {sock for sock, seen in received.items() if needle in seen}
    with selectors.DefaultSelector() as selector:
        for sock in received:
            if sock not in reached:
                sock.setblocking(False)
                selector.register(sock, selectors.EVENT_READ)
        deadline = time.monotonic() + seconds
        while len(reached) < len(received) and time.monotonic() < deadline:
            for key, _mask in selector.select(timeout=0.5):
                sock = key.fileobj
                assert isinstance(sock, socket.socket)
                received[sock] += sock.recv(65536)
                if needle in received[sock]:
                    reached.add(sock)
                    selector.unregister(sock)
    return reached
