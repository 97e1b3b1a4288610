"""A campaign's codebook in the staff workspace: the editor (permissions, organisation
isolation, bad input), the starter, a run with the codebook as a job, and corrections from
curation reaching the engine."""

from __future__ import annotations

from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from app.embeddings import EXTENSION
from surveys import codebook
from surveys import theme_review as review
from surveys.models import (
    AnswerVector,
    AuditEntry,
    CodebookTheme,
    Job,
    JobStatus,
    ThemeAssignment,
    ThemeRun,
)
from surveys.themes import Scope, latest_run
from tests.app.staff_helpers import login
from tests.app.test_staff_themes import Themed, make_themed
from tests.factories import FakeEncoder, make_staff

CODEBOOK = [
    ("Bus og transport", "Busser, afgange og vejen til skole", "bus, busser, afgang*"),
    ("Legepladser", "Legepladser og steder at lege ude", "legeplads, gynge*"),
    ("Pædagoger", "Normering og voksne i dagtilbud", "pædagog, normering, vuggestue"),
]


def _url(themed: Themed, rest: str = "") -> str:
    return f"/staff/campaigns/{themed.campaign.id}/codebook{rest}"


def _html(client: FlaskClient, url: str) -> str:
    response = client.get(url)
    assert response.status_code == 200, url
    return response.get_data(as_text=True)


def _themes(session: Session, themed: Themed) -> list[CodebookTheme]:
    session.expire_all()
    found = list(session.scalars(codebook.codebook_of(themed.campaign.id)))
    session.commit()
    return found


def _fill(client: FlaskClient, themed: Themed) -> None:
    for name, description, keywords in CODEBOOK:
        response = client.post(
            _url(themed, "/new"),
            data={"name": name, "description": description, "keywords": keywords},
        )
        assert response.status_code == 303, response.get_data(as_text=True)[:3000]


def test_staff_add_edit_and_delete_codebook_themes(client: FlaskClient, session: Session) -> None:
    themed = make_themed(session)
    login(client, themed.analyst)
    assert "Kodebogen er tom" in _html(client, _url(themed))
    _fill(client, themed)
    themes = _themes(session, themed)
    assert [t.name for t in themes] == [name for name, _d, _k in CODEBOOK]
    assert themes[0].keywords == ["bus", "busser", "afgang*"]
    html = _html(client, _url(themed))
    assert "Bus og transport" in html and "bus, busser, afgang*" in html
    edit = _html(client, _url(themed, f"/{themes[0].id}"))
    assert 'value="Bus og transport"' in edit and "bus, busser, afgang*" in edit
    response = client.post(
        _url(themed, f"/{themes[0].id}"),
        data={"name": "Busser", "description": "Busserne", "keywords": "bus\nbusser"},
    )
    assert response.status_code == 303
    assert next((t.name, t.keywords) for t in _themes(session, themed)) == (
        "Busser",
        ["bus", "busser"],
    )
    assert client.post(_url(themed, f"/{themes[1].id}/delete")).status_code == 303
    assert [t.name for t in _themes(session, themed)] == ["Busser", "Pædagoger"]
    actions = session.scalars(
        select(AuditEntry.action).where(AuditEntry.action.like("codebook.%"))
    ).all()
    assert sorted(actions) == ["codebook.add"] * 3 + ["codebook.delete", "codebook.update"]


def test_bad_input_is_refused_with_a_message_and_nothing_is_stored(
    client: FlaskClient, session: Session
) -> None:
    themed = make_themed(session)
    login(client, themed.analyst)
    eleven = ", ".join(f"ord{n}" for n in range(11))
    cases = [
        ({"name": "", "keywords": "bus"}, "Skriv et navn til temaet"),
        ({"name": "   ", "keywords": "bus"}, "Skriv et navn til temaet"),
        ({"name": "x" * 101}, "Navnet må højst være 100 tegn"),
        ({"name": "Busser", "description": "y" * 301}, "Beskrivelsen må højst være 300 tegn"),
        ({"name": "Busser", "keywords": eleven}, "Skriv højst 10 nøgleord"),
        ({"name": "Busser", "keywords": "🚌"}, "er ikke et nøgleord"),
        ({"name": "Busser", "keywords": "x" * 41}, "er ikke et nøgleord"),
        ({"name": "Busser", "keywords": "k" * 5000}, "er ikke et nøgleord"),
        ({"name": "Ring til 22 33 44 55"}, "personoplysninger"),
    ]
    for data, message in cases:
        response = client.post(_url(themed, "/new"), data=data)
        html = response.get_data(as_text=True)
        assert response.status_code == 400, data
        assert message in html, (data, message)
    assert _themes(session, themed) == []
    # emoji in a name or description are text like any other, shown escaped
    response = client.post(
        _url(themed, "/new"),
        data={"name": "Busser 🚌 <b>", "description": "Om 🚌", "keywords": "bus, bus"},
    )
    assert response.status_code == 303
    assert [(t.name, t.keywords) for t in _themes(session, themed)] == [("Busser 🚌 <b>", ["bus"])]
    assert "Busser 🚌 &lt;b&gt;" in _html(client, _url(themed))
    # the same name twice (whatever the case) is refused
    response = client.post(_url(themed, "/new"), data={"name": "busser 🚌 <B>"})
    assert response.status_code == 400 and "har allerede et tema" in response.get_data(as_text=True)
    # ten keywords are fine
    ten = ", ".join(f"ord{n}" for n in range(10))
    assert (
        client.post(_url(themed, "/new"), data={"name": "Ti", "keywords": ten}).status_code == 303
    )


