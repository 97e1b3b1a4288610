"""Theme explorer: read models that shape a scope's latest theme run for the staff pages.

Themes with counts of approved answers (:func:`surveys.insights.theme_counts`), quotes (pinned
first, approved only, through :func:`surveys.export.safe_text`), a theme's answers page by
page, the answers that arrived after the run ("nye svar"), and the lookups curation shares
(:func:`find_theme`, :func:`load_scope`). Nothing here writes. Nothing here imports Flask.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, Select, case, func, select
from sqlalchemy.orm import Session

from .. import campaigns
from ..errors import N_, NotFound
from ..export import safe_text
from ..filters import AnswerFilter
from ..insights import APPROVED_ONLY, ThemeCount, ThemeCounts, scoped_answer_ids, theme_counts
from ..models import (
    NOTE_STATUSES,
    Answer,
    AnswerStatus,
    Campaign,
    StaffUser,
    Theme,
    ThemeAssignment,
    ThemeCuration,
    ThemeRun,
    Wall,
)
from ..themes import Scope, answers_in_scope, answers_to_fit, latest_run, resolve_scope

#: Quotes shown per theme in the explorer.
QUOTES_MIN, QUOTES_MAX = 3, 5
#: Answers arrived after the run listed in the explorer.
NEW_ANSWERS_SHOWN = 20
_KEY = re.compile(r"^t\d{1,9}$")


# --------------------------------------------------------------------------- lookups


def load_scope(
    session: Session,
    actor: StaffUser,
    campaign_id: int,
    wall_slug: str | None = None,
    prompt_id: int | None = None,
) -> tuple[Campaign, Scope]:
    """The actor's campaign and the scope chosen in it (:class:`NotFound` for other
    organisations' campaigns, :class:`InvalidInput` for a wall or prompt not in it)."""
    campaign = campaigns.get_campaign(session, actor.organisation_id, campaign_id)
    return campaign, resolve_scope(session, campaign, wall_slug, prompt_id)


def _run(session: Session, scope: Scope) -> ThemeRun:
    run = latest_run(session, scope.key)
    if run is None:
        raise NotFound(N_("There are no themes here yet. Run the themes first."), code="no_run")
    return run


def valid_key(key: str) -> bool:
    """Whether ``key`` looks like a theme key ("t" and digits)."""
    return bool(_KEY.match(key or ""))


def _theme(run: ThemeRun, key: str) -> Theme:
    if valid_key(key):
        for theme in run.themes:
            if theme.key == key:
                return theme
    raise NotFound(N_("This theme is not part of the latest run."), code="theme_not_found")


def find_theme(session: Session, scope: Scope, key: str) -> tuple[ThemeRun, Theme]:
    """The latest run of the scope and its theme ``key`` (:class:`NotFound` otherwise)."""
    run = _run(session, scope)
    return run, _theme(run, key)


def _memberships(session: Session, run: ThemeRun, answer_ids: Sequence[int]) -> dict[int, set[int]]:
    """answer id -> theme ids (database ids) of its memberships in the run."""
    out: dict[int, set[int]] = {a: set() for a in answer_ids}
    if not answer_ids:
        return out
    rows = session.execute(
        select(ThemeAssignment.answer_id, ThemeAssignment.theme_id).where(
            ThemeAssignment.run_id == run.id, ThemeAssignment.answer_id.in_(list(answer_ids))
        )
    )
    for answer_id, theme_id in rows:
        out[answer_id].add(theme_id)
    return out


def pinned_ids(session: Session, scope: Scope) -> dict[str, list[int]]:
    """Theme key -> answer ids staff pinned as the theme's quotes, in their order."""
    row = session.scalars(select(ThemeCuration).where(ThemeCuration.scope_key == scope.key)).first()
    pinned = ((row.data or {}).get("pinned") or {}) if row else {}
    return {str(k): [int(a) for a in v] for k, v in pinned.items()}


