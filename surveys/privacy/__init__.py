"""Personal-data guard for citizens' free-text answers (pure Python; spaCy tokenizer only).

>>> [(f.kind, f.text) for f in detect_personal_data("Ring til mig på 22 33 44 55")]
[('phone', '22 33 44 55')]
>>> redact("Min søn Emil er 7", [(8, 12)])
'Min søn [fjernet] er 7'
"""

from surveys.privacy.guard import (
    DEFAULT_PLACEHOLDER,
    KINDS,
    Finding,
    contains_personal_data,
    detect_personal_data,
    merge_spans,
    redact,
    utf16_offsets,
)
from surveys.privacy.names import lexicon, might_name, tokenizer


def warm_up() -> None:
    """Load the name lists and the tokenizer now (e.g. at app start) instead of on first use."""
    lexicon()
    might_name("")
    tokenizer()


__all__ = [
    "DEFAULT_PLACEHOLDER",
    "KINDS",
    "Finding",
    "contains_personal_data",
    "detect_personal_data",
    "merge_spans",
    "redact",
    "utf16_offsets",
    "warm_up",
]
