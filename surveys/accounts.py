"""Staff accounts: login with throttling, session freshness, roles and user administration.

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
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import cache

from sqlalchemy import Select, func, select
from sqlalchemy.orm import Session

from . import audit, operations
from .errors import N_, Conflict, DomainError, InvalidInput, NotFound
from .models import StaffRole, StaffUser, utcnow
from .passwords import generate_password, hash_password, verify_password

#: Consecutive failed logins after which an account is locked.
MAX_FAILED_LOGINS = 5
#: How long a lock lasts; every further failure after the limit locks it again.
LOCKOUT = timedelta(minutes=15)
#: A staff session ends after this long without a request ...
IDLE_TIMEOUT = timedelta(minutes=30)
#: ... and in any case this long after logging in.
MAX_SESSION_AGE = timedelta(hours=12)
MIN_PASSWORD_LENGTH = 10


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


class PermissionDenied(DomainError):
    """The staff member's role does not allow this."""

    code = "forbidden"
    status = 403


LOGIN_FAILED_MESSAGE = N_(
    "Wrong e-mail or password. After %(max)d failed attempts the account is locked "
    "for %(minutes)d minutes."
)


def _login_failed() -> LoginFailed:
    return LoginFailed(
        LOGIN_FAILED_MESSAGE, max=MAX_FAILED_LOGINS, minutes=int(LOCKOUT.total_seconds() // 60)
    )


@cache
def _dummy_hash() -> str:
    """A hash to verify against for unknown e-mails, so that they take as long as known ones."""
    return hash_password(generate_password())


def normalise_email(email: str) -> str:
    """E-mail addresses are stored lower-case and trimmed."""
    return (email or "").strip().lower()


def is_locked(user: StaffUser, now: datetime | None = None) -> bool:
    """Whether the account is locked after too many failed logins."""
    now = now or utcnow()
    return user.locked_until is not None and now < user.locked_until


def authenticate(
    session: Session, email: str, password: str, now: datetime | None = None
) -> StaffUser:
    """The active staff member with this e-mail and password, or :class:`LoginFailed`.

    Failed attempts are counted per account; after ``MAX_FAILED_LOGINS`` in a row the
    account is locked for ``LOCKOUT`` and even the right password is refused until then.
    Every attempt on a known account is written to its organisation's audit log.
    """
    now = now or utcnow()
    email = normalise_email(email)
    user = session.scalars(select(StaffUser).where(StaffUser.email == email)).first()
    if user is None or not password or len(password) > 1024:
        verify_password(_dummy_hash(), password or "-")
        raise _login_failed()
    if is_locked(user, now):
        audit.record(
            session,
            organisation_id=user.organisation_id,
            actor=user,
            action="auth.login_refused_locked",
            target_type="staff_user",
            target_id=user.id,
        )
        session.commit()
        raise _login_failed()
    if not verify_password(user.password_hash, password) or not user.is_active:
        user.failed_logins = (user.failed_logins or 0) + 1
        locked = user.failed_logins >= MAX_FAILED_LOGINS
        if locked:
            user.locked_until = now + LOCKOUT
        audit.record(
            session,
            organisation_id=user.organisation_id,
            actor=user,
            action="auth.lock" if locked else "auth.login_failed",
            target_type="staff_user",
            target_id=user.id,
            after={"failed_logins": user.failed_logins},
        )
        session.commit()
        raise _login_failed()
    user.failed_logins = 0
    user.locked_until = None
    user.last_login_at = now
    audit.record(
        session,
        organisation_id=user.organisation_id,
        actor=user,
        action="auth.login",
        target_type="staff_user",
        target_id=user.id,
    )
    session.commit()
    return user


def record_logout(session: Session, user: StaffUser) -> None:
    """Write a logout to the audit log."""
    audit.record(
        session,
        organisation_id=user.organisation_id,
        actor=user,
        action="auth.logout",
        target_type="staff_user",
        target_id=user.id,
    )
    session.commit()


def session_key(user: StaffUser) -> str:
    """A fingerprint of the account's password hash, kept in the browser session.

    Changing or resetting the password changes it, which ends every other session.
    """
    return hashlib.sha256(user.password_hash.encode()).hexdigest()[:24]


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


def load_session_user(session: Session, user_id: object, key: object) -> StaffUser | None:
    """The active staff member a browser session belongs to, if the session is still valid."""
    if isinstance(user_id, bool) or not isinstance(user_id, int):
        return None
    user = session.get(StaffUser, user_id)
    if user is None or not user.is_active or key != session_key(user):
        return None
    return user


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


def create_user(
    session: Session, actor: StaffUser, email: str, role: StaffRole, name: str = ""
) -> tuple[StaffUser, str]:
    """Create an account in the actor's organisation; returns it and its generated password."""
    password = generate_password()
    user = operations.create_staff_user(
        session, actor.organisation, email, role, password, name=" ".join(name.split())[:200]
    )
    audit.record(
        session,
        organisation_id=actor.organisation_id,
        actor=actor,
        action="user.create",
        target_type="staff_user",
        target_id=user.id,
        after=audit.snapshot(user, USER_FIELDS),
    )
    session.commit()
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


def unlock_user(session: Session, actor: StaffUser, user: StaffUser) -> None:
    """Lift a lock after failed logins."""
    if user.organisation_id != actor.organisation_id:
        raise NotFound(N_("This user does not exist."), code="user_not_found")
    before = {"failed_logins": user.failed_logins, "locked_until": user.locked_until}
    user.failed_logins = 0
    user.locked_until = None
    audit.record(
        session,
        organisation_id=user.organisation_id,
        actor=actor,
        action="user.unlock",
        target_type="staff_user",
        target_id=user.id,
        before=before,
        after={"failed_logins": 0, "locked_until": None},
    )
    session.commit()


def reset_password(session: Session, actor: StaffUser, user: StaffUser) -> str:
    """Give the account a new generated password (ending its sessions); returns the password."""
    if user.organisation_id != actor.organisation_id:
        raise NotFound(N_("This user does not exist."), code="user_not_found")
    password = generate_password()
    user.password_hash = hash_password(password)
    user.failed_logins = 0
    user.locked_until = None
    audit.record(
        session,
        organisation_id=user.organisation_id,
        actor=actor,
        action="user.password_reset",
        target_type="staff_user",
        target_id=user.id,
    )
    session.commit()
    return password


def change_password(session: Session, user: StaffUser, current: str, new: str) -> None:
    """Change one's own password after checking the current one."""
    if not verify_password(user.password_hash, current or ""):
        raise InvalidInput(N_("The current password is wrong."), code="wrong_password")
    if len(new or "") < MIN_PASSWORD_LENGTH:
        raise InvalidInput(
            N_("The password must have at least 10 characters."), code="weak_password"
        )
    if len(new) > 1024:
        raise InvalidInput(N_("The password is too long."), code="invalid_password")
    user.password_hash = hash_password(new)
    audit.record(
        session,
        organisation_id=user.organisation_id,
        actor=user,
        action="user.password_change",
        target_type="staff_user",
        target_id=user.id,
    )
    session.commit()
