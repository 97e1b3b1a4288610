"""Answering a wall in a real browser, as a parent on a phone would."""

from __future__ import annotations

from playwright.sync_api import Page, Route, expect
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from surveys.models import Answer, Channel, Moderation, Reaction
from tests.factories import make_answer, make_wall

from .conftest import screenshot

QUEUED = "Gemt – sendes, når der er forbindelse"
KEPT = "Dit svar er gemt på denne enhed og sendes, når der er forbindelse."


def _answers(session: Session) -> list[Answer]:
    session.expire_all()
    return list(session.scalars(select(Answer).order_by(Answer.id)))


def _wait_for_answers(page: Page, session: Session, count: int) -> list[Answer]:
    """Poll the database (through the page's clock, no fixed sleeps) until ``count`` exist."""
    for _ in range(50):
        answers = _answers(session)
        if len(answers) >= count:
            return answers
        page.wait_for_timeout(100)
    return _answers(session)


def test_answer_on_a_phone(live_server: str, phone: Page, session: Session) -> None:
    wall = make_wall(session, "godt-boerneliv", title="Det gode børneliv")
    make_answer(session, wall, "Legepladsen ved havnen er fantastisk 🌳")
    phone.goto(f"{live_server}/w/godt-boerneliv")
    expect(phone.locator("h1")).to_have_text("Det gode børneliv")
    screenshot(phone, "wall-phone")

    phone.get_by_label(wall.prompts[1].text).check()
    phone.get_by_role("textbox", name="Dit svar").fill("Flere voksne i børnehaven, tak ❤️")
    expect(phone.locator("#text-counter")).to_have_text("33 af 1.000 tegn")
    phone.get_by_text("Om dig (frivilligt)").click()
    phone.get_by_label("Jeg er").select_option("parent")
    phone.get_by_role("button", name="Send svar").click()

    thanks = phone.locator("#js-thanks")
    expect(thanks.get_by_role("heading", name="Tak for dit svar")).to_be_visible()
    expect(thanks.locator(".note-text")).to_have_text("Flere voksne i børnehaven, tak ❤️")
    expect(thanks.locator(".thanks-status")).to_contain_text("når en medarbejder har læst det")
    expect(thanks).to_be_focused()
    screenshot(phone, "thanks-phone")
    stored = _wait_for_answers(phone, session, 2)[1:]
    assert [(a.prompt_id, a.role, a.channel) for a in stored] == [
        (wall.prompts[1].id, "parent", Channel.WEB)
    ]

    # Straight on to the next question, with "om dig" kept for the same person.
    phone.get_by_role("button", name="Næste spørgsmål").click()
    expect(phone.get_by_label(wall.prompts[0].text)).to_be_checked()
    expect(phone.get_by_role("textbox", name="Dit svar")).to_have_value("")
    expect(phone.get_by_label("Jeg er")).to_have_value("parent")
    phone.get_by_role("textbox", name="Dit svar").fill("Gode stier til barnevogne")
    phone.get_by_role("button", name="Send svar").click()
    expect(thanks.locator(".note-text")).to_have_text("Gode stier til barnevogne")
    # Both prompts answered: no "next" offered any more.
    expect(phone.get_by_role("button", name="Næste spørgsmål")).to_be_hidden()
    stored = _wait_for_answers(phone, session, 3)
    assert len({a.client_submission_id for a in stored}) == 3


def test_text_is_readable_and_targets_large_on_a_phone(
    live_server: str, phone: Page, session: Session
) -> None:
    wall = make_wall(session, "godt-boerneliv")
    make_answer(session, wall)
    phone.goto(f"{live_server}/w/godt-boerneliv")
    body_size = phone.evaluate("parseFloat(getComputedStyle(document.body).fontSize)")
    assert body_size >= 16
    phone.get_by_text("Om dig (frivilligt)").click()
    small = phone.evaluate(
        """() => [...document.querySelectorAll(
                'button, select, textarea, summary, .prompt-choice, .language-switch a')]
              .filter(e => e.offsetParent !== null)
              .map(e => e.getBoundingClientRect())
              .filter(r => r.height < 44).length"""
    )
    assert small == 0
    tiny_text = phone.evaluate(
        """() => [...document.querySelectorAll('p, label, legend, button, a, summary, li')]
              .filter(e => e.offsetParent !== null && e.textContent.trim())
              .filter(e => parseFloat(getComputedStyle(e).fontSize) < 15.9)
              .map(e => e.className || e.tagName)"""
    )
    assert tiny_text == []
    overflow = phone.evaluate("document.documentElement.scrollWidth > window.innerWidth")
    assert not overflow


