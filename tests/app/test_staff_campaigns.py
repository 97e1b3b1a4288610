"""Campaigns, walls, prompts, kiosk devices, replies, export and deletion through the pages."""

from __future__ import annotations

import csv
import io
from datetime import UTC, datetime

from flask.testing import FlaskClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from surveys.models import (
    Answer,
    Audience,
    AuditEntry,
    Campaign,
    KioskDevice,
    Moderation,
    RetentionAction,
    Wall,
    WallReply,
)
from surveys.replies import visible_replies
from tests.app.staff_helpers import login, make_world
from tests.factories import make_answer, make_staff, make_wall

WALL_FORM = {
    "title": "Unge stemmer 2026",
    "slug": "unge-2026",
    "intro": "Hvad betyder noget for dig?",
    "audience": "young",
    "moderation": "post",
    "languages": ["da", "en"],
    "opens_at": "2026-06-01T09:00",
    "closes_at": "2026-12-24T16:30",
    "profile_questions": ["age_group", "area"],
    "areas": "Rønne\nNexø\n\nAakirkeby",
    "prompts": "Hvad gør din hverdag god?\nHvad mangler der?",
}


def test_manager_creates_a_campaign_and_a_wall(client: FlaskClient, session: Session) -> None:
    manager = make_staff(session, role="manager")
    login(client, manager)
    response = client.post(
        "/staff/campaigns/new",
        data={
            "title": "Børneliv 2026",
            "slug": "boerneliv-2026",
            "description": "Om børn",
            "retention_months": "24",
            "retention_action": "delete",
        },
    )
    assert response.status_code == 303
    campaign = session.scalars(select(Campaign)).one()
    assert (campaign.slug, campaign.retention_months) == ("boerneliv-2026", 24)
    assert campaign.retention_action is RetentionAction.DELETE
    assert campaign.organisation_id == manager.organisation_id

    response = client.post(f"/staff/campaigns/{campaign.id}/walls/new", data=WALL_FORM)
    assert response.status_code == 303
    wall = session.scalars(select(Wall)).one()
    assert response.headers["Location"] == f"/staff/walls/{wall.id}"
    assert [p.text for p in wall.prompts] == ["Hvad gør din hverdag god?", "Hvad mangler der?"]
    assert wall.audience is Audience.YOUNG and wall.moderation is Moderation.POST
    assert wall.areas == ["Rønne", "Nexø", "Aakirkeby"]
    # Times are entered in Danish time and stored in UTC (summer and winter time).
    assert wall.opens_at == datetime(2026, 6, 1, 7, 0, tzinfo=UTC)
    assert wall.closes_at == datetime(2026, 12, 24, 15, 30, tzinfo=UTC)

    page = client.get(f"/staff/walls/{wall.id}").get_data(as_text=True)
    assert "Unge stemmer 2026" in page and "http://localhost/w/unge-2026" in page
    assert "1. jun. 2026 09:00" in page  # shown in Danish time again
    edit = client.get(f"/staff/walls/{wall.id}/edit").get_data(as_text=True)
    assert 'value="2026-06-01T09:00"' in edit


def test_invalid_wall_form_keeps_what_was_typed(client: FlaskClient, session: Session) -> None:
    world = make_world(session, "invalid")
    login(client, world.admin)
    data = {**WALL_FORM, "slug": world.wall.slug, "closes_at": "2026-05-01T09:00"}
    response = client.post(f"/staff/campaigns/{world.campaign.id}/walls/new", data=data)
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert "Unge stemmer 2026" in html and "alert-error" in html
    assert session.scalar(select(func.count()).select_from(Wall)) == 1


