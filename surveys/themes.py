"""The bridge between the database and the pure theme engine in ``nlp``.

``build_themes`` feeds a scope's answers (a campaign, a wall or a prompt) to
``nlp.ThemeModel`` with the previous run's themes and the staff's curation, and stores the
run, its themes and the answers' memberships. ``place_new_answers`` (the task queue's job,
never the request's) puts newly arrived answers into the latest runs' themes with the stored
model, so new answers show up under themes without a re-run. Nothing here imports Flask.

**Privacy.** A run is fitted on *approved* answers only, so its labels, terms and quotes come
from what a moderator let through; answers still waiting for moderation are only placed under
the themes afterwards (as new answers are on arrival), for moderators' eyes, and never count.
When an approved answer leaves (hidden, sent back to moderation) or is redacted,
:func:`relabel_after_moderation` names its themes anew from the answers still approved. No
term that looks like personal data to the guard, in any case (:func:`shows_personal_data`),
becomes part of a label.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from functools import lru_cache
from typing import TYPE_CHECKING, Any, NamedTuple, cast

from sqlalchemy import Select, Table, delete, exists, func, insert, select, update
from sqlalchemy.orm import Session

from .errors import N_, InvalidInput
from .models import (
    NOTE_STATUSES,
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
from .privacy import detect_personal_data, redact
from .theme_changes import compare_runs
from .vectors import Encoder, stored_vectors, vectors_for

if TYPE_CHECKING:
    from nlp import ThemeModel

log = logging.getLogger(__name__)


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
    """The answers of ``scope`` that can be under its themes: everything not hidden by a
    moderator (answers waiting for moderation only for moderators' eyes)."""
    stmt = (
        select(Answer)
        .join(Wall, Answer.wall_id == Wall.id)
        .where(Answer.status.in_(NOTE_STATUSES))
        .order_by(Answer.id)
    )
    return scope.narrow(stmt)


def answers_to_fit(scope: Scope) -> Select[tuple[Answer]]:
    """The answers a run of ``scope`` clusters and names its themes from: approved ones."""
    return answers_in_scope(scope).where(Answer.status == AnswerStatus.APPROVED)


_WORD = re.compile(r"[^\W_]+(?:[-'’][^\W_]+)*")


def _personal_spans(text: str) -> list[tuple[int, int]]:
    spans = [(f.start, f.end) for f in detect_personal_data(text)]
    spans += [
        word.span()
        for word in _WORD.finditer(text)
        if detect_personal_data(word.group().capitalize())
    ]
    return spans


@lru_cache(maxsize=4096)
def shows_personal_data(text: str) -> bool:
    """Whether a theme's label or term shows personal data, whatever the case of its words.

    The guard reads a text as written ("22 33 44 55", "Pædagogen Lone"), and then every word
    alone, capitalised as at the start of a sentence: "lone", "LONE" and "Lone" are all the
    name Lone there, while words that are ordinary Danish words too ("sol", "mark") are not.
    """
    return bool(_personal_spans(text))


@lru_cache(maxsize=4096)
def public_label(label: str) -> str:
    """A theme's label as anyone is shown it: what :func:`shows_personal_data` finds in it is
    replaced by ``[fjernet]`` (labels are made without such words; this catches the rest)."""
    spans = _personal_spans(label)
    return redact(label, spans) if spans else label


def public_terms(terms: Iterable[str]) -> list[str]:
    """A theme's terms as anyone is shown them: without those that show personal data."""
    return [term for term in terms if not shows_personal_data(term)]


def allow_term(term: str) -> bool:
    """Whether the engine may use ``term`` in a theme's label and terms."""
    return not shows_personal_data(term)


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

    if run is None or run.codebook is not None:  # a codebook run: the engine starts afresh
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
    encoder: Encoder | None = None,
) -> ThemeRun:
    """Run the theme engine over the scope's answers and store the run (committed).

    With an ``encoder`` the answers' semantic vectors take part: the stored ones, and those
    still missing are embedded and stored first (:func:`surveys.vectors.vectors_for`)."""
    from nlp import Curation, ThemeModel

    answers = list(session.scalars(answers_to_fit(scope)))
    vectors = vectors_for(session, answers, encoder)
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
        allow_term=allow_term,
        vectors=vectors,
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
            coherence=engine_theme.coherence,
            mixed=engine_theme.mixed,
            split_suggestion=list(engine_theme.split_suggestion),
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
        session.execute(insert(cast(Table, ThemeAssignment.__table__)), rows)
    # Answers waiting for moderation go under the themes as new arrivals do (never counted).
    excluded = set((curation.data or {}).get("excluded") or [])
    waiting = list(
        session.scalars(answers_in_scope(scope).where(Answer.status == AnswerStatus.PENDING))
    )
    place_in_run(session, run, [a for a in waiting if str(a.id) not in excluded])
    # What this run took in needs no placing by the queue (answers arriving meanwhile do).
    last = max((a.id for a in [*answers, *waiting]), default=0)
    handled = answers_in_scope(scope).with_only_columns(Answer.id).where(Answer.id <= last)
    session.execute(
        update(Answer)
        .where(Answer.id.in_(handled), Answer.themes_placed_at.is_(None))
        .values(themes_placed_at=utcnow())
    )
    curation.updated_at = utcnow()
    session.flush()
    run.changes = compare_runs(session, previous, run)
    session.commit()
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
    return _parsed_model(run.model)


