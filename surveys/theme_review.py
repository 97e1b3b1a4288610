"""Theme review: staff explore a scope's themes and curate them.

Services (verb names, a session and the acting :class:`~surveys.models.StaffUser`, scoped to
the actor's organisation, audited, committed) change two things at once:

- the latest run's stored rows (``Theme``, ``ThemeAssignment`` with source ``"staff"``,
  ``Theme.representative_ids``), so a decision shows at once;
- the scope's :class:`~surveys.models.ThemeCuration` (``nlp.Curation`` as JSON plus the
  descriptions), so that the next :func:`surveys.themes.build_themes` keeps it.

Read models shape a run for the explorer pages: themes with counts of approved answers
(:func:`surveys.insights.theme_counts`), quotes (pinned first, approved only, through
:func:`surveys.export.safe_text`), a theme's answers page by page, and the answers that
arrived after the run ("nye svar"). Nothing here imports Flask.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import Select, case, delete, func, select
from sqlalchemy.orm import Session

from . import audit, campaigns
from .errors import N_, InvalidInput, NotFound
from .export import safe_text
from .filters import AnswerFilter
from .insights import APPROVED_ONLY, ThemeCount, ThemeCounts, scoped_answer_ids, theme_counts
from .models import (
    Answer,
    AnswerStatus,
    Campaign,
    StaffUser,
    Theme,
    ThemeAssignment,
    ThemeCuration,
    ThemeRun,
    Wall,
    utcnow,
)
from .text import normalise_answer
from .themes import (
    Scope,
    answers_in_scope,
    build_themes,
    curation_for,
    latest_run,
    place_in_run,
    resolve_scope,
)

#: Fewer answers than this in a scope give no useful themes: a run is refused.
MIN_ANSWERS = 10
MAX_LABEL_LENGTH = 200
MAX_DESCRIPTION_LENGTH = 2000
#: At most this many quotes can be pinned on one theme.
MAX_PINNED = 5
#: Quotes shown per theme in the explorer.
QUOTES_MIN, QUOTES_MAX = 3, 5
#: Most answers one action may name.
MAX_SELECTED = 1000
#: Answers arrived after the run listed in the explorer.
NEW_ANSWERS_SHOWN = 20
MAX_TERMS = 10
STAFF = "staff"
TRANSFORM = "transform"
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


def _check_actor(session: Session, actor: StaffUser, scope: Scope) -> Campaign:
    return campaigns.get_campaign(session, actor.organisation_id, scope.campaign_id)


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


def _unique_ids(answer_ids: Iterable[int]) -> list[int]:
    ids = list(dict.fromkeys(int(a) for a in answer_ids))
    if not ids:
        raise InvalidInput(N_("Choose the answers first."), code="no_answers")
    if len(ids) > MAX_SELECTED:
        raise InvalidInput(
            N_("Choose at most %(num)d answers at a time."), code="too_many", num=MAX_SELECTED
        )
    return ids


def _scope_answers(session: Session, scope: Scope, answer_ids: Iterable[int]) -> list[Answer]:
    """The answers, all of which must be in the scope (not hidden by a moderator)."""
    ids = _unique_ids(answer_ids)
    found = list(session.scalars(answers_in_scope(scope).where(Answer.id.in_(ids))))
    if len(found) != len(ids):
        raise NotFound(N_("This answer is not part of these themes."), code="answer_not_found")
    return found


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


# --------------------------------------------------------------------------- curation state


@dataclass
class _Edit:
    """The scope's stored curation being edited, as a plain ``nlp.Curation``-shaped dict."""

    row: ThemeCuration
    renamed: dict[str, str]
    merged: list[list[str]]
    split: dict[str, list[str]]
    moved: dict[str, str]
    pinned: dict[str, list[str]]
    excluded: list[str]
    hidden: list[str]
    descriptions: dict[str, str]

    @classmethod
    def of(cls, session: Session, scope: Scope) -> _Edit:
        from nlp import Curation

        row = curation_for(session, scope)
        cur = Curation.from_dict(row.data or {})
        return cls(
            row=row,
            renamed=dict(cur.renamed),
            merged=[list(g) for g in cur.merged],
            split={k: list(v) for k, v in cur.split.items()},
            moved=dict(cur.moved),
            pinned={k: list(v) for k, v in cur.pinned.items()},
            excluded=list(cur.excluded),
            hidden=list(cur.hidden),
            descriptions={str(k): str(v) for k, v in (row.descriptions or {}).items()},
        )

    def save(self) -> None:
        """Write back (new objects, so the JSON columns are seen as changed)."""
        self.row.data = {
            "renamed": dict(self.renamed),
            "merged": [list(g) for g in self.merged if len(g) > 1],
            "split": {k: list(v) for k, v in self.split.items() if v},
            "moved": dict(self.moved),
            "pinned": {k: list(v) for k, v in self.pinned.items() if v},
            "excluded": list(self.excluded),
            "hidden": list(self.hidden),
        }
        self.row.descriptions = dict(self.descriptions)
        self.row.updated_at = utcnow()

    def forget_answers(self, ids: Iterable[str], keep_pin_in: str | None = None) -> None:
        """Drop earlier placements of these answers (moved, split, excluded, other pins)."""
        gone = set(ids)
        for a in gone:
            self.moved.pop(a, None)
        for key in list(self.split):
            self.split[key] = [a for a in self.split[key] if a not in gone]
        for key in list(self.pinned):
            if key != keep_pin_in:
                self.pinned[key] = [a for a in self.pinned[key] if a not in gone]
        self.excluded = [a for a in self.excluded if a not in gone]


