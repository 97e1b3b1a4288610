"""Bad input on the wall and the API: a clear 4xx, or stored safely and shown escaped."""

from __future__ import annotations

import json
from typing import Any

import pytest
from flask.testing import FlaskClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from surveys import kiosk as kiosks
from surveys.models import Answer, Moderation, Wall
from surveys.text import MAX_ANSWER_LENGTH
from tests.factories import make_answer, make_wall

API = "/api/v1/walls/ondt/answers"


@pytest.fixture
def wall(session: Session) -> Wall:
    return make_wall(session, "ondt", moderation=Moderation.POST)


def _body(wall: Wall, text: Any, submission: str = "bad-input-0001", **extra: Any) -> dict:
    return {
        "prompt_id": wall.prompts[0].id,
        "text": text,
        "client_submission_id": submission,
        **extra,
    }


def _stored(session: Session) -> list[str]:
    session.expire_all()
    return list(session.scalars(select(Answer.text).order_by(Answer.id)))


def _error(response: Any) -> str:
    assert response.content_type == "application/json"
    body = response.get_json()
    assert body["error"]["message"]
    return body["error"]["code"]


def test_body_over_the_size_limit_is_413(client: FlaskClient, wall: Wall, session: Session) -> None:
    huge = json.dumps(_body(wall, "x" * 300_000))
    response = client.post(API, data=huge, content_type="application/json")
    assert response.status_code == 413
    assert _error(response) == "request_entity_too_large"
    form = client.post("/w/ondt", data={"text": "x" * 300_000, "prompt_id": "1"})
    assert form.status_code == 413
    assert "text/html" in form.content_type
    assert _stored(session) == []


@pytest.mark.parametrize(
    ("text", "code"),
    [
        ("x" * (MAX_ANSWER_LENGTH + 1), "text_too_long"),
        ("😀" * 10_000, "text_too_long"),
        ("👩‍👩‍👧‍👦" * 200, "text_too_long"),  # 7 code points each
        ("\u200b\u200b\u202e \u2066\ufeff", "empty_text"),
        ("\x00\x01\x07\x1b", "empty_text"),
        ("", "empty_text"),
        (None, "invalid_text"),
        (["liste"], "invalid_text"),
        ({"a": 1}, "invalid_text"),
        (12, "invalid_text"),
    ],
)
def test_unusable_text_is_a_clear_400(
    client: FlaskClient, wall: Wall, session: Session, text: Any, code: str
) -> None:
    response = client.post(API, json=_body(wall, text))
    assert response.status_code == 400
    assert _error(response) == code
    assert _stored(session) == []


def test_longest_answer_and_emoji_are_kept(
    client: FlaskClient, wall: Wall, session: Session
) -> None:
    longest = "æ" * MAX_ANSWER_LENGTH
    emoji = "Legepladsen 🌳👨‍👩‍👧 er god 🇩🇰"
    assert client.post(API, json=_body(wall, longest, "bad-input-long")).status_code == 201
    assert client.post(API, json=_body(wall, emoji, "bad-input-emoji")).status_code == 201
    assert _stored(session) == [longest, emoji]


def test_controls_zero_width_and_bidi_are_removed_before_storing(
    client: FlaskClient, wall: Wall, session: Session
) -> None:
    text = "Hej\u202e med\u200b dig\x00\x07 \u2066og\u2069 \ufeffmig\u202a!\u202c"
    response = client.post(API, json=_body(wall, text))
    assert response.status_code == 201
    assert _stored(session) == ["Hej med dig og mig!"]


def test_lone_surrogates_are_removed(client: FlaskClient, wall: Wall, session: Session) -> None:
    raw = '{"prompt_id": %d, "text": "a\\ud800b\\udfff", "client_submission_id": "surrogate-01"}'
    response = client.post(API, data=raw % wall.prompts[0].id, content_type="application/json")
    assert response.status_code == 201
    assert _stored(session) == ["ab"]


@pytest.mark.parametrize(
    "data",
    [
        b'{"prompt_id": 1, "text": "\xff\xfe ugyldig", "client_submission_id": "bad-utf8-01"}',
        b"\xc3\x28",
        b"[" * 100_000,
        b'{"a":' * 50_000,
        b'{"prompt_id": 1' + b"0" * 5000 + b"}",
        b"null",
        b"[]",
        b'"tekst"',
        b"",
    ],
)
def test_malformed_json_is_a_clear_400(
    client: FlaskClient, wall: Wall, session: Session, data: bytes
) -> None:
    response = client.post(API, data=data, content_type="application/json")
    assert response.status_code == 400
    assert _error(response) in ("invalid_json", "bad_request")
    assert _stored(session) == []