@lru_cache(maxsize=8)
def _parsed_model(data: bytes) -> ThemeModel:
    """A fitted model from its stored bytes; the last few are kept (a run never changes)."""
    from nlp import ThemeModel

    return ThemeModel.from_bytes(data)


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
    vectors = stored_vectors(session, answers)
    return store_placements(session, run, answers, placements(run, answers, vectors))


def placements(run: ThemeRun, answers: Sequence[Answer], vectors: Any = None) -> list[list[str]]:
    """The theme keys the run's model gives each answer (the slow part; writes nothing);
    ``vectors``: the answers' stored semantic vectors, if they all have one."""
    texts = [a.text for a in answers]
    if run.codebook is not None:
        return _codebook_placements(run, texts)
    return [list(keys) for keys in _load_model(run).transform(texts, vectors)]


def _codebook_placements(run: ThemeRun, texts: Sequence[str]) -> list[list[str]]:
    """A codebook run's themes for new answers: its codebook's keywords decide (no vectors
    of the themes are kept); an answer without one of them waits for the next run."""
    from nlp.codebook import Codebook, CodebookSorter

    sorter = CodebookSorter(Codebook.from_dict(run.codebook or {})).fit(
        texts, [str(i) for i in range(len(texts))]
    )
    key_of = {t.codebook: t.key for t in run.themes if t.codebook}
    return [
        [key_of[name] for name in sorter.assignments_[str(i)] if name in key_of]
        for i in range(len(texts))
    ]


def store_placements(
    session: Session, run: ThemeRun, answers: Sequence[Answer], keys_of: Sequence[Sequence[str]]
) -> dict[int, list[Theme]]:
    """Store :func:`placements` of the answers in the run, replacing their memberships in it
    (not committed)."""
    themes = {t.key: t for t in run.themes}
    session.execute(
        delete(ThemeAssignment).where(
            ThemeAssignment.run_id == run.id,
            ThemeAssignment.answer_id.in_([answer.id for answer in answers]),
        )
    )
    placed: dict[int, list[Theme]] = {}
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


def campaign_has_runs(session: Session, campaign_id: int) -> bool:
    """Whether the campaign has a theme run (new answers need placing under its themes)."""
    return bool(session.scalar(select(exists().where(ThemeRun.campaign_id == campaign_id))))