def test_edit_wall_and_campaign(client: FlaskClient, session: Session) -> None:
    world = make_world(session, "edit")
    login(client, world.admin)
    form = client.get(f"/staff/walls/{world.wall.id}/edit").get_data(as_text=True)
    assert "Rønne\nNexø</textarea>" in form
    data = {**WALL_FORM, "slug": "ny-adresse", "moderation": "pre", "languages": ["en"]}
    data.pop("prompts")
    response = client.post(f"/staff/walls/{world.wall.id}/edit", data=data)
    assert response.status_code == 303
    session.expire_all()
    wall = session.get(Wall, world.wall.id)
    assert (wall.slug, wall.languages, wall.language) == ("ny-adresse", ["en"], "en")
    assert len(wall.prompts) == 2  # the prompts are not part of the settings form
    response = client.post(
        f"/staff/campaigns/{world.campaign.id}/edit",
        data={
            "title": "Nyt navn",
            "slug": world.campaign.slug,
            "retention_months": "",
            "retention_action": "anonymise",
        },
    )
    assert response.status_code == 303
    session.expire_all()
    assert session.get(Campaign, world.campaign.id).title == "Nyt navn"
    actions = session.scalars(select(AuditEntry.action)).all()
    assert "wall.update" in actions and "campaign.update" in actions


def test_prompts_through_the_page(client: FlaskClient, session: Session) -> None:
    wall = make_wall(session, prompts=("En?", "To?"))
    login(client, make_staff(session, wall.campaign.organisation, "manager"))
    first, second = wall.prompts
    client.post(f"/staff/walls/{wall.id}/prompts", data={"text": "Tre?"})
    client.post(f"/staff/prompts/{first.id}", data={"text": "Første?"})
    client.post(f"/staff/prompts/{second.id}/move", data={"direction": "up"})
    session.expire_all()
    assert [p.text for p in session.get(Wall, wall.id).prompts] == ["To?", "Første?", "Tre?"]
    page = client.get(f"/staff/walls/{wall.id}").get_data(as_text=True)
    assert 'name="text" value="Første?"' in page

    make_answer(session, wall, prompt=wall.prompts[0])
    response = client.post(
        f"/staff/prompts/{first.id}", data={"text": "Ændret?"}, follow_redirects=True
    )
    assert "kan ikke længere ændres" in response.get_data(as_text=True)
    session.expire_all()
    assert [p.text for p in session.get(Wall, wall.id).prompts] == ["To?", "Første?", "Tre?"]
    page = client.get(f"/staff/walls/{wall.id}").get_data(as_text=True)
    assert 'name="text" value="Første?"' not in page  # no edit forms any more


def test_open_and_close_a_wall(client: FlaskClient, session: Session) -> None:
    world = make_world(session, "window")
    login(client, world.admin)
    client.post(f"/staff/walls/{world.wall.id}/window", data={"action": "close"})
    session.expire_all()
    wall = session.get(Wall, world.wall.id)
    assert wall.has_closed()
    # The public wall says so kindly and accepts nothing.
    public = client.get(f"/w/{wall.slug}")
    assert public.status_code == 410
    client.post(f"/staff/walls/{world.wall.id}/window", data={"action": "open"})
    session.expire_all()
    assert session.get(Wall, world.wall.id).is_open()


def test_kiosk_devices(client: FlaskClient, session: Session) -> None:
    world = make_world(session, "kiosk")
    login(client, world.admin)
    response = client.post(
        f"/staff/walls/{world.wall.id}/devices",
        data={"name": "Biblioteket i Nexø", "idle_seconds": "90"},
    )
    assert response.status_code == 303
    device = session.scalars(select(KioskDevice).where(KioskDevice.name.like("%Nexø"))).one()
    assert response.headers["Location"] == f"/staff/devices/{device.id}"
    page = client.get(f"/staff/devices/{device.id}").get_data(as_text=True)
    assert f"/kiosk/{world.wall.slug}?device={device.token}" in page
    qr = client.get(f"/staff/devices/{device.id}/qr.svg")
    assert qr.mimetype == "image/svg+xml" and b"<svg" in qr.data
    wall_page = client.get(f"/staff/walls/{world.wall.id}").get_data(as_text=True)
    assert "Biblioteket i Nexø" in wall_page
    client.post(f"/staff/devices/{device.id}/revoke")
    session.refresh(device)
    assert device.revoked_at is not None
    assert device.token not in client.get(f"/staff/devices/{device.id}").get_data(as_text=True)
    bad = client.post(
        f"/staff/walls/{world.wall.id}/devices", data={"name": "", "idle_seconds": "5"}
    )
    assert bad.status_code == 303
    assert session.scalar(select(func.count()).select_from(KioskDevice)) == 2


