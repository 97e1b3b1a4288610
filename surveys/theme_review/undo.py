"""Undo of a merge or a split in the theme explorer.

Every merge and split is audited (``theme.merge``, ``theme.split``) with what it takes to undo
it in the entry's ``before["restore"]`` (:mod:`.curation`): the run, the scope's curation
before and after the step, and the stored rows the step changed. These entries are the
scope's curation steps (:func:`curation_steps`). :func:`undo_step` undoes the newest step not
undone yet, in the latest run only (running the themes again starts afresh), audited as
``theme.undo``: the themes come back with their names, members and quotes as before.

Later changes win: an answer moved (or marked "not a theme") after the step stays where staff
put it, and only what the step itself changed in the curation is turned back.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from ..errors import N_, InvalidInput, NotFound
from ..models import AuditEntry, StaffUser, Theme, ThemeAssignment, ThemeRun, utcnow
from ..themes import Scope, curation_for, latest_run
from .curation import STAFF, THEME_COLUMNS, _Change, _refresh
from .explorer import _run, _theme, pinned_ids

MERGE = "theme.merge"
SPLIT = "theme.split"
UNDO = "theme.undo"


@dataclass(frozen=True)
class CurationStep:
    """A merge or split of the latest run, as the explorer lists it."""

    id: int  # the audit entry's
    action: str  # MERGE or SPLIT
    created_at: datetime
    actor_email: str
    #: Merge: the theme kept, then the themes merged into it. Split: the theme, then the new one.
    labels: list[str]
    #: The keys of those themes, in the same order.
    keys: list[str]
    undone: bool
    #: The newest step not undone: the one :func:`undo_step` undoes.
    can_undo: bool


def _entries(session: Session, organisation_id: int, scope: Scope, run: ThemeRun) -> list[Any]:
    """The audit entries of the run's merges, splits and undos, newest first."""
    rows = session.scalars(
        select(AuditEntry)
        .where(
            AuditEntry.organisation_id == organisation_id,
            AuditEntry.action.in_([MERGE, SPLIT, UNDO]),
            AuditEntry.created_at >= run.created_at,
        )
        .order_by(AuditEntry.id.desc())
    )
    out = []
    for entry in rows:
        after = entry.after or {}
        if after.get("scope") != scope.key:
            continue
        restore = (entry.before or {}).get("restore") or {}
        if (after.get("run") if entry.action == UNDO else restore.get("run")) == run.id:
            out.append(entry)
    return out


def _themes(entry: AuditEntry, run: ThemeRun) -> tuple[list[str], list[str]]:
    """The labels and keys of the step's themes (see :class:`CurationStep`)."""
    current = {t.key: t.label for t in run.themes}
    restore = (entry.before or {})["restore"]
    after = entry.after or {}
    if entry.action == MERGE:
        kept = str(after.get("theme", ""))
        labels = [current.get(kept, kept), *(str(t["label"]) for t in restore["themes"])]
        return labels, [kept, *(str(t["key"]) for t in restore["themes"])]
    source = str(restore["source"])
    labels = [current.get(source, source), str(after.get("label", ""))]
    return labels, [source, str(restore["theme"])]


def curation_steps(
    session: Session, organisation_id: int, scope: Scope, limit: int = 10
) -> list[CurationStep]:
    """The merges and splits of the scope's latest run, newest first (at most ``limit``)."""
    run = latest_run(session, scope.key)
    if run is None:
        return []
    entries = _entries(session, organisation_id, scope, run)
    undone = {(e.after or {}).get("step") for e in entries if e.action == UNDO}
    steps: list[CurationStep] = []
    newest_found = False
    for entry in entries:
        if entry.action == UNDO:
            continue
        is_undone = entry.id in undone
        can_undo = not is_undone and not newest_found
        newest_found = newest_found or not is_undone
        labels, keys = _themes(entry, run)
        steps.append(
            CurationStep(
                id=entry.id,
                action=entry.action,
                created_at=entry.created_at,
                actor_email=entry.actor_email,
                labels=labels,
                keys=keys,
                undone=is_undone,
                can_undo=can_undo,
            )
        )
    return steps[:limit]


