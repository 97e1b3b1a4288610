"""Publishing "Det har vi hørt" is a review: staff name each public theme, confirm its quotes
(never flagged by the guard, never with a swear word) and can preview the page (issue 24)."""

from __future__ import annotations

from dataclasses import dataclass

import pytest
from flask.testing import FlaskClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from surveys import report as reports
from surveys.errors import InvalidInput
from surveys.models import Answer, AnswerStatus, AuditEntry, Campaign, StaffRole, StaffUser, Theme
from surveys.profanity import has_profanity
from surveys.report import PublicChoice
from tests.app.staff_helpers import login, report_file
from tests.app.test_report import _pdf_text
from tests.factories import make_answer, make_staff, make_wall
from tests.surveys.test_report import make_run

ENGINE_LABEL = "mad · sove · kantine"


@dataclass
class World:
    campaign: Campaign
    manager: StaffUser
    good: list[Answer]
    profane: Answer
    flagged: Answer
    food: list[Answer]


def make_world(session: Session) -> World:
    """A named theme ("Legepladser") with a profane and a flagged member, and a theme that
    has only the engine's label."""
    wall = make_wall(session, slug="forslag", title="Forslagsvæggen")
    good = [make_answer(session, wall, f"Vi vil have en større legeplads nr {i}") for i in range(4)]
    profane = make_answer(session, wall, "Legepladsen er fucking kedelig og lortet er gammelt")
    flagged = make_answer(session, wall, "Ring til mig på 22 33 44 55 om legepladsen")
    flagged.pii_findings = [{"kind": "phone", "start": 13, "end": 24}]
    food = [make_answer(session, wall, f"Maden i kantinen er kold {i}") for i in range(3)]
    session.commit()
    run = make_run(
        session,
        wall.campaign,
        {"t1": [a.id for a in [profane, flagged, *good]], "t2": [a.id for a in food]},
        labels={"t1": "Legepladser"},
        representatives={"t1": [profane.id, flagged.id, good[0].id]},
    )
    mad = next(t for t in run.themes if t.key == "t2")
    mad.label = mad.auto_label = ENGINE_LABEL
    session.commit()
    manager = make_staff(session, wall.campaign.organisation, StaffRole.MANAGER)
    return World(wall.campaign, manager, good, profane, flagged, food)


def _base(world: World) -> str:
    return f"/staff/campaigns/{world.campaign.id}/report"


def test_profanity_list() -> None:
    for text in ("Det er FUCKING dårligt", "lortemad", "skolelort", "Sikke en idiot", "pis"):
        assert has_profanity(text), text
    for text in ("Pizza i kantinen", "Lorte", "Vi vil have en pikant sovs", "Hoppepuder"):
        assert has_profanity(text) is (text == "Lorte"), text


def test_the_report_and_its_pdf_never_quote_a_flagged_or_profane_answer(
    session: Session,
) -> None:
    world = make_world(session)
    report = reports.build_report(session, world.campaign)
    quoted = {q.answer_id for t in report.themes for q in t.quotes}
    assert world.good[0].id in quoted
    assert world.profane.id not in quoted and world.flagged.id not in quoted


def test_review_offers_named_themes_and_explains_quotes_that_cannot_be_used(
    client: FlaskClient, session: Session
) -> None:
    world = make_world(session)
    review = reports.publish_review(session, world.campaign)
    by_key = {t.key: t for t in review.themes}
    assert by_key["t1"].named and by_key["t1"].included
    assert not by_key["t2"].named and not by_key["t2"].included  # engine label only
    problems = {q.answer_id: q.problem for q in by_key["t1"].quotes}
    assert problems[world.profane.id] == "profanity"
    assert problems[world.flagged.id] == "flagged"
    assert problems[world.good[0].id] is None
    chosen = [q.answer_id for q in by_key["t1"].quotes if q.chosen]
    assert 0 < len(chosen) <= reports.PUBLIC_QUOTES
    assert world.profane.id not in chosen and world.flagged.id not in chosen

    login(client, world.manager)
    html = client.get(f"{_base(world)}/publish").get_data(as_text=True)
    assert "Mangler et navn" in html and f"Computerens forslag: {ENGINE_LABEL}" in html
    assert "Kan ikke være et citat: et bandeord." in html
    assert "Kan ikke være et citat: mulige personoplysninger." in html
    assert f'value="{world.profane.id}" disabled' in html
    assert f'name="quote-t1" value="{world.good[0].id}" checked' in html


def test_a_theme_with_only_the_engine_label_cannot_be_published(
    client: FlaskClient, session: Session
) -> None:
    world = make_world(session)
    with pytest.raises(InvalidInput) as error:
        reports.publish_report(
            session, world.manager, world.campaign, [PublicChoice("t1"), PublicChoice("t2")]
        )
    assert error.value.code == "unnamed_themes"
    login(client, world.manager)
    response = client.post(
        f"{_base(world)}/publish",
        data={
            "include": ["t1", "t2"],
            "name-t1": "Legepladser til alle",
            "quote-t1": [str(world.good[3].id)],
        },
    )
    # The review again, with the error and what staff chose and wrote kept.
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    assert "Giv disse temaer et navn, før I offentliggør dem" in page
    assert ENGINE_LABEL in page
    assert 'value="Legepladser til alle"' in page
    assert f'value="{world.good[3].id}" checked' in page
    assert f'value="{world.good[0].id}" checked' not in page
    assert 'id="include-t2" name="include" value="t2" checked' in page
    assert session.scalars(select(Theme.label).where(Theme.key == "t1")).one() == "Legepladser"
    session.refresh(world.campaign)
    assert world.campaign.published_at is None
    assert client.get("/c/" + world.campaign.slug + "/hoert").status_code == 404


