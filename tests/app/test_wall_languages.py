"""Issue 24: a wall's texts in each language it offers, and the right ``lang`` on every part
(WCAG 3.1.2)."""

from __future__ import annotations

import re

from flask.testing import FlaskClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from surveys.models import AuditEntry, Wall, WallReply
from tests.app.staff_helpers import login
from tests.factories import make_answer, make_staff, make_wall


def _lang_of(html: str, text: str) -> str | None:
    """The ``lang`` attribute of the element whose content starts with ``text``."""
    match = re.search(r"<(\w+)([^<>]*)>\s*" + re.escape(text), html)
    assert match is not None, text
    lang = re.search(r'lang="(\w+)"', match.group(2))
    return lang.group(1) if lang else None


def test_english_is_not_offered_without_english_texts(
    client: FlaskClient, session: Session
) -> None:
    wall = make_wall(session, english=False)
    assert wall.languages == ["da", "en"]
    danish = client.get(f"/w/{wall.slug}").get_data(as_text=True)
    assert 'href="?lang=en"' not in danish
    # Asking for English anyway (a link, or English chosen on another wall) gives the Danish
    # page, all in Danish: no English buttons around Danish questions.
    asked = client.get(f"/w/{wall.slug}?lang=en").get_data(as_text=True)
    assert '<html lang="da">' in asked and "Send svar" in asked


def test_english_page_shows_english_texts_and_marks_danish_parts(
    client: FlaskClient, session: Session
) -> None:
    wall = make_wall(session, intro="Skriv til os", profile_questions=["area"])
    wall.translations = {
        "en": {"title": "Good childhood", "intro": "Write to us", "areas": ["Roenne", "Nexoe"]}
    }
    session.add(WallReply(wall_id=wall.id, text="Vi bygger en ny legeplads."))
    session.add(
        WallReply(wall_id=wall.id, text="Flere pædagoger", translations={"en": "More staff"})
    )
    session.commit()
    make_answer(session, wall, "Mere skygge på legepladsen", language="da")
    make_answer(session, wall, "More benches please", language="en")

    html = client.get(f"/w/{wall.slug}?lang=en").get_data(as_text=True)
    assert '<html lang="en">' in html and "Send answer" in html
    assert 'href="?lang=da"' in html
    assert _lang_of(html, "Good childhood") is None  # English, as the page
    assert _lang_of(html, "Write to us") is None
    assert "What is a good childhood here?" in html and "Hvad mangler der?" not in html
    assert '<option value="Rønne">Roenne</option>' in html
    # A reply written only in Danish is shown in Danish, marked as such; one with an
    # English text is shown in English.
    assert _lang_of(html, "Vi bygger en ny legeplads.") == "da"
    assert "More staff" in html and "Flere pædagoger" not in html
    # Notes carry the language they were written in.
    assert _lang_of(html, "Mere skygge på legepladsen") == "da"
    assert _lang_of(html, "More benches please") is None
    # The campaign's title is Danish.
    assert _lang_of(html, wall.campaign.title) == "da"

    danish = client.get(f"/w/{wall.slug}?lang=da").get_data(as_text=True)
    assert _lang_of(danish, wall.title) is None
    assert _lang_of(danish, "More benches please") == "en"
    assert '<option value="Rønne">Rønne</option>' in danish


def test_area_names_fall_back_to_the_walls_language_marked(
    client: FlaskClient, session: Session
) -> None:
    wall = make_wall(session, profile_questions=["area"])
    html = client.get(f"/w/{wall.slug}?lang=en").get_data(as_text=True)
    assert '<html lang="en">' in html
    assert '<option lang="da" value="Rønne">Rønne</option>' in html


def test_thanks_kiosk_poster_and_live_follow_the_language(
    client: FlaskClient, session: Session
) -> None:
    wall = make_wall(session)
    english_prompt = "What is a good childhood here?"
    client.get(f"/w/{wall.slug}?lang=en")
    poster = client.get(f"/w/{wall.slug}/poster").get_data(as_text=True)
    assert english_prompt in poster and '<html lang="en">' in poster
    live = client.get(f"/live/{wall.slug}").get_data(as_text=True)
    assert english_prompt in live and "Wall " in live
    sent = client.post(
        f"/w/{wall.slug}",
        data={
            "prompt_id": str(wall.prompts[0].id),
            "text": "Parks",
            "client_submission_id": "x" * 12,
        },
    )
    thanks = client.get(sent.headers["Location"]).get_data(as_text=True)
    assert english_prompt in thanks


