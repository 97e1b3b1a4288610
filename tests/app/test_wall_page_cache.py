"""The wall page cache: never older than the data, never mixing visitors' parts."""

from __future__ import annotations

import re
import threading
import time
from collections.abc import Callable

import pytest
from cachetools import TTLCache
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy.orm import Session

from app.participate.views import CSRF_MARK, SUBMISSION_MARK
from surveys import moderation, replies
from surveys.models import AnswerStatus, Moderation, Wall
from tests.factories import make_answer, make_staff, make_wall, run_in_threads

TOKEN = re.compile(r'name="csrf_token" type="hidden" value="([^"]+)"')
SUBMISSION = re.compile(r'name="client_submission_id" type="hidden" value="([^"]+)"')


def _cache(app: Flask) -> TTLCache:  # type: ignore[type-arg]
    """The app's kept wall pages (cachetools' cache behind the view's decorated function)."""
    return app.extensions["stemmer.wall_pages"].cache


def _page(client: FlaskClient, wall: Wall) -> str:
    response = client.get(f"/w/{wall.slug}")
    assert response.status_code == 200
    return response.get_data(as_text=True)


def test_second_visit_is_served_from_cache_with_its_own_token_and_id(
    app: Flask, client: FlaskClient, session: Session
) -> None:
    app.config["WTF_CSRF_ENABLED"] = True
    wall = make_wall(session, moderation=Moderation.POST)
    make_answer(session, wall, "Flere bænke ved søen")
    first = _page(client, wall)
    other = app.test_client()
    second = _page(other, wall)
    assert len(_cache(app)) == 1
    assert CSRF_MARK not in second and SUBMISSION_MARK not in second
    assert SUBMISSION.search(first)[1] != SUBMISSION.search(second)[1]
    # The cached page carries the second visitor's own CSRF token: posting with it works.
    token = TOKEN.search(second)[1]
    response = other.post(
        f"/w/{wall.slug}",
        data={
            "csrf_token": token,
            "prompt_id": str(wall.prompts[0].id),
            "text": "En ny legeplads",
            "client_submission_id": SUBMISSION.search(second)[1],
        },
    )
    assert response.status_code == 303
    # Every agree form on the page carries the same, valid token.
    assert set(re.findall(r'name="csrf_token" value="([^"]+)"', second)) == {token}


def _approve_new(session: Session, wall: Wall) -> str:
    make_answer(session, wall, "Helt nyt svar om skolevejen")
    return "Helt nyt svar om skolevejen"


def _hide_existing(session: Session, wall: Wall) -> str:
    admin = make_staff(session, organisation=wall.campaign.organisation, role="admin")
    answer = wall_answer(session, wall)
    moderation.set_status(session, admin, [answer], AnswerStatus.HIDDEN)
    return "!Flere bænke ved søen"


def _redact(session: Session, wall: Wall) -> str:
    admin = make_staff(session, organisation=wall.campaign.organisation, role="admin")
    answer = wall_answer(session, wall)
    moderation.redact_answer(session, admin, answer, [(0, 6)])
    return "[fjernet]"


def _reply(session: Session, wall: Wall) -> str:
    replies.post_reply(session, wall, None, "Vi sætter bænke op i maj")
    session.commit()
    return "Vi sætter bænke op i maj"


def _hide_reply(session: Session, wall: Wall) -> str:
    reply = replies.post_reply(session, wall, None, "Et svar der skal væk")
    replies.hide_reply(reply)
    session.commit()
    return "!Et svar der skal væk"


def _rename_campaign(session: Session, wall: Wall) -> str:
    wall.campaign.title = "Omdøbt kampagne"
    session.commit()
    return "Omdøbt kampagne"


def _publish(session: Session, wall: Wall) -> str:
    from surveys.models import utcnow

    wall.campaign.published_at = utcnow()
    session.commit()
    return f"/c/{wall.campaign.slug}/hoert"


def _edit_wall(session: Session, wall: Wall) -> str:
    wall.intro = "En helt ny introduktion"
    wall.prompts[0].text = "Et nyt spørgsmål?"
    session.commit()
    return "Et nyt spørgsmål?"


def wall_answer(session: Session, wall: Wall):
    from sqlalchemy import select

    from surveys.models import Answer

    return session.scalars(select(Answer).where(Answer.wall_id == wall.id)).first()


