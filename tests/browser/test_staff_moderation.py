"""The staff workspace in headless Chromium: login, moderation with the keyboard, redaction."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from playwright.sync_api import Browser, Page, expect
from sqlalchemy.orm import Session

from surveys.models import Answer, AnswerStatus
from tests.factories import STAFF_PASSWORD, make_answer, make_organisation, make_staff, make_wall

from .conftest import check_axe, screenshot

DESKTOP = {"width": 1280, "height": 900}


@pytest.fixture
def desktop(browser: Browser) -> Iterator[Page]:
    """A desktop-sized page, Danish; fails the test on any console error (e.g. CSP)."""
    context = browser.new_context(viewport=DESKTOP, locale="da-DK")
    context.set_default_timeout(10000)
    page = context.new_page()
    errors: list[str] = []
    page.on(
        "console", lambda message: errors.append(message.text) if message.type == "error" else None
    )
    page.on("pageerror", lambda error: errors.append(str(error)))
    page.on(
        "response",
        lambda response: (
            errors.append(f"{response.status} {response.url}") if response.status >= 400 else None
        ),
    )
    yield page
    context.close()
    assert errors == [], errors


def _status(session: Session, answer: Answer) -> AnswerStatus:
    session.expire_all()
    return session.get(Answer, answer.id).status


def _text(session: Session, answer: Answer) -> str:
    session.expire_all()
    return session.get(Answer, answer.id).text


def test_moderation_flow_with_keyboard_and_redaction(
    live_server: str, desktop: Page, session: Session
) -> None:
    organisation = make_organisation(session, "bornholm", name="Bornholms Regionskommune")
    wall = make_wall(
        session, "godt-boerneliv", organisation=organisation, title="Det gode børneliv"
    )
    clean = make_answer(session, wall, "Flere bænke ved legepladsen", status=AnswerStatus.PENDING)
    phone = make_answer(
        session,
        wall,
        "Ring til mig på 22 33 44 55, så fortæller jeg mere",
        status=AnswerStatus.PENDING,
        pii_findings=[{"kind": "phone", "start": 16, "end": 27}],
    )
    free = make_answer(
        session,
        wall,
        "Glad 😀 for stien ved den gule lade, men den er mørk",
        status=AnswerStatus.PENDING,
    )
    rude = make_answer(session, wall, "Det hele er noget skrald", status=AnswerStatus.PENDING)
    moderator = make_staff(
        session, organisation, "moderator", email="mette@brk.dk", name="Mette Moderator"
    )
    page = desktop

    # Log in.
    page.goto(f"{live_server}/staff/moderation")
    expect(page).to_have_url(f"{live_server}/staff/login?next=/staff/moderation")
    check_axe(page, "staff login")
    screenshot(page, "staff-login")
    page.get_by_label("E-mail").fill(moderator.email)
    page.get_by_label("Adgangskode").fill(STAFF_PASSWORD)
    page.get_by_role("button", name="Log ind").click()
    expect(page).to_have_url(f"{live_server}/staff/moderation")

    # The guard's finding is highlighted; the first card has the keyboard focus.
    mark = page.locator(f"#answer-{phone.id} mark.pii")
    expect(mark).to_have_text("22 33 44 55")
    expect(page.locator(f"#answer-{clean.id}")).to_be_focused()
    check_axe(page, "moderation queue")
    screenshot(page, "staff-moderation", full_page=True)

    # "a" approves the focused answer; the queue comes back with the next one focused.
    page.keyboard.press("a")
    expect(page.locator(f"#answer-{clean.id}")).to_have_count(0)
    expect(page.locator(f"#answer-{phone.id}")).to_be_focused()
    assert _status(session, clean) is AnswerStatus.APPROVED

    # One click removes the phone number for good.
    page.locator(f"#answer-{phone.id}").get_by_role("button", name="Fjern 22 33 44 55").click()
    expect(page.locator(f"#answer-{phone.id} .answer-text")).to_have_text(
        "Ring til mig på [fjernet], så fortæller jeg mere"
    )
    expect(page.locator(f"#answer-{phone.id} mark")).to_have_count(0)
    assert "22 33" not in _text(session, phone)

    # Select part of an answer with the mouse and press "r": code points, not UTF-16 units,
    # so the emoji before the selection does not shift it.
    page.evaluate(
        """id => {
            const p = document.querySelector(`#answer-${id} [data-answer-text]`);
            const node = p.firstChild;
            const start = node.data.indexOf("den gule lade");
            const range = document.createRange();
            range.setStart(node, start);
            range.setEnd(node, start + "den gule lade".length);
            const selection = window.getSelection();
            selection.removeAllRanges();
            selection.addRange(range);
            p.closest("[data-answer-card]").focus();
        }""",
        free.id,
    )
    expect(page.locator(f"#answer-{free.id} [data-redact-selection]")).to_be_enabled()
    page.keyboard.press("r")
    expect(page.locator(f"#answer-{free.id} .answer-text")).to_have_text(
        "Glad 😀 for stien ved [fjernet], men den er mørk"
    )
    assert _text(session, free) == "Glad 😀 for stien ved [fjernet], men den er mørk"

    # j/k move between answers, "h" hides.
    page.locator(f"#answer-{phone.id}").focus()
    page.keyboard.press("j")
    page.keyboard.press("j")
    expect(page.locator(f"#answer-{rude.id}")).to_be_focused()
    page.keyboard.press("h")
    expect(page.locator(f"#answer-{rude.id}")).to_have_count(0)
    assert _status(session, rude) is AnswerStatus.HIDDEN

    # Bulk: select all, approve. The redacted answers are clean now, so both are approved.
    page.get_by_label("Vælg alle på siden").check()
    page.get_by_role("button", name="Godkend valgte").click()
    expect(page.locator(".alert-success")).to_contain_text("2 svar blev godkendt")
    assert _status(session, phone) is AnswerStatus.APPROVED
    assert _status(session, free) is AnswerStatus.APPROVED
    screenshot(page, "staff-moderation-done")

    # The public wall shows the redacted texts and never the removed spans.
    page.goto(f"{live_server}/w/godt-boerneliv")
    body = page.locator("body")
    expect(body).to_contain_text("Ring til mig på [fjernet]")
    expect(body).not_to_contain_text("22 33 44 55")
    expect(body).not_to_contain_text("Det hele er noget skrald")


def test_workspace_pages_look_right_and_pass_axe(
    live_server: str, desktop: Page, session: Session
) -> None:
    organisation = make_organisation(session, "bornholm", name="Bornholms Regionskommune")
    wall = make_wall(
        session,
        "unge-stemmer",
        organisation=organisation,
        title="Unge stemmer",
        prompts=("Hvad gør din hverdag god?", "Hvad står i vejen for et godt ungeliv?"),
    )
    wall.campaign.title = "De Små Børns Bornholm"
    session.commit()
    make_answer(session, wall, "Flere steder at mødes om aftenen")
    make_answer(
        session,
        wall,
        "Min lærer Jens er sej",
        status=AnswerStatus.PENDING,
        pii_findings=[{"kind": "name", "start": 10, "end": 14}],
    )
    admin = make_staff(session, organisation, "admin", email="admin@brk.dk", name="Anne Admin")
    page = desktop
    page.goto(f"{live_server}/staff/login")
    page.get_by_label("E-mail").fill(admin.email)
    page.get_by_label("Adgangskode").fill(STAFF_PASSWORD)
    page.get_by_role("button", name="Log ind").click()
    expect(page.get_by_role("heading", name="Kampagner")).to_be_visible()
    # The design system's stylesheet is applied (IBM Plex Sans from node_modules/dkfds).
    font = page.evaluate("getComputedStyle(document.body).fontFamily")
    assert "IBMPlexSans" in font.replace(" ", "")
    pages = [
        ("staff-dashboard", "/staff/"),
        ("staff-campaign", f"/staff/campaigns/{wall.campaign_id}"),
        ("staff-wall", f"/staff/walls/{wall.id}"),
        ("staff-wall-edit", f"/staff/walls/{wall.id}/edit"),
        ("staff-users", "/staff/users"),
        ("staff-audit", "/staff/audit"),
    ]
    for name, path in pages:
        page.goto(f"{live_server}{path}")
        check_axe(page, name)
        screenshot(page, name, full_page=True)
    page.goto(f"{live_server}/staff/walls/{wall.id}")
    page.get_by_label("Enhedens navn").fill("Biblioteket i Rønne")
    page.get_by_role("button", name="Opret enhed").click()
    expect(page.get_by_role("heading", name="Kioskenhed: Biblioteket i Rønne")).to_be_visible()
    expect(page.locator("img[src$='qr.svg']")).to_be_visible()
    check_axe(page, "kiosk device")
    screenshot(page, "staff-device")
