"""The theme explorer pages: reading, filters, curation forms, permissions, bad input."""

from __future__ import annotations

import re
from dataclasses import dataclass

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select
from sqlalchemy.orm import Session
from werkzeug.test import TestResponse

from surveys import theme_review as review
from surveys.models import (
    Answer,
    AnswerStatus,
    Audience,
    AuditEntry,
    Campaign,
    Moderation,
    StaffUser,
    ThemeAssignment,
    ThemeCuration,
    ThemeRun,
    Wall,
)
from surveys.themes import Scope, latest_run
from tests.app.staff_helpers import login
from tests.factories import make_answer, make_organisation, make_staff, make_wall
from tests.surveys.test_theme_review import TOPICS


@dataclass
class Themed:
    campaign: Campaign
    wall: Wall
    ids: dict[str, list[int]]
    analyst: StaffUser
    viewer: StaffUser
    admin: StaffUser
    moderator: StaffUser
    run: ThemeRun

    @property
    def base(self) -> str:
        return f"/staff/campaigns/{self.campaign.id}/themes"

    def key_of(self, session: Session, topic: str) -> str:
        run = latest_run(session, Scope(self.campaign.id).key)
        assert run is not None
        keys = {t.id: t.key for t in run.themes}
        rows = session.execute(
            select(ThemeAssignment.theme_id).where(
                ThemeAssignment.run_id == run.id,
                ThemeAssignment.answer_id.in_(self.ids[topic]),
            )
        ).scalars()
        found = [keys[t] for t in rows]
        return max(set(found), key=found.count)


@pytest.fixture
def themed(session: Session) -> Themed:
    return make_themed(session)


def make_themed(session: Session) -> Themed:
    """A campaign with 32 answers on four topics, staff of every role and a theme run."""
    organisation = make_organisation(session, "bornholm", name="Bornholms Regionskommune")
    wall = make_wall(
        session, "godt-boerneliv", organisation=organisation, moderation=Moderation.POST
    )
    ids = {
        topic: [make_answer(session, wall, text).id for text in texts]
        for topic, texts in TOPICS.items()
    }
    people = {
        role: make_staff(session, organisation, role, email=f"{role}@brk.dk")
        for role in ("analyst", "viewer", "admin", "moderator")
    }
    run = review.run_themes(session, people["analyst"], Scope(wall.campaign_id))
    return Themed(wall.campaign, wall, ids, run=run, **people)


def _html(response: TestResponse) -> str:
    return response.get_data(as_text=True)


def _curation(session: Session) -> dict:
    session.expire_all()
    row = session.scalars(select(ThemeCuration)).one()
    return row.data


# --------------------------------------------------------------------------- reading


def test_explorer_shows_the_themes_with_counts_and_quotes(
    client: FlaskClient, session: Session, themed: Themed
) -> None:
    login(client, themed.viewer)
    html = _html(client.get(themed.base))
    assert "<h1>Temaer</h1>" in html
    for theme in themed.run.themes:
        assert theme.label in html
        assert f"/themes/{theme.key}" in html
    assert "32 godkendte svar passer." in html
    assert "8 svar" in html  # a theme's count
    assert "Bussen til skolen kører alt for sjældent" in html or "Flere busser" in html
    assert "Kør temaer igen" not in html  # a viewer cannot run the engine
    campaign_page = _html(client.get(f"/staff/campaigns/{themed.campaign.id}"))
    assert f'href="{themed.base}"' in campaign_page


def test_explorer_without_a_run_and_running_it(
    client: FlaskClient, session: Session, themed: Themed
) -> None:
    login(client, themed.analyst)
    html = _html(client.get(themed.base, query_string={"wall": themed.wall.slug}))
    assert "Ingen temaer endnu" in html and "Kør temaer" in html
    response = client.post(f"{themed.base}/run", data={"wall": themed.wall.slug})
    # The run is a background job (run at once in the tests): its page says how it went and
    # leads back to the explorer.
    assert response.status_code == 303
    assert response.headers["Location"].startswith("/staff/jobs/")
    page = _html(client.get(response.headers["Location"]))
    assert "Temaerne er opdateret: 4 temaer ud fra 32 svar." in page
    assert f'href="{themed.base}?wall={themed.wall.slug}"' in page
    assert latest_run(session, Scope(themed.campaign.id, themed.wall.id).key) is not None
    assert session.scalars(select(AuditEntry.action).order_by(AuditEntry.id.desc())).first() == (
        "theme.run"
    )