@pytest.mark.parametrize(
    "change",
    [
        _approve_new,
        _hide_existing,
        _redact,
        _reply,
        _hide_reply,
        _rename_campaign,
        _publish,
        _edit_wall,
    ],
)
def test_a_cached_page_is_never_older_than_the_data(
    client: FlaskClient, session: Session, change: Callable[[Session, Wall], str]
) -> None:
    wall = make_wall(session, moderation=Moderation.POST)
    make_answer(session, wall, "Flere bænke ved søen")
    if change is _hide_reply:  # a visible reply first, so hiding one changes the page
        replies.post_reply(session, wall, None, "Et svar der bliver")
        session.commit()
    _page(client, wall)
    _page(client, wall)
    expected = change(session, wall)
    html = _page(client, wall)
    if expected.startswith("!"):
        assert expected[1:] not in html
    else:
        assert expected in html


def test_agree_counts_and_each_devices_own_state(
    app: Flask, client: FlaskClient, session: Session
) -> None:
    wall = make_wall(session, moderation=Moderation.POST)
    first = make_answer(session, wall, "Flere bænke ved søen")
    second = make_answer(session, wall, "Længere åbent i svømmehallen")
    other = app.test_client()
    _page(client, wall)
    _page(other, wall)
    assert client.post(f"/w/{wall.slug}/svar/{first.id}/enig").status_code == 303
    mine = _page(client, wall)
    theirs = _page(other, wall)
    pressed = re.compile(r'data-answer="(\d+)" aria-pressed="true"')
    assert pressed.findall(mine) == [str(first.id)]
    assert pressed.findall(theirs) == []
    for html in (mine, theirs):
        assert re.search(rf'id="svar-{first.id}".*?agree-count">1<', html, flags=re.S), (
            "the count shows the new agree on every visitor's page"
        )
        assert re.search(rf'id="svar-{second.id}".*?agree-count">0<', html, flags=re.S)


def test_a_form_with_errors_is_never_cached_or_shown_to_others(
    app: Flask, client: FlaskClient, session: Session
) -> None:
    wall = make_wall(session)
    _page(client, wall)
    response = client.post(
        f"/w/{wall.slug}",
        data={"prompt_id": "999999", "text": "Mit private udkast", "client_submission_id": "x"},
    )
    assert response.status_code == 400
    assert "Mit private udkast" in response.get_data(as_text=True)
    assert "Mit private udkast" not in _page(app.test_client(), wall)
    assert len(_cache(app)) == 1


def test_pages_differ_by_language_page_and_question(
    app: Flask, client: FlaskClient, session: Session
) -> None:
    wall = make_wall(session)
    danish = _page(client, wall)
    english = client.get(f"/w/{wall.slug}?lang=en").get_data(as_text=True)
    chosen = client.get(f"/w/{wall.slug}?prompt={wall.prompts[1].id}").get_data(as_text=True)
    assert "Send svar" in danish and "Send answer" in english
    assert re.search(
        rf'value="{wall.prompts[1].id}"[^>]*checked|checked[^>]*value="{wall.prompts[1].id}"',
        chosen,
    )
    assert len(_cache(app)) == 3


def test_visitors_arriving_while_a_page_is_rendered_wait_for_that_render(
    app: Flask, session: Session, monkeypatch: pytest.MonkeyPatch
) -> None:
    from app.participate import views

    wall = make_wall(session, moderation=Moderation.POST)
    make_answer(session, wall, "Flere bænke ved søen")
    real = views._wall_template
    renders: list[int] = []

    def slow_render(*args: object, **kwargs: object) -> str:
        renders.append(threading.get_ident())
        time.sleep(0.3)  # long enough for every visitor below to arrive meanwhile
        return real(*args, **kwargs)

    monkeypatch.setattr(views, "_wall_template", slow_render)
    barrier = threading.Barrier(6)
    pages: list[str] = []

    def visit() -> None:
        client = app.test_client()
        barrier.wait()
        response = client.get(f"/w/{wall.slug}")
        assert response.status_code == 200
        pages.append(response.get_data(as_text=True))

    assert run_in_threads(visit, 6) == []
    assert len(pages) == 6 and all("Flere bænke ved søen" in page for page in pages)
    assert len(renders) == 1
