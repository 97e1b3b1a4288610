"""Moderation: the queue of answers per campaign, wall or prompt; approve, hide and redact.

Redaction policy: a redaction replaces the chosen spans in ``Answer.text`` itself with
``[fjernet]``. The original text is **not kept** anywhere - not in another column, not in
the audit log (which records only offsets, lengths and the kinds of personal data) - so
the public wall, the API, exports and the theme engine can never show the removed span,
and nothing is held that data minimisation says we should not hold. A redaction cannot be
undone.

Themes: when an answer is hidden, sent back to moderation or redacted, the themes shown
anywhere that took it in are named anew from the approved answers
(:func:`surveys.themes.relabel_after_moderation`), so its words leave their labels and terms.

A guard finding (``Answer.pii_findings``) keeps an answer out of automatic publication;
a moderator may still approve it one by one after looking (a false alarm), but bulk
approval skips flagged answers.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

from sqlalchemy import Select, Text, cast, func, or_, select
from sqlalchemy.orm import Session

from . import audit, search, themes
from .answers import findings_json
from .campaigns import get_owned
from .errors import N_, Conflict, InvalidInput, NotFound
from .models import Answer, AnswerStatus, Campaign, StaffUser, Wall, utcnow
from .privacy import Finding, detect_personal_data, merge_spans, redact

ACTIONS = {
    "approve": AnswerStatus.APPROVED,
    "hide": AnswerStatus.HIDDEN,
    "pending": AnswerStatus.PENDING,
}
_FLAGGED = func.coalesce(cast(Answer.pii_findings, Text), "[]") != "[]"
#: The "only flagged" filter: flagged now, or redacted (a redaction clears the findings, but the
#: answer must not drop out of the moderator's view before it is approved or hidden).
_FLAGGED_OR_REDACTED = or_(_FLAGGED, Answer.redacted_at.is_not(None))


def is_flagged(answer: Answer) -> bool:
    """Whether the guard found personal data in the answer's current text."""
    return bool(answer.pii_findings)


def text_fingerprint(text: str) -> str:
    """A short hash of an answer's text: redactions apply only to the text the moderator saw."""
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:16]


# -- queries ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class QueueFilter:
    """Which answers a moderator is looking at (all ids already checked for the org)."""

    campaign_id: int | None = None
    wall_id: int | None = None
    prompt_id: int | None = None
    status: AnswerStatus | None = AnswerStatus.PENDING
    flagged_only: bool = False
    #: Words every answer listed must hold (:mod:`surveys.search`); ``None``: no search.
    search: str | None = None


def _scoped(organisation_id: int, where: QueueFilter) -> Select[tuple[Answer]]:
    stmt = (
        select(Answer)
        .join(Wall, Answer.wall_id == Wall.id)
        .join(Campaign, Wall.campaign_id == Campaign.id)
        .where(Campaign.organisation_id == organisation_id)
        # a closed question's answer without text has nothing to read
        .where(Answer.status != AnswerStatus.COUNTED)
    )
    if where.campaign_id is not None:
        stmt = stmt.where(Wall.campaign_id == where.campaign_id)
    if where.wall_id is not None:
        stmt = stmt.where(Answer.wall_id == where.wall_id)
    if where.prompt_id is not None:
        stmt = stmt.where(Answer.prompt_id == where.prompt_id)
    if where.flagged_only:
        stmt = stmt.where(_FLAGGED_OR_REDACTED)
    if where.search:
        stmt = stmt.where(search.matches(Answer.text, where.search))
    return stmt


def queue(organisation_id: int, where: QueueFilter | None = None) -> Select[tuple[Answer]]:
    """The organisation's answers matching the filter: pending oldest first, others newest."""
    where = where or QueueFilter()
    stmt = _scoped(organisation_id, where)
    if where.status is not None:
        stmt = stmt.where(Answer.status == where.status)
    if where.status is AnswerStatus.PENDING:
        return stmt.order_by(Answer.created_at, Answer.id)
    return stmt.order_by(Answer.created_at.desc(), Answer.id.desc())


