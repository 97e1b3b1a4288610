"""Services: every write of the domain goes through a function here.

Each service takes a session, validates, writes and commits; it raises a
:class:`~surveys.errors.DomainError` with a stable code when it cannot.
"""

from __future__ import annotations

import re
import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from . import queries
from .errors import N_, Conflict, InvalidInput, NotFound, WallClosed, WallNotOpen
from .models import (
    AGE_GROUP_CODES,
    PROFILE_FIELDS,
    ROLE_CODES,
    Answer,
    AnswerStatus,
    Channel,
    KioskDevice,
    Moderation,
    Organisation,
    Prompt,
    Reaction,
    StaffRole,
    StaffUser,
    Wall,
    utcnow,
)
from .passwords import hash_password
from .privacy import Finding, detect_personal_data
from .text import MAX_ANSWER_LENGTH, normalise_answer

SUBMISSION_ID_PATTERN = re.compile(r"^[A-Za-z0-9_.:-]{8,64}$")
#: The largest id the database can hold (PostgreSQL integer); larger ones match nothing.
MAX_DATABASE_ID = 2**31 - 1
EMAIL_PATTERN = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")


@dataclass(frozen=True)
class SubmitResult:
    """The stored answer and whether this call created it (False: an idempotent retry)."""

    answer: Answer
    created: bool


def get_wall(session: Session, slug: str) -> Wall:
    """The wall with this slug, or :class:`NotFound`."""
    wall = session.scalars(queries.wall_by_slug(slug)).one_or_none()
    if wall is None:
        raise NotFound(N_("This wall does not exist."), code="wall_not_found")
    return wall


def ensure_open(wall: Wall, now: datetime | None = None) -> None:
    """Raise unless the wall accepts answers now."""
    now = now or utcnow()
    if wall.has_closed(now):
        raise WallClosed(N_("This wall has closed and no longer accepts answers."))
    if not wall.is_open(now):
        raise WallNotOpen(N_("This wall has not opened yet."))


def clean_answer_text(text: object) -> str:
    """Normalise and validate an answer's text; raise :class:`InvalidInput` when unusable."""
    if not isinstance(text, str):
        raise InvalidInput(N_("The answer must be text."), code="invalid_text")
    cleaned = normalise_answer(text)
    if not cleaned:
        raise InvalidInput(N_("Please write an answer before sending."), code="empty_text")
    if len(cleaned) > MAX_ANSWER_LENGTH:
        raise InvalidInput(
            N_("The answer is too long: at most %(max)d characters, this one has %(length)d."),
            code="text_too_long",
            max=MAX_ANSWER_LENGTH,
            length=len(cleaned),
        )
    return cleaned


def clean_profile(wall: Wall, profile: Mapping[str, object] | None) -> dict[str, str]:
    """Validate optional profile values against the wall's questions; empty values are dropped."""
    if profile is None:
        return {}
    if not isinstance(profile, Mapping):
        raise InvalidInput(N_("The profile must be an object."), code="invalid_profile")
    cleaned: dict[str, str] = {}
    for key, value in profile.items():
        if key not in PROFILE_FIELDS:
            raise InvalidInput(
                N_("Unknown profile field: %(field)s."), code="invalid_profile", field=str(key)[:40]
            )
        if value is None or value == "":
            continue
        allowed: tuple[str, ...] | list[str]
        allowed = {"role": ROLE_CODES, "age_group": AGE_GROUP_CODES, "area": wall.areas}[key]
        if key not in wall.profile_questions or not isinstance(value, str) or value not in allowed:
            raise InvalidInput(
                N_("Invalid value for the profile field %(field)s."),
                code="invalid_profile",
                field=key,
            )
        cleaned[key] = value
    return cleaned


def initial_status(wall: Wall, findings: list[Finding]) -> AnswerStatus:
    """Pre-moderated walls hold answers for review; post-moderated ones publish at once.

    An answer in which the guard found personal data is never published automatically.
    """
    if findings or wall.moderation is not Moderation.POST:
        return AnswerStatus.PENDING
    return AnswerStatus.APPROVED


def findings_json(findings: list[Finding]) -> list[dict[str, object]]:
    """Guard findings as stored on the answer: kinds and offsets, never the matched text."""
    return [{"kind": f.kind, "start": f.start, "end": f.end} for f in findings]