def pinned_ids(session: Session, scope: Scope) -> dict[str, list[int]]:
    """Theme key -> answer ids staff pinned as the theme's quotes, in their order."""
    row = session.scalars(select(ThemeCuration).where(ThemeCuration.scope_key == scope.key)).first()
    pinned = ((row.data or {}).get("pinned") or {}) if row else {}
    return {str(k): [int(a) for a in v] for k, v in pinned.items()}


def excluded_ids(session: Session, scope: Scope) -> list[int]:
    """Answers staff marked "not a theme" in the scope."""
    row = session.scalars(select(ThemeCuration).where(ThemeCuration.scope_key == scope.key)).first()
    return [int(a) for a in ((row.data or {}).get("excluded") or [])] if row else []


# --------------------------------------------------------------------------- stored rows


def _refresh(session: Session, run: ThemeRun, themes: Iterable[Theme]) -> None:
    """Recount sizes (memberships from the run and staff, not new arrivals)."""
    session.flush()
    for theme in themes:
        theme.size = (
            session.scalar(
                select(func.count())
                .select_from(ThemeAssignment)
                .where(ThemeAssignment.theme_id == theme.id, ThemeAssignment.source != TRANSFORM)
            )
            or 0
        )


def _drop_memberships(session: Session, run: ThemeRun, answer_ids: Sequence[int]) -> set[int]:
    """Delete the answers' memberships in the run; the theme ids they were in."""
    before = _memberships(session, run, answer_ids)
    session.execute(
        delete(ThemeAssignment).where(
            ThemeAssignment.run_id == run.id, ThemeAssignment.answer_id.in_(list(answer_ids))
        )
    )
    return set().union(*before.values()) if before else set()


def _add_memberships(
    session: Session, run: ThemeRun, theme: Theme, answer_ids: Sequence[int]
) -> None:
    now = utcnow()
    session.add_all(
        ThemeAssignment(theme_id=theme.id, answer_id=a, run_id=run.id, source=STAFF, created_at=now)
        for a in answer_ids
    )


def _strip_representatives(
    run: ThemeRun, answer_ids: Iterable[int], keep: Theme | None = None
) -> None:
    gone = set(answer_ids)
    for theme in run.themes:
        if theme is not keep and gone & set(theme.representative_ids or []):
            theme.representative_ids = [a for a in theme.representative_ids if a not in gone]


def _pins_first(theme: Theme, pins: Sequence[int]) -> None:
    rest = [a for a in theme.representative_ids or [] if a not in pins]
    theme.representative_ids = list(pins) + rest


