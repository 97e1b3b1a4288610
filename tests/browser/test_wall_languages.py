"""Issue 24 in a browser: the language switch offers English only with English texts, and
every part of the page carries its right ``lang`` (WCAG 3.1.2), at 320, 390, 768 and 1280 px."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from playwright.sync_api import Browser, Page, expect
from sqlalchemy.orm import Session

from surveys.models import WallReply
from tests.factories import make_answer, make_wall

from .conftest import check_axe, collect_errors, screenshot

WIDTHS = (320, 390, 768, 1280)


@pytest.fixture(params=WIDTHS, ids=[f"{w}px" for w in WIDTHS])
def sized(request: pytest.FixtureRequest, browser: Browser) -> Iterator[tuple[Page, int]]:
    width: int = request.param
    context = browser.new_context(viewport={"width": width, "height": 800}, locale="da-DK")
    context.set_default_timeout(5000)
    page = context.new_page()
    yield page, width
    context.close()


def test_language_switch_and_lang_attributes(
    live_server: str, sized: tuple[Page, int], session: Session
) -> None:
    page, width = sized
    wall = make_wall(
        session,
        "to-sprog",
        title="Det gode børneliv",
        intro="Fortæl os, hvad der gør hverdagen god.",
        profile_questions=["area"],
    )
    wall.translations = {
        "en": {"title": "A good childhood", "intro": "Tell us what makes everyday life good."}
    }
    session.add(WallReply(wall_id=wall.id, text="Vi har hørt jer og bygger en ny legeplads."))
    session.commit()
    make_answer(session, wall, "Mere skygge på legepladsen", language="da")
    danish_only = make_wall(session, "kun-dansk", english=False)
    errors = collect_errors(page)

    page.goto(f"{live_server}/w/{danish_only.slug}")
    expect(page.locator("html")).to_have_attribute("lang", "da")
    expect(page.get_by_role("link", name="English")).to_have_count(0)

    page.goto(f"{live_server}/w/{wall.slug}")
    expect(page.locator("h1")).to_have_text("Det gode børneliv")
    page.get_by_role("link", name="English").click()
    expect(page.locator("html")).to_have_attribute("lang", "en")
    expect(page.locator("h1")).to_have_text("A good childhood")
    expect(page.locator("h1")).not_to_have_attribute("lang", "da")
    expect(page.get_by_label("What is a good childhood here?")).to_have_count(1)
    expect(page.locator(".reply-text")).to_have_attribute("lang", "da")
    expect(page.locator("p.note-text")).to_have_attribute("lang", "da")
    expect(page.locator('option[value="Rønne"]')).to_have_attribute("lang", "da")
    expect(page.get_by_role("link", name="Dansk")).to_have_attribute("lang", "da")
    assert page.evaluate("document.documentElement.scrollWidth") <= width
    check_axe(page, f"English wall at {width}px")
    screenshot(page, f"wall-english-{width}", full_page=True)

    page.get_by_role("link", name="Dansk").click()
    expect(page.locator("html")).to_have_attribute("lang", "da")
    expect(page.locator(".reply-text")).not_to_have_attribute("lang", "da")
    check_axe(page, f"Danish wall at {width}px")
    assert errors == []
