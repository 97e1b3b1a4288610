"""CSV and XLSX export of a campaign's answers with their themes, without personal data.

- Only approved answers (what the public already sees) and closed questions' choices without
  text ("counted"), unless other statuses are asked for.
- A closed question's choice is in ``choice``: a scale's number, or the chosen options'
  labels ("A; B" for a multiple choice); free-text answers leave it empty.
- The text passes the personal-data guard once more: every span it finds (and every stored
  finding) is replaced by ``[fjernet]``, even in answers a moderator approved as they were.
- Profile values (role, age group, area) are kept only for groups of at least
  ``MIN_GROUP_SIZE`` answers: a rarer combination loses its area, and if the role and age
  group together are still rare, all three are left empty (small-cell suppression).
- No ids that could link back to a device or a submission, no moderator, date without time:
  the day the answer was given (for a paper note the date written on it, else the day it
  arrived), so that an export imported as an earlier campaign exports the same again.
- Paper notes and event answers keep the place they were collected at.
- The themes column holds the labels of the answer's visible themes in the latest
  campaign-wide theme run ("A; B" for an answer in two themes).
- Every cell that a spreadsheet could read as a formula (``= + - @``, tab, carriage return,
  and their full-width forms) is prefixed with an apostrophe.
- CSV: UTF-8 with a byte-order mark and ``;`` as separator (what Danish Excel opens
  correctly). XLSX: every cell is written as text (never a formula), with a frozen header.
"""

from __future__ import annotations

import csv
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from datetime import date
from typing import BinaryIO, Literal, TextIO

from sqlalchemy import select
from sqlalchemy.orm import Session

from . import audit, queries
from .errors import N_, NotFound
from .filters import day_of
from .models import (
    Answer,
    AnswerStatus,
    Campaign,
    Prompt,
    PromptKind,
    StaffUser,
    Theme,
    ThemeAssignment,
    Wall,
)
from .moderation import display_findings
from .privacy import redact
from .themes import Scope, latest_run, public_label

MIN_GROUP_SIZE = 5
#: The statuses exported unless others are asked for.
EXPORTED = (AnswerStatus.APPROVED, AnswerStatus.COUNTED)
COLUMNS = (
    "answer",
    "wall",
    "question_number",
    "question",
    "choice",
    "text",
    "themes",
    "date",
    "place",
    "channel",
    "language",
    "role",
    "age_group",
    "area",
    "agree",
    "round",
)
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r", "\n", "＝", "＋", "－", "＠")
#: Separator between the labels of an answer's themes.
THEME_SEPARATOR = "; "
ExportFormat = Literal["csv", "xlsx"]
#: {column: {code: label}} for the coded columns (channel, language, role, age_group).
ValueLabels = Mapping[str, Mapping[str, str]]
#: Columns a workbook stores as numbers and as dates (a CSV has only text).
NUMBER_COLUMNS = ("answer", "question_number", "agree")
DATE_COLUMNS = ("date",)


def neutralise_cell(value: object) -> str:
    """A cell's text, prefixed with ``'`` when a spreadsheet would treat it as a formula."""
    text = "" if value is None else str(value)
    if text.startswith(_FORMULA_START):
        return "'" + text
    return text


def choice_text(prompt: Prompt, value: object) -> str:
    """A closed question's choice as exported: a scale's number, or the options' labels
    (an option since removed from the question: its id as sent)."""
    if value is None:
        return ""
    labels = {str(o["id"]): str(o.get("label", o["id"])) for o in prompt.options}
    if prompt.kind is PromptKind.SCALE:
        return str(value)
    chosen = value if isinstance(value, list) else [value]
    return THEME_SEPARATOR.join(labels.get(str(v), str(v)) for v in chosen)


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


def theme_labels(session: Session, campaign: Campaign) -> dict[int, list[str]]:
    """{answer id: labels of its visible themes} in the latest campaign-wide run."""
    run = latest_run(session, Scope(campaign.id).key)
    if run is None:
        return {}
    rows = session.execute(
        select(ThemeAssignment.answer_id, Theme.label)
        .join(Theme, Theme.id == ThemeAssignment.theme_id)
        .where(ThemeAssignment.run_id == run.id, Theme.hidden.is_(False))
        .order_by(ThemeAssignment.answer_id, Theme.position, Theme.id)
    ).all()
    labels: dict[int, list[str]] = {}
    for answer_id, label in rows:
        labels.setdefault(answer_id, []).append(public_label(label))
    return labels


def export_rows(
    session: Session,
    campaign: Campaign,
    *,
    statuses: Iterable[AnswerStatus] = EXPORTED,
    min_group_size: int = MIN_GROUP_SIZE,
    value_labels: ValueLabels | None = None,
) -> list[dict[str, str]]:
    """The campaign's answers as rows keyed by ``COLUMNS`` (already safe to write).

    ``value_labels`` ({column: {code: label}}, from the web layer) puts words for codes such
    as a channel ``web`` or a role ``young``; without it the codes are written.
    """
    labels = value_labels or {}
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
    themes = theme_labels(session, campaign)
    out: list[dict[str, str]] = []
    for (answer, wall, prompt), (role, age, area) in zip(rows, profiles, strict=True):
        values: dict[str, object] = {
            "answer": answer.id,
            "wall": wall.title,
            "question_number": prompt.position + 1,
            "question": prompt.text,
            "choice": choice_text(prompt, answer.value),
            "text": safe_text(answer),
            "themes": THEME_SEPARATOR.join(themes.get(answer.id, [])),
            "date": day_of(answer.created_at, answer.written_on).isoformat(),
            "place": answer.place or "",
            "channel": answer.channel.value,
            "language": answer.language or "",
            "role": role or "",
            "age_group": age or "",
            "area": area or "",
            "agree": agree.get(answer.id, 0),
            "round": campaign.round_label,
        }
        for column, words in labels.items():
            values[column] = words.get(str(values[column]), values[column])
        out.append({k: neutralise_cell(v) for k, v in values.items()})
    return out


