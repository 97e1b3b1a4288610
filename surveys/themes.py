"""The bridge between the database and the pure theme engine in ``nlp``.

``build_themes`` feeds a scope's answers (a campaign, a wall or a prompt) to
``nlp.ThemeModel`` with the previous run's themes and the staff's curation, and stores the
run, its themes and the answers' memberships. ``assign_answer`` puts a newly arrived answer
into the latest runs' themes with the stored model, so new answers show up under themes
without a re-run. Nothing here imports Flask.
"""

from __future__ import annotations

import hashlib
import logging
import time
from collections import OrderedDict
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, NamedTuple

from sqlalchemy import Select, delete, exists, func, select
from sqlalchemy.orm import Session

from .errors import N_, InvalidInput
from .models import (
    Answer,
    AnswerStatus,
    Campaign,
    Prompt,
    Theme,
    ThemeAssignment,
    ThemeCuration,
    ThemeRun,
    Wall,
    theme_scope_key,
    utcnow,
)

if TYPE_CHECKING:
    from nlp import ThemeModel

log = logging.getLogger(__name__)

#: Fitted models kept in memory, by the SHA-1 of their bytes (runs never change).
_MODEL_CACHE: OrderedDict[str, ThemeModel] = OrderedDict()
_MODEL_CACHE_SIZE = 8


@dataclass(frozen=True)
class Scope:
    """What a theme run covers: a whole campaign, one wall, or one prompt."""

    campaign_id: int
    wall_id: int | None = None
    prompt_id: int | None = None

    @property
    def key(self) -> str:
        """The scope's stable key (stored on runs and curations)."""
        return theme_scope_key(self.campaign_id, self.wall_id, self.prompt_id)

    @classmethod
    def of_run(cls, run: ThemeRun) -> Scope:
        """The scope a run covers."""
        return cls(run.campaign_id, run.wall_id, run.prompt_id)

    def narrow(self, stmt: Select[Any]) -> Select[Any]:
        """Keep the answers of this scope (``stmt`` must join ``Wall``)."""
        stmt = stmt.where(Wall.campaign_id == self.campaign_id)
        if self.wall_id is not None:
            stmt = stmt.where(Answer.wall_id == self.wall_id)
        if self.prompt_id is not None:
            stmt = stmt.where(Answer.prompt_id == self.prompt_id)
        return stmt

    def covers(self, answer: Answer, campaign_id: int) -> bool:
        """Whether ``answer`` (of ``campaign_id``) belongs to this scope."""
        return (
            campaign_id == self.campaign_id
            and (self.wall_id is None or answer.wall_id == self.wall_id)
            and (self.prompt_id is None or answer.prompt_id == self.prompt_id)
        )


def resolve_scope(
    session: Session, campaign: Campaign, wall_slug: str | None = None, prompt_id: int | None = None
) -> Scope:
    """Check that the wall and prompt belong to the campaign and return the scope."""
    wall_id = None
    if wall_slug is not None:
        wall = session.scalars(
            select(Wall).where(Wall.slug == wall_slug, Wall.campaign_id == campaign.id)
        ).first()
        if wall is None:
            raise InvalidInput(N_("This wall is not part of the campaign."), code="invalid_wall")
        wall_id = wall.id
    if prompt_id is not None:
        prompt = session.get(Prompt, prompt_id)
        if prompt is None or prompt.wall.campaign_id != campaign.id:
            raise InvalidInput(N_("Choose one of the wall's questions."), code="invalid_prompt")
        if wall_id is not None and prompt.wall_id != wall_id:
            raise InvalidInput(N_("Choose one of the wall's questions."), code="invalid_prompt")
        wall_id = prompt.wall_id
    return Scope(campaign.id, wall_id, prompt_id)


def answers_in_scope(scope: Scope) -> Select[tuple[Answer]]:
    """The answers a run of ``scope`` clusters: everything not hidden by a moderator."""
    stmt = (
        select(Answer)
        .join(Wall, Answer.wall_id == Wall.id)
        .where(Answer.status != AnswerStatus.HIDDEN)
        .order_by(Answer.id)
    )
    return scope.narrow(stmt)


