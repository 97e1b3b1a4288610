""" "Enig" counts once per device key the server issued, and at most a few per note and address."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from surveys.models import Moderation, Reaction
from tests.factories import TEST_RATE_LIMITS, make_answer, make_wall

JSON = {"Accept": "application/json"}


def reactions(session: Session) -> int:
    session.expire_all()
    return session.scalar(select(func.count()).select_from(Reaction)) or 0


def stuffing_app(make_app: Callable[..., Flask], **config: Any) -> Flask:
    """Rate limits on, the per-client limit on "enig" out of the way, 30 per note and address."""
    return make_app(
        **{
            **TEST_RATE_LIMITS,
            "RATELIMIT_REACTIONS": "10000 per minute",
            "RATELIMIT_REACTIONS_PER_ANSWER": "30 per hour",
            **config,
        }
    )


def test_without_an_issued_device_cookie_nothing_is_counted(
    make_app: Callable[..., Flask], session: Session
) -> None:
    wall = make_wall(session, "enig", moderation=Moderation.POST)
    answer = make_answer(session, wall, "Flere bænke ved søen")
    client = stuffing_app(make_app).test_client()
    url = f"/w/enig/svar/{answer.id}/enig"
    statuses = set()
    for number in range(120):
        client.set_cookie("stemmer_device", f"made-up-key-{number:010d}")  # not signed by us
        response = client.post(url, headers=JSON)
        statuses.add(response.status_code)
        assert response.get_json()["error"]["code"] == "no_device_key"
    client.delete_cookie("stemmer_device")
    assert client.post(url, headers=JSON).status_code == 403
    assert statuses == {403}
    assert reactions(session) == 0
    # The refusals did not use up the note's budget: a real device still counts.
    client.get("/w/enig")
    assert client.post(url, headers=JSON).get_json() == {"agree_count": 1, "agreed": True}


def test_without_javascript_a_refusal_leads_back_with_a_note(
    client: FlaskClient, session: Session
) -> None:
    wall = make_wall(session, "enig", moderation=Moderation.POST)
    answer = make_answer(session, wall, "Flere bænke ved søen")
    response = client.post(f"/w/enig/svar/{answer.id}/enig")
    assert response.status_code == 303
    assert response.headers["Location"] == f"/w/enig?enig=afvist#svar-{answer.id}"
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "Dit “enig” kom ikke med." in page
    # The note is this visitor's only: the page cache does not keep it for others.
    assert "kom ikke med" not in FlaskClient(client.application).get("/w/enig").get_data(
        as_text=True
    )
    assert reactions(session) == 0


def test_one_device_counts_once(make_app: Callable[..., Flask], session: Session) -> None:
    wall = make_wall(session, "enig", moderation=Moderation.POST)
    answer = make_answer(session, wall, "Flere bænke ved søen")
    client = stuffing_app(make_app).test_client()
    client.get("/w/enig")
    for _ in range(120):
        client.post(f"/w/enig/svar/{answer.id}/enig", headers=JSON)
    assert reactions(session) == 1


def test_fresh_device_cookies_from_one_address_count_up_to_the_cap(
    make_app: Callable[..., Flask], session: Session
) -> None:
    wall = make_wall(session, "enig", moderation=Moderation.POST)
    answer, other = (make_answer(session, wall, text) for text in ("Flere bænke", "Mere lys"))
    app = stuffing_app(make_app)
    statuses = []
    for _ in range(120):
        device = app.test_client()
        assert device.get("/w/enig").status_code == 200  # a new key each time
        statuses.append(device.post(f"/w/enig/svar/{answer.id}/enig", headers=JSON).status_code)
    assert statuses == [200] * 30 + [429] * 90
    assert reactions(session) == 30
    # The cap is per note: the same address can still agree with another one.
    device = app.test_client()
    device.get("/w/enig")
    assert device.post(f"/w/enig/svar/{other.id}/enig", headers=JSON).status_code == 200


def test_the_device_cookie_is_signed_httponly_and_set_outside_the_cached_page(
    client: FlaskClient, session: Session
) -> None:
    wall = make_wall(session, "enig", moderation=Moderation.POST)
    make_answer(session, wall, "Flere bænke ved søen")
    (cookie,) = device_cookies(client.get("/w/enig"))
    assert re.fullmatch(r"stemmer_device=[\w-]+\.[\w-]+; .*", cookie), cookie
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie and "Max-Age=31536000" in cookie
    assert device_cookies(client.get("/w/enig")) == []  # kept, not issued again
    stranger = FlaskClient(client.application)
    (other,) = device_cookies(stranger.get("/w/enig"))  # this page comes from the page cache
    assert other.split(";")[0] != cookie.split(";")[0]


def device_cookies(response: Any) -> list[str]:
    return [c for c in response.headers.get_all("Set-Cookie") if c.startswith("stemmer_device=")]


def test_a_cookie_from_before_signing_keeps_its_key(client: FlaskClient, session: Session) -> None:
    wall = make_wall(session, "enig", moderation=Moderation.POST)
    answer = make_answer(session, wall, "Flere bænke ved søen")
    old_key = "AbCdEfGhIjKlMnOpQrStUv"
    session.add(Reaction(answer_id=answer.id, wall_id=wall.id, device_key=old_key))
    session.commit()
    client.set_cookie("stemmer_device", old_key)
    page = client.get("/w/enig").get_data(as_text=True)
    assert f'data-answer="{answer.id}" aria-pressed="true"' in page
    again = client.post(f"/w/enig/svar/{answer.id}/enig", headers=JSON)
    assert again.get_json() == {"agree_count": 1, "agreed": True}
    assert reactions(session) == 1
