"""The moderation queue through the pages: highlights, actions, bulk, redaction."""

from __future__ import annotations

from flask.testing import FlaskClient
from sqlalchemy.orm import Session

from surveys import moderation
from surveys.models import Answer, AnswerStatus
from tests.app.staff_helpers import login, make_world
from tests.factories import make_answer, make_staff, make_wall


def test_queue_highlights_personal_data(client: FlaskClient, session: Session) -> None:
    world = make_world(session, "queue")
    login(client, make_staff(session, world.organisation, "moderator"))
    html = client.get("/staff/moderation").get_data(as_text=True)
    assert "Flere bænke ved legepladsen" in html
    assert (
        'Ring til mig på <mark class="pii pii-phone" title="Telefonnummer">22 33 44 55</mark></p>'
        in html
    )
    assert "Mulige personoplysninger" in html
    assert 'aria-keyshortcuts="a"' in html and "/static/staff/staff.js" in html


def test_filters(client: FlaskClient, session: Session) -> None:
    world = make_world(session, "filters")
    other_wall = make_wall(session, campaign=world.campaign, title="Anden væg")
    make_answer(session, other_wall, "Svar på den anden væg", status=AnswerStatus.PENDING)
    make_answer(session, world.wall, "Allerede godkendt")
    login(client, world.admin)

    def texts(**query) -> str:
        return client.get("/staff/moderation", query_string=query).get_data(as_text=True)

    assert "Svar på den anden væg" not in texts(wall=world.wall.id)
    assert "Svar på den anden væg" in texts(campaign=world.campaign.id)
    only_flagged = texts(flagged="1")
    assert "22 33 44 55" in only_flagged and "Flere bænke" not in only_flagged
    assert "Allerede godkendt" in texts(status="approved")
    assert "Allerede godkendt" not in texts()
    assert "Allerede godkendt" in texts(status="all")
    by_prompt = texts(prompt=world.wall.prompts[1].id)
    assert "Flere bænke" not in by_prompt and "Ingen svar her" in by_prompt
    assert client.get("/staff/moderation?wall=abc").status_code == 404


def test_approve_and_hide_return_to_the_queue(client: FlaskClient, session: Session) -> None:
    world = make_world(session, "actions")
    login(client, world.admin)
    response = client.post(
        f"/staff/answers/{world.answer.id}/status",
        data={
            "action": "approve",
            "wall": world.wall.id,
            "status": "pending",
            "next": world.flagged.id,
        },
    )
    assert response.status_code == 303
    assert response.headers["Location"] == (
        f"/staff/moderation?campaign={world.campaign.id}&wall={world.wall.id}"
        f"&status=pending#answer-{world.flagged.id}"
    )
    session.refresh(world.answer)
    assert world.answer.status is AnswerStatus.APPROVED
    assert world.answer.moderated_by_id == world.admin.id
    public = client.get(f"/w/{world.wall.slug}").get_data(as_text=True)
    assert "Flere bænke ved legepladsen" in public
    client.post(f"/staff/answers/{world.answer.id}/status", data={"action": "hide"})
    session.refresh(world.answer)
    assert world.answer.status is AnswerStatus.HIDDEN
    assert "Flere bænke" not in client.get(f"/w/{world.wall.slug}").get_data(as_text=True)
    bad = client.post(f"/staff/answers/{world.answer.id}/status", data={"action": "explode"})
    assert bad.status_code == 400


def test_bulk_actions_skip_flagged_answers(client: FlaskClient, session: Session) -> None:
    world = make_world(session, "bulk")
    login(client, world.admin)
    response = client.post(
        "/staff/moderation/bulk",
        data={"action": "approve", "answer_ids": [world.answer.id, world.flagged.id]},
        follow_redirects=True,
    )
    html = response.get_data(as_text=True)
    assert "1 svar blev godkendt" in html
    assert "ikke godkendt" in html
    session.expire_all()
    assert session.get(Answer, world.answer.id).status is AnswerStatus.APPROVED
    assert session.get(Answer, world.flagged.id).status is AnswerStatus.PENDING
    client.post("/staff/moderation/bulk", data={"action": "hide", "answer_ids": [world.flagged.id]})
    session.expire_all()
    assert session.get(Answer, world.flagged.id).status is AnswerStatus.HIDDEN
    nothing = client.post("/staff/moderation/bulk", data={"action": "hide"}, follow_redirects=True)
    assert "Vælg svarene først" in nothing.get_data(as_text=True)
    assert (
        client.post(
            "/staff/moderation/bulk", data={"action": "hide", "answer_ids": "x"}
        ).status_code
        == 400
    )


