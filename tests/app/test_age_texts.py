"""Issue 25: Denmark's age for consent to online services is 15 (databeskyttelsesloven § 6,
as the brief has it since 2024). No text shown to people may give another age as a rule,
and the privacy notice names 15. The age groups of the "om dig" question (13–17 år) are
statistics, not a rule, and stay."""

from __future__ import annotations

import re
from pathlib import Path

from babel.messages.pofile import read_po
from flask.testing import FlaskClient
from sqlalchemy.orm import Session

from tests.factories import make_wall

ROOT = Path(__file__).resolve().parents[2]
#: An age said as a rule: "under 13 år", "13 år gammel", "age of 13", "13 years", "fyldt 13"
AGE_RULE = re.compile(
    r"\b(fyldt|aged?|age of|older than|younger than|ældre end|yngre end)\s+1[0-9]\b"
    r"|(?<![–-])\b1[0-9]\s*(år|years)\b(?!\s*[–-])",
    re.IGNORECASE,
)
#: Where an age given as a rule is 15 (the only one allowed).
ALLOWED = {"15"}


def texts() -> list[tuple[str, str]]:
    """Every user-facing text: templates, the Danish and English catalogues, the docs."""
    found: list[tuple[str, str]] = []
    for path in sorted((ROOT / "app" / "templates").rglob("*.html")):
        found.append((str(path.relative_to(ROOT)), path.read_text(encoding="utf-8")))
    for language in ("da", "en"):
        po = ROOT / "translations" / language / "LC_MESSAGES" / "messages.po"
        with po.open("rb") as handle:
            catalogue = read_po(handle, locale=language)
        for message in catalogue:
            for text in message.string if isinstance(message.string, tuple) else [message.string]:
                found.append((f"{po.relative_to(ROOT)}: {message.id!r}", text or ""))
            ids = message.id if isinstance(message.id, tuple) else [message.id]
            found.extend((f"{po.relative_to(ROOT)} msgid", i) for i in ids if i)
    for path in [ROOT / "README.md", *sorted((ROOT / "docs").rglob("*.md"))]:
        found.append((str(path.relative_to(ROOT)), path.read_text(encoding="utf-8")))
    return found


def test_no_text_gives_another_age_than_15_as_a_rule() -> None:
    wrong = [
        (where, match.group(0))
        for where, text in texts()
        for match in AGE_RULE.finditer(text)
        if re.findall(r"1[0-9]", match.group(0))[-1] not in ALLOWED
    ]
    assert wrong == []


def test_the_pattern_finds_what_it_must() -> None:
    for text in ("Du skal være fyldt 13", "Er du under 13 år?", "aged 13", "13 år gammel"):
        assert AGE_RULE.search(text), text
    for text in ("13–17 år", "13-17 years", "på 4 år"):
        assert not AGE_RULE.search(text), text


def test_the_privacy_notice_names_15(client: FlaskClient, session: Session) -> None:
    wall = make_wall(session)
    html = client.get(f"/w/{wall.slug}/privatliv").get_data(as_text=True)
    assert "under 15 år" in html
    english = client.get(f"/w/{wall.slug}/privatliv?lang=en").get_data(as_text=True)
    assert "under 15" in english
