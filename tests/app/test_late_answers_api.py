"""``written_at`` on the JSON endpoints: the API and the kiosk's, used by the outbox."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from flask.testing import FlaskClient
from sqlalchemy import select
from sqlalchemy.orm import Session
from werkzeug.test import TestResponse

from surveys.answers import LATE_ANSWER_GRACE
from surveys.kiosk import create_device, revoke_device
from surveys.models import Answer, AnswerStatus, Moderation, Wall
from tests.factories import make_wall


def _answers(session: Session) -> list[Answer]:
    session.expire_all()
    return list(session.scalars(select(Answer).order_by(Answer.id)))


def _body(wall: Wall, **overrides: object) -> dict[str, object]:
    body: dict[str, object] = {
        "prompt_id": wall.prompts[0].id,
        "text": "Skrevet i toget uden net",
        "client_submission_id": "outbox-late-0001",
    }
    body.update(overrides)
    return body


def _ago(**delta: float) -> str:
    return (datetime.now(UTC) - timedelta(**delta)).isoformat()


def test_api_accepts_an_answer_written_before_the_wall_closed(
    client: FlaskClient, session: Session
) -> None:
    wall = make_wall(
        session,
        "lukket",
        moderation=Moderation.POST,
        closes_at=datetime.now(UTC) - timedelta(hours=3),
    )
    written = _ago(hours=4)
    response = client.post("/api/v1/walls/lukket/answers", json=_body(wall, written_at=written))
    assert response.status_code == 201
    assert response.get_json()["status"] == "pending"
    assert response.get_json()["client_submission_id"] == "outbox-late-0001"
    retry = client.post("/api/v1/walls/lukket/answers", json=_body(wall, written_at=written))
    assert retry.status_code == 200 and retry.get_json()["id"] == response.get_json()["id"]
    [answer] = _answers(session)
    assert answer.status is AnswerStatus.PENDING
    assert answer.written_at == datetime.fromisoformat(written)


def test_api_refuses_an_answer_written_after_the_close_or_after_the_grace_period(
    client: FlaskClient, session: Session
) -> None:
    grace_hours = LATE_ANSWER_GRACE.total_seconds() / 3600
    wall = make_wall(
        session, "lukket", closes_at=datetime.now(UTC) - timedelta(hours=grace_hours + 1)
    )
    for number, written in enumerate([_ago(hours=grace_hours + 2), _ago(minutes=5), None]):
        body = _body(wall, client_submission_id=f"outbox-late-000{number}", written_at=written)
        response = client.post("/api/v1/walls/lukket/answers", json=body)
        assert response.status_code == 410
        assert response.get_json()["error"]["code"] == "wall_closed"
    assert _answers(session) == []


@pytest.mark.parametrize("written_at", ["i går", "2026-12-07T10:00:00", 17, {}])
def test_api_unreadable_written_at_is_400(
    client: FlaskClient, session: Session, written_at: object
) -> None:
    wall = make_wall(session, "aaben")
    response = client.post("/api/v1/walls/aaben/answers", json=_body(wall, written_at=written_at))
    assert response.status_code == 400
    assert response.get_json()["error"]["code"] == "invalid_written_at"
    assert _answers(session) == []


def test_api_refuses_a_submission_id_with_a_trailing_newline(
    client: FlaskClient, session: Session
) -> None:
    wall = make_wall(session, "aaben")
    response = client.post(
        "/api/v1/walls/aaben/answers", json=_body(wall, client_submission_id="abcdefgh\n")
    )
    assert response.status_code == 400
    assert response.get_json()["error"]["code"] == "invalid_submission_id"
    assert _answers(session) == []


def test_openapi_documents_written_at(client: FlaskClient) -> None:
    document = client.get("/api/v1/openapi.json").get_json()
    field = document["components"]["schemas"]["NewAnswer"]["properties"]["written_at"]
    assert field["format"] == "date-time"
    assert "invalid_written_at" in field["description"]


# --- the kiosk's JSON endpoint ---


def _kiosk_post(client: FlaskClient, token: str, body: dict[str, object]) -> TestResponse:
    return client.post("/kiosk/kiosk-vaeg/answers", json=body, headers={"X-Kiosk-Device": token})


def test_revoked_kiosk_answer_written_before_is_accepted_and_held(
    client: FlaskClient, session: Session
) -> None:
    wall = make_wall(session, "kiosk-vaeg", moderation=Moderation.POST)
    device = create_device(session, wall, "Biblioteket")
    written = _ago(minutes=30)
    revoke_device(session, device)
    response = _kiosk_post(client, device.token, _body(wall, written_at=written))
    assert response.status_code == 201
    assert response.get_json()["status"] == "pending"
    retry = _kiosk_post(client, device.token, _body(wall, written_at=written))
    assert retry.status_code == 200
    [answer] = _answers(session)
    assert (answer.device_id, answer.status) == (device.id, AnswerStatus.PENDING)
    # Something new from the switched-off kiosk is still refused.
    new = _kiosk_post(client, device.token, _body(wall, client_submission_id="outbox-late-0002"))
    assert new.status_code == 410
    assert new.get_json()["error"]["code"] == "kiosk_device_revoked"


def test_revoked_kiosk_retry_of_a_stored_answer_gets_it_back(
    client: FlaskClient, session: Session
) -> None:
    wall = make_wall(session, "kiosk-vaeg")
    device = create_device(session, wall, "Biblioteket")
    first = _kiosk_post(client, device.token, _body(wall))
    assert first.status_code == 201
    revoke_device(session, device)
    retry = _kiosk_post(client, device.token, _body(wall))
    assert retry.status_code == 200
    assert retry.get_json()["id"] == first.get_json()["id"]
    # The kiosk page itself is gone for a revoked device.
    assert client.get(f"/kiosk/kiosk-vaeg?device={device.token}").status_code == 410
