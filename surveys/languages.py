"""The texts staff write, in each language a wall offers.

A wall's own columns (``title``, ``intro``, ``areas``, each prompt's ``text``, each reply's
``text``) are in the wall's language (``Wall.language``, the first of ``Wall.languages``);
``translations`` hold the other languages. A language is offered to participants only when
the wall's title, introduction (if it has one) and every question exist in it
(:func:`offered_languages`); the area names and replies fall back to the wall's language,
marked as such, so a page can give every part its right ``lang``.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Protocol


class _Prompt(Protocol):
    id: int
    text: str

    @property
    def translations(self) -> Mapping[str, str]: ...


class _Wall(Protocol):
    title: str
    intro: str
    language: str

    @property
    def languages(self) -> Sequence[str]: ...
    @property
    def areas(self) -> Sequence[str]: ...
    @property
    def translations(self) -> Mapping[str, Mapping[str, Any]]: ...
    @property
    def prompts(self) -> Sequence[Any]: ...


@dataclass(frozen=True)
class LocalText:
    """A text and the language it is written in (for the page's ``lang`` attribute)."""

    text: str
    lang: str

    def __str__(self) -> str:
        return self.text


def pick(base: str, base_lang: str, translations: Mapping[str, Any] | None, lang: str) -> LocalText:
    """The text in ``lang`` when written, else the base text in its own language."""
    if lang != base_lang and translations:
        text = translations.get(lang)
        if isinstance(text, str) and text:
            return LocalText(text, lang)
    return LocalText(base, base_lang)


def _wall_translation(wall: _Wall, lang: str) -> Mapping[str, Any]:
    return (wall.translations or {}).get(lang) or {}


def wall_title(wall: _Wall, lang: str) -> LocalText:
    """The wall's title in ``lang`` (or its own language)."""
    return pick(wall.title, wall.language, {lang: _wall_translation(wall, lang).get("title")}, lang)


def wall_intro(wall: _Wall, lang: str) -> LocalText:
    """The wall's introduction in ``lang`` (or its own language)."""
    return pick(wall.intro, wall.language, {lang: _wall_translation(wall, lang).get("intro")}, lang)


def prompt_text(wall: _Wall, prompt: _Prompt, lang: str) -> LocalText:
    """A question of the wall in ``lang`` (or the wall's language)."""
    return pick(prompt.text, wall.language, prompt.translations, lang)


def reply_text(
    text: str, translations: Mapping[str, str] | None, base_lang: str, lang: str
) -> LocalText:
    """A staff reply in ``lang`` (or the language it was first written in)."""
    return pick(text, base_lang, translations, lang)


def area_names(wall: _Wall, lang: str) -> list[tuple[str, LocalText]]:
    """The areas as (stored value, name shown in ``lang``): the names in ``lang`` when staff
    gave one per area, else the wall's own names, marked as in the wall's language."""
    names = _wall_translation(wall, lang).get("areas") if lang != wall.language else None
    if isinstance(names, list) and len(names) == len(wall.areas) and all(names):
        return [(area, LocalText(name, lang)) for area, name in zip(wall.areas, names, strict=True)]
    return [(area, LocalText(area, wall.language)) for area in wall.areas]


def missing_texts(wall: _Wall, lang: str) -> list[str]:
    """What the wall lacks in ``lang`` to be offered in it: ``"title"``, ``"intro"`` and
    ``"question:<n>"`` (1-based), in page order; [] in the wall's own language."""
    if lang == wall.language:
        return []
    texts = _wall_translation(wall, lang)
    missing = []
    if not texts.get("title"):
        missing.append("title")
    if wall.intro and not texts.get("intro"):
        missing.append("intro")
    for number, prompt in enumerate(wall.prompts, start=1):
        if not (prompt.translations or {}).get(lang):
            missing.append(f"question:{number}")
    return missing


def areas_missing(wall: _Wall, lang: str) -> bool:
    """Whether the wall asks for the area but has no area names in ``lang`` (they are then
    shown in the wall's language)."""
    if lang == wall.language or not wall.areas:
        return False
    return area_names(wall, lang)[0][1].lang != lang


def offered_languages(wall: _Wall) -> list[str]:
    """The languages a participant may choose: the wall's own, then each other language of
    ``Wall.languages`` in which its texts exist."""
    others = [lang for lang in wall.languages if lang != wall.language]
    return [wall.language, *(lang for lang in others if not missing_texts(wall, lang))]


def choose(wall: _Wall, wanted: Iterable[str | None]) -> str:
    """The first of ``wanted`` the wall offers, else the wall's own language."""
    offered = offered_languages(wall)
    return next((lang for lang in wanted if lang in offered), wall.language)
