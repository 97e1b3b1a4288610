"""Staff accounts: login, holds per account and client, session freshness, roles, administration."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from surveys import accounts
from surveys.accounts import (
    FAILURES_FORGOTTEN_AFTER,
    LOCKOUT,
    MAX_FAILED_LOGINS,
    MAX_LOCKOUT,
    ROLE_PERMISSIONS,
    LoginFailed,
    Permission,
    SessionTimes,
)
from surveys.errors import Conflict, InvalidInput, NotFound
from surveys.models import AuditEntry, LoginThrottle, StaffRole, utcnow
from surveys.passwords import verify_password
from tests.factories import STAFF_PASSWORD, make_organisation, make_staff


def _actions(session: Session) -> list[str]:
    session.expire_all()
    return list(session.scalars(select(AuditEntry.action).order_by(AuditEntry.id)))


#: Two clients, as the web layer names them (keyed hashes of their addresses).
HOME, ATTACKER = "client-home", "client-attacker"


def test_authenticate_with_the_right_password(session: Session) -> None:
    user = make_staff(session, email="mette@brk.dk")
    now = utcnow()
    found = accounts.authenticate(session, "  Mette@BRK.dk ", STAFF_PASSWORD, client=HOME, now=now)
    assert found.id == user.id
    assert found.last_login_at == now
    assert found.failed_logins == 0
    assert _actions(session) == ["auth.login"]


@pytest.mark.parametrize("email", ["mette@brk.dk", "nobody@brk.dk"])
def test_wrong_password_and_unknown_email_fail_alike(session: Session, email: str) -> None:
    make_staff(session, email="mette@brk.dk")
    with pytest.raises(LoginFailed) as caught:
        accounts.authenticate(session, email, "not the password", client=HOME)
    assert caught.value.code == "login_failed"
    assert caught.value.status == 401
    assert caught.value.params == {"max": MAX_FAILED_LOGINS, "minutes": 15}


def _fail(session: Session, email: str, times: int, client: str, now: datetime) -> None:
    for _ in range(times):
        with pytest.raises(LoginFailed):
            accounts.authenticate(session, email, "wrong password", client=client, now=now)


def _throttle(session: Session, client: str) -> LoginThrottle:
    session.expire_all()
    return session.scalars(select(LoginThrottle).where(LoginThrottle.client_key == client)).one()


def test_failed_logins_hold_back_only_that_client(session: Session) -> None:
    user = make_staff(session, email="a@b.dk")
    now = utcnow()
    for attempt in range(1, MAX_FAILED_LOGINS + 1):
        _fail(session, "a@b.dk", 1, ATTACKER, now)
        session.refresh(user)
        assert user.failed_logins == attempt
        assert _throttle(session, ATTACKER).failures == attempt
    assert _throttle(session, ATTACKER).locked_until == now + LOCKOUT
    assert user.locked_until == now + LOCKOUT and accounts.is_locked(user, now)
    # The attacker's client is held back: even the right password is refused (and audited) ...
    with pytest.raises(LoginFailed) as caught:
        accounts.authenticate(
            session, "a@b.dk", STAFF_PASSWORD, client=ATTACKER, now=now + timedelta(minutes=14)
        )
    assert caught.value.message == accounts.LOGIN_FAILED_MESSAGE  # the same words as any failure
    assert _actions(session)[-2:] == ["auth.lock", "auth.login_refused_locked"]
    # ... but the staff member signs in from home at the same moment.
    home = accounts.authenticate(
        session, "a@b.dk", STAFF_PASSWORD, client=HOME, now=now + timedelta(minutes=1)
    )
    assert home.id == user.id and home.failed_logins == 0
    # The attacker's hold stays (and the admin pages still show it).
    assert _throttle(session, ATTACKER).locked_until == now + LOCKOUT
    assert user.locked_until == now + LOCKOUT
    # After the hold, the right password works from there too and forgets its failures.
    later = now + LOCKOUT + timedelta(seconds=1)
    assert accounts.authenticate(session, "a@b.dk", STAFF_PASSWORD, client=ATTACKER, now=later)
    assert session.scalars(select(LoginThrottle)).all() == []
    session.refresh(user)
    assert user.failed_logins == 0 and user.locked_until is None


def test_holds_grow_with_every_further_failure(session: Session) -> None:
    assert [accounts.lockout_after(n) for n in range(MAX_FAILED_LOGINS)] == [None] * 5
    assert accounts.lockout_after(MAX_FAILED_LOGINS) == LOCKOUT
    assert accounts.lockout_after(MAX_FAILED_LOGINS + 1) == 2 * LOCKOUT
    assert accounts.lockout_after(MAX_FAILED_LOGINS + 2) == 4 * LOCKOUT
    assert accounts.lockout_after(MAX_FAILED_LOGINS + 7) == MAX_LOCKOUT
    assert accounts.lockout_after(10**6) == MAX_LOCKOUT
    make_staff(session, email="a@b.dk")
    now = utcnow()
    _fail(session, "a@b.dk", MAX_FAILED_LOGINS, ATTACKER, now)
    # Attempts during the hold are refused without being counted.
    _fail(session, "a@b.dk", 3, ATTACKER, now + timedelta(minutes=1))
    assert _throttle(session, ATTACKER).failures == MAX_FAILED_LOGINS
    # One more failure after the hold: twice as long.
    after = now + LOCKOUT + timedelta(seconds=1)
    _fail(session, "a@b.dk", 1, ATTACKER, after)
    assert _throttle(session, ATTACKER).locked_until == after + 2 * LOCKOUT


def test_a_clients_failures_are_forgotten_after_a_day(session: Session) -> None:
    make_staff(session, email="a@b.dk")
    now = utcnow()
    _fail(session, "a@b.dk", MAX_FAILED_LOGINS - 1, HOME, now)
    _fail(session, "a@b.dk", 1, HOME, now + FAILURES_FORGOTTEN_AFTER)
    throttle = _throttle(session, HOME)
    assert throttle.failures == 1 and throttle.locked_until is None


def test_deactivated_account_cannot_log_in(session: Session) -> None:
    make_staff(session, email="gone@b.dk", is_active=False)
    with pytest.raises(LoginFailed):
        accounts.authenticate(session, "gone@b.dk", STAFF_PASSWORD, client=HOME)


def test_empty_or_huge_password_is_refused(session: Session) -> None:
    make_staff(session, email="a@b.dk")
    for password in ("", "x" * 2000):
        with pytest.raises(LoginFailed):
            accounts.authenticate(session, "a@b.dk", password, client=HOME)


def test_every_outcome_verifies_one_password_hash(
    session: Session, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Unknown, wrong, held back, deactivated, right: each checks one hash, so none is faster."""
    user = make_staff(session, email="a@b.dk")
    make_staff(session, user.organisation, email="gone@b.dk", is_active=False)
    now = utcnow()
    _fail(session, "a@b.dk", MAX_FAILED_LOGINS, ATTACKER, now)
    checked: list[str] = []

    def counting_verify(password_hash: str, password: str) -> bool:
        checked.append(password_hash)
        return verify_password(password_hash, password)

    monkeypatch.setattr(accounts, "verify_password", counting_verify)
    attempts = {
        "unknown e-mail": ("nobody@b.dk", STAFF_PASSWORD, HOME),
        "wrong password": ("a@b.dk", "wrong password", HOME),
        "held back": ("a@b.dk", STAFF_PASSWORD, ATTACKER),
        "deactivated": ("gone@b.dk", STAFF_PASSWORD, HOME),
        "empty password": ("a@b.dk", "", HOME),
        "huge password": ("a@b.dk", "x" * 2000, HOME),
        "right password": ("a@b.dk", STAFF_PASSWORD, HOME),
    }
    for outcome, (email, password, client) in attempts.items():
        checked.clear()
        try:
            accounts.authenticate(session, email, password, client=client, now=now)
        except LoginFailed:
            assert outcome != "right password"
        assert len(checked) == 1, outcome
        assert checked[0].startswith("$argon2id$"), outcome


