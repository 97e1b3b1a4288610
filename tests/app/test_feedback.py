"""Issue 24: staff's reply to one answer (under it on the wall) or to one published theme
(under it on "Det har vi hørt"): permissions, isolation, approval and publication, the
guard, edit, delete, the audit log and the page cache."""

from __future__ import annotations

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from surveys import feedback
from surveys import report as reports
from surveys.errors import InvalidInput
from surveys.models import AnswerStatus, AuditEntry, FeedbackReply, StaffRole
from tests.app.staff_helpers import login
from tests.app.test_publish_review import make_world as make_published_world
from tests.factories import make_answer, make_staff, make_wall

REPLY = "Tak! Vi sætter skygge op på legepladsen til sommer."


def _actions(session: Session) -> list[str]:
    actions = session.scalars(select(AuditEntry.action).order_by(AuditEntry.id))
    return [action for action in actions if action.startswith("feedback.")]


@pytest.fixture(params=[True, False], ids=["page-cache", "no-cache"])
def app_(request: pytest.FixtureRequest, make_app) -> Flask:  # type: ignore[no-untyped-def]
    return make_app(WALL_PAGE_CACHE=request.param)


def test_a_reply_under_an_answer_is_written_edited_and_deleted(
    app_: Flask, session: Session
) -> None:
    wall = make_wall(session, languages=["da", "en"])
    answer = make_answer(session, wall, "Mere skygge på legepladsen")
    other = make_answer(session, wall, "Flere bænke")
    staff = make_staff(session, wall.campaign.organisation, StaffRole.MANAGER)
    citizen, client = app_.test_client(), app_.test_client()
    login(client, staff)
    assert REPLY not in citizen.get(f"/w/{wall.slug}").get_data(as_text=True)

    page = client.get(f"/staff/answers/{answer.id}/reply")
    assert page.status_code == 200 and "Mere skygge på legepladsen" in page.get_data(as_text=True)
    response = client.post(
        f"/staff/answers/{answer.id}/reply", data={"text": REPLY, "text-en": "Thank you!"}
    )
    assert response.status_code == 303
    html = citizen.get(f"/w/{wall.slug}").get_data(as_text=True)
    note = html[html.index(f'id="svar-{answer.id}"') :]
    note = note[: note.index("</li>")]
    assert "Svar fra " in note and REPLY in note  # under its own answer only
    assert html.count(REPLY) == 1 and f'id="svar-{other.id}"' in html
    english = citizen.get(f"/w/{wall.slug}?lang=en").get_data(as_text=True)
    assert "Thank you!" in english

    client.post(f"/staff/answers/{answer.id}/reply", data={"text": "Skyggesejl kommer i maj."})
    html = citizen.get(f"/w/{wall.slug}").get_data(as_text=True)
    assert "Skyggesejl kommer i maj." in html and REPLY not in html
    assert session.scalar(select(FeedbackReply.text)) == "Skyggesejl kommer i maj."

    client.post(f"/staff/answers/{answer.id}/reply/delete")
    html = citizen.get(f"/w/{wall.slug}").get_data(as_text=True)
    assert "Skyggesejl" not in html and "Svar fra " not in html
    assert session.scalar(select(FeedbackReply)) is None
    assert _actions(session) == ["feedback.create", "feedback.update", "feedback.delete"]
    entries = list(
        session.scalars(
            select(AuditEntry)
            .where(AuditEntry.action.startswith("feedback."))
            .order_by(AuditEntry.id)
        )
    )
    assert entries[1].before == {"text": REPLY, "translations": {"en": "Thank you!"}}
    assert entries[2].before is not None and entries[2].before["text"] == "Skyggesejl kommer i maj."


def test_a_hidden_answer_shows_no_reply(app_: Flask, session: Session) -> None:
    wall = make_wall(session)
    answer = make_answer(session, wall, "Mere skygge")
    staff = make_staff(session, wall.campaign.organisation, StaffRole.MANAGER)
    feedback.save_answer_reply(session, staff, answer, REPLY)
    citizen = app_.test_client()
    assert REPLY in citizen.get(f"/w/{wall.slug}").get_data(as_text=True)
    answer.status = AnswerStatus.HIDDEN
    session.commit()
    assert REPLY not in citizen.get(f"/w/{wall.slug}").get_data(as_text=True)


def test_only_an_approved_answer_can_get_a_reply(client: FlaskClient, session: Session) -> None:
    wall = make_wall(session)
    waiting = make_answer(session, wall, "Venter", status=AnswerStatus.PENDING)
    staff = make_staff(session, wall.campaign.organisation, StaffRole.MANAGER)
    with pytest.raises(InvalidInput) as refused:
        feedback.save_answer_reply(session, staff, waiting, REPLY)
    assert refused.value.code == "answer_not_approved"
    session.rollback()
    login(client, staff)
    response = client.post(f"/staff/answers/{waiting.id}/reply", data={"text": REPLY})
    assert response.status_code == 400
    assert session.scalar(select(FeedbackReply)) is None


