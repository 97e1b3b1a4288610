"""The report in the workspace, its PDF and exports, publishing, the public page and the CLI."""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from pathlib import Path

import pytest
from flask.testing import FlaskClient, FlaskCliRunner
from openpyxl import load_workbook
from pypdf import PdfReader
from sqlalchemy import select
from sqlalchemy.orm import Session

from surveys.models import (
    Answer,
    AnswerStatus,
    AuditEntry,
    Campaign,
    Organisation,
    StaffRole,
    StaffUser,
    Wall,
    WallReply,
)
from tests.app.staff_helpers import login, report_file
from tests.factories import make_answer, make_organisation, make_staff, make_wall
from tests.surveys.test_report import make_run

DANISH = "Æ Ø Å æ ø å"
SCRIPT = "<script>alert('hej')</script>"


@dataclass
class World:
    organisation: Organisation
    campaign: Campaign
    wall: Wall
    quoted: Answer
    hostile: Answer
    pending: Answer
    staff: dict[StaffRole, StaffUser]


def make_report_world(session: Session, language: str = "da", *, with_run: bool = True) -> World:
    """A campaign with approved, pending and hostile answers, a theme run and a reply."""
    organisation = make_organisation(session)
    wall = make_wall(session, organisation=organisation, title="Forældrevæggen")
    campaign = wall.campaign
    campaign.language = language
    campaign.title = "Børneliv på Bornholm"
    quoted = make_answer(session, wall, f"Vi elsker stranden og skoven: {DANISH}")
    hostile = make_answer(session, wall, f"Flere bænke {SCRIPT} <b>fed</b>")
    others = [make_answer(session, wall, f"Legepladsen nummer {i} er god") for i in range(4)]
    pending = make_answer(session, wall, "Hemmeligt ventende svar", status=AnswerStatus.PENDING)
    session.add(WallReply(wall_id=wall.id, text="Vi bygger en ny legeplads i foråret"))
    session.add(WallReply(wall_id=wall.id, text="Skjult svar fra os", is_hidden=True))
    session.commit()
    if with_run:
        members = [quoted.id, hostile.id, pending.id] + [a.id for a in others]
        make_run(
            session,
            campaign,
            {"leg": members},
            labels={"leg": "Legepladser og natur"},
            representatives={"leg": [pending.id, quoted.id, hostile.id]},
            descriptions={"leg": "Familierne vil have flere steder at lege."},
        )
    staff = {role: make_staff(session, organisation, role) for role in StaffRole}
    return World(organisation, campaign, wall, quoted, hostile, pending, staff)


def _pdf_text(data: bytes) -> str:
    reader = PdfReader(io.BytesIO(data))
    return " ".join(" ".join((page.extract_text() or "") for page in reader.pages).split())


def test_staff_report_page_shows_the_report_under_the_csp(
    client: FlaskClient, session: Session
) -> None:
    world = make_report_world(session)
    login(client, world.staff[StaffRole.ADMIN])
    response = client.get(f"/staff/campaigns/{world.campaign.id}/report")
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert "Legepladser og natur" in html and "Familierne vil have flere steder" in html
    assert "Sådan har vi spurgt" in html and "Det gør vi nu" in html
    assert "Vi bygger en ny legeplads i foråret" in html and "Skjult svar fra os" not in html
    assert "Hemmeligt ventende svar" not in html
    assert DANISH in html
    assert "&lt;script&gt;alert(&#39;hej&#39;)&lt;/script&gt; &lt;b&gt;fed&lt;/b&gt;" in html
    assert SCRIPT not in html and "<b>fed</b>" not in html
    assert 'style="' not in html and "<style" not in html
    assert 'role="img"' in html and "<title id=" in html  # the accessible chart
    for suffix in ("report.pdf", "report.csv", "report.xlsx", "report/publish"):
        assert f"/staff/campaigns/{world.campaign.id}/{suffix}" in html
    campaign_page = client.get(f"/staff/campaigns/{world.campaign.id}").get_data(as_text=True)
    assert f"/staff/campaigns/{world.campaign.id}/report" in campaign_page


