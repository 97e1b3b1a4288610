"""The participant's wall: server-rendered, works without JavaScript."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from surveys.models import (
    Answer,
    AnswerStatus,
    Channel,
    Moderation,
    RetentionAction,
    WallReply,
    utcnow,
)
from tests.factories import make_answer, make_wall


def _form(wall, **overrides):
    data = {
        "prompt_id": str(wall.prompts[1].id),
        "text": "Flere voksne i vuggestuen",
        "client_submission_id": "form-submission-1",
        "role": "parent",
        "age_group": "0-2",
        "area": "",
    }
    data.update(overrides)
    return data


def _answers(session: Session) -> list[Answer]:
    session.expire_all()
    return list(session.scalars(select(Answer).order_by(Answer.id)))


def test_wall_page_in_danish_with_prompts_and_form(client: FlaskClient, session: Session) -> None:
    wall = make_wall(session, "godt-boerneliv")
    response = client.get("/w/godt-boerneliv")
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert '<html lang="da">' in html
    for prompt in wall.prompts:
        assert prompt.text in html
    assert "Send svar" in html
    assert "Skriv ikke navne eller CPR-numre" in html
    assert "Tilgængelighedserklæring" in html
    assert 'maxlength="1000"' in html


def test_post_stores_answer_and_thanks_with_own_text(client: FlaskClient, session: Session) -> None:
    wall = make_wall(session)
    response = client.post(f"/w/{wall.slug}", data=_form(wall))
    assert response.status_code == 303
    stored = _answers(session)
    assert len(stored) == 1
    answer = stored[0]
    assert answer.text == "Flere voksne i vuggestuen"
    assert answer.prompt_id == wall.prompts[1].id
    assert answer.channel is Channel.WEB
    assert answer.profile == {"role": "parent", "age_group": "0-2"}
    assert answer.language == "da"
    thanks = client.get(response.headers["Location"])
    html = thanks.get_data(as_text=True)
    assert "Tak for dit svar" in html
    assert "Flere voksne i vuggestuen" in html
    assert "når en medarbejder har læst det" in html


def test_double_submit_of_same_form_stores_once(client: FlaskClient, session: Session) -> None:
    wall = make_wall(session)
    first = client.post(f"/w/{wall.slug}", data=_form(wall))
    second = client.post(f"/w/{wall.slug}", data=_form(wall))
    assert first.status_code == second.status_code == 303
    assert len(_answers(session)) == 1


def test_thanks_page_does_not_show_other_peoples_answers(
    app: Flask, client: FlaskClient, session: Session
) -> None:
    wall = make_wall(session)
    client.post(f"/w/{wall.slug}", data=_form(wall))
    answer_id = _answers(session)[0].id
    stranger = app.test_client()
    response = stranger.get(f"/w/{wall.slug}/tak?svar={answer_id}")
    assert response.status_code == 302
    assert "Flere voksne" not in response.get_data(as_text=True)


def test_empty_answer_gets_danish_error_and_keeps_profile(
    client: FlaskClient, session: Session
) -> None:
    wall = make_wall(session)
    response = client.post(f"/w/{wall.slug}", data=_form(wall, text="   "))
    assert response.status_code == 400
    html = response.get_data(as_text=True)
    assert "Skriv venligst et svar, før du sender." in html
    assert '<option selected value="parent">' in html
    assert _answers(session) == []


def test_too_long_answer_keeps_what_was_typed(client: FlaskClient, session: Session) -> None:
    wall = make_wall(session)
    text = "Legepladsen i Nexø " * 60
    response = client.post(f"/w/{wall.slug}", data=_form(wall, text=text))
    assert response.status_code == 400
    html = response.get_data(as_text=True)
    assert "Svaret er for langt: højst 1000 tegn" in html
    assert "Legepladsen i Nexø Legepladsen i Nexø" in html
    assert 'aria-invalid="true"' in html
    assert _answers(session) == []


def test_answer_is_escaped_when_shown(client: FlaskClient, session: Session) -> None:
    wall = make_wall(session)
    make_answer(session, wall, '<script>alert("x")</script> & <b>fed</b>')
    html = client.get(f"/w/{wall.slug}").get_data(as_text=True)
    assert "<script>alert" not in html
    assert "&lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt; &amp; &lt;b&gt;fed&lt;/b&gt;" in html


def test_only_approved_answers_show_newest_first(client: FlaskClient, session: Session) -> None:
    wall = make_wall(session)
    now = utcnow()
    make_answer(session, wall, "Ældste godkendte", created_at=now - timedelta(hours=2))
    make_answer(session, wall, "Nyeste godkendte", created_at=now - timedelta(hours=1))
    make_answer(session, wall, "Venter på godkendelse", status=AnswerStatus.PENDING)
    make_answer(session, wall, "Skjult svar", status=AnswerStatus.HIDDEN)
    html = client.get(f"/w/{wall.slug}").get_data(as_text=True)
    assert "Venter på godkendelse" not in html and "Skjult svar" not in html
    assert html.index("Nyeste godkendte") < html.index("Ældste godkendte")


def test_show_more_pages_through_notes(client: FlaskClient, session: Session) -> None:
    wall = make_wall(session)
    now = utcnow()
    for i in range(35):
        make_answer(session, wall, f"Note nummer {i:02d}", created_at=now - timedelta(minutes=i))
    first = client.get(f"/w/{wall.slug}").get_data(as_text=True)
    assert "Note nummer 29" in first and "Note nummer 30" not in first
    assert "Vis flere" in first
    second = client.get(f"/w/{wall.slug}?side=2").get_data(as_text=True)
    assert "Note nummer 34" in second and "Vis flere" not in second


def test_agree_once_per_device(client: FlaskClient, session: Session) -> None:
    wall = make_wall(session)
    answer = make_answer(session, wall, "Gratis svømmehal for børn")
    client.get(f"/w/{wall.slug}")  # the wall page gives the device its key
    for _ in range(2):
        response = client.post(f"/w/{wall.slug}/svar/{answer.id}/enig")
        assert response.status_code == 303
    html = client.get(f"/w/{wall.slug}").get_data(as_text=True)
    assert re.search(r'class="agree-count">1<', html)


def test_post_moderated_wall_shows_answer_at_once(client: FlaskClient, session: Session) -> None:
    wall = make_wall(session, moderation=Moderation.POST)
    response = client.post(f"/w/{wall.slug}", data=_form(wall, text="Fedt med koncerter"))
    thanks = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "Dit svar er nu på væggen." in thanks
    assert "Fedt med koncerter" in client.get(f"/w/{wall.slug}").get_data(as_text=True)


def test_unknown_wall_is_a_friendly_404(client: FlaskClient) -> None:
    response = client.get("/w/findes-ikke")
    assert response.status_code == 404
    html = response.get_data(as_text=True)
    assert re.search(r"(Denne væg|Væggen) findes ikke\.", html)  # wording is the lead's
    assert '<html lang="da">' in html


def test_closed_wall_says_so_and_accepts_nothing(client: FlaskClient, session: Session) -> None:
    wall = make_wall(session, closes_at=utcnow() - timedelta(days=1))
    make_answer(session, wall, "Et gammelt svar")
    response = client.get(f"/w/{wall.slug}")
    assert response.status_code == 410
    html = response.get_data(as_text=True)
    assert "Denne væg er lukket" in html
    assert "Et gammelt svar" in html
    assert "<textarea" not in html
    posted = client.post(f"/w/{wall.slug}", data=_form(wall))
    assert posted.status_code == 410
    count = session.scalar(
        select(func.count()).select_from(Answer).where(Answer.wall_id == wall.id)
    )
    assert count == 1


def test_wall_not_yet_open(client: FlaskClient, session: Session) -> None:
    wall = make_wall(session, opens_at=utcnow() + timedelta(days=1))
    response = client.get(f"/w/{wall.slug}")
    assert response.status_code == 403
    assert "ikke åbnet endnu" in response.get_data(as_text=True)


def test_language_switch_to_english_and_back(client: FlaskClient, session: Session) -> None:
    wall = make_wall(session)
    english = client.get(f"/w/{wall.slug}?lang=en").get_data(as_text=True)
    assert '<html lang="en">' in english and "Send answer" in english
    assert 'href="?lang=da"' in english
    still = client.get(f"/w/{wall.slug}").get_data(as_text=True)
    assert "Send answer" in still
    back = client.get(f"/w/{wall.slug}?lang=da").get_data(as_text=True)
    assert "Send svar" in back


def test_csrf_missing_token_keeps_text(app: Flask, session: Session) -> None:
    app.config["WTF_CSRF_ENABLED"] = True
    wall = make_wall(session)
    client = app.test_client()
    response = client.post(f"/w/{wall.slug}", data=_form(wall, text="Mit vigtige svar"))
    assert response.status_code == 400
    html = response.get_data(as_text=True)
    assert "Siden var udløbet" in html
    assert "Mit vigtige svar" in html
    token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', html)
    assert token is not None
    ok = client.post(f"/w/{wall.slug}", data=_form(wall, csrf_token=token.group(1)))
    assert ok.status_code == 303


def test_agree_requires_csrf_when_enabled(app: Flask, session: Session) -> None:
    app.config["WTF_CSRF_ENABLED"] = True
    wall = make_wall(session)
    answer = make_answer(session, wall)
    response = app.test_client().post(f"/w/{wall.slug}/svar/{answer.id}/enig")
    assert response.status_code == 400


def test_language_switch_offers_only_the_other_language(
    client: FlaskClient, session: Session
) -> None:
    wall = make_wall(session)
    html = client.get(f"/w/{wall.slug}").get_data(as_text=True)
    assert 'href="?lang=en"' in html
    assert 'href="?lang=da"' not in html


# --- issue 3: replies, privacy, guided flow, "enig" for scripts, assets, CSP readiness ---


def test_replies_from_staff_are_shown_at_the_top(client: FlaskClient, session: Session) -> None:
    wall = make_wall(session)
    session.add_all(
        [
            WallReply(wall_id=wall.id, text="Vi har hørt jer: flere bænke kommer i maj."),
            WallReply(wall_id=wall.id, text="Skjult svar fra personalet", is_hidden=True),
        ]
    )
    session.commit()
    html = client.get(f"/w/{wall.slug}").get_data(as_text=True)
    assert "Det gør vi med jeres svar" in html
    assert html.index("flere bænke kommer i maj") < html.index('<form method="post"')
    assert "Skjult svar fra personalet" not in html


@pytest.mark.parametrize(
    ("months", "action", "expected"),
    [
        (24, RetentionAction.DELETE, "Svarene slettes 24 måneder efter, de er givet."),
        (1, RetentionAction.ANONYMISE, "Efter 1 måned fjerner vi det, du har fortalt om dig selv"),
        (None, RetentionAction.ANONYMISE, "Svarene gemmes, så længe kampagnen har brug for dem"),
    ],
)
def test_privacy_notice_says_how_long_answers_are_kept(
    client: FlaskClient,
    session: Session,
    months: int | None,
    action: RetentionAction,
    expected: str,
) -> None:
    wall = make_wall(session)
    wall.campaign.retention_months = months
    wall.campaign.retention_action = action
    session.commit()
    html = client.get(f"/w/{wall.slug}").get_data(as_text=True)
    assert "Dit svar er anonymt" in html
    assert expected in html
    assert "Skriv ikke navne eller CPR-numre" in html


def test_link_to_one_prompt_preselects_it(client: FlaskClient, session: Session) -> None:
    wall = make_wall(session)
    html = client.get(f"/w/{wall.slug}?prompt={wall.prompts[1].id}").get_data(as_text=True)
    assert re.search(rf'<input[^>]*checked[^>]*value="{wall.prompts[1].id}"', html)
    assert not re.search(rf'<input[^>]*checked[^>]*value="{wall.prompts[0].id}"', html)


def test_thanks_page_leads_to_the_next_question(client: FlaskClient, session: Session) -> None:
    wall = make_wall(session, prompts=("Første?", "Anden?", "Tredje?"))
    response = client.post(f"/w/{wall.slug}", data=_form(wall))  # answers the second prompt
    thanks = client.get(response.headers["Location"])
    assert thanks.headers["Cache-Control"] == "no-store"
    html = thanks.get_data(as_text=True)
    assert "Næste spørgsmål" in html
    next_link = f'href="/w/{wall.slug}?prompt={wall.prompts[2].id}#answer-section">Tredje?'
    assert next_link in html
    assert f'href="/w/{wall.slug}?prompt={wall.prompts[0].id}#answer-section">Første?' in html


def test_optional_questions_may_be_left_out_entirely(client: FlaskClient, session: Session) -> None:
    wall = make_wall(session)
    data = {k: v for k, v in _form(wall).items() if k not in ("role", "age_group", "area")}
    assert client.post(f"/w/{wall.slug}", data=data).status_code == 303
    assert _answers(session)[0].profile == {}
    bad = client.post(
        f"/w/{wall.slug}", data=_form(wall, role="king", client_submission_id="x" * 9)
    )
    assert bad.status_code == 400
    assert "Vælg en af mulighederne." in bad.get_data(as_text=True)


def test_agree_answers_json_to_scripts_and_marks_the_button(
    client: FlaskClient, session: Session
) -> None:
    wall = make_wall(session)
    answer = make_answer(session, wall)
    url = f"/w/{wall.slug}/svar/{answer.id}/enig"
    client.get(f"/w/{wall.slug}")  # the wall page gives the device its key
    first = client.post(url, headers={"Accept": "application/json"})
    assert first.status_code == 200
    assert first.get_json() == {"agree_count": 1, "agreed": True}
    again = client.post(url, headers={"Accept": "application/json"})
    assert again.get_json() == {"agree_count": 1, "agreed": True}
    html = client.get(f"/w/{wall.slug}").get_data(as_text=True)
    assert 'aria-pressed="true"' in html
    stranger = client.application.test_client().get(f"/w/{wall.slug}").get_data(as_text=True)
    assert 'aria-pressed="false"' in stranger


def test_assets_are_versioned_and_the_service_worker_is_served(
    client: FlaskClient, session: Session
) -> None:
    wall = make_wall(session)
    html = client.get(f"/w/{wall.slug}").get_data(as_text=True)
    assert re.search(r'href="/static/css/stemmer\.css\?v=[0-9a-f]{10}"', html)
    assert re.search(r'<script defer src="/static/js/wall\.js\?v=[0-9a-f]{10}"></script>', html)
    assert 'data-sw="/sw.js"' in html
    assert 'data-api="/api/v1/walls/' in html
    worker = client.get("/sw.js")
    assert worker.status_code == 200
    assert worker.mimetype == "text/javascript"
    assert worker.headers["Cache-Control"] == "no-cache"
    source = worker.get_data(as_text=True)
    assert "__VERSION__" not in source
    assert re.search(r"var CACHE = 'stemmer-[0-9a-f]{12}';", source)


def test_participant_pages_have_no_inline_scripts_or_handlers(
    client: FlaskClient, session: Session
) -> None:
    """Ready for a strict Content-Security-Policy: scripts only from static files."""
    from surveys.kiosk import create_device

    wall = make_wall(session, moderation=Moderation.POST)
    make_answer(session, wall)
    device = create_device(session, wall, "Kiosk")
    posted = client.post(f"/w/{wall.slug}", data=_form(wall))
    pages = [
        f"/w/{wall.slug}",
        posted.headers["Location"],
        f"/w/{wall.slug}/poster",
        f"/kiosk/{wall.slug}?device={device.token}",
        f"/kiosk/{wall.slug}?device=ukendt",
        f"/live/{wall.slug}",
        "/w/findes-ikke",
        "/tilgaengelighed",
    ]
    for page in pages:
        html = client.get(page).get_data(as_text=True)
        assert "<html" in html, page
        assert not re.search(r"<script(?![^>]*\bsrc=)[^>]*>", html), page
        assert not re.search(r"\son[a-z]+\s*=", html), page
        assert "style=" not in html, page
        # Nothing loaded from elsewhere (links to other sites are fine: the complaint route).
        loaded = re.findall(r"<(?:script|link|img|iframe)[^>]*\s(?:src|href)=\"([^\"]*)\"", html)
        assert not [url for url in loaded if "//" in url], page