def test_viewers_and_moderators_read_the_codebook_but_cannot_change_it(
    client: FlaskClient, session: Session
) -> None:
    themed = make_themed(session)
    login(client, themed.analyst)
    _fill(client, themed)
    client.post("/staff/logout")
    theme_id = _themes(session, themed)[0].id
    for user in (themed.viewer, themed.moderator):
        login(client, user)
        html = _html(client, _url(themed))
        assert "Bus og transport" in html and "Tilføj et tema" not in html
        assert client.get(_url(themed, "/new")).status_code == 403
        for rest in ("/new", f"/{theme_id}", f"/{theme_id}/delete", "/starter", "/run"):
            assert client.post(_url(themed, rest), data={"name": "Overtaget"}).status_code == 403
        client.post("/staff/logout")
    assert next(t.name for t in _themes(session, themed)) == "Bus og transport"
    assert len(_themes(session, themed)) == 3


def test_another_organisation_gets_404(client: FlaskClient, session: Session) -> None:
    themed = make_themed(session)
    login(client, themed.analyst)
    _fill(client, themed)
    client.post("/staff/logout")
    theme_id = _themes(session, themed)[0].id
    stranger = make_staff(session, role="admin")
    login(client, stranger)
    assert client.get(_url(themed)).status_code == 404
    assert client.get(_url(themed, f"/{theme_id}")).status_code == 404
    for rest in ("/new", f"/{theme_id}", f"/{theme_id}/delete", "/starter", "/run"):
        assert client.post(_url(themed, rest), data={"name": "Overtaget"}).status_code == 404
    assert len(_themes(session, themed)) == 3


def test_a_theme_of_another_campaign_is_not_found_through_this_one(
    client: FlaskClient, session: Session
) -> None:
    themed = make_themed(session)
    login(client, themed.analyst)
    _fill(client, themed)
    theme_id = _themes(session, themed)[0].id
    other = f"/staff/campaigns/{themed.campaign.id + 1000}/codebook/{theme_id}"
    assert client.get(other).status_code == 404


def test_the_starter_for_childhood_campaigns_loads_once(
    client: FlaskClient, session: Session
) -> None:
    themed = make_themed(session)
    login(client, themed.analyst)
    assert client.post(_url(themed, "/starter")).status_code == 303
    themes = _themes(session, themed)
    assert len(themes) >= 15
    assert all(1 <= len(t.keywords) <= 10 for t in themes)
    assert "Skole" in [t.name for t in themes]
    assert client.post(_url(themed, "/starter")).status_code == 303
    assert len(_themes(session, themed)) == len(themes)


def _run(client: FlaskClient, themed: Themed) -> int:
    """Run the themes with the codebook; the job's id."""
    response = client.post(_url(themed, "/run"))
    assert response.status_code == 303 and "/staff/jobs/" in response.headers["Location"]
    return int(response.headers["Location"].rsplit("/", 1)[1])


def _main_theme(session: Session, run: ThemeRun, answer_id: int) -> set[str]:
    names = {t.id: t.codebook or t.label for t in run.themes}
    rows = session.scalars(
        select(ThemeAssignment.theme_id).where(
            ThemeAssignment.run_id == run.id, ThemeAssignment.answer_id == answer_id
        )
    )
    return {names[t] for t in rows}


def test_a_run_with_the_codebook_is_a_job_and_its_themes_carry_the_codebook_names(
    client: FlaskClient, session: Session
) -> None:
    themed = make_themed(session)
    login(client, themed.analyst)
    response = client.post(_url(themed, "/run"))
    assert response.status_code == 303  # an empty codebook: back with a message
    assert "Kodebogen er tom" in _html(client, response.headers["Location"])
    _fill(client, themed)
    job_id = _run(client, themed)
    session.expire_all()
    job = session.get(Job, job_id)
    assert job is not None and job.status is JobStatus.DONE, job.error
    assert job.kind == "codebook" and job.result["themes"] == 3
    assert "sorteret i kodebogen" in _html(client, f"/staff/jobs/{job_id}")
    run = latest_run(session, Scope(themed.campaign.id).key)
    assert run is not None and run.codebook is not None
    by_name = {t.codebook: t for t in run.themes if t.codebook}
    assert set(by_name) == {"Bus og transport", "Legepladser", "Pædagoger"}
    bus = [_main_theme(session, run, a) for a in themed.ids["bus"]]
    assert sum("Bus og transport" in found for found in bus) >= 6
    explorer = _html(client, f"/staff/campaigns/{themed.campaign.id}/themes")
    assert "Bus og transport" in explorer and "Fra kodebogen" in explorer


