"""Two-factor sign-in for local staff accounts: an authenticator app (TOTP) and recovery codes.

- The app's codes are RFC 6238 TOTP (30-second steps, 6 digits, SHA-1: what every
  authenticator app reads from a QR code), made and checked with ``pyotp``. A code is taken
  one step early or late (clock drift), and a code is never taken twice: the step of the last
  accepted code is kept and only later steps are accepted.
- Enrolment: :func:`start_enrolment` makes a secret (kept unconfirmed), the staff member scans
  it and :func:`confirm_enrolment` checks a first code and gives :data:`RECOVERY_CODES`
  one-time recovery codes, shown once; only salted hashes of them are kept.
- Losing the phone: a recovery code signs in once (:func:`verify`); an admin can
  :func:`reset` another member's second factor (their sessions end; they enrol again at their
  next sign-in). A member whose role does not require it may :func:`disable` their own.

- The app's secret is kept sealed (Fernet: AES-128-CBC with an HMAC, from ``cryptography``)
  with a key derived from the app's ``SECRET_KEY`` (:func:`sealer`), so that a copy of
  the database (a backup) does not give away anyone's second factor. The services take that
  key (``key``); keys derived from ``SECRET_KEY_FALLBACKS`` still unseal what they sealed. A
  secret sealed under a key that is gone cannot be read: its codes are refused and the member
  signs in with a recovery code (or an admin resets them).

Which roles must have it is the web layer's setting (``TOTP_REQUIRED_ROLES``); a member of
another role may set it up and is then asked for it too. Enrolment, reset, new recovery codes
and every recovery code used are written to the audit log.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import logging
import re
import secrets
from collections.abc import Collection, Sequence
from datetime import datetime

import pyotp
from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from sqlalchemy import Select, delete, func, or_, select, update
from sqlalchemy.orm import Session

from . import accounts, audit
from .errors import N_, Conflict, InvalidInput, NotFound
from .models import RecoveryCode, StaffTotp, StaffUser, utcnow

ISSUER = "Stemmer"
#: Recovery codes made at a time.
RECOVERY_CODES = 10
#: Steps (30 seconds each) a code may be early or late.
DRIFT_STEPS = 1
_RECOVERY_ALPHABET = "abcdefghjkmnpqrstuvwxyz23456789"
#: A secret as pyotp makes it (base32), kept unsealed before migration 0023 sealed them all.
_UNSEALED = re.compile(r"[A-Z2-7]{16,64}")

log = logging.getLogger(__name__)


class WrongCode(InvalidInput):
    """A code that is wrong, too old, already used or not for this account."""

    code = "wrong_code"


def _wrong_code() -> WrongCode:
    return WrongCode(N_("The code is wrong or has been used. Try the newest code."))


# -- reading ------------------------------------------------------------------------------------


def _totp_row(session: Session, user: StaffUser) -> StaffTotp | None:
    return session.get(StaffTotp, user.id)


def is_enrolled(session: Session, user: StaffUser) -> bool:
    """Whether the member has a confirmed authenticator app."""
    row = _totp_row(session, user)
    return row is not None and row.confirmed_at is not None


def is_required(user: StaffUser, required_roles: Collection[str]) -> bool:
    """Whether the member's role must sign in with a second factor."""
    return user.role.value in required_roles


def asks_second_factor(session: Session, user: StaffUser, required_roles: Collection[str]) -> bool:
    """Whether signing in takes a second step: a code, or enrolment first."""
    return is_required(user, required_roles) or is_enrolled(session, user)


def enrolled_in(organisation_id: int) -> Select[tuple[int]]:
    """The ids of an organisation's members with a confirmed authenticator app."""
    return (
        select(StaffTotp.staff_user_id)
        .join(StaffUser, StaffUser.id == StaffTotp.staff_user_id)
        .where(StaffUser.organisation_id == organisation_id, StaffTotp.confirmed_at.is_not(None))
    )


