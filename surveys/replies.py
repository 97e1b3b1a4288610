"""Staff replies to a wall: the dialogue back to citizens."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from sqlalchemy import Select, select
from sqlalchemy.orm import Session

from .errors import N_, InvalidInput
from .models import StaffUser, Wall, WallReply
from .text import normalise_answer
from .themes import shows_personal_data

MAX_REPLY_LENGTH = 2000


def visible_replies(wall_id: int) -> Select[tuple[WallReply]]:
    """Replies shown on a wall, newest first."""
    return (
        select(WallReply)
        .where(WallReply.wall_id == wall_id, WallReply.is_hidden.is_(False))
        .order_by(WallReply.created_at.desc(), WallReply.id.desc())
    )


def clean_reply_text(text: str | None, *, required: bool = True) -> str:
    """A reply's text, normalised; :class:`InvalidInput` when empty (if ``required``) or
    too long."""
    cleaned = normalise_answer(text or "")
    if not cleaned and required:
        raise InvalidInput(N_("Write the reply before publishing it."), code="empty_text")
    if len(cleaned) > MAX_REPLY_LENGTH:
        raise InvalidInput(
            N_("The reply is too long: at most %(max)d characters."),
            code="text_too_long",
            max=MAX_REPLY_LENGTH,
        )
    return cleaned


def clean_public_reply_text(text: str | None) -> str:
    """A reply's text as :func:`clean_reply_text` makes it, refused (:class:`InvalidInput`)
    when the personal-data guard finds a name, a number or an address in it: a reply is
    shown to everyone who opens the wall, children included."""
    cleaned = clean_reply_text(text)
    if shows_personal_data(cleaned):
        raise InvalidInput(
            N_(
                "The reply looks like it contains personal data (a name, a number or an "
                "address). Write it without."
            ),
            code="reply_personal_data",
        )
    return cleaned


def clean_reply_translations(
    translations: Mapping[str, str] | None, languages: Sequence[str], own: str
) -> dict[str, str]:
    """A reply's texts in the wall's other languages (empty ones left out)."""
    cleaned = {
        lang: clean_reply_text(text, required=False)
        for lang, text in (translations or {}).items()
        if lang in languages and lang != own
    }
    return {lang: text for lang, text in cleaned.items() if text}


def clean_public_reply(
    text: str | None, translations: Mapping[str, str] | None, wall: Wall
) -> tuple[str, dict[str, str]]:
    """A reply's text and its texts in the wall's other languages, each checked by
    :func:`clean_public_reply_text`."""
    cleaned = clean_public_reply_text(text)
    others = clean_reply_translations(translations, wall.languages, wall.language)
    for other in others.values():
        clean_public_reply_text(other)
    return cleaned, others


def post_reply(
    session: Session,
    wall: Wall,
    author: StaffUser | None,
    text: str,
    translations: Mapping[str, str] | None = None,
) -> WallReply:
    """Publish a staff reply on a wall (``translations``: in its other languages); flushed,
    the caller commits (:func:`surveys.campaigns.add_reply`, with its audit entry)."""
    cleaned, others = clean_public_reply(text, translations, wall)
    reply = WallReply(
        wall_id=wall.id, author_id=author.id if author else None, text=cleaned, translations=others
    )
    session.add(reply)
    session.flush()
    return reply


def hide_reply(reply: WallReply) -> None:
    """Take a reply off the wall (kept for the audit trail); the caller commits."""
    reply.is_hidden = True
