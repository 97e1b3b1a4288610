"""Planning an import (the preview): every row checked against the target wall(s), giving
what will be created and which rows are refused and why. Writes nothing."""

from __future__ import annotations

import re
import uuid
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from ..answers import (
    SUBMISSION_ID_PATTERN,
    clean_answer_text,
    clean_profile,
)
from ..errors import N_, DomainError, InvalidInput
from ..models import (
    PROFILE_FIELDS,
    AnswerStatus,
    Campaign,
    Channel,
    Prompt,
    Wall,
    utcnow,
)
from ..text import normalise_answer
from .mapping import ColumnMapping, check_mapping
from .messages import Issue, invalid, quote
from .reading import Row, Table
from .values import (
    ImportOptions,
    RowError,
    answer_values,
    clean_place,
    duplicate_key,
    parse_channel,
    parse_choice,
    parse_date,
    profile_code,
    stored_keys,
    today_local,
)

#: Rows of the preview table shown before importing.
SAMPLE_SIZE = 10
#: How often (in rows) planning tells its progress.
PROGRESS_EVERY = 250
_LANGUAGE = re.compile(r"^[a-z]{2}$")


class ImportRefused(InvalidInput):
    """The file has rows with errors and skipping them was not asked for: nothing imported."""

    code = "import_has_errors"

    def __init__(self, plan: ImportPlan) -> None:
        super().__init__(
            N_(
                "%(count)d rows have errors, so nothing was imported. Correct the rows, or "
                "choose to import the other rows and skip those."
            ),
            count=len(plan.errors),
        )
        self.plan = plan


@dataclass(frozen=True)
class PlannedAnswer:
    """A row that will be imported: its row number and the answer's column values."""

    row: int
    values: dict[str, Any]
    wall_title: str
    prompt_text: str


@dataclass
class ImportPlan:
    """The preview: what an import of the file would do."""

    table: Table
    mapping: ColumnMapping
    rows: int = 0
    empty: int = 0
    duplicates: int = 0
    answers: list[PlannedAnswer] = field(default_factory=list)
    errors: list[Issue] = field(default_factory=list)
    notices: list[Issue] = field(default_factory=list)

    @property
    def to_import(self) -> int:
        """How many answers the import stores."""
        return len(self.answers)

    @property
    def held(self) -> int:
        """How many of them wait for moderation (pre-moderated wall or personal data found)."""
        return sum(a.values["status"] is AnswerStatus.PENDING for a in self.answers)

    @property
    def flagged(self) -> int:
        """How many of them the personal-data guard flagged."""
        return sum(bool(a.values["pii_findings"]) for a in self.answers)

    @property
    def sample(self) -> list[PlannedAnswer]:
        """The first answers, for the preview table."""
        return self.answers[:SAMPLE_SIZE]

    def counts(self) -> dict[str, int]:
        """The counts as a dict (for audit entries and JSON)."""
        return {
            "rows": self.rows,
            "imported": self.to_import,
            "empty": self.empty,
            "duplicates": self.duplicates,
            "errors": len(self.errors),
            "held": self.held,
        }


class _Context:
    """Per-plan lookups: walls, prompts, stored keys."""

    def __init__(
        self, session: Session, walls: Sequence[Wall], options: ImportOptions, table: Table
    ) -> None:
        self.walls = list(walls)
        self.options = options
        self.table = table
        self.today = options.today or today_local()
        self.now = utcnow()
        self.by_name: dict[str, Wall] = {}
        for wall in self.walls:
            self.by_name.setdefault(wall.title.casefold().strip(), wall)
            self.by_name.setdefault(wall.slug.casefold(), wall)
        self.prompts: dict[int, list[Prompt]] = {
            w.id: sorted(w.prompts, key=lambda p: p.position) for w in self.walls
        }
        self.prompt_texts = {
            w.id: {duplicate_key(normalise_answer(p.text)): p for p in self.prompts[w.id]}
            for w in self.walls
        }
        self.texts, self.submissions = stored_keys(session, [w.id for w in self.walls])
        self.default_channel = options.channel or (
            Channel.API if table.format == "jsonl" else Channel.PAPER
        )
        self.default_place = clean_place(options.place) if options.place else None
        self._batch_profiles: dict[int, dict[str, str]] = {}

    def batch_profile(self, wall: Wall) -> dict[str, str]:
        """The batch's profile values as the wall's codes (RowError when the wall has none)."""
        if wall.id not in self._batch_profiles:
            self._batch_profiles[wall.id] = {
                k: profile_code(wall, k, v) for k, v in self.options.profile.items() if v
            }
        return self._batch_profiles[wall.id]


