"""Importing: a plan's answers stored in ONE transaction with their audit entry."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import cast

from sqlalchemy import Table as CoreTable
from sqlalchemy import insert
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from .. import audit
from ..errors import N_, Conflict
from ..models import (
    Answer,
    Campaign,
    StaffUser,
    Wall,
)
from .mapping import ColumnMapping
from .planning import ImportPlan, ImportRefused, PlannedAnswer, plan_import
from .reading import Table
from .values import ImportOptions


def insert_answers(session: Session, answers: Sequence[PlannedAnswer]) -> None:
    """Insert planned answers (no commit: the caller's transaction decides).

    A Core ``executemany`` with the same keys in every row: the ORM's bulk insert would split
    the rows into one statement per run of equal NULL columns.
    """
    if answers:
        table = cast(CoreTable, Answer.__table__)
        session.connection().execute(insert(table), [a.values for a in answers])


def write_plan(session: Session, plan: ImportPlan) -> None:
    """Insert the planned answers, 5,000 a statement (no commit)."""
    chunk = 5000
    for start in range(0, len(plan.answers), chunk):
        insert_answers(session, plan.answers[start : start + chunk])


def import_answers(
    session: Session,
    target: Wall | Campaign,
    table: Table,
    mapping: ColumnMapping,
    options: ImportOptions | None = None,
    *,
    actor: StaffUser | None = None,
    dry_run: bool = False,
    progress: Callable[[int, int], object] | None = None,
) -> ImportPlan:
    """Plan the import and store every planned answer in ONE transaction.

    Rows with errors make the whole import refused (:class:`ImportRefused`, nothing stored)
    unless ``options.skip_invalid``. Returns the plan that was carried out. ``progress(done,
    total)`` is told how many rows were checked.
    """
    options = options or ImportOptions()
    plan = plan_import(session, target, table, mapping, options, progress=progress)
    if plan.errors and not options.skip_invalid:
        raise ImportRefused(plan)
    if dry_run:
        return plan
    write_and_commit(session, plan, target, actor)
    return plan


def write_and_commit(
    session: Session, plan: ImportPlan, target: Wall | Campaign, actor: StaffUser | None
) -> None:
    campaign = target if isinstance(target, Campaign) else target.campaign
    try:
        write_plan(session, plan)
        audit.commit_change(
            session,
            organisation_id=campaign.organisation_id,
            actor=actor,
            actor_email=None if actor else "cli",
            action="answers.import",
            target_type="campaign" if isinstance(target, Campaign) else "wall",
            target_id=target.id,
            after={**plan.counts(), "format": plan.table.format},
        )
    except IntegrityError as error:
        session.rollback()
        raise Conflict(
            N_("Answers were added to the wall while importing. Nothing was imported; try again."),
            code="import_conflict",
        ) from error
    except BaseException:
        session.rollback()
        raise
