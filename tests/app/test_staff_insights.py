"""The staff page of themes by group: every dimension, small groups never shown, bad input."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime

import pytest
from flask.testing import FlaskClient
from sqlalchemy.orm import Session

from surveys.models import (
    AnswerStatus,
    Audience,
    Channel,
    Theme,
    ThemeAssignment,
    ThemeRun,
    Wall,
    theme_scope_key,
)
from tests.app.staff_helpers import OrgWorld, login, make_world
from tests.factories import make_answer, make_organisation, make_staff, make_wall

MAY = datetime(2026, 5, 12, 10, tzinfo=UTC)
JUNE = datetime(2026, 6, 3, 10, tzinfo=UTC)


def _run(session: Session, wall: Wall, themes: dict[str, list[int]], *, scoped: bool = False):
    """A stored run with the given themes (label = key) over the campaign or the wall."""
    wall_id = wall.id if scoped else None
    run = ThemeRun(
        campaign_id=wall.campaign_id,
        wall_id=wall_id,
        scope_key=theme_scope_key(wall.campaign_id, wall_id, None),
        model=b"",
    )
    session.add(run)
    for position, (label, members) in enumerate(themes.items()):
        theme = Theme(key=f"t{position}", position=position, label=label)
        run.themes.append(theme)
        session.flush()
        for answer_id in members:
            session.add(ThemeAssignment(theme_id=theme.id, answer_id=answer_id, run_id=run.id))
    session.commit()
    return run


def _answers(session: Session, wall: Wall, n: int, **fields) -> list[int]:
    return [make_answer(session, wall, f"svar {i}", **fields).id for i in range(n)]


@pytest.fixture
def world(session: Session) -> OrgWorld:
    """A campaign whose everyone-wall has parents, young people, areas and months."""
    world = make_world(session, "indsigt")
    wall = world.wall
    wall.audience = Audience.EVERYONE
    session.commit()
    parents = _answers(session, wall, 12, role="parent", area="Rønne", created_at=MAY)
    young = _answers(session, wall, 8, role="young", area="Nexø", created_at=JUNE)
    # Small groups: 3 answers from Gudhjem (an area given only in answers), 3 in January 2025.
    small = _answers(
        session,
        wall,
        3,
        area="Gudhjem",
        channel=Channel.PAPER,
        written_on=date(2025, 1, 15),
        created_at=JUNE,
    )
    _answers(session, wall, 2, role="parent", area="Rønne", status=AnswerStatus.PENDING)
    _run(
        session,
        wall,
        {"Busser om aftenen": parents + young[:1], "Legepladser <b>": young + small},
    )
    return world


def _page(client: FlaskClient, world: OrgWorld, query: str = "") -> str:
    response = client.get(f"/staff/campaigns/{world.campaign.id}/themes/breakdown{query}")
    assert response.status_code == 200, response.status_code
    return response.get_data(as_text=True)


def _table(html: str) -> str:
    match = re.search(r"<table.*?</table>", html, re.S)
    assert match, "no table on the page"
    return match.group(0)


def test_audience_breakdown(client: FlaskClient, world: OrgWorld) -> None:
    login(client, world.other_user)  # a viewer may look
    html = _page(client, world)
    table = _table(html)
    assert "<caption" in table and 'scope="col"' in table and 'scope="row"' in table
    assert "Forældre" in table and "Unge" in table
    # The three answers without a role on the everyone-wall are a group too small to show.
    assert "Alle</th>" not in table and "Alle<br>" not in table
    assert "3 svar er udeladt for at beskytte anonymiteten" in html
    assert "Busser om aftenen" in table
    assert "Legepladser &lt;b&gt;" in table and "Legepladser <b>" not in html
    # Parents: 12 of 12 in the bus theme, against 13 of 23 overall: marked, not by colour.
    assert "▲" in table and "overrepræsenteret: 1,8 gange andelen" in table
    assert 'aria-current="page" class="current">Målgruppe' in html


def test_area_breakdown_leaves_out_small_areas(client: FlaskClient, world: OrgWorld) -> None:
    login(client, world.admin)
    html = _page(client, world, "?by=area")
    table = _table(html)
    assert "Rønne" in table and "Nexø" in table
    assert "Gudhjem" not in html  # not in the table, the note or the area filter
    assert "3 svar er udeladt" in html


def test_period_breakdown_uses_danish_months(client: FlaskClient, world: OrgWorld) -> None:
    login(client, world.admin)
    table = _table(_page(client, world, "?by=period"))
    assert "maj 2026" in table and "juni 2026" in table
    assert "januar 2025" not in table  # the paper answers' month: 3 answers
    assert table.index("maj 2026") < table.index("juni 2026")


def test_two_small_groups_pooled_as_other(client: FlaskClient, session: Session) -> None:
    world = make_world(session, "samlet")
    wall = world.wall
    ids = _answers(session, wall, 6, area="Rønne")
    ids += _answers(session, wall, 3, area="Aakirkeby")
    ids += _answers(session, wall, 3, area="Svaneke")
    _run(session, wall, {"Tema": ids})
    login(client, world.admin)
    html = _page(client, world, "?by=area")
    table = _table(html)
    assert "Andre (små grupper samlet)" in table
    assert "Aakirkeby" not in html and "Svaneke" not in html
    assert "udeladt" not in html


def test_filters_and_scope(client: FlaskClient, session: Session, world: OrgWorld) -> None:
    login(client, world.admin)
    html = _page(client, world, "?by=area&audience=parents")
    table = _table(html)
    assert "Rønne" in table and "Nexø" not in table
    assert '<option value="parents" selected>' in html
    # The tabs keep the filter.
    assert "by=period" in html and "audience=parents" in html
    # A wall of the campaign without a run of its own: a friendly message.
    other = make_wall(session, "indsigt-unge", campaign=world.campaign, audience=Audience.YOUNG)
    html = _page(client, world, f"?wall={other.slug}")
    assert "Ingen temaer endnu" in html and "<table" not in html
    # A run of that wall is used for that wall.
    _run(session, other, {"Egen væg": _answers(session, other, 5)}, scoped=True)
    table = _table(_page(client, world, f"?wall={other.slug}"))
    assert "Egen væg" in table and "Busser om aftenen" not in table
    html = _page(client, world, f"?prompt={other.prompts[1].id}")
    assert "Ingen temaer endnu" in html


def test_no_run_yet(client: FlaskClient, session: Session) -> None:
    organisation = make_organisation(session, "tom")
    wall = make_wall(session, organisation=organisation)
    _answers(session, wall, 6)
    login(client, make_staff(session, organisation, "viewer"))
    response = client.get(f"/staff/campaigns/{wall.campaign_id}/themes/breakdown?by=area")
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert "Ingen temaer endnu" in html and "<table" not in html


def test_other_organisation_gets_404(client: FlaskClient, session: Session, world: OrgWorld):
    intruder = make_world(session, "fremmed")
    login(client, intruder.admin)
    url = f"/staff/campaigns/{world.campaign.id}/themes/breakdown"
    assert client.get(url).status_code == 404
    # ... also when naming its own wall on the other organisation's campaign.
    assert client.get(f"{url}?wall={intruder.wall.slug}").status_code == 404
    # Its own campaign with the other organisation's wall or question: not part of it.
    own = f"/staff/campaigns/{intruder.campaign.id}/themes/breakdown"
    assert client.get(f"{own}?wall={world.wall.slug}").status_code == 400
    assert client.get(f"{own}?prompt={world.wall.prompts[0].id}").status_code == 400


@pytest.mark.parametrize(
    ("query", "status"),
    [
        ("?by=nonsense", 200),
        ("?by=", 200),
        ("?since=2026-13-45&until=x&audience=martians&channel=fax&area=" + "x" * 3000, 200),
        ("?prompt_id=abc", 200),
        ("?wall=findes-ikke", 400),
        ("?wall=" + "w" * 500, 400),
        ("?prompt=abc", 400),
        ("?prompt=-1", 400),
        ("?prompt=99999999999999999999", 400),
        ("?prompt=999999", 400),
    ],
)
def test_bad_parameters_are_4xx_never_500(
    client: FlaskClient, world: OrgWorld, query: str, status: int
) -> None:
    login(client, world.admin)
    url = f"/staff/campaigns/{world.campaign.id}/themes/breakdown{query}"
    assert client.get(url).status_code == status
    assert client.get("/staff/campaigns/99999999/themes/breakdown").status_code == 404


def test_logged_out_is_sent_to_login(client: FlaskClient, world: OrgWorld) -> None:
    response = client.get(f"/staff/campaigns/{world.campaign.id}/themes/breakdown")
    assert response.status_code in (302, 303)
    assert "/staff/login" in response.headers["Location"]


def test_no_marks_when_no_group_stands_out(client: FlaskClient, session: Session) -> None:
    world = make_world(session, "jaevnt")
    wall = world.wall
    ronne = _answers(session, wall, 10, area="Rønne")
    nexo = _answers(session, wall, 10, area="Nexø")
    _run(session, wall, {"Jævnt fordelt": ronne[:5] + nexo[:5]})
    login(client, world.admin)
    html = _page(client, world, "?by=area")
    assert "▲" not in _table(html)
    assert "Ingen gruppe skiller sig tydeligt ud i noget tema." in html
