"""Theme curation: staff rename, describe, merge, split, move, pin, hide and exclude.

Services (verb names, a session and the acting :class:`~surveys.models.StaffUser`, scoped to
the actor's organisation, audited, committed) change two things at once:

- the latest run's stored rows (``Theme``, ``ThemeAssignment`` with source ``"staff"``,
  ``Theme.representative_ids``), so a decision shows at once;
- the scope's :class:`~surveys.models.ThemeCuration` (``nlp.Curation`` as JSON plus the
  descriptions), so that the next :func:`surveys.themes.build_themes` keeps it.

Nothing here imports Flask.
"""

from __future__ import annotations

import copy
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session

from .. import audit, campaigns
from ..errors import N_, InvalidInput, NotFound
from ..models import (
    Answer,
    AnswerStatus,
    Campaign,
    StaffUser,
    Theme,
    ThemeAssignment,
    ThemeCuration,
    ThemeRun,
    utcnow,
)
from ..text import normalise_answer
from ..themes import (
    Scope,
    answers_in_scope,
    build_themes,
    curation_for,
    latest_run,
    place_in_run,
    shows_personal_data,
)
from ..vectors import Encoder
from .explorer import (
    QUOTES_MAX,
    _memberships,
    _run,
    _theme,
    _themes_by_id,
    count_scope_answers,
    find_theme,
)

#: Fewer answers than this in a scope give no useful themes: a run is refused.
MIN_ANSWERS = 10
#: Staff may ask for this many themes (or leave it to the engine: "auto").
MIN_THEMES = 2
MAX_THEMES = 30
AUTO = "auto"
MAX_LABEL_LENGTH = 200
MAX_DESCRIPTION_LENGTH = 2000
#: At most this many quotes can be pinned on one theme.
MAX_PINNED = 5
#: Most answers one action may name.
MAX_SELECTED = 1000
MAX_TERMS = 10
STAFF = "staff"
TRANSFORM = "transform"


def _check_actor(session: Session, actor: StaffUser, scope: Scope) -> Campaign:
    return campaigns.get_campaign(session, actor.organisation_id, scope.campaign_id)


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


def curation_state(row: ThemeCuration) -> dict[str, Any]:
    """The stored curation as plain JSON (copied), for an undo step (:mod:`.undo`)."""
    return copy.deepcopy({"data": row.data or {}, "descriptions": row.descriptions or {}})


#: A theme's stored columns an undo step keeps to bring the theme back (:mod:`.undo`).
THEME_COLUMNS = tuple(c.name for c in Theme.__table__.columns if c.name not in ("id", "run_id"))


def theme_row(theme: Theme) -> dict[str, Any]:
    """The theme's stored columns as plain JSON (copied)."""
    return copy.deepcopy({name: getattr(theme, name) for name in THEME_COLUMNS})


# --------------------------------------------------------------------------- stored rows