def place_new_answers(session: Session, answer_ids: Sequence[int]) -> int:
    """Put new answers under the themes of the latest runs that cover them, once (committed).

    This is the queue's theme task (``app.queue``): safe to run twice or at the same time for
    the same answer. An answer already placed (``themes_placed_at`` set), hidden or deleted is
    skipped; each answer's row is locked while it is placed (PostgreSQL; SQLite has one writer),
    and it is marked placed in the same commit as its themes, so a worker killed half-way
    leaves it to be placed again by the catch-up (:func:`answers_to_place`). A run that fitted
    the answer itself keeps its membership. Returns how many answers were placed.
    """
    answers = list(
        session.scalars(
            select(Answer)
            .where(
                Answer.id.in_(list(answer_ids)),
                Answer.themes_placed_at.is_(None),
                Answer.status.in_(NOTE_STATUSES),
            )
            .order_by(Answer.id)
            .with_for_update()
        )
    )
    if not answers:
        session.rollback()
        return 0
    fitted = set(
        session.execute(
            select(ThemeAssignment.run_id, ThemeAssignment.answer_id).where(
                ThemeAssignment.answer_id.in_([a.id for a in answers]),
                ThemeAssignment.source != "transform",
            )
        ).tuples()
    )
    by_run: dict[int, tuple[ThemeRun, list[Answer]]] = {}
    for answer in answers:
        for run in latest_runs_covering(session, answer):
            if (run.id, answer.id) not in fitted:
                by_run.setdefault(run.id, (run, []))[1].append(answer)
    # The model first, then the writes: on SQLite the database is locked for writing from the
    # first write to the commit, and answers arriving meanwhile must not wait for the model.
    computed = [
        (run, placed, placements(run, placed, stored_vectors(session, placed)))
        for run, placed in by_run.values()
    ]
    for run, placed, keys_of in computed:
        store_placements(session, run, placed, keys_of)
    now = utcnow()
    for answer in answers:
        answer.themes_placed_at = now
    session.commit()
    return len(answers)


def answers_to_place(session: Session, limit: int = 500) -> list[int]:
    """Ids of the answers not placed under themes yet (oldest first) in campaigns that have
    a theme run: what the queue's catch-up task hands to :func:`place_new_answers`."""
    with_runs = select(ThemeRun.campaign_id).distinct()
    return list(
        session.scalars(
            select(Answer.id)
            .join(Wall, Answer.wall_id == Wall.id)
            .where(
                Answer.themes_placed_at.is_(None),
                Answer.status.in_(NOTE_STATUSES),
                Wall.campaign_id.in_(with_runs),
            )
            .order_by(Answer.id)
            .limit(limit)
        )
    )


def theme_members(run_id: int) -> Select[tuple[int, int, str]]:
    """(theme id, answer id, source) of a run's memberships."""
    return select(
        ThemeAssignment.theme_id, ThemeAssignment.answer_id, ThemeAssignment.source
    ).where(ThemeAssignment.run_id == run_id)


# --------------------------------------------------------------------------- relabelling

#: Terms kept per theme (the engine's top terms).
MAX_TERMS = 10


def shown_runs(session: Session, answer_ids: Iterable[int]) -> list[ThemeRun]:
    """The runs anyone is shown that took these answers in (not merely placed them on
    arrival): the latest run of each scope and a campaign's published run."""
    ids = list(answer_ids)
    if not ids:
        return []
    member_of = select(ThemeAssignment.run_id).where(
        ThemeAssignment.answer_id.in_(ids), ThemeAssignment.source != "transform"
    )
    campaigns = select(ThemeRun.campaign_id).where(ThemeRun.id.in_(member_of))
    latest = (
        select(func.max(ThemeRun.id))
        .where(ThemeRun.campaign_id.in_(campaigns))
        .group_by(ThemeRun.scope_key)
    )
    published = select(Campaign.published_run_id).where(Campaign.id.in_(campaigns))
    return list(
        session.scalars(
            select(ThemeRun)
            .where(ThemeRun.id.in_(member_of))
            .where(ThemeRun.id.in_(latest) | ThemeRun.id.in_(published))
            .order_by(ThemeRun.id)
        )
    )


def _approved_members(*columns: Any) -> Select[Any]:
    """``columns`` of a theme's members that anyone may see: approved answers placed by a run
    or by staff (not transform placements of new answers); callers add which run or themes."""
    return (
        select(*columns)
        .join(Answer, Answer.id == ThemeAssignment.answer_id)
        .where(ThemeAssignment.source != "transform", Answer.status == AnswerStatus.APPROVED)
    )


