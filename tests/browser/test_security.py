"""The strict Content-Security-Policy in a real browser, and an answer surviving a database
outage in the offline outbox."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from flask import Flask
from playwright.sync_api import Browser, Page, expect
from sqlalchemy import select
from sqlalchemy.orm import Session

from surveys import kiosk as kiosks
from surveys.models import Answer, AnswerStatus, Moderation
from tests.factories import STAFF_PASSWORD, make_answer, make_staff, make_wall
from tests.load.outage import database_unavailable, short_busy_timeout

#: Records every CSP violation the page reports (an init script is not subject to the CSP).
WATCH_CSP = """
window.__csp = [];
document.addEventListener('securitypolicyviolation', function (e) {
  window.__csp.push(e.violatedDirective + ' ' + e.blockedURI + ' ' + (e.sample || ''));
});
"""


class CspPage:
    """A page that collects CSP violations from events and from the console."""

    def __init__(self, page: Page) -> None:
        self.page = page
        self.console: list[str] = []
        page.on("console", self._on_console)

    def _on_console(self, message: object) -> None:
        text = getattr(message, "text", "")
        if "Content Security Policy" in text or "Content-Security-Policy" in text:
            self.console.append(text)

    def violations(self) -> list[str]:
        """What was blocked on the current document, and what the console said."""
        return [*self.page.evaluate("window.__csp || []"), *self.console]


@pytest.fixture
def csp_page(browser: Browser) -> Iterator[CspPage]:
    """A phone-sized page that watches for CSP violations."""
    context = browser.new_context(
        viewport={"width": 390, "height": 844}, locale="da-DK", has_touch=True
    )
    context.set_default_timeout(5000)
    context.add_init_script(WATCH_CSP)
    page = context.new_page()
    yield CspPage(page)
    context.close()


def test_participant_pages_run_under_the_strict_csp(
    live_server: str, csp_page: CspPage, session: Session
) -> None:
    wall = make_wall(session, "csp-vaeg", moderation=Moderation.POST)
    make_answer(session, wall, "Et svar at være enig i")
    device = kiosks.create_device(session, wall, "Biblioteket")
    page = csp_page.page
    response = page.goto(f"{live_server}/w/csp-vaeg")
    assert response is not None
    assert "script-src 'self'" in response.headers["content-security-policy"]
    # The scripts run (they are from 'self'): the counter, sending, "enig".
    page.get_by_role("textbox", name="Dit svar").fill("Skrevet under en streng CSP")
    expect(page.locator("#text-counter")).to_contain_text("af 1.000 tegn")
    page.get_by_role("button", name="Send svar").click()
    expect(page.get_by_role("heading", name="Tak for dit svar")).to_be_visible()
    assert csp_page.violations() == []

    page.goto(f"{live_server}/w/csp-vaeg/poster")
    page.goto(f"{live_server}/live/csp-vaeg")
    expect(page.locator(".live-note").first).to_be_visible()
    page.wait_for_timeout(500)  # the event stream connects
    assert csp_page.violations() == []

    page.goto(f"{live_server}/kiosk/csp-vaeg?device={device.token}")
    page.wait_for_load_state("networkidle")
    page.goto(f"{live_server}/tilgaengelighed")
    assert csp_page.violations() == []


def test_staff_workspace_runs_under_the_strict_csp(
    live_server: str, csp_page: CspPage, session: Session
) -> None:
    wall = make_wall(session, "csp-staff")
    make_answer(session, wall, "Venter på moderation", status=AnswerStatus.PENDING)
    staff = make_staff(session, role="admin")
    page = csp_page.page
    page.goto(f"{live_server}/staff/login")
    page.get_by_label("E-mail").fill(staff.email)
    page.get_by_label("Adgangskode").fill(STAFF_PASSWORD)
    page.get_by_role("button", name="Log ind").click()
    page.wait_for_url(f"{live_server}/staff/**")
    for path in ("/staff/", "/staff/moderation", f"/staff/walls/{wall.id}/edit"):
        page.goto(live_server + path)
        page.wait_for_load_state("networkidle")
        assert csp_page.violations() == [], path


def test_an_answer_sent_during_a_database_outage_is_kept_and_arrives_once(
    app: Flask, live_server: str, csp_page: CspPage, session: Session, database_url: str
) -> None:
    make_wall(session, "udfald", moderation=Moderation.POST)
    short_busy_timeout(app.extensions["stemmer.db"].engine)
    page = csp_page.page
    page.goto(f"{live_server}/w/udfald")
    expect(page.locator("#text-counter")).to_be_visible()
    with database_unavailable(database_url):
        page.get_by_role("textbox", name="Dit svar").fill("Sendt mens databasen var nede")
        page.get_by_role("button", name="Send svar").click()
        expect(page.locator("#js-thanks .thanks-status")).to_have_text(
            "Dit svar er gemt på denne enhed og sendes, når der er forbindelse."
        )
        # The database is down, not a rate limit: "when there is a connection".
        expect(page.locator("#outbox-status")).to_have_text("Gemt – sendes, når der er forbindelse")
    session.expire_all()
    assert list(session.scalars(select(Answer.text))) == []
    session.commit()

    page.evaluate("Stemmer.outbox.flush()")  # the outbox also retries on its own timer
    expect(page.locator("#outbox-status")).to_have_text("Dine gemte svar er sendt.")
    session.expire_all()
    assert list(session.scalars(select(Answer.text))) == ["Sendt mens databasen var nede"]
    page.evaluate("Stemmer.outbox.flush()")
    page.reload()
    session.expire_all()
    assert len(list(session.scalars(select(Answer.id)))) == 1