def test_running_a_scope_with_too_few_answers_is_refused(
    client: FlaskClient, session: Session
) -> None:
    wall = make_wall(session)
    for text in ("Flere bænke", "Mere skygge", "Gratis bus"):
        make_answer(session, wall, text)
    analyst = make_staff(session, wall.campaign.organisation, "analyst")
    login(client, analyst)
    base = f"/staff/campaigns/{wall.campaign_id}/themes"
    html = _html(client.get(base))
    assert "Temaerne kræver mindst 10 svar." in html
    assert f'action="{base}/run"' not in html
    response = client.post(f"{base}/run", follow_redirects=True)
    assert "Der er kun 3 svar her." in _html(response)
    assert session.scalars(select(ThemeRun)).all() == []


def test_scope_and_filter_arguments(client: FlaskClient, session: Session, themed: Themed) -> None:
    young = make_wall(
        session,
        "unge-stemmer",
        campaign=themed.campaign,
        audience=Audience.YOUNG,
        moderation=Moderation.POST,
    )
    make_answer(session, young, "Bussen til klubben kører ikke om aftenen", area="Nexø")
    review.run_themes(session, themed.analyst, Scope(themed.campaign.id))
    login(client, themed.viewer)
    html = _html(client.get(themed.base, query_string={"audience": "young"}))
    assert "1 godkendt svar passer." in html
    assert "filter til" in html  # the filter is shown as on
    html = _html(client.get(themed.base, query_string={"area": "Nexø", "channel": "web"}))
    assert "1 godkendt svar passer." in html
    # Unparseable filter values are ignored; the page still works.
    for args in ({"audience": "aliens"}, {"since": "i går"}, {"channel": "x" * 3000}):
        html = _html(client.get(themed.base, query_string=args))
        assert "33 godkendte svar passer." in html
    # Scopes: a wall, a question; bad or foreign ones are refused without a 500.
    assert client.get(themed.base, query_string={"wall": "unge-stemmer"}).status_code == 200
    prompt = themed.wall.prompts[1]
    html = _html(client.get(themed.base, query_string={"prompt": prompt.id}))
    assert "Spørgsmål: Hvad mangler der?" in html
    other = make_wall(session, "fremmed")
    for args, status in [
        ({"wall": "findes-ikke"}, 400),
        ({"wall": other.slug}, 400),
        ({"prompt": other.prompts[0].id}, 400),
        ({"prompt": "abc"}, 404),
        ({"prompt": "99999999999"}, 404),
        ({"wall": "x" * 500}, 404),
        ({"side": "-1"}, 404),
    ]:
        assert client.get(themed.base, query_string=args).status_code == status, args


def test_theme_page_lists_answers_pages_and_refuses_bad_keys(
    client: FlaskClient, session: Session, themed: Themed
) -> None:
    key = themed.key_of(session, "bus")
    pending = session.get(Answer, themed.ids["bus"][3])
    pending.status = AnswerStatus.PENDING
    pending.text = "Bussen holder ved Jens Hansens hus"
    session.commit()
    login(client, themed.analyst)
    html = _html(client.get(f"{themed.base}/{key}"))
    assert "Svar i temaet" in html
    assert "Bussen til skolen kører alt for sjældent" in html
    assert "Jens Hansens" not in html  # analysts see approved answers only
    assert 'name="label"' in html and "Slå sammen" in html
    client.post("/staff/logout")
    login(client, themed.admin)  # moderators and admins see waiting answers, made safe
    html = _html(client.get(f"{themed.base}/{key}"))
    assert "Venter" in html and "[fjernet]" in html
    for bad in ("t999", "xyz", "t1%3Cscript%3E", "run"):
        assert client.get(f"{themed.base}/{bad}").status_code == 404, bad
    assert client.get(f"{themed.base}/{key}", query_string={"side": "2"}).status_code == 200
    assert client.get(f"{themed.base}/{key}", query_string={"side": "zz"}).status_code == 404


# --------------------------------------------------------------------------- curation


