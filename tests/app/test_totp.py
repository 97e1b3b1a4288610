"""Two-factor sign-in for local staff accounts (issue 25): enrolment, codes, recovery, reset."""

from __future__ import annotations

import re
import time
from datetime import timedelta
from typing import Any

import pyotp
import pytest
from flask import Flask
from flask import session as flask_session
from flask.testing import FlaskClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session
from werkzeug.test import TestResponse

from app.config import load_config
from app.staff.auth import SSO_ID_TOKEN_KEY, log_in
from app.staff.twofactor_views import PENDING_KEY
from surveys import twofactor
from surveys.accounts import MAX_FAILED_LOGINS
from surveys.models import (
    AuditEntry,
    RecoveryCode,
    StaffRole,
    StaffSession,
    StaffTotp,
    StaffUser,
    utcnow,
)
from tests.app.staff_helpers import login, make_world
from tests.app.test_staff_isolation import build, staff_rules
from tests.factories import STAFF_PASSWORD, limited_app, make_organisation, make_staff

ADMINS = {"TOTP_REQUIRED_ROLES": ["admin"]}


@pytest.fixture
def app(make_app: Any) -> Flask:
    """The app as in production: admins must use two-factor sign-in."""
    return make_app(**ADMINS)


def steady() -> None:
    """Wait out the last seconds of a 30-second step, so that a test's codes stay current."""
    left = 30 - time.time() % 30
    if left < 3:
        time.sleep(left + 0.2)


#: The sealing key of the tests' app (SECRET_KEY "test-secret", tests/conftest.py).
KEY = twofactor.sealer("test-secret")


def secret_of(session: Session, user: StaffUser) -> str:
    session.expire_all()
    row = session.get(StaffTotp, user.id)
    assert row is not None
    secret = twofactor.unseal(row.secret, KEY)
    assert secret is not None
    return secret


def code(secret: str, offset: int = 0) -> str:
    return pyotp.TOTP(secret).at(utcnow(), counter_offset=offset)


def enrol(session: Session, user: StaffUser) -> tuple[str, list[str]]:
    """Set up the member's app (confirmed with the previous step's code, so that the current
    one is still free for signing in); returns the secret and the recovery codes."""
    steady()
    secret = twofactor.start_enrolment(session, user, key=KEY)
    codes = twofactor.confirm_enrolment(session, user, code(secret, -1), key=KEY)
    return secret, codes


def password(client: FlaskClient, user: StaffUser, **kwargs: Any) -> TestResponse:
    return client.post(
        "/staff/login", data={"email": user.email, "password": STAFF_PASSWORD}, **kwargs
    )


def actions(session: Session, user: StaffUser) -> list[str]:
    session.expire_all()
    return list(
        session.scalars(
            select(AuditEntry.action)
            .where(AuditEntry.target_id == user.id, AuditEntry.action.like("twofactor.%"))
            .order_by(AuditEntry.id)
        )
    )


def open_sessions(session: Session, user: StaffUser) -> int:
    session.expire_all()
    return (
        session.scalar(
            select(func.count()).where(
                StaffSession.staff_user_id == user.id, StaffSession.ended_at.is_(None)
            )
        )
        or 0
    )


# -- enrolment ----------------------------------------------------------------------------------


