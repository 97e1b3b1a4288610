"""Staff pages that work (issue 24): unique ids, labels that point at the right field."""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Callable
from datetime import UTC, datetime
from html.parser import HTMLParser

from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from surveys.models import Answer, AnswerStatus, Audience
from tests.app.staff_helpers import login, report_file
from tests.factories import make_answer, make_organisation, make_staff, make_wall


class _Ids(HTMLParser):
    """Every id on a page, and which element each label's ``for`` names."""

    def __init__(self) -> None:
        super().__init__()
        self.ids: Counter[str] = Counter()
        self.elements: dict[str, tuple[str, dict[str, str | None]]] = {}
        self.label_targets: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        attributes = dict(attrs)
        if attributes.get("id"):
            self.ids[attributes["id"]] += 1
            self.elements[attributes["id"]] = (tag, attributes)
        if tag == "label" and attributes.get("for"):
            self.label_targets.append(attributes["for"])


def _parse(html: str) -> _Ids:
    parser = _Ids()
    parser.feed(html)
    return parser


def test_wall_without_answers_has_unique_ids_and_the_reply_label_names_the_reply_field(
    client: FlaskClient, session: Session
) -> None:
    organisation = make_organisation(session)
    wall = make_wall(session, organisation=organisation)  # no answers: questions editable
    login(client, make_staff(session, organisation, "admin"))

    page = _parse(client.get(f"/staff/walls/{wall.id}").get_data(as_text=True))

    assert [key for key, count in page.ids.items() if count > 1] == []
    assert "new-prompt-text" in page.label_targets and "reply-text" in page.label_targets
    assert page.elements["reply-text"][0] == "textarea"
    assert page.elements["new-prompt-text"][0] == "input"
    # The fields keep their names, so the views read them as before.
    assert page.elements["reply-text"][1]["name"] == "text"
    assert page.elements["new-prompt-text"][1]["name"] == "text"


def test_accessibility_statement_gives_date_contact_and_complaint_route(
    make_app: Callable[..., Flask],
) -> None:
    app = make_app(ACCESSIBILITY_EMAIL="web@brk.dk", ACCESSIBILITY_PHONE="56 92 00 00")
    html = app.test_client().get("/tilgaengelighed").get_data(as_text=True)

    assert "7. december 2026" in html
    assert 'href="mailto:web@brk.dk"' in html and 'href="tel:56920000"' in html
    assert 'href="https://digst.dk/digital-inklusion/webtilgaengelighed/' in html
    # It claims no more than is true: partly compliant, the known gap named, no outside audit.
    assert "overholder standarden delvist" in html
    assert "kun på dansk" in html
    assert "skærmlæsere" not in html


def test_accessibility_statement_without_configured_contact_points_to_the_organisation(
    client: FlaskClient,
) -> None:
    html = client.get("/tilgaengelighed").get_data(as_text=True)
    assert "mailto:" not in html
    assert "Digitaliseringsstyrelsen" in html


def _options(html: str, name: str) -> list[str]:
    select = re.search(rf'<select[^>]*name="{name}"[^>]*>(.*?)</select>', html, re.S)
    assert select is not None, name
    return re.findall(r'<option[^>]*value="([^"]*)"', select.group(1))


def test_youth_wall_asks_the_young_persons_own_age_with_youth_bands(
    client: FlaskClient, session: Session
) -> None:
    wall = make_wall(session, audience=Audience.YOUNG, profile_questions=["age_group"])
    html = client.get(f"/w/{wall.slug}").get_data(as_text=True)
    assert _options(html, "age_group") == ["", "13-17", "18-24"]
    assert '<label for="age_group">Din alder</label>' in html
    assert "Dit barns alder" not in html


def test_without_javascript_an_age_that_does_not_fit_the_role_is_refused_and_explained(
    client: FlaskClient, session: Session
) -> None:
    wall = make_wall(session, audience=Audience.PARENTS)
    data = {
        "prompt_id": str(wall.prompts[0].id),
        "text": "Et sted at være om aftenen",
        "client_submission_id": "no-js-answer-1",
        "role": "young",
        "age_group": "0-2",
    }
    response = client.post(f"/w/{wall.slug}", data=data)
    assert response.status_code == 400
    html = response.get_data(as_text=True)
    assert "Alderen passer ikke til dit svar på" in html
    # Shown again with the choices that fit the role given.
    assert _options(html, "age_group") == ["", "13-17", "18-24"]
    assert '<label for="age_group">Din alder</label>' in html

    response = client.post(f"/w/{wall.slug}", data={**data, "age_group": "13-17"})
    assert response.status_code == 303
    answer = session.scalars(select(Answer)).one()
    assert answer.profile == {"role": "young", "age_group": "13-17"}


