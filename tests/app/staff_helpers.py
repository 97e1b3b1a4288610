"""Helpers shared by the staff workspace tests (tests/app/test_staff_*.py)."""

from __future__ import annotations

from dataclasses import dataclass

from flask.testing import FlaskClient
from sqlalchemy.orm import Session
from werkzeug.test import TestResponse

from surveys.models import (
    Answer,
    AnswerStatus,
    Campaign,
    CodebookTheme,
    Job,
    JobFile,
    JobStatus,
    KioskDevice,
    Organisation,
    StaffUser,
    Theme,
    ThemeAssignment,
    ThemeRun,
    Wall,
    WallReply,
    theme_scope_key,
)
from tests.factories import (
    STAFF_PASSWORD,
    make_answer,
    make_organisation,
    make_staff,
    make_wall,
)


def report_file(client: FlaskClient, campaign_id: int, fmt: str) -> TestResponse:
    """Ask for the report's PDF or the answers' workbook (a job, which the tests run at once)
    and download the file from the job; the refusal when asking is refused."""
    asked = client.post(f"/staff/campaigns/{campaign_id}/report.{fmt}")
    if asked.status_code != 303:
        return asked
    location = asked.headers["Location"]
    assert location.startswith("/staff/jobs/"), location
    return client.get(f"{location}/file")


def login(client: FlaskClient, user: StaffUser, password: str = STAFF_PASSWORD) -> None:
    """Log in through the real form and check that it worked."""
    response = client.post("/staff/login", data={"email": user.email, "password": password})
    assert response.status_code == 303, response.get_data(as_text=True)[:2000]


@dataclass
class OrgWorld:
    """One organisation with a campaign, a wall, answers, a device, a reply and staff."""

    organisation: Organisation
    campaign: Campaign
    wall: Wall
    answer: Answer
    flagged: Answer
    device: KioskDevice
    reply: WallReply
    admin: StaffUser
    other_user: StaffUser
    job: Job
    codebook_theme: CodebookTheme


def make_world(session: Session, slug: str) -> OrgWorld:
    """An organisation with one of everything a staff route can point at."""
    organisation = make_organisation(session, slug)
    wall = make_wall(session, f"{slug}-wall", organisation=organisation)
    answer = make_answer(session, wall, "Flere bænke ved legepladsen", status=AnswerStatus.PENDING)
    flagged = make_answer(
        session,
        wall,
        "Ring til mig på 22 33 44 55",
        status=AnswerStatus.PENDING,
        pii_findings=[{"kind": "phone", "start": 16, "end": 27}],
    )
    device = KioskDevice(wall_id=wall.id, name="Biblioteket", token=f"token-{slug}-0123456789")
    reply = WallReply(wall_id=wall.id, text="Det har vi hørt – det gør vi nu")
    session.add_all([device, reply])
    session.commit()
    _add_theme_run(session, wall, answer)
    admin = make_staff(session, organisation, "admin", email=f"admin@{slug}.dk")
    other_user = make_staff(session, organisation, "viewer", email=f"viewer@{slug}.dk")
    job = Job(
        kind="report",
        key=f"report:{wall.campaign_id}:pdf:run-0",
        status=JobStatus.DONE,
        organisation_id=organisation.id,
        requested_by_id=admin.id,
        params={"campaign_id": wall.campaign_id, "format": "pdf"},
        result={"file": f"{slug}-rapport.pdf", "size": 8, "format": "pdf"},
    )
    session.add(job)
    session.flush()
    session.add(
        JobFile(
            job_id=job.id,
            role="output",
            name=f"{slug}-rapport.pdf",
            content_type="application/pdf",
            size=8,
            data=b"%PDF-1.7",
        )
    )
    codebook_theme = CodebookTheme(
        campaign_id=wall.campaign_id, name="Legepladser", keywords=["legeplads"]
    )
    session.add(codebook_theme)
    session.commit()
    return OrgWorld(
        organisation=organisation,
        campaign=wall.campaign,
        wall=wall,
        answer=answer,
        flagged=flagged,
        device=device,
        reply=reply,
        admin=admin,
        other_user=other_user,
        job=job,
        codebook_theme=codebook_theme,
    )


#: The key of the theme every world has (theme explorer routes point at it).
WORLD_THEME_KEY = "t1"


def _add_theme_run(session: Session, wall: Wall, answer: Answer) -> None:
    """A stored campaign-wide theme run with one theme, without running the engine."""
    run = ThemeRun(
        campaign_id=wall.campaign_id,
        scope_key=theme_scope_key(wall.campaign_id, None, None),
        n_answers=1,
        model=b"",
    )
    theme = Theme(key=WORLD_THEME_KEY, label="Bænke og legepladser", terms=["bænke"], size=1)
    run.themes.append(theme)
    session.add(run)
    session.flush()
    session.add(ThemeAssignment(theme_id=theme.id, answer_id=answer.id, run_id=run.id))
    session.commit()