def test_curation_forms_change_the_themes_and_redirect_back(
    client: FlaskClient, session: Session, themed: Themed
) -> None:
    bus, play = themed.key_of(session, "bus"), themed.key_of(session, "legeplads")
    care, screen = themed.key_of(session, "normering"), themed.key_of(session, "skaerm")
    login(client, themed.analyst)
    keep = {"audience": "parents"}
    detail = f"{themed.base}/{bus}"

    response = client.post(f"{detail}/rename", data={"label": "Busser <i>og</i> tog", **keep})
    assert response.status_code == 303
    assert response.headers["Location"] == f"{detail}?audience=parents"
    html = _html(client.get(response.headers["Location"]))
    assert "Temaet fik et nyt navn." in html
    assert "Busser &lt;i&gt;og&lt;/i&gt; tog" in html and "<i>og</i>" not in html

    client.post(f"{detail}/describe", data={"description": "Om busser til skole og fritid"})
    assert "Om busser til skole og fritid" in _html(client.get(detail))

    response = client.post(f"{themed.base}/{care}/merge", data={"other": screen})
    assert response.status_code == 303
    assert client.get(f"{themed.base}/{screen}").status_code == 404

    part = themed.ids["bus"][:2]
    response = client.post(
        f"{detail}/answers", data={"action": "split", "answer_ids": part, "label": "Morgenbus"}
    )
    assert "2 svar er nu i det nye tema Morgenbus." in _html(
        client.get(response.headers["Location"])
    )
    split_key = next(iter(_curation(session)["split"]))

    moved = themed.ids["bus"][4]
    client.post(f"{detail}/answers", data={"action": "move", "answer_ids": [moved], "target": play})
    assert _curation(session)["moved"] == {str(moved): play}

    pinned = themed.ids["bus"][5]
    response = client.post(f"{detail}/pin", data={"action": "pin", "answer_id": pinned})
    assert "Svaret er fastgjort som citat for temaet." in _html(
        client.get(response.headers["Location"])
    )
    assert _curation(session)["pinned"] == {bus: [str(pinned)]}

    excluded = themed.ids["bus"][6]
    client.post(f"{detail}/answers", data={"action": "exclude", "answer_ids": [excluded]})
    html = _html(client.get(themed.base))
    assert "Markeret som ikke et tema" in html and "Morgenbus" in html

    response = client.post(
        f"{themed.base}/{play}/visibility", data={"action": "hide", "back": "explorer"}
    )
    assert response.headers["Location"] == themed.base
    html = _html(client.get(themed.base))
    assert "Skjulte temaer" in html and "Vis igen" in html

    response = client.post(f"{themed.base}/include", data={"answer_ids": [excluded]})
    assert response.headers["Location"] == f"{themed.base}#excluded"
    assert _curation(session)["excluded"] == []
    assert "Svaret er tilbage i temaerne." in _html(client.get(response.headers["Location"]))
    client.post(f"{detail}/pin", data={"action": "unpin", "answer_id": pinned})
    assert _curation(session)["pinned"] == {}

    actions = list(
        session.scalars(
            select(AuditEntry.action)
            .where(AuditEntry.action.startswith("theme."))
            .order_by(AuditEntry.id)
        )
    )
    assert actions[1:] == [
        "theme.rename",
        "theme.describe",
        "theme.merge",
        "theme.split",
        "theme.move",
        "theme.pin",
        "theme.exclude",
        "theme.hide",
        "theme.include",
        "theme.unpin",
    ]
    # All of it is still true after the engine runs again from the explorer.
    client.post(f"{themed.base}/run")
    run = latest_run(session, Scope(themed.campaign.id).key)
    assert run is not None and run.id != themed.run.id
    themes = {t.key: t for t in run.themes}
    assert themes[bus].label == "Busser <i>og</i> tog"
    assert themes[bus].description == "Om busser til skole og fritid"
    assert screen not in themes and themes[play].hidden
    assert themes[split_key].label == "Morgenbus"