def excluded_ids(session: Session, scope: Scope) -> list[int]:
    """Answers staff marked "not a theme" in the scope."""
    row = session.scalars(select(ThemeCuration).where(ThemeCuration.scope_key == scope.key)).first()
    return [int(a) for a in ((row.data or {}).get("excluded") or [])] if row else []


def _themes_by_id(run: ThemeRun) -> dict[int, Theme]:
    return {t.id: t for t in run.themes}


def count_scope_answers(session: Session, scope: Scope) -> int:
    """How many answers a run of the scope would cluster (approved ones)."""
    stmt = answers_to_fit(scope).order_by(None).with_only_columns(func.count(Answer.id))
    return session.scalar(stmt) or 0


# --------------------------------------------------------------------------- read models


@dataclass(frozen=True)
class Quote:
    """An approved answer shown under a theme, its text made safe."""

    answer_id: int
    text: str
    pinned: bool


@dataclass(frozen=True)
class ThemeSummary:
    """A visible theme in the explorer."""

    theme: Theme
    count: int  # approved answers matching the filter
    share: float
    quotes: list[Quote]
    renamed: bool


@dataclass(frozen=True)
class RunInfo:
    """When a run was made and what it covered."""

    run: ThemeRun
    created_at: datetime
    n_answers: int  # answers the run clustered
    n_themes: int  # visible themes
    n_hidden: int
    unthemed: int  # answers of the run in no theme now


@dataclass(frozen=True)
class NewAnswer:
    """An answer that arrived after the run, with the themes it was assigned to."""

    answer: Answer
    text: str
    themes: list[Theme]


@dataclass(frozen=True)
class ListedAnswer:
    """An answer listed outside a theme (e.g. marked "not a theme")."""

    answer: Answer
    text: str


@dataclass
class Explorer:
    """Everything the explorer page shows for one scope."""

    scope: Scope
    run: ThemeRun | None
    info: RunInfo | None = None
    counts: ThemeCounts | None = None
    themes: list[ThemeSummary] = field(default_factory=list)
    hidden: list[Theme] = field(default_factory=list)
    new_answers: list[NewAnswer] = field(default_factory=list)
    new_total: int = 0
    excluded: list[ListedAnswer] = field(default_factory=list)
    scope_answers: int = 0


def run_info(session: Session, run: ThemeRun) -> RunInfo:
    """The run's metadata, with how many of its answers are in no theme now."""
    scope = Scope(run.campaign_id, run.wall_id, run.prompt_id)
    in_run = answers_to_fit(scope).where(Answer.created_at <= run.created_at)
    themed = select(ThemeAssignment.answer_id).where(ThemeAssignment.run_id == run.id)
    unthemed = session.scalar(
        in_run.where(Answer.id.not_in(themed))
        .order_by(None)
        .with_only_columns(func.count(Answer.id))
    )
    return RunInfo(
        run=run,
        created_at=run.created_at,
        n_answers=run.n_answers,
        n_themes=sum(1 for t in run.themes if not t.hidden),
        n_hidden=sum(1 for t in run.themes if t.hidden),
        unthemed=unthemed or 0,
    )


def _quotes(
    session: Session,
    run: ThemeRun,
    themes: Sequence[Theme],
    pins: dict[str, list[int]],
    allowed: Select[tuple[int]],
) -> dict[int, list[Quote]]:
    """Up to QUOTES_MAX quotes per theme: pinned, then representatives, then other members
    (at least QUOTES_MIN where there are enough), approved and matching the filter only."""
    wanted: dict[int, list[int]] = {}
    for theme in themes:
        order = [a for a in pins.get(theme.key, [])]
        order += [a for a in theme.representative_ids or [] if a not in order]
        wanted[theme.id] = order
    members: dict[int, set[int]] = {t.id: set() for t in themes}
    allowed_ids = allowed.subquery()
    rows = session.execute(
        select(ThemeAssignment.theme_id, ThemeAssignment.answer_id).where(
            ThemeAssignment.run_id == run.id,
            ThemeAssignment.theme_id.in_(list(members)),
            ThemeAssignment.answer_id.in_(select(allowed_ids.c.id)),
        )
    )
    for theme_id, answer_id in rows:
        members[theme_id].add(answer_id)
    chosen: dict[int, list[int]] = {}
    for theme in themes:
        ids = [a for a in wanted[theme.id] if a in members[theme.id]][:QUOTES_MAX]
        if len(ids) < QUOTES_MIN:
            extra = sorted(members[theme.id] - set(ids))
            ids += extra[: QUOTES_MIN - len(ids)]
        chosen[theme.id] = ids
    needed = {a for ids in chosen.values() for a in ids}
    answers = (
        {a.id: a for a in session.scalars(select(Answer).where(Answer.id.in_(needed)))}
        if needed
        else {}
    )
    return {
        theme.id: [
            Quote(a, safe_text(answers[a]), a in pins.get(theme.key, []))
            for a in chosen[theme.id]
            if a in answers
        ]
        for theme in themes
    }


