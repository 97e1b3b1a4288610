"""Counting answers per theme: the numbers the explorer, breakdowns and reports share.

Every figure counts *approved* answers by default (what staff have accepted), in the run's
scope, narrowed by an :class:`~surveys.filters.AnswerFilter`. An answer may belong to more
than one theme, so the shares of all themes can add up to more than 100 %.

Breakdowns (:func:`theme_breakdown`) split the counted answers into groups along a
:class:`Dimension` (audience, area or month) and count each group's answers per theme.

**Small groups (anonymity).** A group with fewer than ``min_group_size`` (5) answers is never
shown on its own. Small groups are pooled into one group :data:`OTHER_KEY` ("other") only
when at least two of them together reach ``min_group_size`` (one small group "pooled" alone
would be shown on its own); otherwise they are left out and their answers counted in
``Breakdown.suppressed``. Answers without a value for the dimension (no area given) are
counted in ``Breakdown.unknown`` and never form a group. The overall figures
(``Breakdown.themes``, ``total``) still include the left-out answers, so when
``suppressed > 0`` the overall figures minus the shown groups reveal the left-out answers as
one small group: do not publish the overall figures beside such a breakdown.

**Over-represented.** A cell (group × theme) is marked over-represented when all of these
hold: the group's share of answers in the theme is at least 1.5 times the theme's share over
all counted answers (``index >= 1.5``); at least 5 of the group's answers are in the theme;
and the difference is unlikely to be chance: a one-sided Fisher's exact test of the group
against all other counted answers (the hypergeometric tail, ``p < 0.05``), with the
Benjamini–Hochberg correction over all cells of the breakdown, because a table of many
cells would otherwise show some differences by chance. The pooled "other" group is never
marked: it is not a group anyone belongs to.
"""

from __future__ import annotations

import enum
from collections import Counter, defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from sqlalchemy import Select, func, select
from sqlalchemy.orm import Session

from .campaigns import get_campaign
from .filters import AnswerFilter, answer_audience, day_of
from .models import (
    Answer,
    AnswerStatus,
    Audience,
    Campaign,
    Theme,
    ThemeAssignment,
    ThemeRun,
    Wall,
)
from .themes import Scope, latest_run, resolve_scope

#: Groups with fewer answers than this are never shown on their own (anonymity).
MIN_GROUP_SIZE = 5
APPROVED_ONLY: tuple[AnswerStatus, ...] = (AnswerStatus.APPROVED,)
#: The key of the group that pools small groups (see the module's docstring).
OTHER_KEY = "other"
#: Over-representation: the smallest index, the smallest count and the false discovery rate.
OVER_INDEX = 1.5
OVER_MIN_COUNT = 5
OVER_ALPHA = 0.05


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
        .where(Answer.status.in_(list(statuses)))
    )
    return (answer_filter or AnswerFilter()).apply(Scope.of_run(run).narrow(stmt))


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


# -- breakdowns -------------------------------------------------------------------------------


class Dimension(enum.StrEnum):
    """What a breakdown splits the answers by."""

    AUDIENCE = "audience"  # surveys.filters.answer_audience(): "parents" / "young" / "everyone"
    AREA = "area"  # Answer.area (None -> not shown as a group; counted in ``unknown``)
    PERIOD = "period"  # month "YYYY-MM" of surveys.filters.day_of(created_at, written_on)


@dataclass(frozen=True)
class Cell:
    """One group's answers in one theme."""

    theme_id: int
    count: int  # answers of the group in the theme
    share: float  # count / group.n_answers
    index: float  # share / the theme's share over all counted answers (0 when it is empty)
    over: bool  # over-represented (see the module's docstring)


@dataclass(frozen=True)
class Group:
    """A group shown in a breakdown: ``key`` is a code, a place, a month or OTHER_KEY."""

    key: str
    n_answers: int
    cells: list[Cell]  # same order as Breakdown.themes


@dataclass(frozen=True)
class Breakdown:
    """Theme counts per group along one dimension, small groups left out or pooled."""

    dimension: Dimension
    themes: list[ThemeCount]  # theme_counts(...).themes of the same filter
    groups: list[Group]  # groups of at least min_group_size, in order, then OTHER_KEY if any
    total: int  # answers counted
    suppressed: int  # answers in groups not shown (too small and not poolable)
    unknown: int  # answers with no value for the dimension (e.g. no area given)