def questions_in_scope(scope: Scope) -> Select[tuple[str, str]]:
    """(question, wall title) of every question the scope's answers reply to."""
    stmt = (
        select(Prompt.text, Wall.title)
        .join(Wall, Prompt.wall_id == Wall.id)
        .where(Wall.campaign_id == scope.campaign_id)
        .order_by(Prompt.id)
    )
    if scope.wall_id is not None:
        stmt = stmt.where(Wall.id == scope.wall_id)
    if scope.prompt_id is not None:
        stmt = stmt.where(Prompt.id == scope.prompt_id)
    return stmt


def latest_run(session: Session, scope_key: str) -> ThemeRun | None:
    """The newest run of a scope."""
    return session.scalars(
        select(ThemeRun).where(ThemeRun.scope_key == scope_key).order_by(ThemeRun.id.desc())
    ).first()


def curation_for(session: Session, scope: Scope) -> ThemeCuration:
    """The staff's curation of a scope (created empty on first use, not committed)."""
    curation = session.scalars(
        select(ThemeCuration).where(ThemeCuration.scope_key == scope.key)
    ).first()
    if curation is None:
        curation = ThemeCuration(
            campaign_id=scope.campaign_id, scope_key=scope.key, data={}, descriptions={}
        )
        session.add(curation)
    return curation


class _PreviousRun(NamedTuple):
    """What a re-run takes from the scope's latest run (the engine's ``previous*``)."""

    themes: list[Any]
    andet: list[str]
    clusters: list[list[str]]


def _previous_run(run: ThemeRun | None, session: Session) -> _PreviousRun:
    """The run's themes as the engine's ``previous``: members from the stored rows (staff
    edits included, answers placed on arrival left out), and which of them have the theme
    as their main one, from the run's model (staff-moved answers are clamped by the
    curation anyway; answers of a theme merged away count for the theme that holds them);
    the answers the run left in "andet" (and staff did not place since); and the run's
    k-means clusters, where the engine starts from."""
    from nlp import Theme as EngineTheme

    if run is None:
        return _PreviousRun([], [], [])
    members: dict[int, list[str]] = {}
    rows = session.execute(
        select(ThemeAssignment.theme_id, ThemeAssignment.answer_id).where(
            ThemeAssignment.run_id == run.id, ThemeAssignment.source != "transform"
        )
    )
    for theme_id, answer_id in rows:
        members.setdefault(theme_id, []).append(str(answer_id))
    keys = {t.key for t in run.themes}
    try:
        model = _load_model(run)
        fitted, clusters = model.assignments_, model.clusters_
    except ValueError:  # a model this engine cannot read: every member counts, none was andet
        fitted, clusters = {}, []
    main_theme = {answer: found[0] for answer, found in fitted.items() if found}
    placed = {a for found in members.values() for a in found}
    andet = [answer for answer, found in fitted.items() if not found and answer not in placed]

    def primary(theme: Theme) -> list[str]:
        return [
            a
            for a in members.get(theme.id, [])
            if main_theme.get(a) == theme.key or main_theme.get(a) not in keys
        ]

    themes = [
        EngineTheme(
            id=t.key,
            label=t.label,
            terms=list(t.terms),
            answer_ids=members.get(t.id, []),
            representative_ids=[str(a) for a in t.representative_ids],
            size=t.size,
            auto_label=t.auto_label,
            hidden=t.hidden,
            primary_ids=primary(t),
        )
        for t in run.themes
    ]
    return _PreviousRun(themes, andet, clusters)


