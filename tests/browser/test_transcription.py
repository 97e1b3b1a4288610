"""Typing a stack of sticky notes in a real browser: Enter saves, the focus stays in the field,
nothing typed quickly is lost, and the last notes can be corrected or deleted."""

from __future__ import annotations

import functools
import time
from collections.abc import Iterator
from datetime import date

import pytest
from flask import Flask, request
from playwright.sync_api import Browser, Page, expect
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from surveys.models import Answer, AnswerStatus, Channel
from tests.factories import STAFF_PASSWORD, make_organisation, make_staff, make_wall

from .conftest import check_axe, screenshot

NOTES = [
    "Flere bænke ved legepladsen",
    "Gratis svømning om søndagen",
    "Et sted at være efter skole",
    "Ring til mig på 22 33 44 55",
    "Mere lys på stien til hallen",
    "Flere voksne i skolegården",
    "Bedre cykelstier til skolen",
    "Flere bænke ved legepladsen",  # typed twice: saved, and marked as a possible duplicate
    "Åben hal om fredagen 🏀",
    "Billigere busbilletter for unge",
    "Grønne områder og æbletræer",
    "Tid til at lege ude",
]


@pytest.fixture
def desktop(browser: Browser) -> Iterator[Page]:
    """A desktop-sized page in Danish; fails the test on console errors (e.g. CSP)."""
    context = browser.new_context(viewport={"width": 1280, "height": 900}, locale="da-DK")
    context.set_default_timeout(10000)
    page = context.new_page()
    errors: list[str] = []
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda error: errors.append(str(error)))
    yield page
    context.close()
    assert errors == [], errors


def _count(session: Session, wall_id: int) -> int:
    session.expire_all()
    return session.scalar(select(func.count()).where(Answer.wall_id == wall_id)) or 0


def _wait_for_count(session: Session, wall_id: int, expected: int) -> None:
    deadline = time.monotonic() + 10
    while _count(session, wall_id) != expected and time.monotonic() < deadline:
        time.sleep(0.05)
    assert _count(session, wall_id) == expected