def test_curation_becomes_corrections_the_next_codebook_run_learns_from(
    client: FlaskClient, session: Session
) -> None:
    themed = make_themed(session)
    login(client, themed.analyst)
    _fill(client, themed)
    _run(client, themed)
    scope = Scope(themed.campaign.id)
    run = latest_run(session, scope.key)
    assert run is not None
    playground = next(t for t in run.themes if t.codebook == "Legepladser")
    moved = themed.ids["bus"][0]
    assert _main_theme(session, run, moved) == {"Bus og transport"}
    review.move_answers(session, themed.analyst, scope, [moved], playground.key)
    assert codebook.corrections_from_curation(session, scope) == {str(moved): "Legepladser"}
    _run(client, themed)
    session.expire_all()
    again = latest_run(session, scope.key)
    assert again is not None and again.id != run.id
    assert _main_theme(session, again, moved) == {"Legepladser"}
    # what changed is kept with the run, and the explorer says it
    assert again.changes is not None and again.changes["previous_run_id"] == run.id


def test_a_codebook_run_embeds_each_answer_once(
    app: Flask, client: FlaskClient, session: Session
) -> None:
    encoder = FakeEncoder()
    app.extensions[EXTENSION] = encoder
    themed = make_themed(session)
    login(client, themed.analyst)
    _fill(client, themed)
    _run(client, themed)
    answers = session.scalar(select(func.count()).select_from(AnswerVector))
    assert answers and len(encoder.texts) == answers + len(CODEBOOK)
    asked = len(encoder.texts)
    _run(client, themed)
    assert len(encoder.texts) == asked + len(CODEBOOK)  # only the codebook's passages again


def test_the_theme_page_says_why_an_answer_is_here(client: FlaskClient, session: Session) -> None:
    themed = make_themed(session)
    login(client, themed.analyst)
    # a run of the engine alone: the theme's words in the answer and the closest themes
    key = themed.key_of(session, "bus")
    html = _html(client, f"/staff/campaigns/{themed.campaign.id}/themes/{key}")
    assert html.count("Hvorfor her?") >= 6 and "Nærmeste temaer:" in html
    # a codebook run: the keywords that matched and the closest codebook themes with scores
    _fill(client, themed)
    _run(client, themed)
    run = latest_run(session, Scope(themed.campaign.id).key)
    assert run is not None
    bus = next(t for t in run.themes if t.codebook == "Bus og transport")
    html = _html(client, f"/staff/campaigns/{themed.campaign.id}/themes/{bus.key}")
    assert "Ord, der peger hertil:" in html and '<span class="term">bussen</span>' in html
    assert "Nærmeste temaer: Bus og transport (" in html
    assert "Legepladser (0.00)" not in html  # a theme it came nowhere near is not "close"


def test_a_mixed_theme_is_shown_as_mixed_with_a_split_suggestion(
    client: FlaskClient, session: Session
) -> None:
    themed = make_themed(session)
    theme = themed.run.themes[0]
    theme.mixed, theme.split_suggestion = True, ["bus · aften", "legeplads · gynger"]
    session.commit()
    login(client, themed.analyst)
    explorer = _html(client, f"/staff/campaigns/{themed.campaign.id}/themes")
    assert "Blandet tema." in explorer and "Overvej at dele det i:" in explorer
    assert '<span class="term">legeplads · gynger</span>' in explorer
    page = _html(client, f"/staff/campaigns/{themed.campaign.id}/themes/{theme.key}")
    assert '<span class="badge badge-warning">Blandet</span>' in page


def test_the_explorer_says_what_changed_since_the_previous_run(
    client: FlaskClient, session: Session
) -> None:
    themed = make_themed(session)
    login(client, themed.analyst)
    explorer = f"/staff/campaigns/{themed.campaign.id}/themes"
    assert "Siden sidste kørsel" not in _html(client, explorer)
    assert client.post(f"{explorer}/run").status_code == 303
    html = _html(client, explorer)
    assert "Siden sidste kørsel" in html and "0 af " in html and "svar skiftede tema" in html


def test_a_new_answer_goes_under_a_codebook_theme_by_its_keywords(
    client: FlaskClient, session: Session
) -> None:
    from surveys import themes
    from tests.factories import make_answer

    themed = make_themed(session)
    login(client, themed.analyst)
    _fill(client, themed)
    _run(client, themed)
    run = latest_run(session, Scope(themed.campaign.id).key)
    assert run is not None
    answer = make_answer(session, themed.wall, "Flere busser om søndagen")
    assert themes.place_new_answers(session, [answer.id]) == 1
    assert _main_theme(session, run, answer.id) == {"Bus og transport"}
