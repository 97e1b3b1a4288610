"""Issue 24 in a browser: a staff reply under one note on the wall, at 320, 390, 768 and
1280 px (Danish; axe-core finds nothing, nothing scrolls sideways)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from playwright.sync_api import Browser, Page, expect
from sqlalchemy.orm import Session

from surveys import feedback
from surveys.models import StaffRole
from tests.factories import make_answer, make_staff, make_wall

from .conftest import check_axe, collect_errors, screenshot

WIDTHS = (320, 390, 768, 1280)
REPLY = (
    "Tak for forslaget! Vi sætter skyggesejl op over sandkassen i maj, og bænkene kommer "
    "til sommer. Kig forbi legepladsen ved havnen."
)


@pytest.fixture(params=WIDTHS, ids=[f"{w}px" for w in WIDTHS])
def sized(request: pytest.FixtureRequest, browser: Browser) -> Iterator[tuple[Page, int]]:
    width = request.param
    context = browser.new_context(viewport={"width": width, "height": 800}, locale="da-DK")
    context.set_default_timeout(5000)
    page = context.new_page()
    yield page, width
    context.close()


def test_a_reply_under_a_note(live_server: str, sized: tuple[Page, int], session: Session) -> None:
    page, width = sized
    wall = make_wall(session, "feedback")
    answered = make_answer(session, wall, "Der mangler skygge på legepladsen om sommeren")
    make_answer(session, wall, "Flere bænke til bedsteforældrene")
    staff = make_staff(session, wall.campaign.organisation, StaffRole.MANAGER)
    feedback.save_answer_reply(session, staff, answered, REPLY)
    errors = collect_errors(page)

    page.goto(f"{live_server}/w/{wall.slug}")
    note = page.locator(f"#svar-{answered.id}")
    expect(note.locator(".note-reply-text")).to_have_text(REPLY)
    expect(note.locator(".note-reply-from")).to_contain_text("Svar fra")
    expect(page.locator(".note-reply")).to_have_count(1)
    assert page.evaluate("document.documentElement.scrollWidth") <= width
    check_axe(page, f"wall with a reply under a note at {width}px")
    note.scroll_into_view_if_needed()
    screenshot(page, f"wall-note-reply-{width}")
    assert errors == []


@pytest.mark.parametrize("width", WIDTHS)
def test_staff_write_a_reply_from_moderation(
    live_server: str, browser: Browser, session: Session, width: int
) -> None:
    from .test_staff_layout import _log_in, _overflow, _page, axe_problems, duplicate_ids

    wall = make_wall(session, "svarside", title="Det gode børneliv")
    answer = make_answer(session, wall, "Der mangler skygge på legepladsen")
    make_staff(session, wall.campaign.organisation, "manager", email="leder@kommune.dk")
    for page in _page(browser, width):
        _log_in(page, live_server, "leder@kommune.dk")
        page.goto(f"{live_server}/staff/moderation?status=approved")
        page.get_by_role("link", name=f"Svar under svaret (Svar {answer.id})").click()
        expect(page.get_by_role("heading", name=f"Svar på svar {answer.id}")).to_be_visible()
        page.get_by_label("Jeres svar").fill(REPLY)
        page.get_by_role("button", name="Gem svaret").click()
        expect(page.get_by_text("Svaret vises under svaret på væggen.")).to_be_visible()
        expect(page.get_by_label("Jeres svar")).to_have_value(REPLY)
        assert _overflow(page) <= 0
        assert duplicate_ids(page) == []
        assert axe_problems(page) == []
        screenshot(page, f"staff-answer-reply-{width}", full_page=True)
        page.goto(f"{live_server}/w/{wall.slug}")
        expect(page.locator(f"#svar-{answer.id} .note-reply-text")).to_have_text(REPLY)


def test_a_reply_under_a_theme_on_the_public_page(
    live_server: str, sized: tuple[Page, int], session: Session
) -> None:
    from surveys import report as reports
    from surveys.themes import Scope
    from tests.app.test_publish_review import make_world as make_published_world

    page, width = sized
    world = make_published_world(session)
    campaign = world.campaign
    campaign.published_at = campaign.created_at
    campaign.published_run_id = reports.campaign_run(session, campaign).id
    campaign.published_themes = {"t1": [world.good[0].id]}
    session.commit()
    scope = Scope(campaign.id, None, None)
    feedback.save_theme_reply(session, world.manager, campaign, scope, "t1", REPLY)
    errors = collect_errors(page)

    page.goto(f"{live_server}/c/{campaign.slug}/hoert")
    theme = page.locator("#tema-t1")
    expect(theme.locator(".theme-reply .reply-text")).to_have_text(REPLY)
    assert page.evaluate("document.documentElement.scrollWidth") <= width
    check_axe(page, f"'Det har vi hørt' with a theme reply at {width}px")
    theme.locator(".theme-reply").scroll_into_view_if_needed()
    screenshot(page, f"heard-theme-reply-{width}")
    assert errors == []
