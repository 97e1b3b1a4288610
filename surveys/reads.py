"""Read models: queries executed and shaped for pages and the API."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from . import queries
from .models import Answer, Reaction, WallReply
from .replies import visible_replies


@dataclass(frozen=True)
class Note:
    """An approved answer as shown on a wall."""

    id: int
    prompt_id: int
    text: str
    created_at: datetime
    agree_count: int


@dataclass(frozen=True)
class NotesPage:
    """A slice of a wall's notes, newest first."""

    notes: list[Note]
    total: int
    offset: int
    limit: int

    @property
    def has_more(self) -> bool:
        """Whether older notes follow this slice."""
        return self.offset + len(self.notes) < self.total


def wall_notes(
    session: Session,
    wall_id: int,
    *,
    limit: int,
    offset: int = 0,
    prompt_id: int | None = None,
) -> NotesPage:
    """Approved answers of a wall with their "enig" counts, newest first."""
    stmt = queries.public_answers(wall_id, prompt_id)
    total = session.scalar(queries.count_of(stmt)) or 0
    answers: list[Answer] = list(session.scalars(stmt.limit(limit).offset(offset)))
    counts = dict(session.execute(queries.reaction_counts([a.id for a in answers])).tuples().all())
    notes = [Note(a.id, a.prompt_id, a.text, a.created_at, counts.get(a.id, 0)) for a in answers]
    return NotesPage(notes=notes, total=total, offset=offset, limit=limit)


def agreed_answer_ids(session: Session, device_key: str | None, answer_ids: list[int]) -> set[int]:
    """Which of these answers the device with this "enig" key has already agreed with."""
    if not device_key or not answer_ids:
        return set()
    stmt = select(Reaction.answer_id).where(
        Reaction.device_key == device_key, Reaction.answer_id.in_(answer_ids)
    )
    return set(session.scalars(stmt))


def wall_replies(session: Session, wall_id: int, limit: int = 3) -> list[WallReply]:
    """The newest staff replies shown on a wall."""
    return list(session.scalars(visible_replies(wall_id).limit(limit)))


def agree_count(session: Session, answer_id: int) -> int:
    """How many devices agree with an answer."""
    counts = dict(session.execute(queries.reaction_counts([answer_id])).tuples().all())
    return counts.get(answer_id, 0)