def test_enrolment_from_my_account(client: FlaskClient, session: Session) -> None:
    user = make_staff(session, role="moderator")  # not required: sets it up by choice
    login(client, user)
    page = client.get("/staff/account/two-factor").get_data(as_text=True)
    assert "ikke sat op" in page
    steady()
    enrol_page = client.get("/staff/two-factor/enrol")
    html = enrol_page.get_data(as_text=True)
    assert enrol_page.status_code == 200
    assert 'src="data:image/svg+xml' in html  # the QR code inline: allowed by the CSP's img-src
    assert "img-src 'self' data:" in enrol_page.headers["Content-Security-Policy"]
    secret = secret_of(session, user)
    grouped = " ".join(secret[i : i + 4] for i in range(0, len(secret), 4))
    assert grouped in html  # the key to type when the QR code cannot be scanned
    wrong = client.post("/staff/two-factor/enrol", data={"code": "000000"})
    if code(secret) == "000000":  # pragma: no cover - one chance in a million
        return
    assert wrong.status_code == 400
    assert "Koden er forkert" in wrong.get_data(as_text=True)
    assert not twofactor.is_enrolled(session, user)
    done = client.post("/staff/two-factor/enrol", data={"code": code(secret)})
    assert done.status_code == 200
    shown = re.findall(r"<code>([a-z2-9]{5}-[a-z2-9]{5})</code>", done.get_data(as_text=True))
    assert len(shown) == twofactor.RECOVERY_CODES == 10
    session.expire_all()
    assert twofactor.is_enrolled(session, user)
    hashes = list(session.scalars(select(RecoveryCode.code_hash)))
    assert len(hashes) == 10 and not any(shown_code in h for h in hashes for shown_code in shown)
    assert actions(session, user) == ["twofactor.enrol"]
    # The same secret again on the page? No: enrolled members are sent to the status page.
    assert client.get("/staff/two-factor/enrol").headers["Location"] == "/staff/account/two-factor"
    page = client.get("/staff/account/two-factor").get_data(as_text=True)
    assert "10 ubrugte" in page
    # Set up by choice, it is asked for at the next sign-in too.
    client.post("/staff/logout")
    assert password(client, user).headers["Location"] == "/staff/login/code"


def test_sign_in_with_a_code_and_no_replay(client: FlaskClient, session: Session) -> None:
    user = make_staff(session, role="admin")
    secret, _ = enrol(session, user)
    asked = password(client, user)
    assert asked.status_code == 303 and asked.headers["Location"] == "/staff/login/code"
    assert client.get("/staff/login/code").status_code == 200
    now_code = code(secret)
    signed_in = client.post("/staff/login/code", data={"code": now_code})
    assert signed_in.status_code == 303 and signed_in.headers["Location"] == "/staff/"
    assert client.get("/staff/").status_code == 200
    assert "twofactor.login" in actions(session, user)
    # The same code, seen over a shoulder, does not sign in again in its window.
    other = password_step_client(client, user)
    replay = other.post("/staff/login/code", data={"code": now_code})
    assert replay.status_code == 401
    assert "Koden er forkert eller er brugt" in replay.get_data(as_text=True)
    assert other.get("/staff/").status_code == 302


def password_step_client(client: FlaskClient, user: StaffUser) -> FlaskClient:
    other = client.application.test_client()
    assert password(other, user).headers["Location"] == "/staff/login/code"
    return other


def test_clock_drift_of_one_step_either_way(session: Session) -> None:
    user = make_staff(session, role="admin")
    secret = twofactor.start_enrolment(session, user, key=KEY)
    now = utcnow()
    totp = pyotp.TOTP(secret)
    with pytest.raises(twofactor.WrongCode):  # two steps behind: too old
        twofactor.confirm_enrolment(
            session, user, totp.at(now - timedelta(seconds=60)), key=KEY, now=now
        )
    with pytest.raises(twofactor.WrongCode):  # two steps ahead
        twofactor.confirm_enrolment(
            session, user, totp.at(now + timedelta(seconds=60)), key=KEY, now=now
        )
    twofactor.confirm_enrolment(
        session, user, totp.at(now - timedelta(seconds=30)), key=KEY, now=now
    )
    late = now + timedelta(seconds=30)
    assert twofactor.verify(session, user, totp.at(now), client="a", key=KEY, now=late) is False
    # A code from before the last one taken is refused, even inside the window.
    with pytest.raises(twofactor.WrongCode):
        twofactor.verify(
            session, user, totp.at(now - timedelta(seconds=30)), client="a", key=KEY, now=now
        )
    ahead = totp.at(late + timedelta(seconds=30))
    assert twofactor.verify(session, user, ahead, client="a", key=KEY, now=late) is False


