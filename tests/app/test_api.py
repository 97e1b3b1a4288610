"""JSON API v1."""

from __future__ import annotations

from datetime import timedelta

import pytest
from flask.testing import FlaskClient
from sqlalchemy.orm import Session

from surveys.models import Answer, AnswerStatus, Channel, utcnow
from tests.factories import count_answers, make_answer, make_wall


def _payload(wall, **overrides):
    body = {
        "prompt_id": wall.prompts[0].id,
        "text": "Cykelsti til skolen",
        "client_submission_id": "api-submission-0001",
        "channel": "event",
        "profile": {"age_group": "13-17", "area": "Rønne"},
    }
    body.update(overrides)
    return body


def test_get_wall(client: FlaskClient, session: Session) -> None:
    wall = make_wall(session, "unge-stemmer")
    response = client.get("/api/v1/walls/unge-stemmer")
    assert response.status_code == 200
    data = response.get_json()
    assert data["slug"] == "unge-stemmer"
    assert [p["id"] for p in data["prompts"]] == [p.id for p in wall.prompts]
    assert data["prompts"][0]["text"] == "Hvad er det gode børneliv her?"
    assert data["is_open"] is True


def test_post_answer_201_then_200_on_retry(client: FlaskClient, session: Session) -> None:
    wall = make_wall(session)
    first = client.post(f"/api/v1/walls/{wall.slug}/answers", json=_payload(wall))
    assert first.status_code == 201
    created = first.get_json()
    assert created["client_submission_id"] == "api-submission-0001"
    assert created["status"] == "pending"
    retry = client.post(f"/api/v1/walls/{wall.slug}/answers", json=_payload(wall))
    assert retry.status_code == 200
    assert retry.get_json()["id"] == created["id"]
    assert count_answers(session) == 1
    stored = session.get(Answer, created["id"])
    assert stored is not None
    assert stored.channel is Channel.EVENT
    assert stored.profile == {"age_group": "13-17", "area": "Rønne"}


def test_channel_defaults_to_api_and_kiosk_cannot_be_claimed(
    client: FlaskClient, session: Session
) -> None:
    wall = make_wall(session)
    body = _payload(wall)
    del body["channel"]
    response = client.post(f"/api/v1/walls/{wall.slug}/answers", json=body)
    assert session.get(Answer, response.get_json()["id"]).channel is Channel.API
    kiosk = client.post(
        f"/api/v1/walls/{wall.slug}/answers",
        json=_payload(wall, channel="kiosk", client_submission_id="api-submission-0002"),
    )
    assert kiosk.status_code == 400
    assert kiosk.get_json()["error"]["code"] == "invalid_channel"


@pytest.mark.parametrize(
    ("change", "code"),
    [
        ({"text": ""}, "empty_text"),
        ({"text": "x" * 1001}, "text_too_long"),
        ({"text": ["a"]}, "invalid_text"),
        ({"prompt_id": "abc"}, "invalid_prompt"),
        ({"prompt_id": 999999}, "invalid_prompt"),
        ({"client_submission_id": "x"}, "invalid_submission_id"),
        ({"channel": "fax"}, "invalid_channel"),
        ({"profile": {"role": "pirate"}}, "invalid_profile"),
        ({"profile": "parent"}, "invalid_profile"),
        ({"extra": 1}, "unknown_field"),
    ],
)
def test_invalid_input_is_400_with_error_object(
    client: FlaskClient, session: Session, change: dict, code: str
) -> None:
    wall = make_wall(session)
    response = client.post(f"/api/v1/walls/{wall.slug}/answers", json=_payload(wall, **change))
    assert response.status_code == 400
    error = response.get_json()["error"]
    assert error["code"] == code
    assert error["message"]
    assert count_answers(session) == 0


def test_missing_fields_are_400(client: FlaskClient, session: Session) -> None:
    wall = make_wall(session)
    response = client.post(f"/api/v1/walls/{wall.slug}/answers", json={})
    assert response.status_code == 400
    assert response.get_json()["error"]["code"] == "invalid_submission_id"


