"""Staff accounts: login with throttling, server-side sessions, roles and user administration.

Roles and what they may do (``ROLE_PERMISSIONS``):

=========  ====  ========  ======  ======  =======  ======  =====  =====
role       view  moderate  manage  reply   export   delete  users  audit
=========  ====  ========  ======  ======  =======  ======  =====  =====
admin      yes   yes       yes     yes     yes      yes     yes    yes
manager    yes   yes       yes     yes     yes      --      --     --
moderator  yes   yes       --      --      --       --      --     --
analyst    yes   --        --      --      yes      --      --     --
viewer     yes   --        --      --      --       --      --     --
=========  ====  ========  ======  ======  =======  ======  =====  =====

"view" covers campaigns, walls and *approved* answers only; pending and hidden answers
(which may hold personal data) are seen through the moderation queue ("moderate").
Everyone acts only within their own organisation.
"""

from __future__ import annotations

import enum
import hashlib
import re
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import cache

from sqlalchemy import Select, delete, func, or_, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, joinedload

from . import audit, queries
from .errors import N_, Conflict, DomainError, InvalidInput, NotFound
from .models import LoginThrottle, Organisation, StaffRole, StaffSession, StaffUser, utcnow
from .passwords import generate_password, hash_password, verify_password

#: Failed logins on one account from one client (see :func:`authenticate`) before that client
#: is held back from that account ...
MAX_FAILED_LOGINS = 5
#: ... for this long at first; each further failure from it doubles the wait ...
LOCKOUT = timedelta(minutes=15)
#: ... up to this.
MAX_LOCKOUT = timedelta(hours=24)
#: A client's failures on an account are forgotten this long after its last failure or hold.
FAILURES_FORGOTTEN_AFTER = timedelta(hours=24)
#: A staff session ends after this long without a request ...
IDLE_TIMEOUT = timedelta(minutes=30)
#: ... and in any case this long after logging in.
MAX_SESSION_AGE = timedelta(hours=12)
#: How often a session's last-seen time is written (not on every request).
SEEN_RESOLUTION = timedelta(minutes=1)
MIN_PASSWORD_LENGTH = 10
#: Longer passwords are refused without being hashed (argon2 would take them, slowly).
MAX_PASSWORD_LENGTH = 1024


class Permission(enum.StrEnum):
    """What a staff member may do in the workspace."""

    VIEW = "view"  # campaigns, walls, approved answers
    MODERATE = "moderate"  # the queue with pending/hidden answers; approve, hide, redact
    MANAGE_CAMPAIGNS = "manage_campaigns"  # campaigns, walls, prompts, kiosk devices
    REPLY = "reply"  # staff replies on walls
    EXPORT = "export"  # CSV export of a campaign's answers
    DELETE_CAMPAIGNS = "delete_campaigns"  # delete a campaign with all its data
    MANAGE_USERS = "manage_users"  # the organisation's staff accounts
    VIEW_AUDIT = "view_audit"  # the audit log
    CURATE_THEMES = "curate_themes"  # run the theme engine; rename, merge, split, move, hide
    PUBLISH = "publish"  # publish or withdraw a campaign's public "Det har vi hørt" page
    #: the organisation's settings: data controller, accessibility statement, look (admins)
    MANAGE_ORGANISATION = "manage_organisation"


P = Permission
ROLE_PERMISSIONS: dict[StaffRole, frozenset[Permission]] = {
    StaffRole.ADMIN: frozenset(Permission),
    StaffRole.MANAGER: frozenset(
        {P.VIEW, P.MODERATE, P.MANAGE_CAMPAIGNS, P.REPLY, P.EXPORT, P.CURATE_THEMES, P.PUBLISH}
    ),
    StaffRole.MODERATOR: frozenset({P.VIEW, P.MODERATE}),
    StaffRole.ANALYST: frozenset({P.VIEW, P.EXPORT, P.CURATE_THEMES}),
    StaffRole.VIEWER: frozenset({P.VIEW}),
}


def can(user: StaffUser | None, permission: Permission) -> bool:
    """Whether an (active) staff member has the permission."""
    return bool(user and user.is_active and permission in ROLE_PERMISSIONS[user.role])


class LoginFailed(DomainError):
    """Wrong e-mail or password, or the account is locked or deactivated.

    One message for every case, so that the login form does not tell which e-mail
    addresses have accounts.
    """

    code = "login_failed"
    status = 401