def test_typing_a_stack_of_sticky_notes(live_server: str, desktop: Page, session: Session) -> None:
    organisation = make_organisation(session, "bornholm", name="Bornholms Regionskommune")
    wall = make_wall(session, "sommerfest", organisation=organisation, title="Sommerfesten")
    moderator = make_staff(session, organisation, "moderator", email="sofie@brk.dk")
    page = desktop

    page.goto(f"{live_server}/staff/walls/{wall.id}/transcribe")
    page.get_by_label("E-mail").fill(moderator.email)
    page.get_by_label("Adgangskode").fill(STAFF_PASSWORD)
    page.get_by_role("button", name="Log ind").click()
    expect(page.get_by_role("heading", name="Skriv papirsvar ind")).to_be_visible()

    # The batch: question, place, date and an area, chosen once.
    page.get_by_label("Spørgsmål").select_option(str(wall.prompts[1].id))
    page.get_by_label("Arrangement eller sted").fill("Ungdomsklubben")
    page.get_by_label("Dato skrevet på væggen").fill("2025-05-24")
    page.get_by_label("Område").select_option("Nexø")
    check_axe(page, "transcription batch")
    page.get_by_role("button", name="Begynd at skrive").click()

    field = page.get_by_label("Sedlens tekst")
    expect(field).to_be_focused()
    check_axe(page, "transcription")

    # Type the stack as fast as the keyboard goes, never waiting for the server.
    started = time.monotonic()
    for text in NOTES:
        page.keyboard.type(text)
        page.keyboard.press("Enter")
        expect(field).to_have_value("")
        expect(field).to_be_focused()
    _wait_for_count(session, wall.id, len(NOTES))
    elapsed = time.monotonic() - started
    print(f"\n{len(NOTES)} notes typed and saved in {elapsed:.1f} s")

    notes = page.locator("#notes > li")
    expect(notes).to_have_count(10)  # the last ten stay visible, newest first
    expect(notes.first.locator("input[name=text]")).to_have_value(NOTES[-1])
    stored = session.scalars(select(Answer).order_by(Answer.id)).all()
    # Each note is sent in the background as soon as Enter is pressed; under load they may be
    # stored in another order, but every note exactly once.
    assert sorted(a.text for a in stored) == sorted(NOTES)
    assert {(a.channel, a.place, a.written_on, a.area, a.prompt_id) for a in stored} == {
        (Channel.PAPER, "Ungdomsklubben", date(2025, 5, 24), "Nexø", wall.prompts[1].id)
    }
    assert all(a.status is AnswerStatus.PENDING for a in stored)  # a pre-moderated wall
    by_text = {a.text: a for a in stored}  # (the note typed twice: either of the two)
    assert [f["kind"] for f in by_text[NOTES[3]].pii_findings] == ["phone"]
    screenshot(page, "staff-transcription", full_page=True)

    # Correct a typo in the newest note; the page comes back ready for the next note.
    newest = notes.first
    newest.locator("input[name=text]").fill("Tid til at lege ude – hver dag")
    newest.get_by_role("button", name="Ret").click()
    expect(page.get_by_text("Sedlen blev rettet.")).to_be_visible()
    expect(field).to_be_focused()
    session.expire_all()
    assert session.get(Answer, by_text[NOTES[-1]].id).text == "Tid til at lege ude – hver dag"

    # Delete the note that was typed twice (its second copy is among the last ten shown).
    twice = [a.id for a in stored if a.text == NOTES[7]]
    shown = [i for i in twice if page.locator(f"#note-{i}").count()]
    assert len(twice) == 2 and len(shown) == 1
    duplicate = page.locator(f"#note-{shown[0]}")
    duplicate.get_by_role("button", name="Slet").click()
    expect(page.get_by_text("Sedlen blev slettet.")).to_be_visible()
    expect(page.locator(f"#note-{shown[0]}")).to_have_count(0)
    assert _count(session, wall.id) == len(NOTES) - 1

    # Typing the same text again says so, and the field is still ready.
    field.fill("mere lys på stien til  hallen")
    page.keyboard.press("Enter")
    expect(page.locator("#note-status")).to_contain_text("Samme tekst er allerede gemt")
    expect(field).to_be_focused()
    _wait_for_count(session, wall.id, len(NOTES))


def test_notes_stay_in_typed_order_when_the_server_answers_out_of_order(
    app: Flask, live_server: str, desktop: Page, session: Session
) -> None:
    organisation = make_organisation(session, "orden", name="Ordenskommune")
    wall = make_wall(session, "orden", organisation=organisation)
    moderator = make_staff(session, organisation, "moderator", email="ole@orden.dk")
    view = app.view_functions["staff.transcribe"]

    @functools.wraps(view)  # keeps the permission the staff guard reads from the view
    def slow_first(*args: object, **kwargs: object) -> object:
        if request.method == "POST" and request.form.get("text") == "Først":
            time.sleep(1.0)  # the first note's answer arrives after the later ones
        return view(*args, **kwargs)

    app.view_functions["staff.transcribe"] = slow_first
    page = desktop
    page.goto(f"{live_server}/staff/walls/{wall.id}/transcribe")
    page.get_by_label("E-mail").fill(moderator.email)
    page.get_by_label("Adgangskode").fill(STAFF_PASSWORD)
    page.get_by_role("button", name="Log ind").click()
    page.get_by_role("button", name="Begynd at skrive").click()
    field = page.get_by_label("Sedlens tekst")
    for text in ("Først", "Dernæst", "Til sidst"):
        field.fill(text)
        page.keyboard.press("Enter")
        expect(field).to_have_value("")
    notes = page.locator("#notes > li")
    # At once, in typed order (newest first), before the server has answered the first.
    expect(notes).to_have_count(3)
    expect(notes).to_contain_text(["Til sidst", "Dernæst", "Først"])
    _wait_for_count(session, wall.id, 3)
    texts = notes.locator("input[name=text]")
    expect(texts).to_have_count(3)
    for position, text in enumerate(("Til sidst", "Dernæst", "Først")):
        expect(texts.nth(position)).to_have_value(text)
