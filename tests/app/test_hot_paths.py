"""The busiest paths, answering and the wall page (bench/load/inprocess.py measures them):
answers stored once, closed walls refused at once (also when closed by another process),
limits enforced, headers and sessions as they should be.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import Engine, update
from sqlalchemy.orm import Session
from werkzeug.wrappers import Response

from app.security import add_security_headers
from surveys.models import Moderation, Wall, utcnow
from tests.factories import count_answers, limited_app, make_answer, make_wall, record_statements


def _statements(app: Flask) -> list[str]:
    return record_statements(app.extensions["stemmer.db"].engine)


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


def test_an_answer_costs_one_insert_and_a_retry_none(
    app: Flask, client: FlaskClient, session: Session
) -> None:
    wall = make_wall(session, "billig", moderation=Moderation.POST)
    assert _post(client, wall, 1).status_code == 201
    statements = _statements(app)
    response = _post(client, wall, 2)
    assert response.status_code == 201
    assert response.headers["Location"].endswith("/api/v1/walls/billig")
    assert len([s for s in statements if s.startswith("INSERT")]) == 1
    # A retry is answered from the stored row.
    retry = _post(client, wall, 2)
    assert retry.status_code == 200
    assert retry.get_json()["id"] == response.get_json()["id"]
    assert count_answers(session) == 2


def test_an_answer_reads_its_wall_and_questions_in_one_select(
    app: Flask, client: FlaskClient, session: Session
) -> None:
    wall = make_wall(session, "en-laesning", moderation=Moderation.POST)
    assert _post(client, wall, 1).status_code == 201
    statements = _statements(app)
    assert _post(client, wall, 2).status_code == 201
    reads = [s for s in statements if s.startswith("SELECT")]
    assert len([s for s in reads if "FROM prompt" in s or "JOIN prompt" in s]) == 1, reads
    # the question is taken from the wall's questions, not read again
    assert not [s for s in reads if "FROM prompt" in s and "wall" not in s.split("FROM")[1]]


def test_a_wall_closed_in_this_process_refuses_answers_at_once(
    client: FlaskClient, session: Session
) -> None:
    wall = make_wall(session, "lukkes-her", moderation=Moderation.POST)
    assert _post(client, wall, 1).status_code == 201
    wall.closes_at = utcnow() - timedelta(minutes=1)  # committed through the ORM, as staff do
    session.commit()
    refused = _post(client, wall, 2)
    assert refused.status_code == 410
    assert refused.get_json()["error"]["code"] == "wall_closed"


def test_a_wall_closed_elsewhere_refuses_answers_at_once(
    client: FlaskClient, session: Session, elsewhere: Engine
) -> None:
    wall = make_wall(session, "lukkes-andetsteds", moderation=Moderation.POST)
    assert _post(client, wall, 1).status_code == 201
    _close(elsewhere, wall)
    assert _post(client, wall, 2).status_code == 410
    # An answer stored before the wall closed is still answered on retry.
    assert _post(client, wall, 1).status_code == 200


# --- rate limits ---


def test_limits_still_refuse_after_n_with_their_headers_only_where_limited(
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


def test_the_session_follows_the_secret_key_and_its_fallbacks(
    app: Flask, client: FlaskClient, session: Session
) -> None:
    make_wall(session, "sprog")
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


def test_a_wall_page_changed_elsewhere_shows_at_once(
    client: FlaskClient, session: Session, elsewhere: Engine
) -> None:
    wall = make_wall(session, "side-andetsteds", moderation=Moderation.POST)
    make_answer(session, wall, "Flere bænke ved søen")
    assert client.get("/w/side-andetsteds").status_code == 200
    with elsewhere.begin() as connection:
        connection.execute(update(Wall).where(Wall.id == wall.id).values(title="Ny titel"))
    page = client.get("/w/side-andetsteds").get_data(as_text=True)
    assert "Ny titel" in page and "Flere bænke ved søen" in page
    _close(elsewhere, wall)
    assert client.get("/w/side-andetsteds").status_code == 410


def test_a_wall_page_closed_in_this_process_shows_it_at_once(
    client: FlaskClient, session: Session
) -> None:
    wall = make_wall(session, "side-her", moderation=Moderation.POST)
    assert client.get("/w/side-her").status_code == 200
    assert client.get("/w/side-her").status_code == 200
    wall.closes_at = utcnow() - timedelta(minutes=1)
    session.commit()
    assert client.get("/w/side-her").status_code == 410
