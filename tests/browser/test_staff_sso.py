"""Single sign-on in a real browser (issue 25): Chromium clicks "Log ind med ..." on the login
page, goes through the OpenID provider on loopback (tests/oidc) and back, with the session
cookie surviving the redirects between the two sites; logout at the provider; an unknown
person's refusal; axe and screenshots."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from flask import Flask
from playwright.sync_api import Browser, Page, Route, expect
from sqlalchemy.orm import Session

from tests.factories import make_organisation
from tests.oidc import Provider, free_port, running_provider

from .conftest import check_axe, collect_errors, screenshot, serving

ROLES = {"OIDC_ROLES_CLAIM": "roles", "OIDC_ROLE_MAP": "Stemmer.Mod=moderator"}


@pytest.fixture
def site(make_app: Callable[..., Flask], session: Session) -> Iterator[tuple[str, Provider]]:
    """The app served at a loopback address it knows as its base URL, with single sign-on at
    a provider that knows that address's callback."""
    organisation = make_organisation(session, "aarhus", name="Aarhus Kommune")
    base = f"http://127.0.0.1:{free_port()}"
    with running_provider(base) as provider:
        app = make_app(BASE_URL=base, **provider.app_settings(organisation.slug), **ROLES)
        with serving(app, int(base.rsplit(":", 1)[1])):
            yield base, provider


def _loopback_only(route: Route) -> None:
    """Nothing leaves the machine (a provider's page might ask for a web font)."""
    if route.request.url.startswith("http://127.0.0.1:"):
        route.continue_()
    else:
        route.abort()


@pytest.fixture
def page(browser: Browser) -> Iterator[Page]:
    context = browser.new_context(viewport={"width": 1280, "height": 900}, locale="da-DK")
    context.set_default_timeout(10000)
    context.route("**/*", _loopback_only)
    yield context.new_page()
    context.close()


def test_sign_on_and_logout_through_the_provider(site: Any, page: Page) -> None:
    base, provider = site
    errors = collect_errors(page)
    page.goto(f"{base}/staff/login")
    button = page.get_by_role("link", name="Log ind med Aarhus Kommune")
    expect(button).to_be_visible()
    check_axe(page, "login with single sign-on")
    screenshot(page, "staff-sso-login", full_page=True)

    provider.next_login("sub-b", email="bo@aarhus.dk", name="Bo Berg", roles=["Stemmer.Mod"])
    button.click()
    expect(page).to_have_url(f"{base}/staff/")
    # The bar's copy of who is signed in: the mobile drawer holds the other, and until the
    # page's style sheets have loaded both count as visible.
    bar = page.locator(".portal-user")
    expect(bar.locator(".user")).to_have_text("Bo Berg, Moderator")
    page.wait_for_load_state("load")
    screenshot(page, "staff-sso-signed-on")

    bar.get_by_role("button", name="Log af").click()
    # On to the provider's logout (the page's CSP lets the form lead there), and back.
    page.get_by_role("button", name="Yes, sign me out").click()
    expect(page).to_have_url(re.compile(rf"^{re.escape(base)}/staff/login\?state=\w+$"))
    expect(page.get_by_text("Du er logget af.")).to_be_visible()
    page.goto(f"{base}/staff/")
    expect(page).to_have_url(f"{base}/staff/login?next=/staff/")
    assert errors == []


def test_an_unknown_person_sees_why_in_danish(site: Any, page: Page) -> None:
    base, provider = site
    provider.next_login("sub-new", email="ny@aarhus.dk", roles=["Something.Else"])
    page.goto(f"{base}/staff/login")
    page.get_by_role("link", name="Log ind med Aarhus Kommune").click()
    expect(page).to_have_url(f"{base}/staff/login")
    expect(page.get_by_text("Bed en administrator i din organisation om adgang")).to_be_visible()
    check_axe(page, "single sign-on refused")
    screenshot(page, "staff-sso-refused", full_page=True)
