"""Honest answers when something fails: the database gone or locked, odd requests.

- A database failure anywhere in a request, also while its session is closed after the view,
  is the 503 with ``Retry-After`` (JSON for the API, the JSON endpoints and JSON clients),
  never a bare 500, and it never claims that nothing was stored.
- A write lock held by another program makes a request wait a bounded time, then 503.
- 405 carries ``Allow``; an over-long URL is 414 from the app, with the security headers.
"""

from __future__ import annotations

import sqlite3
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
from flask import Flask, g
from flask.testing import FlaskClient
from sqlalchemy import update
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session

from app import create_app
from app.extensions import db
from surveys.models import Answer, Moderation, Wall
from tests.factories import count_answers, make_answer, make_wall

API = "/api/v1/walls/svigt/answers"


@pytest.fixture
def wall(session: Session) -> Wall:
    return make_wall(session, "svigt", moderation=Moderation.POST)


def _body(wall: Wall, submission: str) -> dict[str, Any]:
    return {
        "prompt_id": wall.prompts[0].id,
        "text": "Flere bænke",
        "client_submission_id": submission,
    }


def _assert_503(response: Any, *, json: bool) -> str:
    assert response.status_code == 503
    assert response.headers["Retry-After"] == "5"
    assert response.headers["Cache-Control"] == "no-store"
    assert "Content-Security-Policy" in response.headers  # the app's answer, not the server's
    if json:
        error = response.get_json()["error"]
        assert error["code"] == "database_unavailable"
        message = error["message"]
    else:
        assert response.mimetype == "text/html"
        message = response.get_data(as_text=True)
    assert "intet blev gemt" not in message and "intet er gemt" not in message
    return message


# The session's clean-up after the view --------------------------------------------------------


@pytest.fixture
def broken_close(monkeypatch: pytest.MonkeyPatch) -> Callable[[], None]:
    """Arm it and the next request session's close fails as when the database went away
    after the view's commit (PostgreSQL stopped: the ROLLBACK finds the connection gone)."""
    armed = threading.Event()
    close = Session.close

    def failing_close(self: Session) -> None:
        if armed.is_set() and g.get("db_session") is None:  # the request's, being closed
            armed.clear()
            raise OperationalError(
                "ROLLBACK", None, Exception("server closed the connection unexpectedly")
            )
        close(self)

    monkeypatch.setattr(Session, "close", failing_close)
    return armed.set


def test_a_database_failure_closing_the_session_is_a_503_not_a_bare_500(
    client: FlaskClient, wall: Wall, session: Session, broken_close: Callable[[], None]
) -> None:
    broken_close()
    message = _assert_503(client.post(API, json=_body(wall, "teardown-0001")), json=True)
    # The answer's commit went through before the clean-up failed: only the retry can tell.
    assert "vi ved ikke, om det, du sendte, blev gemt" in message
    assert "samme client_submission_id" in message
    retry = client.post(API, json=_body(wall, "teardown-0001"))
    assert retry.status_code == 200  # stored once, by the first request
    assert count_answers(session) == 1

    broken_close()
    page = client.get("/w/svigt")  # a page that only read: nothing to send again
    assert "Prøv igen om lidt" in _assert_503(page, json=False)
    assert client.get("/w/svigt").status_code == 200  # the broken connection was dropped


