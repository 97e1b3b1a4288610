"""A whole earlier campaign from its export: its walls and questions are created, then its
answers are imported, all in one transaction."""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable
from dataclasses import replace
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from ..campaigns import free_slug
from ..closed import MAX_OPTION_LENGTH, SCALE_VALUES, scale_options
from ..errors import N_, Conflict
from ..models import (
    PROFILE_FIELDS,
    Audience,
    Campaign,
    Moderation,
    Organisation,
    Prompt,
    PromptKind,
    StaffUser,
    Wall,
    utcnow,
)
from ..text import normalise_answer
from .mapping import ColumnMapping, check_mapping
from .messages import invalid
from .planning import ImportPlan, ImportRefused, plan_import
from .reading import Row, Table
from .values import ImportOptions
from .writing import write_and_commit

_SLUG_CHARS = re.compile(r"[^a-z0-9]+")


def slugify(title: str) -> str:
    """A URL slug from a Danish title ("Unge stemmer 2025" -> "unge-stemmer-2025")."""
    text = title.casefold().replace("æ", "ae").replace("ø", "oe").replace("å", "aa")
    text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    return _SLUG_CHARS.sub("-", text).strip("-")[:50] or "vaeg"


def _structure(table: Table, mapping: ColumnMapping) -> dict[str, dict[str, Any]]:
    """Walls (by title) with their questions, profile fields and areas as the file has them."""
    index = {name: i for i, name in enumerate(table.columns)}

    def cell(row: Row, name: str) -> str:
        column = getattr(mapping, name)
        return row.cells[index[column]].strip() if column is not None else ""

    walls: dict[str, dict[str, Any]] = {}
    for row in table.rows:
        if row.problem is not None or not (cell(row, "text") or cell(row, "choice")):
            continue
        title = " ".join(cell(row, "wall").split())[:200]
        question = normalise_answer(cell(row, "prompt"))
        if not title or not question:
            continue
        wall = walls.setdefault(
            title, {"prompts": {}, "profile": set(), "areas": [], "choices": {}}
        )
        number = cell(row, "prompt_number")
        position = int(number) if number.isdecimal() else 10_000 + len(wall["prompts"])
        wall["prompts"].setdefault(question, position)
        if cell(row, "choice"):
            wall["choices"].setdefault(question, []).append(cell(row, "choice"))
        for name in PROFILE_FIELDS:
            if cell(row, name):
                wall["profile"].add(name)
        area = cell(row, "area")
        if area and area not in wall["areas"]:
            wall["areas"].append(area)
    return walls


def _round_label(table: Table, mapping: ColumnMapping) -> str:
    """The round named in the file's round column (its first value), else ""."""
    if mapping.round is None or mapping.round not in table.columns:
        return ""
    index = table.columns.index(mapping.round)
    for row in table.rows:
        if row.problem is None and row.cells[index].strip():
            return " ".join(row.cells[index].split())[:100]
    return ""


def closed_question(choices: list[str]) -> dict[str, Any]:
    """A question's kind and options as its choices in an export show them: numbers from 1
    to 5 are a scale, labels joined by "; " a multiple choice, other labels a single choice
    (its options in the order they first occur)."""
    if all(c.isdecimal() and int(c) in SCALE_VALUES for c in choices):
        return {"kind": PromptKind.SCALE, "options": scale_options()}
    multiple = any(";" in c for c in choices)
    labels: list[str] = []
    for choice in choices:
        for label in (part.strip() for part in choice.split(";")):
            if label and label.casefold() not in {seen.casefold() for seen in labels}:
                labels.append(label[:MAX_OPTION_LENGTH])
    options = [{"id": f"o{n}", "label": label} for n, label in enumerate(labels, start=1)]
    return {"kind": PromptKind.MULTIPLE if multiple else PromptKind.SINGLE, "options": options}


def import_campaign(
    session: Session,
    organisation: Organisation,
    table: Table,
    mapping: ColumnMapping,
    *,
    slug: str,
    title: str,
    actor: StaffUser | None = None,
    dry_run: bool = False,
    options: ImportOptions | None = None,
    progress: Callable[[int, int], object] | None = None,
    next_round: Campaign | None = None,
) -> tuple[Campaign, ImportPlan]:
    """Create a campaign from an earlier campaign's export (Stemmer's CSV: one wall per
    "Væg", the questions in "Spørgsmål nr." order) and import its answers, all in one
    transaction, so that two years can be compared.

    The new walls are closed archives for everyone, post-moderated (answers the guard does
    not flag are published, as they were in the export), with the profile questions and
    areas that occur in the file. A question with choices in the file's "Valg" column is a
    closed question again (:func:`closed_question`); the "Runde" column names the round. With
    ``next_round`` the imported campaign becomes that campaign's earlier round, so that the
    two are compared (:mod:`surveys.rounds`).
    """
    # Identical answers on the same day are separate answers in an export: all are kept.
    options = options or ImportOptions(keep_duplicates=True)
    if mapping.wall is None or mapping.prompt is None:
        raise invalid(
            N_("An export of a whole campaign needs the columns Wall and Question."),
            "campaign_columns_missing",
        )
    check_mapping(table, mapping, needs_wall=True)
    slug = slugify(slug)
    if session.scalars(select(Campaign).where(Campaign.slug == slug)).first() is not None:
        raise Conflict(N_("A campaign with this slug already exists."), code="slug_taken")
    structure = _structure(table, mapping)
    if not structure:
        raise invalid(N_("The file has no answers with a wall and a question."), "no_walls")
    now = utcnow()
    campaign = Campaign(
        organisation_id=organisation.id,
        slug=slug,
        title=title.strip()[:200],
        round_label=_round_label(table, mapping),
    )
    session.add(campaign)
    try:
        session.flush()
        for wall_title, shape in structure.items():
            ordered = sorted(shape["prompts"].items(), key=lambda item: item[1])
            wall = Wall(
                campaign_id=campaign.id,
                slug=free_slug(session, Wall, slugify(f"{slug}-{wall_title}")),
                title=wall_title,
                audience=Audience.EVERYONE,
                moderation=Moderation.POST,
                closes_at=now,
                profile_questions=[f for f in PROFILE_FIELDS if f in shape["profile"]],
                areas=list(shape["areas"]),
                prompts=[
                    Prompt(
                        position=i,
                        text=text,
                        **(
                            closed_question(shape["choices"][text])
                            if text in shape["choices"]
                            else {}
                        ),
                    )
                    for i, (text, _n) in enumerate(ordered)
                ],
            )
            session.add(wall)
        session.flush()
        if next_round is not None:
            if next_round.organisation_id != organisation.id:
                raise Conflict(N_("This campaign does not exist."), code="campaign_not_found")
            next_round.previous_round_id = campaign.id
            if not next_round.round_label:
                next_round.round_label = str(next_round.created_at.year)
        # Each question's text finds its prompt; the numbers were only needed for the order.
        plan = plan_import(
            session,
            campaign,
            table,
            replace(mapping, prompt_number=None),
            options,
            progress=progress,
        )
        if plan.errors and not options.skip_invalid:
            raise ImportRefused(plan)
    except BaseException:
        session.rollback()
        raise
    if dry_run:
        session.rollback()
        return campaign, plan
    write_and_commit(session, plan, campaign, actor)
    return campaign, plan