def test_wrong_codes_count_like_failed_logins(client: FlaskClient, session: Session) -> None:
    user = make_staff(session, role="admin")
    secret, _ = enrol(session, user)
    password(client, user)
    wrong = "123456" if code(secret) != "123456" else "654321"
    for _ in range(MAX_FAILED_LOGINS):
        response = client.post("/staff/login/code", data={"code": wrong})
        assert response.status_code == 401
    assert client.get("/staff/").status_code == 302  # still not signed in
    session.expire_all()
    assert session.scalar(
        select(func.count()).where(
            AuditEntry.target_id == user.id, AuditEntry.action == "twofactor.failed"
        )
    ) == (MAX_FAILED_LOGINS - 1)
    assert session.scalar(
        select(func.count()).where(
            AuditEntry.target_id == user.id, AuditEntry.action == "auth.lock"
        )
    )
    # Held back now: even the right code is refused from here ...
    held = client.post("/staff/login/code", data={"code": code(secret)})
    assert held.status_code == 401
    assert "For mange forkerte koder" in held.get_data(as_text=True)
    # ... but not from elsewhere (an attacker cannot keep the member out).
    elsewhere = client.application.test_client()
    remote = {"REMOTE_ADDR": "198.51.100.7"}
    password(elsewhere, user, environ_base=remote)
    ok = elsewhere.post("/staff/login/code", data={"code": code(secret)}, environ_base=remote)
    assert ok.status_code == 303


def test_a_recovery_code_works_once(client: FlaskClient, session: Session) -> None:
    user = make_staff(session, role="admin")
    _, codes = enrol(session, user)
    password(client, user)
    used = client.post("/staff/login/code", data={"code": codes[3].upper().replace("-", " ")})
    assert used.status_code == 303
    page = client.get("/staff/").get_data(as_text=True)
    assert "Du har brugt en gendannelseskode. Du har 9 tilbage." in page
    assert actions(session, user)[-2:] == ["twofactor.recovery_code_used", "twofactor.login"]
    client.post("/staff/logout")
    password(client, user)
    again = client.post("/staff/login/code", data={"code": codes[3]})
    assert again.status_code == 401
    assert twofactor.recovery_codes_left(session, user) == 9


def test_new_recovery_codes_replace_the_old(client: FlaskClient, session: Session) -> None:
    user = make_staff(session, role="viewer")
    secret, old = enrol(session, user)
    login_with_code(client, user, secret)
    refused = client.post("/staff/account/two-factor/recovery-codes", data={"code": old[0]})
    assert refused.status_code == 303  # a recovery code cannot make new ones: the app's code
    steady()
    made = client.post("/staff/account/two-factor/recovery-codes", data={"code": code(secret, 1)})
    assert made.status_code == 200
    new = re.findall(r"<code>([a-z2-9]{5}-[a-z2-9]{5})</code>", made.get_data(as_text=True))
    assert len(new) == 10 and not set(new) & set(old)
    assert "twofactor.recovery_codes_renewed" in actions(session, user)
    client.post("/staff/logout")
    password(client, user)
    assert client.post("/staff/login/code", data={"code": old[1]}).status_code == 401
    assert client.post("/staff/login/code", data={"code": new[1]}).status_code == 303


def login_with_code(client: FlaskClient, user: StaffUser, secret: str) -> None:
    assert password(client, user).headers["Location"] == "/staff/login/code"
    assert client.post("/staff/login/code", data={"code": code(secret)}).status_code == 303


# -- who must have it ---------------------------------------------------------------------------