@pytest.mark.parametrize(
    ("body", "content_type", "code"),
    [
        ("not json", "text/plain", "not_json"),
        ("{broken", "application/json", "invalid_json"),
        (b"\xff\xfe\x00garbage", "application/json", "invalid_json"),
        ("[1, 2]", "application/json", "invalid_json"),
        ('"text"', "application/json", "invalid_json"),
    ],
)
def test_bad_bodies_are_400(
    client: FlaskClient, session: Session, body: str | bytes, content_type: str, code: str
) -> None:
    wall = make_wall(session)
    response = client.post(
        f"/api/v1/walls/{wall.slug}/answers", data=body, content_type=content_type
    )
    assert response.status_code == 400
    assert response.get_json()["error"]["code"] == code


def test_huge_body_is_413(client: FlaskClient, session: Session) -> None:
    wall = make_wall(session)
    response = client.post(
        f"/api/v1/walls/{wall.slug}/answers",
        data='{"text": "' + "x" * 400_000 + '"}',
        content_type="application/json",
    )
    assert response.status_code == 413
    assert "error" in response.get_json()


def test_unknown_wall_is_404_json(client: FlaskClient) -> None:
    for response in (
        client.get("/api/v1/walls/nope"),
        client.post("/api/v1/walls/nope/answers", json={}),
        client.get("/api/v1/walls/nope/answers"),
    ):
        assert response.status_code == 404
        assert response.get_json()["error"]["code"] == "wall_not_found"


def test_unknown_route_and_method_are_json(client: FlaskClient) -> None:
    assert client.get("/api/v1/nothing").get_json()["error"]["code"] == "not_found"
    response = client.delete("/api/v1/walls/x")
    assert response.status_code == 405
    assert "error" in response.get_json()


def test_closed_wall_is_410(client: FlaskClient, session: Session) -> None:
    wall = make_wall(session, closes_at=utcnow() - timedelta(hours=1))
    response = client.post(f"/api/v1/walls/{wall.slug}/answers", json=_payload(wall))
    assert response.status_code == 410
    assert response.get_json()["error"]["code"] == "wall_closed"


def test_list_answers_approved_newest_first_paginated(
    client: FlaskClient, session: Session
) -> None:
    wall = make_wall(session)
    now = utcnow()
    for i in range(5):
        make_answer(session, wall, f"Godkendt {i}", created_at=now - timedelta(minutes=10 - i))
    make_answer(session, wall, "Afventer", status=AnswerStatus.PENDING)
    make_answer(session, wall, "Skjult", status=AnswerStatus.HIDDEN)
    first = client.get(f"/api/v1/walls/{wall.slug}/answers?per_page=2").get_json()
    assert [i["text"] for i in first["items"]] == ["Godkendt 4", "Godkendt 3"]
    assert first["total"] == 5 and first["next_page"] == 2
    last = client.get(f"/api/v1/walls/{wall.slug}/answers?per_page=2&page=3").get_json()
    assert [i["text"] for i in last["items"]] == ["Godkendt 0"]
    assert last["next_page"] is None
    assert "role" not in last["items"][0] and "area" not in last["items"][0]


def test_list_answers_filter_by_prompt(client: FlaskClient, session: Session) -> None:
    wall = make_wall(session)
    make_answer(session, wall, "Første", prompt=wall.prompts[0])
    make_answer(session, wall, "Anden", prompt=wall.prompts[1])
    data = client.get(
        f"/api/v1/walls/{wall.slug}/answers?prompt_id={wall.prompts[1].id}"
    ).get_json()
    assert [i["text"] for i in data["items"]] == ["Anden"]


@pytest.mark.parametrize(
    "query", ["page=0", "page=x", "per_page=101", "per_page=-1", "prompt_id=a"]
)
def test_list_answers_bad_paging(client: FlaskClient, session: Session, query: str) -> None:
    wall = make_wall(session)
    response = client.get(f"/api/v1/walls/{wall.slug}/answers?{query}")
    assert response.status_code == 400


def test_answer_posted_by_api_is_visible_by_api_once_approved(
    client: FlaskClient, session: Session
) -> None:
    wall = make_wall(session)
    created = client.post(f"/api/v1/walls/{wall.slug}/answers", json=_payload(wall)).get_json()
    assert client.get(f"/api/v1/walls/{wall.slug}/answers").get_json()["total"] == 0
    answer = session.get(Answer, created["id"])
    answer.status = AnswerStatus.APPROVED
    session.commit()
    items = client.get(f"/api/v1/walls/{wall.slug}/answers").get_json()["items"]
    assert [i["id"] for i in items] == [created["id"]]
    assert items[0]["text"] == "Cykelsti til skolen"
