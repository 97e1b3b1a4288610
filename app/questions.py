"""Closed questions as participants and staff see them (issue 26): option labels in a
language (a scale's words come from the catalogue, with a face beside each word) and a
stored value as words."""

from __future__ import annotations

from contextlib import AbstractContextManager, nullcontext
from typing import Any

from flask import Flask
from flask_babel import force_locale
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from surveys.closed import SCALE_FACES, SCALE_WORDS
from surveys.models import Prompt, PromptKind

#: The kinds of question, as the staff editor names them.
KIND_LABELS = {
    PromptKind.TEXT.value: _l("Free text"),
    PromptKind.SCALE.value: _l("Scale from 1 to 5"),
    PromptKind.SINGLE.value: _l("Single choice"),
    PromptKind.MULTIPLE.value: _l("Multiple choice"),
}


def option_labels(prompt: Prompt, lang: str | None = None) -> list[dict[str, Any]]:
    """The prompt's options with their labels (in ``lang``, else the page's language): a
    scale's ``{"id", "value", "label", "face"}``, a choice's ``{"id", "label"}``."""
    if prompt.kind is PromptKind.SCALE:
        context: AbstractContextManager[Any] = force_locale(lang) if lang else nullcontext()
        with context:
            return [
                {
                    "id": str(o["id"]),
                    "value": int(o["value"]),
                    "label": _(SCALE_WORDS[int(o["value"]) - 1]),
                    "face": SCALE_FACES[int(o["value"]) - 1],
                }
                for o in prompt.options
            ]
    return [{"id": str(o["id"]), "label": str(o["label"])} for o in prompt.options]


def value_text(prompt: Prompt, value: object) -> str:
    """A stored value in words ("Godt (4)", "Svømmehallen", "Skaterbane, Musik"); a value
    that no longer fits the question is shown as it was sent."""
    if value is None:
        return ""
    labels = {o["id"]: o for o in option_labels(prompt)}
    if prompt.kind is PromptKind.SCALE and str(value) in labels:
        option = labels[str(value)]
        return f"{option['label']} ({option['value']})"
    chosen = value if isinstance(value, list) else [value]
    return ", ".join(str(labels[v]["label"]) if v in labels else str(v) for v in chosen)


def init_questions(app: Flask) -> None:
    """Register the template helpers."""
    app.add_template_global(value_text)
    app.add_template_global(option_labels)
    app.jinja_env.globals["kind_labels"] = KIND_LABELS
