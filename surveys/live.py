"""Read services for the live wall on a projector: the latest notes and what changed since.

Only approved answers are ever returned with their text. An answer counts as changed when it
was created, moderated or redacted at or after a moment; approval by a moderator therefore
shows an older answer as new, and hiding one tells the projector to take it down (by id).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sqlalchemy import Select, or_, select
from sqlalchemy.orm import Session

from .models import Answer, AnswerStatus, utcnow

#: How far back each look for changes reaches beyond the cursor, so that a change committed
#: a moment after it was timestamped (a slow transaction) is not missed.
OVERLAP = timedelta(seconds=10)
#: The oldest cursor accepted; older ones start from this far back.
MAX_LOOKBACK = timedelta(hours=1)
MAX_CHANGES = 200


@dataclass(frozen=True)
class LiveNote:
    """An approved answer as shown on the projector."""

    id: int
    prompt_id: int
    text: str
    created_at: datetime
    #: Changes when a moderator redacts the text, so that the projector updates it.
    version: str


@dataclass(frozen=True)
class LiveChanges:
    """What changed on a wall: notes to show or update, and ids to take down."""

    #: Pass this back as ``since`` next time.
    cursor: datetime
    notes: list[LiveNote]
    removed: list[int]


def to_millis(moment: datetime) -> int:
    """A timestamp as whole milliseconds since the epoch (the cursor clients pass back)."""
    return int(moment.timestamp() * 1000)


def from_millis(value: int | str | None, now: datetime | None = None) -> datetime | None:
    """Parse a cursor given by a client; None when absent or malformed.

    Cursors in the future become ``now``; cursors older than :data:`MAX_LOOKBACK` are
    clamped to that, so a client cannot ask for a wall's whole history.
    """
    if value is None or isinstance(value, bool):
        return None
    try:
        millis = int(value)
    except (TypeError, ValueError):
        return None
    now = now or utcnow()
    try:
        moment = datetime.fromtimestamp(millis / 1000, tz=UTC)
    except (OverflowError, OSError, ValueError):
        return None
    return max(min(moment, now), now - MAX_LOOKBACK)


def _note(answer: Answer) -> LiveNote:
    version = answer.redacted_at.isoformat() if answer.redacted_at else "0"
    return LiveNote(answer.id, answer.prompt_id, answer.text, answer.created_at, version)


def _published(answer: Answer) -> tuple[datetime, int]:
    # When the answer became visible: at creation (post-moderation) or at approval.
    moderated = answer.moderated_at or answer.created_at
    return max(answer.created_at, moderated), answer.id


def _wall_answers(wall_id: int, prompt_id: int | None) -> Select[tuple[Answer]]:
    stmt = select(Answer).where(Answer.wall_id == wall_id)
    if prompt_id is not None:
        stmt = stmt.where(Answer.prompt_id == prompt_id)
    return stmt


def latest_notes(
    session: Session, wall_id: int, *, prompt_id: int | None = None, limit: int = 24
) -> list[LiveNote]:
    """The newest approved answers of a wall (newest first)."""
    stmt = (
        _wall_answers(wall_id, prompt_id)
        .where(Answer.status == AnswerStatus.APPROVED)
        .order_by(Answer.created_at.desc(), Answer.id.desc())
        .limit(limit)
    )
    return [_note(a) for a in session.scalars(stmt)]


def changes_since(
    session: Session,
    wall_id: int,
    since: datetime,
    *,
    prompt_id: int | None = None,
    now: datetime | None = None,
) -> LiveChanges:
    """Answers created, approved, hidden or redacted on a wall since ``since``.

    Notes come in the order they became visible (oldest first), so a client that adds each at
    the top ends with the most recently published one first.

    The result may repeat changes already reported (see :data:`OVERLAP`); clients de-duplicate
    by id and version.
    """
    cursor = now or utcnow()
    start = since - OVERLAP
    stmt = (
        _wall_answers(wall_id, prompt_id)
        .where(
            or_(
                Answer.created_at >= start,
                Answer.moderated_at >= start,
                Answer.redacted_at >= start,
            )
        )
        .order_by(Answer.id.desc())
        .limit(MAX_CHANGES)
    )
    notes: list[LiveNote] = []
    removed: list[int] = []
    answers = sorted(session.scalars(stmt).all(), key=_published)
    for answer in answers:
        if answer.status is AnswerStatus.APPROVED:
            notes.append(_note(answer))
        elif answer.moderated_at is not None and answer.moderated_at >= start:
            # Taken down (or sent back to review) by a moderator: only the id goes out.
            removed.append(answer.id)
    return LiveChanges(cursor=cursor, notes=notes, removed=removed)
