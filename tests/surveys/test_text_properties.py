"""More properties of text normalisation, with input aimed at the tricky characters:
invisible and bidi controls next to combining marks, surrogates, line breaks, emoji."""

from __future__ import annotations

import unicodedata

from hypothesis import example, given
from hypothesis import strategies as st

from surveys.text import normalise_answer

INVISIBLE = [
    "\u200b",
    "\u200e",
    "\u200f",
    "\u2060",
    "\ufeff",
    "\u00ad",
    *map(chr, range(0x202A, 0x202F)),
    *map(chr, range(0x2066, 0x206A)),
]
TRICKY = st.sampled_from(
    [
        *INVISIBLE,
        "\u0301",  # combining acute
        "\u030a",  # combining ring (å)
        "\x00",
        "\x07",
        "\r\n",
        "\r",
        "\n",
        "\t",
        " ",
        "\u00a0",
        "\ud800",  # lone surrogate
        "👨‍👩‍👧",
        "🇩🇰",
        "<script>",
        "a",
        "æ",
    ]
)
TRICKY_TEXT = st.lists(st.one_of(TRICKY, st.text(max_size=3)), max_size=30).map("".join)


@given(TRICKY_TEXT)
def test_no_invisible_controls_or_surrogates_survive(text: str) -> None:
    result = normalise_answer(text)
    assert not any(ch in result for ch in INVISIBLE)
    assert all(ch in "\n" or unicodedata.category(ch) not in ("Cc", "Cs") for ch in result), repr(
        result
    )
    result.encode("utf-8")  # always storable


@given(TRICKY_TEXT)
def test_lines_have_no_outer_spaces_and_at_most_one_blank_line(text: str) -> None:
    result = normalise_answer(text)
    for line in result.split("\n"):
        assert line == line.strip(" \t")
    assert "\n\n\n" not in result


@given(TRICKY_TEXT)
def test_html_is_kept_as_text(text: str) -> None:
    # Normalisation never "sanitises" markup: escaping is the templates' job.
    assert normalise_answer(text).count("<script>") == text.count("<script>")


# Found by these properties: removing an invisible character between a letter and a
# combining mark lets them meet after NFC has already run, so the stored text is not NFC
# and a second normalisation changes it. Fix in surveys/text.py: apply NFC after removing
# the invisible and control characters (then remove this marker).
@given(TRICKY_TEXT)
@example("a\u200b\u030a")
def test_result_is_nfc_and_normalising_twice_changes_nothing(text: str) -> None:
    once = normalise_answer(text)
    assert unicodedata.is_normalized("NFC", once)
    assert normalise_answer(once) == once