def test_publishing_names_the_theme_and_shows_only_the_chosen_quotes(
    client: FlaskClient, session: Session
) -> None:
    world = make_world(session)
    login(client, world.manager)
    chosen = [world.good[1].id, world.good[2].id]
    response = client.post(
        f"{_base(world)}/publish",
        data={
            "include": ["t1", "t2"],
            "name-t2": "Bedre mad i kantinen",
            "quote-t1": [str(i) for i in chosen],
            "quote-t2": [str(world.food[0].id)],
        },
    )
    assert response.status_code == 303 and response.headers["Location"].endswith("/report")
    # See what the app wrote: end the test's read transaction (if one began) and forget the
    # objects it loaded (a rollback with no transaction expires nothing).
    session.rollback()
    session.expire_all()
    mad = session.scalars(select(Theme).where(Theme.key == "t2")).one()
    assert mad.label == "Bedre mad i kantinen"
    actions = session.scalars(select(AuditEntry.action).order_by(AuditEntry.id)).all()
    assert actions[-2:] == ["theme.rename", "campaign.publish"]
    session.refresh(world.campaign)
    assert world.campaign.published_themes == {"t1": chosen, "t2": [world.food[0].id]}
    client.post("/staff/logout")

    html = client.get(f"/c/{world.campaign.slug}/hoert").get_data(as_text=True)
    assert "Legepladser" in html and "Bedre mad i kantinen" in html
    assert ENGINE_LABEL not in html
    assert world.good[1].text in html and world.good[2].text in html
    assert world.good[0].text not in html and world.food[1].text not in html
    assert "fucking" not in html and "22 33 44 55" not in html

    # A chosen quote hidden later disappears from the page.
    world.good[1].status = AnswerStatus.HIDDEN
    session.commit()
    html = client.get(f"/c/{world.campaign.slug}/hoert").get_data(as_text=True)
    assert world.good[1].text not in html and world.good[2].text in html


@pytest.mark.parametrize("bad", ["profane", "flagged", "outsider"])
def test_a_quote_staff_cannot_publish_is_refused(
    client: FlaskClient, session: Session, bad: str
) -> None:
    world = make_world(session)
    answer_id = {
        "profane": world.profane.id,
        "flagged": world.flagged.id,
        "outsider": world.food[0].id,  # not an answer of the theme
    }[bad]
    login(client, world.manager)
    response = client.post(
        f"{_base(world)}/publish", data={"include": "t1", "quote-t1": str(answer_id)}
    )
    assert response.status_code == 200
    assert "Et citat kan ikke offentliggøres" in response.get_data(as_text=True)
    session.refresh(world.campaign)
    assert world.campaign.published_at is None


def test_preview_shows_what_citizens_will_see_without_publishing(
    client: FlaskClient, session: Session
) -> None:
    world = make_world(session)
    login(client, world.manager)
    response = client.post(
        f"{_base(world)}/preview",
        data={
            "include": ["t1", "t2"],
            "name-t2": "Bedre mad i kantinen",
            "quote-t1": [str(world.good[3].id)],
        },
    )
    assert response.status_code == 200
    assert response.headers["X-Robots-Tag"] == "noindex"
    html = response.get_data(as_text=True)
    assert "Forhåndsvisning – ikke offentlig." in html and 'content="noindex"' in html
    assert "Det har vi hørt" in html and "Bedre mad i kantinen" in html
    assert world.good[3].text in html and world.good[0].text not in html
    assert ENGINE_LABEL not in html
    session.refresh(world.campaign)
    assert world.campaign.published_at is None
    # See what the app wrote: end the test's read transaction (if one began) and forget the
    # objects it loaded (a rollback with no transaction expires nothing).
    session.rollback()
    session.expire_all()
    mad = session.scalars(select(Theme).where(Theme.key == "t2")).one()
    assert mad.label == ENGINE_LABEL  # nothing saved
    assert client.get(f"/c/{world.campaign.slug}/hoert").status_code == 404
    # The same rules as publishing: an unnamed theme is refused.
    response = client.post(f"{_base(world)}/preview", data={"include": "t2"})
    assert response.status_code == 200 and "Forhåndsvisning" not in response.get_data(as_text=True)


def test_a_page_published_before_the_review_shows_only_named_themes(session: Session) -> None:
    world = make_world(session)
    world.campaign.published_at = world.campaign.created_at
    world.campaign.published_run_id = reports.campaign_run(session, world.campaign).id
    session.commit()
    public = reports.build_public_report(session, world.campaign.slug)
    assert [t.label for t in public.themes] == ["Legepladser"]
    quoted = {q.answer_id for q in public.themes[0].quotes}
    assert quoted and world.profane.id not in quoted and world.flagged.id not in quoted


def test_the_report_and_pdf_mark_a_name_staff_have_not_given(
    client: FlaskClient, session: Session
) -> None:
    world = make_world(session)
    login(client, world.manager)
    html = client.get(_base(world)).get_data(as_text=True)
    assert html.count("Navnet er computerens forslag") == 1  # the engine-named theme only
    text = _pdf_text(report_file(client, world.campaign.id, "pdf").data)
    assert "Navnet er computerens forslag" in text
    assert "fucking" not in text and "22 33 44 55" not in text
