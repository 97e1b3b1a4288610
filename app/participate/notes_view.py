"""Which of a wall's notes a visitor asked to see: one question's or all, newest first or
most "enig" first (issue 24). Plain query parameters, so the wall's filter form works with
and without JavaScript and every view has its own address (and page cache entry):
``?vis=<question id>`` and ``?orden=enige``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from flask import request

from surveys.reads import NotesOrder

#: The query parameters' names and the "most enig first" value.
PROMPT_ARG = "vis"
ORDER_ARG = "orden"
AGREED = "enige"


@dataclass(frozen=True)
class NotesView:
    """The question shown (None: all) and the order."""

    prompt_id: int | None = None
    order: NotesOrder = "newest"

    def url_args(self) -> dict[str, Any]:
        """The query parameters that lead back to this view (none for the default)."""
        args: dict[str, Any] = {}
        if self.prompt_id is not None:
            args[PROMPT_ARG] = self.prompt_id
        if self.order == "agreed":
            args[ORDER_ARG] = AGREED
        return args


def notes_view(wall: Any) -> NotesView:
    """The view the request asks for on ``wall`` (a question not on the wall: all)."""
    chosen = request.args.get(PROMPT_ARG, type=int)
    prompt_id = chosen if chosen in {p.id for p in wall.prompts} else None
    order: NotesOrder = "agreed" if request.args.get(ORDER_ARG) == AGREED else "newest"
    return NotesView(prompt_id, order)
