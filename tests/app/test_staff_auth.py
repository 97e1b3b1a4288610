"""Staff login, logout, throttling, session expiry, CSRF and the design system's files."""

from __future__ import annotations

import re
import statistics
import time
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest
from argon2 import PasswordHasher
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select, update
from sqlalchemy.orm import Session

from app.staff.auth import SESSION_KEY
from surveys import accounts, passwords
from surveys.accounts import MAX_FAILED_LOGINS
from surveys.models import (
    AnswerStatus,
    AuditEntry,
    LoginThrottle,
    StaffSession,
    StaffUser,
    utcnow,
)
from surveys.passwords import hash_password
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


def _from(address: str) -> dict[str, str]:
    return {"REMOTE_ADDR": address}


def test_an_attackers_failures_do_not_keep_the_staff_member_out(
    app: Flask, session: Session
) -> None:
    user = make_staff(session)
    attacker, staff_member = app.test_client(), app.test_client()
    attacker_address, office = "203.0.113.66", "198.51.100.7"
    for _ in range(MAX_FAILED_LOGINS + 3):
        attacker.post(
            "/staff/login",
            data={"email": user.email, "password": "guess"},
            environ_base=_from(attacker_address),
        )
    refused = attacker.post(
        "/staff/login",
        data={"email": user.email, "password": STAFF_PASSWORD},
        environ_base=_from(attacker_address),
    )
    assert refused.status_code == 401  # the attacker's address is held back ...
    assert "Forkert e-mail eller adgangskode" in refused.get_data(as_text=True)
    session.refresh(user)
    assert accounts.is_locked(user)  # (what the admin pages show)
    response = staff_member.post(
        "/staff/login",
        data={"email": user.email, "password": STAFF_PASSWORD},
        environ_base=_from(office),
    )
    assert response.status_code == 303  # ... the staff member is not
    assert staff_member.get("/staff/", environ_base=_from(office)).status_code == 200
    session.execute(update(LoginThrottle).values(locked_until=utcnow() - timedelta(seconds=1)))
    session.commit()
    again = attacker.post(
        "/staff/login",
        data={"email": user.email, "password": STAFF_PASSWORD},
        environ_base=_from(attacker_address),
    )
    assert again.status_code == 303  # after the hold, the right password works from there too


def test_the_client_is_counted_by_a_keyed_hash_of_its_address(app: Flask, session: Session) -> None:
    user = make_staff(session)
    client = app.test_client()
    for address in ("203.0.113.66", "2001:db8:1:2::1", "2001:db8:1:2::ffff", "2001:db8:1:3::1"):
        client.post(
            "/staff/login",
            data={"email": user.email, "password": "guess"},
            environ_base=_from(address),
        )
    rows = session.scalars(select(LoginThrottle).order_by(LoginThrottle.id)).all()
    # An IPv6 /64 counts as one client; no row holds the address itself.
    assert [row.failures for row in rows] == [1, 2, 1]
    assert all(len(row.client_key) == 32 and ":" not in row.client_key for row in rows)
    assert all("203.0.113" not in row.client_key for row in rows)