def _themes_by_id(run: ThemeRun) -> dict[int, Theme]:
    return {t.id: t for t in run.themes}


@dataclass(frozen=True)
class _Change:
    """A change by ``actor`` in ``scope``: campaign checked first, audited and committed last."""

    session: Session
    actor: StaffUser
    scope: Scope
    campaign: Campaign

    @classmethod
    def begin(cls, session: Session, actor: StaffUser, scope: Scope) -> _Change:
        """The change, once the scope's campaign is the actor's (:class:`NotFound` otherwise)."""
        return cls(session, actor, scope, _check_actor(session, actor, scope))

    def commit(
        self,
        action: str,
        theme: Theme | None,
        *,
        before: dict[str, Any] | None = None,
        after: dict[str, Any] | None = None,
        run: ThemeRun | None = None,
    ) -> None:
        """Audit the change (its target: ``theme``, else ``run``) and commit it."""
        details = {"scope": self.scope.key}
        if theme is not None:
            details["theme"] = theme.key
        audit.record(
            self.session,
            organisation_id=self.campaign.organisation_id,
            actor=self.actor,
            action=action,
            target_type="theme" if theme is not None else "theme_run",
            target_id=theme.id if theme is not None else (run.id if run is not None else None),
            before=before,
            after={**details, **(after or {})},
        )
        self.session.commit()


def _clean_label(label: str) -> str:
    text = normalise_answer(label or "").replace("\n", " ")
    if not text:
        raise InvalidInput(N_("Write a name for the theme."), code="label_empty")
    if len(text) > MAX_LABEL_LENGTH:
        raise InvalidInput(
            N_("The name can be at most %(num)d characters."),
            code="label_too_long",
            num=MAX_LABEL_LENGTH,
        )
    return text


# --------------------------------------------------------------------------- services


def count_scope_answers(session: Session, scope: Scope) -> int:
    """How many answers a run of the scope would cluster."""
    stmt = answers_in_scope(scope).order_by(None).with_only_columns(func.count(Answer.id))
    return session.scalar(stmt) or 0


def run_themes(
    session: Session,
    actor: StaffUser,
    scope: Scope,
    *,
    n_themes: int | str = "auto",
    seed: int = 0,
) -> ThemeRun:
    """Run the theme engine over the scope now (keeping every curation); audited."""
    change = _Change.begin(session, actor, scope)
    count = count_scope_answers(session, scope)
    if count < MIN_ANSWERS:
        raise InvalidInput(
            N_(
                "There are only %(num)d answers here. The themes need at least %(min)d answers "
                "to be useful."
            ),
            code="too_few_answers",
            num=count,
            min=MIN_ANSWERS,
        )
    run = build_themes(session, scope, n_themes=n_themes, seed=seed)
    change.commit(
        "theme.run", None, after={"answers": run.n_answers, "themes": len(run.themes)}, run=run
    )
    return run


def rename_theme(session: Session, actor: StaffUser, scope: Scope, key: str, label: str) -> Theme:
    """Give a theme the name staff wrote (kept verbatim by every re-run)."""
    change = _Change.begin(session, actor, scope)
    _, theme = find_theme(session, scope, key)
    text = _clean_label(label)
    edit = _Edit.of(session, scope)
    before = theme.label
    edit.renamed[theme.key] = text
    theme.label = text
    edit.save()
    change.commit("theme.rename", theme, before={"label": before}, after={"label": text})
    return theme


def describe_theme(
    session: Session, actor: StaffUser, scope: Scope, key: str, description: str
) -> Theme:
    """Write (or, with an empty text, remove) the short description of a theme."""
    change = _Change.begin(session, actor, scope)
    _, theme = find_theme(session, scope, key)
    text = normalise_answer(description or "")
    if len(text) > MAX_DESCRIPTION_LENGTH:
        raise InvalidInput(
            N_("The description can be at most %(num)d characters."),
            code="description_too_long",
            num=MAX_DESCRIPTION_LENGTH,
        )
    edit = _Edit.of(session, scope)
    before = theme.description
    if text:
        edit.descriptions[theme.key] = text
    else:
        edit.descriptions.pop(theme.key, None)
    theme.description = text
    edit.save()
    change.commit(
        "theme.describe", theme, before={"description": before or ""}, after={"description": text}
    )
    return theme


