"""Messages of an import: a translatable :class:`Issue` for a row or the whole file."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from ..errors import N_, InvalidInput


@dataclass(frozen=True)
class Issue:
    """A translatable message (English source, ``%(name)s`` params), for a row or the file."""

    message: str
    params: Mapping[str, object] = field(default_factory=dict)
    row: int | None = None

    def render(self, gettext: Any = None) -> str:
        """The message, translated with ``gettext(msgid, **params)`` when given."""
        if gettext is not None:
            text = gettext(self.message, **self.params)
            if self.row is None:
                return text
            return gettext(ROW_PREFIX, row=self.row, message=text)
        text = self.message % dict(self.params) if self.params else self.message
        return text if self.row is None else ROW_PREFIX % {"row": self.row, "message": text}


ROW_PREFIX = N_("Row %(row)d: %(message)s")


def invalid(message: str, code: str, **params: object) -> InvalidInput:
    """The error that refuses a file or a choice (``code`` says which)."""
    return InvalidInput(message, code=code, **params)


def quote(value: str) -> str:
    """A cell's value for a message: in quotes, at most 60 characters."""
    return "“" + value[:60] + ("…" if len(value) > 60 else "") + "”"