_AUDIENCE_ORDER = [a.value for a in (Audience.PARENTS, Audience.YOUNG, Audience.EVERYONE)]


def _group_of_answers(
    session: Session, run: ThemeRun, dimension: Dimension, answer_filter: AnswerFilter | None
) -> dict[int, str | None]:
    """Each counted answer's group key (None: no value for the dimension)."""
    ids = scoped_answer_ids(run, answer_filter)
    if dimension is Dimension.AUDIENCE:
        rows = session.execute(ids.add_columns(answer_audience())).tuples()
        return {answer_id: key for answer_id, key in rows}
    if dimension is Dimension.AREA:
        rows = session.execute(ids.add_columns(Answer.area)).tuples()
        return {answer_id: (area or "").strip() or None for answer_id, area in rows}
    rows = session.execute(ids.add_columns(Answer.created_at, Answer.written_on)).tuples()
    return {
        answer_id: day_of(created, written).strftime("%Y-%m")
        for answer_id, created, written in rows
    }


def _order(dimension: Dimension, sizes: Counter[str]) -> list[str]:
    if dimension is Dimension.AUDIENCE:
        return sorted(sizes, key=lambda k: (_index_or_end(_AUDIENCE_ORDER, k), k))
    if dimension is Dimension.AREA:
        return sorted(sizes, key=lambda k: (-sizes[k], k.casefold(), k))
    return sorted(sizes)  # "YYYY-MM" sorts chronologically


def _index_or_end(items: Sequence[str], key: str) -> int:
    return items.index(key) if key in items else len(items)


def pool_small_groups(
    sizes: Counter[str], order: Sequence[str], min_group_size: int = MIN_GROUP_SIZE
) -> tuple[dict[str, str], dict[str, int], int]:
    """The small-group rule (module docstring) for groups of ``sizes``, shown in ``order``:
    each shown key's group (itself, or :data:`OTHER_KEY` for pooled ones), the shown groups'
    sizes in order, and how many were left out."""
    shown = [k for k in order if sizes[k] >= min_group_size]
    small = [k for k in sizes if sizes[k] < min_group_size]
    pooled = len(small) >= 2 and sum(sizes[k] for k in small) >= min_group_size
    suppressed = 0 if pooled else sum(sizes[k] for k in small)
    target: dict[str, str] = {k: k for k in shown}
    group_sizes: dict[str, int] = {k: sizes[k] for k in shown}
    if pooled:
        target.update({k: OTHER_KEY for k in small})
        group_sizes[OTHER_KEY] = sum(sizes[k] for k in small)
    return target, group_sizes, suppressed


def benjamini_hochberg(p_values: Sequence[float], alpha: float = OVER_ALPHA) -> list[bool]:
    """Which of the tests are discoveries at false discovery rate ``alpha``."""
    m = len(p_values)
    order = sorted(range(m), key=lambda i: p_values[i])
    cutoff = 0
    for rank, i in enumerate(order, start=1):
        if p_values[i] <= alpha * rank / m:
            cutoff = rank
    rejected = [False] * m
    for i in order[:cutoff]:
        rejected[i] = True
    return rejected


def over_representation_p(count: int, n_group: int, in_theme: int, total: int) -> float:
    """One-sided Fisher's exact test: P(at least ``count`` of the group's ``n_group`` answers
    in the theme | ``in_theme`` of all ``total`` answers are), the hypergeometric tail."""
    if count <= 0:
        return 1.0
    from scipy.stats import hypergeom  # imported on first use: scipy is slow to load

    return float(min(1.0, max(0.0, hypergeom.sf(count - 1, total, in_theme, n_group))))