def test_an_admin_without_it_must_enrol_before_anything_else(
    client: FlaskClient, session: Session
) -> None:
    admin = make_staff(session, role="admin")
    asked = password(client, admin)
    assert asked.headers["Location"] == "/staff/two-factor/enrol"
    assert client.get("/staff/").status_code == 302
    assert client.get("/staff/users").headers["Location"].startswith("/staff/login")
    steady()
    html = client.get("/staff/two-factor/enrol").get_data(as_text=True)
    assert "Din rolle skal logge ind med en kode" in html
    assert open_sessions(session, admin) == 0
    secret = secret_of(session, admin)
    done = client.post("/staff/two-factor/enrol", data={"code": code(secret)})
    assert done.status_code == 200
    assert 'href="/staff/"' in done.get_data(as_text=True)
    assert open_sessions(session, admin) == 1
    assert client.get("/staff/users").status_code == 200


def test_the_half_signed_in_reach_no_staff_page(
    client: FlaskClient, session: Session, app: Flask
) -> None:
    world = make_world(session, "halv")
    secret, _ = enrol(session, world.admin)
    assert password(client, world.admin).headers["Location"] == "/staff/login/code"
    for rule in staff_rules(app):
        url = build(app, rule, world)
        for method in ("GET", "POST"):
            if method in (rule.methods or ()):
                response = client.open(url, method=method)
                assert response.status_code == 302, (method, url)
                assert response.headers["Location"].startswith("/staff/login"), (method, url)
    assert open_sessions(session, world.admin) == 0
    # The half-finished sign-in does not last: after 10 minutes the password is asked again.
    with client.session_transaction() as cookie:
        cookie[PENDING_KEY] = {**cookie[PENDING_KEY], "at": int(time.time()) - 11 * 60}
    assert client.get("/staff/login/code").headers["Location"] == "/staff/login"
    assert secret  # (enrolled, so the code page was the next step)


def test_other_roles_by_the_setting(make_app: Any, session: Session) -> None:
    organisation = make_organisation(session)
    moderator = make_staff(session, organisation, role="moderator")
    default = make_app(**ADMINS).test_client()
    assert password(default, moderator).headers["Location"] == "/staff/"
    strict = make_app(TOTP_REQUIRED_ROLES=["admin", "moderator"]).test_client()
    assert password(strict, moderator).headers["Location"] == "/staff/two-factor/enrol"
    assert strict.get("/staff/moderation").status_code == 302


def test_the_setting_is_read_from_the_environment_and_checked(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Any
) -> None:
    assert load_config(str(tmp_path))["TOTP_REQUIRED_ROLES"] == ["admin"]
    monkeypatch.setenv("STEMMER_TOTP_REQUIRED_ROLES", "admin, manager")
    assert load_config(str(tmp_path))["TOTP_REQUIRED_ROLES"] == ["admin", "manager"]
    monkeypatch.setenv("STEMMER_TOTP_REQUIRED_ROLES", "admin,boss")
    with pytest.raises(ValueError, match="boss"):
        load_config(str(tmp_path))


def test_a_member_made_admin_while_signed_in_must_enrol(
    client: FlaskClient, session: Session
) -> None:
    user = make_staff(session, role="manager")
    login(client, user)
    assert client.get("/staff/").status_code == 200
    user.role = StaffRole.ADMIN
    session.commit()
    assert client.get("/staff/").headers["Location"] == "/staff/two-factor/enrol"
    assert client.get("/staff/two-factor/enrol").status_code == 200
    assert client.post("/staff/logout").status_code == 303  # logging out still works


def test_a_session_from_single_sign_on_is_not_sent_to_enrolment(
    client: FlaskClient, session: Session
) -> None:
    # The identity provider checks its own second factor (app/staff/auth.py's
    # signed_on_at_provider); tests/app/test_staff_sso.py signs on for real.
    user = make_staff(session, role="admin")
    with client.application.test_request_context():
        log_in(user)  # as the single sign-on's callback does
        flask_session[SSO_ID_TOKEN_KEY] = "id-token"
        cookie_data = dict(flask_session)
    with client.session_transaction() as cookie:
        cookie.update(cookie_data)
    assert client.get("/staff/").status_code == 200
    with client.session_transaction() as cookie:
        del cookie[SSO_ID_TOKEN_KEY]  # the same session, as if from the password
    assert client.get("/staff/").headers["Location"] == "/staff/two-factor/enrol"


