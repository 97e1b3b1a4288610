"""Staff login, logout, throttling, session expiry, CSRF and the design system's files."""

from __future__ import annotations

import re
import time
from datetime import timedelta

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from app.staff.auth import SESSION_KEY
from surveys import accounts
from surveys.accounts import MAX_FAILED_LOGINS
from surveys.models import AnswerStatus, AuditEntry, StaffUser, utcnow
from tests.app.staff_helpers import login, make_world
from tests.factories import STAFF_PASSWORD, make_answer, make_staff, make_wall


def test_login_page_is_danish_and_uses_dkfds(client: FlaskClient) -> None:
    response = client.get("/staff/login")
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert '<html lang="da">' in html
    assert "Log ind" in html and "Adgangskode" in html
    assert "/staff/dkfds/css/dkfds.min.css" in html
    assert "<script>" not in html and "onclick" not in html  # no inline scripts
    assert response.headers["Cache-Control"] == "no-store"


def test_anonymous_is_sent_to_login_and_back(client: FlaskClient, session: Session) -> None:
    user = make_staff(session)
    response = client.get("/staff/audit?side=1")
    assert response.status_code == 302
    assert response.headers["Location"] == "/staff/login?next=/staff/audit?side%3D1"
    response = client.post(
        "/staff/login?next=/staff/audit?side%3D1",
        data={"email": user.email, "password": STAFF_PASSWORD},
    )
    assert response.status_code == 303
    assert response.headers["Location"] == "/staff/audit?side=1"
    assert client.get("/staff/audit").status_code == 200


@pytest.mark.parametrize(
    "target", ["https://evil.example/", "//evil.example/staff/", "/w/wall", "/staff\\..\\x"]
)
def test_login_never_redirects_off_the_workspace(
    client: FlaskClient, session: Session, target: str
) -> None:
    user = make_staff(session)
    response = client.post(
        "/staff/login",
        query_string={"next": target},
        data={"email": user.email, "password": STAFF_PASSWORD},
    )
    assert response.status_code == 303
    assert response.headers["Location"] == "/staff/"


def test_wrong_password_is_refused_and_counted(client: FlaskClient, session: Session) -> None:
    user = make_staff(session)
    response = client.post("/staff/login", data={"email": user.email, "password": "wrong!"})
    assert response.status_code == 401
    html = response.get_data(as_text=True)
    assert "Forkert e-mail eller adgangskode" in html
    assert user.email in html  # the e-mail stays in the form; the password does not
    assert "wrong!" not in html
    session.refresh(user)
    assert user.failed_logins == 1
    assert client.get("/staff/").status_code == 302


def test_unknown_email_gets_the_same_answer(client: FlaskClient, session: Session) -> None:
    make_staff(session, email="known@kommune.dk")
    known = client.post("/staff/login", data={"email": "known@kommune.dk", "password": "x"})
    unknown = client.post("/staff/login", data={"email": "nobody@kommune.dk", "password": "x"})
    assert known.status_code == unknown.status_code == 401
    message = re.compile(r"<li>(Forkert e-mail[^<]*)</li>")
    assert message.findall(known.get_data(as_text=True)) == message.findall(
        unknown.get_data(as_text=True)
    )


def test_login_throttling_locks_the_account(client: FlaskClient, session: Session) -> None:
    user = make_staff(session)
    for _ in range(MAX_FAILED_LOGINS):
        client.post("/staff/login", data={"email": user.email, "password": "guess"})
    refused = client.post("/staff/login", data={"email": user.email, "password": STAFF_PASSWORD})
    assert refused.status_code == 401
    session.refresh(user)
    assert accounts.is_locked(user)
    user.locked_until = utcnow() - timedelta(seconds=1)
    session.commit()
    login(client, user)


def test_logout_needs_post_and_ends_the_session(client: FlaskClient, session: Session) -> None:
    user = make_staff(session)
    login(client, user)
    assert client.get("/staff/logout").status_code == 405
    response = client.post("/staff/logout")
    assert response.status_code == 303 and response.headers["Location"] == "/staff/login"
    assert client.get("/staff/").status_code == 302
    actions = session.scalars(select(AuditEntry.action).order_by(AuditEntry.id)).all()
    assert actions == ["auth.login", "auth.logout"]


def _age_session(client: FlaskClient, **seconds_ago: int) -> None:
    with client.session_transaction() as flask_session:
        data = dict(flask_session[SESSION_KEY])
        now = int(time.time())
        for key, ago in seconds_ago.items():
            data[key] = now - ago
        flask_session[SESSION_KEY] = data


def test_idle_session_expires(client: FlaskClient, session: Session) -> None:
    user = make_staff(session)
    login(client, user)
    _age_session(client, seen=29 * 60)
    assert client.get("/staff/").status_code == 200
    _age_session(client, seen=31 * 60)
    response = client.get("/staff/")
    assert response.status_code == 302 and "/staff/login" in response.headers["Location"]
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "Din session er udløbet" in page
    assert client.get("/staff/").status_code == 302


def test_session_has_a_maximum_age(client: FlaskClient, session: Session) -> None:
    user = make_staff(session)
    login(client, user)
    _age_session(client, auth=13 * 3600, seen=60)
    assert client.get("/staff/").status_code == 302