def theme_breakdown(
    session: Session,
    run: ThemeRun,
    dimension: Dimension,
    answer_filter: AnswerFilter | None = None,
    *,
    min_group_size: int = MIN_GROUP_SIZE,
) -> Breakdown:
    """Approved answers per visible theme of ``run`` for each group along ``dimension``.

    Groups smaller than ``min_group_size`` are pooled or left out (module docstring).
    """
    if min_group_size < 1:
        raise ValueError("min_group_size must be at least 1")
    dimension = Dimension(dimension)
    counts = theme_counts(session, run, answer_filter)
    group_of = _group_of_answers(session, run, dimension, answer_filter)
    total = counts.total
    unknown = sum(1 for key in group_of.values() if key is None)
    sizes = Counter(key for key in group_of.values() if key is not None)
    target, group_sizes, suppressed = pool_small_groups(
        sizes, _order(dimension, sizes), min_group_size
    )

    per_cell: defaultdict[tuple[str, int], int] = defaultdict(int)
    members = session.execute(
        select(ThemeAssignment.theme_id, ThemeAssignment.answer_id)
        .join(Theme, Theme.id == ThemeAssignment.theme_id)
        .where(
            ThemeAssignment.run_id == run.id,
            Theme.hidden.is_(False),
            ThemeAssignment.answer_id.in_(scoped_answer_ids(run, answer_filter).scalar_subquery()),
        )
    ).tuples()
    for theme_id, answer_id in members:
        key = group_of.get(answer_id)
        if key is not None and key in target:
            per_cell[(target[key], theme_id)] += 1

    keys = list(group_sizes)
    raw = [(key, tc, per_cell[(key, tc.theme.id)]) for key in keys for tc in counts.themes]
    tested = [i for i, (key, _tc, _count) in enumerate(raw) if key != OTHER_KEY]
    p_values = [
        over_representation_p(raw[i][2], group_sizes[raw[i][0]], raw[i][1].count, total)
        for i in tested
    ]
    significant = dict(zip(tested, benjamini_hochberg(p_values), strict=True))
    cells: dict[str, list[Cell]] = {key: [] for key in keys}
    for i, (key, tc, count) in enumerate(raw):
        n = group_sizes[key]
        index = (count * total) / (n * tc.count) if tc.count and n else 0.0
        over = significant.get(i, False) and index >= OVER_INDEX and count >= OVER_MIN_COUNT
        cells[key].append(
            Cell(theme_id=tc.theme.id, count=count, share=_share(count, n), index=index, over=over)
        )
    return Breakdown(
        dimension=dimension,
        themes=counts.themes,
        groups=[Group(key=k, n_answers=group_sizes[k], cells=cells[k]) for k in keys],
        total=total,
        suppressed=suppressed,
        unknown=unknown,
    )


@dataclass(frozen=True)
class ScopedBreakdown:
    """What the breakdown page shows: the scope's latest run broken down (None: no run)."""

    campaign: Campaign
    scope: Scope
    run: ThemeRun | None
    breakdown: Breakdown | None
    areas: list[str]  # to filter by: the walls' areas and those of at least 5 answers


def campaign_breakdown(
    session: Session,
    organisation_id: int,
    campaign_id: int,
    dimension: Dimension,
    answer_filter: AnswerFilter | None = None,
    *,
    wall_slug: str | None = None,
    prompt_id: int | None = None,
) -> ScopedBreakdown:
    """The organisation's campaign (else NotFound), the scope's latest run and its breakdown.

    Raises :class:`~surveys.errors.InvalidInput` for a wall or prompt outside the campaign.
    """
    campaign = get_campaign(session, organisation_id, campaign_id)
    scope = resolve_scope(session, campaign, wall_slug, prompt_id)
    run = latest_run(session, scope.key)
    breakdown = theme_breakdown(session, run, dimension, answer_filter) if run else None
    given = session.scalars(
        select(Answer.area)
        .join(Wall, Answer.wall_id == Wall.id)
        .where(
            Wall.campaign_id == campaign.id,
            Answer.status == AnswerStatus.APPROVED,
            Answer.area.is_not(None),
        )
        .group_by(Answer.area)
        .having(func.count() >= MIN_GROUP_SIZE)  # a rare area's name alone says too much
    )
    areas = {a for wall in campaign.walls for a in wall.areas or []} | {a for a in given if a}
    return ScopedBreakdown(
        campaign=campaign,
        scope=scope,
        run=run,
        breakdown=breakdown,
        areas=sorted((a for a in areas if a.strip()), key=str.casefold),
    )
