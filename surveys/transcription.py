"""Typing in a stack of paper answers (sticky notes, postcards) one after the other.

Staff pick a wall, a question, the event or place, the date written on the wall and optional
profile values once (a :class:`Batch`), then each note is stored by :func:`transcribe` with
channel ``paper``. The personal-data guard and moderation work exactly as for web answers; the
wall's answering window does not apply (the notes were written while it was open).

Who typed which note is recorded in the audit log ("answer.transcribe"), never on the answer;
the same staff member may correct or delete their own notes for ``CORRECTION_WINDOW``.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta

from sqlalchemy import and_, or_, select
from sqlalchemy.orm import Session

from . import audit, events, queries
from .answers import (
    SUBMISSION_ID_PATTERN,
    add_once,
    clean_answer_text,
    clean_profile,
    findings_json,
    initial_status,
)
from .errors import N_, Conflict, InvalidInput, NotFound
from .imports import (
    LOCAL_ZONE,
    RowError,
    answer_values,
    clean_place,
    duplicate_key,
    local_day,
    today_local,
)
from .models import Answer, AnswerStatus, AuditEntry, Channel, Prompt, StaffUser, Wall, utcnow
from .privacy import detect_personal_data

#: How long after typing a note its typist may still correct or delete it.
CORRECTION_WINDOW = timedelta(hours=12)
ACTION = "answer.transcribe"


@dataclass(frozen=True)
class Batch:
    """What every note in a stack shares."""

    wall: Wall
    prompt: Prompt
    place: str | None = None
    written_on: date | None = None
    profile: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class TranscribeResult:
    """The stored note, whether this call stored it, and whether the same text was already
    stored on the wall for that day (saved anyway: two people may write the same)."""

    answer: Answer
    created: bool
    duplicate: bool = False


def _invalid(message: str, code: str, **params: object) -> InvalidInput:
    return InvalidInput(message, code=code, **params)


def make_batch(
    session: Session,
    actor: StaffUser,
    wall: Wall,
    *,
    prompt_id: object,
    place: str | None = None,
    written_on: date | None = None,
    profile: Mapping[str, object] | None = None,
    today: date | None = None,
) -> Batch:
    """Validate a batch: the wall is the actor's organisation's, the question is on it, the
    place fits, the date is not in the future and the profile values are the wall's."""
    if wall.campaign.organisation_id != actor.organisation_id:
        raise NotFound(N_("This wall does not exist."), code="wall_not_found")
    if isinstance(prompt_id, bool) or not isinstance(prompt_id, int):
        raise _invalid(N_("Choose one of the wall's questions."), "invalid_prompt")
    prompt = session.scalars(queries.prompt_on_wall(wall.id, prompt_id)).one_or_none()
    if prompt is None:
        raise _invalid(N_("Choose one of the wall's questions."), "invalid_prompt")
    try:
        cleaned_place = clean_place(place)
    except RowError as error:
        raise _invalid(error.message, "invalid_place", **error.params) from error
    if written_on is not None and written_on > (today or today_local()):
        raise _invalid(
            N_("The date %(value)s is in the future."), "invalid_date", value=written_on.isoformat()
        )
    values = clean_profile(wall, profile)
    return Batch(wall, prompt, cleaned_place, written_on, values)


def is_duplicate(session: Session, wall: Wall, text: str, day: date) -> bool:
    """Whether the same text (case and spacing ignored) is stored on the wall for that day."""
    key = duplicate_key(text)
    start = datetime.combine(day, time(0), LOCAL_ZONE).astimezone(UTC)
    end = datetime.combine(day + timedelta(days=1), time(0), LOCAL_ZONE).astimezone(UTC)
    stored = session.scalars(
        select(Answer.text).where(
            Answer.wall_id == wall.id,
            or_(
                Answer.written_on == day,
                and_(
                    Answer.written_on.is_(None),
                    Answer.created_at >= start,
                    Answer.created_at < end,
                ),
            ),
        )
    )
    return any(duplicate_key(t) == key for t in stored)