def merge_themes(
    session: Session, actor: StaffUser, scope: Scope, key: str, other_keys: Sequence[str]
) -> Theme:
    """Merge the other themes into theme ``key``, which keeps its key, name and description."""
    change = _Change.begin(session, actor, scope)
    run, survivor = find_theme(session, scope, key)
    others_keys = list(dict.fromkeys(k for k in other_keys if k))
    if not others_keys:
        raise InvalidInput(N_("Choose the theme to merge with."), code="no_theme")
    if key in others_keys:
        raise InvalidInput(N_("A theme cannot be merged with itself."), code="merge_self")
    others = [_theme(run, k) for k in others_keys]
    edit = _Edit.of(session, scope)

    # The curation: one merge group per survivor, references to the others point to it.
    group = [key]
    kept_groups: list[list[str]] = []
    for g in edit.merged:
        if g and (g[0] == key or g[0] in others_keys):
            group.extend(t for t in g if t not in group)
        else:
            kept_groups.append(g)
    group.extend(k for k in others_keys if k not in group)
    edit.merged = [*kept_groups, group]
    pins = list(edit.pinned.get(key, []))
    for other in others_keys:
        edit.renamed.pop(other, None)
        edit.descriptions.pop(other, None)
        edit.hidden = [t for t in edit.hidden if t != other]
        for a in edit.split.pop(other, []):
            edit.moved[a] = key
        pins.extend(a for a in edit.pinned.pop(other, []) if a not in pins)
    edit.moved = {a: (key if t in others_keys else t) for a, t in edit.moved.items()}
    if pins:
        edit.pinned[key] = pins[:MAX_PINNED]
    edit.save()

    # The stored run: the others' answers join the survivor; the others disappear.
    other_ids = [t.id for t in others]
    rows = list(
        session.execute(
            select(ThemeAssignment.answer_id, ThemeAssignment.source).where(
                ThemeAssignment.run_id == run.id, ThemeAssignment.theme_id.in_(other_ids)
            )
        ).tuples()
    )
    present = set(
        session.scalars(
            select(ThemeAssignment.answer_id).where(ThemeAssignment.theme_id == survivor.id)
        )
    )
    session.execute(delete(ThemeAssignment).where(ThemeAssignment.theme_id.in_(other_ids)))
    joined: dict[int, str] = {}
    for answer_id, source in rows:
        if answer_id not in present:
            joined[answer_id] = TRANSFORM if source == TRANSFORM else STAFF
    session.add_all(
        ThemeAssignment(theme_id=survivor.id, answer_id=a, run_id=run.id, source=s)
        for a, s in joined.items()
    )
    reps = list(survivor.representative_ids or [])
    terms = list(survivor.terms or [])
    for other in others:
        reps.extend(a for a in other.representative_ids or [] if a not in reps)
        terms.extend(t for t in other.terms or [] if t not in terms)
    survivor.terms = terms[:MAX_TERMS]
    pinned_now = [int(a) for a in edit.pinned.get(key, [])]
    survivor.representative_ids = pinned_now + [a for a in reps if a not in pinned_now][:QUOTES_MAX]
    for other in others:
        run.themes.remove(other)
    _refresh(session, run, [survivor])
    change.commit(
        "theme.merge",
        survivor,
        before={"themes": [key, *others_keys]},
        after={"merged": others_keys, "size": survivor.size},
    )
    return survivor


