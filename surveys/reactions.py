"""Reactions ("enig"): a device agrees with a note on a wall, once, and may take it back."""

from __future__ import annotations

from typing import Any, cast

from sqlalchemy import CursorResult, delete
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from .answers import SUBMISSION_ID_PATTERN
from .errors import N_, InvalidInput, NotFound
from .models import Answer, AnswerStatus, Reaction


def add_reaction(session: Session, answer: Answer, device_key: str) -> bool:
    """Record an "enig" from a device once; return False when it had already agreed."""
    if answer.status is not AnswerStatus.APPROVED:
        raise NotFound(N_("This answer is not shown on the wall."), code="answer_not_found")
    if not SUBMISSION_ID_PATTERN.match(device_key):
        raise InvalidInput(N_("Invalid device key."), code="invalid_device")
    session.add(Reaction(answer_id=answer.id, wall_id=answer.wall_id, device_key=device_key))
    try:
        session.commit()
    except IntegrityError:
        session.rollback()
        return False
    return True


def remove_reaction(session: Session, answer: Answer, device_key: str) -> bool:
    """Take back this device's "enig" on a note; return False when it had none."""
    # A DELETE's result is a CursorResult (it has the row count); Session.execute says Result.
    removed = cast(
        CursorResult[Any],
        session.execute(
            delete(Reaction).where(
                Reaction.answer_id == answer.id, Reaction.device_key == device_key
            )
        ),
    )
    session.commit()
    return bool(removed.rowcount)
