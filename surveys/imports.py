"""Answers from files: CSV, XLSX and JSON Lines, previewed and then imported in one transaction.

The flow is ``read_table`` (bytes to a :class:`Table` of text cells) -> ``suggest_mapping``
(which column is the text, the question, the date, ...) -> ``plan_import`` (every row checked
against the target wall(s): the preview's counts and per-row errors) -> ``import_answers``
(the plan written in ONE transaction: either every planned answer is stored or none).

Imported answers get the same treatment as answers from the web: the text is normalised and
validated by :func:`surveys.operations.clean_answer_text`, profile values by
:func:`~surveys.operations.clean_profile`, the personal-data guard runs on every text and
:func:`~surveys.operations.initial_status` decides whether it is published or held for
moderation. The wall's answering window does not apply: paper collected while a wall was open
is typed in afterwards.

Encodings. Files are decoded in this order: a byte-order mark decides (UTF-8, UTF-16);
otherwise strict UTF-8 is tried, and a file that is not valid UTF-8 is read as Windows-1252
(what Danish Excel writes for "CSV (semikolonsepareret)"), or as Latin-1 for the five bytes
Windows-1252 leaves undefined. UTF-8 is self-checking: Windows-1252 text with æ, ø or å
(single bytes 0xE6, 0xF8, 0xE5 followed by ASCII) is practically never valid UTF-8, so the
order cannot mistake a Danish Windows file for UTF-8. The preview says which encoding was used
and warns when the text looks double-encoded ("Ã¸" for "ø").

Duplicates. A row is a duplicate when its normalised text (case and spacing ignored) is
already stored on the same wall for the same day, or appeared earlier in the file, or when its
submission id is already stored on the wall (re-importing the same file or JSON Lines export).
The day of a stored answer is its ``written_on`` date, else its creation date in Copenhagen.
"""

from __future__ import annotations

import codecs
import csv
import hashlib
import io
import json
import re
import unicodedata
import uuid
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field, fields, replace
from datetime import UTC, date, datetime, time
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import insert, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from . import audit
from .errors import N_, Conflict, DomainError, InvalidInput
from .models import (
    AGE_GROUP_CODES,
    PROFILE_FIELDS,
    ROLE_CODES,
    Answer,
    AnswerStatus,
    Audience,
    Campaign,
    Channel,
    Moderation,
    Organisation,
    Prompt,
    StaffUser,
    Wall,
    utcnow,
)
from .operations import (
    SUBMISSION_ID_PATTERN,
    clean_answer_text,
    clean_profile,
    findings_json,
    initial_status,
)
from .privacy import detect_personal_data
from .text import normalise_answer

LOCAL_ZONE = ZoneInfo("Europe/Copenhagen")
#: Largest file accepted (bytes) and most data rows in one import.
MAX_FILE_BYTES = 25 * 1024 * 1024
MAX_ROWS = 200_000
MAX_PLACE_LENGTH = 200
#: Rows of the preview table shown before importing.
SAMPLE_SIZE = 10

# -- messages -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Issue:
    """A translatable message (English source, ``%(name)s`` params), for a row or the file."""

    message: str
    params: Mapping[str, object] = field(default_factory=dict)
    row: int | None = None

    def render(self, gettext: Any = None) -> str:
        """The message, translated with ``gettext(msgid, **params)`` when given."""
        if gettext is not None:
            text = gettext(self.message, **self.params)
            if self.row is None:
                return text
            return gettext(ROW_PREFIX, row=self.row, message=text)
        text = self.message % dict(self.params) if self.params else self.message
        return text if self.row is None else ROW_PREFIX % {"row": self.row, "message": text}


ROW_PREFIX = N_("Row %(row)d: %(message)s")


class ImportRefused(InvalidInput):
    """The file has rows with errors and skipping them was not asked for: nothing imported."""

    code = "import_has_errors"

    def __init__(self, plan: ImportPlan) -> None:
        super().__init__(
            N_(
                "%(count)d rows have errors, so nothing was imported. Correct the rows, or "
                "choose to import the other rows and skip those."
            ),
            count=len(plan.errors),
        )
        self.plan = plan


def _invalid(message: str, code: str, **params: object) -> InvalidInput:
    return InvalidInput(message, code=code, **params)


# -- reading files --------------------------------------------------------------------------------


@dataclass(frozen=True)
class Row:
    """One data row: its number in the file (as a spreadsheet shows it) and its cells."""

    number: int
    cells: tuple[str, ...]
    problem: Issue | None = None
    #: Indexes of CSV cells that hold a spreadsheet formula ("=SUM(A1:A3)") instead of a value.
    formulas: frozenset[int] = frozenset()

    def is_blank(self) -> bool:
        """Whether every cell is empty."""
        return self.problem is None and not any(c.strip() for c in self.cells)


@dataclass
class Table:
    """A file read as text cells under column names."""

    format: str  # "csv", "xlsx" or "jsonl"
    columns: list[str]
    rows: list[Row]
    encoding: str | None = None
    delimiter: str | None = None
    notices: list[Issue] = field(default_factory=list)
    #: A hash of the file's bytes: generated submission ids make re-imports recognisable.
    digest: str = ""