def test_turning_it_off_where_the_role_allows(client: FlaskClient, session: Session) -> None:
    organisation = make_organisation(session)
    viewer = make_staff(session, organisation, role="viewer")
    admin = make_staff(session, organisation, role="admin")
    secret, _ = enrol(session, viewer)
    login_with_code(client, viewer, secret)
    assert "Slå to-trins-login fra" in client.get("/staff/account/two-factor").get_data(
        as_text=True
    )
    wrong = "000000" if code(secret, 1) != "000000" else "999999"
    client.post("/staff/account/two-factor/disable", data={"code": wrong})
    assert twofactor.is_enrolled(session, viewer)
    steady()
    off = client.post("/staff/account/two-factor/disable", data={"code": code(secret, 1)})
    assert off.status_code == 303
    assert "slået fra" in client.get(off.headers["Location"]).get_data(as_text=True)
    assert not twofactor.is_enrolled(session, viewer)
    assert twofactor.recovery_codes_left(session, viewer) == 0
    assert "twofactor.disable" in actions(session, viewer)
    client.post("/staff/logout")
    assert password(client, viewer).headers["Location"] == "/staff/"  # the password alone
    # An admin's role requires it: no way to turn it off.
    client.post("/staff/logout")
    admin_secret, _ = enrol(session, admin)
    login_with_code(client, admin, admin_secret)
    page = client.get("/staff/account/two-factor").get_data(as_text=True)
    assert "Slå to-trins-login fra" not in page
    client.post("/staff/account/two-factor/disable", data={"code": code(admin_secret, 1)})
    assert twofactor.is_enrolled(session, admin)
    # The users page says who has it.
    users = client.get("/staff/users").get_data(as_text=True)
    assert users.count("<td>Sat op</td>") == 1 and users.count("<td>Ikke sat op</td>") == 1


# -- losing the phone: an admin's reset ---------------------------------------------------------


def test_an_admin_resets_another_members_second_factor(
    client: FlaskClient, session: Session, app: Flask
) -> None:
    organisation = make_organisation(session)
    admin = make_staff(session, organisation, role="admin")
    member = make_staff(session, organisation, role="admin")
    admin_secret, _ = enrol(session, admin)
    member_secret, _ = enrol(session, member)
    member_client = app.test_client()
    login_with_code(member_client, member, member_secret)
    login_with_code(client, admin, admin_secret)
    page = client.get(f"/staff/users/{member.id}").get_data(as_text=True)
    assert "Nulstil to-trins-login" in page
    reset = client.post(f"/staff/users/{member.id}/two-factor/reset")
    assert reset.status_code == 303
    assert "nulstillet" in client.get(reset.headers["Location"]).get_data(as_text=True)
    assert not twofactor.is_enrolled(session, member)
    assert twofactor.recovery_codes_left(session, member) == 0
    assert open_sessions(session, member) == 0  # the lost phone's sessions end
    assert member_client.get("/staff/").status_code == 302
    entry = session.scalars(select(AuditEntry).where(AuditEntry.action == "twofactor.reset")).one()
    assert (entry.actor_id, entry.target_id) == (admin.id, member.id)
    # The member sets it up again at the next sign-in (admins must have it).
    assert password(member_client, member).headers["Location"] == "/staff/two-factor/enrol"
    # No one resets their own, and no one another organisation's.
    own = client.post(f"/staff/users/{admin.id}/two-factor/reset")
    assert own.status_code == 303 and twofactor.is_enrolled(session, admin)
    stranger = make_staff(session, make_organisation(session), role="admin")
    assert client.post(f"/staff/users/{stranger.id}/two-factor/reset").status_code == 404