def test_the_guard_refuses_personal_data_in_a_reply(client: FlaskClient, session: Session) -> None:
    wall = make_wall(session)
    answer = make_answer(session, wall)
    staff = make_staff(session, wall.campaign.organisation, StaffRole.MANAGER)
    login(client, staff)
    response = client.post(
        f"/staff/answers/{answer.id}/reply",
        data={"text": "Ring til Lone på 22 33 44 55, så hjælper hun."},
    )
    html = response.get_data(as_text=True)
    assert response.status_code == 400 and "personoplysninger" in html
    assert "Ring til Lone" in html  # what was typed is kept
    assert session.scalar(select(FeedbackReply)) is None
    # ...in every language the wall offers.
    with pytest.raises(InvalidInput):
        feedback.save_answer_reply(session, staff, answer, REPLY, {"en": "Call 22 33 44 55"})


def test_another_organisations_answer_is_not_found(client: FlaskClient, session: Session) -> None:
    wall = make_wall(session)
    answer = make_answer(session, wall)
    outsider = make_staff(session, role=StaffRole.ADMIN)
    login(client, outsider)
    assert client.get(f"/staff/answers/{answer.id}/reply").status_code == 404
    assert client.post(f"/staff/answers/{answer.id}/reply", data={"text": REPLY}).status_code == 404
    assert client.post(f"/staff/answers/{answer.id}/reply/delete").status_code == 404
    assert session.scalar(select(FeedbackReply)) is None


@pytest.mark.parametrize("role", [StaffRole.MODERATOR, StaffRole.ANALYST, StaffRole.VIEWER])
def test_roles_without_reply_permission_are_refused(
    client: FlaskClient, session: Session, role: StaffRole
) -> None:
    wall = make_wall(session)
    answer = make_answer(session, wall)
    login(client, make_staff(session, wall.campaign.organisation, role))
    assert client.get(f"/staff/answers/{answer.id}/reply").status_code == 403
    assert client.post(f"/staff/answers/{answer.id}/reply", data={"text": REPLY}).status_code == 403
    assert session.scalar(select(FeedbackReply)) is None


def test_moderation_links_an_approved_answer_to_its_reply_page(
    client: FlaskClient, session: Session
) -> None:
    wall = make_wall(session)
    answer = make_answer(session, wall)
    waiting = make_answer(session, wall, "Venter", status=AnswerStatus.PENDING)
    login(client, make_staff(session, wall.campaign.organisation, StaffRole.MANAGER))
    html = client.get("/staff/moderation?status=all").get_data(as_text=True)
    assert f"/staff/answers/{answer.id}/reply" in html
    assert f"/staff/answers/{waiting.id}/reply" not in html


# --------------------------------------------------------------------------- themes


def _publish(session: Session, world) -> None:  # type: ignore[no-untyped-def]
    campaign = world.campaign
    campaign.published_at = campaign.created_at
    campaign.published_run_id = reports.campaign_run(session, campaign).id
    campaign.published_themes = {"t1": [world.good[0].id]}
    session.commit()


def test_a_reply_under_a_published_theme(client: FlaskClient, session: Session) -> None:
    world = make_published_world(session)
    campaign = world.campaign
    login(client, world.manager)
    base = f"/staff/campaigns/{campaign.id}/themes/t1"
    # Not published yet: refused, and the theme page says why.
    assert "Kun et offentliggjort tema" in client.get(base).get_data(as_text=True)
    client.post(f"{base}/reply", data={"text": REPLY})
    assert session.scalar(select(FeedbackReply)) is None

    _publish(session, world)
    client.post(f"{base}/reply", data={"text": REPLY})
    public = client.get(f"/c/{campaign.slug}/hoert").get_data(as_text=True)
    theme = public[public.index('id="tema-t1"') :]
    assert REPLY in theme[: theme.index("</section>")]
    assert REPLY in client.get(base).get_data(as_text=True)  # shown for editing
    # The unpublished theme t2 cannot carry one.
    client.post(f"/staff/campaigns/{campaign.id}/themes/t2/reply", data={"text": REPLY})
    assert session.scalars(select(FeedbackReply.theme_key)).all() == ["t1"]

    client.post(f"{base}/reply", data={"text": "Vi bygger en ny legeplads."})
    public = client.get(f"/c/{campaign.slug}/hoert").get_data(as_text=True)
    assert "Vi bygger en ny legeplads." in public and REPLY not in public
    client.post(f"{base}/reply", data={"text": "Skriv til Lone på lone@kommune.dk"})
    assert session.scalar(select(FeedbackReply.text)) == "Vi bygger en ny legeplads."
    client.post(f"{base}/reply/delete")
    assert "Vi bygger" not in client.get(f"/c/{campaign.slug}/hoert").get_data(as_text=True)
    assert _actions(session)[-3:] == ["feedback.create", "feedback.update", "feedback.delete"]


def test_another_organisation_cannot_reply_to_a_theme(
    client: FlaskClient, session: Session
) -> None:
    world = make_published_world(session)
    _publish(session, world)
    login(client, make_staff(session, role=StaffRole.ADMIN))
    url = f"/staff/campaigns/{world.campaign.id}/themes/t1/reply"
    assert client.post(url, data={"text": REPLY}).status_code == 404
    assert session.scalar(select(FeedbackReply)) is None
