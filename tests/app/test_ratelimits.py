"""The views' rate limits (app/ratelimits.py): counted as Flask-Limiter's decorators count
them, worked out once when the app is made, and described by their headers.

The limits' behaviour as participants meet it (shared web/API budget, kiosk devices, agreeing,
sign-in) is tested in test_security.py; the limiter's hooks in test_hot_paths.py.
"""

from __future__ import annotations

import time
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from limits import parse
from sqlalchemy import func, select
from sqlalchemy.orm import Session
from werkzeug.http import parse_date

from app import ratelimits
from surveys import kiosk as kiosks
from surveys.models import Answer, Moderation, Wall
from tests.factories import limited_app, make_wall
from tests.load.outage import database_unavailable, short_busy_timeout


def _post(client: FlaskClient, wall: Wall, number: int, **kwargs: Any) -> Any:
    body = {
        "prompt_id": wall.prompts[0].id,
        "text": f"Svar nummer {number}",
        "client_submission_id": f"rate-{number:08d}",
    }
    return client.post(f"/api/v1/walls/{wall.slug}/answers", json=body, **kwargs)


def _client_key(app: Flask) -> str:
    with app.test_request_context(environ_base={"REMOTE_ADDR": "127.0.0.1"}):  # the client's
        return ratelimits.client_key()


def test_accepted_answers_carry_the_limit_and_only_the_refusal_a_retry_after(
    make_app: Any, session: Session
) -> None:
    wall = make_wall(session, "hoveder", moderation=Moderation.POST)
    client = limited_app(make_app).test_client()
    accepted = [_post(client, wall, number) for number in range(3)]
    assert [response.status_code for response in accepted] == [201] * 3
    for number, response in enumerate(accepted):
        assert response.headers["X-RateLimit-Limit"] == "3"
        assert response.headers["X-RateLimit-Remaining"] == str(2 - number)
        assert int(response.headers["X-RateLimit-Reset"]) > time.time()
        assert "Retry-After" not in response.headers  # nothing to wait for
    refused = _post(client, wall, 3)
    assert refused.status_code == 429
    assert refused.get_json()["error"]["code"] == "too_many_requests"
    assert refused.headers["X-RateLimit-Remaining"] == "0"
    assert 1 <= int(refused.headers["Retry-After"]) <= 60
    assert len(refused.headers.getlist("X-RateLimit-Limit")) == 1


def test_retry_after_can_be_a_date(make_app: Any, session: Session) -> None:
    wall = make_wall(session, "dato", moderation=Moderation.POST)
    app = limited_app(make_app, RATELIMIT_HEADER_RETRY_AFTER_VALUE="http-date")
    client = app.test_client()
    for number in range(3):
        _post(client, wall, number)
    refused = _post(client, wall, 3)
    assert refused.status_code == 429
    when = parse_date(refused.headers["Retry-After"])
    assert when is not None and 0 <= when.timestamp() - time.time() <= 61


def test_without_headers_setting_no_limit_headers(make_app: Any, session: Session) -> None:
    wall = make_wall(session, "uden", moderation=Moderation.POST)
    client = limited_app(make_app, RATELIMIT_HEADERS_ENABLED=False).test_client()
    response = _post(client, wall, 1)
    assert response.status_code == 201
    assert "X-RateLimit-Limit" not in response.headers


def test_the_shortest_window_is_counted_first_and_a_refusal_counts_no_further(
    make_app: Any, session: Session
) -> None:
    wall = make_wall(session, "vinduer", moderation=Moderation.POST)
    app = limited_app(make_app, RATELIMIT_ANSWERS="5 per hour;2 per minute")
    client = app.test_client()
    statuses = [_post(client, wall, number).status_code for number in range(4)]
    assert statuses == [201, 201, 429, 429]
    strategy = app.extensions["stemmer.limiter"].limiter
    identifiers = ("stemmer", _client_key(app), "answers")
    # The hour counted the two answers only, not the refused attempts.
    assert strategy.get_window_stats(parse("5 per hour"), *identifiers).remaining == 3
    assert strategy.get_window_stats(parse("2 per minute"), *identifiers).remaining == 0