def split_theme(
    session: Session,
    actor: StaffUser,
    scope: Scope,
    key: str,
    answer_ids: Iterable[int],
    label: str,
) -> Theme:
    """Take chosen answers of theme ``key`` into a new theme called ``label``."""
    from nlp import fresh_theme_id

    change = _Change.begin(session, actor, scope)
    run, source = find_theme(session, scope, key)
    text = _clean_label(label)
    answers = _scope_answers(session, scope, answer_ids)
    ids = [a.id for a in answers]
    members = set(
        session.scalars(
            select(ThemeAssignment.answer_id).where(ThemeAssignment.theme_id == source.id)
        )
    )
    if not set(ids) <= members:
        raise InvalidInput(
            N_("Only answers of this theme can be split off."), code="answer_not_in_theme"
        )
    if set(ids) == members:
        raise InvalidInput(
            N_("Leave at least one answer in the theme (or rename it instead)."),
            code="split_everything",
        )
    edit = _Edit.of(session, scope)
    taken = set(
        session.scalars(select(Theme.key).join(ThemeRun).where(ThemeRun.scope_key == scope.key))
    )
    taken |= {t.key for t in run.themes} | set(edit.renamed) | set(edit.split) | set(edit.pinned)
    taken |= set(edit.moved.values()) | set(edit.hidden) | {t for g in edit.merged for t in g}
    new_key = fresh_theme_id(taken)
    str_ids = [str(a) for a in ids]
    edit.forget_answers(str_ids)
    edit.split[new_key] = str_ids
    edit.renamed[new_key] = text
    edit.save()

    touched = _drop_memberships(session, run, ids)
    approved = [a.id for a in answers if a.status is AnswerStatus.APPROVED]
    theme = Theme(
        key=new_key,
        position=max((t.position for t in run.themes), default=-1) + 1,
        label=text,
        auto_label="",
        description="",
        terms=[],
        size=len(ids),
        representative_ids=approved[:4],
        hidden=False,
    )
    run.themes.append(theme)
    session.flush()
    _add_memberships(session, run, theme, ids)
    _strip_representatives(run, ids, keep=theme)
    by_id = _themes_by_id(run)
    _refresh(session, run, [by_id[t] for t in touched if t in by_id] + [theme])
    change.commit(
        "theme.split", theme, after={"from": source.key, "label": text, "answers": sorted(ids)}
    )
    return theme


def move_answers(
    session: Session, actor: StaffUser, scope: Scope, answer_ids: Iterable[int], target_key: str
) -> Theme:
    """Put answers in theme ``target_key`` (their only theme from now on)."""
    change = _Change.begin(session, actor, scope)
    run, target = find_theme(session, scope, target_key)
    answers = _scope_answers(session, scope, answer_ids)
    ids = [a.id for a in answers]
    by_id = _themes_by_id(run)
    before = _memberships(session, run, ids)
    edit = _Edit.of(session, scope)
    str_ids = [str(a) for a in ids]
    edit.forget_answers(str_ids, keep_pin_in=target.key)
    for a in str_ids:
        edit.moved[a] = target.key
    edit.save()

    touched = _drop_memberships(session, run, ids)
    _add_memberships(session, run, target, ids)
    _strip_representatives(run, ids, keep=target)
    _refresh(session, run, [by_id[t] for t in touched if t in by_id] + [target])
    change.commit(
        "theme.move",
        target,
        before={
            "answers": {str(a): sorted(by_id[t].key for t in before[a] if t in by_id) for a in ids}
        },
        after={"answers": sorted(ids)},
    )
    return target


def pin_quote(session: Session, actor: StaffUser, scope: Scope, key: str, answer_id: int) -> Theme:
    """Pin an approved answer of the theme as one of its quotes (shown first)."""
    change = _Change.begin(session, actor, scope)
    run, theme = find_theme(session, scope, key)
    (answer,) = _scope_answers(session, scope, [answer_id])
    if theme.id not in _memberships(session, run, [answer.id])[answer.id]:
        raise InvalidInput(N_("Only answers of this theme can be its quotes."), code="not_member")
    if answer.status is not AnswerStatus.APPROVED:
        raise InvalidInput(N_("Only approved answers can be quotes."), code="not_approved")
    edit = _Edit.of(session, scope)
    pins = edit.pinned.setdefault(theme.key, [])
    if str(answer.id) not in pins:
        if len(pins) >= MAX_PINNED:
            raise InvalidInput(
                N_("A theme can have at most %(num)d pinned quotes."),
                code="too_many_pins",
                num=MAX_PINNED,
            )
        pins.append(str(answer.id))
    edit.save()
    _pins_first(theme, [int(a) for a in pins])
    change.commit("theme.pin", theme, after={"answer": answer.id, "pinned": [int(a) for a in pins]})
    return theme


