"""Read services for the live wall on a projector: the latest notes and what changed since.

Only approved answers are ever returned with their text. An answer counts as changed when it
was created, moderated or redacted at or after a moment; approval by a moderator therefore
shows an older answer as new, and hiding one tells the projector to take it down (by id).

Once themes exist for the wall's campaign, :func:`theme_cloud` gives the projector a cloud of
the visible themes sized by their approved answers on the wall; only themes with at least
``MIN_GROUP_SIZE`` (5) such answers are shown (anonymity), at most :data:`CLOUD_MAX_THEMES`,
and only themes staff gave a name (the engine's own labels, "mad · sove · kantine", are never
shown to the room); the names pass the personal-data guard in any case
(:func:`surveys.themes.public_label`).

A presenter can put one approved note of the wall in the spotlight (:func:`set_spotlight`,
audited); the projector then shows it large in place of the notes. To take a note off the
projector, staff hide the answer (moderation): it then leaves the wall and every public page
too, which is what a note unfit for the room needs.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sqlalchemy import Select, func, or_, select
from sqlalchemy.orm import Session

from . import audit
from .errors import N_, InvalidInput, NotFound
from .insights import MIN_GROUP_SIZE
from .models import (
    Answer,
    AnswerStatus,
    StaffUser,
    Theme,
    ThemeAssignment,
    ThemeRun,
    Wall,
    theme_scope_key,
    utcnow,
)
from .report import staff_named
from .themes import latest_run, public_label

#: How far back each look for changes reaches beyond the cursor, so that a change committed
#: a moment after it was timestamped (a slow transaction) is not missed.
OVERLAP = timedelta(seconds=10)
#: The oldest cursor accepted; older ones start from this far back.
MAX_LOOKBACK = timedelta(hours=1)
MAX_CHANGES = 200
#: The most themes the projector's cloud shows, and the number of size steps (1 … 6).
CLOUD_MAX_THEMES = 12
CLOUD_SIZES = 6


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


@dataclass(frozen=True)
class CloudTheme:
    """A theme in the projector's cloud: ``size`` 1 (smallest) … :data:`CLOUD_SIZES`."""

    id: int
    label: str
    count: int
    size: int


def live_run(session: Session, campaign_id: int, wall_id: int) -> ThemeRun | None:
    """The themes a wall's projector shows: the wall's latest run, else the campaign's."""
    return latest_run(session, theme_scope_key(campaign_id, wall_id, None)) or latest_run(
        session, theme_scope_key(campaign_id, None, None)
    )


def cloud_size(count: int, largest: int) -> int:
    """The size step of a theme with ``count`` answers when the largest has ``largest``."""
    if largest <= 0:
        return 1
    return max(1, min(CLOUD_SIZES, math.ceil(CLOUD_SIZES * count / largest)))


def theme_cloud(
    session: Session,
    campaign_id: int,
    wall_id: int,
    *,
    prompt_id: int | None = None,
    min_count: int = MIN_GROUP_SIZE,
    limit: int = CLOUD_MAX_THEMES,
) -> list[CloudTheme]:
    """The visible, staff-named themes of :func:`live_run` with at least ``min_count``
    approved answers on the wall (of the prompt, when given), largest first; empty when there
    is no run or no theme has a name yet."""
    run = live_run(session, campaign_id, wall_id)
    if run is None:
        return []
    named = staff_named(session, run)
    if not named:
        return []
    answers = func.count(func.distinct(ThemeAssignment.answer_id))
    conditions = [
        Theme.run_id == run.id,
        Theme.hidden.is_(False),
        Theme.key.in_(sorted(named)),
        Answer.wall_id == wall_id,
        Answer.status == AnswerStatus.APPROVED,
    ]
    if prompt_id is not None:
        conditions.append(Answer.prompt_id == prompt_id)
    stmt = (
        select(Theme.id, Theme.label, answers)
        .join(ThemeAssignment, ThemeAssignment.theme_id == Theme.id)
        .join(Answer, Answer.id == ThemeAssignment.answer_id)
        .where(*conditions)
        .group_by(Theme.id, Theme.label, Theme.position)
        .having(answers >= min_count)
        .order_by(answers.desc(), Theme.position)
        .limit(limit)
    )
    rows = session.execute(stmt).tuples().all()
    largest = max((count for _id, _label, count in rows), default=0)
    return [
        CloudTheme(
            id=theme_id, label=public_label(label), count=count, size=cloud_size(count, largest)
        )
        for theme_id, label, count in rows
    ]


# -- the presenter's spotlight ------------------------------------------------------------------


def spotlight_note(session: Session, wall: Wall) -> LiveNote | None:
    """The note in the spotlight of the wall's projector: None when there is none, or when the
    answer is gone, no longer approved or of another wall."""
    if wall.live_spotlight_id is None:
        return None
    answer = session.get(Answer, wall.live_spotlight_id)
    if answer is None or answer.wall_id != wall.id or answer.status is not AnswerStatus.APPROVED:
        return None
    return _note(answer)


def set_spotlight(
    session: Session, actor: StaffUser, wall: Wall, answer_id: int | None
) -> LiveNote | None:
    """Put an approved answer of the wall in the projector's spotlight (None: end it); audited."""
    if wall.campaign.organisation_id != actor.organisation_id:
        raise NotFound(N_("This wall does not exist."), code="wall_not_found")
    note = None
    if answer_id is not None:
        answer = session.get(Answer, answer_id)
        if answer is None or answer.wall_id != wall.id:
            raise NotFound(N_("This answer does not exist."), code="answer_not_found")
        if answer.status is not AnswerStatus.APPROVED:
            raise InvalidInput(
                N_("Only an approved answer can be shown in the spotlight."),
                code="not_approved",
            )
        note = _note(answer)
    before = wall.live_spotlight_id
    if before == answer_id:
        return note
    wall.live_spotlight_id = answer_id
    audit.commit_change(
        session,
        organisation_id=actor.organisation_id,
        actor=actor,
        action="wall.spotlight",
        target_type="wall",
        target_id=wall.id,
        before={"answer": before},
        after={"answer": answer_id},
    )
    return note