def test_bad_curation_input_gives_messages_or_4xx_never_500(
    client: FlaskClient, session: Session, themed: Themed
) -> None:
    bus = themed.key_of(session, "bus")
    detail = f"{themed.base}/{bus}"
    login(client, themed.analyst)
    flashes = [
        (f"{detail}/rename", {"label": "   "}, "Skriv et navn til temaet."),
        (f"{detail}/rename", {"label": "x" * 5000}, "Navnet må højst være 200 tegn."),
        (f"{detail}/describe", {"description": "x" * 5000}, "Beskrivelsen må højst være"),
        (f"{detail}/merge", {"other": bus}, "Et tema kan ikke slås sammen med sig selv."),
        (f"{detail}/merge", {"other": "t999"}, "Temaet er ikke med i den seneste kørsel."),
        (f"{detail}/merge", {}, "Vælg det tema, der skal slås sammen med."),
        (f"{detail}/answers", {"action": "move", "target": bus}, "Vælg svarene først."),
        (
            f"{detail}/answers",
            {"action": "split", "answer_ids": themed.ids["legeplads"][0], "label": "X"},
            "Kun svar fra dette tema kan deles ud.",
        ),
        (
            f"{detail}/answers",
            {"action": "move", "answer_ids": 10**8, "target": bus},
            "Svaret hører ikke til disse temaer.",
        ),
        (f"{detail}/pin", {"action": "unpin", "answer_id": themed.ids["bus"][0]}, "fastgjort"),
        (f"{themed.base}/include", {"answer_ids": themed.ids["bus"][0]}, "ikke markeret"),
    ]
    for url, data, message in flashes:
        response = client.post(url, data=data)
        assert response.status_code == 303, (url, data)
        html = _html(client.get(response.headers["Location"]))
        assert message in html, (url, data, re.findall(r'alert-text">([^<]*)', html))
    for url, data in [
        (f"{detail}/answers", {"action": "nuke", "answer_ids": themed.ids["bus"][0]}),
        (f"{detail}/answers", {"action": "move", "answer_ids": "abc"}),
        (f"{detail}/answers", {"action": "move", "answer_ids": "1" * 30}),
        (f"{detail}/pin", {"action": "pin", "answer_id": ""}),
        (f"{detail}/pin", {"action": "pin", "answer_id": "-3"}),
        (f"{detail}/visibility", {"action": "vanish"}),
    ]:
        assert client.post(url, data=data).status_code in (400, 404), (url, data)
    for url in (f"{themed.base}/t999/rename", f"{themed.base}/zz/pin"):
        assert client.post(url, data={"label": "X"}).status_code == 404
    session.expire_all()
    assert {t.label for t in latest_run(session, Scope(themed.campaign.id).key).themes} == {
        t.label for t in themed.run.themes
    }


# --------------------------------------------------------------------------- who may


def test_viewers_and_moderators_read_but_cannot_curate(
    client: FlaskClient, session: Session, themed: Themed
) -> None:
    key = themed.key_of(session, "bus")
    posts = [
        (f"{themed.base}/run", {}),
        (f"{themed.base}/{key}/rename", {"label": "Overtaget"}),
        (f"{themed.base}/{key}/describe", {"description": "Overtaget"}),
        (f"{themed.base}/{key}/merge", {"other": themed.key_of(session, "skaerm")}),
        (f"{themed.base}/{key}/visibility", {"action": "hide"}),
        (f"{themed.base}/{key}/pin", {"action": "pin", "answer_id": themed.ids["bus"][0]}),
        (f"{themed.base}/{key}/answers", {"action": "exclude", "answer_ids": themed.ids["bus"][0]}),
        (f"{themed.base}/include", {"answer_ids": themed.ids["bus"][0]}),
    ]
    for user in (themed.viewer, themed.moderator):
        login(client, user)
        assert client.get(themed.base).status_code == 200
        html = _html(client.get(f"{themed.base}/{key}"))
        assert 'name="label"' not in html and "Skjul temaet" not in html
        for url, data in posts:
            assert client.post(url, data=data).status_code == 403, (user.role, url)
        client.post("/staff/logout")
    assert session.scalars(select(ThemeCuration)).one().data == {}
    assert len(session.scalars(select(ThemeRun)).all()) == 1


def test_another_organisation_gets_404(
    client: FlaskClient, session: Session, themed: Themed
) -> None:
    stranger = make_staff(session, role="admin")
    login(client, stranger)
    key = themed.key_of(session, "bus")
    assert client.get(themed.base).status_code == 404
    assert client.get(f"{themed.base}/{key}").status_code == 404
    for url in (f"{themed.base}/run", f"{themed.base}/{key}/rename", f"{themed.base}/include"):
        assert client.post(url, data={"label": "Overtaget", "answer_ids": "1"}).status_code == 404
    assert session.scalars(select(ThemeCuration)).one().data == {}