def test_staff_replies(client: FlaskClient, session: Session) -> None:
    world = make_world(session, "reply")
    login(client, world.admin)
    text = "Det har vi hørt – nu laver vi flere bænke"
    client.post(f"/staff/walls/{world.wall.id}/replies", data={"text": text})
    replies = session.scalars(visible_replies(world.wall.id)).all()
    assert replies[0].text == text
    assert text in client.get(f"/staff/walls/{world.wall.id}").get_data(as_text=True)
    newest = replies[0]
    client.post(f"/staff/replies/{newest.id}/hide")
    session.expire_all()
    assert session.get(WallReply, newest.id).is_hidden


def test_a_refused_reply_comes_back_with_what_was_typed(
    client: FlaskClient, session: Session
) -> None:
    world = make_world(session, "reply-guard")
    login(client, world.admin)
    before = session.scalar(select(func.count()).select_from(WallReply))
    text = "Pædagogen Lone i Solsikken skal ikke råbe – det tager vi op med institutionen"
    response = client.post(
        f"/staff/walls/{world.wall.id}/replies",
        data={"text": text, "text-en": "We take it up with the kindergarten"},
    )
    html = response.get_data(as_text=True)
    assert response.status_code == 400
    assert "personoplysninger" in html and 'aria-invalid="true"' in html
    assert text in html and "We take it up with the kindergarten" in html
    assert session.scalar(select(func.count()).select_from(WallReply)) == before


def test_export_csv(client: FlaskClient, session: Session) -> None:
    world = make_world(session, "export")
    make_answer(session, world.wall, "=1+1 og flere bænke")
    analyst = make_staff(session, world.organisation, "analyst")
    login(client, analyst)
    page = client.get(f"/staff/campaigns/{world.campaign.id}").get_data(as_text=True)
    assert f'href="/staff/campaigns/{world.campaign.id}/report.csv"' in page
    response = client.get(f"/staff/campaigns/{world.campaign.id}/report.csv")
    assert response.status_code == 200
    assert response.headers["Content-Type"] == "text/csv; charset=utf-8"
    assert response.headers["Content-Disposition"].startswith(
        f'attachment; filename="{world.campaign.slug}-svar-'
    )
    assert response.headers["Cache-Control"] == "no-store"
    text = response.data.decode("utf-8")
    rows = list(csv.reader(io.StringIO(text.lstrip("\ufeff")), delimiter=";"))
    header = ["Svar nr.", "Væg", "Spørgsmål nr.", "Spørgsmål", "Valg", "Svar", "Temaer"]
    assert rows[0][:7] == header
    assert [r[5] for r in rows[1:]] == ["'=1+1 og flere bænke"]  # pending ones are not exported


def test_delete_campaign(client: FlaskClient, session: Session) -> None:
    world = make_world(session, "slet")
    campaign_id, slug, wall_slug = world.campaign.id, world.campaign.slug, world.wall.slug
    login(client, world.admin)
    page = client.get(f"/staff/campaigns/{campaign_id}/delete").get_data(as_text=True)
    assert slug in page
    wrong = client.post(f"/staff/campaigns/{campaign_id}/delete", data={"confirm": "nej"})
    assert wrong.status_code == 200
    assert session.scalar(select(func.count()).select_from(Campaign)) == 1
    response = client.post(f"/staff/campaigns/{campaign_id}/delete", data={"confirm": slug})
    assert response.status_code == 303 and response.headers["Location"] == "/staff/"
    session.expire_all()
    assert session.scalar(select(func.count()).select_from(Campaign)) == 0
    assert session.scalar(select(func.count()).select_from(Answer)) == 0
    assert client.get(f"/staff/campaigns/{campaign_id}").status_code == 404
    assert client.get(f"/w/{wall_slug}").status_code == 404