def test_only_user_admins_may_reset(client: FlaskClient, session: Session) -> None:
    organisation = make_organisation(session)
    manager = make_staff(session, organisation, role="manager")
    member = make_staff(session, organisation, role="viewer")
    enrol(session, member)
    login(client, manager)
    assert client.post(f"/staff/users/{member.id}/two-factor/reset").status_code == 403
    assert twofactor.is_enrolled(session, member)


# -- rate limit ---------------------------------------------------------------------------------


def test_the_second_step_is_rate_limited_like_the_login(make_app: Any, session: Session) -> None:
    user = make_staff(session, role="admin")
    secret, _ = enrol(session, user)
    client = limited_app(make_app, **ADMINS).test_client()  # RATELIMIT_LOGIN: 4 per minute
    password(client, user)
    wrong = "111111" if code(secret) != "111111" else "222222"
    statuses = [client.post("/staff/login/code", data={"code": wrong}).status_code for _ in "1234"]
    assert statuses == [401] * 4
    refused = client.post("/staff/login/code", data={"code": code(secret)})
    assert refused.status_code == 429
    assert client.get("/staff/login/code").status_code == 200  # the page itself is not limited


def test_the_operator_resets_the_only_admin_on_the_command_line(
    runner: Any, session: Session
) -> None:
    admin = make_staff(session, role="admin", email="eneste@lejre.dk")
    enrol(session, admin)
    result = runner.invoke(args=["users", "reset-two-factor", "Eneste@Lejre.dk"])
    assert result.exit_code == 0, result.output
    assert not twofactor.is_enrolled(session, admin)
    entry = session.scalars(select(AuditEntry).where(AuditEntry.action == "twofactor.reset")).one()
    assert (entry.actor_id, entry.actor_email, entry.target_id) == (None, "command line", admin.id)
    assert runner.invoke(args=["users", "reset-two-factor", "ingen@lejre.dk"]).exit_code != 0


def test_the_secret_is_sealed_in_the_database(session: Session) -> None:
    user = make_staff(session, role="admin")
    secret, _ = enrol(session, user)
    stored = session.scalar(select(StaffTotp.secret).where(StaffTotp.staff_user_id == user.id))
    assert stored is not None and secret not in stored and stored.startswith("gAAAA")
    assert twofactor.unseal(stored, KEY) == secret
    # Sealed again, the same secret gives another token (a random IV each time).
    assert twofactor.seal(secret, KEY) != stored
    # Another SECRET_KEY cannot unseal it, unless it keeps this one among its fallbacks.
    assert twofactor.unseal(stored, twofactor.sealer("another")) is None
    assert twofactor.unseal(stored, twofactor.sealer("another", ["test-secret"])) == secret


def test_a_secret_sealed_under_a_secret_key_now_gone_falls_back_to_recovery_codes(
    session: Session,
) -> None:
    user = make_staff(session, role="admin")
    secret, codes = enrol(session, user)
    steady()
    other = twofactor.sealer("the-secret-key-before-it-was-changed")
    with pytest.raises(twofactor.WrongCode):  # the right code, but unreadable secret
        twofactor.verify(session, user, code(secret), client="a", key=other)
    assert twofactor.verify(session, user, codes[0], client="a", key=other) is True
    assert twofactor.pending_secret(session, user, key=other) is None


def test_a_secret_stored_before_sealing_still_signs_in(session: Session) -> None:
    user = make_staff(session, role="admin")
    plain = pyotp.random_base32()
    session.add(StaffTotp(staff_user_id=user.id, secret=plain, confirmed_at=utcnow()))
    session.commit()
    steady()
    assert twofactor.verify(session, user, code(plain), client="a", key=KEY) is False
