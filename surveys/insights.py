"""Counting answers per theme: the numbers the explorer, breakdowns and reports share.

Every figure counts *approved* answers by default (what staff have accepted), in the run's
scope, narrowed by an :class:`~surveys.filters.AnswerFilter`. An answer may belong to more
than one theme, so the shares of all themes can add up to more than 100 %.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from sqlalchemy import Select, func, select
from sqlalchemy.orm import Session

from .filters import AnswerFilter
from .models import Answer, AnswerStatus, Theme, ThemeAssignment, ThemeRun, Wall

#: Groups with fewer answers than this are never shown on their own (anonymity).
MIN_GROUP_SIZE = 5
APPROVED_ONLY: tuple[AnswerStatus, ...] = (AnswerStatus.APPROVED,)


@dataclass(frozen=True)
class ThemeCount:
    """A visible theme with the number and share of the counted answers in it."""

    theme: Theme
    count: int
    share: float  # count / ThemeCounts.total (0 when there are no answers)


@dataclass(frozen=True)
class ThemeCounts:
    """Counts of one run's visible themes over the answers that match a filter."""

    run: ThemeRun
    total: int  # answers counted (in scope, matching the filter and statuses)
    themes: list[ThemeCount]  # largest first, then in the run's order
    unthemed: int  # counted answers in no visible theme ("andet")


def scoped_answer_ids(
    run: ThemeRun,
    answer_filter: AnswerFilter | None = None,
    statuses: Iterable[AnswerStatus] = APPROVED_ONLY,
) -> Select[tuple[int]]:
    """Ids of the answers in the run's scope with one of ``statuses``, narrowed by the filter."""
    stmt = (
        select(Answer.id)
        .join(Wall, Answer.wall_id == Wall.id)
        .where(Wall.campaign_id == run.campaign_id, Answer.status.in_(list(statuses)))
    )
    if run.wall_id is not None:
        stmt = stmt.where(Answer.wall_id == run.wall_id)
    if run.prompt_id is not None:
        stmt = stmt.where(Answer.prompt_id == run.prompt_id)
    return (answer_filter or AnswerFilter()).apply(stmt)


def theme_counts(
    session: Session,
    run: ThemeRun,
    answer_filter: AnswerFilter | None = None,
    *,
    statuses: Iterable[AnswerStatus] = APPROVED_ONLY,
) -> ThemeCounts:
    """How many of the matching answers each visible theme of ``run`` holds."""
    ids = scoped_answer_ids(run, answer_filter, statuses).subquery()
    total = session.scalar(select(func.count()).select_from(ids)) or 0
    visible = [t for t in run.themes if not t.hidden]
    member = (
        select(ThemeAssignment.theme_id, ThemeAssignment.answer_id)
        .join(Theme, Theme.id == ThemeAssignment.theme_id)
        .where(
            ThemeAssignment.run_id == run.id,
            Theme.hidden.is_(False),
            ThemeAssignment.answer_id.in_(select(ids.c.id)),
        )
        .subquery()
    )
    per_theme = dict(
        session.execute(
            select(member.c.theme_id, func.count(func.distinct(member.c.answer_id))).group_by(
                member.c.theme_id
            )
        )
        .tuples()
        .all()
    )
    themed = session.scalar(select(func.count(func.distinct(member.c.answer_id)))) or 0
    counts = [
        ThemeCount(
            theme=t, count=per_theme.get(t.id, 0), share=_share(per_theme.get(t.id, 0), total)
        )
        for t in visible
    ]
    counts.sort(key=lambda c: (-c.count, c.theme.position))
    return ThemeCounts(run=run, total=total, themes=counts, unthemed=total - themed)


def _share(count: int, total: int) -> float:
    return count / total if total else 0.0