ENCODING_NOTICES = {
    "utf-8": N_("The file was read as UTF-8."),
    "utf-16": N_('The file was read as UTF-16 (Excel\'s "Unicode text").'),
    "windows-1252": N_(
        "The file was read as Windows-1252, the format Danish Excel saves CSV files in."
    ),
    "latin-1": N_("The file was read as Latin-1 (ISO-8859-1)."),
}
DELIMITER_NOTICES = {
    ";": N_("The columns are separated by semicolons (;)."),
    ",": N_("The columns are separated by commas (,)."),
    "\t": N_("The columns are separated by tabs."),
}
_MOJIBAKE = re.compile("Ã[¦¸¥†˜…©¼¶¤]")
_FORMULA = re.compile(r"^=\s*(?:[A-Za-zÆØÅæøå_][\w.]*\s*\(|\$?[A-Za-z]{1,3}\$?\d+)")
_EXPORT_NEUTRALISED = re.compile("^'[=+\\-@\t\r\n＝＋－＠]")


def decode(data: bytes) -> tuple[str, str]:
    """The text of a file and the encoding used (see the module's docstring for the order)."""
    if data.startswith(codecs.BOM_UTF8):
        return data[len(codecs.BOM_UTF8) :].decode("utf-8", errors="replace"), "utf-8"
    if data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return data.decode("utf-16", errors="replace"), "utf-16"
    try:
        return data.decode("utf-8"), "utf-8"
    except UnicodeDecodeError:
        pass
    try:
        return data.decode("cp1252"), "windows-1252"
    except UnicodeDecodeError:
        return data.decode("latin-1"), "latin-1"


def sniff_delimiter(text: str) -> str:
    """``;``, tab or ``,``: the one that splits the first lines into the most regular columns."""
    head = [line for line in text.splitlines()[:50] if line.strip()]
    if not head:
        return ";"
    best: tuple[tuple[float, int, int], str] | None = None
    for priority, delimiter in enumerate((";", "\t", ",")):
        try:
            rows = list(csv.reader(head, delimiter=delimiter))
        except csv.Error:
            continue
        width = len(rows[0])
        regular = sum(len(r) == width for r in rows[1:]) / max(len(rows) - 1, 1)
        key = (min(width, 2), regular, -priority)  # a header that splits is the best clue
        if best is None or key > best[0]:
            best = (key, delimiter)
    return best[1] if best else ";"


def _strip_trailing_blanks(rows: list[Row]) -> list[Row]:
    while rows and rows[-1].is_blank():
        rows.pop()
    return rows


def _column_names(header: Sequence[object]) -> list[str]:
    names: list[str] = []
    for index, value in enumerate(header, start=1):
        name = normalise_answer(str(value or "")).replace("\n", " ")[:100] or f"#{index}"
        base, n = name, 2
        while name in names:
            name, n = f"{base} ({n})", n + 1
        names.append(name)
    return names


def _align(cells: Sequence[str], width: int) -> tuple[str, ...]:
    if len(cells) < width:
        return (*cells, *([""] * (width - len(cells))))
    return tuple(cells[:width])


def read_csv(text: str) -> Table:
    """A CSV text (delimiter sniffed, first non-blank row the header) as a :class:`Table`."""
    delimiter = sniff_delimiter(text)
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    header: list[str] | None = None
    rows: list[Row] = []
    line = 1
    try:
        for record in reader:
            number, line = line, reader.line_num + 1
            if header is None:
                if any(c.strip() for c in record):
                    header = _column_names(record)
                continue
            formulas = frozenset(i for i, c in enumerate(record) if _FORMULA.match(c.strip()))
            cells = tuple(_unneutralise(c) for c in record)
            if len(cells) > len(header) and any(c.strip() for c in cells[len(header) :]):
                rows.append(
                    Row(
                        number,
                        _align(cells, len(header)),
                        Issue(
                            N_(
                                "The row has %(found)d cells but the header only %(expected)d "
                                "columns. Is a text with a separator missing its quotes?"
                            ),
                            {"found": len(cells), "expected": len(header)},
                            number,
                        ),
                    )
                )
                continue
            rows.append(Row(number, _align(cells, len(header)), formulas=formulas))
            if len(rows) > MAX_ROWS:
                raise _too_many_rows()
    except csv.Error as error:
        raise _invalid(
            N_("The file could not be read as CSV near line %(line)d: %(error)s"),
            "unreadable_csv",
            line=line,
            error=str(error)[:200],
        ) from error
    if header is None:
        raise _invalid(N_("The file is empty."), "empty_file")
    table = Table("csv", header, _strip_trailing_blanks(rows), delimiter=delimiter)
    table.notices.append(Issue(DELIMITER_NOTICES[delimiter]))
    return table


def _unneutralise(cell: str) -> str:
    """Undo the apostrophe that Stemmer's own export puts before formula-like cells."""
    return cell[1:] if _EXPORT_NEUTRALISED.match(cell) else cell


def _too_many_rows() -> InvalidInput:
    return _invalid(
        N_("The file has more than %(max)d rows. Split it into smaller files."),
        "too_many_rows",
        max=MAX_ROWS,
    )


def _cell_text(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, datetime):
        return value.date().isoformat() if value.time() == time(0) else value.isoformat()
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, bool):
        return "1" if value else "0"
    return str(value)