def test_someone_expecting_a_child_is_not_asked_an_age(
    client: FlaskClient, session: Session
) -> None:
    wall = make_wall(session, audience=Audience.EVERYONE)
    data = {
        "prompt_id": str(wall.prompts[0].id),
        "text": "Mere hjælp før fødslen",
        "client_submission_id": "no-js-answer-2",
        "role": "expecting",
        "age_group": "0-2",
    }
    html = client.post(f"/w/{wall.slug}", data=data).get_data(as_text=True)
    assert "Alderen passer ikke til dit svar på" in html
    response = client.post(f"/w/{wall.slug}", data={**data, "age_group": ""})
    assert response.status_code == 303


def test_wall_page_links_to_poster_qr_code_and_live_view(
    client: FlaskClient, session: Session
) -> None:
    organisation = make_organisation(session)
    wall = make_wall(session, "del-mig", organisation=organisation)
    login(client, make_staff(session, organisation, "viewer"))
    html = client.get(f"/staff/walls/{wall.id}").get_data(as_text=True)
    assert '<a href="/w/del-mig/poster">A4-plakat til print</a>' in html
    assert f'href="/staff/walls/{wall.id}/qr.svg" download="del-mig-qr.svg"' in html
    assert '<a href="/live/del-mig">Live-visning til projektor</a>' in html
    for path in ("/w/del-mig/poster", f"/staff/walls/{wall.id}/qr.svg", "/live/del-mig"):
        assert client.get(path).status_code == 200, path


def test_failed_login_is_headed_as_a_failed_login(client: FlaskClient, session: Session) -> None:
    user = make_staff(session)
    response = client.post("/staff/login", data={"email": user.email, "password": "forkert"})
    html = response.get_data(as_text=True)
    assert "Du kunne ikke logges ind" in html
    assert "Formularen kunne ikke gemmes" not in html


def test_bulk_approval_says_what_happened(client: FlaskClient, session: Session) -> None:
    organisation = make_organisation(session)
    wall = make_wall(session, organisation=organisation)
    answers = [
        make_answer(session, wall, f"Svar {i}", status=AnswerStatus.PENDING) for i in range(3)
    ]
    login(client, make_staff(session, organisation, "moderator"))
    ids = [a.id for a in answers]
    html = client.post(
        "/staff/moderation/bulk",
        data={"action": "approve", "answer_ids": ids},
        follow_redirects=True,
    ).get_data(as_text=True)
    assert "3 svar blev godkendt." in html and "ændret" not in html
    html = client.post(
        "/staff/moderation/bulk", data={"action": "hide", "answer_ids": ids}, follow_redirects=True
    ).get_data(as_text=True)
    assert "3 svar blev skjult." in html


def test_a_wall_not_yet_open_says_when_it_opens_in_copenhagen_time(
    client: FlaskClient, session: Session
) -> None:
    opens = datetime(2030, 6, 1, 7, 0, tzinfo=UTC)  # 09:00 in Copenhagen (summer time)
    make_wall(session, "snart", opens_at=opens)
    response = client.get("/w/snart")
    assert response.status_code == 403
    assert (
        "Denne væg er ikke åbnet endnu. Den åbner den 1. juni 2030 kl. 09.00."
        in response.get_data(as_text=True)
    )


def test_only_flagged_keeps_an_answer_still_waiting_after_its_finding_is_redacted(
    client: FlaskClient, session: Session
) -> None:
    organisation = make_organisation(session)
    wall = make_wall(session, organisation=organisation)
    phone = make_answer(
        session,
        wall,
        "Ring til mig på 22 33 44 55",
        status=AnswerStatus.PENDING,
        pii_findings=[{"kind": "phone", "start": 16, "end": 27}],
    )
    make_answer(session, wall, "Flere bænke", status=AnswerStatus.PENDING)
    login(client, make_staff(session, organisation, "moderator"))
    client.post(f"/staff/answers/{phone.id}/redact", data={"mode": "all", "flagged": "1"})

    html = client.get("/staff/moderation", query_string={"flagged": "1"}).get_data(as_text=True)
    assert f'id="answer-{phone.id}"' in html  # still waiting, still in view
    assert "Ring til mig på [fjernet]" in html
    assert "Flere bænke" not in html
    assert "(1 venter)" in html


