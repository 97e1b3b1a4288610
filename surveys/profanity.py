"""Swear words and slurs that keep an answer off public pages as a quote (the one list).

The list is short on purpose: it catches the common Danish (and English) swear words and slurs
young people write, so that a quote staff publish is never one of them by accident. It does not
judge the answer: the answer stays on its wall if a moderator approved it; it is only not
offered as a quote on "Det har vi hørt". Staff read every quote they publish in any case.
"""

from __future__ import annotations

import re

#: Words that are swear words or slurs on their own.
WORDS = frozenset(
    {
        "fuck",
        "fucking",
        "fucked",
        "shit",
        "lort",
        "pik",
        "fisse",
        "kusse",
        "pis",
        "kælling",
        "luder",
        "ludder",
        "hore",
        "røvhul",
        "kraftedeme",
        "fandme",
        "fanme",
        "satans",
        "perker",
        "neger",
        "spasser",
        "mongol",
        "bøsserøv",
        "bitch",
        "idiot",
        "idioter",
        "klaphat",
        "klaphatte",
    }
)
#: Beginnings of swear-word compounds ("lortemad", "pissekedeligt", "fuckingdårligt").
PREFIXES = ("fuck", "lorte", "pisse", "kraftedeme", "røvhul", "luder", "perker", "spasser")
#: Endings of swear-word compounds ("skolelort", "kæmpeidiot").
SUFFIXES = ("lort", "idiot", "røvhul")

_WORD = re.compile(r"\w+")


def _is_profane(word: str) -> bool:
    return (
        word in WORDS
        or word.startswith(PREFIXES)
        or (len(word) > 6 and word.endswith(SUFFIXES))  # "skolelort", not "lort" alone twice
    )


def has_profanity(text: str) -> bool:
    """Whether ``text`` contains a word of the list (any case, whole words or compounds)."""
    return any(_is_profane(word) for word in _WORD.findall(text.casefold()))