def recovery_codes_left(session: Session, user: StaffUser) -> int:
    """How many of the member's recovery codes are still unused."""
    return (
        session.scalar(
            select(func.count()).where(
                RecoveryCode.staff_user_id == user.id, RecoveryCode.used_at.is_(None)
            )
        )
        or 0
    )


def sealer(secret_key: str, fallbacks: Sequence[str] = ()) -> MultiFernet:
    """What seals the authenticator secrets: a key derived from the app's ``SECRET_KEY``
    (HKDF-SHA256 with a purpose of its own: never the key that signs the cookies), and keys
    derived likewise from ``SECRET_KEY_FALLBACKS`` that still unseal what they sealed."""

    def derive(secret: str) -> Fernet:
        raw = HKDF(
            algorithm=hashes.SHA256(), length=32, salt=None, info=b"stemmer totp secrets"
        ).derive(secret.encode())
        return Fernet(base64.urlsafe_b64encode(raw))

    return MultiFernet([derive(secret_key), *(derive(old) for old in fallbacks)])


def seal(secret: str, key: MultiFernet) -> str:
    """``secret`` as it is stored: a Fernet token (AES-128-CBC and an HMAC)."""
    return key.encrypt(secret.encode()).decode()


def unseal(stored: str, key: MultiFernet) -> str | None:
    """The secret in ``stored``; None when no key of ``key`` sealed it (``SECRET_KEY`` was
    changed without keeping the old one in the fallbacks). A secret stored before sealing
    (plain base32) is returned as it is."""
    if _UNSEALED.fullmatch(stored):
        return stored
    try:
        return key.decrypt(stored.encode()).decode()
    except (InvalidToken, ValueError):
        log.warning("an authenticator secret could not be unsealed: was SECRET_KEY changed?")
        return None


def provisioning_uri(secret: str, email: str) -> str:
    """The ``otpauth://`` address an authenticator app reads from the QR code."""
    return pyotp.TOTP(secret).provisioning_uri(name=email, issuer_name=ISSUER)


# -- codes --------------------------------------------------------------------------------------


def _matching_step(secret: str, code: str, now: datetime) -> int | None:
    """The time step whose code ``code`` is, within ``DRIFT_STEPS`` of now, else None."""
    totp = pyotp.TOTP(secret)
    current = totp.timecode(now)
    for offset in range(-DRIFT_STEPS, DRIFT_STEPS + 1):
        if hmac.compare_digest(totp.at(now, counter_offset=offset), code):
            return current + offset
    return None


def _take_step(session: Session, row: StaffTotp, step: int) -> bool:
    """Record ``step`` as used unless it or a later one was (one UPDATE: two requests with
    the same code cannot both succeed)."""
    result = session.execute(
        update(StaffTotp)
        .where(
            StaffTotp.staff_user_id == row.staff_user_id,
            or_(StaffTotp.last_step.is_(None), StaffTotp.last_step < step),
        )
        .values(last_step=step)
        .execution_options(synchronize_session=False)
    )
    session.refresh(row)
    return bool(result.rowcount)  # type: ignore[attr-defined]


def _digits(code: str) -> str:
    return "".join(code.split())


def _check_app_code(
    session: Session, row: StaffTotp, code: str, now: datetime, key: MultiFernet
) -> bool:
    code = _digits(code)
    secret = unseal(row.secret, key)
    if secret is None or len(code) != 6 or not code.isdigit():
        return False
    step = _matching_step(secret, code, now)
    return step is not None and _take_step(session, row, step)


def _normal_recovery(code: str) -> str:
    return "".join(ch for ch in code.lower() if ch.isalnum())


def _hash_recovery(code: str, salt: str | None = None) -> str:
    salt = salt or secrets.token_hex(16)
    digest = hashlib.sha256(f"{salt}:{_normal_recovery(code)}".encode()).hexdigest()
    return f"{salt}${digest}"


def _recovery_matches(code_hash: str, code: str) -> bool:
    salt, _, _ = code_hash.partition("$")
    return hmac.compare_digest(_hash_recovery(code, salt), code_hash)