def test_viewer_reads_the_report_but_cannot_export_or_publish(
    client: FlaskClient, session: Session
) -> None:
    world = make_report_world(session)
    login(client, world.staff[StaffRole.VIEWER])
    base = f"/staff/campaigns/{world.campaign.id}"
    html = client.get(f"{base}/report").get_data(as_text=True)
    assert "report.pdf" in html and "report.csv" not in html and "report/publish" not in html
    assert report_file(client, world.campaign.id, "pdf").status_code == 200
    assert client.get(f"{base}/report.csv").status_code == 403
    assert client.post(f"{base}/report.xlsx").status_code == 403
    assert client.post(f"{base}/report/publish").status_code == 403
    session.refresh(world.campaign)
    assert world.campaign.published_at is None


def test_pdf_has_danish_characters_and_shows_html_as_text(
    client: FlaskClient, session: Session
) -> None:
    world = make_report_world(session)
    login(client, world.staff[StaffRole.VIEWER])
    response = report_file(client, world.campaign.id, "pdf")
    assert response.status_code == 200
    assert response.mimetype == "application/pdf"
    assert response.headers["Content-Disposition"].startswith("attachment; filename=")
    assert response.data.startswith(b"%PDF")
    text = _pdf_text(response.data)
    assert DANISH in text
    assert SCRIPT in text and "<b>fed</b>" in text  # shown as text, never interpreted
    assert "Legepladser og natur" in text and "Børneliv på Bornholm" in text
    assert "Sådan har vi spurgt" in text and "Side 2 af" in text
    assert "Hemmeligt ventende svar" not in text and "Skjult svar fra os" not in text


def test_english_campaign_gets_an_english_report(client: FlaskClient, session: Session) -> None:
    world = make_report_world(session, language="en")
    login(client, world.staff[StaffRole.ADMIN])
    base = f"/staff/campaigns/{world.campaign.id}"
    html = client.get(f"{base}/report").get_data(as_text=True)
    assert "How we asked" in html and "What we are doing now" in html
    assert 'lang="en"' in html
    assert "Sådan har vi spurgt" not in html
    assert "Hent PDF" in html  # the workspace around it stays in the staff's language
    text = _pdf_text(report_file(client, world.campaign.id, "pdf").data)
    assert "How we asked" in text and "Page 2 of" in text and "Side 2" not in text


def test_report_without_themes_says_so(client: FlaskClient, session: Session) -> None:
    world = make_report_world(session, with_run=False)
    login(client, world.staff[StaffRole.MANAGER])
    base = f"/staff/campaigns/{world.campaign.id}"
    html = client.get(f"{base}/report").get_data(as_text=True)
    assert "Svarene er endnu ikke grupperet i temaer" in html
    assert "disabled" in html  # nothing to publish yet
    response = client.post(f"{base}/report/publish")
    assert response.status_code == 200
    assert "Der er endnu ingen temaer at offentliggøre" in response.get_data(as_text=True)
    session.refresh(world.campaign)
    assert world.campaign.published_at is None
    assert report_file(client, world.campaign.id, "pdf").data.startswith(b"%PDF")


def test_csv_and_xlsx_downloads_are_audited(client: FlaskClient, session: Session) -> None:
    world = make_report_world(session)
    analyst = world.staff[StaffRole.ANALYST]
    login(client, analyst)
    base = f"/staff/campaigns/{world.campaign.id}"
    response = client.get(f"{base}/report.csv")
    assert response.status_code == 200
    assert response.headers["Content-Type"] == "text/csv; charset=utf-8"
    text = response.data.decode("utf-8")
    rows = list(csv.DictReader(io.StringIO(text[1:]), delimiter=";"))
    assert "Temaer" in rows[0] and "Svar" in rows[0]
    by_text = {r["Svar"]: r for r in rows}
    hostile = by_text[f"Flere bænke {SCRIPT} <b>fed</b>"]
    assert hostile["Temaer"] == "Legepladser og natur"
    assert "Hemmeligt ventende svar" not in text
    response = report_file(client, world.campaign.id, "xlsx")
    assert response.status_code == 200
    assert response.mimetype.endswith("spreadsheetml.sheet")
    sheet = load_workbook(io.BytesIO(response.data)).active
    assert sheet.title == "Svar" and sheet.freeze_panes == "A2"
    values = [c.value for row in sheet.iter_rows() for c in row]
    assert f"Vi elsker stranden og skoven: {DANISH}" in values
    entries = session.scalars(
        select(AuditEntry).where(AuditEntry.action == "campaign.export").order_by(AuditEntry.id)
    ).all()
    assert [(e.actor_id, (e.after or {}).get("format")) for e in entries] == [
        (analyst.id, "csv"),
        (analyst.id, "xlsx"),
    ]