def queue_counts(session: Session, organisation_id: int, where: QueueFilter) -> dict[str, int]:
    """Number of answers per status (and ``"flagged"`` pending ones) under the filter and
    the search."""
    scope = _scoped(
        organisation_id,
        QueueFilter(where.campaign_id, where.wall_id, where.prompt_id, search=where.search),
    )
    counts = {s.value: 0 for s in AnswerStatus if s is not AnswerStatus.COUNTED}
    rows = session.execute(
        scope.with_only_columns(Answer.status, func.count()).group_by(Answer.status)
    )
    for status, number in rows:
        counts[AnswerStatus(status).value] = number
    counts["flagged"] = (
        session.scalar(
            scope.with_only_columns(func.count()).where(
                _FLAGGED_OR_REDACTED, Answer.status == AnswerStatus.PENDING
            )
        )
        or 0
    )
    return counts


def get_answer(session: Session, organisation_id: int, answer_id: int) -> Answer:
    """The organisation's answer, or :class:`NotFound` (also for another organisation's)."""
    missing = NotFound(N_("This answer does not exist."), code="answer_not_found")
    return get_owned(session, Answer, answer_id, organisation_id, missing)


def get_answers(session: Session, organisation_id: int, answer_ids: Iterable[int]) -> list[Answer]:
    """Several of the organisation's answers; :class:`NotFound` if any id is not one of them."""
    ids = sorted(set(answer_ids))
    if not ids:
        return []
    found = list(
        session.scalars(
            _scoped(organisation_id, QueueFilter(status=None)).where(Answer.id.in_(ids))
        )
    )
    if len(found) != len(ids):
        raise NotFound(N_("This answer does not exist."), code="answer_not_found")
    return found


# -- display --------------------------------------------------------------------------------------


def display_findings(answer: Answer) -> list[Finding]:
    """The personal data to highlight: the stored findings plus a fresh look at the text.

    Overlapping spans are merged (the first kind wins), so the result is sorted and
    non-overlapping and can be redacted as it is.
    """
    text = answer.text
    spans: list[tuple[int, int, str]] = []
    for item in answer.pii_findings or []:
        try:
            start, end, kind = int(item["start"]), int(item["end"]), str(item["kind"])
        except (KeyError, TypeError, ValueError):
            continue
        if 0 <= start < end <= len(text):
            spans.append((start, end, kind))
    spans.extend((f.start, f.end, f.kind) for f in detect_personal_data(text))
    merged: list[list] = []
    for start, end, kind in sorted(spans):
        if merged and start < merged[-1][1]:
            merged[-1][1] = max(merged[-1][1], end)
        else:
            merged.append([start, end, kind])
    return [Finding(kind, start, end, text[start:end]) for start, end, kind in merged]


@dataclass(frozen=True)
class Segment:
    """A piece of an answer's text, with the finding it belongs to (None: ordinary text)."""

    text: str
    finding: Finding | None = None


def segments(text: str, findings: Sequence[Finding]) -> list[Segment]:
    """Split the text at the findings, for highlighting (sorted, non-overlapping findings)."""
    pieces: list[Segment] = []
    cursor = 0
    for finding in findings:
        if finding.start > cursor:
            pieces.append(Segment(text[cursor : finding.start]))
        pieces.append(Segment(text[finding.start : finding.end], finding))
        cursor = finding.end
    if cursor < len(text):
        pieces.append(Segment(text[cursor:]))
    return pieces


# -- actions --------------------------------------------------------------------------------------


@dataclass
class ModerationResult:
    """What a (bulk) status change did."""

    changed: list[int] = field(default_factory=list)
    unchanged: list[int] = field(default_factory=list)
    skipped_flagged: list[int] = field(default_factory=list)