def new_answers_since(
    session: Session,
    run: ThemeRun,
    statuses: Iterable[AnswerStatus] = APPROVED_ONLY,
    *,
    answer_filter: AnswerFilter | None = None,
    limit: int = NEW_ANSWERS_SHOWN,
) -> tuple[list[NewAnswer], int]:
    """Answers of the scope that arrived after the run ("nye svar"), newest first, with the
    themes they were assigned to on arrival; and how many there are."""
    scope = Scope(run.campaign_id, run.wall_id, run.prompt_id)
    statuses = list(statuses)
    stmt = answers_in_scope(scope).where(
        Answer.created_at > run.created_at, Answer.status.in_(statuses)
    )
    stmt = (answer_filter or AnswerFilter()).apply(stmt)
    total = session.scalar(stmt.order_by(None).with_only_columns(func.count(Answer.id))) or 0
    answers = list(
        session.scalars(
            stmt.order_by(None).order_by(Answer.created_at.desc(), Answer.id.desc()).limit(limit)
        )
    )
    by_id = _themes_by_id(run)
    member = _memberships(session, run, [a.id for a in answers])
    items = [
        NewAnswer(
            answer=a,
            text=safe_text(a),
            themes=sorted((by_id[t] for t in member[a.id] if t in by_id), key=lambda t: t.position),
        )
        for a in answers
    ]
    return items, total


def explore(
    session: Session,
    scope: Scope,
    answer_filter: AnswerFilter | None = None,
    statuses: Iterable[AnswerStatus] = APPROVED_ONLY,
) -> Explorer:
    """The explorer of a scope: the latest run's themes with counts, quotes, new answers.

    ``statuses`` chooses which answers the lists of new and excluded answers show (counts
    and quotes are always of approved answers).
    """
    answer_filter = answer_filter or AnswerFilter()
    statuses = list(statuses)
    run = latest_run(session, scope.key)
    explorer = Explorer(scope=scope, run=run, scope_answers=count_scope_answers(session, scope))
    if run is None:
        return explorer
    counts = theme_counts(session, run, answer_filter)
    pins = pinned_ids(session, scope)
    visible = [c.theme for c in counts.themes]
    quotes = _quotes(session, run, visible, pins, scoped_answer_ids(run, answer_filter))
    explorer.info = run_info(session, run)
    explorer.counts = counts
    explorer.themes = [_summary(c, quotes[c.theme.id]) for c in counts.themes]
    explorer.hidden = [t for t in run.themes if t.hidden]
    explorer.new_answers, explorer.new_total = new_answers_since(
        session, run, statuses, answer_filter=answer_filter
    )
    excluded = excluded_ids(session, scope)
    if excluded:
        stmt = answers_in_scope(scope).where(Answer.id.in_(excluded), Answer.status.in_(statuses))
        explorer.excluded = [
            ListedAnswer(a, safe_text(a)) for a in session.scalars(answer_filter.apply(stmt))
        ]
    return explorer