@pytest.mark.parametrize(
    ("overrides", "code"),
    [
        ({"prompt_id": 2**70}, "invalid_prompt"),
        ({"prompt_id": -1}, "invalid_prompt"),
        ({"prompt_id": "1"}, "invalid_prompt"),
        ({"prompt_id": True}, "invalid_prompt"),
        ({"prompt_id": 1.5}, "invalid_prompt"),
        ({"client_submission_id": "kort"}, "invalid_submission_id"),
        ({"client_submission_id": "x" * 65}, "invalid_submission_id"),
        ({"client_submission_id": "med mellemrum og æøå"}, "invalid_submission_id"),
        ({"client_submission_id": 12345678}, "invalid_submission_id"),
        ({"profile": ["parent"]}, "invalid_profile"),
        ({"profile": {"navn": "Ole"}}, "invalid_profile"),
        ({"profile": {"role": "<script>"}}, "invalid_profile"),
        ({"channel": "kiosk"}, "invalid_channel"),
        ({"name": "Ole Hansen"}, "unknown_field"),
    ],
)
def test_wrong_fields_are_a_clear_400(
    client: FlaskClient, wall: Wall, session: Session, overrides: dict, code: str
) -> None:
    response = client.post(API, json={**_body(wall, "Et fint svar"), **overrides})
    assert response.status_code == 400
    assert _error(response) == code
    assert _stored(session) == []


def test_api_wants_json(client: FlaskClient, wall: Wall) -> None:
    response = client.post(API, data={"text": "hej"})
    assert response.status_code == 400
    assert _error(response) == "not_json"


@pytest.mark.parametrize(
    "path",
    [
        "/w/%FF%FE",
        "/w/" + "x" * 5000,
        "/w/%00",
        "/api/v1/walls/%00",
        "/api/v1/walls/ondt%00/answers",
        "/kiosk/ondt?device=%00",
        "/live/%00",
        "/live/ondt/updates?since=%00",
        "/api/v1/walls/%FF",
        "/api/v1/walls/ondt/answers?page=%FF",
        "/api/v1/walls/ondt/answers?page=99999999999999999999",
        "/api/v1/walls/ondt/answers?prompt_id=99999999999999999999",
        "/w/ondt?side=99999999999999999999",
        "/w/ondt?prompt=99999999999999999999",
        "/w/ondt/tak?svar=99999999999999999999",
        "/w/ondt/qr.svg?prompt=99999999999999999999",
    ],
)
def test_strange_urls_never_fail(client: FlaskClient, wall: Wall, path: str) -> None:
    response = client.get(path)
    assert response.status_code < 500, path


def test_numbers_too_large_for_the_database_are_400_not_500(
    client: FlaskClient, wall: Wall, session: Session
) -> None:
    device = kiosks.create_device(session, wall, "Biblioteket")
    kiosk = client.post(
        "/kiosk/ondt/answers",
        json=_body(wall, "Hej", prompt_id=2**70),
        headers={"X-Kiosk-Device": device.token},
    )
    assert 400 <= kiosk.status_code < 500
    agree = client.post("/w/ondt/svar/99999999999999999999999/enig")
    assert 400 <= agree.status_code < 500


def test_invalid_utf8_in_the_form_is_stored_as_replacement_characters(
    client: FlaskClient, wall: Wall, session: Session
) -> None:
    body = (
        b"text=Hej+%FF%FEdig&client_submission_id=form-utf8-01&prompt_id="
        + str(wall.prompts[0].id).encode()
    )
    response = client.post("/w/ondt", data=body, content_type="application/x-www-form-urlencoded")
    assert response.status_code in (303, 400)
    for text in _stored(session):
        text.encode("utf-8")  # valid Unicode, whatever was sent


SCRIPT = '<script>alert("x")</script><img src=x onerror=alert(1)> & "citat" \'enkelt\''


def test_html_and_script_are_stored_as_text_and_shown_escaped(
    client: FlaskClient, wall: Wall, session: Session
) -> None:
    response = client.post(API, json=_body(wall, SCRIPT, "html-answer-01"))
    assert response.status_code == 201
    assert _stored(session) == [SCRIPT]
    # The JSON API returns the text as data; it is never served as HTML.
    listing = client.get(API)
    assert listing.content_type == "application/json"
    assert listing.headers["X-Content-Type-Options"] == "nosniff"
    assert listing.get_json()["items"][0]["text"] == SCRIPT

    page = client.get("/w/ondt").get_data(as_text=True)
    assert "<script>alert" not in page
    assert "<img src=x" not in page
    assert "&lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt;" in page
    assert "&lt;img src=x onerror=alert(1)&gt; &amp; &#34;citat&#34; &#39;enkelt&#39;" in page


def test_script_in_the_form_is_escaped_on_the_thanks_page_and_on_errors(
    client: FlaskClient, wall: Wall, session: Session
) -> None:
    form = {
        "prompt_id": str(wall.prompts[0].id),
        "text": SCRIPT,
        "client_submission_id": "html-form-0001",
    }
    response = client.post("/w/ondt", data=form)
    assert response.status_code == 303
    thanks = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "<script>alert" not in thanks and "&lt;script&gt;" in thanks
    too_long = client.post(
        "/w/ondt", data={**form, "text": SCRIPT * 40, "client_submission_id": "html-form-02"}
    )
    assert too_long.status_code == 400
    html = too_long.get_data(as_text=True)
    assert "<script>alert" not in html and "&lt;script&gt;" in html  # kept, escaped


def test_existing_html_notes_are_escaped_on_every_wall_page(
    client: FlaskClient, wall: Wall, session: Session
) -> None:
    make_answer(session, wall, "</textarea><script>alert(2)</script>")
    for path in ("/w/ondt", "/w/ondt?side=2", "/w/ondt?lang=en"):
        html = client.get(path).get_data(as_text=True)
        assert "<script>alert(2)" not in html, path
        assert "</textarea><script>" not in html, path
