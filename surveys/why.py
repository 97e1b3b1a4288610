""" "Hvorfor her?": why a run put an answer under a theme, in words staff can check.

For a run with a codebook the run kept it (``ThemeRun.explanations``): the keywords that
matched and the codebook themes the answer came closest to, with their scores. For a run
of the engine alone it is worked out when asked: the theme's words the answer uses, and the
themes the run's model finds closest for the answer now. Nothing here imports Flask.
"""

from __future__ import annotations

from dataclasses import dataclass

from .models import Answer, Theme, ThemeRun
from .themes import _words, placements


@dataclass(frozen=True)
class Closest:
    """A theme the answer came close to (``score`` only for codebook runs)."""

    label: str
    score: float | None = None


@dataclass(frozen=True)
class Why:
    """The words that tied the answer to the theme and the themes it was closest to."""

    words: list[str]
    closest: list[Closest]


def why_here(run: ThemeRun, theme: Theme, answer: Answer, text: str) -> Why:
    """Why ``answer`` (shown as ``text``) is under ``theme`` in ``run``."""
    labels = {t.key: t.label for t in run.themes}
    kept = (run.explanations or {}).get(str(answer.id))
    if isinstance(kept, dict):
        return Why(
            words=[str(w) for w in kept.get("words") or []],
            closest=[
                Closest(labels.get(c.get("key"), ""), float(c.get("score", 0.0)))
                for n, c in enumerate(kept.get("closest") or [])
                if c.get("key") in labels and (n == 0 or float(c.get("score", 0.0)) > 0)
            ],
        )
    used = _words(text)
    words = [term for term in theme.terms if set(term.split()) <= used]
    if run.codebook is not None or not run.model:
        # a codebook run that kept nothing for this answer, or a run without a fitted model
        return Why(words, [])
    keys = placements(run, [answer])[0][:2]
    return Why(words, [Closest(labels[k]) for k in keys if k in labels])
