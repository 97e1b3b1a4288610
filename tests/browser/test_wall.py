"""Answering a wall in a real browser, as a parent on a phone would."""

from __future__ import annotations

from pathlib import Path

from playwright.sync_api import Page, expect
from sqlalchemy import select
from sqlalchemy.orm import Session

from surveys.models import Answer
from tests.factories import make_answer, make_wall

SCREENSHOTS = Path(__file__).resolve().parents[2] / "build" / "screenshots"


def test_answer_on_a_phone(live_server: str, phone: Page, session: Session) -> None:
    wall = make_wall(session, "godt-boerneliv", title="Det gode børneliv")
    make_answer(session, wall, "Legepladsen ved havnen er fantastisk 🌳")
    phone.goto(f"{live_server}/w/godt-boerneliv")
    expect(phone.locator("h1")).to_have_text("Det gode børneliv")
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    phone.screenshot(path=str(SCREENSHOTS / "wall-phone.png"), full_page=True)

    phone.get_by_label(wall.prompts[1].text).check()
    phone.get_by_role("textbox", name="Dit svar").fill("Flere voksne i børnehaven, tak ❤️")
    phone.get_by_text("Om dig (frivilligt)").click()
    phone.get_by_label("Jeg er").select_option("parent")
    phone.get_by_role("button", name="Send svar").click()

    expect(phone.locator("h1")).to_have_text("Tak for dit svar")
    expect(phone.locator(".note-own .note-text")).to_have_text("Flere voksne i børnehaven, tak ❤️")
    phone.screenshot(path=str(SCREENSHOTS / "thanks-phone.png"), full_page=True)
    session.expire_all()
    stored = session.scalars(select(Answer).where(Answer.text.like("Flere voksne%"))).one()
    assert stored.prompt_id == wall.prompts[1].id
    assert stored.role == "parent"


def test_text_is_readable_and_targets_large_on_a_phone(
    live_server: str, phone: Page, session: Session
) -> None:
    make_wall(session, "godt-boerneliv")
    phone.goto(f"{live_server}/w/godt-boerneliv")
    body_size = phone.evaluate("parseFloat(getComputedStyle(document.body).fontSize)")
    assert body_size >= 16
    small = phone.evaluate(
        """() => [...document.querySelectorAll('button, select, textarea, summary, .prompt-choice')]
              .filter(e => e.offsetParent !== null)
              .map(e => e.getBoundingClientRect())
              .filter(r => r.height < 44).length"""
    )
    assert small == 0
    overflow = phone.evaluate("document.documentElement.scrollWidth > window.innerWidth")
    assert not overflow


def test_keyboard_only_submission(live_server: str, phone: Page, session: Session) -> None:
    make_wall(session, "tastatur")
    phone.goto(f"{live_server}/w/tastatur")
    phone.keyboard.press("Tab")  # skip link
    expect(phone.locator(".skip-link")).to_be_focused()
    for _ in range(30):
        phone.keyboard.press("Tab")
        if phone.evaluate("document.activeElement.tagName") == "TEXTAREA":
            break
    phone.keyboard.type("Svar skrevet kun med tastaturet")
    for _ in range(10):
        phone.keyboard.press("Tab")
        if phone.evaluate("document.activeElement.type") == "submit":
            break
    phone.keyboard.press("Enter")
    expect(phone.locator("h1")).to_have_text("Tak for dit svar")
    session.expire_all()
    assert session.scalars(select(Answer.text)).all() == ["Svar skrevet kun med tastaturet"]


def test_empty_answer_shows_error_summary(live_server: str, phone: Page, session: Session) -> None:
    make_wall(session, "tom")
    phone.goto(f"{live_server}/w/tom")
    phone.get_by_role("button", name="Send svar").click()
    expect(phone.locator(".error-summary")).to_contain_text("Skriv venligst et svar")
    expect(phone.get_by_role("textbox", name="Dit svar")).to_have_attribute("aria-invalid", "true")
