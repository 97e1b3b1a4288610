"""The views' rate limits (app/ratelimits.py): Flask-Limiter's decorators, described by their
headers, and what a failing limit storage does.

The limits' behaviour as participants meet it (shared web/API budget, kiosk devices, agreeing,
sign-in) is tested in test_security.py; the limiter's hooks in test_hot_paths.py.
"""

from __future__ import annotations

import json
import socket
import subprocess
import sys
import time
from pathlib import Path
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

ROOT = Path(__file__).resolve().parents[2]


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


def _closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])  # closed again when this returns


def test_a_failing_limit_storage_is_a_503_with_retry_after_and_stores_nothing(
    make_app: Any, session: Session
) -> None:
    wall = make_wall(session, "lager-vaek", moderation=Moderation.POST)
    gone = f"redis://127.0.0.1:{_closed_port()}"  # a Redis server that is not there
    client = limited_app(make_app, RATELIMIT_STORAGE_URI=gone).test_client()
    response = _post(client, wall, 1)
    assert response.status_code == 503
    assert response.get_json()["error"]["code"] == "rate_limit_unavailable"
    assert response.headers["Retry-After"] == "5"  # the outbox sends it again shortly
    page = client.post(f"/w/{wall.slug}", data={"prompt_id": str(wall.prompts[0].id)})
    assert page.status_code == 503
    assert "text/html" in page.content_type
    session.expire_all()
    assert session.scalar(select(func.count()).select_from(Answer)) == 0


#: Flask-Limiter takes RATELIMIT_SWALLOW_ERRORS from the first app of a process: a new one.
SWALLOWED = """
import json, sys
from app import create_app
app = create_app({
    "TESTING": True, "DATABASE_URL": sys.argv[1], "SECRET_KEY": "test",
    "RATELIMIT_ENABLED": True, "RATELIMIT_ANSWERS": "3 per minute",
    "RATELIMIT_STORAGE_URI": sys.argv[2], "RATELIMIT_SWALLOW_ERRORS": True,
})
client = app.test_client()
responses = [
    client.post(f"/api/v1/walls/{sys.argv[3]}/answers", json={
        "prompt_id": int(sys.argv[4]), "text": f"Svar {n}", "client_submission_id": f"slugt-{n:06d}"
    })
    for n in range(5)
]
print(json.dumps([[r.status_code, "X-RateLimit-Limit" in r.headers] for r in responses]))
"""


def test_a_failing_limit_storage_lets_answers_through_when_errors_are_swallowed(
    session: Session, database_url: str
) -> None:
    wall = make_wall(session, "lager-slugt", moderation=Moderation.POST)
    gone = f"redis://127.0.0.1:{_closed_port()}"
    script = [sys.executable, "-c", SWALLOWED, database_url, gone, wall.slug]
    done = subprocess.run(
        [*script, str(wall.prompts[0].id)], capture_output=True, text=True, timeout=120, cwd=ROOT
    )
    assert done.returncode == 0, done.stderr[-3000:]
    # Not counted, so never refused; no limit to describe.
    assert json.loads(done.stdout.splitlines()[-1]) == [[201, False]] * 5


def test_an_ipv6_client_counts_by_its_64_network(make_app: Any) -> None:
    app = make_app()

    def key(address: str) -> str:
        with app.test_request_context(environ_base={"REMOTE_ADDR": address}):
            return ratelimits.client_key()

    assert key("2001:db8:1:2::1") == key("2001:db8:1:2:ffff::9")
    assert key("2001:db8:1:2::1") != key("2001:db8:1:3::1")
    assert key("192.0.2.1") != key("192.0.2.2")
    assert "2001" not in key("2001:db8:1:2::1")  # a keyed hash, never the address
