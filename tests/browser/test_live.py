"""The live wall on a projector, in a real browser."""

from __future__ import annotations

from flask import Flask
from playwright.sync_api import Page, Request, Route, expect
from sqlalchemy.orm import Session

from surveys.models import AnswerStatus, Moderation, utcnow
from tests.factories import make_answer, make_wall

from .conftest import screenshot


def _fast_streams(app: Flask, seconds: float = 30) -> None:
    app.config.update(LIVE_STREAM_SECONDS=seconds, LIVE_POLL_SECONDS=0.3)


def test_new_approved_answers_appear_within_three_seconds(
    app: Flask, live_server: str, projector: Page, session: Session
) -> None:
    _fast_streams(app, seconds=1.5)  # short streams: the test also sees a reconnect
    wall = make_wall(session, "live", title="Unge stemmer", moderation=Moderation.PRE)
    make_answer(session, wall, "Flere steder at være om aftenen")
    streams: list[Request] = []
    projector.on("request", lambda r: streams.append(r) if "/events" in r.url else None)
    projector.goto(f"{live_server}/live/live")
    expect(projector.locator(".live-note")).to_have_count(1)
    screenshot(projector, "live-projector")
    size = projector.evaluate(
        "parseFloat(getComputedStyle(document.querySelector('.live-text')).fontSize)"
    )
    assert size >= 28, "readable from the back of the room"

    # The first stream ends after 1.5 s; the browser reconnects and carries on from where
    # it was (Last-Event-ID).
    for _ in range(60):
        if len(streams) >= 2:
            break
        projector.wait_for_timeout(100)
    assert len(streams) >= 2
    assert streams[1].all_headers().get("last-event-id")

    pending = make_answer(session, wall, "Venter på en moderator", status=AnswerStatus.PENDING)
    make_answer(session, wall, "Skjult for altid", status=AnswerStatus.HIDDEN)
    make_answer(session, wall, "En ny note lige nu")
    expect(projector.get_by_text("En ny note lige nu")).to_be_visible(timeout=3000)
    assert "Venter på en moderator" not in projector.content()
    assert "Skjult for altid" not in projector.content()

    # A moderator approves the waiting answer: it appears, first.
    pending.status = AnswerStatus.APPROVED
    pending.moderated_at = utcnow()
    session.commit()
    expect(projector.locator(".live-note").first).to_contain_text(
        "Venter på en moderator", timeout=3000
    )
    # ... and takes one down again: it disappears.
    pending.status = AnswerStatus.HIDDEN
    pending.moderated_at = utcnow()
    session.commit()
    expect(projector.get_by_text("Venter på en moderator")).to_have_count(0, timeout=3000)
    assert "Skjult for altid" not in projector.content()


def test_polling_takes_over_when_the_event_stream_is_blocked(
    app: Flask, live_server: str, projector: Page, session: Session
) -> None:
    _fast_streams(app)
    projector.emulate_media(reduced_motion="reduce")

    def refuse(route: Route) -> None:
        route.fulfill(status=503, body="busy")

    projector.route("**/live/poll/events**", refuse)
    wall = make_wall(session, "poll")
    projector.goto(f"{live_server}/live/poll")
    expect(projector.get_by_text("Ingen svar endnu")).to_be_visible()
    with projector.expect_request("**/live/poll/updates**", timeout=5000):
        pass
    make_answer(session, wall, "Kom frem ved polling")
    note = projector.locator(".live-note", has_text="Kom frem ved polling")
    expect(note).to_be_visible(timeout=3000)
    expect(projector.get_by_text("Ingen svar endnu")).to_be_hidden()
    assert note.evaluate("n => getComputedStyle(n).animationName") == "none"


def test_filter_by_prompt(app: Flask, live_server: str, projector: Page, session: Session) -> None:
    _fast_streams(app)
    wall = make_wall(session, "filter", prompts=("Hvad er godt?", "Hvad mangler?"))
    first, second = wall.prompts
    make_answer(session, wall, "Godt: skoven", prompt=first)
    make_answer(session, wall, "Mangler: en hal", prompt=second)
    projector.goto(f"{live_server}/live/filter")
    projector.get_by_role("link", name="Hvad mangler?").click()
    expect(projector.locator("h1")).to_have_text("Hvad mangler?")
    expect(projector.get_by_role("link", name="Hvad mangler?")).to_have_attribute(
        "aria-current", "page"
    )
    expect(projector.locator(".live-note")).to_have_count(1)
    make_answer(session, wall, "Godt: stranden", prompt=first)
    make_answer(session, wall, "Mangler: busser", prompt=second)
    expect(projector.get_by_text("Mangler: busser")).to_be_visible(timeout=3000)
    assert "Godt: stranden" not in projector.content()
    assert "Godt: skoven" not in projector.content()