def test_public_page_is_404_until_published_and_shows_only_approved(
    client: FlaskClient, session: Session
) -> None:
    world = make_report_world(session)
    slug = world.campaign.slug
    assert client.get(f"/c/{slug}/hoert").status_code == 404
    assert client.get("/c/findes-ikke/hoert").status_code == 404
    assert "/hoert" not in client.get(f"/w/{world.wall.slug}").get_data(as_text=True)

    login(client, world.staff[StaffRole.ANALYST])
    assert client.post(f"/staff/campaigns/{world.campaign.id}/report/publish").status_code == 403
    client.post("/staff/logout")
    manager = world.staff[StaffRole.MANAGER]
    login(client, manager)
    response = client.post(
        f"/staff/campaigns/{world.campaign.id}/report/publish",
        data={"include": "leg", "quote-leg": [world.quoted.id, world.hostile.id]},
    )
    assert response.status_code == 303
    session.refresh(world.campaign)
    assert world.campaign.published_at is not None
    client.post("/staff/logout")

    response = client.get(f"/c/{slug}/hoert")
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert "Det har vi hørt" in html and "Legepladser og natur" in html
    assert DANISH in html and "Vi bygger en ny legeplads i foråret" in html
    assert "Hemmeligt ventende svar" not in html and "Skjult svar fra os" not in html
    assert SCRIPT not in html and "&lt;script&gt;" in html
    assert 'style="' not in html
    assert f'href="/w/{world.wall.slug}"' in html
    assert f"/c/{slug}/hoert" in client.get(f"/w/{world.wall.slug}").get_data(as_text=True)

    login(client, manager)
    report_url = f"/staff/campaigns/{world.campaign.id}/report"
    html = client.get(report_url).get_data(as_text=True)
    assert "Gennemse og offentliggør igen" in html and "viser en tidligere udgave" not in html
    make_run(session, world.campaign, {"ny": [world.quoted.id]}, labels={"ny": "Nyt tema"})
    html = client.get(report_url).get_data(as_text=True)
    assert "viser en tidligere udgave af temaerne" in html
    assert "Nyt tema" not in client.get(f"/c/{slug}/hoert").get_data(as_text=True)
    assert client.post(f"/staff/campaigns/{world.campaign.id}/report/unpublish").status_code == 303
    assert client.get(f"/c/{slug}/hoert").status_code == 404
    actions = session.scalars(
        select(AuditEntry.action)
        .where(AuditEntry.action.like("campaign.%publish"))
        .order_by(AuditEntry.id)
    ).all()
    assert actions == ["campaign.publish", "campaign.unpublish"]


def test_public_page_of_an_english_campaign_is_english(
    client: FlaskClient, session: Session
) -> None:
    world = make_report_world(session, language="en")
    world.campaign.published_at = world.campaign.created_at
    world.campaign.published_run_id = None  # the published run is gone: no themes shown
    session.commit()
    html = client.get(f"/c/{world.campaign.slug}/hoert").get_data(as_text=True)
    assert "What we heard" in html and "What we are doing now" in html
    assert "Legepladser og natur" not in html


# -- command line -------------------------------------------------------------------------------