@pytest.fixture
def real_hashing(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """Accounts and the dummy hash made alike with a real, if smaller, argon2id cost.

    argon2-cffi's defaults take 0.1-0.8 s per verification on a busy 2-core machine; these
    take a few tens of milliseconds, still far more than the rest of a login request.
    """
    monkeypatch.setattr(passwords, "_hasher", PasswordHasher(time_cost=2, memory_cost=16384))
    accounts._dummy_hash.cache_clear()
    yield
    accounts._dummy_hash.cache_clear()


@pytest.mark.usefixtures("real_hashing")
def test_every_login_outcome_takes_as_long(app: Flask, session: Session) -> None:
    """Unknown e-mail, wrong password, held back, deactivated, right password: the same time.

    The medians of several rounds, taken in turns so that a busy moment of the machine hits
    every outcome alike. Before the fix a locked account was refused without checking a hash:
    in 8.6 ms instead of ~115 ms with the production cost.
    """
    user = make_staff(session, email="real@kommune.dk")
    gone = make_staff(session, user.organisation, email="gone@kommune.dk", is_active=False)
    for account in (user, gone):
        account.password_hash = hash_password(STAFF_PASSWORD)
    session.commit()
    held_back = app.test_client()
    for _ in range(MAX_FAILED_LOGINS):
        held_back.post(
            "/staff/login",
            data={"email": user.email, "password": "guess"},
            environ_base=_from("10.3.0.1"),
        )

    def attempt(outcome: str, round_: int) -> float:
        client, expected = held_back, 401
        email, password, address = user.email, STAFF_PASSWORD, "10.3.0.1"
        if outcome == "unknown e-mail":
            email, address = "nobody@kommune.dk", f"10.1.0.{round_}"
        elif outcome == "wrong password":
            password, address = "wrong password", f"10.2.0.{round_}"
        elif outcome == "deactivated":
            email, address = gone.email, f"10.4.0.{round_}"
        elif outcome == "right password":
            client, expected, address = app.test_client(), 303, "10.5.0.1"
        started = time.perf_counter()
        response = client.post(
            "/staff/login",
            data={"email": email, "password": password},
            environ_base=_from(address),
        )
        elapsed = time.perf_counter() - started
        assert response.status_code == expected, outcome
        return elapsed

    outcomes = ["unknown e-mail", "wrong password", "held back", "deactivated", "right password"]
    times: dict[str, list[float]] = {outcome: [] for outcome in outcomes}
    for round_ in range(6):
        for outcome in outcomes[round_ % 5 :] + outcomes[: round_ % 5]:
            elapsed = attempt(outcome, round_)
            if round_ > 0:  # the first round warms up (templates, the dummy hash)
                times[outcome].append(elapsed)
    medians = {outcome: statistics.median(values) for outcome, values in times.items()}
    print({outcome: f"{1000 * median:.1f} ms" for outcome, median in medians.items()})
    for median in medians.values():
        assert 0.5 <= median / medians["wrong password"] <= 2, medians


def test_logout_needs_post_and_ends_the_session(client: FlaskClient, session: Session) -> None:
    user = make_staff(session)
    login(client, user)
    assert client.get("/staff/logout").status_code == 405
    response = client.post("/staff/logout")
    assert response.status_code == 303 and response.headers["Location"] == "/staff/login"
    assert client.get("/staff/").status_code == 302
    actions = session.scalars(select(AuditEntry.action).order_by(AuditEntry.id)).all()
    assert actions == ["auth.login", "auth.logout"]


def _copy_of_cookie(client: FlaskClient, app: Flask) -> FlaskClient:
    """Another browser with a copy of this one's session cookie (as an attacker would save it)."""
    cookie = client.get_cookie(app.config["SESSION_COOKIE_NAME"])
    assert cookie is not None
    copy = app.test_client()
    copy.set_cookie(cookie.key, cookie.value)
    return copy


def test_a_saved_cookie_replayed_after_logout_gets_the_login_page(
    app: Flask, session: Session
) -> None:
    user = make_staff(session)
    client = app.test_client()
    login(client, user)
    saved = _copy_of_cookie(client, app)
    assert saved.get("/staff/").status_code == 200
    assert client.post("/staff/logout").status_code == 303
    response = saved.get("/staff/")
    assert response.status_code == 302
    assert response.headers["Location"].startswith("/staff/login")
    assert saved.post("/staff/logout").status_code == 302  # nothing left to act with


def test_logout_on_one_device_keeps_the_others(app: Flask, session: Session) -> None:
    user = make_staff(session)
    laptop, phone = app.test_client(), app.test_client()
    login(laptop, user)
    login(phone, user)
    laptop.post("/staff/logout")
    assert laptop.get("/staff/").status_code == 302
    assert phone.get("/staff/").status_code == 200


def test_changing_the_password_ends_the_other_sessions(app: Flask, session: Session) -> None:
    user = make_staff(session)
    laptop, phone = app.test_client(), app.test_client()
    login(laptop, user)
    login(phone, user)
    saved = _copy_of_cookie(laptop, app)
    response = laptop.post(
        "/staff/account/password",
        data={
            "current": STAFF_PASSWORD,
            "new": "a new long password",
            "repeat": "a new long password",
        },
    )
    assert response.status_code == 303, response.get_data(as_text=True)[:2000]
    assert laptop.get("/staff/").status_code == 200  # a new session for the browser that did it
    assert phone.get("/staff/").status_code == 302
    assert saved.get("/staff/").status_code == 302


def _age_session(session: Session, **seconds_ago: int) -> None:
    """Move the times of the (one) stored staff session back: ``auth`` and ``seen``."""
    now = utcnow()
    row = session.scalars(select(StaffSession).where(StaffSession.ended_at.is_(None))).one()
    if "auth" in seconds_ago:
        row.created_at = now - timedelta(seconds=seconds_ago["auth"])
    if "seen" in seconds_ago:
        row.last_seen_at = now - timedelta(seconds=seconds_ago["seen"])
    session.commit()


def test_idle_session_expires(client: FlaskClient, session: Session) -> None:
    user = make_staff(session)
    login(client, user)
    _age_session(session, seen=29 * 60)
    assert client.get("/staff/").status_code == 200
    _age_session(session, seen=31 * 60)
    response = client.get("/staff/")
    assert response.status_code == 302 and "/staff/login" in response.headers["Location"]
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "Din session er udløbet" in page
    assert client.get("/staff/").status_code == 302


def test_session_has_a_maximum_age(client: FlaskClient, session: Session) -> None:
    user = make_staff(session)
    login(client, user)
    _age_session(session, auth=13 * 3600, seen=60)
    assert client.get("/staff/").status_code == 302


def test_session_timeouts_follow_the_config(app: Flask, session: Session) -> None:
    app.config["STAFF_IDLE_MINUTES"] = 5
    client = app.test_client()
    login(client, make_staff(session))
    _age_session(session, seen=6 * 60)
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
    login(client, user)
    with client.session_transaction() as flask_session:
        token = flask_session[SESSION_KEY]["token"]
        flask_session[SESSION_KEY] = {"token": token[:-1] + ("A" if token[-1] != "A" else "B")}
    assert client.get("/staff/").status_code == 302
    with client.session_transaction() as flask_session:  # the cookie of before this change
        flask_session[SESSION_KEY] = {"id": user.id, "auth": 0, "seen": 0}
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


def test_every_icon_the_staff_templates_use_is_in_the_dkfds_sprite(client: FlaskClient) -> None:
    """An icon name the sprite lacks draws nothing: an empty gap in the button."""
    response = client.get("/staff/dkfds/img/all-svg-icons.svg")
    sprite = set(re.findall(r'\bid="([\w-]+)"', response.get_data(as_text=True)))
    response.close()
    templates = Path(__file__).parents[2] / "app" / "templates"
    used = {
        (path.name, name)
        for path in templates.rglob("*.html")
        for name in re.findall(r'icon\("([\w-]+)"', path.read_text(encoding="utf-8"))
    }
    assert used, "no icon() calls found"
    assert {(file, name) for file, name in used if name not in sprite} == set()
