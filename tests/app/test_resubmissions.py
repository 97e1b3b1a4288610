"""Without JavaScript, Back then Send is the same submission, not a second answer."""

from __future__ import annotations

import pytest
from flask.testing import FlaskClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from app.participate import resubmissions
from surveys.kiosk import create_device
from surveys.models import Answer, Wall
from tests.factories import make_wall


def _answers(session: Session) -> list[Answer]:
    session.expire_all()
    return list(session.scalars(select(Answer).order_by(Answer.id)))


def _form(wall: Wall, submission_id: str, **overrides: str) -> dict[str, str]:
    """The form as the browser sends it; Back renders it again with a new submission id."""
    data = {
        "prompt_id": str(wall.prompts[0].id),
        "text": "Flere voksne i vuggestuen",
        "client_submission_id": submission_id,
        "role": "parent",
    }
    data.update(overrides)
    return data


def test_the_same_answer_sent_again_from_the_same_browser_is_stored_once(
    client: FlaskClient, session: Session
) -> None:
    wall = make_wall(session, "tilbage")
    first = client.post("/w/tilbage", data=_form(wall, "page-load-0001"))
    assert first.status_code == 303
    # Back, then Send: a new id, the same answer (white space as the browser restored it).
    again = client.post(
        "/w/tilbage", data=_form(wall, "page-load-0002", text="  Flere voksne i vuggestuen ")
    )
    assert again.status_code == 303
    assert again.headers["Location"] == first.headers["Location"]
    [answer] = _answers(session)
    thanks = client.get(again.headers["Location"])
    assert thanks.status_code == 200
    assert "Flere voksne i vuggestuen" in thanks.get_data(as_text=True)
    assert answer.client_submission_id == "page-load-0001"


@pytest.mark.parametrize(
    "change",
    [
        {"text": "Flere voksne i børnehaven"},
        {"role": "professional"},
        {"prompt": "second"},
    ],
)
def test_a_different_answer_is_a_new_one(
    client: FlaskClient, session: Session, change: dict[str, str]
) -> None:
    wall = make_wall(session, "tilbage")
    client.post("/w/tilbage", data=_form(wall, "page-load-0001"))
    overrides = dict(change)
    if overrides.pop("prompt", None):
        overrides["prompt_id"] = str(wall.prompts[1].id)
    client.post("/w/tilbage", data=_form(wall, "page-load-0002", **overrides))
    assert len(_answers(session)) == 2


def test_another_browser_or_a_later_answer_is_a_new_one(
    client: FlaskClient, session: Session, monkeypatch: pytest.MonkeyPatch
) -> None:
    wall = make_wall(session, "tilbage")
    client.post("/w/tilbage", data=_form(wall, "page-load-0001"))
    other = client.application.test_client()
    other.post("/w/tilbage", data=_form(wall, "page-load-0002"))
    assert len(_answers(session)) == 2
    later = resubmissions.time.time() + resubmissions.RESUBMIT_SECONDS + 1
    monkeypatch.setattr(resubmissions.time, "time", lambda: later)
    client.post("/w/tilbage", data=_form(wall, "page-load-0003"))
    assert len(_answers(session)) == 3


def test_the_session_keeps_no_answer_text(client: FlaskClient, session: Session) -> None:
    wall = make_wall(session, "tilbage")
    client.post("/w/tilbage", data=_form(wall, "page-load-0001"))
    with client.session_transaction() as stored:
        assert "vuggestuen" not in repr(dict(stored))
        assert len(stored[resubmissions.SESSION_KEY]) == 1


def test_the_kiosk_plain_form_sent_again_is_stored_once_until_the_next_person(
    client: FlaskClient, session: Session
) -> None:
    wall = make_wall(session, "kiosk-vaeg")
    device = create_device(session, wall, "Biblioteket")
    form = {"device": device.token}
    for submission in ("kiosk-page-0001", "kiosk-page-0002"):
        response = client.post("/kiosk/kiosk-vaeg", data=_form(wall, submission, **form))
        assert response.status_code == 303
        assert response.headers["Location"].startswith("/kiosk/kiosk-vaeg/tak")
    assert len(_answers(session)) == 1
    # "Start over" for the next person, who writes the very same words: their own answer.
    thanks = client.get(f"/kiosk/kiosk-vaeg/tak?device={device.token}").get_data(as_text=True)
    assert f"/kiosk/kiosk-vaeg/forfra?device={device.token}" in thanks
    start = client.get(f"/kiosk/kiosk-vaeg/forfra?device={device.token}")
    assert start.status_code == 303
    assert start.headers["Location"] == f"/kiosk/kiosk-vaeg?device={device.token}"
    client.post("/kiosk/kiosk-vaeg", data=_form(wall, "kiosk-page-0003", **form))
    assert len(_answers(session)) == 2
