""" "Enig" in a real browser: counted with the key the wall page gave, refused without one."""

from __future__ import annotations

from playwright.sync_api import Page, expect
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from surveys.models import Reaction
from tests.factories import make_answer, make_wall


def _reactions(session: Session) -> int:
    session.expire_all()
    return session.scalar(select(func.count()).select_from(Reaction)) or 0


def test_without_the_device_cookie_enig_is_refused_with_a_note(
    live_server: str, phone: Page, session: Session
) -> None:
    wall = make_wall(session, "enig")
    answer = make_answer(session, wall, "Gratis svømmehal for børn")
    phone.goto(f"{live_server}/w/enig")
    phone.context.clear_cookies()  # as a browser that keeps no cookies would
    phone.locator(f"#svar-{answer.id} .agree-button").click()
    expect(phone.get_by_role("status").filter(has_text="Dit “enig” kom ikke med.")).to_be_visible()
    assert phone.url.endswith(f"/w/enig?enig=afvist#svar-{answer.id}")
    assert _reactions(session) == 0
    # The page that said so gave the browser a key: now it counts.
    button = phone.locator(f"#svar-{answer.id} .agree-button")
    button.click()
    expect(button).to_have_attribute("aria-pressed", "true")
    expect(button.locator(".agree-count")).to_have_text("1")
    assert _reactions(session) == 1
