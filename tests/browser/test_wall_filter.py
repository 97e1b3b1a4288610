"""Issue 24 in a browser: the wall's notes filtered by question and ordered by "enig", with
and without JavaScript, at 320, 390, 768 and 1280 px."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta

import pytest
from playwright.sync_api import Browser, Page, expect
from sqlalchemy.orm import Session

from surveys.models import Reaction, utcnow
from tests.factories import make_answer, make_wall

from .conftest import check_axe, collect_errors, screenshot

CASES = [(width, js) for width in (320, 390, 768, 1280) for js in (True, False)]


@pytest.fixture(params=CASES, ids=[f"{w}px-{'js' if js else 'nojs'}" for w, js in CASES])
def sized(request: pytest.FixtureRequest, browser: Browser) -> Iterator[tuple[Page, int, bool]]:
    width, js = request.param
    context = browser.new_context(viewport={"width": width, "height": 800}, locale="da-DK")
    context.set_default_timeout(5000)
    page = context.new_page()
    if not js:
        # The site's own scripts never load (a visitor without JavaScript), while the test
        # can still measure the page and run axe-core (as conftest's scriptless_phone).
        page.route("**/static/js/**", lambda route: route.abort())
        page.route("**/sw.js", lambda route: route.abort())
    yield page, width, js
    context.close()


def test_filter_and_order_the_notes(
    live_server: str, sized: tuple[Page, int, bool], session: Session
) -> None:
    page, width, js = sized
    wall = make_wall(session, "filter")
    first, second = wall.prompts
    start = utcnow() - timedelta(hours=1)
    popular = make_answer(session, wall, "Populær og gammel", prompt=first, created_at=start)
    make_answer(
        session, wall, "Om det andet", prompt=second, created_at=start + timedelta(minutes=1)
    )
    make_answer(
        session, wall, "Ny og upopulær", prompt=first, created_at=start + timedelta(minutes=2)
    )
    for device in range(3):
        session.add(Reaction(answer_id=popular.id, wall_id=wall.id, device_key=f"k{device}"))
    session.commit()
    errors = collect_errors(page)

    page.goto(f"{live_server}/w/{wall.slug}")
    notes = page.locator("p.note-text")
    expect(notes).to_have_text(["Ny og upopulær", "Om det andet", "Populær og gammel"])
    page.get_by_label("Vis svar på").select_option(label=first.text)
    page.get_by_label("Rækkefølge").select_option(label="Flest enige først")
    page.get_by_role("button", name="Vis", exact=True).click()
    expect(notes).to_have_text(["Populær og gammel", "Ny og upopulær"])
    assert f"vis={first.id}" in page.url and "orden=enige" in page.url
    expect(page.get_by_label("Vis svar på")).to_have_value(str(first.id))
    expect(page.locator("#notes-heading")).to_contain_text("(2)")
    assert page.evaluate("document.documentElement.scrollWidth") <= width
    check_axe(page, f"filtered wall at {width}px")
    page.locator("#notes-heading").scroll_into_view_if_needed()
    screenshot(page, f"wall-filter-{width}-{'js' if js else 'nojs'}")
    if not js:  # the scripts this test kept from loading
        errors = [e for e in errors if "net::ERR_FAILED" not in e]
    assert errors == []