@pytest.mark.parametrize("fmt", ["html", "pdf", "csv", "xlsx"])
def test_cli_writes_each_format(
    runner: FlaskCliRunner, session: Session, tmp_path: Path, fmt: str
) -> None:
    world = make_report_world(session)
    out = tmp_path / f"rapport.{fmt}"
    args = ["report", "build", world.campaign.slug, "--format", fmt, "--out", str(out)]
    result = runner.invoke(args=args)
    assert result.exit_code == 0, result.output
    assert str(out) in result.output
    data = out.read_bytes()
    if fmt == "html":
        html = data.decode("utf-8")
        assert html.startswith("<!doctype html>") and "<style>" in html
        assert 'rel="stylesheet"' not in html  # standalone: the stylesheet is embedded
        assert "Sådan har vi spurgt" in html and DANISH in html
        assert "&lt;script&gt;" in html and SCRIPT not in html
    elif fmt == "pdf":
        assert data.startswith(b"%PDF") and DANISH in _pdf_text(data)
    elif fmt == "csv":
        assert data.startswith("\ufeff".encode()) and SCRIPT.encode() in data
    else:
        assert load_workbook(io.BytesIO(data)).active.freeze_panes == "A2"
    if fmt in ("csv", "xlsx"):
        entry = session.scalars(select(AuditEntry)).one()
        assert (entry.action, entry.actor_email) == ("campaign.export", "command line")


def test_cli_takes_the_format_from_the_file_name(
    runner: FlaskCliRunner, session: Session, tmp_path: Path
) -> None:
    world = make_report_world(session, with_run=False)
    out = tmp_path / "rapport.html"
    result = runner.invoke(args=["report", "build", world.campaign.slug, "--out", str(out)])
    assert result.exit_code == 0, result.output
    assert "Svarene er endnu ikke grupperet i temaer" in out.read_text(encoding="utf-8")


def test_cli_errors_are_clear(runner: FlaskCliRunner, session: Session, tmp_path: Path) -> None:
    world = make_report_world(session, with_run=False)
    slug = world.campaign.slug
    result = runner.invoke(args=["report", "build", "nope", "--out", str(tmp_path / "x.pdf")])
    assert result.exit_code != 0 and "No campaign with slug 'nope'" in result.output
    result = runner.invoke(
        args=["report", "build", slug, "--format", "docx", "--out", str(tmp_path / "x.docx")]
    )
    assert result.exit_code == 2 and "docx" in result.output
    result = runner.invoke(args=["report", "build", slug, "--out", str(tmp_path / "rapport")])
    assert result.exit_code == 2 and "--format" in result.output
    missing = tmp_path / "no" / "such" / "folder" / "x.pdf"
    result = runner.invoke(args=["report", "build", slug, "--out", str(missing)])
    assert result.exit_code == 1 and "Cannot write" in result.output
    blocked = tmp_path / "readonly"
    blocked.mkdir()
    blocked.chmod(0o500)
    try:
        result = runner.invoke(args=["report", "build", slug, "--out", str(blocked / "x.csv")])
        writable = (blocked / "x.csv").exists()
    finally:
        blocked.chmod(0o700)
    if not writable:  # root may write anyway
        assert result.exit_code == 1 and "Cannot write" in result.output
    assert not list(tmp_path.glob("x.*"))


def test_pdf_fetcher_reads_static_files_and_nothing_else() -> None:
    from app.staff.report_views import REPORT_CSS, STATIC, local_fetcher

    fetcher = local_fetcher()
    response = fetcher.fetch(REPORT_CSS.as_uri())
    assert response.read().startswith(b"/*") and response.content_type == "text/css"
    response.close()
    outside = (STATIC / ".." / "__init__.py").resolve()
    for url in (
        "https://example.com/report.css",
        "http://127.0.0.1:5000/static/css/report.css",
        "file:///etc/passwd",
        outside.as_uri(),
        (STATIC / "css" / "no-such-file.css").as_uri(),
    ):
        with pytest.raises(ValueError):
            fetcher.fetch(url)


def test_staff_written_labels_are_escaped_in_the_chart_and_the_pdf(
    client: FlaskClient, session: Session
) -> None:
    world = make_report_world(session, with_run=False)
    label = '<img src=x onerror="alert(1)">Bænke'
    make_run(
        session,
        world.campaign,
        {"t": [world.quoted.id, world.hostile.id]},
        labels={"t": label},
        descriptions={"t": "<script>alert(2)</script>"},
    )
    login(client, world.staff[StaffRole.VIEWER])
    base = f"/staff/campaigns/{world.campaign.id}"
    html = client.get(f"{base}/report").get_data(as_text=True)
    assert "<img src=x" not in html and "<script>alert(2)" not in html
    assert "&lt;img src=x onerror=&#34;alert(1)&#34;&gt;Bænke" in html
    assert html.count("&lt;img src=x") >= 4  # summary, chart, table, theme heading
    text = _pdf_text(report_file(client, world.campaign.id, "pdf").data)
    assert "<script>alert(2)</script>" in text and "Bænke" in text


