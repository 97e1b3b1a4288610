"""The cheap paths of answering and of the wall page (bench/load/inprocess.py measures them).

What they skip must not change what they do: answers stored once, closed walls refused (at
most ``WALL_CACHE_SECONDS`` late when closed by another process), limits enforced, headers
and sessions as before.
"""

from __future__ import annotations

import threading
from datetime import timedelta
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import Engine, update
from sqlalchemy.orm import Session
from werkzeug.wrappers import Response

from app.ratelimits import InlineExpiryMemoryStorage
from app.security import add_security_headers
from surveys import operations
from surveys.models import Moderation, Wall, utcnow
from tests.factories import Clock, limited_app, make_answer, make_wall, record_statements


def _statements(app: Flask, monkeypatch: pytest.MonkeyPatch) -> list[str]:
    return record_statements(app.extensions["stemmer.db"].engine, monkeypatch)


def _body(wall: Wall, number: int, **overrides: Any) -> dict[str, Any]:
    return {
        "prompt_id": wall.prompts[0].id,
        "text": f"Svar nummer {number}",
        "client_submission_id": f"hot-path-{number:06d}",
        **overrides,
    }


def _post(client: FlaskClient, wall: Wall, number: int, **overrides: Any) -> Any:
    return client.post(f"/api/v1/walls/{wall.slug}/answers", json=_body(wall, number, **overrides))


def _close(engine: Engine, wall: Wall) -> None:
    with engine.begin() as connection:
        connection.execute(
            update(Wall).where(Wall.id == wall.id).values(closes_at=utcnow() - timedelta(hours=1))
        )


# --- answering through the API ---


