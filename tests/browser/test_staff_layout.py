"""Staff pages on every screen (issue 24): DKFDS's mobile menu below 992 px, no sideways scroll
at 320 CSS px (WCAG 1.4.10), no duplicate ids, and axe with its "incomplete" results counted."""

from __future__ import annotations

import re
from collections.abc import Iterator

import pytest
from playwright.sync_api import Browser, Page, expect
from sqlalchemy.orm import Session

from surveys.models import AnswerStatus, Wall
from tests.factories import STAFF_PASSWORD, make_answer, make_organisation, make_staff, make_wall

from .conftest import AXE_TAGS, _axe_source, collect_errors, screenshot

WIDTHS = (320, 390, 768, 1280)


def _page(browser: Browser, width: int, *, javascript: bool = True) -> Iterator[Page]:
    context = browser.new_context(
        viewport={"width": width, "height": 900}, locale="da-DK", java_script_enabled=javascript
    )
    context.set_default_timeout(10000)
    page = context.new_page()
    errors = collect_errors(page)
    yield page
    context.close()
    assert errors == [], errors


def _log_in(page: Page, base: str, email: str) -> None:
    page.goto(f"{base}/staff/login")
    page.get_by_label("E-mail").fill(email)
    page.get_by_label("Adgangskode").fill(STAFF_PASSWORD)
    page.get_by_role("button", name="Log ind").click()
    expect(page).to_have_url(f"{base}/staff/")


def _walls(session: Session) -> tuple[Wall, Wall]:
    organisation = make_organisation(session, "bornholm", name="Bornholms Regionskommune")
    empty = make_wall(session, "tom", organisation=organisation, title="Skolevejen")
    answered = make_wall(session, "svar", campaign=empty.campaign, title="Det gode børneliv")
    make_answer(session, answered, "Flere bænke ved legepladsen")
    make_staff(session, organisation, "admin", email="admin@brk.dk", name="Ada Administrator")
    return empty, answered


def _staff_paths(empty: Wall, answered: Wall) -> list[str]:
    campaign = empty.campaign_id
    return [
        "/staff/",
        f"/staff/campaigns/{campaign}",
        f"/staff/campaigns/{campaign}/edit",
        f"/staff/campaigns/{campaign}/walls/new",
        f"/staff/campaigns/{campaign}/report",
        f"/staff/campaigns/{campaign}/themes",
        f"/staff/campaigns/{campaign}/codebook",
        f"/staff/walls/{empty.id}",
        f"/staff/walls/{answered.id}",
        f"/staff/walls/{answered.id}/edit",
        f"/staff/walls/{answered.id}/import",
        f"/staff/walls/{answered.id}/transcribe",
        "/staff/campaigns/new",
        "/staff/moderation",
        "/staff/moderation?status=approved",
        "/staff/users",
        "/staff/users/new",
        "/staff/audit",
        "/staff/account/password",
    ]


def _overflow(page: Page) -> int:
    """How many CSS px the page is wider than the viewport (0: no sideways scroll)."""
    return page.evaluate("document.documentElement.scrollWidth - window.innerWidth")


def _widest(page: Page) -> list[str]:
    """The elements reaching past the right edge (to say what overflows)."""
    return page.evaluate(
        """() => Array.from(document.querySelectorAll('body *'))
              .filter(e => e.getBoundingClientRect().right > window.innerWidth + 0.5)
              .slice(-4).map(e => e.tagName + '.' + e.className + ' ' +
                             Math.round(e.getBoundingClientRect().right))"""
    )


def axe_problems(page: Page) -> list[str]:
    """axe-core's violations and its "incomplete" results (which need a human) as failures,
    except colour contrast over images and gradients it cannot compute."""
    if not page.evaluate("typeof window.axe !== 'undefined'"):
        page.evaluate(_axe_source() + "\n;0")
    return page.evaluate(
        """tags => axe.run(document, {runOnly: {type: 'tag', values: tags}}).then(r =>
              r.violations.concat(r.incomplete.filter(v => v.id !== 'color-contrast'))
               .map(v => v.id + ': ' +
                    v.nodes.slice(0, 3).map(n => n.target.join(' ')).join(', ')))""",
        AXE_TAGS,
    )


def duplicate_ids(page: Page) -> list[str]:
    return page.evaluate(
        """() => { const seen = {}, twice = [];
              document.querySelectorAll('[id]').forEach(e => {
                  if (seen[e.id]) twice.push(e.id); seen[e.id] = true; });
              return twice; }"""
    )


@pytest.mark.parametrize("width", WIDTHS)
def test_every_staff_page_reflows_and_has_a_menu(
    live_server: str, browser: Browser, session: Session, width: int
) -> None:
    empty, answered = _walls(session)
    for page in _page(browser, width):
        _log_in(page, live_server, "admin@brk.dk")
        problems = []
        for path in _staff_paths(empty, answered):
            page.goto(f"{live_server}{path}")
            if _overflow(page) > 0:
                problems.append((path, "wider than the screen by", _overflow(page), _widest(page)))
            if duplicate_ids(page):
                problems.append((path, "duplicate ids", duplicate_ids(page)))
        assert problems == []
        if width < 992:
            # DKFDS's mobile menu: the button opens the drawer with the menu and "Log af".
            page.goto(f"{live_server}/staff/")
            expect(page.locator(".navigation-menu .nav")).to_be_hidden()
            page.get_by_role("button", name="Menu").click()
            drawer = page.get_by_role("dialog", name="Menu")
            expect(drawer).to_be_visible()
            expect(drawer.get_by_role("link", name="Brugere")).to_be_visible()
            expect(drawer.get_by_role("button", name="Log af")).to_be_visible()
            assert _overflow(page) <= 0
            page.keyboard.press("Escape")
            expect(drawer).to_be_hidden()
            page.get_by_role("button", name="Menu").click()
            drawer.get_by_role("link", name="Moderering").click()
            expect(page).to_have_url(f"{live_server}/staff/moderation")
        else:
            expect(page.get_by_role("button", name="Menu")).to_be_hidden()
            expect(page.get_by_role("navigation", name="Hovedmenu").first).to_be_visible()
            expect(page.get_by_role("button", name="Log af")).to_be_visible()


