"""Users, the audit log and one's own password through the pages."""

from __future__ import annotations

import re

from flask.testing import FlaskClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from surveys.models import AuditEntry, StaffRole, StaffUser, utcnow
from surveys.passwords import verify_password
from tests.app.staff_helpers import login
from tests.factories import STAFF_PASSWORD, make_staff


def _shown_password(html: str) -> str:
    return re.search(r'id="new-password" value="([^"]+)"', html).group(1)


def test_admin_creates_a_user_who_can_log_in(client: FlaskClient, session: Session) -> None:
    admin = make_staff(session)
    login(client, admin)
    response = client.post(
        "/staff/users/new",
        data={"email": "Ny.Kollega@Kommune.dk", "name": "Ny Kollega", "role": "moderator"},
    )
    assert response.status_code == 200
    password = _shown_password(response.get_data(as_text=True))
    user = session.scalars(
        select(StaffUser).where(StaffUser.email == "ny.kollega@kommune.dk")
    ).one()
    assert user.role is StaffRole.MODERATOR and user.organisation_id == admin.organisation_id
    assert verify_password(user.password_hash, password)
    assert "ny.kollega@kommune.dk" in client.get("/staff/users").get_data(as_text=True)
    duplicate = client.post("/staff/users/new", data={"email": user.email, "role": "viewer"})
    assert "findes allerede" in duplicate.get_data(as_text=True)
    client.post("/staff/logout")
    login(client, user, password)


def test_admin_edits_unlocks_and_resets(client: FlaskClient, session: Session) -> None:
    admin = make_staff(session)
    user = make_staff(
        session,
        admin.organisation,
        "viewer",
        failed_logins=5,
        locked_until=utcnow().replace(year=2100),
    )
    login(client, admin)
    page = client.get(f"/staff/users/{user.id}").get_data(as_text=True)
    assert "Lås op" in page
    client.post(f"/staff/users/{user.id}", data={"action": "unlock"})
    session.refresh(user)
    assert user.failed_logins == 0 and user.locked_until is None
    client.post(
        f"/staff/users/{user.id}",
        data={"name": "Analytikeren", "role": "analyst", "is_active": "y"},
    )
    session.refresh(user)
    assert (user.role, user.name, user.is_active) == (StaffRole.ANALYST, "Analytikeren", True)
    client.post(f"/staff/users/{user.id}", data={"name": "", "role": "analyst"})
    session.refresh(user)
    assert not user.is_active
    response = client.post(f"/staff/users/{user.id}", data={"action": "reset_password"})
    password = _shown_password(response.get_data(as_text=True))
    session.refresh(user)
    assert verify_password(user.password_hash, password)
    assert not verify_password(user.password_hash, STAFF_PASSWORD)


def test_admin_cannot_demote_themselves(client: FlaskClient, session: Session) -> None:
    admin = make_staff(session)
    login(client, admin)
    response = client.post(
        f"/staff/users/{admin.id}",
        data={"name": "", "role": "viewer", "is_active": "y"},
        follow_redirects=True,
    )
    assert "din egen admin-rolle" in response.get_data(as_text=True)
    session.refresh(admin)
    assert admin.role is StaffRole.ADMIN


def test_audit_log_page(client: FlaskClient, session: Session) -> None:
    admin = make_staff(session)
    login(client, admin)
    client.post(
        "/staff/campaigns/new",
        data={"title": "Kampagne", "slug": "kampagne", "retention_action": "anonymise"},
    )
    html = client.get("/staff/audit").get_data(as_text=True)
    assert "campaign.create" in html and "auth.login" in html and admin.email in html
    filtered = client.get("/staff/audit", query_string={"action": "campaign."})
    assert "auth.login" not in filtered.get_data(as_text=True)
    assert session.scalars(select(AuditEntry.action).order_by(AuditEntry.id)).all() == [
        "auth.login",
        "campaign.create",
    ]


def test_change_own_password(client: FlaskClient, session: Session) -> None:
    user = make_staff(session, role="viewer")
    login(client, user)
    wrong = client.post(
        "/staff/account/password",
        data={"current": "wrong", "new": "mit nye kodeord", "repeat": "mit nye kodeord"},
    )
    assert "forkert" in wrong.get_data(as_text=True)
    response = client.post(
        "/staff/account/password",
        data={"current": STAFF_PASSWORD, "new": "mit nye kodeord", "repeat": "mit nye kodeord"},
    )
    assert response.status_code == 303
    assert client.get("/staff/").status_code == 200  # this session goes on
    session.refresh(user)
    assert verify_password(user.password_hash, "mit nye kodeord")