def test_enig_without_javascript_can_be_taken_back(client: FlaskClient, session: Session) -> None:
    wall = make_wall(session, "enig-uden-js")
    answer = make_answer(session, wall, "Gratis svømmehal for børn")
    path = f"/w/enig-uden-js/svar/{answer.id}/enig"
    html = client.get("/w/enig-uden-js").get_data(as_text=True)  # gives the device its key
    assert f'name="agreed" value="1" data-answer="{answer.id}" aria-pressed="false"' in html
    assert f'aria-describedby="enige-{answer.id}"' in html

    client.post(path, data={"agreed": "1"})
    client.post(path, data={"agreed": "1"})  # twice: still one
    html = client.get("/w/enig-uden-js").get_data(as_text=True)
    assert f'name="agreed" value="0" data-answer="{answer.id}" aria-pressed="true"' in html
    assert '<span class="agree-count">1</span> er enige' in html

    client.post(path, data={"agreed": "0"})  # the pressed button sends 0
    html = client.get("/w/enig-uden-js").get_data(as_text=True)
    assert f'name="agreed" value="1" data-answer="{answer.id}" aria-pressed="false"' in html
    assert '<span class="agree-count">0</span> er enige' in html


def test_audit_log_in_words_and_copenhagen_time(client: FlaskClient, session: Session) -> None:
    organisation = make_organisation(session)
    wall = make_wall(session, organisation=organisation)
    answer = make_answer(session, wall, "Flere bænke", status=AnswerStatus.PENDING)
    admin = make_staff(session, organisation, "admin")
    login(client, admin)
    client.post(f"/staff/answers/{answer.id}/status", data={"action": "approve"})
    client.post(
        f"/staff/walls/{wall.id}/edit",
        data={
            "title": wall.title,
            "slug": wall.slug,
            "intro": "",
            "audience": "parents",
            "moderation": "pre",
            "languages": ["da"],
            "opens_at": "2030-06-01T09:00",
            "closes_at": "",
            "profile_questions": ["role"],
            "areas": "",
        },
    )
    html = client.get("/staff/audit").get_data(as_text=True)
    assert "Svar godkendt" in html and f"Svar {answer.id}" in html
    assert '<span class="audit-key">Status:</span> Venter' in html
    assert '<span class="audit-key">Status:</span> Godkendt' in html
    assert "Logget ind" in html
    # The wall's new opening time as entered (Copenhagen), not in UTC.
    assert '<span class="audit-key">Åbner:</span> 1. jun. 2030 09:00' in html


def test_exports_carry_words_numbers_and_dates(client: FlaskClient, session: Session) -> None:
    import io

    from openpyxl import load_workbook

    organisation = make_organisation(session)
    wall = make_wall(session, organisation=organisation, audience=Audience.YOUNG)
    day = datetime(2026, 5, 4, 10, 0, tzinfo=UTC)
    for i in range(5):  # a group large enough to keep its profile values
        make_answer(session, wall, f"Svar {i}", role="young", age_group="13-17", created_at=day)
    login(client, make_staff(session, organisation, "analyst"))

    csv_text = client.get(f"/staff/campaigns/{wall.campaign_id}/report.csv").get_data(as_text=True)
    assert ";Ung;13–17 år;" in csv_text and ";young;" not in csv_text
    assert ";Mobil eller computer;" in csv_text and ";web;" not in csv_text

    body = report_file(client, wall.campaign_id, "xlsx").get_data()
    sheet = load_workbook(io.BytesIO(body)).active
    header = [cell.value for cell in sheet[1]]
    row = dict(zip(header, [cell.value for cell in sheet[2]], strict=True))
    assert isinstance(row["Svar nr."], int) and isinstance(row["Spørgsmål nr."], int)
    assert row["Enig"] == 0
    assert row["Dato"] == datetime(2026, 5, 4)  # a real date (Excel keeps it as a date-time)
    assert row["Rolle"] == "Ung" and row["Aldersgruppe"] == "13–17 år"
    assert row["Sprog"] in ("", None) or row["Sprog"] == "Dansk"


def test_report_chart_shows_long_theme_names_whole(client: FlaskClient, session: Session) -> None:
    from tests.surveys.test_report import make_run

    organisation = make_organisation(session)
    wall = make_wall(session, organisation=organisation)
    answers = [make_answer(session, wall, f"Legepladser og skygge {i}") for i in range(6)]
    name = "Legepladser med skygge, bænke og drikkevand til de varme sommerdage"
    make_run(session, wall.campaign, {"lege": [a.id for a in answers]}, labels={"lege": name})
    login(client, make_staff(session, organisation, "analyst"))
    html = client.get(f"/staff/campaigns/{wall.campaign_id}/report").get_data(as_text=True)
    start = html.index('<svg class="bar-chart"')
    chart = html[start : html.index("</svg>", start)]
    spans = re.findall(r"<tspan[^>]*>([^<]*)</tspan>", chart)
    assert " ".join(spans) == name  # every word, over two lines, nothing cut off
    assert len(spans) == 2 and "…" not in chart
