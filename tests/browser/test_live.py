"""The live wall on a projector, in a real browser."""

from __future__ import annotations

import re

from flask import Flask
from playwright.sync_api import Page, Request, Route, expect
from sqlalchemy.orm import Session

from surveys.models import (
    AnswerStatus,
    Audience,
    Moderation,
    Theme,
    ThemeAssignment,
    ThemeCuration,
    ThemeRun,
    theme_scope_key,
    utcnow,
)
from tests.factories import make_answer, make_wall

from .conftest import check_axe, collect_errors, screenshot


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


def test_a_refused_stream_is_tried_again_and_then_polling_stops(
    app: Flask, live_server: str, projector: Page, session: Session
) -> None:
    _fast_streams(app)
    app.config.update(LIVE_MAX_STREAMS=0, LIVE_RETRY_STREAM_SECONDS=1.5)
    wall = make_wall(session, "fuld")
    answers: list[int] = []
    projector.on(
        "response", lambda r: answers.append(r.status) if "/live/fuld/events" in r.url else None
    )
    polls: list[str] = []
    projector.on("request", lambda r: polls.append(r.url) if "/updates" in r.url else None)
    projector.goto(f"{live_server}/live/fuld")
    with projector.expect_request("**/live/fuld/updates**", timeout=5000):
        pass
    assert answers and answers[0] == 503  # the process is full: the page polls
    app.config["LIVE_MAX_STREAMS"] = 5  # room again
    make_answer(session, wall, "Kom mens siden pollede")
    expect(projector.get_by_text("Kom mens siden pollede")).to_be_visible(timeout=4000)
    for _ in range(50):
        if 200 in answers:
            break
        projector.wait_for_timeout(100)
    assert 200 in answers, answers
    projector.wait_for_timeout(500)  # a poll already under way may still finish
    settled = len(polls)
    make_answer(session, wall, "Kom med strømmen")
    expect(projector.get_by_text("Kom med strømmen")).to_be_visible(timeout=3000)
    projector.wait_for_timeout(2500)  # longer than the page's poll interval (2 s)
    assert len(polls) == settled, "the page kept polling beside the stream"


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


# --- the theme cloud ---

LIVE_THEMES = {
    "Flere busser om aftenen": 22,
    "Steder at være efter skole": 17,
    "Klubben skal have åbent længere": 12,
    "Bedre cykelstier": 9,
    "Tryghed på stationen": 7,
    "Billigere fritidsaktiviteter": 6,
    "Sport og hal i weekenden": 5,
    "Wifi på biblioteket": 4,  # too few answers: never shown
}


def test_theme_cloud_on_the_projector(
    app: Flask, live_server: str, projector: Page, session: Session
) -> None:
    _fast_streams(app)
    app.config["LIVE_THEMES_SECONDS"] = 0.3
    errors = collect_errors(projector)
    wall = make_wall(session, "temaer", title="Unge stemmer", audience=Audience.YOUNG)
    notes = [
        "Bussen går kun hver anden time om aftenen, så jeg kan ikke komme hjem fra træning",
        "Et sted hvor vi kan være når det regner, uden at skulle købe noget",
        "Klubben lukker kl 21, det er alt for tidligt i weekenden",
        "Cykelstien ud til skolen er farlig om vinteren",
        "Mere lys ved stationen, jeg er utryg når jeg venter om aftenen",
        "Det er for dyrt at gå til fodbold når man har tre søskende",
    ]
    run = ThemeRun(
        campaign_id=wall.campaign_id,
        scope_key=theme_scope_key(wall.campaign_id, None, None),
        model=b"",
    )
    session.add(run)
    themes: dict[str, Theme] = {}
    for position, (label, size) in enumerate(LIVE_THEMES.items()):
        theme = Theme(key=f"t{position}", position=position, label=label)
        run.themes.append(theme)
        session.flush()
        themes[label] = theme
        for i in range(size):
            answer = make_answer(session, wall, notes[(position + i) % len(notes)])
            session.add(ThemeAssignment(theme_id=theme.id, answer_id=answer.id, run_id=run.id))
    # Staff named the themes: the projector shows no theme with only the engine's label.
    renamed = {t.key: label for label, t in themes.items()}
    session.add(
        ThemeCuration(
            campaign_id=wall.campaign_id, scope_key=run.scope_key, data={"renamed": renamed}
        )
    )
    session.commit()

    projector.goto(f"{live_server}/live/temaer")
    cloud = projector.locator("#live-cloud .cloud-theme")
    expect(cloud).to_have_count(7)
    expect(cloud.first).to_contain_text("Flere busser om aftenen")
    expect(cloud.first).to_have_class(re.compile(r"\bcloud-size-6\b"))
    assert "Wifi på biblioteket" not in projector.content()
    panel = projector.locator("#live-themes")
    expect(panel.get_by_role("heading", name="Det skriver I om")).to_be_visible()
    projector.wait_for_timeout(700)  # let the entry animation end
    screenshot(projector, "live-themes")
    box = panel.bounding_box()
    assert box is not None and box["x"] + box["width"] <= 1920 and box["y"] + box["height"] <= 1080
    smallest = cloud.last.evaluate(
        "n => parseFloat(getComputedStyle(n.querySelector('.cloud-label')).fontSize)"
    )
    assert smallest >= 24, "readable from the back of the room"
    check_axe(projector, "live wall with themes")

    # A fifth answer in the small theme: it joins the cloud without a reload.
    answer = make_answer(session, wall, "Wifi på biblioteket virker aldrig")
    session.add(
        ThemeAssignment(
            theme_id=themes["Wifi på biblioteket"].id, answer_id=answer.id, run_id=run.id
        )
    )
    session.commit()
    expect(cloud).to_have_count(8, timeout=4000)
    expect(projector.locator("#live-cloud")).to_contain_text("Wifi på biblioteket")
    assert errors == []


def test_without_themes_the_projector_shows_no_cloud(
    app: Flask, live_server: str, projector: Page, session: Session
) -> None:
    _fast_streams(app)
    wall = make_wall(session, "ingen-temaer")
    make_answer(session, wall, "Flere bænke i parken")
    projector.goto(f"{live_server}/live/ingen-temaer")
    expect(projector.locator(".live-note")).to_have_count(1)
    expect(projector.locator("#live-themes")).to_be_hidden()
    expect(projector.locator("#live-side")).to_be_hidden()