def test_character_counter_and_too_long_answer(
    live_server: str, phone: Page, session: Session
) -> None:
    make_wall(session, "tegn")
    phone.goto(f"{live_server}/w/tegn")
    box = phone.get_by_role("textbox", name="Dit svar")
    expect(phone.locator("#text-counter")).to_have_text("0 af 1.000 tegn")
    box.fill("x" * 1005)  # a paste is not cut off silently: the counter says what is too much
    expect(phone.locator("#text-counter")).to_have_text("5 tegn for meget")
    expect(phone.locator("#text-counter")).to_have_class("counter is-over")
    expect(phone.locator("#text-counter-status")).to_have_text("5 tegn for meget")
    phone.get_by_role("button", name="Send svar").click()
    expect(phone.locator(".field-error")).to_have_text("Svaret er for langt: højst 1.000 tegn.")
    expect(box).to_have_attribute("aria-invalid", "true")
    expect(box).to_be_focused()
    assert _answers(session) == []


def test_keyboard_only_submission(live_server: str, phone: Page, session: Session) -> None:
    make_wall(session, "tastatur")
    phone.goto(f"{live_server}/w/tastatur")
    phone.keyboard.press("Tab")  # skip link
    expect(phone.locator(".skip-link")).to_be_focused()
    for _ in range(30):
        phone.keyboard.press("Tab")
        if phone.evaluate("document.activeElement.tagName") == "TEXTAREA":
            break
    phone.keyboard.type("Svar skrevet kun med tastaturet")
    for _ in range(10):
        phone.keyboard.press("Tab")
        if phone.evaluate("document.activeElement.type") == "submit":
            break
    phone.keyboard.press("Enter")
    expect(phone.get_by_role("heading", name="Tak for dit svar")).to_be_visible()
    expect(phone.locator("#js-thanks")).to_be_focused()
    phone.keyboard.press("Tab")
    expect(phone.get_by_role("button", name="Næste spørgsmål")).to_be_focused()
    phone.keyboard.press("Enter")
    expect(phone.get_by_role("radio").nth(1)).to_be_focused()
    assert [a.text for a in _wait_for_answers(phone, session, 1)] == [
        "Svar skrevet kun med tastaturet"
    ]


def test_empty_answer_shows_error(live_server: str, phone: Page, session: Session) -> None:
    make_wall(session, "tom")
    phone.goto(f"{live_server}/w/tom")
    phone.get_by_role("button", name="Send svar").click()
    expect(phone.locator(".field-error")).to_contain_text("Skriv venligst et svar")
    expect(phone.get_by_role("textbox", name="Dit svar")).to_have_attribute("aria-invalid", "true")
    assert _answers(session) == []


def test_plain_form_works_without_javascript(
    live_server: str, no_js_phone: Page, session: Session
) -> None:
    wall = make_wall(session, "uden-js", moderation=Moderation.POST)
    no_js_phone.goto(f"{live_server}/w/uden-js")
    no_js_phone.get_by_role("button", name="Send svar").click()
    expect(no_js_phone.locator(".error-summary")).to_contain_text("Skriv venligst et svar")
    no_js_phone.get_by_label(wall.prompts[1].text).check()
    no_js_phone.get_by_role("textbox", name="Dit svar").fill("Det virker også uden JavaScript")
    no_js_phone.get_by_role("button", name="Send svar").click()
    expect(no_js_phone.locator("h1")).to_have_text("Tak for dit svar")
    expect(no_js_phone.locator(".note-own .note-text")).to_have_text(
        "Det virker også uden JavaScript"
    )
    expect(no_js_phone.get_by_text("Dit svar er nu på væggen.")).to_be_visible()
    # The guided flow: the next question is one tap away.
    no_js_phone.get_by_role("link", name=wall.prompts[0].text).click()
    expect(no_js_phone.get_by_label(wall.prompts[0].text)).to_be_checked()
    assert [a.channel for a in _answers(session)] == [Channel.WEB]