def build_themes(
    session: Session,
    scope: Scope,
    *,
    n_themes: int | str = "auto",
    seed: int = 0,
) -> ThemeRun:
    """Run the theme engine over the scope's answers and store the run (committed)."""
    from nlp import Curation, ThemeModel

    answers = list(session.scalars(answers_in_scope(scope)))
    previous = latest_run(session, scope.key)
    curation = curation_for(session, scope)
    before = _previous_run(previous, session)
    # The questions' own words (and the walls' titles) are in every answer's context: not
    # theme names ("børneliv" on a wall asking "Hvad er det gode børneliv her?").
    questions = list(
        dict.fromkeys(t for row in session.execute(questions_in_scope(scope)) for t in row)
    )
    model = ThemeModel(n_themes=n_themes, seed=seed).fit(
        [a.text for a in answers],
        ids=[str(a.id) for a in answers],
        previous=before.themes,
        curation=Curation.from_dict(curation.data or {}),
        previous_andet=before.andet,
        previous_clusters=before.clusters,
        questions=questions,
    )
    pinned = (curation.data or {}).get("pinned") or {}
    run = ThemeRun(
        campaign_id=scope.campaign_id,
        wall_id=scope.wall_id,
        prompt_id=scope.prompt_id,
        scope_key=scope.key,
        n_answers=len(answers),
        requested_themes=str(n_themes),
        seed=seed,
        model=model.to_bytes(),
    )
    session.add(run)
    by_key: dict[str, Theme] = {}
    for position, engine_theme in enumerate(model.themes_):
        theme = Theme(
            key=engine_theme.id,
            position=position,
            label=engine_theme.label[:200],
            auto_label=(engine_theme.auto_label or engine_theme.label)[:200],
            description=(curation.descriptions or {}).get(engine_theme.id, ""),
            terms=list(engine_theme.terms),
            size=engine_theme.size,
            representative_ids=_representatives(engine_theme, pinned.get(engine_theme.id)),
            hidden=engine_theme.hidden,
        )
        run.themes.append(theme)
        by_key[theme.key] = theme
    session.flush()
    rows = [
        {"theme_id": by_key[key].id, "answer_id": int(answer_id), "run_id": run.id}
        for answer_id, keys in model.assignments_.items()
        for key in keys
        if key in by_key
    ]
    if rows:
        session.execute(ThemeAssignment.__table__.insert(), rows)
    curation.updated_at = utcnow()
    session.commit()
    _remember_runs(session, scope.campaign_id)
    return run


#: Quotes kept per theme when staff pinned some (pinned first, then the most central).
N_REPRESENTATIVES = 4


def _representatives(engine_theme: Any, pinned: list | None) -> list[int]:
    """The theme's quotes: the engine's choice, which is only the pinned answers when staff
    pinned some; those are then followed by the most central other answers."""
    reps = [int(a) for a in engine_theme.representative_ids]
    if pinned:
        wanted = max(N_REPRESENTATIVES, len(reps))
        for answer_id in engine_theme.answer_ids:
            if len(reps) >= wanted:
                break
            if int(answer_id) not in reps:
                reps.append(int(answer_id))
    return reps


def _load_model(run: ThemeRun) -> ThemeModel:
    from nlp import ThemeModel

    data = run.model
    digest = hashlib.sha1(data, usedforsecurity=False).hexdigest()
    model = _MODEL_CACHE.get(digest)
    if model is None:
        model = ThemeModel.from_bytes(data)
        _MODEL_CACHE[digest] = model
        while len(_MODEL_CACHE) > _MODEL_CACHE_SIZE:
            _MODEL_CACHE.popitem(last=False)
    else:
        _MODEL_CACHE.move_to_end(digest)
    return model


def latest_runs_covering(session: Session, answer: Answer) -> list[ThemeRun]:
    """The newest run of every scope that includes ``answer``."""
    wall = answer.wall
    keys = {
        theme_scope_key(wall.campaign_id, None, None),
        theme_scope_key(wall.campaign_id, wall.id, None),
        theme_scope_key(wall.campaign_id, wall.id, answer.prompt_id),
    }
    newest = (
        select(func.max(ThemeRun.id))
        .where(ThemeRun.scope_key.in_(keys))
        .group_by(ThemeRun.scope_key)
    )
    return list(session.scalars(select(ThemeRun).where(ThemeRun.id.in_(newest))))


