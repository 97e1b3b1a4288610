"""Two-factor sign-in in the browser (issue 25): an admin's forced enrolment at a phone's and a
desktop's width, the QR code loaded under the CSP, axe, no sideways scrolling, screenshots."""

from __future__ import annotations

import re
import time
from typing import Any

import pyotp
import pytest
from flask import Flask
from playwright.sync_api import Browser, Page, expect
from sqlalchemy.orm import Session

from tests.factories import STAFF_PASSWORD, make_organisation, make_staff

from .conftest import check_axe, collect_errors, screenshot


@pytest.fixture
def app(make_app: Any) -> Flask:
    """Admins must sign in with a code from an app, as in production."""
    return make_app(TOTP_REQUIRED_ROLES=["admin"])


def _overflow(page: Page) -> int:
    return page.evaluate("document.documentElement.scrollWidth - window.innerWidth")


def _password(page: Page, base: str, email: str) -> None:
    page.goto(f"{base}/staff/login")
    page.get_by_label("E-mail").fill(email)
    page.get_by_label("Adgangskode").fill(STAFF_PASSWORD)
    page.get_by_role("button", name="Log ind").click()


@pytest.mark.parametrize("width", [390, 1280])
def test_an_admin_enrols_at_sign_in(
    browser: Browser, live_server: str, session: Session, width: int
) -> None:
    organisation = make_organisation(session, "ishoj", name="Ishøj Kommune")
    admin = make_staff(session, organisation, "admin", email=f"admin{width}@ishoj.dk")
    context = browser.new_context(viewport={"width": width, "height": 900}, locale="da-DK")
    context.set_default_timeout(10000)
    page = context.new_page()
    errors = collect_errors(page)  # a QR code the CSP refused would show here

    _password(page, live_server, admin.email)
    expect(page).to_have_url(f"{live_server}/staff/two-factor/enrol")
    expect(page.get_by_role("heading", name="Sæt to-trins-login op")).to_be_visible()
    qr = page.get_by_role("img", name="QR-kode til din godkendelsesapp")
    expect(qr).to_be_visible()
    assert qr.evaluate("img => img.complete && img.naturalWidth > 0")
    assert _overflow(page) == 0
    check_axe(page, f"enrolment at {width}")
    screenshot(page, f"staff-totp-enrol-{width}", full_page=True)

    # The app reads the key (typed here, as someone who cannot scan would).
    secret = re.sub(r"\s", "", page.locator("#two-factor-key").inner_text())
    left = 30 - time.time() % 30
    if left < 3:
        time.sleep(left + 0.2)
    page.get_by_label("Kode").fill(pyotp.TOTP(secret).now())
    page.get_by_role("button", name="Bekræft").click()

    expect(page.get_by_role("heading", name="Dine gendannelseskoder")).to_be_visible()
    codes = page.locator(".two-factor-codes code").all_inner_texts()
    assert len(codes) == 10 and all(re.fullmatch(r"[a-z2-9]{5}-[a-z2-9]{5}", c) for c in codes)
    assert _overflow(page) == 0
    check_axe(page, f"recovery codes at {width}")
    screenshot(page, f"staff-totp-codes-{width}", full_page=True)
    page.get_by_role("link", name="Jeg har gemt koderne").click()
    expect(page).to_have_url(f"{live_server}/staff/")

    # Next time: the password, then the code page (here with a recovery code).
    page.locator("form.logout-form").first.evaluate("form => form.submit()")
    expect(page).to_have_url(f"{live_server}/staff/login")
    _password(page, live_server, admin.email)
    expect(page).to_have_url(f"{live_server}/staff/login/code")
    assert _overflow(page) == 0
    check_axe(page, f"code page at {width}")
    screenshot(page, f"staff-totp-code-{width}", full_page=True)
    page.get_by_label("Kode").fill(codes[0])
    page.get_by_role("button", name="Fortsæt").click()
    expect(page).to_have_url(f"{live_server}/staff/")
    expect(page.get_by_text("Du har 9 tilbage")).to_be_visible()
    page.goto(f"{live_server}/staff/account/two-factor")
    expect(page.get_by_text("Du har 9 ubrugte gendannelseskoder.")).to_be_visible()
    assert _overflow(page) == 0
    check_axe(page, f"my two-factor sign-in at {width}")
    screenshot(page, f"staff-totp-account-{width}", full_page=True)
    context.close()
    assert errors == [], errors