def relabel_run(session: Session, run: ThemeRun) -> None:
    """Name the run's themes anew from their approved answers as they are now (not committed).

    Terms, engine labels and sizes are recomputed; a label staff wrote stays as written. A
    label whose terms are all still among its theme's top terms does not change.
    """
    from nlp import label_groups, make_label

    scope = Scope.of_run(run)
    rows = session.execute(
        _approved_members(ThemeAssignment.theme_id, Answer.id, Answer.text)
        .where(ThemeAssignment.run_id == run.id)
        .order_by(Answer.id)
    ).tuples()
    members: dict[int, dict[int, str]] = {}
    for theme_id, answer_id, text in rows:
        members.setdefault(theme_id, {})[answer_id] = text
    themed = {a for texts in members.values() for a in texts}
    andet = [
        a.text
        for a in session.scalars(answers_to_fit(scope).where(Answer.created_at <= run.created_at))
        if a.id not in themed
    ]
    themes = list(run.themes)
    questions = list(
        dict.fromkeys(t for row in session.execute(questions_in_scope(scope)) for t in row)
    )
    terms_of = label_groups(
        [list(members.get(t.id, {}).values()) for t in themes],
        andet,
        questions=questions,
        previous=[t.auto_label or "" for t in themes],
        allow_term=allow_term,
    )
    for theme, terms in zip(themes, terms_of, strict=True):
        staff_named = not theme.auto_label or theme.label != theme.auto_label
        auto = make_label(terms)[:200]
        theme.terms = terms[:MAX_TERMS]
        theme.auto_label = auto
        if not staff_named:
            theme.label = auto
        theme.size = len(members.get(theme.id, {}))


def relabel_all_runs(session: Session) -> int:
    """Name every stored run's themes anew from their approved answers (:func:`relabel_run`)
    and commit; the number of runs. For runs built before themes were named from approved
    answers only (``flask themes relabel``, once after upgrading)."""
    runs = list(session.scalars(select(ThemeRun).order_by(ThemeRun.id)))
    for run in runs:
        relabel_run(session, run)
    session.commit()
    return len(runs)


def _words(text: str) -> set[str]:
    """The words of a text as the engine's terms spell them (lower case, normalised)."""
    from nlp import normalize_text

    normal = normalize_text(text)
    return set(re.findall(r"[\w-]+", normal)) | set(re.findall(r"\w+", normal))


def _needs_new_names(session: Session, run: ThemeRun, words: set[str]) -> bool:
    """Whether a label or term of the run has one of ``words`` that fewer than two of its
    theme's approved answers (all, when it has fewer) still use: the engine's own rule for
    a term. A term that approved answers still use may stay; one that only the removed
    text used must go."""
    from nlp.labels import LABEL_SEPARATOR

    touched: dict[int, list[set[str]]] = {}
    for theme in run.themes:
        for term in [*theme.terms, *theme.auto_label.split(LABEL_SEPARATOR)]:
            if words & set(term.split()):
                touched.setdefault(theme.id, []).append(set(term.split()))
    if not touched:
        return False
    texts: dict[int, list[set[str]]] = {theme_id: [] for theme_id in touched}
    rows = session.execute(
        _approved_members(ThemeAssignment.theme_id, Answer.text).where(
            ThemeAssignment.theme_id.in_(list(touched))
        )
    ).tuples()
    for theme_id, text in rows:
        texts[theme_id].append(_words(text))
    for theme_id, terms in touched.items():
        need = max(1, min(2, len(texts[theme_id])))
        for parts in terms:
            if sum(parts <= used for used in texts[theme_id]) < need:
                return True
    return False


def _recount(session: Session, run: ThemeRun) -> None:
    """Set each theme's size to its approved members (from the run and staff)."""
    sizes = dict(
        session.execute(
            _approved_members(ThemeAssignment.theme_id, func.count())
            .where(ThemeAssignment.run_id == run.id)
            .group_by(ThemeAssignment.theme_id)
        )
        .tuples()
        .all()
    )
    for theme in run.themes:
        theme.size = sizes.get(theme.id, 0)


def relabel_after_moderation(session: Session, removed: dict[int, str]) -> None:
    """Best effort, after a moderator hid, sent back or redacted answers (committed).

    ``removed``: answer id -> the text that left what anyone but a moderator sees (the whole
    text of a hidden answer, the redacted spans). The themes shown anywhere that took these
    answers in are named anew from the approved answers (:func:`relabel_run`) when one of
    their labels or terms has a word of that text that fewer than two approved answers of
    the theme still use, so that no word only it used stays; otherwise only their sizes are
    counted again (naming a run of thousands of answers anew takes seconds).
    Never raises: the moderation is stored, and the next run names the themes anew anyway.
    """
    try:
        words = _words(" ".join(removed.values()))
        for run in shown_runs(session, removed):
            if _needs_new_names(session, run, words):
                relabel_run(session, run)
            else:
                _recount(session, run)
        session.commit()
    except Exception:
        session.rollback()
        log.exception("could not name the themes of answers %s anew", sorted(removed))
