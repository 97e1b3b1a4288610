"""What the guard's detectors share: the span a detector finds, and word lists written as one
string of words separated by spaces."""

from __future__ import annotations

#: What a detector finds: ``(kind, start, end)``, code-point offsets into the answer text.
Span = tuple[str, int, int]


def word_list(words: str) -> list[str]:
    """The words of ``words``, in order."""
    return words.split()


def word_set(words: str) -> frozenset[str]:
    """The words of ``words``, as a set."""
    return frozenset(words.split())