LOGIN_FAILED_MESSAGE = N_(
    "Wrong e-mail or password. After %(max)d failed attempts from the same place, you must "
    "wait at least %(minutes)d minutes before you try again from there."
)


def _login_failed() -> LoginFailed:
    return LoginFailed(
        LOGIN_FAILED_MESSAGE, max=MAX_FAILED_LOGINS, minutes=int(LOCKOUT.total_seconds() // 60)
    )


@cache
def _dummy_hash() -> str:
    """A hash to verify against when there is no account's hash to check, made like theirs."""
    return hash_password(generate_password())


def normalise_email(email: str) -> str:
    """E-mail addresses are stored lower-case and trimmed."""
    return (email or "").strip().lower()


def is_locked(user: StaffUser, now: datetime | None = None) -> bool:
    """Whether some client is held back from this account after failed logins.

    ``StaffUser.locked_until`` is when the last such hold ends (for the admin pages); the
    holds themselves are per client (:class:`LoginThrottle`).
    """
    now = now or utcnow()
    return user.locked_until is not None and now < user.locked_until


def lockout_after(failures: int) -> timedelta | None:
    """How long a client is held back after this many failures in a row (None: not at all)."""
    if failures < MAX_FAILED_LOGINS:
        return None
    doublings = min(failures - MAX_FAILED_LOGINS, 10)  # 15 min * 2**7 is already over a day
    return min(LOCKOUT * 2**doublings, MAX_LOCKOUT)


def _throttle(session: Session, user: StaffUser, client: str) -> LoginThrottle | None:
    return session.scalars(
        select(LoginThrottle).where(
            LoginThrottle.staff_user_id == user.id, LoginThrottle.client_key == client
        )
    ).first()


def _forgotten(throttle: LoginThrottle, now: datetime) -> bool:
    last = throttle.locked_until or throttle.last_failure_at  # a hold ends after its failure
    return now - last >= FAILURES_FORGOTTEN_AFTER


def _update_lock_summary(session: Session, user: StaffUser, now: datetime) -> None:
    """Set ``user.locked_until`` to the end of the account's longest hold still running."""
    session.flush()
    user.locked_until = session.scalar(
        select(func.max(LoginThrottle.locked_until)).where(
            LoginThrottle.staff_user_id == user.id, LoginThrottle.locked_until > now
        )
    )


def _count_failure(
    session: Session,
    user: StaffUser,
    client: str,
    throttle: LoginThrottle | None,
    now: datetime,
) -> bool:
    """Count a failed login on the account from the client; True if it now holds it back."""
    if throttle is None:
        throttle = LoginThrottle(staff_user_id=user.id, client_key=client, failures=0)
        session.add(throttle)
    elif _forgotten(throttle, now):
        throttle.failures = 0
    throttle.failures += 1
    throttle.last_failure_at = now
    hold = lockout_after(throttle.failures)
    throttle.locked_until = now + hold if hold else None
    user.failed_logins = (user.failed_logins or 0) + 1
    _update_lock_summary(session, user, now)
    return hold is not None


def authenticate(
    session: Session, email: str, password: str, *, client: str, now: datetime | None = None
) -> StaffUser:
    """The active staff member with this e-mail and password, or :class:`LoginFailed`.

    ``client`` identifies where the attempt comes from without saying it (the web layer
    passes a keyed hash of the client's address). Failed attempts are counted per account
    *and* client: after ``MAX_FAILED_LOGINS`` in a row that client is held back from that
    account for ``LOCKOUT`` (even the right password is refused), doubling with every further
    failure up to ``MAX_LOCKOUT``. Other clients are not affected, so an attacker cannot keep
    a staff member out; the rate limit per address bounds the guessing across accounts.

    Every outcome costs exactly one argon2 verification (against a dummy hash when there is
    no account), so none answers faster than another. Every attempt on a known account is
    written to its organisation's audit log.
    """
    now = now or utcnow()
    user = session.scalars(
        select(StaffUser).where(StaffUser.email == normalise_email(email))
    ).first()
    usable = bool(password) and len(password) <= MAX_PASSWORD_LENGTH
    dummy = _dummy_hash()  # made by the first attempt in the process, whatever its outcome
    checked_hash = user.password_hash if user is not None and usable else dummy
    matches = verify_password(checked_hash, password if usable else "-")
    if user is None:
        raise _login_failed()
    try:
        _record_attempt(session, user, client, now, usable and matches)
    except IntegrityError:  # another attempt from the same client added its row first
        session.rollback()
        _record_attempt(session, user, client, now, usable and matches)
    return user


def _record_attempt(
    session: Session, user: StaffUser, client: str, now: datetime, password_ok: bool
) -> None:
    """Count, audit and commit one login attempt on a known account; raise if it failed."""
    throttle = _throttle(session, user, client)
    if throttle is not None and throttle.locked_until is not None and now < throttle.locked_until:
        audit.commit_change(
            session,
            organisation_id=user.organisation_id,
            actor=user,
            action="auth.login_refused_locked",
            target_type="staff_user",
            target_id=user.id,
        )
        raise _login_failed()
    if not password_ok or not user.is_active:
        locked = _count_failure(session, user, client, throttle, now)
        audit.commit_change(
            session,
            organisation_id=user.organisation_id,
            actor=user,
            action="auth.lock" if locked else "auth.login_failed",
            target_type="staff_user",
            target_id=user.id,
            after={"failed_logins": user.failed_logins},
        )
        raise _login_failed()
    if throttle is not None:
        session.delete(throttle)
    user.failed_logins = 0
    _update_lock_summary(session, user, now)
    user.last_login_at = now
    audit.commit_change(
        session,
        organisation_id=user.organisation_id,
        actor=user,
        action="auth.login",
        target_type="staff_user",
        target_id=user.id,
    )


def is_held_back(
    session: Session, user: StaffUser, client: str, now: datetime | None = None
) -> bool:
    """Whether failed attempts from ``client`` hold it back from the account now (the holds of
    :func:`authenticate`; a second step such as a two-factor code uses its own ``client``)."""
    now = now or utcnow()
    throttle = _throttle(session, user, client)
    held_until = throttle.locked_until if throttle is not None else None
    return held_until is not None and now < held_until


def count_failed_attempt(
    session: Session, user: StaffUser, client: str, now: datetime | None = None
) -> bool:
    """Count a failed attempt on the account from ``client`` as a failed login counts (the
    caller audits and commits); True if the client is now held back."""
    now = now or utcnow()
    return _count_failure(session, user, client, _throttle(session, user, client), now)


def forget_failed_attempts(session: Session, user: StaffUser, client: str) -> None:
    """Forget ``client``'s failed attempts on the account (the caller commits)."""
    session.execute(
        delete(LoginThrottle).where(
            LoginThrottle.staff_user_id == user.id, LoginThrottle.client_key == client
        )
    )
    _update_lock_summary(session, user, utcnow())


def record_logout(session: Session, user: StaffUser) -> None:
    """Write a logout to the audit log."""
    audit.commit_change(
        session,
        organisation_id=user.organisation_id,
        actor=user,
        action="auth.logout",
        target_type="staff_user",
        target_id=user.id,
    )


# -- sessions -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class SessionTimes:
    """When a staff session logged in and when it was last used (UTC)."""

    authenticated_at: datetime
    last_seen_at: datetime


def session_is_fresh(
    times: SessionTimes,
    now: datetime | None = None,
    *,
    idle_timeout: timedelta = IDLE_TIMEOUT,
    max_age: timedelta = MAX_SESSION_AGE,
) -> bool:
    """Whether a staff session is still valid: used recently and not too old."""
    now = now or utcnow()
    if times.last_seen_at > now + timedelta(minutes=1):  # a clock from the future
        return False
    return now - times.last_seen_at < idle_timeout and now - times.authenticated_at < max_age


def _token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def start_session(
    session: Session,
    user: StaffUser,
    *,
    max_age: timedelta = MAX_SESSION_AGE,
    now: datetime | None = None,
) -> str:
    """Open a session for a staff member who just logged in; returns the browser's token.

    Only the token's SHA-256 is stored. The member's ended and too old sessions are deleted
    here, so that the table holds little more than the sessions in use.
    """
    now = now or utcnow()
    session.execute(
        delete(StaffSession).where(
            StaffSession.staff_user_id == user.id,
            or_(StaffSession.ended_at.is_not(None), StaffSession.created_at <= now - max_age),
        )
    )
    token = secrets.token_urlsafe(32)
    session.add(
        StaffSession(
            staff_user_id=user.id, token_hash=_token_hash(token), created_at=now, last_seen_at=now
        )
    )
    session.commit()
    return token


def session_user(
    session: Session,
    token: object,
    *,
    idle_timeout: timedelta = IDLE_TIMEOUT,
    max_age: timedelta = MAX_SESSION_AGE,
    now: datetime | None = None,
) -> StaffUser | None:
    """The active staff member whose open, fresh session the browser's token is, else None.

    Its last-seen time is written when it is more than ``SEEN_RESOLUTION`` old.
    """
    if not isinstance(token, str) or not 0 < len(token) <= 100:
        return None
    now = now or utcnow()
    row = session.scalars(
        select(StaffSession)
        .where(StaffSession.token_hash == _token_hash(token))
        .options(joinedload(StaffSession.user))
    ).first()
    if row is None or row.ended_at is not None or not row.user.is_active:
        return None
    times = SessionTimes(row.created_at, row.last_seen_at)
    if not session_is_fresh(times, now, idle_timeout=idle_timeout, max_age=max_age):
        return None
    if now - row.last_seen_at >= SEEN_RESOLUTION:
        row.last_seen_at = now
        session.commit()
    return row.user


def end_session(session: Session, token: object, now: datetime | None = None) -> None:
    """End the session of this browser token (logout); a copy of the cookie then no longer works."""
    if not isinstance(token, str) or not 0 < len(token) <= 100:
        return
    session.execute(
        update(StaffSession)
        .where(StaffSession.token_hash == _token_hash(token), StaffSession.ended_at.is_(None))
        .values(ended_at=now or utcnow())
    )
    session.commit()


def end_sessions_of(session: Session, user: StaffUser, now: datetime | None = None) -> None:
    """End every open session of the staff member (the caller commits)."""
    session.execute(
        update(StaffSession)
        .where(StaffSession.staff_user_id == user.id, StaffSession.ended_at.is_(None))
        .values(ended_at=now or utcnow())
    )


# -- user administration (admins) -------------------------------------------------------------

USER_FIELDS = ("email", "name", "role", "is_active")


def staff_of(organisation_id: int) -> Select[tuple[StaffUser]]:
    """An organisation's staff, by e-mail."""
    return (
        select(StaffUser)
        .where(StaffUser.organisation_id == organisation_id)
        .order_by(StaffUser.email)
    )


def get_staff_user(session: Session, organisation_id: int, user_id: int) -> StaffUser:
    """A staff member of this organisation, or :class:`NotFound` (also for other orgs')."""
    user = session.get(StaffUser, user_id)
    if user is None or user.organisation_id != organisation_id:
        raise NotFound(N_("This user does not exist."), code="user_not_found")
    return user


EMAIL_PATTERN = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")


def create_organisation(session: Session, slug: str, name: str) -> Organisation:
    """Create an organisation (municipality or alliance); committed (``flask orgs create``)."""
    if session.scalars(queries.organisation_by_slug(slug)).first() is not None:
        raise Conflict(N_("An organisation with this slug already exists."), code="slug_taken")
    organisation = Organisation(slug=slug, name=name)
    session.add(organisation)
    session.commit()
    return organisation


def add_staff_user(
    session: Session,
    organisation: Organisation,
    email: str,
    role: StaffRole,
    password: str,
    name: str = "",
) -> StaffUser:
    """A new staff account with an argon2-hashed password (flushed; the caller commits:
    :func:`create_user` with its audit entry, ``flask users create``)."""
    email = normalise_email(email)
    if not EMAIL_PATTERN.match(email):
        raise InvalidInput(N_("Invalid e-mail address."), code="invalid_email")
    if len(password) < 10:
        raise InvalidInput(
            N_("The password must have at least 10 characters."), code="weak_password"
        )
    if session.scalars(select(StaffUser).where(StaffUser.email == email)).first() is not None:
        raise Conflict(N_("A user with this e-mail already exists."), code="email_taken")
    user = StaffUser(
        organisation_id=organisation.id,
        email=email,
        name=name,
        role=role,
        password_hash=hash_password(password),
    )
    session.add(user)
    session.flush()
    return user


def create_user(
    session: Session, actor: StaffUser, email: str, role: StaffRole, name: str = ""
) -> tuple[StaffUser, str]:
    """Create an account in the actor's organisation; returns it and its generated password."""
    password = generate_password()
    user = add_staff_user(
        session, actor.organisation, email, role, password, name=" ".join(name.split())[:200]
    )
    audit.commit_change(
        session,
        organisation_id=actor.organisation_id,
        actor=actor,
        action="user.create",
        target_type="staff_user",
        target_id=user.id,
        after=audit.snapshot(user, USER_FIELDS),
    )
    return user, password


def _active_admins(session: Session, organisation_id: int) -> int:
    return (
        session.scalar(
            select(func.count()).where(
                StaffUser.organisation_id == organisation_id,
                StaffUser.role == StaffRole.ADMIN,
                StaffUser.is_active.is_(True),
            )
        )
        or 0
    )


def update_user(
    session: Session,
    actor: StaffUser,
    user: StaffUser,
    *,
    role: StaffRole,
    is_active: bool,
    name: str,
) -> StaffUser:
    """Change a staff member's role, name or whether the account is active.

    The organisation always keeps at least one active admin, and admins cannot lock
    themselves out.
    """
    if user.organisation_id != actor.organisation_id:
        raise NotFound(N_("This user does not exist."), code="user_not_found")
    before = audit.snapshot(user, USER_FIELDS)
    losing_admin = (
        user.role is StaffRole.ADMIN
        and user.is_active
        and (role is not StaffRole.ADMIN or not is_active)
    )
    if losing_admin and user.id == actor.id:
        raise Conflict(
            N_("You cannot remove your own admin role or deactivate yourself."), code="self_lockout"
        )
    if losing_admin and _active_admins(session, user.organisation_id) <= 1:
        raise Conflict(
            N_("The organisation must keep at least one active admin."), code="last_admin"
        )
    user.role = role
    user.is_active = is_active
    if not is_active:
        end_sessions_of(session, user)
    user.name = " ".join(name.split())[:200]
    old, new = audit.changed(before, audit.snapshot(user, USER_FIELDS))
    if new:
        audit.record(
            session,
            organisation_id=user.organisation_id,
            actor=actor,
            action="user.update",
            target_type="staff_user",
            target_id=user.id,
            before=old,
            after=new,
        )
    session.commit()
    return user


def _forget_failures(session: Session, user: StaffUser) -> None:
    """Lift every client's hold on the account and forget its failed logins."""
    session.execute(delete(LoginThrottle).where(LoginThrottle.staff_user_id == user.id))
    user.failed_logins = 0
    user.locked_until = None


def unlock_user(session: Session, actor: StaffUser, user: StaffUser) -> None:
    """Lift the holds after failed logins (from every client) and forget the failures."""
    if user.organisation_id != actor.organisation_id:
        raise NotFound(N_("This user does not exist."), code="user_not_found")
    before = {"failed_logins": user.failed_logins, "locked_until": user.locked_until}
    _forget_failures(session, user)
    audit.commit_change(
        session,
        organisation_id=user.organisation_id,
        actor=actor,
        action="user.unlock",
        target_type="staff_user",
        target_id=user.id,
        before=before,
        after={"failed_logins": 0, "locked_until": None},
    )


def reset_password(session: Session, actor: StaffUser, user: StaffUser) -> str:
    """Give the account a new generated password (ending its sessions); returns the password."""
    if user.organisation_id != actor.organisation_id:
        raise NotFound(N_("This user does not exist."), code="user_not_found")
    password = generate_password()
    user.password_hash = hash_password(password)
    _forget_failures(session, user)
    end_sessions_of(session, user)
    audit.commit_change(
        session,
        organisation_id=user.organisation_id,
        actor=actor,
        action="user.password_reset",
        target_type="staff_user",
        target_id=user.id,
    )
    return password


def change_password(session: Session, user: StaffUser, current: str, new: str) -> None:
    """Change one's own password after checking the current one.

    Every session of the account ends, this one too: the web layer starts a new one for the
    browser that changed it.
    """
    if not verify_password(user.password_hash, current or ""):
        raise InvalidInput(N_("The current password is wrong."), code="wrong_password")
    if len(new or "") < MIN_PASSWORD_LENGTH:
        raise InvalidInput(
            N_("The password must have at least 10 characters."), code="weak_password"
        )
    if len(new) > MAX_PASSWORD_LENGTH:
        raise InvalidInput(N_("The password is too long."), code="invalid_password")
    user.password_hash = hash_password(new)
    end_sessions_of(session, user)
    audit.commit_change(
        session,
        organisation_id=user.organisation_id,
        actor=user,
        action="user.password_change",
        target_type="staff_user",
        target_id=user.id,
    )
