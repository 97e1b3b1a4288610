"""Text search in answers, for staff: case- and accent-insensitive enough for Danish.

The words typed and the answers' texts are folded the same way before they are compared:

- lower case, also for Æ, Ø, Å and the accented capitals (SQLite's ``lower()`` only knows
  A-Z, and PostgreSQL's depends on the database's locale, so those letters are translated
  one by one);
- accents removed (``idé`` finds ``ide``, ``café`` finds ``cafe``), but æ, ø and å stay
  letters of their own, as a Dane types them (``for`` does not find ``får``); the German
  and Swedish ä and ö count as æ and ø.

Every word typed must occur somewhere in the text (a part of a word is enough: ``skole``
finds ``skolebussen``). The SQL is ``LIKE`` on the folded text (:class:`folded`); it reads
every answer of the scope it is combined with, which is quick for the thousands of answers
a campaign has.
"""

from __future__ import annotations

import unicodedata
from typing import Any

from sqlalchemy import ColumnElement, SQLColumnExpression, Text, and_, func
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.compiler import SQLCompiler
from sqlalchemy.sql.functions import FunctionElement

#: Longest search text kept, and most words used from it.
MAX_SEARCH_LENGTH = 200
MAX_WORDS = 5

#: Letters the fold changes (one letter each), besides A-Z (which ``lower()`` handles).
_FOLD: dict[str, str] = {
    **dict.fromkeys("ÆÄä", "æ"),
    **dict.fromkeys("ØÖö", "ø"),
    "Å": "å",
    **dict.fromkeys("ÁáÀà", "a"),
    **dict.fromkeys("ÉéÈèÊêËë", "e"),
    **dict.fromkeys("Íí", "i"),
    **dict.fromkeys("Óó", "o"),
    **dict.fromkeys("ÚúÜü", "u"),
}
_FOLD_TABLE = str.maketrans(_FOLD)


def fold(text: str) -> str:
    """``text`` as the search compares it (Python's side of :func:`folded`)."""
    return unicodedata.normalize("NFC", text).lower().translate(_FOLD_TABLE)


class folded(FunctionElement[str]):
    """SQL: a text column folded like :func:`fold` (answers are stored NFC).

    PostgreSQL: ``translate(lower(text), 'ÆÄä…', 'ææ…')``. SQLite's ``lower()`` only knows
    A-Z and it has no ``translate()``, so there it is :func:`fold` itself, registered on
    every connection as ``stemmer_fold`` (:func:`surveys.db.make_engine`).
    """

    type = Text()
    name = "stemmer_fold"
    inherit_cache = True


@compiles(folded)
def _folded_sql(element: folded, compiler: SQLCompiler, **kw: Any) -> str:
    (text,) = element.clauses
    letters, replacements = "".join(_FOLD), "".join(_FOLD.values())
    expression = func.translate(func.lower(text), letters, replacements)
    return compiler.process(expression, **kw)


@compiles(folded, "sqlite")
def _folded_sqlite(element: folded, compiler: SQLCompiler, **kw: Any) -> str:
    (text,) = element.clauses
    return compiler.process(func.stemmer_fold(text), **kw)


def clean_search(text: str | None) -> str | None:
    """The search text as typed, trimmed and shortened; ``None`` when there is none."""
    text = " ".join((text or "").split())[:MAX_SEARCH_LENGTH]
    return text or None


def search_words(text: str) -> list[str]:
    """The folded words of a search text (at most :data:`MAX_WORDS`, no repeats)."""
    return list(dict.fromkeys(fold(text).split()))[:MAX_WORDS]


def matches(column: SQLColumnExpression[str], text: str) -> ColumnElement[bool]:
    """SQL: every word of the search ``text`` occurs in ``column`` (folded on both sides)."""
    haystack = folded(column)
    return and_(*(haystack.contains(word, autoescape=True) for word in search_words(text)))
