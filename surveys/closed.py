"""Closed questions (issue 26): a scale of 1-5, a single choice or a multiple choice.

A closed question's options live on the :class:`~surveys.models.Prompt` (``options``); an
answer to it carries a ``value`` (:func:`clean_value`) and, optionally, a follow-up text
("Hvorfor?"). A scale's options are fixed (1-5); its words and faces are the product's own
(:data:`SCALE_WORDS`), so they are translated like every other text. A choice's options are
written by staff (:func:`choice_options`), each with an id that stays when its label is
corrected, so answers already given keep pointing at it.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from difflib import SequenceMatcher
from typing import Any

from .errors import N_, InvalidInput
from .models import Prompt, PromptKind

SCALE_VALUES = (1, 2, 3, 4, 5)
#: The scale's words, weakest first (N_: translated where they are shown). A scale is never
#: shown by its faces or colours alone: the word is always beside the face.
SCALE_WORDS = (
    N_("Very bad"),
    N_("Bad"),
    N_("In between"),
    N_("Good"),
    N_("Very good"),
)
SCALE_FACES = ("😞", "🙁", "😐", "🙂", "😄")
MIN_OPTIONS = 2
MAX_OPTIONS = 20
MAX_OPTION_LENGTH = 100
MAX_FOLLOW_UP_LENGTH = 300
#: How alike two labels at the same place must be to count as one option corrected.
SPELLING_ALIKE = 0.75
#: The longest option id a client may send (ours are "o1".."o999").
MAX_OPTION_ID_LENGTH = 16


def scale_options() -> list[dict[str, Any]]:
    """A scale's options: ids "1".."5" with their numbers."""
    return [{"id": str(v), "value": v} for v in SCALE_VALUES]


def choice_options(
    labels: Sequence[str], existing: Sequence[dict[str, Any]] = ()
) -> list[dict[str, Any]]:
    """A choice question's options from staff's labels (one per line in the editor).

    An option keeps the id of an existing option with the same label (moved in the list), or
    else of the existing option at the same place when the two labels are alike (a corrected
    spelling: "Skatbane" to "Skaterbane"); a new option gets a new id. Raises
    :class:`InvalidInput` for fewer than 2 or more than 20 options, one over 100 characters,
    or the same option twice.
    """
    cleaned = [" ".join(label.split()) for label in labels]
    cleaned = [label for label in cleaned if label]
    if not MIN_OPTIONS <= len(cleaned) <= MAX_OPTIONS:
        raise InvalidInput(
            N_("A choice question needs from %(min)d to %(max)d options, one per line."),
            code="invalid_options",
            min=MIN_OPTIONS,
            max=MAX_OPTIONS,
        )
    too_long = next((label for label in cleaned if len(label) > MAX_OPTION_LENGTH), None)
    if too_long is not None:
        raise InvalidInput(
            N_("An option may have at most %(max)d characters: %(option)s"),
            code="invalid_options",
            max=MAX_OPTION_LENGTH,
            option=too_long[:40] + "…",
        )
    folded = [label.casefold() for label in cleaned]
    if len(set(folded)) < len(folded):
        raise InvalidInput(N_("Each option may be given only once."), code="invalid_options")
    by_label = {str(o["label"]).casefold(): str(o["id"]) for o in existing if "label" in o}
    used = {str(o["id"]) for o in existing}
    taken: set[str] = set()
    ids: list[str | None] = [by_label.get(label) for label in folded]
    taken.update(i for i in ids if i)
    for place, found in enumerate(ids):
        if found is None and place < len(existing):
            candidate = str(existing[place]["id"])
            old = str(existing[place].get("label", "")).casefold()
            unused = candidate not in taken and old not in folded
            if unused and _alike(old, folded[place]):
                ids[place] = candidate
                taken.add(candidate)
    number = 1
    options = []
    for label, found in zip(cleaned, ids, strict=True):
        if found is None:
            while f"o{number}" in used or f"o{number}" in taken:
                number += 1
            found = f"o{number}"
            taken.add(found)
        options.append({"id": found, "label": label})
    return options


def _alike(old: str, new: str) -> bool:
    """Whether ``new`` reads as a corrected ``old`` (most of their letters in common)."""
    return SequenceMatcher(None, old, new).ratio() >= SPELLING_ALIKE


def clean_follow_up(text: str | None) -> str | None:
    """The follow-up question's text ("Hvorfor?"), None when there is none."""
    cleaned = " ".join((text or "").split())
    if len(cleaned) > MAX_FOLLOW_UP_LENGTH:
        raise InvalidInput(
            N_("The follow-up question may have at most %(max)d characters."),
            code="invalid_follow_up",
            max=MAX_FOLLOW_UP_LENGTH,
        )
    return cleaned or None