def transcribe(
    session: Session,
    actor: StaffUser,
    batch: Batch,
    text: object,
    client_submission_id: object,
    *,
    now: datetime | None = None,
) -> TranscribeResult:
    """Store one paper note of the batch exactly once per ``client_submission_id``."""
    now = now or utcnow()
    if not isinstance(client_submission_id, str) or not SUBMISSION_ID_PATTERN.match(
        client_submission_id
    ):
        raise _invalid(
            N_("client_submission_id must be 8-64 letters, digits or -_.:"),
            "invalid_submission_id",
        )
    cleaned = clean_answer_text(text)
    wall = batch.wall
    existing = session.scalars(queries.answer_by_submission(wall.id, client_submission_id)).first()
    if existing is not None:
        return _replay(existing, batch, cleaned)
    day = batch.written_on or local_day(now)
    duplicate = is_duplicate(session, wall, cleaned, day)
    values = answer_values(
        wall,
        batch.prompt,
        cleaned,
        channel=Channel.PAPER,
        client_submission_id=client_submission_id,
        now=now,
        written_on=batch.written_on,
        place=batch.place,
        profile=batch.profile,
        language=wall.language,
    )
    answer, created = add_once(session, Answer(**values))
    if not created:
        return _replay(answer, batch, cleaned)
    audit.commit_change(
        session,
        organisation_id=actor.organisation_id,
        actor=actor,
        action=ACTION,
        target_type="answer",
        target_id=answer.id,
        after={"wall": wall.id, "prompt": batch.prompt.id, "status": answer.status.value},
    )
    events.answer_stored.send(session, answer_id=answer.id, campaign_id=wall.campaign_id)
    return TranscribeResult(answer, created=True, duplicate=duplicate)


def _replay(existing: Answer, batch: Batch, text: str) -> TranscribeResult:
    if existing.prompt_id != batch.prompt.id or existing.text != text:
        raise Conflict(
            N_("This client_submission_id was already used for a different answer."),
            code="submission_id_reused",
        )
    return TranscribeResult(existing, created=False)


def _transcribed_by(
    session: Session, actor: StaffUser, since: datetime, *, limit: int | None = None
) -> list[int]:
    stmt = (
        select(AuditEntry.target_id)
        .where(
            AuditEntry.organisation_id == actor.organisation_id,
            AuditEntry.actor_id == actor.id,
            AuditEntry.action == ACTION,
            AuditEntry.created_at >= since,
        )
        .order_by(AuditEntry.id.desc())
    )
    if limit is not None:
        stmt = stmt.limit(limit)
    return [i for i in session.scalars(stmt) if i is not None]


def recent(
    session: Session, actor: StaffUser, wall: Wall | None = None, *, limit: int = 10
) -> list[Answer]:
    """The notes the actor typed most recently (newest first), still open for correction."""
    since = utcnow() - CORRECTION_WINDOW
    ids = _transcribed_by(session, actor, since, limit=limit * 4 if wall else limit)
    if not ids:
        return []
    stmt = select(Answer).where(Answer.id.in_(ids))
    if wall is not None:
        stmt = stmt.where(Answer.wall_id == wall.id)
    answers = {a.id: a for a in session.scalars(stmt)}
    return [answers[i] for i in ids if i in answers][:limit]


def own_note(
    session: Session, actor: StaffUser, answer_id: int, now: datetime | None = None
) -> Answer:
    """A note the actor typed within the correction window, or :class:`NotFound`."""
    now = now or utcnow()
    if answer_id in _transcribed_by(session, actor, now - CORRECTION_WINDOW):
        answer = session.get(Answer, answer_id)
        if answer is not None and answer.channel is Channel.PAPER:
            return answer
    raise NotFound(
        N_("This note can no longer be corrected here. Use the moderation queue."),
        code="note_not_found",
    )


def correct(
    session: Session, actor: StaffUser, answer_id: int, text: object, *, now: datetime | None = None
) -> Answer:
    """Correct a note's text (a typo); the guard runs again and decides the status anew."""
    answer = own_note(session, actor, answer_id, now)
    cleaned = clean_answer_text(text)
    if cleaned == answer.text:
        return answer
    findings = detect_personal_data(cleaned)
    answer.text = cleaned
    answer.pii_findings = findings_json(findings)
    if answer.status is not AnswerStatus.HIDDEN:
        answer.status = initial_status(answer.wall, findings, cleaned)
    audit.commit_change(
        session,
        organisation_id=actor.organisation_id,
        actor=actor,
        action="answer.transcription_corrected",
        target_type="answer",
        target_id=answer.id,
        after={"length": len(cleaned), "status": answer.status.value},
    )
    return answer


def delete(
    session: Session, actor: StaffUser, answer_id: int, *, now: datetime | None = None
) -> None:
    """Delete a note typed by mistake (e.g. twice)."""
    answer = own_note(session, actor, answer_id, now)
    audit.record(
        session,
        organisation_id=actor.organisation_id,
        actor=actor,
        action="answer.transcription_deleted",
        target_type="answer",
        target_id=answer.id,
        after={"wall": answer.wall_id},
    )
    session.delete(answer)
    session.commit()
