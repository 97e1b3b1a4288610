"""CSV export of a campaign's answers, without personal data.

- Only approved answers (what the public already sees), unless other statuses are asked for.
- The text passes the personal-data guard once more: every span it finds (and every stored
  finding) is replaced by ``[fjernet]``, even in answers a moderator approved as they were.
- Profile values (role, age group, area) are kept only for groups of at least
  ``MIN_GROUP_SIZE`` answers: a rarer combination loses its area, and if the role and age
  group together are still rare, all three are left empty (small-cell suppression).
- No ids that could link back to a device or a submission, no moderator, date without time.
- Every cell that a spreadsheet could read as a formula (``= + - @``, tab, carriage return)
  is prefixed with an apostrophe.
- UTF-8 with a byte-order mark and ``;`` as separator: what Danish Excel opens correctly.
"""

from __future__ import annotations

import csv
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from typing import TextIO

from sqlalchemy import select
from sqlalchemy.orm import Session

from . import audit, queries
from .errors import N_, NotFound
from .models import Answer, AnswerStatus, Campaign, Prompt, StaffUser, Wall
from .moderation import display_findings
from .privacy import redact

MIN_GROUP_SIZE = 5
COLUMNS = (
    "answer",
    "wall",
    "question_number",
    "question",
    "text",
    "date",
    "channel",
    "language",
    "role",
    "age_group",
    "area",
    "agree",
)
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r", "\n", "＝", "＋", "－", "＠")


def neutralise_cell(value: object) -> str:
    """A cell's text, prefixed with ``'`` when a spreadsheet would treat it as a formula."""
    text = "" if value is None else str(value)
    if text.startswith(_FORMULA_START):
        return "'" + text
    return text


def safe_text(answer: Answer) -> str:
    """The answer's text with everything the guard highlights replaced by ``[fjernet]``."""
    spans = [(f.start, f.end) for f in display_findings(answer)]
    return redact(answer.text, spans) if spans else answer.text


def _suppress_small_groups(
    profiles: Sequence[tuple[str | None, str | None, str | None]], minimum: int
) -> list[tuple[str | None, str | None, str | None]]:
    full = Counter(profiles)
    partial = Counter((role, age) for role, age, _area in profiles)
    kept: list[tuple[str | None, str | None, str | None]] = []
    for role, age, area in profiles:
        if full[(role, age, area)] >= minimum:
            kept.append((role, age, area))
        elif partial[(role, age)] >= minimum:
            kept.append((role, age, None))
        else:
            kept.append((None, None, None))
    return kept


def export_rows(
    session: Session,
    campaign: Campaign,
    *,
    statuses: Iterable[AnswerStatus] = (AnswerStatus.APPROVED,),
    min_group_size: int = MIN_GROUP_SIZE,
) -> list[dict[str, str]]:
    """The campaign's answers as rows keyed by ``COLUMNS`` (already safe to write)."""
    stmt = (
        select(Answer, Wall, Prompt)
        .join(Wall, Answer.wall_id == Wall.id)
        .join(Prompt, Answer.prompt_id == Prompt.id)
        .where(Wall.campaign_id == campaign.id, Answer.status.in_(list(statuses)))
        .order_by(Wall.id, Prompt.position, Answer.created_at, Answer.id)
    )
    rows = session.execute(stmt).tuples().all()
    agree = dict(
        session.execute(queries.reaction_counts([a.id for a, _w, _p in rows])).tuples().all()
    )
    profiles = _suppress_small_groups(
        [(a.role, a.age_group, a.area) for a, _w, _p in rows], min_group_size
    )
    out: list[dict[str, str]] = []
    for (answer, wall, prompt), (role, age, area) in zip(rows, profiles, strict=True):
        values: dict[str, object] = {
            "answer": answer.id,
            "wall": wall.title,
            "question_number": prompt.position + 1,
            "question": prompt.text,
            "text": safe_text(answer),
            "date": answer.created_at.date().isoformat(),
            "channel": answer.channel.value,
            "language": answer.language or "",
            "role": role or "",
            "age_group": age or "",
            "area": area or "",
            "agree": agree.get(answer.id, 0),
        }
        out.append({k: neutralise_cell(v) for k, v in values.items()})
    return out


def write_csv(
    session: Session,
    campaign: Campaign,
    stream: TextIO,
    *,
    headers: Mapping[str, str] | None = None,
    statuses: Iterable[AnswerStatus] = (AnswerStatus.APPROVED,),
) -> int:
    """Write the export to ``stream`` (BOM, ``;``-separated); returns the number of answers."""
    rows = export_rows(session, campaign, statuses=statuses)
    stream.write("\ufeff")
    writer = csv.writer(stream, delimiter=";", quoting=csv.QUOTE_MINIMAL, lineterminator="\r\n")
    names = headers or {}
    writer.writerow([neutralise_cell(names.get(c, c)) for c in COLUMNS])
    for row in rows:
        writer.writerow([row[c] for c in COLUMNS])
    return len(rows)


def export_campaign(
    session: Session,
    actor: StaffUser,
    campaign: Campaign,
    stream: TextIO,
    *,
    headers: Mapping[str, str] | None = None,
) -> int:
    """Write a staff member's export of their campaign and record it in the audit log."""
    if actor.organisation_id != campaign.organisation_id:
        raise NotFound(N_("This campaign does not exist."), code="campaign_not_found")
    count = write_csv(session, campaign, stream, headers=headers)
    audit.record(
        session,
        organisation_id=campaign.organisation_id,
        actor=actor,
        action="campaign.export",
        target_type="campaign",
        target_id=campaign.id,
        after={"answers": count, "format": "csv"},
    )
    session.commit()
    return count