def unpin_quote(
    session: Session, actor: StaffUser, scope: Scope, key: str, answer_id: int
) -> Theme:
    """Take a pinned quote off the theme (the answer stays in the theme)."""
    change = _Change.begin(session, actor, scope)
    _, theme = find_theme(session, scope, key)
    edit = _Edit.of(session, scope)
    pins = edit.pinned.get(theme.key, [])
    if str(answer_id) not in pins:
        raise InvalidInput(N_("This answer is not a pinned quote."), code="not_pinned")
    edit.pinned[theme.key] = [a for a in pins if a != str(answer_id)]
    edit.save()
    theme.representative_ids = [a for a in theme.representative_ids or [] if a != answer_id]
    change.commit(
        "theme.unpin",
        theme,
        after={"answer": answer_id, "pinned": [int(a) for a in edit.pinned[theme.key]]},
    )
    return theme


def set_theme_hidden(
    session: Session, actor: StaffUser, scope: Scope, key: str, hidden: bool
) -> Theme:
    """Hide a theme from counts and reports (it keeps its key and answers), or show it again."""
    change = _Change.begin(session, actor, scope)
    _, theme = find_theme(session, scope, key)
    edit = _Edit.of(session, scope)
    edit.hidden = [t for t in edit.hidden if t != theme.key] + ([theme.key] if hidden else [])
    edit.save()
    before = theme.hidden
    theme.hidden = hidden
    change.commit(
        "theme.hide" if hidden else "theme.unhide",
        theme,
        before={"hidden": before},
        after={"hidden": hidden},
    )
    return theme


def exclude_answers(
    session: Session, actor: StaffUser, scope: Scope, answer_ids: Iterable[int]
) -> int:
    """Mark answers "not a theme": they leave every theme and stay out of clustering."""
    change = _Change.begin(session, actor, scope)
    run = _run(session, scope)
    answers = _scope_answers(session, scope, answer_ids)
    ids = [a.id for a in answers]
    edit = _Edit.of(session, scope)
    str_ids = [str(a) for a in ids]
    edit.forget_answers(str_ids)
    edit.excluded.extend(str_ids)
    edit.save()
    by_id = _themes_by_id(run)
    touched = _drop_memberships(session, run, ids)
    _strip_representatives(run, ids)
    _refresh(session, run, [by_id[t] for t in touched if t in by_id])
    change.commit(
        "theme.exclude",
        None,
        before={"themes": sorted(by_id[t].key for t in touched if t in by_id)},
        after={"answers": sorted(ids)},
        run=run,
    )
    return len(ids)


def include_answers(
    session: Session, actor: StaffUser, scope: Scope, answer_ids: Iterable[int]
) -> int:
    """Undo "not a theme": the answers go back under the themes where the run's model
    places them (as new answers are on arrival), and take part in the next run again."""
    change = _Change.begin(session, actor, scope)
    ids = _unique_ids(answer_ids)
    edit = _Edit.of(session, scope)
    wanted = {str(a) for a in ids}
    if not wanted <= set(edit.excluded):
        raise NotFound(N_("This answer is not marked as not a theme."), code="answer_not_excluded")
    edit.excluded = [a for a in edit.excluded if a not in wanted]
    edit.save()
    run = latest_run(session, scope.key)
    if run is not None:  # answers hidden by a moderator since stay out of the themes
        shown = session.scalars(answers_in_scope(scope).where(Answer.id.in_(ids))).all()
        place_in_run(session, run, list(shown))
    change.commit("theme.include", None, after={"answers": sorted(ids)}, run=run)
    return len(ids)


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
    in_run = answers_in_scope(scope).where(Answer.created_at <= run.created_at)
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
    order = [Answer.created_at.desc(), Answer.id.desc()]
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
        stmt.where(Answer.status.in_(statuses), Answer.status != AnswerStatus.HIDDEN)
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
