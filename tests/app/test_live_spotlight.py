"""A presenter spotlights one note on the projector, or hides it (issue 24)."""

from __future__ import annotations

import pytest
from flask.testing import FlaskClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from surveys.errors import InvalidInput, NotFound
from surveys.live import set_spotlight, spotlight_note
from surveys.models import AnswerStatus, AuditEntry, StaffRole
from tests.app.staff_helpers import login
from tests.factories import make_answer, make_staff, make_wall


def test_only_an_approved_note_of_the_wall_can_be_spotlighted(session: Session) -> None:
    wall = make_wall(session, "scene")
    other = make_wall(session, "anden", campaign=wall.campaign)
    moderator = make_staff(session, wall.campaign.organisation, StaffRole.MODERATOR)
    stranger = make_staff(session, role="admin")
    note = make_answer(session, wall, "Flere bænke ved søen")
    waiting = make_answer(session, wall, "Venter", status=AnswerStatus.PENDING)
    elsewhere = make_answer(session, other, "Fra en anden væg")
    assert spotlight_note(session, wall) is None
    with pytest.raises(InvalidInput):
        set_spotlight(session, moderator, wall, waiting.id)
    with pytest.raises(NotFound):
        set_spotlight(session, moderator, wall, elsewhere.id)
    with pytest.raises(NotFound):
        set_spotlight(session, stranger, wall, note.id)
    assert set_spotlight(session, moderator, wall, note.id) is not None
    shown = spotlight_note(session, wall)
    assert shown is not None and shown.text == "Flere bænke ved søen"
    entry = session.scalars(select(AuditEntry).where(AuditEntry.action == "wall.spotlight")).one()
    assert entry.actor_id == moderator.id and entry.after == {"answer": note.id}
    # Hidden later: the projector no longer shows it.
    note.status = AnswerStatus.HIDDEN
    session.commit()
    assert spotlight_note(session, wall) is None
    set_spotlight(session, moderator, wall, None)
    assert wall.live_spotlight_id is None


def test_the_projector_shows_the_spotlighted_note_large(
    client: FlaskClient, session: Session
) -> None:
    wall = make_wall(session, "scene")
    note = make_answer(session, wall, "En <b>fed</b> idé")
    make_answer(session, wall, "En anden note")
    assert client.get("/live/scene/spotlight").get_json() == {"id": None}
    html = client.get("/live/scene").get_data(as_text=True)
    assert 'id="live-spotlight" aria-labelledby="live-spotlight-heading" hidden' in html
    wall.live_spotlight_id = note.id
    session.commit()
    data = client.get("/live/scene/spotlight").get_json()
    assert data["id"] == note.id and data["text"] == "En <b>fed</b> idé"
    html = client.get("/live/scene").get_data(as_text=True)
    assert 'id="live-spotlight" aria-labelledby="live-spotlight-heading">' in html
    assert "En &lt;b&gt;fed&lt;/b&gt; idé" in html and "<b>fed</b>" not in html
    assert 'id="live-wall" aria-labelledby="live-notes-heading" hidden' in html


def test_presenter_spotlights_and_hides_from_the_staff_side(
    client: FlaskClient, session: Session
) -> None:
    wall = make_wall(session, "scene")
    note = make_answer(session, wall, "Skaterbane ved skolen")
    rude = make_answer(session, wall, "En note der ikke hører hjemme her")
    moderator = make_staff(session, wall.campaign.organisation, StaffRole.MODERATOR)
    login(client, moderator)
    base = f"/staff/walls/{wall.id}/presenter"
    html = client.get(base).get_data(as_text=True)
    assert "Skaterbane ved skolen" in html and "I fokus" in html
    response = client.post(f"{base}/spotlight", data={"answer": str(note.id)})
    assert response.status_code == 303
    session.refresh(wall)
    assert wall.live_spotlight_id == note.id
    assert client.get("/live/scene/spotlight").get_json()["id"] == note.id
    assert client.post(f"{base}/spotlight", data={"answer": "x"}).status_code == 400
    client.post(f"{base}/spotlight", data={})
    session.refresh(wall)
    assert wall.live_spotlight_id is None

    assert client.post(f"{base}/hide", data={"answer": str(rude.id)}).status_code == 303
    session.refresh(rude)
    assert rude.status is AnswerStatus.HIDDEN
    assert "En note der ikke hører hjemme her" not in client.get("/live/scene").get_data(
        as_text=True
    )
    other = make_wall(session, "anden", campaign=wall.campaign)
    foreign = make_answer(session, other, "Fra en anden væg")
    assert client.post(f"{base}/hide", data={"answer": str(foreign.id)}).status_code == 404