def test_one_click_redaction(client: FlaskClient, session: Session) -> None:
    world = make_world(session, "redact")
    login(client, world.admin)
    fingerprint = moderation.text_fingerprint(world.flagged.text)
    response = client.post(
        f"/staff/answers/{world.flagged.id}/redact",
        data={"start": "16", "end": "27", "fingerprint": fingerprint},
        follow_redirects=True,
    )
    html = response.get_data(as_text=True)
    assert "Teksten blev fjernet" in html
    assert "22 33 44 55" not in html
    session.expire_all()
    answer = session.get(Answer, world.flagged.id)
    assert answer.text == "Ring til mig på [fjernet]" and answer.pii_findings == []
    client.post(f"/staff/answers/{answer.id}/status", data={"action": "approve"})
    public = client.get(f"/w/{world.wall.slug}").get_data(as_text=True)
    assert "Ring til mig på [fjernet]" in public and "22 33 44 55" not in public
    api = client.get(f"/api/v1/walls/{world.wall.slug}/answers").get_data(as_text=True)
    assert "22 33 44 55" not in api and "[fjernet]" in api


def test_redaction_of_a_stale_text_is_refused(client: FlaskClient, session: Session) -> None:
    world = make_world(session, "stale")
    login(client, world.admin)
    response = client.post(
        f"/staff/answers/{world.flagged.id}/redact",
        data={"start": "0", "end": "4", "fingerprint": "0000000000000000"},
        follow_redirects=True,
    )
    assert "blev ændret i mellemtiden" in response.get_data(as_text=True)
    session.refresh(world.flagged)
    assert world.flagged.text == "Ring til mig på 22 33 44 55"
    bad = client.post(f"/staff/answers/{world.flagged.id}/redact", data={"start": "x"})
    assert bad.status_code == 400


def test_redact_everything_highlighted(client: FlaskClient, session: Session) -> None:
    wall = make_wall(session)
    answer = make_answer(
        session,
        wall,
        "Skriv til anne@example.dk eller ring 22 33 44 55",
        status=AnswerStatus.PENDING,
    )
    login(client, make_staff(session, wall.campaign.organisation, "moderator"))
    client.post(f"/staff/answers/{answer.id}/redact", data={"mode": "all"})
    session.refresh(answer)
    assert answer.text == "Skriv til [fjernet] eller ring [fjernet]"


def test_search_in_the_queue(client: FlaskClient, session: Session) -> None:
    world = make_world(session, "search")
    answer = make_answer(
        session, world.wall, "ÆBLER til frokost i SFO'en", status=AnswerStatus.PENDING
    )
    make_answer(session, world.wall, "Æbler er sundt", status=AnswerStatus.APPROVED)
    login(client, make_staff(session, world.organisation, "moderator"))

    def page(**query: str) -> str:
        return client.get("/staff/moderation", query_string=query).get_data(as_text=True)

    html = page()
    assert '<label class="form-label" for="filter-search">Søg i svarene</label>' in html
    html = page(search="  æbler  ")
    assert "ÆBLER til frokost" in html and "Flere bænke" not in html
    assert "Æbler er sundt" not in html  # combined with the status tab (waiting)
    assert 'value="æbler"' in html and "Svar med: æbler" in html
    # The status tabs, the pages and the forms keep the search.
    assert "status=approved&amp;search=%C3%A6bler" in html
    assert '<input type="hidden" name="search" value="æbler">' in html
    assert "Æbler er sundt" in page(search="æbler", status="approved")
    assert "Ingen svar har alle de ord, du søgte efter." in page(search="æbler banan")
    # An action taken on a searched list comes back to it.
    response = client.post(
        f"/staff/answers/{answer.id}/status",
        data={"action": "approve", "status": "pending", "search": "æbler"},
    )
    assert response.headers["Location"].startswith("/staff/moderation?status=pending&search=")