# --------------------------------------------------------------------------- the curation


def _turn_back_dict(before: dict[str, Any], after: dict[str, Any], now: dict[str, Any]) -> dict:
    """``now`` with each key the step changed set back, unless it was changed again since."""
    out = dict(now)
    for key in set(before) | set(after):
        if before.get(key) != after.get(key) and now.get(key) == after.get(key):
            if key in before:
                out[key] = before[key]
            else:
                out.pop(key, None)
    return out


def _turn_back_list(before: list[Any], after: list[Any], now: list[Any]) -> list[Any]:
    """``now`` without the items the step added and with the items it removed."""
    added = [item for item in after if item not in before]
    out = [item for item in now if item not in added]
    out.extend(item for item in before if item not in after and item not in out)
    return out


def _turn_back(before: dict[str, Any], after: dict[str, Any], now: dict[str, Any]) -> dict:
    """The stored curation (``nlp.Curation`` as JSON) with the step's changes turned back."""
    out = dict(now)
    for name in set(before) | set(after):
        old, new = before.get(name), after.get(name)
        if old == new:
            continue
        if isinstance(old, dict) or isinstance(new, dict):
            out[name] = _turn_back_dict(old or {}, new or {}, now.get(name) or {})
        else:
            out[name] = _turn_back_list(old or [], new or [], now.get(name) or [])
    return out


def _restore_curation(session: Session, scope: Scope, restore: dict[str, Any]) -> None:
    before, after = restore["curation"]
    row = curation_for(session, scope)
    row.data = _turn_back(before["data"], after["data"], row.data or {})
    row.descriptions = _turn_back_dict(
        before["descriptions"], after["descriptions"], row.descriptions or {}
    )
    row.updated_at = utcnow()


def _forget_theme(session: Session, scope: Scope, key: str, instead: str | None) -> None:
    """Take a theme that is gone out of the curation (answers moved to it go to ``instead``)."""
    row = curation_for(session, scope)
    data = dict(row.data or {})
    moved = {a: t for a, t in (data.get("moved") or {}).items()}
    data["moved"] = {
        a: (instead if t == key else t) for a, t in moved.items() if instead or t != key
    }
    for name in ("renamed", "split", "pinned"):
        data[name] = {k: v for k, v in (data.get(name) or {}).items() if k != key}
    data["hidden"] = [t for t in data.get("hidden") or [] if t != key]
    row.data = data
    row.descriptions = {k: v for k, v in (row.descriptions or {}).items() if k != key}


# --------------------------------------------------------------------------- the stored rows


def _members(session: Session, theme: Theme) -> set[int]:
    return set(
        session.scalars(
            select(ThemeAssignment.answer_id).where(ThemeAssignment.theme_id == theme.id)
        )
    )


def _quotes(theme: Theme, pins: list[int], wanted: list[int], members: set[int]) -> None:
    """The theme's quotes: its pins first, then ``wanted``, members only."""
    first = [a for a in pins if a in members]
    theme.representative_ids = first + [a for a in wanted if a in members and a not in first]


def _undo_merge(session: Session, scope: Scope, run: ThemeRun, entry: AuditEntry) -> Theme:
    restore = (entry.before or {})["restore"]
    survivor = _theme(run, str((entry.after or {})["theme"]))
    taken = {t.key for t in run.themes}
    if any(row["key"] in taken for row in restore["themes"]):
        raise InvalidInput(N_("This step can no longer be undone."), code="undo_conflict")
    in_survivor = _members(session, survivor)
    _restore_curation(session, scope, restore)
    session.flush()
    pins = pinned_ids(session, scope)
    restored: list[Theme] = []
    for row in restore["themes"]:
        theme = Theme(**{name: row[name] for name in THEME_COLUMNS if name in row})
        run.themes.append(theme)
        session.flush()
        back = [(a, source) for a, source in row["members"] if a in in_survivor]
        session.add_all(
            ThemeAssignment(theme_id=theme.id, answer_id=a, run_id=run.id, source=source)
            for a, source in back
        )
        _quotes(theme, pins.get(theme.key, []), row["representative_ids"], {a for a, _ in back})
        restored.append(theme)
    joined = [a for a in restore["joined"] if a in in_survivor]
    if joined:
        session.execute(
            delete(ThemeAssignment).where(
                ThemeAssignment.theme_id == survivor.id, ThemeAssignment.answer_id.in_(joined)
            )
        )
    survivor.terms = list(restore["survivor"]["terms"])
    kept = in_survivor - set(joined)
    _quotes(survivor, pins.get(survivor.key, []), restore["survivor"]["representative_ids"], kept)
    _refresh(session, run, [survivor, *restored])
    return survivor


