"""The report's pages in headless Chromium: axe, no CSP errors, phone and desktop width."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from playwright.sync_api import Browser, Page
from sqlalchemy import select
from sqlalchemy.orm import Session

from surveys.models import StaffRole, ThemeRun
from tests.app.test_report import make_report_world
from tests.factories import STAFF_PASSWORD

from .conftest import PHONE, check_axe, screenshot

DESKTOP = {"width": 1280, "height": 900}


def _strict_page(browser: Browser, **options: object) -> Iterator[Page]:
    """A Danish page that fails the test on any console error (a CSP violation among them)."""
    context = browser.new_context(locale="da-DK", **options)
    context.set_default_timeout(10000)
    page = context.new_page()
    errors: list[str] = []
    page.on(
        "console", lambda message: errors.append(message.text) if message.type == "error" else None
    )
    page.on("pageerror", lambda error: errors.append(str(error)))
    yield page
    context.close()
    assert errors == [], errors


@pytest.fixture
def desktop(browser: Browser) -> Iterator[Page]:
    yield from _strict_page(browser, viewport=DESKTOP)


@pytest.fixture
def narrow(browser: Browser) -> Iterator[Page]:
    yield from _strict_page(browser, viewport=PHONE, is_mobile=True, has_touch=True)


def _log_in(page: Page, base: str, email: str) -> None:
    page.goto(f"{base}/staff/login")
    page.get_by_label("E-mail").fill(email)
    page.get_by_label("Adgangskode").fill(STAFF_PASSWORD)
    page.get_by_role("button", name="Log ind").click()
    page.wait_for_url(f"{base}/staff/")


def test_staff_report_page_passes_axe_at_desktop_and_phone_width(
    live_server: str, desktop: Page, narrow: Page, session: Session
) -> None:
    world = make_report_world(session)
    url = f"{live_server}/staff/campaigns/{world.campaign.id}/report"
    for page, name in ((desktop, "desktop"), (narrow, "phone")):
        _log_in(page, live_server, world.staff[StaffRole.MANAGER].email)
        page.goto(url)
        assert page.locator("svg.bar-chart").count() == 1
        check_axe(page, f"staff report ({name})")
        screenshot(page, f"staff-report-{name}", full_page=True)
        width = page.evaluate("document.documentElement.scrollWidth")
        assert width <= page.viewport_size["width"] + 1, (name, width)
    # Publishing is a review: the report links to it, and it publishes what is ticked.
    desktop.get_by_role("link", name="Gennemse og offentliggør").click()
    desktop.wait_for_url(f"{url}/publish")
    desktop.get_by_role("button", name="Offentliggør", exact=True).click()
    desktop.wait_for_url(url)
    check_axe(desktop, "staff report, published")


def test_public_page_passes_axe_on_a_phone(
    live_server: str, narrow: Page, session: Session
) -> None:
    world = make_report_world(session)
    world.campaign.published_at = world.campaign.created_at
    world.campaign.published_run_id = session.scalars(select(ThemeRun.id)).first()
    session.commit()
    narrow.goto(f"{live_server}/c/{world.campaign.slug}/hoert")
    assert narrow.get_by_role("heading", name="Det har vi hørt").is_visible()
    check_axe(narrow, "public page")
    screenshot(narrow, "heard-phone", full_page=True)
    width = narrow.evaluate("document.documentElement.scrollWidth")
    assert width <= PHONE["width"] + 1, width
