"""In the browser (issue 24): the age question follows "I am"; "Enig" is named and undone."""

from __future__ import annotations

from playwright.sync_api import Page, expect
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from surveys.models import Answer, Audience, Reaction
from tests.factories import make_answer, make_wall

from .conftest import check_axe


def _reactions(session: Session) -> int:
    session.expire_all()
    return session.scalar(select(func.count()).select_from(Reaction)) or 0


def test_age_question_follows_the_role_on_a_wall_for_everyone(
    live_server: str, phone: Page, session: Session
) -> None:
    wall = make_wall(session, "alle", audience=Audience.EVERYONE)
    phone.goto(f"{live_server}/w/{wall.slug}")
    phone.get_by_text("Om dig (frivilligt)").click()
    role = phone.get_by_label("Jeg er")
    age = phone.locator("select[name=age_group]")
    expect(phone.get_by_label("Din alder eller dit barns alder")).to_be_visible()

    role.select_option(label="Ung")
    expect(phone.get_by_label("Din alder", exact=True)).to_be_visible()
    assert age.locator("option").all_inner_texts() == ["Vil ikke svare", "13–17 år", "18–24 år"]
    age.select_option("13-17")

    role.select_option(label="Kommende forælder")
    expect(age).to_be_hidden()

    role.select_option(label="Forælder")
    expect(phone.get_by_label("Dit barns alder")).to_be_visible()
    assert "0–2 år" in age.locator("option").all_inner_texts()
    assert age.input_value() == ""  # the young person's age did not carry over
    check_axe(phone, "about you after choosing a role")

    role.select_option(label="Ung")
    age.select_option("18-24")
    phone.get_by_role("textbox", name="Dit svar").fill("Et sted at være om aftenen")
    phone.get_by_role("button", name="Send svar").click()
    expect(phone.locator("#js-thanks")).to_be_visible()
    session.expire_all()
    answer = session.scalars(select(Answer)).one()
    assert answer.profile == {"role": "young", "age_group": "18-24"}


def test_enig_is_named_enig_with_the_count_as_description_and_can_be_taken_back(
    live_server: str, phone: Page, session: Session
) -> None:
    wall = make_wall(session, "enig-igen")
    make_answer(session, wall, "Gratis svømmehal for børn")
    phone.goto(f"{live_server}/w/enig-igen")
    button = phone.get_by_role("button", name="Enig", exact=True)
    expect(button).to_have_accessible_description("0 er enige")
    expect(button).to_have_attribute("aria-pressed", "false")

    button.click()
    expect(button).to_have_attribute("aria-pressed", "true")
    expect(button).to_have_accessible_description("1 er enige")
    assert _reactions(session) == 1

    button.click()  # pressed again: taken back
    expect(button).to_have_attribute("aria-pressed", "false")
    expect(button).to_have_accessible_description("0 er enige")
    assert _reactions(session) == 0

    # After a reload the page (from the page cache) shows it pressed, ready to take back.
    button.click()
    expect(button).to_have_attribute("aria-pressed", "true")
    phone.reload()
    expect(button).to_have_attribute("aria-pressed", "true")
    expect(button).to_have_attribute("value", "0")
