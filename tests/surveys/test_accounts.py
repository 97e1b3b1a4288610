"""Staff accounts: login, throttling and lockout, session freshness, roles, administration."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from surveys import accounts
from surveys.accounts import (
    LOCKOUT,
    MAX_FAILED_LOGINS,
    ROLE_PERMISSIONS,
    LoginFailed,
    Permission,
    SessionTimes,
)
from surveys.errors import Conflict, InvalidInput, NotFound
from surveys.models import AuditEntry, StaffRole, utcnow
from surveys.passwords import verify_password
from tests.factories import STAFF_PASSWORD, make_organisation, make_staff


def _actions(session: Session) -> list[str]:
    session.expire_all()
    return list(session.scalars(select(AuditEntry.action).order_by(AuditEntry.id)))


def test_authenticate_with_the_right_password(session: Session) -> None:
    user = make_staff(session, email="mette@brk.dk")
    now = utcnow()
    found = accounts.authenticate(session, "  Mette@BRK.dk ", STAFF_PASSWORD, now=now)
    assert found.id == user.id
    assert found.last_login_at == now
    assert found.failed_logins == 0
    assert _actions(session) == ["auth.login"]


@pytest.mark.parametrize("email", ["mette@brk.dk", "nobody@brk.dk"])
def test_wrong_password_and_unknown_email_fail_alike(session: Session, email: str) -> None:
    make_staff(session, email="mette@brk.dk")
    with pytest.raises(LoginFailed) as caught:
        accounts.authenticate(session, email, "not the password")
    assert caught.value.code == "login_failed"
    assert caught.value.status == 401
    assert caught.value.params == {"max": MAX_FAILED_LOGINS, "minutes": 15}


def test_failed_logins_lock_the_account(session: Session) -> None:
    user = make_staff(session, email="a@b.dk")
    now = utcnow()
    for attempt in range(1, MAX_FAILED_LOGINS + 1):
        with pytest.raises(LoginFailed):
            accounts.authenticate(session, "a@b.dk", "wrong password", now=now)
        session.refresh(user)
        assert user.failed_logins == attempt
    assert user.locked_until == now + LOCKOUT
    assert accounts.is_locked(user, now)
    # While locked, even the right password is refused (and the refusal is audited).
    with pytest.raises(LoginFailed):
        accounts.authenticate(session, "a@b.dk", STAFF_PASSWORD, now=now + timedelta(minutes=14))
    assert _actions(session)[-2:] == ["auth.lock", "auth.login_refused_locked"]
    # After the lock, the right password works and resets the counter.
    later = now + LOCKOUT + timedelta(seconds=1)
    assert accounts.authenticate(session, "a@b.dk", STAFF_PASSWORD, now=later).id == user.id
    session.refresh(user)
    assert user.failed_logins == 0 and user.locked_until is None


def test_a_failure_after_the_lock_expired_locks_again(session: Session) -> None:
    now = utcnow()
    user = make_staff(session, email="a@b.dk", failed_logins=MAX_FAILED_LOGINS, locked_until=now)
    with pytest.raises(LoginFailed):
        accounts.authenticate(session, "a@b.dk", "wrong", now=now + timedelta(minutes=1))
    session.refresh(user)
    assert user.locked_until == now + timedelta(minutes=1) + LOCKOUT


def test_deactivated_account_cannot_log_in(session: Session) -> None:
    make_staff(session, email="gone@b.dk", is_active=False)
    with pytest.raises(LoginFailed):
        accounts.authenticate(session, "gone@b.dk", STAFF_PASSWORD)


def test_empty_or_huge_password_is_refused(session: Session) -> None:
    make_staff(session, email="a@b.dk")
    for password in ("", "x" * 2000):
        with pytest.raises(LoginFailed):
            accounts.authenticate(session, "a@b.dk", password)


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


def test_session_user_needs_the_current_password_fingerprint(session: Session) -> None:
    user = make_staff(session)
    key = accounts.session_key(user)
    assert accounts.load_session_user(session, user.id, key) is user
    assert accounts.load_session_user(session, user.id, "other") is None
    assert accounts.load_session_user(session, str(user.id), key) is None
    assert accounts.load_session_user(session, True, key) is None
    admin = make_staff(session, user.organisation)
    accounts.reset_password(session, admin, user)
    assert accounts.load_session_user(session, user.id, key) is None
    user.is_active = False
    session.commit()
    assert accounts.load_session_user(session, user.id, accounts.session_key(user)) is None


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