def test_curation_forms_need_the_csrf_token(
    app: Flask, client: FlaskClient, session: Session, themed: Themed
) -> None:
    key = themed.key_of(session, "bus")
    login(client, themed.analyst)
    app.config["WTF_CSRF_ENABLED"] = True
    response = client.post(f"{themed.base}/{key}/rename", data={"label": "Uden token"})
    assert response.status_code == 400
    html = _html(client.get(f"{themed.base}/{key}"))
    token = re.search(r'name="csrf_token" value="([^"]+)"', html)
    assert token is not None
    response = client.post(
        f"{themed.base}/{key}/rename", data={"label": "Med token", "csrf_token": token.group(1)}
    )
    assert response.status_code == 303
    assert _curation(session)["renamed"] == {key: "Med token"}


def test_search_in_the_explorer_and_a_theme(
    client: FlaskClient, session: Session, themed: Themed
) -> None:
    login(client, themed.viewer)
    html = _html(client.get(themed.base))
    assert 'for="filter-search">Søg i svarene</label>' in html
    html = _html(client.get(themed.base, query_string={"search": "BUSSEN"}))
    bus_texts = [session.get(Answer, i).text for i in themed.ids["bus"]]
    expected = sum("bussen" in text.lower() for text in bus_texts)
    assert expected > 0
    word = "godkendte svar passer" if expected > 1 else "godkendt svar passer"
    assert f"{expected} {word}." in html
    assert 'value="BUSSEN"' in html
    key = themed.key_of(session, "bus")
    assert f"/themes/{key}?search=BUSSEN" in html  # the theme's link keeps the search
    page = _html(client.get(f"{themed.base}/{key}", query_string={"search": "bussen"}))
    listed = re.findall(r'class="answer-text[^"]*"[^>]*>([^<]*)<', page)
    assert listed and all("bussen" in text.lower() for text in listed), listed
    html = _html(client.get(themed.base, query_string={"search": "bussen", "audience": "young"}))
    assert "0 godkendte svar passer." in html  # combined with the other filters


# --------------------------------------------------------------------------- number of themes


def test_staff_choose_the_number_of_themes_or_leave_it_automatic(
    client: FlaskClient, session: Session, themed: Themed
) -> None:
    login(client, themed.analyst)
    html = _html(client.get(themed.base))
    assert '<select class="form-select input-width-s" id="n-themes" name="n_themes"' in html
    assert '<option value="auto" selected>Automatisk</option>' in html
    assert '<option value="2">2</option>' in html and '<option value="30">30</option>' in html
    assert '<option value="31">' not in html
    response = client.post(f"{themed.base}/run", data={"n_themes": "6"})
    assert response.status_code == 303 and response.headers["Location"].startswith("/staff/jobs/")
    run = latest_run(session, Scope(themed.campaign.id).key)
    assert run is not None and run.id != themed.run.id
    assert run.requested_themes == "6"
    client.post(f"{themed.base}/run", data={"n_themes": "auto"})
    run = latest_run(session, Scope(themed.campaign.id).key)
    assert run is not None and run.requested_themes == "auto"


@pytest.mark.parametrize("value", ["1", "31", "abc", "0", "-3", "2.5", "٣"])
def test_a_bad_number_of_themes_is_refused_in_danish(
    client: FlaskClient, session: Session, themed: Themed, value: str
) -> None:
    login(client, themed.analyst)
    response = client.post(f"{themed.base}/run", data={"n_themes": value})
    assert response.status_code == 303 and response.headers["Location"].startswith(themed.base)
    html = _html(client.get(response.headers["Location"]))
    assert "Vælg automatisk eller et antal temaer fra 2 til 30." in html
    assert session.scalars(select(ThemeRun)).all() == [themed.run]


def test_the_explorer_links_to_a_build_under_way(
    client: FlaskClient, session: Session, themed: Themed
) -> None:
    from surveys import jobs

    login(client, themed.viewer)
    assert "Temaerne bliver lavet nu" not in _html(client.get(themed.base))
    job, _ = jobs.request_job(  # queued, not run: as while a worker is busy with it
        session,
        kind="themes",
        key=f"themes:{Scope(themed.campaign.id).key}",
        organisation_id=themed.campaign.organisation_id,
        requested_by_id=themed.analyst.id,
        params={},
    )
    html = _html(client.get(themed.base))
    assert "Temaerne bliver lavet nu" in html and f'href="/staff/jobs/{job.id}"' in html
    wall_scope = _html(client.get(themed.base, query_string={"wall": themed.wall.slug}))
    assert f'href="/staff/jobs/{job.id}"' not in wall_scope  # another scope's build