def _target_walls(session: Session, target: Wall | Campaign) -> list[Wall]:
    if isinstance(target, Wall):
        return [target]
    return list(
        session.scalars(select(Wall).where(Wall.campaign_id == target.id).order_by(Wall.id))
    )


def plan_import(
    session: Session,
    target: Wall | Campaign,
    table: Table,
    mapping: ColumnMapping,
    options: ImportOptions | None = None,
    *,
    progress: Callable[[int, int], object] | None = None,
) -> ImportPlan:
    """Check every row against the target (a wall, or a campaign whose walls the mapped
    "wall" column names) and return the preview; writes nothing. ``progress(done, total)``
    is told every ``PROGRESS_EVERY`` rows."""
    options = options or ImportOptions()
    check_mapping(table, mapping, needs_wall=isinstance(target, Campaign))
    walls = _target_walls(session, target)
    if not walls:
        raise invalid(N_("The campaign has no walls to import into."), "no_walls")
    if options.prompt_id is not None and not any(
        p.id == options.prompt_id for w in walls for p in w.prompts
    ):
        raise invalid(N_("Choose one of the wall's questions."), "invalid_prompt")
    try:
        context = _Context(session, walls, options, table)
        if len(walls) == 1:
            context.batch_profile(walls[0])  # a bad batch value is the whole file's problem
    except RowError as error:
        raise invalid(error.message, "invalid_batch", **error.params) from error
    plan = ImportPlan(table, mapping, notices=list(table.notices))
    index = {name: i for i, name in enumerate(table.columns)}
    positions = {k: index[v] for k, v in mapping.as_dict().items() if v is not None}
    seen_texts: set[tuple[int, str, date]] = set()
    seen_ids: set[tuple[int, str]] = set()
    for row in table.rows:
        if progress is not None and plan.rows % PROGRESS_EVERY == 0:
            progress(plan.rows, len(table.rows))
        plan.rows += 1
        if row.problem is not None:
            plan.errors.append(row.problem)
            continue
        cells = {k: row.cells[i].strip() for k, i in positions.items()}
        try:
            # a closed question's choice may stand without text (issue 26)
            chosen_only = bool(cells.get("choice")) and not normalise_answer(cells["text"])
            text = "" if chosen_only else clean_answer_text(cells["text"])
        except DomainError as error:
            if error.code == "empty_text":
                plan.empty += 1
            else:
                plan.errors.append(Issue(error.message, error.params, row.number))
            continue
        try:
            if positions["text"] in row.formulas:
                raise RowError(
                    N_(
                        "The text is a spreadsheet formula (%(value)s), not an answer. Save "
                        "the file with values instead of formulas."
                    ),
                    value=quote(cells["text"]),
                )
            planned = _plan_row(context, row, cells, text)
        except RowError as error:
            plan.errors.append(Issue(error.message, error.params, row.number))
            continue
        values = planned.values
        wall_id = values["wall_id"]
        said = (
            values["text"] if values["value"] is None else f"{values['text']}\x00{values['value']}"
        )
        text_key = (wall_id, duplicate_key(said), values["written_on"] or context.today)
        id_key = (wall_id, values["client_submission_id"])
        if id_key in context.submissions or id_key in seen_ids:
            plan.duplicates += 1  # the same row imported before: never twice
            continue
        if not options.keep_duplicates and (text_key in context.texts or text_key in seen_texts):
            plan.duplicates += 1
            continue
        seen_texts.add(text_key)
        seen_ids.add(id_key)
        plan.answers.append(planned)
    return plan