def _new_recovery_codes(session: Session, user: StaffUser) -> list[str]:
    """Replace the member's recovery codes with new ones; returns them (shown once)."""
    session.execute(delete(RecoveryCode).where(RecoveryCode.staff_user_id == user.id))
    codes = [
        "-".join("".join(secrets.choice(_RECOVERY_ALPHABET) for _ in range(5)) for _ in range(2))
        for _ in range(RECOVERY_CODES)
    ]
    session.add_all(
        RecoveryCode(staff_user_id=user.id, code_hash=_hash_recovery(code)) for code in codes
    )
    return codes


def _use_recovery_code(session: Session, user: StaffUser, code: str, now: datetime) -> bool:
    if not 8 <= len(_normal_recovery(code)) <= 20:
        return False
    unused = session.scalars(
        select(RecoveryCode).where(
            RecoveryCode.staff_user_id == user.id, RecoveryCode.used_at.is_(None)
        )
    ).all()
    for row in unused:
        if _recovery_matches(row.code_hash, code):
            result = session.execute(
                update(RecoveryCode)
                .where(RecoveryCode.id == row.id, RecoveryCode.used_at.is_(None))
                .values(used_at=now)
                .execution_options(synchronize_session=False)
            )
            return bool(result.rowcount)  # type: ignore[attr-defined]
    return False


def _audit(session: Session, actor: StaffUser, user: StaffUser, action: str, **after: int) -> None:
    audit.record(
        session,
        organisation_id=user.organisation_id,
        actor=actor,
        action=action,
        target_type="staff_user",
        target_id=user.id,
        after=after or None,
    )


# -- services -----------------------------------------------------------------------------------


def start_enrolment(session: Session, user: StaffUser, *, key: MultiFernet) -> str:
    """A new secret for the member's authenticator app, kept unconfirmed (an earlier
    unconfirmed one is replaced); :class:`Conflict` if they have a confirmed one."""
    row = _totp_row(session, user)
    if row is not None and row.confirmed_at is not None:
        raise Conflict(
            N_("Two-factor sign-in is already set up for this account."), code="totp_enrolled"
        )
    secret = pyotp.random_base32()
    if row is None:
        session.add(StaffTotp(staff_user_id=user.id, secret=seal(secret, key)))
    else:
        row.secret, row.created_at, row.last_step = seal(secret, key), utcnow(), None
    session.commit()
    return secret


def pending_secret(session: Session, user: StaffUser, *, key: MultiFernet) -> str | None:
    """The unconfirmed secret of an enrolment under way, else None (also when it was sealed
    with another key: a new enrolment starts)."""
    row = _totp_row(session, user)
    return unseal(row.secret, key) if row is not None and row.confirmed_at is None else None


def confirm_enrolment(
    session: Session, user: StaffUser, code: str, *, key: MultiFernet, now: datetime | None = None
) -> list[str]:
    """Confirm the enrolment under way with a code from the app; returns the new recovery
    codes (to be shown once). :class:`WrongCode` if the code is not the app's."""
    now = now or utcnow()
    row = _totp_row(session, user)
    if (
        row is None
        or row.confirmed_at is not None
        or not _check_app_code(session, row, code, now, key)
    ):
        raise _wrong_code()
    row.confirmed_at = now
    codes = _new_recovery_codes(session, user)
    _audit(session, user, user, "twofactor.enrol")
    session.commit()
    return codes


def _check_sign_in_code(
    session: Session, user: StaffUser, code: str, now: datetime, key: MultiFernet
) -> bool:
    """Whether ``code`` is the app's (False) or an unused recovery code, now used (True);
    :class:`WrongCode` if neither."""
    row = _totp_row(session, user)
    if row is None or row.confirmed_at is None:
        raise _wrong_code()
    if _check_app_code(session, row, code, now, key):
        return False
    if _use_recovery_code(session, user, code, now):
        left = recovery_codes_left(session, user)
        _audit(session, user, user, "twofactor.recovery_code_used", recovery_codes_left=left)
        return True
    raise _wrong_code()