# --------------------------------------------------------------------------- undo


def _step_ids(html: str) -> list[str]:
    return re.findall(r'name="step" value="(\d+)"', html)


def test_undo_in_the_explorer_merge_then_split_newest_first(
    client: FlaskClient, session: Session, themed: Themed
) -> None:
    login(client, themed.analyst)
    keep, gone = themed.key_of(session, "normering"), themed.key_of(session, "skaerm")
    bus = themed.key_of(session, "bus")
    assert "Sammenlægninger og opdelinger" not in _html(client.get(themed.base))
    client.post(f"{themed.base}/{keep}/merge", data={"other": gone})
    client.post(
        f"{themed.base}/{bus}/answers",
        data={"action": "split", "answer_ids": themed.ids["bus"][:2], "label": "To busser"},
    )
    html = _html(client.get(themed.base))
    assert "Sammenlægninger og opdelinger" in html
    assert "To busser delt fra" in html and "lagt sammen med" in html
    # The theme page of the latest step offers the undo too; other themes' pages do not.
    split_page = _html(client.get(f"{themed.base}/{bus}"))
    assert "Seneste ændring:" in split_page and "To busser delt fra" in split_page
    assert _step_ids(split_page) == _step_ids(html)
    assert "Seneste ændring:" not in _html(client.get(f"{themed.base}/{keep}"))
    (newest,) = _step_ids(html)  # only the newest can be undone
    assert html.count(">Fortryd<") == 1

    response = client.post(f"{themed.base}/undo", data={"step": newest})
    assert response.status_code == 303 and response.headers["Location"].endswith("#steps")
    html = _html(client.get(response.headers["Location"]))
    assert "Opdelingen er fortrudt" in html and "Fortrudt" in html
    (older,) = _step_ids(html)
    assert older != newest
    again = client.post(f"{themed.base}/undo", data={"step": newest}, follow_redirects=True)
    assert "Det er allerede fortrudt." in _html(again)  # a second click changes nothing

    html = _html(client.post(f"{themed.base}/undo", data={"step": older}, follow_redirects=True))
    assert "Sammenlægningen er fortrudt" in html and _step_ids(html) == []
    run = latest_run(session, Scope(themed.campaign.id).key)
    assert run is not None and gone in {t.key for t in run.themes}
    assert len(run.themes) == len(themed.run.themes)
    actions = session.scalars(
        select(AuditEntry.action).where(AuditEntry.action == "theme.undo")
    ).all()
    assert len(actions) == 2
    client.post("/staff/logout")
    login(client, themed.admin)
    audit = _html(client.get("/staff/audit"))
    assert "Sammenlægning eller opdeling fortrudt" in audit
    assert "restore" not in audit  # what undo needs is kept, not shown
    assert "Fortrudt:</span> Tema delt" in audit  # the codes in words
    assert "Fortrudt:</span> Temaer slået sammen" in audit


def test_undo_needs_the_right_to_curate_and_the_organisation(
    client: FlaskClient, session: Session, themed: Themed
) -> None:
    keep, gone = themed.key_of(session, "normering"), themed.key_of(session, "skaerm")
    review.merge_themes(session, themed.analyst, Scope(themed.campaign.id), keep, [gone])
    login(client, themed.viewer)
    html = _html(client.get(themed.base))
    assert "lagt sammen med" in html and _step_ids(html) == []  # listed, no button
    step = review.curation_steps(
        session, themed.campaign.organisation_id, Scope(themed.campaign.id)
    )
    assert client.post(f"{themed.base}/undo", data={"step": step[0].id}).status_code == 403
    client.post("/staff/logout")
    login(client, make_staff(session, role="admin"))
    assert client.post(f"{themed.base}/undo", data={"step": step[0].id}).status_code == 404
    client.post("/staff/logout")
    login(client, themed.analyst)
    assert client.post(f"{themed.base}/undo", data={"step": "abc"}).status_code == 404
    assert client.post(f"{themed.base}/undo", data={}).status_code == 400
    response = client.post(f"{themed.base}/undo", data={"step": "999999"}, follow_redirects=True)
    assert "hører ikke til disse temaer" in _html(response)
    run = latest_run(session, Scope(themed.campaign.id).key)
    assert run is not None and gone not in {t.key for t in run.themes}  # nothing undone
