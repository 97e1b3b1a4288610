"""The Danish catalogue is complete and in step with the source."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from babel.messages.pofile import read_po

ROOT = Path(__file__).resolve().parents[2]
CATALOGUES = ROOT / "translations"


def _catalogue(language: str):
    with open(CATALOGUES / language / "LC_MESSAGES" / "messages.po", "rb") as handle:
        return read_po(handle, locale=language)


def test_danish_catalogue_has_no_untranslated_or_fuzzy_entries() -> None:
    catalogue = _catalogue("da")
    untranslated = [m.id for m in catalogue if m.id and not m.string]
    fuzzy = [m.id for m in catalogue if m.id and m.fuzzy]
    assert untranslated == []
    assert fuzzy == []


def test_danish_translations_keep_placeholders() -> None:
    import re

    pattern = re.compile(r"%\((\w+)\)[sd]")
    for message in _catalogue("da"):
        if message.id and isinstance(message.id, str):
            assert sorted(pattern.findall(message.id)) == sorted(pattern.findall(message.string))


def test_catalogue_contains_every_message_in_the_source(tmp_path: Path) -> None:
    """Extract afresh: a string added to the code but not to the catalogue fails here."""
    pot = tmp_path / "messages.pot"
    pybabel = Path(sys.executable).with_name("pybabel")
    subprocess.run(
        [
            str(pybabel),
            "-q",
            "extract",
            "-F",
            "babel.cfg",
            "-k",
            "_l",
            "-k",
            "N_",
            "-o",
            str(pot),
            ".",
        ],
        cwd=ROOT,
        check=True,
    )
    with open(pot, "rb") as handle:
        source = {m.id for m in read_po(handle) if m.id}
    translated = {m.id for m in _catalogue("da") if m.id}
    assert sorted(source - translated) == []