def test_staff_pages_without_javascript_still_show_menu_and_log_out(
    live_server: str, browser: Browser, session: Session
) -> None:
    _walls(session)
    for page in _page(browser, 320, javascript=False):
        _log_in(page, live_server, "admin@brk.dk")
        expect(page.get_by_role("button", name="Menu")).to_be_hidden()
        expect(page.locator(".navigation-menu").get_by_role("link", name="Brugere")).to_be_visible()
        expect(page.locator(".portal-info").get_by_role("button", name="Log af")).to_be_visible()
        assert _overflow(page) <= 0


def test_staff_pages_pass_axe_counting_incomplete(
    live_server: str, browser: Browser, session: Session
) -> None:
    empty, answered = _walls(session)
    for page in _page(browser, 390):
        _log_in(page, live_server, "admin@brk.dk")
        for path in _staff_paths(empty, answered):
            page.goto(f"{live_server}{path}")
            assert axe_problems(page) == [], path
        page.goto(f"{live_server}/staff/walls/{empty.id}")
        page.get_by_role("button", name="Menu").click()
        assert axe_problems(page) == [], "open mobile menu"


def test_screenshots_of_dashboard_and_wall(
    live_server: str, browser: Browser, session: Session
) -> None:
    _empty, answered = _walls(session)
    for width in WIDTHS:
        for page in _page(browser, width):
            _log_in(page, live_server, "admin@brk.dk")
            screenshot(page, f"staff-dashboard-{width}", full_page=True)
            page.goto(f"{live_server}/staff/walls/{answered.id}")
            screenshot(page, f"staff-wall-{width}", full_page=True)
            if width < 992:
                page.get_by_role("button", name="Menu").click()
                page.wait_for_timeout(400)  # the drawer slides in for 0.3 s
                screenshot(page, f"staff-menu-{width}")


def test_accessibility_statement_fits_a_phone_and_says_when_who_and_where_to_complain(
    live_server: str, browser: Browser
) -> None:
    for page in _page(browser, 320):
        page.goto(f"{live_server}/tilgaengelighed")
        assert _overflow(page) <= 0, _widest(page)
        assert axe_problems(page) == []
        main = page.locator("main")
        expect(main).to_contain_text("Erklæringen blev udarbejdet og sidst gennemgået")
        expect(main).to_contain_text("7. december 2026")
        complaint = main.get_by_role("link", name="Digitaliseringsstyrelsen")
        expect(complaint).to_have_attribute("href", re.compile(r"^https://digst\.dk/.+"))
        screenshot(page, "accessibility-statement-320", full_page=True)


@pytest.mark.parametrize("width", (390, 1280))
def test_the_moderation_count_sits_on_the_line_of_its_menu_item(
    live_server: str, browser: Browser, session: Session, width: int
) -> None:
    _empty, answered = _walls(session)
    make_answer(session, answered, "Venter på en moderator", status=AnswerStatus.PENDING)
    for page in _page(browser, width):
        _log_in(page, live_server, "admin@brk.dk")
        if width < 992:
            page.get_by_role("button", name="Menu").click()
            menu = page.get_by_role("dialog", name="Menu")
        else:
            menu = page.get_by_role("navigation", name="Hovedmenu").first
        link = menu.get_by_role("link", name="Moderering")
        count = link.locator(".menu-count")
        expect(count).to_have_text("1")
        label, badge = link.locator(".menu-label").bounding_box(), count.bounding_box()
        assert label is not None and badge is not None
        # on the label's line (DKFDS makes spans of menu links full-width blocks)
        middle = badge["y"] + badge["height"] / 2
        assert label["y"] <= middle <= label["y"] + label["height"], (label, badge)
        assert badge["width"] < 60, badge
        screenshot(page, f"staff-menu-count-{width}")


@pytest.mark.parametrize("width", [390, 1280])
def test_a_reply_refused_by_the_guard_says_why_beside_what_was_typed(
    live_server: str, browser: Browser, session: Session, width: int
) -> None:
    _empty, answered = _walls(session)
    typed = "Pædagogen Lone i Solsikken skal ikke råbe – det tager vi op med institutionen"
    context = browser.new_context(viewport={"width": width, "height": 900}, locale="da-DK")
    context.set_default_timeout(10000)
    page = context.new_page()
    errors = collect_errors(page)
    try:
        _log_in(page, live_server, "admin@brk.dk")
        page.goto(f"{live_server}/staff/walls/{answered.id}")
        page.locator("#reply-text").fill(typed)
        page.get_by_role("button", name="Offentliggør svar").click()
        expect(page.locator("#reply-text")).to_have_value(typed)
        expect(page.locator("#reply-text")).to_have_attribute("aria-invalid", "true")
        expect(page.locator("#reply-text-error")).to_contain_text("personoplysninger")
        assert axe_problems(page) == []
        page.locator("#reply-text").scroll_into_view_if_needed()
        screenshot(page, f"staff-reply-refused-{width}")
    finally:
        context.close()
    # The page is answered 400 (the browser logs that); nothing else went wrong.
    assert [error for error in errors if "status of 400" not in error] == []
