"""The database unavailable for a moment: 503 with a clear error that claims nothing it cannot
know (an answer may or may not have been stored), and the same answer sent again afterwards
(as the offline outbox does) is stored exactly once."""

from __future__ import annotations

from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from surveys import kiosk as kiosks
from surveys.models import Answer, Moderation
from tests.factories import make_wall

from .outage import database_unavailable, short_busy_timeout


def _count(session: Session) -> int:
    session.expire_all()
    return session.scalar(select(func.count()).select_from(Answer)) or 0


def test_api_answers_503_then_the_retry_is_stored_once(
    app: Flask, client: FlaskClient, session: Session, database_url: str
) -> None:
    wall = make_wall(session, "udfald", moderation=Moderation.POST)
    device = kiosks.create_device(session, wall, "Biblioteket")
    short_busy_timeout(app.extensions["stemmer.db"].engine)
    body = {
        "prompt_id": wall.prompts[0].id,
        "text": "Flere bænke i parken",
        "client_submission_id": "outage-00000001",
    }
    with database_unavailable(database_url):
        response = client.post("/api/v1/walls/udfald/answers", json=body)
        assert response.status_code == 503
        error = response.get_json()["error"]
        assert error["code"] == "database_unavailable"
        # Only what is known: whether it was stored is not (README "Drift").
        assert "vi ved ikke, om det, du sendte, blev gemt" in error["message"]
        assert "samme client_submission_id" in error["message"]
        assert "intet" not in error["message"]
        assert response.headers["Retry-After"] == "5"
        assert response.headers["Cache-Control"] == "no-store"

        kiosk = client.post(
            "/kiosk/udfald/answers",
            json={**body, "client_submission_id": "outage-kiosk-01"},
            headers={"X-Kiosk-Device": device.token},
        )
        assert kiosk.status_code == 503

        form = {**body, "prompt_id": str(body["prompt_id"]), "client_submission_id": "outage-02"}
        page = client.post("/w/udfald", data=form)
        assert page.status_code == 503
        html = page.get_data(as_text=True)
        assert "send det igen om lidt: et svar bliver aldrig gemt to gange" in html
        assert "intet blev gemt" not in html and "QR" not in html

        assert client.get("/healthz").status_code in (200, 503)  # reads may still work
    assert _count(session) == 0

    first = client.post("/api/v1/walls/udfald/answers", json=body)
    again = client.post("/api/v1/walls/udfald/answers", json=body)
    assert (first.status_code, again.status_code) == (201, 200)
    assert first.get_json()["id"] == again.get_json()["id"]
    assert _count(session) == 1
    assert client.get("/healthz").status_code == 200