def _plan_row(context: _Context, row: Row, cells: Mapping[str, str], text: str) -> PlannedAnswer:
    wall = _row_wall(context, cells)
    prompt = _row_prompt(context, wall, cells)
    written_on = (
        parse_date(cells["date"], context.today)
        if cells.get("date")
        else context.options.written_on
    )
    channel = parse_channel(cells["channel"]) if cells.get("channel") else context.default_channel
    place = clean_place(cells["place"]) if cells.get("place") else context.default_place
    profile = dict(context.batch_profile(wall))
    for name in PROFILE_FIELDS:
        if cells.get(name):
            profile[name] = profile_code(wall, name, cells[name])
    try:
        profile = clean_profile(wall, profile)
    except DomainError as error:
        raise RowError(error.message, **error.params) from error
    # A file's own language column decides (empty: unknown); otherwise the wall's language.
    language = cells["language"].casefold() or None if "language" in cells else wall.language
    if language is not None and not _LANGUAGE.match(language):
        raise RowError(
            N_("%(value)s is not a language code (such as da or en)."), value=quote(language)
        )
    submission = cells.get("submission_id") or (
        f"imp-{context.table.digest}-{row.number}"
        if context.table.digest
        else f"imp-{uuid.uuid4().hex}"
    )
    if not SUBMISSION_ID_PATTERN.match(submission):
        raise RowError(N_("client_submission_id must be 8-64 letters, digits or -_.:"))
    values = answer_values(
        wall,
        prompt,
        text,
        channel=channel,
        client_submission_id=submission,
        now=context.now,
        written_on=written_on,
        place=place,
        profile=profile,
        language=language,
        value=parse_choice(prompt, cells.get("choice", "")),
    )
    return PlannedAnswer(row.number, values, wall.title, prompt.text)


def _row_wall(context: _Context, cells: Mapping[str, str]) -> Wall:
    if len(context.walls) == 1 and not cells.get("wall"):
        return context.walls[0]
    name = cells.get("wall", "")
    wall = context.by_name.get(name.casefold().strip())
    if wall is None:
        if len(context.walls) == 1:
            return context.walls[0]  # a wall column is only used to route campaign imports
        raise RowError(N_("The wall %(value)s is not in this campaign."), value=quote(name))
    return wall


def _row_prompt(context: _Context, wall: Wall, cells: Mapping[str, str]) -> Prompt:
    prompts = context.prompts[wall.id]
    value = cells.get("prompt", "")
    if value:
        prompt = context.prompt_texts[wall.id].get(duplicate_key(normalise_answer(value)))
        if prompt is None and value.isdecimal():
            prompt = next((p for p in prompts if p.id == int(value)), None)
        if prompt is not None:
            return prompt
        if not cells.get("prompt_number"):
            raise RowError(N_("The question %(value)s is not on this wall."), value=quote(value))
    number = cells.get("prompt_number", "")
    if number:
        if number.isdecimal() and 1 <= int(number) <= len(prompts):
            return prompts[int(number) - 1]
        raise RowError(
            N_("There is no question number %(value)s on this wall (it has %(count)d)."),
            value=quote(number),
            count=len(prompts),
        )
    if context.options.prompt_id is not None:
        prompt = next((p for p in prompts if p.id == context.options.prompt_id), None)
        if prompt is not None:
            return prompt
    if len(prompts) == 1:
        return prompts[0]
    raise RowError(
        N_("The row does not say which question it answers. Choose a question for the file.")
    )