def test_three_answers_written_offline_arrive_exactly_once(
    live_server: str, phone: Page, session: Session
) -> None:
    wall = make_wall(session, "offline", prompts=("Hvad er godt?", "Hvad mangler?", "Hvem?"))
    phone.goto(f"{live_server}/w/offline")
    expect(phone.locator("#text-counter")).to_be_visible()  # the script is running
    phone.context.set_offline(True)
    status = phone.locator("#outbox-status")
    texts = ["Første svar uden net", "Andet svar uden net", "Tredje svar uden net"]
    for number, text in enumerate(texts, start=1):
        phone.get_by_role("textbox", name="Dit svar").fill(text)
        phone.get_by_role("button", name="Send svar").click()
        expect(phone.locator("#js-thanks .thanks-status")).to_have_text(KEPT)
        expect(phone.locator("#js-thanks .note-text")).to_have_text(text)
        expect(status).to_contain_text(QUEUED)
        if number > 1:
            expect(status).to_contain_text(f"{number} svar venter")
        if number < len(texts):
            phone.get_by_role("button", name="Næste spørgsmål").click()
    assert _answers(session) == []
    kept = phone.evaluate("JSON.parse(localStorage.getItem('stemmer-outbox-v1')).length")
    assert kept == 3

    phone.context.set_offline(False)
    expect(status).to_have_text("Dine gemte svar er sendt.")
    expect(phone.locator("#js-thanks .thanks-status")).to_contain_text("når en medarbejder")
    stored = _wait_for_answers(phone, session, 3)
    assert sorted(a.text for a in stored) == sorted(texts)
    assert {a.prompt_id for a in stored} == {p.id for p in wall.prompts}
    # Nothing is left to send, and another round of sending (or a reload) adds nothing.
    assert phone.evaluate("localStorage.getItem('stemmer-outbox-v1')") == "[]"
    phone.evaluate("Stemmer.outbox.flush()")
    phone.reload()
    expect(phone.locator("#text-counter")).to_be_visible()
    assert len(_answers(session)) == 3


def test_lost_response_is_retried_without_a_duplicate(
    live_server: str, phone: Page, session: Session
) -> None:
    make_wall(session, "tabt-svar")
    lost: list[int] = []

    def lose_first_response(route: Route) -> None:
        if not lost:
            response = route.fetch()  # the server stores the answer ...
            lost.append(response.status)
            route.abort("connectionreset")  # ... but the phone never hears back
        else:
            route.continue_()

    phone.route("**/api/v1/walls/tabt-svar/answers", lose_first_response)
    phone.goto(f"{live_server}/w/tabt-svar")
    phone.get_by_role("textbox", name="Dit svar").fill("Svar på et dårligt netværk")
    phone.get_by_role("button", name="Send svar").click()
    expect(phone.locator("#js-thanks .thanks-status")).to_have_text(KEPT)
    assert lost == [201]
    assert len(_answers(session)) == 1
    phone.evaluate("Stemmer.outbox.flush()")
    expect(phone.locator("#outbox-status")).to_have_text("Dine gemte svar er sendt.")
    assert [a.text for a in _answers(session)] == ["Svar på et dårligt netværk"]


def test_agree_once_per_device_without_reload(
    live_server: str, phone: Page, session: Session
) -> None:
    wall = make_wall(session, "enig")
    answer = make_answer(session, wall, "Gratis svømmehal for børn")
    phone.goto(f"{live_server}/w/enig")
    button = phone.locator(f"#svar-{answer.id} .agree-button")
    expect(button).to_have_attribute("aria-pressed", "false")
    button.click()
    expect(button).to_have_attribute("aria-pressed", "true")
    expect(button.locator(".agree-count")).to_have_text("1")
    button.click()  # pressed again: the "enig" is taken back (issue 24)
    expect(button).to_have_attribute("aria-pressed", "false")
    expect(button.locator(".agree-count")).to_have_text("0")
    button.click()
    expect(button).to_have_attribute("aria-pressed", "true")
    phone.reload()
    expect(button).to_have_attribute("aria-pressed", "true")
    expect(button.locator(".agree-count")).to_have_text("1")
    session.expire_all()
    assert session.scalar(select(func.count()).select_from(Reaction)) == 1