def assign_answer(session: Session, answer: Answer) -> list[Theme]:
    """Assign a new answer to the themes of the latest runs that cover it (committed)."""
    assigned: list[Theme] = []
    for run in latest_runs_covering(session, answer):
        assigned.extend(place_in_run(session, run, [answer])[answer.id])
    session.commit()
    return assigned


def place_in_run(
    session: Session, run: ThemeRun, answers: Sequence[Answer]
) -> dict[int, list[Theme]]:
    """Put answers under the run's visible themes where its model places them (as a new
    answer is on arrival), replacing their memberships in the run; not committed."""
    if not answers:
        return {}
    themes = {t.key: t for t in run.themes}
    session.execute(
        delete(ThemeAssignment).where(
            ThemeAssignment.run_id == run.id,
            ThemeAssignment.answer_id.in_([answer.id for answer in answers]),
        )
    )
    placed: dict[int, list[Theme]] = {}
    keys_of = _load_model(run).transform([answer.text for answer in answers])
    for answer, keys in zip(answers, keys_of, strict=True):
        placed[answer.id] = [
            themes[key] for key in keys if key in themes and not themes[key].hidden
        ]
        session.add_all(
            ThemeAssignment(
                theme_id=theme.id, answer_id=answer.id, run_id=run.id, source="transform"
            )
            for theme in placed[answer.id]
        )
    return placed


#: Campaigns (per database) known to have theme runs, and those last seen without one. Every
#: answer asks; remembering saves a query per answer. A run made by another process is noticed
#: within ``NO_RUN_RECHECK_SECONDS``; answers of those seconds show as "nye svar" without a
#: theme until the next run.
_WITH_RUNS: set[tuple[str, int]] = set()
_WITHOUT_RUNS: dict[tuple[str, int], float] = {}
NO_RUN_RECHECK_SECONDS = 5.0


def _campaign_key(session: Session, campaign_id: int) -> tuple[str, int]:
    return (str(session.get_bind().engine.url), campaign_id)


def campaign_has_runs(session: Session, campaign_id: int) -> bool:
    """Whether the campaign has a theme run (remembered; see ``NO_RUN_RECHECK_SECONDS``)."""
    key = _campaign_key(session, campaign_id)
    if key in _WITH_RUNS:
        return True
    checked = _WITHOUT_RUNS.get(key)
    if checked is not None and time.monotonic() - checked < NO_RUN_RECHECK_SECONDS:
        return False
    if session.scalar(select(exists().where(ThemeRun.campaign_id == campaign_id))):
        _remember_runs(session, campaign_id)
        return True
    _WITHOUT_RUNS[key] = time.monotonic()
    return False


def _remember_runs(session: Session, campaign_id: int) -> None:
    key = _campaign_key(session, campaign_id)
    _WITH_RUNS.add(key)
    _WITHOUT_RUNS.pop(key, None)


def assign_on_arrival(session: Session, answer: Answer, campaign_id: int | None = None) -> None:
    """Best effort: put a just-stored answer under the latest themes; never raises.

    ``campaign_id`` (the answer's campaign) saves loading the answer's wall to find it.
    """
    try:
        if campaign_id is None:
            campaign_id = answer.wall.campaign_id
        if campaign_has_runs(session, campaign_id):
            if answer not in session:  # committed on its own (operations.add_once): attach it
                session.add(answer)
            assign_answer(session, answer)
    except Exception:  # the answer is stored; a theme can be assigned at the next run
        session.rollback()
        log.exception("could not assign answer %s to themes", answer.id)


def theme_members(run_id: int) -> Select[tuple[int, int, str]]:
    """(theme id, answer id, source) of a run's memberships."""
    return select(
        ThemeAssignment.theme_id, ThemeAssignment.answer_id, ThemeAssignment.source
    ).where(ThemeAssignment.run_id == run_id)