def option_ids(prompt: Prompt) -> list[str]:
    """The ids of the prompt's options, in order."""
    return [str(o["id"]) for o in prompt.options]


def clean_value(prompt: Prompt, value: object) -> int | str | list[str] | None:
    """The answer's value as stored: a scale's number, an option id, or the chosen ids in the
    options' order (a multiple choice with nothing ticked is no value). None stays None.

    Raises :class:`InvalidInput`: a value on a free-text question (``value_not_allowed``), a
    value of the wrong shape (``invalid_value``), a number off the scale or an option that
    does not exist (``unknown_option``).
    """
    if value is None:
        return None
    if prompt.kind is PromptKind.TEXT:
        raise InvalidInput(
            N_("This question takes a written answer, not a choice."), code="value_not_allowed"
        )
    if prompt.kind is PromptKind.SCALE:
        if isinstance(value, str) and value.isdecimal() and len(value) < 3:
            value = int(value)
        if isinstance(value, bool) or not isinstance(value, int):
            raise InvalidInput(N_("Choose a number on the scale."), code="invalid_value")
        if value not in SCALE_VALUES:
            raise InvalidInput(
                N_("Choose a number on the scale from %(low)d to %(high)d."),
                code="unknown_option",
                low=SCALE_VALUES[0],
                high=SCALE_VALUES[-1],
            )
        return value
    known = option_ids(prompt)
    if prompt.kind is PromptKind.SINGLE:
        if not isinstance(value, str) or len(value) > MAX_OPTION_ID_LENGTH:
            raise InvalidInput(N_("Choose one of the options."), code="invalid_value")
        if value not in known:
            raise InvalidInput(N_("This option does not exist."), code="unknown_option")
        return value
    if not isinstance(value, list) or not all(
        isinstance(v, str) and len(v) <= MAX_OPTION_ID_LENGTH for v in value
    ):
        raise InvalidInput(N_("Send the chosen options as a list."), code="invalid_value")
    if len(value) > len(known) or any(v not in known for v in value):
        raise InvalidInput(N_("This option does not exist."), code="unknown_option")
    chosen = [i for i in known if i in value]
    return chosen or None


def kept_value(value: object) -> int | str | list[str] | None:
    """A value that no longer fits its question, kept as sent when it has a plausible shape
    (a small number, a short id or a short list of them); None when it has none."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int) and -100 < value < 100:
        return value
    if isinstance(value, str) and 0 < len(value) <= MAX_OPTION_ID_LENGTH:
        return value
    if (
        isinstance(value, list)
        and 0 < len(value) <= MAX_OPTIONS
        and all(isinstance(v, str) and 0 < len(v) <= MAX_OPTION_ID_LENGTH for v in value)
    ):
        return list(value)
    return None


def value_for_prompt(
    prompt: Prompt, value: object, written_at: datetime | None
) -> int | str | list[str] | None:
    """:func:`clean_value`, except that an answer written before the question last changed
    (queued on a device while staff edited it) keeps its value as sent when it no longer
    fits (:func:`kept_value`): nothing a participant sent is lost, and the results show it
    to staff apart from the current options (:func:`fits`)."""
    try:
        return clean_value(prompt, value)
    except InvalidInput:
        changed = prompt.changed_at
        if written_at is None or changed is None or written_at >= changed:
            raise
        kept = kept_value(value)
        if kept is None:
            raise
        return kept


def fits(prompt: Prompt, value: object) -> bool:
    """Whether a stored value is a valid answer to the question as it is now."""
    try:
        return clean_value(prompt, value) == value and value is not None
    except InvalidInput:
        return False


def question_fields(
    kind: object,
    option_labels: Sequence[str] = (),
    follow_up: str | None = None,
    existing: Sequence[dict[str, Any]] = (),
) -> dict[str, Any]:
    """A prompt's ``kind``, ``options`` and ``follow_up`` from the staff editor (a free-text
    question has neither options nor a follow-up)."""
    try:
        chosen = PromptKind(str(kind or PromptKind.TEXT))
    except ValueError:
        raise InvalidInput(N_("Unknown kind of question."), code="invalid_kind") from None
    if chosen is PromptKind.TEXT:
        return {"kind": chosen, "options": [], "follow_up": None}
    options = (
        scale_options() if chosen is PromptKind.SCALE else choice_options(option_labels, existing)
    )
    return {"kind": chosen, "options": options, "follow_up": clean_follow_up(follow_up)}
