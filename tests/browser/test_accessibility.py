"""WCAG 2.1 AA with axe-core on every participant page, at phone, tablet and projector size.

Each page is checked in the states a participant sees (form, error, thanks, warnings), and
screenshots of them are kept in build/screenshots.
"""

from __future__ import annotations

from playwright.sync_api import Browser, Page, expect
from sqlalchemy.orm import Session

from surveys.kiosk import create_device, revoke_device
from surveys.models import Moderation, WallReply
from tests.factories import make_answer, make_wall

from .conftest import PHONE, check_axe, collect_errors, screenshot


def _wall_with_content(session: Session, slug: str = "godt-boerneliv", **fields: object):
    wall = make_wall(
        session,
        slug,
        title="Det gode børneliv",
        intro="Vi vil gerne høre fra forældre og alle, der har med små børn at gøre.",
        prompts=(
            "Hvad er det gode børneliv her?",
            "Hvad skal der gøres mere eller mindre af?",
            "Hvilke tilbud drømmer du om?",
        ),
        **fields,
    )
    for text in (
        "Legepladsen ved havnen er fantastisk, men der mangler skygge om sommeren.",
        "Flere voksne i vuggestuen, så der er tid til hvert barn.",
        "Åbne haller i weekenden – det ville betyde meget for os.",
    ):
        make_answer(session, wall, text)
    session.add(
        WallReply(
            wall_id=wall.id,
            text="Tak for de mange svar! Vi sætter skyggesejl op på tre legepladser i foråret.",
        )
    )
    session.commit()
    return wall


def test_phone_pages_have_no_axe_violations(
    live_server: str, phone: Page, session: Session
) -> None:
    wall = _wall_with_content(session)
    errors = collect_errors(phone)
    phone.goto(f"{live_server}/w/{wall.slug}")
    check_axe(phone, "wall")
    phone.get_by_text("Om dig (frivilligt)").click()
    phone.get_by_role("button", name="Send svar").click()
    expect(phone.locator(".field-error")).to_be_visible()
    check_axe(phone, "wall with an error")
    phone.get_by_role("textbox", name="Dit svar").fill("Flere bænke ved legepladsen")
    phone.get_by_role("button", name="Send svar").click()
    expect(phone.locator("#js-thanks")).to_be_visible()
    check_axe(phone, "thanks on the wall")
    screenshot(phone, "thanks-in-place-phone")

    for path, label in (
        ("/tilgaengelighed", "accessibility statement"),
        ("/", "front page"),
        ("/w/findes-ikke", "404 page"),
        (f"/w/{wall.slug}/poster", "poster (phone)"),
    ):
        phone.goto(live_server + path)
        check_axe(phone, label)
    screenshot(phone, "error-404-phone")
    assert errors == []


def test_pages_without_javascript_have_no_axe_violations(
    live_server: str, scriptless_phone: Page, session: Session
) -> None:
    wall = _wall_with_content(session, "uden-js", moderation=Moderation.POST)
    page = scriptless_phone
    page.goto(f"{live_server}/w/{wall.slug}")
    page.get_by_role("button", name="Send svar").click()
    expect(page.locator(".error-summary")).to_be_visible()
    check_axe(page, "server error summary")
    page.get_by_role("textbox", name="Dit svar").fill("Skov og strand tæt på")
    page.get_by_role("button", name="Send svar").click()
    expect(page.locator("h1")).to_have_text("Tak for dit svar")
    check_axe(page, "thank-you page")
    screenshot(page, "thanks-page-phone", full_page=True)

    closed = make_wall(session, "lukket", closes_at=wall.created_at)
    response = page.goto(f"{live_server}/w/{closed.slug}")
    assert response is not None and response.status == 410
    check_axe(page, "closed wall")

    device = create_device(session, wall, "Sundhedsplejen")
    page.goto(f"{live_server}/kiosk/{wall.slug}?device={device.token}")
    page.get_by_label(wall.prompts[0].text).check()
    page.get_by_role("textbox", name="Dit svar").fill("Gode stier")
    page.get_by_role("button", name="Send svar").click()
    expect(page.locator("h1")).to_have_text("Tak for dit svar")
    check_axe(page, "kiosk thank-you page without JavaScript")


def test_kiosk_pages_have_no_axe_violations(
    live_server: str, tablet: Page, session: Session
) -> None:
    wall = _wall_with_content(session)
    device = create_device(session, wall, "Biblioteket")
    device.idle_seconds = 3  # to see the "still there?" warning quickly
    session.commit()
    errors = collect_errors(tablet)
    tablet.goto(f"{live_server}/kiosk/{wall.slug}?device={device.token}")
    check_axe(tablet, "kiosk start")
    tablet.get_by_role("button", name=wall.prompts[0].text).click()
    tablet.get_by_text("Om dig (frivilligt)").click()
    tablet.get_by_role("textbox", name="Dit svar").fill("Mere tid til leg ude")
    check_axe(tablet, "kiosk writing")
    expect(tablet.get_by_role("alertdialog")).to_be_visible()
    check_axe(tablet, "kiosk idle warning")
    tablet.get_by_role("button", name="Ja, jeg er her stadig").click()
    tablet.get_by_role("button", name="Send svar").click()
    expect(tablet.locator("#kiosk-thanks")).to_be_visible()
    check_axe(tablet, "kiosk thanks")

    response = tablet.goto(f"{live_server}/kiosk/{wall.slug}?device=forkert")
    assert response is not None and response.status == 404
    check_axe(tablet, "kiosk unknown token")
    screenshot(tablet, "kiosk-invalid-tablet")
    revoke_device(session, device)
    response = tablet.goto(f"{live_server}/kiosk/{wall.slug}?device={device.token}")
    assert response is not None and response.status == 410
    check_axe(tablet, "kiosk revoked")

    tablet.goto(f"{live_server}/w/{wall.slug}")
    check_axe(tablet, "wall at tablet size")
    screenshot(tablet, "wall-tablet")
    assert errors == []


def test_live_and_poster_have_no_axe_violations(
    live_server: str, projector: Page, browser: Browser, session: Session
) -> None:
    wall = _wall_with_content(session)
    errors = collect_errors(projector)
    projector.goto(f"{live_server}/live/{wall.slug}")
    expect(projector.locator(".live-note")).to_have_count(3)
    check_axe(projector, "live view")
    projector.goto(f"{live_server}/live/{wall.slug}?prompt={wall.prompts[0].id}")
    check_axe(projector, "live view filtered")
    projector.goto(f"{live_server}/live/findes-ikke")
    check_axe(projector, "live 404")
    assert errors == []

    context = browser.new_context(viewport={"width": 900, "height": 1300}, locale="da-DK")
    try:
        page = context.new_page()
        page.goto(f"{live_server}/w/{wall.slug}/poster")
        check_axe(page, "poster")
        screenshot(page, "poster-a4", full_page=True)
        page.goto(f"{live_server}/w/{wall.slug}/poster?prompt={wall.prompts[1].id}")
        check_axe(page, "poster for one prompt")
    finally:
        context.close()


def test_poster_prints_on_one_a4_page(live_server: str, browser: Browser, session: Session) -> None:
    wall = _wall_with_content(session)
    context = browser.new_context(viewport=PHONE)
    try:
        page = context.new_page()
        page.goto(f"{live_server}/w/{wall.slug}/poster")
        pdf = page.pdf(format="A4", prefer_css_page_size=True, print_background=True)
    finally:
        context.close()
    pages = pdf.count(b"/Type /Page") - pdf.count(b"/Type /Pages")
    assert pages == 1