def read_xlsx(data: bytes) -> Table:
    """The first sheet of an XLSX workbook as a :class:`Table`: values, never formulas.

    A formula cell is replaced by the result Excel saved with it (a notice says how many);
    one without a saved result (e.g. written by a program, never opened in Excel) makes
    its row an error.
    """
    from openpyxl import load_workbook  # only needed for XLSX files

    try:
        formulas = load_workbook(io.BytesIO(data), read_only=True, data_only=False)
    except Exception as error:  # zip, XML or openpyxl errors: all mean "cannot open"
        raise _invalid(
            N_("The XLSX file could not be opened. It may be damaged or password-protected."),
            "unreadable_xlsx",
        ) from error
    try:
        sheet = formulas.worksheets[0]
        grid = [
            [(cell.value, getattr(cell, "data_type", "n") == "f") for cell in row]
            for row in sheet.iter_rows()
        ]
        sheets = len(formulas.worksheets)
        title = sheet.title
    finally:
        formulas.close()
    cached: list[list[object]] | None = None
    if any(is_formula for row in grid for _v, is_formula in row):
        values = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
        try:
            cached = [[cell.value for cell in row] for row in values.worksheets[0].iter_rows()]
        finally:
            values.close()
    header: list[str] | None = None
    rows: list[Row] = []
    computed = 0
    for index, row in enumerate(grid):
        number = index + 1
        cells: list[str] = []
        problem: Issue | None = None
        for col, (value, is_formula) in enumerate(row):
            if is_formula:
                result = cached[index][col] if cached and col < len(cached[index]) else None
                if result is None:
                    problem = problem or Issue(
                        N_(
                            "Column %(column)s holds a formula without a saved result. Open "
                            "the file in Excel and save it, or replace the formula by its value."
                        ),
                        {"column": _column_letter(col)},
                        number,
                    )
                    cells.append("")
                    continue
                computed += 1
                value = result
            cells.append(_cell_text(value))
        if header is None:
            if any(c.strip() for c in cells):
                header = _column_names(cells)
            continue
        rows.append(Row(number, _align(cells, len(header)), problem))
        if len(rows) > MAX_ROWS:
            raise _too_many_rows()
    if header is None:
        raise _invalid(N_("The file is empty."), "empty_file")
    table = Table("xlsx", header, _strip_trailing_blanks(rows))
    if computed:
        table.notices.append(
            Issue(
                N_("%(count)d cells held formulas: the values Excel calculated were used."),
                {"count": computed},
            )
        )
    if sheets > 1:
        table.notices.append(
            Issue(
                N_("Only the first sheet (%(sheet)s) was read; the file has %(count)d sheets."),
                {"sheet": title, "count": sheets},
            )
        )
    return table


def _column_letter(index: int) -> str:
    letters = ""
    index += 1
    while index:
        index, rest = divmod(index - 1, 26)
        letters = chr(65 + rest) + letters
    return letters


#: JSON Lines fields (the API's answer format, as sent and as listed) and their columns.
JSONL_COLUMNS = (
    "prompt_id",
    "text",
    "client_submission_id",
    "channel",
    "role",
    "age_group",
    "area",
    "created_at",
    "place",
    "language",
)
JSONL_IGNORED = frozenset({"id", "status", "agree_count"})


def read_jsonl(text: str) -> Table:
    """JSON Lines in the API's answer format: one object per line.

    Fields: ``prompt_id``, ``text``, ``client_submission_id``, ``channel``, ``profile``
    (``role``, ``age_group``, ``area``) as ``POST /api/v1/walls/<slug>/answers`` takes them,
    plus ``created_at`` (or ``date``), ``place`` and ``language``; ``id``, ``status`` and
    ``agree_count`` (from the API's answer lists) are ignored.
    """
    rows: list[Row] = []
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            rows.append(Row(number, ("",) * len(JSONL_COLUMNS)))
            continue
        cells, problem = _json_cells(line, number)
        rows.append(Row(number, cells, problem))
        if len(rows) > MAX_ROWS:
            raise _too_many_rows()
    rows = _strip_trailing_blanks(rows)
    if not rows:
        raise _invalid(N_("The file is empty."), "empty_file")
    return Table("jsonl", list(JSONL_COLUMNS), rows)


def _json_cells(line: str, number: int) -> tuple[tuple[str, ...], Issue | None]:
    empty = ("",) * len(JSONL_COLUMNS)
    try:
        item = json.loads(line)
    except ValueError as error:
        return empty, Issue(
            N_("The line is not valid JSON: %(error)s"), {"error": str(error)}, number
        )
    if not isinstance(item, dict):
        return empty, Issue(N_("The line must be a JSON object."), {}, number)
    profile = item.get("profile") or {}
    if not isinstance(profile, dict):
        return empty, Issue(N_("The profile must be an object."), {}, number)
    values = {k: v for k, v in item.items() if k not in JSONL_IGNORED and k != "profile"}
    values.update({k: v for k, v in profile.items() if k in PROFILE_FIELDS})
    if "date" in values and "created_at" not in values:
        values["created_at"] = values.pop("date")
    unknown = sorted(set(values) - set(JSONL_COLUMNS)) + sorted(set(profile) - set(PROFILE_FIELDS))
    if unknown:
        return empty, Issue(N_("Unknown field: %(field)s."), {"field": unknown[0][:40]}, number)
    if "text" in values and not isinstance(values["text"], str):
        return empty, Issue(N_("The answer must be text."), {}, number)
    return tuple(_cell_text(values.get(k)) for k in JSONL_COLUMNS), None


