"""Storing a citizen's answer: the one service the web form, the JSON API and the kiosk call.

:func:`submit_answer` validates the answer against the wall (open, its question, the "om dig"
values), runs the personal-data guard, adds the :class:`~surveys.models.Answer` and commits.
An answer is stored exactly once per ``client_submission_id`` on a wall: the database's
unique constraint decides, and a retry (or the loser of two concurrent sends) gets the
stored answer back. After the commit the ``answer_stored`` signal lets the queue place the
answer under the latest themes (:mod:`surveys.events`).
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from . import closed, events, queries
from .errors import N_, Conflict, DeviceRevoked, InvalidInput, NotFound, WallClosed, WallNotOpen
from .kiosk import note_seen
from .models import (
    AGE_GROUP_CODES,
    PROFILE_FIELDS,
    ROLE_CODES,
    Answer,
    AnswerStatus,
    Channel,
    KioskDevice,
    Moderation,
    Prompt,
    Wall,
    utcnow,
)
from .privacy import Finding, detect_personal_data
from .profiles import age_question
from .text import MAX_ANSWER_LENGTH, normalise_answer

#: Ends with ``\Z``, not ``$``, which also matches before a final newline ("abcdefgh\n" got
#: through ``match``): ``match`` and ``fullmatch`` both check the whole id.
SUBMISSION_ID_PATTERN = re.compile(r"[A-Za-z0-9_.:-]{8,64}\Z")
#: The largest id the database can hold (PostgreSQL integer); larger ones match nothing.
MAX_DATABASE_ID = 2**31 - 1

#: How long after a wall closes (or a kiosk device is revoked) an answer written before that
#: moment is still accepted, held for moderation: an offline phone or a kiosk tablet may keep
#: a day's answers in its outbox before it reaches the server again.
LATE_ANSWER_GRACE = timedelta(hours=48)
#: How far in the future a device's ``written_at`` may be (its clock may be a little fast);
#: a time further ahead is ignored: the answer counts as written when it arrives.
WRITTEN_AT_CLOCK_SKEW = timedelta(minutes=5)


@dataclass(frozen=True)
class SubmitResult:
    """The stored answer and whether this call created it (False: an idempotent retry)."""

    answer: Answer
    created: bool


def get_wall_by_slug(session: Session, slug: str) -> Wall:
    """The wall with this slug, or :class:`NotFound`."""
    wall = session.scalars(queries.wall_by_slug(slug)).unique().one_or_none()
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


def parse_written_at(value: object, now: datetime) -> datetime | None:
    """When the participant's device says the answer was written (``written_at``), in UTC.

    ``value`` is None or an ISO 8601 time with a UTC offset ("2026-12-07T09:30:00+01:00",
    "2026-12-07T08:30:00.000Z"); anything else is :class:`InvalidInput`
    (``invalid_written_at``). A time more than :data:`WRITTEN_AT_CLOCK_SKEW` after ``now``
    proves nothing (the device's clock is wrong): it is ignored, and the answer counts as
    written when it arrives.
    """
    if value is None:
        return None
    written = None
    if isinstance(value, str) and len(value) <= 40:
        try:
            parsed = datetime.fromisoformat(value)
            if parsed.tzinfo is not None:
                written = parsed.astimezone(UTC)
        except (ValueError, OverflowError):
            written = None
    if written is None:
        raise InvalidInput(
            N_("written_at must be a time in ISO 8601 with a UTC offset."),
            code="invalid_written_at",
        )
    return None if written > now + WRITTEN_AT_CLOCK_SKEW else written


def _answering_ended(wall: Wall, device: KioskDevice | None, now: datetime) -> datetime | None:
    """When answering ended for an answer to ``wall`` (from ``device``): the wall's close or
    the device's revocation, the earlier one if both have passed; None while both allow it."""
    ends = [
        moment
        for moment in (wall.closes_at, device.revoked_at if device is not None else None)
        if moment is not None and moment <= now
    ]
    return min(ends, default=None)


def accepts_late(wall: Wall, written_at: datetime | None, ended: datetime, now: datetime) -> bool:
    """Whether an answer arriving after answering ``ended`` (the wall closed or the kiosk was
    switched off) is still stored: it was written while the wall was open and before that
    moment, and it arrives within :data:`LATE_ANSWER_GRACE` of it."""
    return (
        written_at is not None
        and written_at < ended
        and wall.is_open(written_at)
        and now < ended + LATE_ANSWER_GRACE
    )


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
        allowed: Sequence[str]
        allowed = {"role": ROLE_CODES, "age_group": AGE_GROUP_CODES, "area": wall.areas}[key]
        if key not in wall.profile_questions or not isinstance(value, str) or value not in allowed:
            raise InvalidInput(
                N_("Invalid value for the profile field %(field)s."),
                code="invalid_profile",
                field=key,
            )
        cleaned[key] = value
    if "age_group" in cleaned:
        # The age must fit who answers: a young person's own age, a parent's child's...
        question = age_question(wall.audience, cleaned.get("role"))
        if question is None or cleaned["age_group"] not in question[1]:
            raise InvalidInput(
                N_("The age group does not fit who is answering."),
                code="invalid_profile",
                field="age_group",
            )
    return cleaned


def clean_optional_text(text: object) -> str:
    """A closed question's follow-up text: "" when none was written, else as
    :func:`clean_answer_text`."""
    if text is None or (isinstance(text, str) and not normalise_answer(text)):
        return ""
    return clean_answer_text(text)


def initial_status(wall: Wall, findings: list[Finding], text: str) -> AnswerStatus:
    """Pre-moderated walls hold answers for review; post-moderated ones publish at once.

    An answer in which the guard found personal data is never published automatically. A
    closed question's answer without text is counted, never shown (there is nothing to read).
    """
    if not text:
        return AnswerStatus.COUNTED
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
    value: object = None,
    channel: Channel = Channel.WEB,
    profile: Mapping[str, object] | None = None,
    language: str | None = None,
    device: KioskDevice | None = None,
    written_at: object = None,
    now: datetime | None = None,
) -> SubmitResult:
    """Store a citizen's answer exactly once per ``client_submission_id`` on the wall; commit.

    ``value`` answers a closed question (:func:`surveys.closed.clean_value`); its text, the
    follow-up, may then be empty. A free-text question takes text only.

    A retry with the same id returns the stored answer (``created=False``); the same id with
    a different text or prompt is a :class:`Conflict`. Concurrent retries are safe: the
    database's unique constraint decides, and the loser returns the winner's answer.
    The personal-data guard runs on every new answer; what it finds is stored as offsets and
    holds the answer for moderation. ``device`` ties a kiosk answer to its tablet (and notes
    that the tablet was seen, in the same commit).

    ``written_at`` is when the device says the answer was written (see
    :func:`parse_written_at`). After the wall has closed, or the kiosk ``device`` has been
    revoked, a new answer is stored only when it was written before that moment and arrives
    within :data:`LATE_ANSWER_GRACE` of it (an outbox that was offline); such an answer is held
    for moderation and keeps its ``written_at``. A wall that has not opened yet takes nothing.
    """
    now = now or utcnow()
    if not isinstance(client_submission_id, str) or not SUBMISSION_ID_PATTERN.fullmatch(
        client_submission_id
    ):
        raise InvalidInput(
            N_("client_submission_id must be 8-64 letters, digits or -_.:"),
            code="invalid_submission_id",
        )
    if isinstance(prompt_id, bool) or not isinstance(prompt_id, int):
        raise InvalidInput(N_("Choose one of the wall's questions."), code="invalid_prompt")
    cleaned = clean_answer_text(text) if value is None else clean_optional_text(text)
    written = parse_written_at(written_at, now)
    if device is not None and device.wall_id != wall.id:
        raise InvalidInput(
            N_("This kiosk device cannot answer on this wall."), code="invalid_device"
        )
    ended = _answering_ended(wall, device, now)
    opened = wall.is_open(now) or wall.has_closed(now)
    refused = not opened or (ended is not None and not accepts_late(wall, written, ended, now))
    prompt = session.get(Prompt, prompt_id) if 0 < prompt_id <= MAX_DATABASE_ID else None
    if refused or prompt is None or prompt.wall_id != wall.id:
        # A retry of an answer stored before the wall closed, the kiosk was switched off or
        # the question was deleted still gets its answer back.
        stored = session.scalars(
            queries.answer_by_submission(wall.id, client_submission_id)
        ).first()
        if stored is not None:
            return _replay(stored, prompt_id, cleaned, value)
        if refused:
            ensure_open(wall, now)  # raises WallClosed or WallNotOpen
            raise DeviceRevoked(
                N_("This kiosk has been switched off. Ask the staff for a new kiosk link.")
            )
        raise InvalidInput(N_("Choose one of the wall's questions."), code="invalid_prompt")
    late = ended is not None
    stored_value = closed.value_for_prompt(prompt, value, written)
    if stored_value is None and not cleaned:
        raise InvalidInput(N_("Choose an answer or write one before sending."), code="empty_answer")
    values = clean_profile(wall, profile)
    findings = detect_personal_data(cleaned) if cleaned else []
    answer = Answer(
        wall_id=wall.id,
        prompt_id=prompt_id,
        text=cleaned,
        value=stored_value,
        created_at=now,
        channel=channel,
        client_submission_id=client_submission_id,
        # A late answer waits for a moderator, whatever the wall's moderation.
        status=_status(wall, findings, cleaned, late),
        pii_findings=findings_json(findings),
        language=language,
        device_id=device.id if device is not None else None,
        written_at=written if late else None,
        **values,
    )
    if device is not None and device.is_active:
        note_seen(device, now)
    answer, created = add_once(session, answer)
    if not created:  # a retry, or sent twice at once and the other one was stored first
        return _replay(answer, prompt_id, cleaned, stored_value)
    session.commit()
    events.answer_stored.send(session, answer_id=answer.id, campaign_id=wall.campaign_id)
    return SubmitResult(answer, created=True)


