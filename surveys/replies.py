"""Staff replies to a wall: the dialogue back to citizens."""

from __future__ import annotations

from sqlalchemy import Select, select
from sqlalchemy.orm import Session

from .errors import N_, InvalidInput
from .models import StaffUser, Wall, WallReply
from .text import normalise_answer

MAX_REPLY_LENGTH = 2000


def visible_replies(wall_id: int) -> Select[tuple[WallReply]]:
    """Replies shown on a wall, newest first."""
    return (
        select(WallReply)
        .where(WallReply.wall_id == wall_id, WallReply.is_hidden.is_(False))
        .order_by(WallReply.created_at.desc(), WallReply.id.desc())
    )


def post_reply(session: Session, wall: Wall, author: StaffUser | None, text: str) -> WallReply:
    """Publish a staff reply on a wall."""
    cleaned = normalise_answer(text or "")
    if not cleaned:
        raise InvalidInput(N_("Write the reply before publishing it."), code="empty_text")
    if len(cleaned) > MAX_REPLY_LENGTH:
        raise InvalidInput(
            N_("The reply is too long: at most %(max)d characters."),
            code="text_too_long",
            max=MAX_REPLY_LENGTH,
        )
    reply = WallReply(wall_id=wall.id, author_id=author.id if author else None, text=cleaned)
    session.add(reply)
    session.commit()
    return reply


def hide_reply(session: Session, reply: WallReply) -> None:
    """Take a reply off the wall (kept for the audit trail)."""
    reply.is_hidden = True
    session.commit()
