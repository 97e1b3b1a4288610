"""Staff sessions held on the server: start, use, idle and age limits, logout, ending them all."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from surveys import accounts
from surveys.accounts import MAX_FAILED_LOGINS, SEEN_RESOLUTION, LoginFailed
from surveys.models import LoginThrottle, StaffRole, StaffSession, utcnow
from tests.factories import STAFF_PASSWORD, make_staff


def _row(session: Session, token: str) -> StaffSession:
    session.expire_all()
    rows = session.scalars(select(StaffSession)).all()
    return next(r for r in rows if r.token_hash == accounts._token_hash(token))


def test_a_session_is_stored_as_a_hash_of_its_token(session: Session) -> None:
    user = make_staff(session)
    token = accounts.start_session(session, user)
    assert len(token) >= 40
    stored = session.scalars(select(StaffSession)).one()
    assert stored.staff_user_id == user.id and stored.ended_at is None
    assert token not in stored.token_hash
    assert accounts.session_user(session, token) is user


@pytest.mark.parametrize("token", [None, "", 42, ["x"], "not a token", "x" * 101])
def test_anything_else_is_no_session(session: Session, token: object) -> None:
    accounts.start_session(session, make_staff(session))
    assert accounts.session_user(session, token) is None
    accounts.end_session(session, token)  # nothing to end, no error


def test_logout_ends_only_that_session(session: Session) -> None:
    user = make_staff(session)
    laptop = accounts.start_session(session, user)
    phone = accounts.start_session(session, user)
    accounts.end_session(session, laptop)
    assert accounts.session_user(session, laptop) is None
    assert accounts.session_user(session, phone) is user
    assert _row(session, laptop).ended_at is not None


def test_idle_and_too_old_sessions_are_refused(session: Session) -> None:
    user = make_staff(session)
    now = utcnow()
    token = accounts.start_session(session, user, now=now)
    idle, max_age = timedelta(minutes=30), timedelta(hours=12)
    assert accounts.session_user(session, token, idle_timeout=idle, now=now + idle / 2) is user
    later = now + idle / 2 + idle - timedelta(seconds=1)
    assert accounts.session_user(session, token, idle_timeout=idle, now=later) is user
    assert accounts.session_user(session, token, idle_timeout=idle, now=later + idle) is None
    fresh = accounts.start_session(session, user, now=now)
    old = now + max_age
    _row(session, fresh).last_seen_at = old - timedelta(minutes=1)
    session.commit()
    assert accounts.session_user(session, fresh, max_age=max_age, now=old) is None


def test_last_seen_is_written_at_most_once_a_minute(session: Session) -> None:
    user = make_staff(session)
    now = utcnow()
    token = accounts.start_session(session, user, now=now)
    for seconds in (1, 30, 59):
        accounts.session_user(session, token, now=now + timedelta(seconds=seconds))
        assert _row(session, token).last_seen_at == now
    accounts.session_user(session, token, now=now + SEEN_RESOLUTION)
    assert _row(session, token).last_seen_at == now + SEEN_RESOLUTION


def test_password_change_reset_and_deactivation_end_every_session(session: Session) -> None:
    admin = make_staff(session)
    user = make_staff(session, admin.organisation, "moderator")
    tokens = [accounts.start_session(session, user) for _ in range(2)]
    admins_own = accounts.start_session(session, admin)
    accounts.change_password(session, user, STAFF_PASSWORD, "a new long password")
    assert [accounts.session_user(session, t) for t in tokens] == [None, None]
    tokens = [accounts.start_session(session, user) for _ in range(2)]
    accounts.reset_password(session, admin, user)
    assert [accounts.session_user(session, t) for t in tokens] == [None, None]
    tokens = [accounts.start_session(session, user) for _ in range(2)]
    accounts.update_user(session, admin, user, role=StaffRole.MODERATOR, is_active=True, name="")
    assert all(accounts.session_user(session, t) is user for t in tokens)  # other changes keep them
    accounts.update_user(session, admin, user, role=StaffRole.MODERATOR, is_active=False, name="")
    assert [accounts.session_user(session, t) for t in tokens] == [None, None]
    user.is_active = True
    session.commit()
    assert [accounts.session_user(session, t) for t in tokens] == [None, None]  # still ended
    assert accounts.session_user(session, admins_own) is admin


def test_logging_in_clears_away_the_members_ended_and_old_sessions(session: Session) -> None:
    user = make_staff(session)
    other = make_staff(session, user.organisation)
    now = utcnow()
    ended = accounts.start_session(session, user, now=now)
    accounts.end_session(session, ended)
    accounts.start_session(session, user, now=now - timedelta(hours=13))  # too old
    open_one = accounts.start_session(session, user, now=now)
    others = accounts.start_session(session, other, now=now)
    accounts.end_session(session, others)
    accounts.start_session(session, user, now=now)
    session.expire_all()
    rows = session.scalars(select(StaffSession)).all()
    assert len(rows) == 3  # the user's open one and new one, the other member's ended one
    assert accounts.session_user(session, open_one) is user


def test_unlock_and_new_password_lift_every_clients_hold(session: Session) -> None:
    admin = make_staff(session)
    user = make_staff(session, admin.organisation, email="a@b.dk")
    now = utcnow()
    for client in ("one", "two"):
        for _ in range(MAX_FAILED_LOGINS):
            with pytest.raises(LoginFailed):
                accounts.authenticate(session, "a@b.dk", "wrong", client=client, now=now)
    assert accounts.is_locked(user, now)
    accounts.unlock_user(session, admin, user)
    assert session.scalars(select(LoginThrottle)).all() == []
    assert not accounts.is_locked(user) and user.failed_logins == 0
    accounts.authenticate(session, "a@b.dk", STAFF_PASSWORD, client="one")
    for _ in range(MAX_FAILED_LOGINS):
        with pytest.raises(LoginFailed):
            accounts.authenticate(session, "a@b.dk", "wrong", client="two")
    accounts.reset_password(session, admin, user)
    assert session.scalars(select(LoginThrottle)).all() == []
    assert not accounts.is_locked(user)