def add_once(session: Session, answer: Answer) -> tuple[Answer, bool]:
    """Add ``answer`` and flush; return it and True.

    When the wall already holds an answer with its ``client_submission_id`` (a retry, or a
    concurrent send of the same answer that won the race on the unique constraint) the
    session's transaction is rolled back and the stored answer is returned, with False. The
    caller commits.
    """
    session.add(answer)
    try:
        session.flush()
    except IntegrityError:
        session.rollback()
        stored = session.scalars(
            queries.answer_by_submission(answer.wall_id, answer.client_submission_id)
        ).first()
        if stored is None:  # not a duplicate: a programming error or a deleted question
            raise
        return stored, False
    return answer, True


def _status(wall: Wall, findings: list[Finding], text: str, late: bool) -> AnswerStatus:
    """A late answer with text waits for a moderator, whatever the wall's moderation."""
    if late and text:
        return AnswerStatus.PENDING
    return initial_status(wall, findings, text)


def _same_value(stored: object, sent: object) -> bool:
    """A retry's value is the stored one (a multiple choice's ids in any order)."""
    if isinstance(stored, list) and isinstance(sent, list):
        return sorted(map(str, stored)) == sorted(map(str, sent))
    if isinstance(stored, int) and isinstance(sent, str):  # a scale's "4" from a form
        return str(stored) == sent
    return stored == sent or (stored is None and sent == [])


def _replay(existing: Answer, prompt_id: int, text: str, value: object = None) -> SubmitResult:
    if (
        existing.prompt_id != prompt_id
        or existing.text != text
        or not _same_value(existing.value, value)
    ):
        raise Conflict(
            N_("This client_submission_id was already used for a different answer."),
            code="submission_id_reused",
        )
    return SubmitResult(existing, created=False)
