"""Normalisation of free text typed by citizens."""

from __future__ import annotations

import re
import unicodedata

#: Longest answer a participant may give, in characters (code points) after normalisation.
MAX_ANSWER_LENGTH = 1000

# Bidi embedding/override/isolate controls can disguise text direction; zero-width spaces hide
# text. The zero-width joiners (U+200C/D) are kept: emoji sequences and some scripts need them.
_INVISIBLE = dict.fromkeys(
    [
        0x200B,
        0x200E,
        0x200F,
        0x2060,
        0xFEFF,
        0x00AD,
        *range(0x202A, 0x202F),
        *range(0x2066, 0x206A),
    ],
    None,
)
#: Control characters (Unicode category Cc) but tab and line feed, and lone surrogates (Cs).
_CONTROLS = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\ud800-\udfff]")
_BLANK_LINES = re.compile(r"\n{3,}")
_SPACES = re.compile(r"[^\S\n]+")


def normalise_answer(text: str) -> str:
    """Return the answer as it will be stored: NFC, no control or invisible characters.

    Line breaks are kept (at most one empty line in a row); other whitespace runs become a
    single space; leading and trailing whitespace is removed.
    """
    text = text.replace("\r\n", "\n").replace("\r", "\n").translate(_INVISIBLE)
    text = _CONTROLS.sub("", text)
    lines = [_SPACES.sub(" ", line).strip() for line in text.split("\n")]
    # NFC last: removing an invisible character can bring a letter and its accent together.
    return unicodedata.normalize("NFC", _BLANK_LINES.sub("\n\n", "\n".join(lines)).strip())
