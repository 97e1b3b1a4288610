"""Without JavaScript, Back then Send in a real browser: the same answer, stored once."""

from __future__ import annotations

from playwright.sync_api import Page, expect
from sqlalchemy import select
from sqlalchemy.orm import Session

from surveys.kiosk import create_device
from surveys.models import Answer
from tests.factories import make_wall

TEXT = "Det virker også uden JavaScript"


def _texts(session: Session) -> list[str]:
    session.expire_all()
    texts = list(session.scalars(select(Answer.text).order_by(Answer.id)))
    session.commit()
    return texts


def test_back_then_send_on_a_phone_without_javascript_stores_once(
    live_server: str, no_js_phone: Page, session: Session
) -> None:
    make_wall(session, "uden-js")
    page = no_js_phone
    page.goto(f"{live_server}/w/uden-js")
    first_id = page.locator("input[name=client_submission_id]").input_value()
    page.get_by_role("textbox", name="Dit svar").fill(TEXT)
    page.get_by_role("button", name="Send svar").click()
    expect(page.locator("h1")).to_have_text("Tak for dit svar")
    thanks_url = page.url

    page.go_back()
    # The page is loaded again with a new submission id; the browser restores the text.
    assert page.locator("input[name=client_submission_id]").input_value() != first_id
    expect(page.get_by_role("textbox", name="Dit svar")).to_have_value(TEXT)
    page.get_by_role("button", name="Send svar").click()
    expect(page.locator("h1")).to_have_text("Tak for dit svar")
    expect(page.locator(".note-own .note-text")).to_have_text(TEXT)
    assert page.url == thanks_url
    assert _texts(session) == [TEXT]


def test_back_then_send_on_a_kiosk_without_javascript_stores_once(
    live_server: str, no_js_phone: Page, session: Session
) -> None:
    wall = make_wall(session, "kiosk-vaeg")
    device = create_device(session, wall, "Biblioteket")
    page = no_js_phone
    page.goto(f"{live_server}/kiosk/kiosk-vaeg?device={device.token}")
    page.get_by_label(wall.prompts[0].text).check()
    page.get_by_role("textbox", name="Dit svar").fill(TEXT)
    page.get_by_role("button", name="Send svar").click()
    expect(page.locator("h1")).to_have_text("Tak for dit svar")
    # Back: the kiosk's form keeps nothing (autocomplete off, for the next person), so the
    # same person, unsure it was sent, writes it again and sends.
    page.go_back()
    page.get_by_label(wall.prompts[0].text).check()
    page.get_by_role("textbox", name="Dit svar").fill(TEXT)
    page.get_by_role("button", name="Send svar").click()
    expect(page.locator("h1")).to_have_text("Tak for dit svar")
    assert _texts(session) == [TEXT]

    # The next person starts over and happens to write the same: a second answer.
    page.get_by_role("link", name="Start forfra").click()
    page.get_by_label(wall.prompts[0].text).check()
    page.get_by_role("textbox", name="Dit svar").fill(TEXT)
    page.get_by_role("button", name="Send svar").click()
    expect(page.locator("h1")).to_have_text("Tak for dit svar")
    assert _texts(session) == [TEXT, TEXT]
