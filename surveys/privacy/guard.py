"""The personal-data guard: find CPR and ID numbers, e-mail addresses, social media handles, phone
numbers, licence plates, street addresses, a class at a named school and first names in a
citizen's answer, and redact chosen spans."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from surveys.privacy.identifiers import (
    find_handles,
    find_id_numbers,
    find_plates,
    find_school_classes,
)
from surveys.privacy.names import find_names
from surveys.privacy.patterns import (
    find_addresses,
    find_cpr,
    find_emails,
    find_phones,
    fold_fullwidth,
)

#: The kinds of personal data the guard reports, most specific first. When two findings
#: overlap, the one of the earlier kind wins ("Jens Baggesens Vej 12" is an address, not a name).
KINDS: tuple[str, ...] = (
    "cpr",
    "id_number",
    "email",
    "handle",
    "phone",
    "plate",
    "address",
    "class",
    "name",
)
_PRIORITY = {kind: rank for rank, kind in enumerate(KINDS)}

DEFAULT_PLACEHOLDER = "[fjernet]"


@dataclass(frozen=True)
class Finding:
    """One span of personal data: ``text[start:end] == finding.text`` (code-point offsets)."""

    kind: str
    start: int
    end: int
    text: str


def detect_personal_data(text: str) -> list[Finding]:
    """Return the personal data found in ``text``, sorted by start and non-overlapping.

    Offsets are Python string indices (Unicode code points); use ``utf16_offsets`` for
    JavaScript. The text should be the stored (NFC-normalised) answer.
    """
    if not text:
        return []
    folded = fold_fullwidth(text)  # "１２０３０７－１２３４" is a CPR number too
    raw = [
        *find_cpr(folded),
        *find_id_numbers(folded),
        *find_emails(folded),
        *find_handles(folded),
        *find_phones(folded),
        *find_plates(folded),
        *find_addresses(folded),
        *find_school_classes(folded),
        *find_names(text),
    ]
    # Most specific kind first, then the longer span, then the earlier one.
    raw.sort(key=lambda s: (_PRIORITY[s[0]], -(s[2] - s[1]), s[1]))
    kept: list[tuple[str, int, int]] = []
    for kind, start, end in raw:
        if start < end and all(end <= k_start or start >= k_end for _, k_start, k_end in kept):
            kept.append((kind, start, end))
    kept.sort(key=lambda s: s[1])
    return [Finding(kind, start, end, text[start:end]) for kind, start, end in kept]


def contains_personal_data(text: str) -> bool:
    """True when ``detect_personal_data`` finds anything (the answer must not auto-publish)."""
    return bool(detect_personal_data(text))


def merge_spans(spans: Iterable[tuple[int, int]]) -> list[tuple[int, int]]:
    """Sort spans and merge overlapping or touching ones."""
    merged: list[list[int]] = []
    for start, end in sorted(spans):
        if merged and start <= merged[-1][1]:
            merged[-1][1] = max(merged[-1][1], end)
        else:
            merged.append([start, end])
    return [(s, e) for s, e in merged]


def redact(
    text: str, spans: Sequence[tuple[int, int]], placeholder: str = DEFAULT_PLACEHOLDER
) -> str:
    """Replace each span of ``text`` by ``placeholder``; overlapping or touching spans merge.

    Spans are ``(start, end)`` code-point offsets as in ``Finding``; a span outside the text or
    with ``start > end`` raises ``ValueError``. Empty spans are ignored.
    """
    for start, end in spans:
        if not (0 <= start <= end <= len(text)):
            raise ValueError(f"span ({start}, {end}) outside text of length {len(text)}")
    pieces: list[str] = []
    cursor = 0
    for start, end in merge_spans((s, e) for s, e in spans if s < e):
        pieces.append(text[cursor:start])
        pieces.append(placeholder)
        cursor = end
    pieces.append(text[cursor:])
    return "".join(pieces)


def utf16_offsets(text: str, start: int, end: int) -> tuple[int, int]:
    """Convert code-point offsets to UTF-16 code-unit offsets (JavaScript string indices)."""

    def units(s: str) -> int:
        return len(s.encode("utf-16-le")) // 2

    prefix = units(text[:start])
    return prefix, prefix + units(text[start:end])