def _summary(count: ThemeCount, quotes: list[Quote]) -> ThemeSummary:
    theme = count.theme
    renamed = bool(theme.auto_label) and theme.label != theme.auto_label
    return ThemeSummary(theme, count.count, count.share, quotes, renamed)


@dataclass(frozen=True)
class ThemeAnswer:
    """One answer on a theme's page."""

    answer: Answer
    text: str
    source: str  # "fit", "transform" or "staff"
    pinned: bool
    is_new: bool  # arrived after the run
    other_themes: list[Theme]


@dataclass
class ThemePage:
    """A theme with one page of its answers."""

    run: ThemeRun
    theme: Theme
    count: int  # approved answers matching the filter
    share: float
    answers: list[ThemeAnswer]
    total: int  # answers listed over all pages
    page: int
    per_page: int
    pinned: list[int]
    other_themes: list[Theme]  # the run's other themes (targets for moves and merges)

    @property
    def has_more(self) -> bool:
        """Whether another page follows."""
        return self.page * self.per_page < self.total


def theme_answers(
    run: ThemeRun, theme: Theme, pinned: Sequence[int] = ()
) -> Select[tuple[Answer, str]]:
    """(answer, membership source) of a theme's answers in a run: ``pinned`` first, then
    newest first."""
    order: list[ColumnElement[Any]] = [Answer.created_at.desc(), Answer.id.desc()]
    if pinned:
        order.insert(0, case((Answer.id.in_(list(pinned)), 0), else_=1))
    return (
        select(Answer, ThemeAssignment.source)
        .join(ThemeAssignment, ThemeAssignment.answer_id == Answer.id)
        .where(ThemeAssignment.run_id == run.id, ThemeAssignment.theme_id == theme.id)
        .order_by(*order)
    )


def theme_page(
    session: Session,
    scope: Scope,
    key: str,
    answer_filter: AnswerFilter | None = None,
    statuses: Iterable[AnswerStatus] = APPROVED_ONLY,
    *,
    page: int = 1,
    per_page: int = 50,
) -> ThemePage:
    """Theme ``key`` of the scope's latest run with a page of its answers (pinned first)."""
    answer_filter = answer_filter or AnswerFilter()
    statuses = list(statuses)
    run, theme = find_theme(session, scope, key)
    counts = theme_counts(session, run, answer_filter)
    count = next((c for c in counts.themes if c.theme.id == theme.id), None)
    pins = pinned_ids(session, scope).get(theme.key, [])
    stmt = theme_answers(run, theme, pins).join(Wall, Answer.wall_id == Wall.id)
    stmt = answer_filter.apply(
        stmt.where(Answer.status.in_(statuses), Answer.status.in_(NOTE_STATUSES))
    )
    total = session.scalar(select(func.count()).select_from(stmt.order_by(None).subquery())) or 0
    page = max(1, page)
    rows = session.execute(stmt.limit(per_page).offset((page - 1) * per_page)).tuples().all()
    by_id = _themes_by_id(run)
    member = _memberships(session, run, [a.id for a, _s in rows])
    answers = [
        ThemeAnswer(
            answer=a,
            text=safe_text(a),
            source=source,
            pinned=a.id in pins,
            is_new=a.created_at > run.created_at,
            other_themes=sorted(
                (by_id[t] for t in member[a.id] if t in by_id and t != theme.id),
                key=lambda t: t.position,
            ),
        )
        for a, source in rows
    ]
    return ThemePage(
        run=run,
        theme=theme,
        count=count.count if count else 0,
        share=count.share if count else 0.0,
        answers=answers,
        total=total,
        page=page,
        per_page=per_page,
        pinned=pins,
        other_themes=[t for t in run.themes if t.id != theme.id],
    )


def latest_runs(campaign_id: int) -> Select[tuple[str, datetime]]:
    """(scope key, time of its latest run) for every scope of a campaign that has runs."""
    return (
        select(ThemeRun.scope_key, func.max(ThemeRun.created_at))
        .where(ThemeRun.campaign_id == campaign_id)
        .group_by(ThemeRun.scope_key)
    )