def _pdf(client: FlaskClient, base: str, **form: str) -> tuple[str, str]:
    """Ask for the report's PDF (a job, run at once in tests): its file name and text."""
    job_page = client.post(f"{base}/report.pdf", data=form).headers["Location"]
    response = client.get(f"{job_page}/file")
    assert response.status_code == 200 and response.mimetype == "application/pdf"
    return response.headers["Content-Disposition"], _pdf_text(response.data)


def test_the_pdf_shows_the_published_themes_and_the_latest_as_a_labelled_draft(
    client: FlaskClient, session: Session
) -> None:
    world = make_report_world(session)
    manager = world.staff[StaffRole.MANAGER]
    login(client, manager)
    base = f"/staff/campaigns/{world.campaign.id}"
    _, draft = _pdf(client, base)
    assert "Kladde: de nyeste temaer, ikke offentliggjort." in draft  # nothing published yet
    assert "Legepladser og natur" in draft
    html = client.get(f"{base}/report").get_data(as_text=True)
    assert "Intet er offentliggjort endnu" in html and "Hent PDF" in html
    response = client.post(
        f"{base}/report/publish",
        data={"include": "leg", "quote-leg": [world.quoted.id]},
    )
    assert response.status_code == 303
    make_run(session, world.campaign, {"ny": [world.quoted.id]}, labels={"ny": "Nyt tema"})

    name, published = _pdf(client, base)
    assert "-rapport-" in name and "kladde" not in name
    assert "Temaerne, som de blev offentliggjort" in published and "Kladde" not in published
    assert "Legepladser og natur" in published and "Nyt tema" not in published
    assert "Flere bænke" not in published  # only the quote staff confirmed

    name, latest = _pdf(client, base, version="draft")
    job_page = client.post(f"{base}/report.pdf", data={"version": "draft"}).headers["Location"]
    assert f'href="{base}/report?version=draft"' in client.get(job_page).get_data(as_text=True)
    assert "-rapport-kladde-" in name
    assert "Kladde: de nyeste temaer, ikke offentliggjort." in latest
    assert "Nyt tema" in latest and "Legepladser og natur" not in latest

    html = client.get(f"{base}/report").get_data(as_text=True)
    assert "De offentliggjorte temaer med de navne og citater" in html
    assert "Legepladser og natur" in html and "Nyt tema" not in html
    assert f'href="{base}/report?version=draft"' in html
    assert "viser en tidligere udgave" in html  # the public page is behind the latest run
    html = client.get(f"{base}/report", query_string={"version": "draft"}).get_data(as_text=True)
    assert "Nyt tema" in html and "Hent kladden som PDF" in html
    assert '<input type="hidden" name="version" value="draft">' in html


def test_cli_writes_the_published_report_or_with_draft_the_latest(
    client: FlaskClient, runner: FlaskCliRunner, session: Session, tmp_path: Path
) -> None:
    world = make_report_world(session)
    login(client, world.staff[StaffRole.MANAGER])
    base = f"/staff/campaigns/{world.campaign.id}"
    response = client.post(f"{base}/report/publish", data={"include": "leg"})
    assert response.status_code == 303
    make_run(session, world.campaign, {"ny": [world.quoted.id]}, labels={"ny": "Nyt tema"})
    out = tmp_path / "rapport.html"
    slug = world.campaign.slug
    assert runner.invoke(args=["report", "build", slug, "--out", str(out)]).exit_code == 0
    html = out.read_text(encoding="utf-8")
    assert "Legepladser og natur" in html and "Nyt tema" not in html and "Kladde" not in html
    result = runner.invoke(args=["report", "build", slug, "--draft", "--out", str(out)])
    assert result.exit_code == 0, result.output
    html = out.read_text(encoding="utf-8")
    assert "Nyt tema" in html and "Legepladser og natur" not in html and "Kladde" in html