def write_csv(
    session: Session,
    campaign: Campaign,
    stream: TextIO,
    *,
    headers: Mapping[str, str] | None = None,
    statuses: Iterable[AnswerStatus] = EXPORTED,
    value_labels: ValueLabels | None = None,
) -> int:
    """Write the export to ``stream`` (BOM, ``;``-separated); returns the number of answers."""
    rows = export_rows(session, campaign, statuses=statuses, value_labels=value_labels)
    stream.write("\ufeff")
    writer = csv.writer(stream, delimiter=";", quoting=csv.QUOTE_MINIMAL, lineterminator="\r\n")
    names = headers or {}
    writer.writerow([neutralise_cell(names.get(c, c)) for c in COLUMNS])
    for row in rows:
        writer.writerow([row[c] for c in COLUMNS])
    return len(rows)


def _xlsx_text(value: str) -> str:
    from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE

    return ILLEGAL_CHARACTERS_RE.sub("", value)


def write_xlsx(
    session: Session,
    campaign: Campaign,
    stream: BinaryIO,
    *,
    headers: Mapping[str, str] | None = None,
    sheet_title: str = "Svar",
    statuses: Iterable[AnswerStatus] = EXPORTED,
    value_labels: ValueLabels | None = None,
) -> int:
    """Write the export as an XLSX workbook to ``stream``; returns the number of answers.

    Every text cell is neutralised *and* stored as text: openpyxl would otherwise store a
    value beginning with ``=`` as a formula. Numbers (answer and question no., agree) and the
    date are stored as numbers and dates, which a spreadsheet can sort and count.
    """
    from openpyxl import Workbook
    from openpyxl.styles import Alignment, Font
    from openpyxl.utils import get_column_letter

    rows = export_rows(session, campaign, statuses=statuses, value_labels=value_labels)
    names = headers or {}
    table = [[neutralise_cell(names.get(c, c)) for c in COLUMNS]]
    table.extend([row[c] for c in COLUMNS] for row in rows)
    workbook = Workbook()
    sheet = workbook.active
    sheet.title = _xlsx_text(sheet_title)[:31] or "Svar"
    for r, values in enumerate(table, start=1):
        for c, value in enumerate(values, start=1):
            cell = sheet.cell(row=r, column=c)
            column = COLUMNS[c - 1]
            if r > 1 and column in NUMBER_COLUMNS:
                cell.value = int(value)  # written by export_rows: digits only
            elif r > 1 and column in DATE_COLUMNS:
                cell.value = date.fromisoformat(value)
                cell.number_format = "yyyy-mm-dd"
            else:
                cell.value = _xlsx_text(value)
                cell.data_type = "s"  # text, never a formula
            if r == 1:
                cell.font = Font(bold=True)
            elif COLUMNS[c - 1] in ("text", "question", "themes"):
                cell.alignment = Alignment(wrap_text=True, vertical="top")
            else:
                cell.alignment = Alignment(vertical="top")
    for c, name in enumerate(COLUMNS, start=1):
        longest = max((len(values[c - 1]) for values in table[:500]), default=8)
        limit = 70 if name in ("text", "question", "themes") else 30
        sheet.column_dimensions[get_column_letter(c)].width = max(8, min(limit, longest + 2))
    sheet.freeze_panes = "A2"
    sheet.auto_filter.ref = sheet.dimensions
    workbook.save(stream)
    return len(rows)


def export_answers(
    session: Session,
    campaign: Campaign,
    stream: TextIO | BinaryIO,
    *,
    fmt: ExportFormat = "csv",
    actor: StaffUser | None = None,
    actor_email: str | None = None,
    headers: Mapping[str, str] | None = None,
    sheet_title: str = "Svar",
    value_labels: ValueLabels | None = None,
) -> int:
    """Write the export in ``fmt`` and record it in the audit log (committed).

    ``actor`` is the staff member (who must belong to the campaign's organisation);
    exports from the command line pass ``actor_email`` instead.
    """
    if actor is not None and actor.organisation_id != campaign.organisation_id:
        raise NotFound(N_("This campaign does not exist."), code="campaign_not_found")
    if fmt == "xlsx":
        count = write_xlsx(
            session,
            campaign,
            stream,  # type: ignore[arg-type]
            headers=headers,
            sheet_title=sheet_title,
            value_labels=value_labels,
        )
    elif fmt == "csv":
        count = write_csv(
            session,
            campaign,
            stream,  # type: ignore[arg-type]
            headers=headers,
            value_labels=value_labels,
        )
    else:
        raise ValueError(f"unknown export format {fmt!r}")
    record_export(session, campaign, fmt, count, actor=actor, actor_email=actor_email)
    session.commit()
    return count


def record_export(
    session: Session,
    campaign: Campaign,
    fmt: ExportFormat,
    answers: int,
    *,
    actor: StaffUser | None = None,
    actor_email: str | None = None,
) -> None:
    """Record an export of ``answers`` answers in the audit log (flushed; the caller commits).

    An export made in the background records it with the file it made, in one transaction,
    so that a job run again after its worker died records it once.
    """
    if actor is not None and actor.organisation_id != campaign.organisation_id:
        raise NotFound(N_("This campaign does not exist."), code="campaign_not_found")
    audit.record(
        session,
        organisation_id=campaign.organisation_id,
        actor=actor,
        actor_email=actor_email,
        action="campaign.export",
        target_type="campaign",
        target_id=campaign.id,
        after={"answers": answers, "format": fmt},
    )