def test_an_answer_costs_one_insert_and_no_wall_query(
    app: Flask,
    client: FlaskClient,
    session: Session,
    clock: Clock,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    wall = make_wall(session, "billig", moderation=Moderation.POST)
    assert _post(client, wall, 1).status_code == 201
    statements = _statements(app, monkeypatch)
    response = _post(client, wall, 2)
    assert response.status_code == 201
    assert response.headers["Location"].endswith("/api/v1/walls/billig")
    inserts = [s for s in statements if s.startswith("INSERT INTO answer")]
    assert len(inserts) == 1
    assert not [s for s in statements if "FROM wall" in s or "FROM prompt" in s]
    # A retry is still answered from the stored row, once.
    retry = _post(client, wall, 2)
    assert retry.status_code == 200
    assert retry.get_json()["id"] == response.get_json()["id"]


def test_a_wall_closed_in_this_process_refuses_answers_at_once(
    client: FlaskClient, session: Session, clock: Clock
) -> None:
    wall = make_wall(session, "lukkes-her", moderation=Moderation.POST)
    assert _post(client, wall, 1).status_code == 201
    wall.closes_at = utcnow() - timedelta(minutes=1)  # committed through the ORM, as staff do
    session.commit()
    refused = _post(client, wall, 2)
    assert refused.status_code == 410
    assert refused.get_json()["error"]["code"] == "wall_closed"


def test_a_wall_closed_elsewhere_refuses_answers_after_at_most_the_period(
    app: Flask, client: FlaskClient, session: Session, clock: Clock, elsewhere: Engine
) -> None:
    period = app.config.get("WALL_CACHE_SECONDS", operations.WALL_CACHE_SECONDS)
    assert period <= 1.0
    wall = make_wall(session, "lukkes-andetsteds", moderation=Moderation.POST)
    assert _post(client, wall, 1).status_code == 201
    _close(elsewhere, wall)
    clock.now += period * 1.01
    assert _post(client, wall, 2).status_code == 410
    # An answer stored before the wall closed is still answered on retry.
    assert _post(client, wall, 1).status_code == 200


def test_without_a_period_every_answer_reads_the_wall(
    make_app: Any, session: Session, elsewhere: Engine
) -> None:
    wall = make_wall(session, "uden-hukommelse", moderation=Moderation.POST)
    client = make_app(WALL_CACHE_SECONDS=0).test_client()
    assert _post(client, wall, 1).status_code == 201
    _close(elsewhere, wall)
    assert _post(client, wall, 2).status_code == 410


# --- rate limits ---


def test_limits_still_refuse_after_n_with_their_headers_only_wherelimited_app(
    make_app: Any, session: Session
) -> None:
    wall = make_wall(session, "graense", moderation=Moderation.POST)
    app = limited_app(make_app)
    client = app.test_client()
    remaining = []
    for number in range(3):
        response = _post(client, wall, number)
        assert response.status_code == 201
        assert response.headers["X-RateLimit-Limit"] == "3"
        remaining.append(response.headers["X-RateLimit-Remaining"])
    assert remaining == ["2", "1", "0"]
    refused = _post(client, wall, 3)
    assert refused.status_code == 429
    assert 0 < int(refused.headers["Retry-After"]) <= 60
    for path in ("/healthz", "/w/graense", "/api/v1/walls/graense"):
        response = client.get(path)
        assert response.status_code == 200
        assert "X-RateLimit-Limit" not in response.headers
    # The limiter's own before-request check has nothing to do here and is left out.
    limiter = app.extensions["stemmer.limiter"]
    hooks = app.before_request_funcs.get(None, [])
    assert not [hook for hook in hooks if getattr(hook, "__self__", None) is limiter]


def test_app_wide_limits_keep_the_limiters_own_check(make_app: Any, session: Session) -> None:
    wall = make_wall(session, "hele-appen", moderation=Moderation.POST)
    app = limited_app(
        make_app, RATELIMIT_ANSWERS="100 per minute", RATELIMIT_APPLICATION="2/minute"
    )
    client = app.test_client()
    statuses = [_post(client, wall, number).status_code for number in range(3)]
    assert statuses == [201, 201, 429]


def test_the_in_memory_limit_store_starts_no_threads(
    make_app: Any, session: Session, monkeypatch: pytest.MonkeyPatch
) -> None:
    wall = make_wall(session, "traade", moderation=Moderation.POST)
    app = limited_app(make_app)
    storage = app.extensions["stemmer.limiter"].storage
    assert isinstance(storage, InlineExpiryMemoryStorage)
    started: list[threading.Timer] = []
    monkeypatch.setattr(threading.Timer, "start", lambda timer: started.append(timer))
    client = app.test_client()
    assert [_post(client, wall, n).status_code for n in range(4)] == [201, 201, 201, 429]
    assert started == []


def test_expired_limit_entries_are_dropped_inline_at_most_once_a_second() -> None:
    storage = InlineExpiryMemoryStorage("stemmer-memory://")
    storage.acquire_entry("spent", 10, 0)  # expires at once
    assert len(storage.events["spent"]) == 1
    storage._next_expiry = 0.0  # the second has passed
    assert storage.acquire_entry("fresh", 10, 60)
    assert not storage.events.get("spent")
    assert len(storage.events["fresh"]) == 1
    storage.acquire_entry("spent-again", 10, 0)
    storage.acquire_entry("fresh", 10, 60)  # within the second: nothing dropped yet
    assert len(storage.events["spent-again"]) == 1
    assert storage.acquire_entry("fresh", 3, 60)
    assert not storage.acquire_entry("fresh", 3, 60)  # counting is unchanged: 3 of 3 used


# --- headers and sessions ---


def test_a_security_header_set_by_the_view_is_kept(app: Flask) -> None:
    with app.test_request_context("/"):
        response = Response("x")
        response.headers["X-Frame-Options"] = "SAMEORIGIN"
        add_security_headers(response)
    assert response.headers.getlist("X-Frame-Options") == ["SAMEORIGIN"]
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert "frame-ancestors" in response.headers["Content-Security-Policy"]
    assert "Strict-Transport-Security" not in response.headers
    with app.test_request_context("/", base_url="https://stemmer.example"):
        secure = add_security_headers(Response("x"))
    assert secure.headers["Strict-Transport-Security"].startswith("max-age=")


def test_the_session_signer_is_built_once_and_follows_the_secret_key(
    app: Flask, client: FlaskClient, session: Session
) -> None:
    make_wall(session, "sprog")
    interface = app.session_interface
    assert interface.get_signing_serializer(app) is interface.get_signing_serializer(app)
    assert client.get("/w/sprog?lang=en").status_code == 200
    with client.session_transaction() as stored:
        assert stored["lang"] == "en"
    app.secret_key = "a-new-secret"
    with client.session_transaction() as stored:
        assert "lang" not in stored  # signed with the old key: not accepted
    app.config["SECRET_KEY_FALLBACKS"] = ["test-secret"]
    with client.session_transaction() as stored:
        assert stored["lang"] == "en"


# --- the wall page ---


def test_a_cached_wall_page_needs_no_wall_query(
    app: Flask,
    client: FlaskClient,
    session: Session,
    clock: Clock,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    wall = make_wall(session, "side", moderation=Moderation.POST)
    make_answer(session, wall, "Flere bænke ved søen")
    assert client.get("/w/side").status_code == 200
    statements = _statements(app, monkeypatch)
    page = client.get("/w/side")
    assert page.status_code == 200
    assert "Flere bænke ved søen" in page.get_data(as_text=True)
    assert len(statements) == 1  # the data version only
    assert "FROM wall" not in statements[0].split("(", 1)[0]


def test_a_wall_page_changed_elsewhere_shows_after_at_most_the_period(
    client: FlaskClient, session: Session, clock: Clock, elsewhere: Engine
) -> None:
    wall = make_wall(session, "side-andetsteds", moderation=Moderation.POST)
    assert client.get("/w/side-andetsteds").status_code == 200
    with elsewhere.begin() as connection:
        connection.execute(update(Wall).where(Wall.id == wall.id).values(title="Ny titel"))
    clock.now += operations.WALL_CACHE_SECONDS * 1.01
    assert "Ny titel" in client.get("/w/side-andetsteds").get_data(as_text=True)
    _close(elsewhere, wall)
    clock.now += operations.WALL_CACHE_SECONDS * 1.01
    assert client.get("/w/side-andetsteds").status_code == 410


def test_a_wall_page_closed_in_this_process_shows_it_at_once(
    client: FlaskClient, session: Session, clock: Clock
) -> None:
    wall = make_wall(session, "side-her", moderation=Moderation.POST)
    assert client.get("/w/side-her").status_code == 200
    assert client.get("/w/side-her").status_code == 200
    wall.closes_at = utcnow() - timedelta(minutes=1)
    session.commit()
    assert client.get("/w/side-her").status_code == 410