def test_a_session_still_open_at_teardown_is_closed_and_its_failure_only_logged(
    app: Flask, wall: Wall, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    closed: list[Session] = []

    def failing_close(self: Session) -> None:
        closed.append(self)
        raise OperationalError("ROLLBACK", None, Exception("connection lost"))

    with app.app_context():
        session = db.session
        monkeypatch.setattr(Session, "close", failing_close)
    # Leaving the context closed it; the error did not escape (after a response it would
    # have replaced that response with the server's bare 500).
    assert closed == [session]
    assert "not closed cleanly" in caplog.text


def test_a_database_failure_after_the_view_elsewhere_is_a_503(
    make_app: Callable[..., Flask], wall: Wall
) -> None:
    app = make_app(PROPAGATE_EXCEPTIONS=False)  # as in production
    failures = [OperationalError("SELECT 1", None, Exception("terminating connection"))]

    @app.after_request
    def fails_once(response: Any) -> Any:
        if failures:
            raise failures.pop()
        return response

    _assert_503(app.test_client().get("/api/v1/walls/svigt"), json=True)


# JSON answers for the JSON endpoints and JSON clients -----------------------------------------


@pytest.fixture
def unreachable(tmp_path: Path) -> Iterator[FlaskClient]:
    """A client of an app whose database cannot be opened at all."""
    app = create_app(
        {
            "TESTING": True,
            "SECRET_KEY": "x",
            "DATABASE_URL": f"sqlite:///{tmp_path}/missing-dir/nope.db",
            "WTF_CSRF_ENABLED": False,
        }
    )
    yield app.test_client()
    app.extensions["stemmer.db"].engine.dispose()


@pytest.mark.parametrize("path", ["/live/svigt/updates?since=0", "/live/svigt/events"])
def test_the_projectors_json_endpoints_answer_json_503(unreachable: FlaskClient, path: str) -> None:
    message = _assert_503(unreachable.get(path), json=True)
    assert message == "Tjenesten er utilgængelig et øjeblik. Prøv igen om lidt."


def test_json_clients_get_json_503_and_people_a_page(unreachable: FlaskClient) -> None:
    wanted = {"Accept": "application/json"}
    _assert_503(unreachable.get("/w/svigt", headers=wanted), json=True)
    _assert_503(unreachable.post("/w/svigt/svar/1/enig", headers=wanted), json=True)
    _assert_503(unreachable.post("/kiosk/svigt/answers", json={"text": "x"}), json=True)
    browser = {"Accept": "text/html,application/xhtml+xml,*/*;q=0.8"}
    page = _assert_503(
        unreachable.post("/w/svigt", data={"text": "x"}, headers=browser), json=False
    )
    assert "Gå tilbage, og send det igen om lidt: et svar bliver aldrig gemt to gange." in page


# A write lock held by another program -----------------------------------------------------------


@contextmanager
def exclusive_lock(database_url: str) -> Iterator[None]:
    """Another connection holds SQLite's write lock (``BEGIN EXCLUSIVE``) while inside, as
    another program on instance/stemmer.db would."""
    if not database_url.startswith("sqlite:///"):
        pytest.skip("SQLite's file lock")
    holder = sqlite3.connect(database_url.removeprefix("sqlite:///"), isolation_level=None)
    holder.execute("BEGIN EXCLUSIVE")
    try:
        yield
    finally:
        holder.execute("ROLLBACK")
        holder.close()


def _timed_posts(app: Flask, bodies: list[dict[str, Any]]) -> list[tuple[int, float]]:
    """POST each body at the same moment from its own thread: (status, seconds) each."""
    results: list[tuple[int, float]] = [(0, 0.0)] * len(bodies)

    def post(index: int) -> None:
        started = time.monotonic()
        status = app.test_client().post(API, json=bodies[index]).status_code
        results[index] = (status, time.monotonic() - started)

    threads = [threading.Thread(target=post, args=(i,)) for i in range(len(bodies))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    return results


def test_a_write_lock_held_elsewhere_makes_each_request_wait_a_bounded_time(
    make_app: Callable[..., Flask], wall: Wall, session: Session, database_url: str
) -> None:
    app = make_app(DATABASE_LOCK_TIMEOUT=1.0)
    make_answer(session, wall)
    with exclusive_lock(database_url):
        # Four answers at once: each waits about a second, not one after the other.
        results = _timed_posts(app, [_body(wall, f"locked-{n:04d}") for n in range(4)])
        assert [status for status, _ in results] == [503] * 4
        assert max(seconds for _, seconds in results) < 2.5, results
        _assert_503(app.test_client().post(API, json=_body(wall, "locked-0009")), json=True)
        # A write through a pooled session of the app is bounded the same way.
        with app.app_context():
            started = time.monotonic()
            with pytest.raises(OperationalError, match="locked"):
                db.session.execute(update(Answer).values(place="Havnen"))
                db.session.commit()
            assert time.monotonic() - started < 2.5
    assert count_answers(session) == 1


def test_once_the_lock_is_released_the_same_answers_are_stored_once(
    make_app: Callable[..., Flask], wall: Wall, session: Session, database_url: str
) -> None:
    app = make_app(DATABASE_LOCK_TIMEOUT=0.5)
    bodies = [_body(wall, f"later-{n:04d}") for n in range(3)]
    with exclusive_lock(database_url):
        assert [status for status, _ in _timed_posts(app, bodies)] == [503] * 3
    assert [status for status, _ in _timed_posts(app, bodies)] == [201] * 3
    assert count_answers(session) == 3


# Odd requests -------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("method", "path", "allowed"),
    [
        ("TRACE", "/", {"GET", "HEAD", "OPTIONS"}),
        ("TRACE", "/api/v1/walls/svigt", {"GET", "HEAD", "OPTIONS"}),
        ("DELETE", API, {"GET", "HEAD", "OPTIONS", "POST"}),
        ("PUT", "/w/svigt", {"GET", "HEAD", "OPTIONS", "POST"}),
        ("TRACE", "/staff/login", {"GET", "HEAD", "OPTIONS", "POST"}),
    ],
)
def test_every_405_says_what_is_allowed(
    client: FlaskClient, wall: Wall, method: str, path: str, allowed: set[str]
) -> None:
    response = client.open(path, method=method)
    assert response.status_code == 405
    assert {m.strip() for m in response.headers["Allow"].split(",")} == allowed
    assert "Content-Security-Policy" in response.headers
    if path.startswith("/api/"):
        assert response.get_json()["error"]["code"] == "method_not_allowed"


def test_an_over_long_url_is_414_from_the_app(client: FlaskClient, wall: Wall) -> None:
    api = client.get("/api/v1/walls/svigt/answers?page=1&x=" + "a" * 4100)
    assert api.status_code == 414
    assert api.get_json()["error"] == {
        "code": "request_uri_too_long",
        "message": "Adressen er for lang.",
    }
    assert "Content-Security-Policy" in api.headers
    page = client.get("/w/" + "x" * 4100)
    assert page.status_code == 414 and page.mimetype == "text/html"
    assert "Adressen er for lang." in page.get_data(as_text=True)
    assert client.get("/w/svigt?x=" + "a" * 4000).status_code == 200  # within the limit