def read_table(data: bytes, filename: str = "") -> Table:
    """Read an uploaded file (format from its content and name) into a :class:`Table`."""
    if len(data) > MAX_FILE_BYTES:
        raise _invalid(
            N_("The file is too large: at most %(max)d MB."),
            "file_too_large",
            max=MAX_FILE_BYTES // (1024 * 1024),
        )
    digest = hashlib.sha256(data).hexdigest()[:16]
    name = filename.lower()
    if data.startswith(b"\xd0\xcf\x11\xe0"):
        raise _invalid(
            N_("This is an old Excel file (.xls). Save it as .xlsx or CSV and try again."),
            "old_excel",
        )
    if data.startswith(b"PK\x03\x04"):
        table = read_xlsx(data)
    else:
        text, encoding = decode(data)
        if "\x00" in text:
            raise _invalid(
                N_("This does not look like a text file. Upload CSV, XLSX or JSON Lines."),
                "not_text",
            )
        first = next((line.strip() for line in text.splitlines() if line.strip()), "")
        if name.endswith((".jsonl", ".ndjson", ".json")) or first.startswith("{"):
            table = read_jsonl(text)
        else:
            table = read_csv(text)
        table.encoding = encoding
        table.notices.insert(0, Issue(ENCODING_NOTICES[encoding]))
        if _MOJIBAKE.search(text):
            table.notices.append(
                Issue(
                    N_(
                        'Some letters look garbled (such as "Ã¸" instead of "ø"): the file '
                        "was probably saved in the wrong encoding at some point. Check the "
                        "preview before importing."
                    )
                )
            )
    table.digest = digest
    return table