def test_api_gives_the_texts_of_each_offered_language(
    client: FlaskClient, session: Session
) -> None:
    wall = make_wall(session)
    data = client.get(f"/api/v1/walls/{wall.slug}").get_json()
    assert data["title"] == wall.title  # unchanged fields: the wall's own language
    assert data["languages"] == ["da", "en"]
    assert data["texts"]["en"]["title"] == wall.translations["en"]["title"]
    assert data["texts"]["da"]["title"] == wall.title
    first = data["prompts"][0]
    assert first["text"] == wall.prompts[0].text
    assert first["texts"] == {"da": wall.prompts[0].text, "en": "What is a good childhood here?"}
    bare = make_wall(session, english=False)
    assert client.get(f"/api/v1/walls/{bare.slug}").get_json()["languages"] == ["da"]


def test_staff_write_the_english_texts_and_then_english_is_offered(
    client: FlaskClient, session: Session
) -> None:
    wall = make_wall(session, english=False, intro="Velkommen", profile_questions=["area"])
    manager = make_staff(session, wall.campaign.organisation, "manager")
    login(client, manager)
    page = client.get(f"/staff/walls/{wall.id}").get_data(as_text=True)
    assert "kan ikke vælges af deltagerne endnu" in page
    assert "Mangler: titlen, introduktionen, spørgsmål 1, spørgsmål 2." in page
    assert f"/staff/walls/{wall.id}/texts/en" in page
    form = client.get(f"/staff/walls/{wall.id}/texts/en").get_data(as_text=True)
    assert "Dansk: Hvad mangler der?" in form

    fields = {
        "title": "Wall in English",
        "intro": "Welcome",
        f"prompt_{wall.prompts[0].id}": "What is good here?",
        f"prompt_{wall.prompts[1].id}": "",
        "areas": "Roenne",
    }
    refused = client.post(f"/staff/walls/{wall.id}/texts/en", data=fields)
    assert refused.status_code == 200
    assert "Skriv ét navn for hvert område" in refused.get_data(as_text=True)

    fields["areas"] = ""
    saved = client.post(f"/staff/walls/{wall.id}/texts/en", data=fields)
    assert saved.status_code == 303
    assert 'href="?lang=en"' not in client.get(f"/w/{wall.slug}").get_data(as_text=True)
    page = client.get(f"/staff/walls/{wall.id}").get_data(as_text=True)
    assert "Mangler: spørgsmål 2." in page

    fields[f"prompt_{wall.prompts[1].id}"] = "What is missing?"
    assert client.post(f"/staff/walls/{wall.id}/texts/en", data=fields).status_code == 303
    page = client.get(f"/staff/walls/{wall.id}").get_data(as_text=True)
    assert "kan vælges af deltagerne." in page
    assert "Områderne vises med navnene på væggens eget sprog" in page
    # The wall page (cached or not) offers English at once, with the new texts.
    assert 'href="?lang=en"' in client.get(f"/w/{wall.slug}").get_data(as_text=True)
    english = client.get(f"/w/{wall.slug}?lang=en").get_data(as_text=True)
    assert "Wall in English" in english and "What is missing?" in english

    session.expire_all()
    entries = list(session.scalars(select(AuditEntry).where(AuditEntry.action == "wall.translate")))
    assert len(entries) == 2
    assert entries[-1].after == {
        "lang": "en",
        "prompts": {
            str(wall.prompts[0].id): "What is good here?",
            str(wall.prompts[1].id): "What is missing?",
        },
    }


def test_a_reply_is_written_in_each_language(client: FlaskClient, session: Session) -> None:
    wall = make_wall(session)
    manager = make_staff(session, wall.campaign.organisation, "manager")
    login(client, manager)
    response = client.post(
        f"/staff/walls/{wall.id}/replies",
        data={"text": "Vi har hørt jer", "text-en": "We have heard you"},
    )
    assert response.status_code == 303
    reply = session.scalars(select(WallReply).where(WallReply.wall_id == wall.id)).one()
    assert (reply.text, reply.translations) == ("Vi har hørt jer", {"en": "We have heard you"})
    staff_page = client.get(f"/staff/walls/{wall.id}").get_data(as_text=True)
    assert '<span lang="en">We have heard you</span>' in staff_page
    assert 'id="reply-text-en"' in staff_page
    participant = client.get(f"/w/{wall.slug}?lang=en").get_data(as_text=True)
    assert "We have heard you" in participant


def test_staff_texts_page_only_for_the_walls_other_languages(
    client: FlaskClient, session: Session
) -> None:
    wall = make_wall(session, languages=["da"], language="da")
    manager = make_staff(session, wall.campaign.organisation, "manager")
    login(client, manager)
    assert client.get(f"/staff/walls/{wall.id}/texts/en").status_code == 404
    assert client.get(f"/staff/walls/{wall.id}/texts/da").status_code == 404
    assert session.get(Wall, wall.id) is not None
