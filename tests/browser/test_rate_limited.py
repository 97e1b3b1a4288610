"""Over the answer limit (many answers from one shared tablet, network or kiosk): the answer is
kept, the page says it will be sent in a moment (not "when there is a connection"), and it
arrives once the limit allows."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from flask import Flask
from playwright.sync_api import Page, expect
from sqlalchemy import select
from sqlalchemy.orm import Session

from surveys.kiosk import create_device
from surveys.models import Answer, Moderation
from tests.browser.conftest import screenshot
from tests.factories import limited_app, make_wall

KEPT_BUSY = (
    "Dit svar er gemt på denne enhed. Der er sendt mange svar herfra lige nu, så det sendes om "
    "lidt."
)


@pytest.fixture
def app(make_app: Callable[..., Flask]) -> Flask:
    """The app with small rate limits: 3 answers a minute per client, 1 per kiosk."""
    return limited_app(make_app, RATELIMIT_KIOSK="1 per minute")


def _texts(session: Session) -> list[str]:
    session.expire_all()
    texts = list(session.scalars(select(Answer.text).order_by(Answer.id)))
    session.commit()
    return texts


def test_an_answer_over_the_limit_is_kept_and_sent_when_the_limit_allows(
    app: Flask, live_server: str, phone: Page, session: Session
) -> None:
    make_wall(session, "travl", moderation=Moderation.POST)
    phone.goto(f"{live_server}/w/travl")
    box = phone.get_by_role("textbox", name="Dit svar")
    thanks = phone.locator("#js-thanks")
    texts = ["Flere bænke ved havnen", "En legeplads med skygge", "Et sted at være efter skole"]
    for text in texts:
        box.fill(text)
        phone.get_by_role("button", name="Send svar").click()
        expect(thanks.locator(".thanks-status")).to_have_text("Dit svar er nu på væggen.")
        phone.get_by_role("button", name="Svar på et andet spørgsmål").click()

    box.fill("Længere åbent på biblioteket 📚")
    phone.get_by_role("button", name="Send svar").click()
    expect(thanks.locator(".thanks-status")).to_have_text(KEPT_BUSY)
    expect(phone.locator("#outbox-status")).to_have_text("Gemt – sendes om lidt")
    screenshot(phone, "rate-limited-phone")
    assert _texts(session) == texts

    app.extensions["stemmer.limiter"].reset()  # the minute has passed
    phone.evaluate("Stemmer.outbox.flush()")  # the outbox also retries on its own timer
    expect(phone.locator("#outbox-status")).to_have_text("Dine gemte svar er sendt.")
    expect(thanks.locator(".thanks-status")).to_have_text("Dit svar er nu på væggen.")
    assert _texts(session) == [*texts, "Længere åbent på biblioteket 📚"]


def test_a_kiosk_over_its_limit_says_the_answer_will_be_sent_in_a_moment(
    app: Flask, live_server: str, tablet: Page, session: Session
) -> None:
    wall = make_wall(session, "kiosk-travl", moderation=Moderation.POST)
    device = create_device(session, wall, "Sundhedsplejen")
    tablet.goto(f"{live_server}/kiosk/kiosk-travl?device={device.token}")
    thanks = tablet.locator("#kiosk-thanks")
    for text, status in (
        ("Flere bænke ved havnen", "Dit svar er nu på væggen."),
        ("En legeplads med skygge", KEPT_BUSY),
    ):
        tablet.get_by_role("button", name=wall.prompts[0].text).click()
        tablet.get_by_role("textbox", name="Dit svar").fill(text)
        tablet.get_by_role("button", name="Send svar").click()
        expect(thanks.locator("[data-slot=status]")).to_have_text(status)
        expect(thanks).to_be_hidden(timeout=15_000)  # ready for the next person
    expect(tablet.locator("#outbox-status")).to_have_text("Gemt – sendes om lidt")
    assert _texts(session) == ["Flere bænke ved havnen"]
    app.extensions["stemmer.limiter"].reset()
    tablet.evaluate("Stemmer.outbox.flush()")
    expect(tablet.locator("#outbox-status")).to_have_text("Dine gemte svar er sendt.")
    assert _texts(session) == ["Flere bænke ved havnen", "En legeplads med skygge"]