def set_status(
    session: Session,
    actor: StaffUser,
    answers: Sequence[Answer],
    status: AnswerStatus,
    *,
    approve_flagged: bool = True,
) -> ModerationResult:
    """Approve, hide or return answers to pending; every change goes to the audit log.

    With ``approve_flagged=False`` (bulk actions) answers the guard flagged are not approved.
    """
    now = utcnow()
    result = ModerationResult()
    removed: dict[int, str] = {}  # answers no longer shown: their texts leave the themes
    for answer in answers:
        organisation_id = answer.wall.campaign.organisation_id
        if organisation_id != actor.organisation_id:
            raise NotFound(N_("This answer does not exist."), code="answer_not_found")
        if answer.status is status:
            result.unchanged.append(answer.id)
            continue
        flagged = is_flagged(answer)
        if status is AnswerStatus.APPROVED and flagged and not approve_flagged:
            result.skipped_flagged.append(answer.id)
            continue
        before = {"status": answer.status.value}
        if status is not AnswerStatus.APPROVED:
            removed[answer.id] = answer.text
        answer.status = status
        answer.moderated_at = now
        answer.moderated_by_id = actor.id
        action = {v: k for k, v in ACTIONS.items()}[status]
        audit.record(
            session,
            organisation_id=organisation_id,
            actor=actor,
            action=f"answer.{action}",
            target_type="answer",
            target_id=answer.id,
            before=before,
            after={"status": status.value, "flagged": flagged},
        )
        result.changed.append(answer.id)
    session.commit()
    if removed:
        themes.relabel_after_moderation(session, removed)
    return result


def redact_answer(
    session: Session,
    actor: StaffUser,
    answer: Answer,
    spans: Sequence[tuple[int, int]],
    *,
    fingerprint: str | None = None,
) -> Answer:
    """Replace spans of the answer's text by ``[fjernet]``; the original is not kept.

    ``spans`` are code-point offsets into the current text; ``fingerprint`` (from
    :func:`text_fingerprint`) makes sure they refer to the text the moderator saw.
    Afterwards the guard looks at the new text again and its findings replace the old ones.
    """
    organisation_id = answer.wall.campaign.organisation_id
    if organisation_id != actor.organisation_id:
        raise NotFound(N_("This answer does not exist."), code="answer_not_found")
    text = answer.text
    if fingerprint is not None and fingerprint != text_fingerprint(text):
        raise Conflict(
            N_("The answer was changed meanwhile. Look at it again before removing text."),
            code="answer_changed",
        )
    wanted = [(int(s), int(e)) for s, e in spans]
    if not wanted or any(not 0 <= s < e <= len(text) for s, e in wanted):
        raise InvalidInput(N_("Choose the text to remove."), code="invalid_span")
    merged = merge_spans(wanted)
    kinds = sorted(
        {
            f.kind
            for f in display_findings(answer)
            if any(f.start < e and s < f.end for s, e in merged)
        }
    )
    new_text = redact(text, merged)
    findings = detect_personal_data(new_text)
    answer.text = new_text
    answer.pii_findings = findings_json(findings)
    now = utcnow()
    answer.redacted_at = now
    answer.moderated_at = now
    answer.moderated_by_id = actor.id
    audit.commit_change(
        session,
        organisation_id=organisation_id,
        actor=actor,
        action="answer.redact",
        target_type="answer",
        target_id=answer.id,
        before={"length": len(text)},
        after={
            "length": len(new_text),
            "spans": [[s, e] for s, e in merged],
            "kinds": kinds,
            "remaining_findings": len(findings),
        },
    )
    themes.relabel_after_moderation(session, {answer.id: " ".join(text[s:e] for s, e in merged)})
    return answer


def redact_all_findings(
    session: Session, actor: StaffUser, answer: Answer, *, fingerprint: str | None = None
) -> Answer:
    """Redact every span the guard highlights in the answer."""
    found = display_findings(answer)
    if not found:
        raise InvalidInput(N_("The guard found nothing to remove."), code="invalid_span")
    return redact_answer(
        session, actor, answer, [(f.start, f.end) for f in found], fingerprint=fingerprint
    )
