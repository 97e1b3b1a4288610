"""What changed between two theme runs of a scope, for the explorer ("what changed and why").

:func:`compare_runs` is computed once, when a run is stored (``ThemeRun.changes``): how many
answers the two runs share, how many of them changed theme (by theme key, which stays the
same for a theme from one run to the next), a few examples, and the themes that are new or
gone. Only what a run itself decided counts (its fit and staff's decisions, not answers
placed on arrival). Nothing here imports Flask.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from .models import Theme, ThemeAssignment, ThemeRun

#: Examples of answers that changed theme kept with the run.
EXAMPLES = 5


def _members(session: Session, run: ThemeRun) -> dict[int, frozenset[str]]:
    """Answer id -> keys of the visible themes it belongs to in the run."""
    rows = session.execute(
        select(ThemeAssignment.answer_id, Theme.key)
        .join(Theme, Theme.id == ThemeAssignment.theme_id)
        .where(
            ThemeAssignment.run_id == run.id,
            ThemeAssignment.source != "transform",
            Theme.hidden.is_(False),
        )
    ).tuples()
    found: dict[int, set[str]] = {}
    for answer_id, key in rows:
        found.setdefault(answer_id, set()).add(key)
    return {a: frozenset(keys) for a, keys in found.items()}


def compare_runs(session: Session, before: ThemeRun | None, after: ThemeRun) -> dict[str, Any]:
    """What changed from ``before`` (the scope's previous run, if any) to ``after``
    (flushed): ``{"previous_run_id", "shared", "changed", "examples": [{"answer_id",
    "from", "to"}], "new": [labels], "gone": [labels]}``; labels of themes as named in
    each run, ``from``/``to`` lists of theme keys ([] = "andet")."""
    if before is None:
        return {"previous_run_id": None, "shared": 0, "changed": 0, "examples": []}
    old, new = _members(session, before), _members(session, after)
    # Answers that arrived after the previous run did not change theme: they had none. A
    # run keeps no row for "andet", so the answers compared are those either run put under
    # a theme, up to the newest the previous run had.
    newest = max(old, default=0)
    shared = sorted(a for a in set(old) | set(new) if a <= newest)
    changed = [a for a in shared if old.get(a, frozenset()) != new.get(a, frozenset())]
    before_keys = {t.key: t.label for t in before.themes if not t.hidden}
    after_keys = {t.key: t.label for t in after.themes if not t.hidden}
    return {
        "previous_run_id": before.id,
        "shared": len(shared),
        "changed": len(changed),
        "examples": [
            {
                "answer_id": a,
                "from": sorted(old.get(a, frozenset())),
                "to": sorted(new.get(a, frozenset())),
            }
            for a in changed[:EXAMPLES]
        ],
        "new": [label for key, label in after_keys.items() if key not in before_keys],
        "gone": [label for key, label in before_keys.items() if key not in after_keys],
    }