def submit_answer(
    session: Session,
    wall: Wall,
    *,
    prompt_id: object,
    text: object,
    client_submission_id: object,
    channel: Channel = Channel.WEB,
    profile: Mapping[str, object] | None = None,
    language: str | None = None,
    device: KioskDevice | None = None,
    now: datetime | None = None,
) -> SubmitResult:
    """Store a citizen's answer exactly once per ``client_submission_id`` on the wall.

    A retry with the same id returns the stored answer (``created=False``); the same id with
    a different text or prompt is a :class:`Conflict`. Concurrent retries are safe: the
    database's unique constraint decides, and the loser returns the winner's answer.
    The personal-data guard runs on every new answer; what it finds is stored as offsets and
    holds the answer for moderation. ``device`` ties a kiosk answer to its tablet.
    """
    now = now or utcnow()
    if not isinstance(client_submission_id, str) or not SUBMISSION_ID_PATTERN.match(
        client_submission_id
    ):
        raise InvalidInput(
            N_("client_submission_id must be 8-64 letters, digits or -_.:"),
            code="invalid_submission_id",
        )
    if isinstance(prompt_id, bool) or not isinstance(prompt_id, int):
        raise InvalidInput(N_("Choose one of the wall's questions."), code="invalid_prompt")
    cleaned = clean_answer_text(text)

    try:
        ensure_open(wall, now)
    except (WallClosed, WallNotOpen):
        # A retry of an answer stored before the wall closed still gets its answer back.
        existing = session.scalars(
            queries.answer_by_submission(wall.id, client_submission_id)
        ).first()
        if existing is None:
            raise
        return _replay(existing, prompt_id, cleaned)
    prompt = session.get(Prompt, prompt_id) if 0 < prompt_id <= MAX_DATABASE_ID else None
    if prompt is None or prompt.wall_id != wall.id:
        existing = session.scalars(
            queries.answer_by_submission(wall.id, client_submission_id)
        ).first()
        if existing is not None:  # a retry that names a prompt deleted since: a conflict
            return _replay(existing, prompt_id, cleaned)
        raise InvalidInput(N_("Choose one of the wall's questions."), code="invalid_prompt")
    values = clean_profile(wall, profile)
    if device is not None and (device.wall_id != wall.id or not device.is_active):
        raise InvalidInput(
            N_("This kiosk device cannot answer on this wall."), code="invalid_device"
        )
    findings = detect_personal_data(cleaned)

    answer = Answer(
        wall_id=wall.id,
        prompt_id=prompt.id,
        text=cleaned,
        created_at=now,
        channel=channel,
        client_submission_id=client_submission_id,
        status=initial_status(wall, findings),
        pii_findings=findings_json(findings),
        language=language,
        device_id=device.id if device is not None else None,
        **values,
    )
    # Insert first: a new answer (the usual case) costs one INSERT; a retry hits the unique
    # constraint and is answered from the stored row. Nothing is expired by this commit, so
    # the caller can read the answer and the wall without reloading them.
    existing = add_once(session, answer, _commit_keeping_state)
    if existing is not None:
        return _replay(existing, prompt_id, cleaned)
    from .themes import assign_on_arrival  # the theme engine loads only when runs exist

    assign_on_arrival(session, answer)
    return SubmitResult(answer, created=True)


def add_once(session: Session, answer: Answer, write: Callable[[Session], None]) -> Answer | None:
    """Add a new answer and ``write`` (flush or commit); None when it was stored.

    When the wall already holds an answer with the same ``client_submission_id`` (a retry,
    or a concurrent duplicate losing the race on the unique constraint) the session is rolled
    back and that stored answer is returned instead.
    """
    session.add(answer)
    try:
        write(session)
    except IntegrityError:
        session.rollback()
        existing = session.scalars(
            queries.answer_by_submission(answer.wall_id, answer.client_submission_id)
        ).first()
        if existing is None:
            raise
        return existing
    return None


#: SQLite lets one connection write at a time and makes the others sleep and retry (in steps
#: of up to 100 ms). Threads of one process queue here instead, so a burst of answers waits
#: in order rather than in sleeps; only other processes still meet SQLite's busy handler.
_SQLITE_WRITES = threading.Lock()


def _commit_keeping_state(session: Session) -> None:
    """Commit without expiring loaded objects (their state is what was just written)."""
    expire = session.expire_on_commit
    session.expire_on_commit = False
    try:
        if session.get_bind().dialect.name == "sqlite":
            with _SQLITE_WRITES:
                session.commit()
        else:
            session.commit()
    finally:
        session.expire_on_commit = expire


def _replay(existing: Answer, prompt_id: int, text: str) -> SubmitResult:
    if existing.prompt_id != prompt_id or existing.text != text:
        raise Conflict(
            N_("This client_submission_id was already used for a different answer."),
            code="submission_id_reused",
        )
    return SubmitResult(existing, created=False)


def add_reaction(session: Session, answer: Answer, device_key: str) -> bool:
    """Record an "enig" from a device once; return False when it had already agreed."""
    if answer.status is not AnswerStatus.APPROVED:
        raise NotFound(N_("This answer is not shown on the wall."), code="answer_not_found")
    if not SUBMISSION_ID_PATTERN.match(device_key):
        raise InvalidInput(N_("Invalid device key."), code="invalid_device")
    session.add(Reaction(answer_id=answer.id, device_key=device_key))
    try:
        session.commit()
    except IntegrityError:
        session.rollback()
        return False
    return True


def create_organisation(session: Session, slug: str, name: str) -> Organisation:
    """Create an organisation (municipality or alliance)."""
    if session.scalars(queries.organisation_by_slug(slug)).first() is not None:
        raise Conflict(N_("An organisation with this slug already exists."), code="slug_taken")
    organisation = Organisation(slug=slug, name=name)
    session.add(organisation)
    session.commit()
    return organisation


def create_staff_user(
    session: Session,
    organisation: Organisation,
    email: str,
    role: StaffRole,
    password: str,
    name: str = "",
) -> StaffUser:
    """Create a staff account with an argon2-hashed password."""
    email = email.strip().lower()
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
    session.commit()
    return user
