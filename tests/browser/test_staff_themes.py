"""The theme explorer in headless Chromium: open it, rename a theme, see the new name; axe."""

from __future__ import annotations

import re
from collections.abc import Iterator

import pytest
from playwright.sync_api import Browser, Page, expect
from sqlalchemy import select
from sqlalchemy.orm import Session

from surveys import theme_review as review
from surveys.demo import load_demo
from surveys.models import Campaign
from surveys.themes import Scope, latest_run
from tests.factories import STAFF_PASSWORD, make_staff

from .conftest import check_axe, collect_errors, screenshot

DESKTOP = {"width": 1280, "height": 1200}
PHONE = {"width": 390, "height": 844}


def _page(browser: Browser, viewport: dict[str, int]) -> Iterator[Page]:
    context = browser.new_context(viewport=viewport, locale="da-DK")
    context.set_default_timeout(10000)
    page = context.new_page()
    errors = collect_errors(page)
    yield page
    context.close()
    assert errors == [], errors


@pytest.fixture
def desktop(browser: Browser) -> Iterator[Page]:
    """A desktop-sized page, Danish; fails the test on script or CSP errors."""
    yield from _page(browser, DESKTOP)


@pytest.fixture
def phone_page(browser: Browser) -> Iterator[Page]:
    """A phone-sized page (390×844), Danish."""
    yield from _page(browser, PHONE)


def _log_in(page: Page, base: str, email: str, target: str) -> None:
    page.goto(f"{base}/staff/login?next={target}")
    page.get_by_label("E-mail").fill(email)
    page.get_by_label("Adgangskode").fill(STAFF_PASSWORD)
    page.get_by_role("button", name="Log ind").click()
    expect(page).to_have_url(f"{base}{target}")


def test_explorer_rename_a_theme_and_see_it(
    live_server: str, desktop: Page, phone_page: Page, session: Session
) -> None:
    load_demo(session)
    campaign = session.scalars(select(Campaign).where(Campaign.slug == "demo")).one()
    analyst = make_staff(
        session, campaign.organisation, "analyst", email="anna@demo.dk", name="Anna Analytiker"
    )
    review.run_themes(session, analyst, Scope(campaign.id))
    page = desktop

    # From the campaign page to the explorer.
    _log_in(page, live_server, analyst.email, f"/staff/campaigns/{campaign.id}")
    page.get_by_role("link", name="Temaer", exact=True).click()
    expect(page.get_by_role("heading", name="Temaer", level=1)).to_be_visible()
    expect(page.get_by_role("heading", name="Seneste kørsel")).to_be_visible()
    cards = page.locator(".theme-card")
    assert cards.count() >= 5
    check_axe(page, "theme explorer")
    screenshot(page, "explorer")

    # Open the biggest theme and rename it.
    first = cards.first.locator(".theme-title a")
    old_label = first.inner_text()
    first.click()
    expect(page.get_by_role("heading", name=old_label, level=1)).to_be_visible()
    check_axe(page, "theme page")
    screenshot(page, "explorer-theme", full_page=True)
    page.get_by_label("Navn", exact=True).fill("Steder at være om aftenen")
    page.get_by_role("button", name="Gem navnet").click()
    expect(page.locator(".alert-success")).to_contain_text("Temaet fik et nyt navn.")
    expect(page.get_by_role("heading", name="Steder at være om aftenen", level=1)).to_be_visible()
    expect(page.get_by_text(f"Navn fundet af maskinen: {old_label}")).to_be_visible()

    # The explorer shows the new name, and it is stored for the next run.
    page.get_by_role("navigation", name="Brødkrummer").get_by_role("link", name="Temaer").click()
    expect(page.locator(".theme-title").first).to_have_text("Steder at være om aftenen")
    session.expire_all()
    run = latest_run(session, Scope(campaign.id).key)
    assert run is not None
    assert "Steder at være om aftenen" in {t.label for t in run.themes}

    # On a phone: readable, no sideways scrolling, and axe clean.
    _log_in(phone_page, live_server, analyst.email, f"/staff/campaigns/{campaign.id}/themes")
    expect(phone_page.locator(".theme-title").first).to_have_text("Steder at være om aftenen")
    width = phone_page.evaluate("document.documentElement.scrollWidth")
    assert width <= PHONE["width"], width
    check_axe(phone_page, "theme explorer on a phone")
    phone_page.locator("#themes").scroll_into_view_if_needed()
    phone_page.evaluate(
        "window.scrollBy(0, document.querySelector('#themes').getBoundingClientRect().top - 8)"
    )
    screenshot(phone_page, "explorer-phone")


def test_explorer_number_of_themes_and_undo_on_a_phone_and_a_desktop(
    live_server: str, desktop: Page, phone_page: Page, session: Session
) -> None:
    load_demo(session)
    campaign = session.scalars(select(Campaign).where(Campaign.slug == "demo")).one()
    analyst = make_staff(session, campaign.organisation, "analyst", email="anna@demo.dk")
    scope = Scope(campaign.id)
    run = review.run_themes(session, analyst, scope)
    first, second = [t for t in run.themes if not t.hidden][:2]
    review.merge_themes(session, analyst, scope, first.key, [second.key])
    gone = second.label
    target = f"/staff/campaigns/{campaign.id}/themes"

    for page, viewport, name in ((phone_page, PHONE, "phone"), (desktop, DESKTOP, "desktop")):
        _log_in(page, live_server, analyst.email, target)
        expect(page.get_by_label("Antal temaer")).to_have_value("auto")
        expect(page.get_by_role("heading", name="Sammenlægninger og opdelinger")).to_be_visible()
        undo = page.get_by_role("button", name="Fortryd (sammenlægningen)")
        expect(undo).to_be_visible()
        width = page.evaluate("document.documentElement.scrollWidth")
        assert width <= viewport["width"], (name, width)
        check_axe(page, f"theme explorer with undo ({name})")
        page.locator(".run-info").scroll_into_view_if_needed()
        page.evaluate(
            "window.scrollTo(0, document.querySelector('.run-info').getBoundingClientRect().top"
            " + window.scrollY - 8)"
        )
        screenshot(page, f"explorer-count-undo-{name}")

    # The kept theme's page offers the same undo.
    desktop.goto(f"{live_server}{target}/{first.key}")
    expect(desktop.locator(".undo-notice")).to_contain_text("Seneste ændring:")
    check_axe(desktop, "theme page with undo")
    screenshot(desktop, "explorer-theme-undo")
    desktop.goto(f"{live_server}{target}")

    # Undo on the desktop: the merged theme is back, the step is marked as undone.
    desktop.get_by_role("button", name="Fortryd (sammenlægningen)").click()
    expect(desktop.locator(".alert-success")).to_contain_text("Sammenlægningen er fortrudt")
    expect(desktop.locator(".theme-title", has_text=gone).first).to_be_visible()
    expect(desktop.locator(".step-item .badge")).to_have_text("Fortrudt")
    check_axe(desktop, "theme explorer after undo")

    # Choosing a number of themes starts a build with that number.
    desktop.get_by_label("Antal temaer").select_option("5")
    desktop.get_by_role("button", name="Kør temaer igen").click()
    expect(desktop).to_have_url(re.compile(r"/staff/jobs/\d+$"))
    session.expire_all()
    latest = latest_run(session, scope.key)
    assert latest is not None and latest.requested_themes == "5"