def _undo_split(session: Session, scope: Scope, run: ThemeRun, entry: AuditEntry) -> Theme | None:
    restore = (entry.before or {})["restore"]
    theme = _theme(run, str(restore["theme"]))
    by_key = {t.key: t for t in run.themes if t is not theme}
    source = by_key.get(str(restore["source"]))
    places: dict[int, list[tuple[Theme, str]]] = {}
    for answer_id, key, origin in restore["memberships"]:
        if key in by_key:
            places.setdefault(answer_id, []).append((by_key[key], origin))
    members = _members(session, theme)
    session.execute(delete(ThemeAssignment).where(ThemeAssignment.theme_id == theme.id))
    present = set(
        session.execute(
            select(ThemeAssignment.theme_id, ThemeAssignment.answer_id).where(
                ThemeAssignment.run_id == run.id, ThemeAssignment.answer_id.in_(list(members))
            )
        ).tuples()
    )
    touched = {source.id: source} if source else {}
    for answer_id in sorted(members):
        # Back where the split took it from; an answer moved in later goes to the source.
        default = [(source, STAFF)] if source is not None else []
        for target, origin in places.get(answer_id) or default:
            if (target.id, answer_id) not in present:
                session.add(
                    ThemeAssignment(
                        theme_id=target.id, answer_id=answer_id, run_id=run.id, source=origin
                    )
                )
                present.add((target.id, answer_id))
                touched[target.id] = target
    _restore_curation(session, scope, restore)
    _forget_theme(session, scope, theme.key, source.key if source else None)
    run.themes.remove(theme)
    session.flush()
    pins = pinned_ids(session, scope)
    for key, wanted in restore["representatives"].items():
        if key in by_key:
            target = by_key[key]
            current = list(target.representative_ids or [])
            wanted_first = list(wanted) + [a for a in current if a not in wanted]
            _quotes(target, pins.get(key, []), wanted_first, _members(session, target))
            touched[target.id] = target
    _refresh(session, run, list(touched.values()))
    return source


def undo_step(
    session: Session, actor: StaffUser, scope: Scope, step_id: int
) -> tuple[CurationStep, Theme | None]:
    """Undo the merge or split ``step_id``, which must be the newest one of the latest run
    not undone yet (audited, committed); the step and the theme it was about."""
    change = _Change.begin(session, actor, scope)
    run = _run(session, scope)
    steps = {
        s.id: s for s in curation_steps(session, change.campaign.organisation_id, scope, 10**6)
    }
    step = steps.get(step_id)
    if step is None:
        raise NotFound(N_("This merge or split is not one of these themes'."), code="no_step")
    if step.undone:
        raise InvalidInput(N_("This step is already undone."), code="step_undone")
    if not step.can_undo:
        raise InvalidInput(
            N_("Only the latest merge or split can be undone. Undo the later ones first."),
            code="step_not_latest",
        )
    entry = session.get(AuditEntry, step_id)
    assert entry is not None
    if step.action == MERGE:
        theme: Theme | None = _undo_merge(session, scope, run, entry)
    else:
        theme = _undo_split(session, scope, run, entry)
    change.commit(
        UNDO,
        theme,
        after={"step": step_id, "undone": step.action, "run": run.id, "themes": step.labels},
        run=run,
    )
    return step, theme