# -- column mapping -------------------------------------------------------------------------------


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

    def as_dict(self) -> dict[str, str | None]:
        """Field name -> column name."""
        return {f.name: getattr(self, f.name) for f in fields(self)}

    @classmethod
    def from_dict(cls, values: Mapping[str, object]) -> ColumnMapping:
        """A mapping from form or command-line values (empty strings mean "not mapped")."""
        names = {f.name for f in fields(cls)}
        unknown = set(values) - names
        if unknown:
            raise _invalid(
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


# -- options and values ---------------------------------------------------------------------------


@dataclass(frozen=True)
class ImportOptions:
    """Values for rows that do not give them, and what to do with duplicates and bad rows."""

    prompt_id: int | None = None
    channel: Channel | None = None  # None: "api" for JSON Lines, "paper" for spreadsheets
    place: str | None = None
    written_on: date | None = None
    profile: Mapping[str, str] = field(default_factory=dict)
    keep_duplicates: bool = False
    skip_invalid: bool = False
    today: date | None = None  # for tests: "today" in Copenhagen


CHANNEL_NAMES: dict[str, Channel] = {
    **{c.value: c for c in Channel},
    "papir": Channel.PAPER,
    "mobil": Channel.WEB,
    "telefon": Channel.WEB,
    "internet": Channel.WEB,
    "tablet": Channel.KIOSK,
    "arrangement": Channel.EVENT,
    "begivenhed": Channel.EVENT,
}
#: Danish and English labels accepted for the coded profile answers (codes are accepted too).
ROLE_NAMES = {
    "forælder": "parent",
    "forældre": "parent",
    "kommende forælder": "expecting",
    "vordende forælder": "expecting",
    "gravid": "expecting",
    "ung": "young",
    "fagperson": "professional",
    "andet": "other",
    "parent": "parent",
    "expecting a child": "expecting",
    "young person": "young",
    "working with children": "professional",
}
_DATE_DMY = re.compile(r"^(\d{1,2})[./-](\d{1,2})[./-](\d{4})$")
_LANGUAGE = re.compile(r"^[a-z]{2}$")

PROFILE_MESSAGES = {
    "role": (
        N_("This wall does not ask about the role, so %(value)s cannot be stored."),
        N_("%(value)s is not one of the roles (parent, expecting, young, professional, other)."),
    ),
    "age_group": (
        N_("This wall does not ask about the age group, so %(value)s cannot be stored."),
        N_("%(value)s is not one of the age groups (0-2, 3-5, 6-12, 13-17, 18-24)."),
    ),
    "area": (
        N_("This wall does not ask about the area, so %(value)s cannot be stored."),
        N_("%(value)s is not one of the wall's areas."),
    ),
}


class RowError(Exception):
    """A row that cannot be imported; carries the :class:`Issue`."""

    def __init__(self, message: str, **params: object) -> None:
        super().__init__(message)
        self.message = message
        self.params = params


def today_local() -> date:
    """Today's date in Copenhagen."""
    return utcnow().astimezone(LOCAL_ZONE).date()


def local_day(moment: datetime) -> date:
    """The Copenhagen date of an aware timestamp."""
    return moment.astimezone(LOCAL_ZONE).date()


def created_at_for(day: date | None, now: datetime) -> datetime:
    """When an answer written on ``day`` counts as created: noon in Copenhagen (never later
    than now); ``now`` when no date is known."""
    if day is None:
        return now
    noon = datetime.combine(day, time(12), LOCAL_ZONE).astimezone(UTC)
    return min(noon, now)


def parse_date(value: str, today: date) -> date:
    """A date as written in Denmark (24-11-2025, 24.11.2025, 24/11/2025) or ISO (2025-11-24,
    also an ISO timestamp); not in the future."""
    raw = value.strip()
    parsed: date | None = None
    try:
        if "T" in raw or " " in raw.strip():
            moment = datetime.fromisoformat(raw.replace(" ", "T", 1))
            parsed = local_day(moment) if moment.tzinfo else moment.date()
        else:
            parsed = date.fromisoformat(raw)
    except ValueError:
        match = _DATE_DMY.match(raw)
        if match:
            day, month, year = (int(g) for g in match.groups())
            try:
                parsed = date(year, month, day)
            except ValueError:
                parsed = None
    if parsed is None:
        raise RowError(
            N_("%(value)s is not a date. Write dates as 24-11-2025 or 2025-11-24."),
            value=_quote(raw),
        )
    if parsed > today:
        raise RowError(N_("The date %(value)s is in the future."), value=parsed.isoformat())
    return parsed


def parse_channel(value: str) -> Channel:
    """A channel from its code or Danish name (papir, web, kiosk, arrangement, api)."""
    channel = CHANNEL_NAMES.get(value.strip().casefold())
    if channel is None:
        raise RowError(
            N_("%(value)s is not a channel. Use paper, web, kiosk, event or api."),
            value=_quote(value),
        )
    return channel


def clean_place(value: str | None) -> str | None:
    """The event or place, on one line, at most ``MAX_PLACE_LENGTH`` characters."""
    if value is None:
        return None
    place = " ".join(normalise_answer(value).split())
    if len(place) > MAX_PLACE_LENGTH:
        raise RowError(
            N_("The place is too long: at most %(max)d characters."), max=MAX_PLACE_LENGTH
        )
    return place or None


def profile_code(wall: Wall, name: str, value: str) -> str:
    """The stored code of a profile value given as a code or a Danish/English label."""
    raw = " ".join(value.split())
    folded = raw.casefold().replace("–", "-")
    if name not in wall.profile_questions:
        raise RowError(PROFILE_MESSAGES[name][0], value=_quote(raw))
    if name == "role":
        code = folded if folded in ROLE_CODES else ROLE_NAMES.get(folded)
    elif name == "age_group":
        code = folded.removesuffix("år").removesuffix("years").replace(" ", "")
        code = code if code in AGE_GROUP_CODES else None
    else:
        code = next((a for a in wall.areas if a.casefold() == folded), None)
    if code is None:
        raise RowError(PROFILE_MESSAGES[name][1], value=_quote(raw))
    return code


def _quote(value: str) -> str:
    return "“" + value[:60] + ("…" if len(value) > 60 else "") + "”"


def duplicate_key(text: str) -> str:
    """Normalised texts that differ only in case and spacing are the same answer."""
    return " ".join(text.casefold().split())


def answer_values(
    wall: Wall,
    prompt: Prompt,
    text: str,
    *,
    channel: Channel,
    client_submission_id: str,
    now: datetime,
    written_on: date | None = None,
    place: str | None = None,
    profile: Mapping[str, str] | None = None,
    language: str | None = None,
) -> dict[str, Any]:
    """The column values of a new answer from paper or a file (``text`` already cleaned).

    Runs the personal-data guard; the status is what a web answer would get.
    """
    findings = detect_personal_data(text)
    return {
        "wall_id": wall.id,
        "prompt_id": prompt.id,
        "text": text,
        "created_at": created_at_for(written_on, now),
        "channel": channel,
        "client_submission_id": client_submission_id,
        "status": initial_status(wall, findings),
        "pii_findings": findings_json(findings),
        "language": language,
        "role": None,
        "age_group": None,
        "area": None,
        **dict(profile or {}),
        "device_id": None,
        "place": place,
        "written_on": written_on,
    }


def stored_keys(
    session: Session, wall_ids: Iterable[int]
) -> tuple[set[tuple[int, str, date]], set[tuple[int, str]]]:
    """(wall, text key, day) and (wall, submission id) of the answers stored on the walls."""
    ids = list(wall_ids)
    texts: set[tuple[int, str, date]] = set()
    submissions: set[tuple[int, str]] = set()
    if not ids:
        return texts, submissions
    stmt = select(
        Answer.wall_id,
        Answer.text,
        Answer.written_on,
        Answer.created_at,
        Answer.client_submission_id,
    ).where(Answer.wall_id.in_(ids))
    for wall_id, text, written_on, created_at, submission in session.execute(stmt):
        texts.add((wall_id, duplicate_key(text), written_on or local_day(created_at)))
        submissions.add((wall_id, submission))
    return texts, submissions


# -- planning -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class PlannedAnswer:
    """A row that will be imported: its row number and the answer's column values."""

    row: int
    values: dict[str, Any]
    wall_title: str
    prompt_text: str


@dataclass
class ImportPlan:
    """The preview: what an import of the file would do."""

    table: Table
    mapping: ColumnMapping
    rows: int = 0
    empty: int = 0
    duplicates: int = 0
    answers: list[PlannedAnswer] = field(default_factory=list)
    errors: list[Issue] = field(default_factory=list)
    notices: list[Issue] = field(default_factory=list)

    @property
    def to_import(self) -> int:
        """How many answers the import stores."""
        return len(self.answers)

    @property
    def held(self) -> int:
        """How many of them wait for moderation (pre-moderated wall or personal data found)."""
        return sum(a.values["status"] is AnswerStatus.PENDING for a in self.answers)

    @property
    def flagged(self) -> int:
        """How many of them the personal-data guard flagged."""
        return sum(bool(a.values["pii_findings"]) for a in self.answers)

    @property
    def sample(self) -> list[PlannedAnswer]:
        """The first answers, for the preview table."""
        return self.answers[:SAMPLE_SIZE]

    def counts(self) -> dict[str, int]:
        """The counts as a dict (for audit entries and JSON)."""
        return {
            "rows": self.rows,
            "imported": self.to_import,
            "empty": self.empty,
            "duplicates": self.duplicates,
            "errors": len(self.errors),
            "held": self.held,
        }


class _Context:
    """Per-plan lookups: walls, prompts, stored keys."""

    def __init__(
        self, session: Session, walls: Sequence[Wall], options: ImportOptions, table: Table
    ) -> None:
        self.walls = list(walls)
        self.options = options
        self.table = table
        self.today = options.today or today_local()
        self.now = utcnow()
        self.by_name: dict[str, Wall] = {}
        for wall in self.walls:
            self.by_name.setdefault(wall.title.casefold().strip(), wall)
            self.by_name.setdefault(wall.slug.casefold(), wall)
        self.prompts: dict[int, list[Prompt]] = {
            w.id: sorted(w.prompts, key=lambda p: p.position) for w in self.walls
        }
        self.prompt_texts = {
            w.id: {duplicate_key(normalise_answer(p.text)): p for p in self.prompts[w.id]}
            for w in self.walls
        }
        self.texts, self.submissions = stored_keys(session, [w.id for w in self.walls])
        self.default_channel = options.channel or (
            Channel.API if table.format == "jsonl" else Channel.PAPER
        )
        self.default_place = clean_place(options.place) if options.place else None
        self._batch_profiles: dict[int, dict[str, str]] = {}

    def batch_profile(self, wall: Wall) -> dict[str, str]:
        """The batch's profile values as the wall's codes (RowError when the wall has none)."""
        if wall.id not in self._batch_profiles:
            self._batch_profiles[wall.id] = {
                k: profile_code(wall, k, v) for k, v in self.options.profile.items() if v
            }
        return self._batch_profiles[wall.id]


def _target_walls(session: Session, target: Wall | Campaign) -> list[Wall]:
    if isinstance(target, Wall):
        return [target]
    return list(
        session.scalars(select(Wall).where(Wall.campaign_id == target.id).order_by(Wall.id))
    )


def plan_import(
    session: Session,
    target: Wall | Campaign,
    table: Table,
    mapping: ColumnMapping,
    options: ImportOptions | None = None,
) -> ImportPlan:
    """Check every row against the target (a wall, or a campaign whose walls the mapped
    "wall" column names) and return the preview; writes nothing."""
    options = options or ImportOptions()
    _check_mapping(table, mapping, needs_wall=isinstance(target, Campaign))
    walls = _target_walls(session, target)
    if not walls:
        raise _invalid(N_("The campaign has no walls to import into."), "no_walls")
    if options.prompt_id is not None and not any(
        p.id == options.prompt_id for w in walls for p in w.prompts
    ):
        raise _invalid(N_("Choose one of the wall's questions."), "invalid_prompt")
    try:
        context = _Context(session, walls, options, table)
        if len(walls) == 1:
            context.batch_profile(walls[0])  # a bad batch value is the whole file's problem
    except RowError as error:
        raise _invalid(error.message, "invalid_batch", **error.params) from error
    plan = ImportPlan(table, mapping, notices=list(table.notices))
    index = {name: i for i, name in enumerate(table.columns)}
    positions = {k: index[v] for k, v in mapping.as_dict().items() if v is not None}
    seen_texts: set[tuple[int, str, date]] = set()
    seen_ids: set[tuple[int, str]] = set()
    for row in table.rows:
        plan.rows += 1
        if row.problem is not None:
            plan.errors.append(row.problem)
            continue
        cells = {k: row.cells[i].strip() for k, i in positions.items()}
        try:
            text = clean_answer_text(cells["text"])
        except DomainError as error:
            if error.code == "empty_text":
                plan.empty += 1
            else:
                plan.errors.append(Issue(error.message, error.params, row.number))
            continue
        try:
            if positions["text"] in row.formulas:
                raise RowError(
                    N_(
                        "The text is a spreadsheet formula (%(value)s), not an answer. Save "
                        "the file with values instead of formulas."
                    ),
                    value=_quote(cells["text"]),
                )
            planned = _plan_row(context, row, cells, text)
        except RowError as error:
            plan.errors.append(Issue(error.message, error.params, row.number))
            continue
        values = planned.values
        wall_id = values["wall_id"]
        text_key = (wall_id, duplicate_key(values["text"]), values["written_on"] or context.today)
        id_key = (wall_id, values["client_submission_id"])
        if id_key in context.submissions or id_key in seen_ids:
            plan.duplicates += 1  # the same row imported before: never twice
            continue
        if not options.keep_duplicates and (text_key in context.texts or text_key in seen_texts):
            plan.duplicates += 1
            continue
        seen_texts.add(text_key)
        seen_ids.add(id_key)
        plan.answers.append(planned)
    return plan


def _check_mapping(table: Table, mapping: ColumnMapping, *, needs_wall: bool) -> None:
    for column in mapping.as_dict().values():
        if column is not None and column not in table.columns:
            raise _invalid(
                N_("The file has no column %(column)s."), "invalid_mapping", column=_quote(column)
            )
    if mapping.text is None:
        raise _invalid(N_("Choose the column that holds the answers' text."), "text_column_missing")
    if needs_wall and mapping.wall is None:
        raise _invalid(
            N_("Choose the column that names each answer's wall."), "wall_column_missing"
        )


def _plan_row(context: _Context, row: Row, cells: Mapping[str, str], text: str) -> PlannedAnswer:
    wall = _row_wall(context, cells)
    prompt = _row_prompt(context, wall, cells)
    written_on = (
        parse_date(cells["date"], context.today)
        if cells.get("date")
        else context.options.written_on
    )
    channel = parse_channel(cells["channel"]) if cells.get("channel") else context.default_channel
    place = clean_place(cells["place"]) if cells.get("place") else context.default_place
    profile = dict(context.batch_profile(wall))
    for name in PROFILE_FIELDS:
        if cells.get(name):
            profile[name] = profile_code(wall, name, cells[name])
    try:
        profile = clean_profile(wall, profile)
    except DomainError as error:
        raise RowError(error.message, **error.params) from error
    # A file's own language column decides (empty: unknown); otherwise the wall's language.
    language = cells["language"].casefold() or None if "language" in cells else wall.language
    if language is not None and not _LANGUAGE.match(language):
        raise RowError(
            N_("%(value)s is not a language code (such as da or en)."), value=_quote(language)
        )
    submission = cells.get("submission_id") or (
        f"imp-{context.table.digest}-{row.number}"
        if context.table.digest
        else f"imp-{uuid.uuid4().hex}"
    )
    if not SUBMISSION_ID_PATTERN.match(submission):
        raise RowError(N_("client_submission_id must be 8-64 letters, digits or -_.:"))
    values = answer_values(
        wall,
        prompt,
        text,
        channel=channel,
        client_submission_id=submission,
        now=context.now,
        written_on=written_on,
        place=place,
        profile=profile,
        language=language,
    )
    return PlannedAnswer(row.number, values, wall.title, prompt.text)


def _row_wall(context: _Context, cells: Mapping[str, str]) -> Wall:
    if len(context.walls) == 1 and not cells.get("wall"):
        return context.walls[0]
    name = cells.get("wall", "")
    wall = context.by_name.get(name.casefold().strip())
    if wall is None:
        if len(context.walls) == 1:
            return context.walls[0]  # a wall column is only used to route campaign imports
        raise RowError(N_("The wall %(value)s is not in this campaign."), value=_quote(name))
    return wall


def _row_prompt(context: _Context, wall: Wall, cells: Mapping[str, str]) -> Prompt:
    prompts = context.prompts[wall.id]
    value = cells.get("prompt", "")
    if value:
        prompt = context.prompt_texts[wall.id].get(duplicate_key(normalise_answer(value)))
        if prompt is None and value.isdecimal():
            prompt = next((p for p in prompts if p.id == int(value)), None)
        if prompt is not None:
            return prompt
        if not cells.get("prompt_number"):
            raise RowError(N_("The question %(value)s is not on this wall."), value=_quote(value))
    number = cells.get("prompt_number", "")
    if number:
        if number.isdecimal() and 1 <= int(number) <= len(prompts):
            return prompts[int(number) - 1]
        raise RowError(
            N_("There is no question number %(value)s on this wall (it has %(count)d)."),
            value=_quote(number),
            count=len(prompts),
        )
    if context.options.prompt_id is not None:
        prompt = next((p for p in prompts if p.id == context.options.prompt_id), None)
        if prompt is not None:
            return prompt
    if len(prompts) == 1:
        return prompts[0]
    raise RowError(
        N_("The row does not say which question it answers. Choose a question for the file.")
    )


# -- importing ------------------------------------------------------------------------------------


def write_plan(session: Session, plan: ImportPlan) -> None:
    """Insert the planned answers (no commit: the caller's transaction decides).

    A Core ``executemany`` with the same keys in every row: the ORM's bulk insert would split
    the rows into one statement per run of equal NULL columns.
    """
    chunk = 5000
    values = [a.values for a in plan.answers]
    connection = session.connection()
    for start in range(0, len(values), chunk):
        connection.execute(insert(Answer.__table__), values[start : start + chunk])


def import_answers(
    session: Session,
    target: Wall | Campaign,
    table: Table,
    mapping: ColumnMapping,
    options: ImportOptions | None = None,
    *,
    actor: StaffUser | None = None,
    dry_run: bool = False,
) -> ImportPlan:
    """Plan the import and store every planned answer in ONE transaction.

    Rows with errors make the whole import refused (:class:`ImportRefused`, nothing stored)
    unless ``options.skip_invalid``. Returns the plan that was carried out.
    """
    options = options or ImportOptions()
    plan = plan_import(session, target, table, mapping, options)
    if plan.errors and not options.skip_invalid:
        raise ImportRefused(plan)
    if dry_run:
        return plan
    _write_and_commit(session, plan, target, actor)
    return plan


def _write_and_commit(
    session: Session, plan: ImportPlan, target: Wall | Campaign, actor: StaffUser | None
) -> None:
    campaign = target if isinstance(target, Campaign) else target.campaign
    try:
        write_plan(session, plan)
        audit.record(
            session,
            organisation_id=campaign.organisation_id,
            actor=actor,
            actor_email=None if actor else "cli",
            action="answers.import",
            target_type="campaign" if isinstance(target, Campaign) else "wall",
            target_id=target.id,
            after={**plan.counts(), "format": plan.table.format},
        )
        session.commit()
    except IntegrityError as error:
        session.rollback()
        raise Conflict(
            N_("Answers were added to the wall while importing. Nothing was imported; try again."),
            code="import_conflict",
        ) from error
    except BaseException:
        session.rollback()
        raise


# -- a whole earlier campaign ---------------------------------------------------------------------

_SLUG_CHARS = re.compile(r"[^a-z0-9]+")


def slugify(title: str) -> str:
    """A URL slug from a Danish title ("Unge stemmer 2025" -> "unge-stemmer-2025")."""
    text = title.casefold().replace("æ", "ae").replace("ø", "oe").replace("å", "aa")
    text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    return _SLUG_CHARS.sub("-", text).strip("-")[:50] or "vaeg"


def _free_slug(session: Session, model: type[Wall] | type[Campaign], base: str) -> str:
    taken = set(session.scalars(select(model.slug).where(model.slug.startswith(base))))
    slug, n = base, 2
    while slug in taken:
        slug, n = f"{base}-{n}", n + 1
    return slug


def _structure(table: Table, mapping: ColumnMapping) -> dict[str, dict[str, Any]]:
    """Walls (by title) with their questions, profile fields and areas as the file has them."""
    index = {name: i for i, name in enumerate(table.columns)}

    def cell(row: Row, name: str) -> str:
        column = getattr(mapping, name)
        return row.cells[index[column]].strip() if column is not None else ""

    walls: dict[str, dict[str, Any]] = {}
    for row in table.rows:
        if row.problem is not None or not cell(row, "text"):
            continue
        title = " ".join(cell(row, "wall").split())[:200]
        question = normalise_answer(cell(row, "prompt"))
        if not title or not question:
            continue
        wall = walls.setdefault(title, {"prompts": {}, "profile": set(), "areas": []})
        number = cell(row, "prompt_number")
        position = int(number) if number.isdecimal() else 10_000 + len(wall["prompts"])
        wall["prompts"].setdefault(question, position)
        for name in PROFILE_FIELDS:
            if cell(row, name):
                wall["profile"].add(name)
        area = cell(row, "area")
        if area and area not in wall["areas"]:
            wall["areas"].append(area)
    return walls


def import_campaign(
    session: Session,
    organisation: Organisation,
    table: Table,
    mapping: ColumnMapping,
    *,
    slug: str,
    title: str,
    actor: StaffUser | None = None,
    dry_run: bool = False,
    options: ImportOptions | None = None,
) -> tuple[Campaign, ImportPlan]:
    """Create a campaign from an earlier campaign's export (Stemmer's CSV: one wall per
    "Væg", the questions in "Spørgsmål nr." order) and import its answers, all in one
    transaction, so that two years can be compared.

    The new walls are closed archives for everyone, post-moderated (answers the guard does
    not flag are published, as they were in the export), with the profile questions and
    areas that occur in the file.
    """
    # Identical answers on the same day are separate answers in an export: all are kept.
    options = options or ImportOptions(keep_duplicates=True)
    if mapping.wall is None or mapping.prompt is None:
        raise _invalid(
            N_("An export of a whole campaign needs the columns Wall and Question."),
            "campaign_columns_missing",
        )
    _check_mapping(table, mapping, needs_wall=True)
    slug = slugify(slug)
    if session.scalars(select(Campaign).where(Campaign.slug == slug)).first() is not None:
        raise Conflict(N_("A campaign with this slug already exists."), code="slug_taken")
    structure = _structure(table, mapping)
    if not structure:
        raise _invalid(N_("The file has no answers with a wall and a question."), "no_walls")
    now = utcnow()
    campaign = Campaign(organisation_id=organisation.id, slug=slug, title=title.strip()[:200])
    session.add(campaign)
    try:
        session.flush()
        for wall_title, shape in structure.items():
            ordered = sorted(shape["prompts"].items(), key=lambda item: item[1])
            wall = Wall(
                campaign_id=campaign.id,
                slug=_free_slug(session, Wall, slugify(f"{slug}-{wall_title}")),
                title=wall_title,
                audience=Audience.EVERYONE,
                moderation=Moderation.POST,
                closes_at=now,
                profile_questions=[f for f in PROFILE_FIELDS if f in shape["profile"]],
                areas=list(shape["areas"]),
                prompts=[Prompt(position=i, text=text) for i, (text, _n) in enumerate(ordered)],
            )
            session.add(wall)
        session.flush()
        # Each question's text finds its prompt; the numbers were only needed for the order.
        plan = plan_import(session, campaign, table, replace(mapping, prompt_number=None), options)
        if plan.errors and not options.skip_invalid:
            raise ImportRefused(plan)
    except BaseException:
        session.rollback()
        raise
    if dry_run:
        session.rollback()
        return campaign, plan
    _write_and_commit(session, plan, campaign, actor)
    return campaign, plan


def iter_issue_texts(issues: Iterable[Issue], gettext: Any = None) -> Iterator[str]:
    """Rendered messages (translated when ``gettext`` is given)."""
    for issue in issues:
        yield issue.render(gettext)