def _refresh(session: Session, run: ThemeRun, themes: Iterable[Theme]) -> None:
    """Recount sizes (approved members from the run and staff, not new arrivals)."""
    session.flush()
    for theme in themes:
        theme.size = (
            session.scalar(
                select(func.count())
                .select_from(ThemeAssignment)
                .join(Answer, Answer.id == ThemeAssignment.answer_id)
                .where(
                    ThemeAssignment.theme_id == theme.id,
                    ThemeAssignment.source != TRANSFORM,
                    Answer.status == AnswerStatus.APPROVED,
                )
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
        audit.commit_change(
            self.session,
            organisation_id=self.campaign.organisation_id,
            actor=self.actor,
            action=action,
            target_type="theme" if theme is not None else "theme_run",
            target_id=theme.id if theme is not None else (run.id if run is not None else None),
            before=before,
            after={**details, **(after or {})},
        )


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
    if shows_personal_data(text):
        raise InvalidInput(
            N_(
                "The name looks like it contains personal data (a name, a number or an "
                "address). Write it without."
            ),
            code="label_personal_data",
        )
    return text


def clean_label(label: str) -> str:
    """A theme name as staff wrote it, normalised; :class:`InvalidInput` when it is empty,
    too long or shows personal data (the publishing review checks names with it)."""
    return _clean_label(label)


# --------------------------------------------------------------------------- services


def run_themes(
    session: Session,
    actor: StaffUser,
    scope: Scope,
    *,
    n_themes: int | str = "auto",
    seed: int = 0,
    encoder: Encoder | None = None,
) -> ThemeRun:
    """Run the theme engine over the scope now (keeping every curation); audited. With an
    ``encoder``, the answers' semantic vectors take part (``surveys.vectors``)."""
    change = _Change.begin(session, actor, scope)
    ensure_enough_answers(session, scope)
    run = build_themes(session, scope, n_themes=n_themes, seed=seed, encoder=encoder)
    change.commit(
        "theme.run", None, after={"answers": run.n_answers, "themes": len(run.themes)}, run=run
    )
    return run


def theme_count(value: str | None) -> int | str:
    """The number of themes staff asked for: ``"auto"`` (empty or "auto") or a whole number
    from ``MIN_THEMES`` to ``MAX_THEMES``; :class:`InvalidInput` for anything else."""
    text = (value or "").strip()
    if text in ("", AUTO):
        return AUTO
    if text.isascii() and text.isdecimal() and len(text) < 4:
        number = int(text)
        if MIN_THEMES <= number <= MAX_THEMES:
            return number
    raise InvalidInput(
        N_("Choose automatic or a number of themes from %(min)d to %(max)d."),
        code="bad_theme_count",
        min=MIN_THEMES,
        max=MAX_THEMES,
    )


def ensure_enough_answers(session: Session, scope: Scope) -> int:
    """How many answers a run of the scope would cluster; :class:`InvalidInput` when they
    are too few for themes to be useful."""
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
    return count


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
    if shows_personal_data(text):
        raise InvalidInput(
            N_(
                "The description looks like it contains personal data (a name, a number or an "
                "address). Write it without."
            ),
            code="description_personal_data",
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
    curation_before = curation_state(edit.row)
    members: dict[int, list[list[Any]]] = {t.id: [] for t in others}
    for theme_id, answer_id, source in session.execute(
        select(ThemeAssignment.theme_id, ThemeAssignment.answer_id, ThemeAssignment.source)
        .where(ThemeAssignment.theme_id.in_(list(members)))
        .order_by(ThemeAssignment.answer_id)
    ):
        members[theme_id].append([answer_id, source])
    restore: dict[str, Any] = {
        "run": run.id,
        "survivor": {
            "terms": list(survivor.terms or []),
            "representative_ids": list(survivor.representative_ids or []),
        },
        "themes": [{**theme_row(t), "members": members[t.id]} for t in others],
    }

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
    for other_key in others_keys:
        edit.renamed.pop(other_key, None)
        edit.descriptions.pop(other_key, None)
        edit.hidden = [t for t in edit.hidden if t != other_key]
        for a in edit.split.pop(other_key, []):
            edit.moved[a] = key
        pins.extend(a for a in edit.pinned.pop(other_key, []) if a not in pins)
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
    restore["joined"] = sorted(joined)
    restore["curation"] = [curation_before, curation_state(edit.row)]
    change.commit(
        "theme.merge",
        survivor,
        before={"themes": [key, *others_keys], "restore": restore},
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
    by_id = _themes_by_id(run)
    restore: dict[str, Any] = {
        "run": run.id,
        "theme": new_key,
        "source": source.key,
        "memberships": [
            [answer_id, by_id[theme_id].key, origin]
            for theme_id, answer_id, origin in session.execute(
                select(ThemeAssignment.theme_id, ThemeAssignment.answer_id, ThemeAssignment.source)
                .where(ThemeAssignment.run_id == run.id, ThemeAssignment.answer_id.in_(ids))
                .order_by(ThemeAssignment.answer_id)
            )
            if theme_id in by_id
        ],
        "representatives": {
            t.key: list(t.representative_ids)
            for t in run.themes
            if set(ids) & set(t.representative_ids or [])
        },
    }
    curation_before = curation_state(edit.row)
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
    _refresh(session, run, [by_id[t] for t in touched if t in by_id] + [theme])
    restore["curation"] = [curation_before, curation_state(edit.row)]
    change.commit(
        "theme.split",
        theme,
        before={"restore": restore},
        after={"from": source.key, "label": text, "answers": sorted(ids)},
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