def test_a_kiosk_with_its_device_is_described_by_the_device_limit(
    make_app: Any, session: Session
) -> None:
    wall = make_wall(session, "kiosk-hoved", moderation=Moderation.POST)
    device = kiosks.create_device(session, wall, "Biblioteket")
    client = limited_app(make_app).test_client()
    body = {
        "prompt_id": wall.prompts[0].id,
        "text": "Flere bænke",
        "client_submission_id": "kiosk-00000001",
    }
    with_device = client.post(
        f"/kiosk/{wall.slug}/answers", json=body, headers={"X-Kiosk-Device": device.token}
    )
    assert with_device.status_code == 201
    assert with_device.headers["X-RateLimit-Limit"] == "5"
    without = client.post(
        f"/kiosk/{wall.slug}/answers", json={**body, "client_submission_id": "kiosk-00000002"}
    )
    assert without.status_code == 404  # no such kiosk, counted as any client's answer:
    assert without.headers["X-RateLimit-Limit"] == "3"  # the per-client answer limit


def test_a_limit_setting_that_is_no_limit_stops_the_app_at_start(make_app: Any) -> None:
    with pytest.raises(ValueError, match="RATELIMIT_ANSWERS"):
        limited_app(make_app, RATELIMIT_ANSWERS="mange om dagen")


def test_the_limits_are_worked_out_once_and_the_limiter_adds_no_request_hooks(
    make_app: Any, session: Session, monkeypatch: pytest.MonkeyPatch
) -> None:
    wall = make_wall(session, "en-gang", moderation=Moderation.POST)
    app = limited_app(make_app)
    limiter = app.extensions["stemmer.limiter"]

    def parsed_again(_setting: str) -> None:
        raise AssertionError("a limit setting was parsed again during a request")

    monkeypatch.setattr(ratelimits, "parse_many", parsed_again)
    client = app.test_client()
    assert [_post(client, wall, n).status_code for n in range(4)] == [201, 201, 201, 429]
    for hooks in (app.before_request_funcs, app.after_request_funcs, app.teardown_request_funcs):
        for hook in hooks.get(None, []):
            assert getattr(hook, "__self__", None) is not limiter


def test_app_wide_limits_leave_the_headers_to_the_view_limit(
    make_app: Any, session: Session
) -> None:
    wall = make_wall(session, "begge", moderation=Moderation.POST)
    app = limited_app(make_app, RATELIMIT_APPLICATION="10/minute")
    client = app.test_client()
    response = _post(client, wall, 1)
    assert response.status_code == 201
    assert response.headers.getlist("X-RateLimit-Limit") == ["3"]
    assert response.headers.getlist("X-RateLimit-Remaining") == ["2"]


def test_an_unavailable_database_keeps_its_own_retry_after_under_the_limits(
    make_app: Any, session: Session, database_url: str
) -> None:
    wall = make_wall(session, "udfald-graense", moderation=Moderation.POST)
    app = limited_app(make_app)
    short_busy_timeout(app.extensions["stemmer.db"].engine)
    client = app.test_client()
    with database_unavailable(database_url):
        response = _post(client, wall, 1)
    assert response.status_code == 503
    # The outbox sends again in 5 s, not when this client's minute of answers has passed.
    assert response.headers["Retry-After"] == "5"
    assert response.headers["X-RateLimit-Limit"] == "3"


class _BrokenStorage(Exception):
    pass


def _break_storage(app: Flask, monkeypatch: pytest.MonkeyPatch) -> None:
    storage = app.extensions["stemmer.limiter"].storage

    def gone(*_args: Any, **_kwargs: Any) -> Any:
        raise _BrokenStorage("limit storage unreachable")

    for name in ("acquire_entry", "get_moving_window", "incr", "get"):
        monkeypatch.setattr(storage, name, gone)


def test_a_failing_limit_storage_is_an_error_by_default(
    make_app: Any, session: Session, monkeypatch: pytest.MonkeyPatch
) -> None:
    wall = make_wall(session, "lager-vaek", moderation=Moderation.POST)
    app = limited_app(make_app)
    _break_storage(app, monkeypatch)
    client = app.test_client()
    # Served, this is a 500 (which the outbox sends again later); the test app raises it.
    with pytest.raises(_BrokenStorage):
        _post(client, wall, 1)
    session.expire_all()
    assert session.scalar(select(func.count()).select_from(Answer)) == 0


def test_a_failing_limit_storage_lets_answers_through_when_errors_are_swallowed(
    make_app: Any, session: Session, monkeypatch: pytest.MonkeyPatch
) -> None:
    wall = make_wall(session, "lager-slugt", moderation=Moderation.POST)
    app = limited_app(make_app, RATELIMIT_SWALLOW_ERRORS=True)
    _break_storage(app, monkeypatch)
    client = app.test_client()
    statuses = [_post(client, wall, number).status_code for number in range(5)]
    assert statuses == [201] * 5  # not counted, so never refused
    assert "X-RateLimit-Limit" not in _post(client, wall, 9).headers
