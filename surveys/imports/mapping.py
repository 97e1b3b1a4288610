"""Mapping columns: which column of the file holds the text, the question, the date, ..."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, fields

from ..errors import N_
from .messages import invalid, quote
from .reading import Table


@dataclass(frozen=True)
class ColumnMapping:
    """Which column (by name) holds what; ``None``: not in the file."""

    text: str | None = None
    prompt: str | None = None  # the question's text (or a prompt id)
    prompt_number: str | None = None  # the question's number on the wall, 1, 2, ...
    date: str | None = None
    channel: str | None = None
    role: str | None = None
    age_group: str | None = None
    area: str | None = None
    place: str | None = None
    language: str | None = None
    wall: str | None = None  # a wall's title or slug (campaign imports)
    submission_id: str | None = None
    choice: str | None = None  # a closed question's choice, as the export writes it
    round: str | None = None  # the round's name (campaign imports)

    def as_dict(self) -> dict[str, str | None]:
        """Field name -> column name."""
        return {f.name: getattr(self, f.name) for f in fields(self)}

    @classmethod
    def from_dict(cls, values: Mapping[str, object]) -> ColumnMapping:
        """A mapping from form or command-line values (empty strings mean "not mapped")."""
        names = {f.name for f in fields(cls)}
        unknown = set(values) - names
        if unknown:
            raise invalid(
                N_("Unknown field: %(field)s."), "invalid_mapping", field=sorted(unknown)[0][:40]
            )
        return cls(**{k: (str(v) if v else None) for k, v in values.items()})


MAPPING_FIELDS = tuple(f.name for f in fields(ColumnMapping))

#: Header names recognised per field, compared without case, spaces or punctuation
#: (Stemmer's own export in Danish and English, the API's JSON fields, common Danish words).
HEADER_NAMES: dict[str, tuple[str, ...]] = {
    "text": (
        "svar",
        "tekst",
        "text",
        "svartekst",
        "besked",
        "kommentar",
        "comment",
        "note",
        "seddel",
        "postit",
        "answertext",
        "ditsvar",
    ),
    "prompt": ("spørgsmål", "question", "prompt", "promptid", "spørgsmålstekst", "questionid"),
    "prompt_number": (
        "spørgsmålnr",
        "spørgsmålsnr",
        "spørgsmålnummer",
        "questionno",
        "questionnumber",
        "nr",
    ),
    "date": (
        "dato",
        "date",
        "createdat",
        "writtenon",
        "skrevet",
        "skrevetden",
        "dag",
        "oprettet",
        "tidspunkt",
    ),
    "channel": ("kanal", "channel"),
    "role": ("rolle", "role"),
    "age_group": ("aldersgruppe", "agegroup", "alder", "age", "barnetsalder"),
    "area": ("område", "area", "bydel", "lokalområde", "postnummer"),
    "place": ("sted", "place", "arrangement", "event", "lokation", "location", "begivenhed"),
    "language": ("sprog", "language", "lang"),
    "wall": ("væg", "wall", "væggen", "walltitle"),
    "submission_id": ("clientsubmissionid", "submissionid"),
    "choice": ("valg", "choice", "value", "svarmulighed"),
    "round": ("runde", "round"),
}


def _header_key(name: str) -> str:
    return "".join(ch for ch in name.casefold() if ch.isalnum())


def suggest_mapping(columns: Sequence[str]) -> ColumnMapping:
    """A first guess from the header names (e.g. "Svar", "Spørgsmål", "Dato", "Område")."""
    found: dict[str, str] = {}
    for column in columns:
        key = _header_key(column)
        for name, aliases in HEADER_NAMES.items():
            if key in aliases and name not in found:
                found[name] = column
                break
    if "text" not in found and len(columns) == 1:
        found["text"] = columns[0]
    return ColumnMapping(**found)


def check_mapping(table: Table, mapping: ColumnMapping, *, needs_wall: bool) -> None:
    for column in mapping.as_dict().values():
        if column is not None and column not in table.columns:
            raise invalid(
                N_("The file has no column %(column)s."), "invalid_mapping", column=quote(column)
            )
    if mapping.text is None:
        raise invalid(N_("Choose the column that holds the answers' text."), "text_column_missing")
    if needs_wall and mapping.wall is None:
        raise invalid(N_("Choose the column that names each answer's wall."), "wall_column_missing")