def test_a_race_on_a_new_clients_row_is_counted_once_more(
    session: Session, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Two first failures from one client at once: the second finds the row the first added."""
    make_staff(session, email="a@b.dk")
    now = utcnow()
    _fail(session, "a@b.dk", 1, HOME, now)  # "the other request" has added the row
    real_throttle = accounts._throttle
    looks = 0

    def late_look(*args: Any) -> LoginThrottle | None:
        nonlocal looks
        looks += 1
        return None if looks == 1 else real_throttle(*args)  # the first look came too early

    monkeypatch.setattr(accounts, "_throttle", late_look)
    _fail(session, "a@b.dk", 1, HOME, now)
    assert _throttle(session, HOME).failures == 2


def test_session_freshness() -> None:
    now = utcnow()
    fresh = SessionTimes(now - timedelta(hours=1), now - timedelta(minutes=5))
    assert accounts.session_is_fresh(fresh, now)
    idle = SessionTimes(now - timedelta(hours=1), now - timedelta(minutes=31))
    assert not accounts.session_is_fresh(idle, now)
    old = SessionTimes(now - timedelta(hours=12, seconds=1), now - timedelta(minutes=1))
    assert not accounts.session_is_fresh(old, now)
    future = SessionTimes(now, now + timedelta(hours=1))
    assert not accounts.session_is_fresh(future, now)


def test_permission_matrix() -> None:
    expected = {
        StaffRole.ADMIN: set(Permission),
        StaffRole.MANAGER: {
            "view",
            "moderate",
            "manage_campaigns",
            "reply",
            "export",
            "curate_themes",
            "publish",
        },
        StaffRole.MODERATOR: {"view", "moderate"},
        StaffRole.ANALYST: {"view", "export", "curate_themes"},
        StaffRole.VIEWER: {"view"},
    }
    assert {role: set(perms) for role, perms in ROLE_PERMISSIONS.items()} == expected


def test_can_needs_an_active_user(session: Session) -> None:
    moderator = make_staff(session, role="moderator")
    assert accounts.can(moderator, Permission.MODERATE)
    assert not accounts.can(moderator, Permission.EXPORT)
    moderator.is_active = False
    assert not accounts.can(moderator, Permission.VIEW)
    assert not accounts.can(None, Permission.VIEW)


def test_admin_creates_and_updates_users(session: Session) -> None:
    admin = make_staff(session, email="admin@kommune.dk")
    user, password = accounts.create_user(session, admin, "Ny@Kommune.dk", StaffRole.VIEWER, "Ny")
    assert user.email == "ny@kommune.dk" and user.organisation_id == admin.organisation_id
    assert verify_password(user.password_hash, password)
    accounts.update_user(session, admin, user, role=StaffRole.ANALYST, is_active=True, name="Ny")
    entries = list(session.scalars(select(AuditEntry).order_by(AuditEntry.id)))
    assert [e.action for e in entries] == ["user.create", "user.update"]
    assert entries[0].after == {
        "email": "ny@kommune.dk",
        "name": "Ny",
        "role": "viewer",
        "is_active": True,
    }
    assert entries[1].before == {"role": "viewer"} and entries[1].after == {"role": "analyst"}
    assert "password" not in str(entries[0].after)


def test_the_last_admin_stays(session: Session) -> None:
    admin = make_staff(session)
    with pytest.raises(Conflict) as caught:
        accounts.update_user(session, admin, admin, role=StaffRole.VIEWER, is_active=True, name="")
    assert caught.value.code == "self_lockout"
    other = make_staff(session, admin.organisation)
    accounts.update_user(session, other, admin, role=StaffRole.VIEWER, is_active=True, name="")
    with pytest.raises(Conflict) as caught:
        accounts.update_user(session, admin, other, role=StaffRole.ADMIN, is_active=False, name="")
    assert caught.value.code == "last_admin"


def test_admin_cannot_touch_another_organisations_users(session: Session) -> None:
    admin = make_staff(session)
    stranger = make_staff(session, make_organisation(session))
    with pytest.raises(NotFound):
        accounts.get_staff_user(session, admin.organisation_id, stranger.id)
    for call in (
        lambda: accounts.update_user(
            session, admin, stranger, role=StaffRole.VIEWER, is_active=False, name=""
        ),
        lambda: accounts.reset_password(session, admin, stranger),
        lambda: accounts.unlock_user(session, admin, stranger),
    ):
        with pytest.raises(NotFound):
            call()


def test_unlock_and_change_password(session: Session) -> None:
    admin = make_staff(session)
    user = make_staff(session, admin.organisation, failed_logins=7, locked_until=utcnow())
    accounts.unlock_user(session, admin, user)
    assert user.failed_logins == 0 and user.locked_until is None
    with pytest.raises(InvalidInput):
        accounts.change_password(session, user, "wrong", "a new long password")
    with pytest.raises(InvalidInput):
        accounts.change_password(session, user, STAFF_PASSWORD, "short")
    accounts.change_password(session, user, STAFF_PASSWORD, "a new long password")
    assert verify_password(user.password_hash, "a new long password")
    assert _actions(session)[-2:] == ["user.unlock", "user.password_change"]


def test_the_first_login_of_a_process_makes_the_dummy_hash_whatever_its_outcome(
    session: Session,
) -> None:
    """Else the first unknown e-mail after a restart would take two hashes' time, and show."""
    make_staff(session, email="a@b.dk")
    accounts._dummy_hash.cache_clear()
    accounts.authenticate(session, "a@b.dk", STAFF_PASSWORD, client=HOME)
    assert accounts._dummy_hash.cache_info().currsize == 1