def test_session_timeouts_follow_the_config(app: Flask, session: Session) -> None:
    app.config["STAFF_IDLE_MINUTES"] = 5
    client = app.test_client()
    login(client, make_staff(session))
    _age_session(client, seen=6 * 60)
    assert client.get("/staff/").status_code == 302


def test_password_reset_and_deactivation_end_sessions(
    client: FlaskClient, session: Session
) -> None:
    admin = make_staff(session)
    user = make_staff(session, admin.organisation, "moderator")
    login(client, user)
    assert client.get("/staff/").status_code == 200
    accounts.reset_password(session, admin, user)
    assert client.get("/staff/").status_code == 302
    session.refresh(user)
    user.password_hash = make_staff(session, admin.organisation).password_hash
    session.commit()
    login(client, user)
    user.is_active = False
    session.commit()
    assert client.get("/staff/").status_code == 302


def test_tampered_session_is_refused(client: FlaskClient, session: Session) -> None:
    user = make_staff(session)
    other = make_staff(session, user.organisation)
    login(client, user)
    with client.session_transaction() as flask_session:
        flask_session[SESSION_KEY] = {**flask_session[SESSION_KEY], "id": other.id}
    assert client.get("/staff/").status_code == 302


def test_login_and_actions_need_a_csrf_token(app: Flask, session: Session) -> None:
    app.config["WTF_CSRF_ENABLED"] = True
    client = app.test_client()
    wall = make_wall(session)
    answer = make_answer(session, wall, status=AnswerStatus.PENDING)
    user = make_staff(session, wall.campaign.organisation, "moderator")
    no_token = client.post("/staff/login", data={"email": user.email, "password": STAFF_PASSWORD})
    assert no_token.status_code == 400
    _csrf_login(client, user)
    forged = client.post(f"/staff/answers/{answer.id}/status", data={"action": "approve"})
    assert forged.status_code == 400
    session.refresh(answer)
    assert answer.status is AnswerStatus.PENDING
    queue = client.get("/staff/moderation").get_data(as_text=True)
    tokens = set(re.findall(r'name="csrf_token" value="([^"]+)"', queue))
    assert tokens
    ok = client.post(
        f"/staff/answers/{answer.id}/status",
        data={"action": "approve", "csrf_token": tokens.pop()},
    )
    assert ok.status_code == 303
    session.refresh(answer)
    assert answer.status is AnswerStatus.APPROVED


def _csrf_login(client: FlaskClient, user: StaffUser) -> None:
    page = client.get("/staff/login").get_data(as_text=True)
    token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page).group(1)
    response = client.post(
        "/staff/login",
        data={"email": user.email, "password": STAFF_PASSWORD, "csrf_token": token},
    )
    assert response.status_code == 303


def test_every_staff_form_carries_a_csrf_token(app: Flask, session: Session) -> None:
    app.config["WTF_CSRF_ENABLED"] = True
    client = app.test_client()
    world = make_world(session, "forms")
    _csrf_login(client, world.admin)
    pages = [
        "/staff/",
        f"/staff/campaigns/{world.campaign.id}",
        f"/staff/walls/{world.wall.id}",
        "/staff/moderation",
        f"/staff/devices/{world.device.id}",
        "/staff/campaigns/new",
        f"/staff/campaigns/{world.campaign.id}/edit",
        f"/staff/walls/{world.wall.id}/edit",
        f"/staff/campaigns/{world.campaign.id}/walls/new",
        "/staff/users/new",
        f"/staff/campaigns/{world.campaign.id}/delete",
        f"/staff/users/{world.other_user.id}",
        "/staff/account/password",
    ]
    for page in pages:
        html = client.get(page).get_data(as_text=True)
        forms = re.findall(r"<form\b[^>]*>.*?</form>", html, flags=re.S)
        posts = [f for f in forms if 'method="post"' in f]
        assert posts, page
        for form in posts:
            assert 'name="csrf_token"' in form, (page, form[:200])


def _status(client: FlaskClient, url: str) -> tuple[int, str]:
    with client.get(url) as response:
        return response.status_code, response.mimetype


def test_dkfds_files_are_served(client: FlaskClient) -> None:
    css = _status(client, "/staff/dkfds/css/dkfds.min.css")
    assert css == (200, "text/css"), "run 'make install' (npm ci installs dkfds)"
    for url in (
        "/staff/dkfds/js/dkfds.min.js",
        "/staff/dkfds/fonts/IBMPlexSans/complete/woff2/IBMPlexSans-Regular.woff2",
        "/staff/dkfds/img/all-svg-icons.svg",
    ):
        assert _status(client, url)[0] == 200, url
    for blocked in (
        "/staff/dkfds/package.json",
        "/staff/dkfds/../package.json",
        "/staff/dkfds/css/dkfds.min.css.map",
        "/staff/dkfds/scss/dkfds.scss",
    ):
        assert _status(client, blocked)[0] == 404, blocked


def test_staff_member_name_and_org_in_header(client: FlaskClient, session: Session) -> None:
    user = make_staff(session, name="Mette Moderator", role="moderator")
    login(client, user)
    html = client.get("/staff/").get_data(as_text=True)
    assert "Mette Moderator" in html and user.organisation.name in html
    assert "Log af" in html
    stored = session.scalars(select(StaffUser).where(StaffUser.id == user.id)).one()
    assert stored.last_login_at is not None