def verify(
    session: Session,
    user: StaffUser,
    code: str,
    *,
    client: str,
    key: MultiFernet,
    now: datetime | None = None,
) -> bool:
    """Check a sign-in's second step: a code from the app, or else an unused recovery code
    (then used up and audited). Returns whether a recovery code was used.

    Wrong codes count like failed logins, per account and ``client`` (a keyed hash of where
    the attempt comes from), in their own count: after ``MAX_FAILED_LOGINS`` that client is
    held back from the account for a while (:class:`WrongCode` even for a right code).
    """
    now = now or utcnow()
    client = f"2fa:{client}"
    if accounts.is_held_back(session, user, client, now):
        raise WrongCode(
            N_("Too many wrong codes. Wait %(minutes)d minutes and try again."),
            minutes=int(accounts.LOCKOUT.total_seconds() // 60),
        )
    try:
        used_recovery = _check_sign_in_code(session, user, code, now, key)
    except WrongCode:
        locked = accounts.count_failed_attempt(session, user, client, now)
        action = "auth.lock" if locked else "twofactor.failed"
        _audit(session, user, user, action, failed_logins=user.failed_logins)
        session.commit()
        raise
    accounts.forget_failed_attempts(session, user, client)
    _audit(session, user, user, "twofactor.login")
    session.commit()
    return used_recovery


def renew_recovery_codes(
    session: Session, user: StaffUser, code: str, *, key: MultiFernet, now: datetime | None = None
) -> list[str]:
    """New recovery codes for the member (the old ones stop working), after a code from
    their app; returns them (shown once)."""
    now = now or utcnow()
    row = _totp_row(session, user)
    if row is None or row.confirmed_at is None or not _check_app_code(session, row, code, now, key):
        raise _wrong_code()
    codes = _new_recovery_codes(session, user)
    _audit(session, user, user, "twofactor.recovery_codes_renewed")
    session.commit()
    return codes


def disable(
    session: Session,
    user: StaffUser,
    code: str,
    *,
    required: bool,
    key: MultiFernet,
    now: datetime | None = None,
) -> None:
    """Turn off one's own two-factor sign-in, after a code from the app; :class:`Conflict`
    when the member's role requires it (``required``)."""
    if required:
        raise Conflict(
            N_("Your role must sign in with a code from an app: it cannot be turned off."),
            code="totp_required",
        )
    row = _totp_row(session, user)
    if (
        row is None
        or row.confirmed_at is None
        or not _check_app_code(session, row, code, now or utcnow(), key)
    ):
        raise _wrong_code()
    _remove(session, user)
    _audit(session, user, user, "twofactor.disable")
    session.commit()


def _remove(session: Session, user: StaffUser) -> None:
    session.execute(delete(StaffTotp).where(StaffTotp.staff_user_id == user.id))
    session.execute(delete(RecoveryCode).where(RecoveryCode.staff_user_id == user.id))


def reset(session: Session, actor: StaffUser | None, user: StaffUser) -> None:
    """Remove another member's second factor (a lost phone): their app and recovery codes no
    longer work and their sessions end; they enrol again at their next sign-in if their role
    requires it. ``actor`` None: the operator on the command line (``flask users
    reset-two-factor``), for an organisation whose only admin lost phone and codes."""
    if actor is not None and user.organisation_id != actor.organisation_id:
        raise NotFound(N_("This user does not exist."), code="user_not_found")
    if actor is not None and user.id == actor.id:
        raise Conflict(
            N_("Ask another admin to reset your own two-factor sign-in."), code="self_reset"
        )
    _remove(session, user)
    accounts.end_sessions_of(session, user)
    audit.record(
        session,
        organisation_id=user.organisation_id,
        actor=actor,
        actor_email=None if actor is not None else "command line",
        action="twofactor.reset",
        target_type="staff_user",
        target_id=user.id,
    )
    session.commit()
