"""A wall's staff-written texts on the participant pages, in the page's language.

Views call :func:`use_wall_languages` before anything reads the locale, so the page is in a
language the wall offers (``app.select_locale``). Templates get ``wall_texts(wall)``: the
title, introduction, questions, areas and replies in the page's language (or, where staff
wrote none, in the wall's own), each a :class:`surveys.languages.LocalText`; the ``lang_attr``
filter gives a text its ``lang`` attribute when it differs from the page's.
"""

from __future__ import annotations

from typing import Any

from flask import Flask, g
from flask_babel import get_locale
from markupsafe import Markup

from surveys import languages
from surveys.languages import LocalText


def page_language() -> str:
    """The language of the page being rendered."""
    return str(get_locale() or "da")


def use_wall_languages(wall: Any) -> None:
    """The page shows this wall: it is in one of the languages the wall offers."""
    g.wall_language = wall.language
    g.wall_languages = languages.offered_languages(wall)


class WallTexts:
    """A wall's texts in one language (the page's)."""

    def __init__(self, wall: Any, lang: str) -> None:
        self.wall = wall
        self.lang = lang

    @property
    def offered(self) -> list[str]:
        """The languages the wall offers (its own first)."""
        return languages.offered_languages(self.wall)

    @property
    def title(self) -> LocalText:
        return languages.wall_title(self.wall, self.lang)

    @property
    def intro(self) -> LocalText:
        return languages.wall_intro(self.wall, self.lang)

    def prompt(self, prompt: Any) -> LocalText:
        """A question's text."""
        return languages.prompt_text(self.wall, prompt, self.lang)

    def reply(self, reply: Any) -> LocalText:
        """A staff reply (a wall reply or a feedback reply) of this wall."""
        return languages.reply_text(reply.text, reply.translations, self.wall.language, self.lang)

    @property
    def areas(self) -> list[tuple[str, LocalText]]:
        return languages.area_names(self.wall, self.lang)


def wall_texts(wall: Any) -> WallTexts:
    """The wall's texts in the page's language."""
    return WallTexts(wall, page_language())


def reply_in_page_language(
    text: str, translations: dict[str, str] | None, base_lang: str
) -> LocalText:
    """A reply in the page's language when staff wrote it in it, else as first written."""
    return languages.reply_text(text, translations, base_lang, page_language())


def lang_attr(text: LocalText | str | None) -> Markup:
    """`` lang="da"`` when the text's language (a :class:`LocalText`'s, or a language code)
    is not the page's, else nothing."""
    lang = text.lang if isinstance(text, LocalText) else text
    if not lang or lang == page_language():
        return Markup("")
    return Markup(' lang="%s"') % lang


def init_wall_texts(app: Flask) -> None:
    """Register the template helpers."""
    app.add_template_global(wall_texts)
    app.add_template_global(reply_in_page_language)
    app.add_template_filter(lang_attr)
