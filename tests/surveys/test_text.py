"""Normalisation of citizens' text."""

from __future__ import annotations

import unicodedata

from hypothesis import given
from hypothesis import strategies as st

from surveys.text import normalise_answer


def test_keeps_danish_emoji_and_line_breaks() -> None:
    text = "Flere børn på legepladsen 🌳👨‍👩‍👧\nOg bænke!"
    assert normalise_answer(text) == text


def test_removes_invisible_and_bidi_controls() -> None:
    assert normalise_answer("a\u200bb\u202ec\u2066d\ufeff\x00e\x07") == "abcde"


def test_collapses_spaces_and_blank_lines() -> None:
    assert normalise_answer("  a \t  b \r\n\r\n\r\n\r\nc  ") == "a b\n\nc"


def test_composes_decomposed_letters() -> None:
    assert normalise_answer("a\u030a") == "å"


@given(st.text())
def test_normalisation_is_idempotent(text: str) -> None:
    once = normalise_answer(text)
    assert normalise_answer(once) == once


@given(st.text())
def test_result_has_no_controls_or_outer_whitespace(text: str) -> None:
    result = normalise_answer(text)
    assert result == result.strip()
    assert all(ch == "\n" or unicodedata.category(ch) != "Cc" for ch in result)
    assert "\u202e" not in result and "\u200b" not in result
    assert "\n\n\n" not in result


@given(st.text(alphabet=st.characters(categories=["L", "N", "So"]), min_size=1))
def test_visible_text_is_never_lost(text: str) -> None:
    assert normalise_answer(text) == unicodedata.normalize("NFC", text)


def test_every_control_character_and_lone_surrogate_is_removed_and_nothing_else():
    controls = {
        ch
        for ch in map(chr, range(0x110000))
        if ch not in "\n\t" and unicodedata.category(ch) in ("Cc", "Cs")
    }
    assert len(controls) == 65 - 2 + 2048
    # (a carriage return is a line break first)
    assert normalise_answer("a" + "".join(sorted(controls - {"\r"})) + "b") == "ab"
    kept = "\t".join(chr(c) for c in (0x41, 0xA0 + 1, 0x200C, 0x200D, 0x1F600, 0xE000, 0x10FFFD))
    assert normalise_answer(kept) == unicodedata.normalize("NFC", kept.replace("\t", " "))
