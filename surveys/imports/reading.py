"""Reading files: CSV, XLSX and JSON Lines bytes into a :class:`Table` of text cells.

The limits below keep a hostile file (a zip bomb, a billion columns, one endless line) from
taking the server's time and memory; reading stops at the first one exceeded. The order in
which encodings are tried is described in the package's docstring.
"""

from __future__ import annotations

import codecs
import csv
import hashlib
import io
import json
import re
import zipfile
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, time
from itertools import islice
from typing import Any

from ..errors import N_, InvalidInput
from ..models import (
    PROFILE_FIELDS,
)
from ..text import normalise_answer
from .messages import Issue, invalid

#: Largest file accepted (bytes) and most data rows in one import.
MAX_FILE_BYTES = 25 * 1024 * 1024
MAX_ROWS = 200_000
#: Limits that keep a hostile file from taking the server's time and memory, checked while
#: reading (reading stops at the first one exceeded). The most cells: MAX_ROWS rows of the
#: export's 14 columns, with room; a column count and a cell's length far above any answer.
MAX_COLUMNS = 100
MAX_CELLS = 3_000_000
MAX_CELL_CHARS = 10_000
#: Longest CSV record or JSON line (characters), checked before it is parsed.
MAX_LINE_CHARS = 100_000
#: An XLSX file is a zip archive, and its directory says how large each part is once unpacked
#: (Python's zipfile never unpacks more than that). A file is refused before it is opened
#: when it would unpack to more than this in all, has more parts, or has a part larger than
#: the grace size that unpacks to more than MAX_XLSX_RATIO times its packed size (a zip
#: bomb; Apache POI's ZipSecureFile uses the same ratio). Spreadsheets pack about 5-20 times.
MAX_XLSX_UNPACKED_BYTES = 100 * 1024 * 1024
MAX_XLSX_MEMBERS = 1_000
MAX_XLSX_RATIO = 100
XLSX_RATIO_GRACE_BYTES = 1024 * 1024


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
    #: False when only the first rows were read (``read_table(..., max_rows=N)``).
    complete: bool = True


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


_LINE_END = re.compile(r"\r\n|\r|\n")


def _lines(text: str, *, keepends: bool = False) -> Iterator[str]:
    """The lines of ``text`` one at a time (ended by \\n, \\r\\n or \\r), without a copy of the
    whole text (``io.StringIO`` keeps four bytes a character) or a list of every line."""
    start = 0
    while start < len(text):
        end = _LINE_END.search(text, start)
        if end is None:
            yield text[start:]
            return
        yield text[start : end.end() if keepends else end.start()]
        start = end.end()


def sniff_delimiter(text: str) -> str:
    """``;``, tab or ``,``: the one that splits the first lines into the most regular columns."""
    head = [line[:MAX_LINE_CHARS] for line in islice(_lines(text), 50) if line.strip()]
    if not head:
        return ";"
    best: tuple[tuple[int, float, int], str] | None = None
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


class _RecordLines:
    """The lines of a CSV text for ``csv.reader``, refusing a record longer than
    ``MAX_LINE_CHARS`` before the reader splits it (a record may span lines in quotes)."""

    def __init__(self, text: str) -> None:
        self.text = text
        #: Characters given to the reader since the last record it returned.
        self.pending = 0

    def __iter__(self) -> Iterator[str]:
        for line in _lines(self.text, keepends=True):
            self.pending += len(line)
            if self.pending > MAX_LINE_CHARS:
                raise _too_long()
            yield line


def read_csv(text: str, max_rows: int | None = None) -> Table:
    """A CSV text (delimiter sniffed, first non-blank row the header) as a :class:`Table`
    (only its first ``max_rows`` data rows when given)."""
    delimiter = sniff_delimiter(text)
    lines = _RecordLines(text)
    reader = csv.reader(lines, delimiter=delimiter)
    header: list[str] | None = None
    rows: list[Row] = []
    cell_count = 0
    line = 1
    complete = True
    try:
        for record in reader:
            if max_rows is not None and len(rows) >= max_rows:
                complete = False
                break
            lines.pending = 0
            number, line = line, reader.line_num + 1
            _check_cells(record, number)
            if header is None:
                if any(c.strip() for c in record):
                    header = _column_names(record[: _width(record, number)])
                continue
            cell_count += len(header)
            if cell_count > MAX_CELLS:
                raise _too_many_cells()
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
        raise invalid(
            N_("The file could not be read as CSV near line %(line)d: %(error)s"),
            "unreadable_csv",
            line=line,
            error=str(error)[:200],
        ) from error
    if header is None:
        raise invalid(N_("The file is empty."), "empty_file")
    table = Table(
        "csv", header, _strip_trailing_blanks(rows), delimiter=delimiter, complete=complete
    )
    table.notices.append(Issue(DELIMITER_NOTICES[delimiter]))
    return table


def _unneutralise(cell: str) -> str:
    """Undo the apostrophe that Stemmer's own export puts before formula-like cells."""
    return cell[1:] if _EXPORT_NEUTRALISED.match(cell) else cell


def _too_many_rows() -> InvalidInput:
    return invalid(
        N_("The file has more than %(max)d rows. Split it into smaller files."),
        "too_many_rows",
        max=MAX_ROWS,
    )


def _too_many_cells() -> InvalidInput:
    return invalid(
        N_("The file has more than %(max)d cells. Split it into smaller files."),
        "too_many_cells",
        max=MAX_CELLS,
    )


def _too_long() -> InvalidInput:
    return invalid(
        N_(
            "A row of the file is longer than %(max)d characters, far longer than an answer. "
            "Is it the right file?"
        ),
        "line_too_long",
        max=MAX_LINE_CHARS,
    )


def _width(values: Sequence[object], number: int) -> int:
    """How many of a row's cells count (empty cells at the end do not); refused when more
    than ``MAX_COLUMNS``."""
    width = len(values)
    while width > MAX_COLUMNS and values[width - 1] in (None, ""):
        width -= 1
    if width > MAX_COLUMNS:
        raise invalid(
            N_("Row %(row)d has more than %(max)d columns. Is it the right file?"),
            "too_many_columns",
            row=number,
            max=MAX_COLUMNS,
        )
    return width


def _check_cells(cells: Iterable[object], number: int) -> None:
    """Refuse the file when a text cell is longer than ``MAX_CELL_CHARS``."""
    if any(isinstance(c, str) and len(c) > MAX_CELL_CHARS for c in cells):
        raise invalid(
            N_(
                "Row %(row)d has a cell with more than %(max)d characters, far longer than "
                "an answer. Is it the right file?"
            ),
            "cell_too_long",
            row=number,
            max=MAX_CELL_CHARS,
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


#: Stands for a formula cell in an XLSX sheet's grid until its saved result is looked up.
_FORMULA_CELL = object()


def _value_or_formula(cell: Any) -> object:
    return _FORMULA_CELL if getattr(cell, "data_type", "n") == "f" else cell.value


def read_xlsx(data: bytes, max_rows: int | None = None) -> Table:
    """The first sheet of an XLSX workbook as a :class:`Table`: values, never formulas (only
    its first ``max_rows`` data rows when given).

    A formula cell is replaced by the result Excel saved with it (a notice says how many);
    one without a saved result (e.g. written by a program, never opened in Excel) makes
    its row an error.
    """
    from openpyxl import load_workbook  # only needed for XLSX files

    _check_archive(data)
    try:
        formulas = load_workbook(io.BytesIO(data), read_only=True, data_only=False)
    except Exception as error:  # zip, XML or openpyxl errors: all mean "cannot open"
        raise _unreadable_xlsx() from error
    try:
        sheet = formulas.worksheets[0]
        grid = [
            [_value_or_formula(cell) for cell in row]
            for row in islice(_sheet_rows(sheet), _sheet_limit(max_rows))
        ]
        sheets = len(formulas.worksheets)
        title = sheet.title
    finally:
        formulas.close()
    cached: list[list[object]] | None = None
    if any(value is _FORMULA_CELL for row in grid for value in row):
        values = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
        try:
            cached = [
                [cell.value for cell in row]
                for row in islice(_sheet_rows(values.worksheets[0]), _sheet_limit(max_rows))
            ]
        finally:
            values.close()
    header: list[str] | None = None
    rows: list[Row] = []
    computed = 0
    complete = True
    for index, row in enumerate(grid):
        if max_rows is not None and len(rows) >= max_rows:
            complete = False
            break
        number = index + 1
        cells: list[str] = []
        problem: Issue | None = None
        for col, value in enumerate(row):
            if value is _FORMULA_CELL:
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
        raise invalid(N_("The file is empty."), "empty_file")
    table = Table("xlsx", header, _strip_trailing_blanks(rows), complete=complete)
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


def _sheet_limit(max_rows: int | None) -> int | None:
    """How many rows of a sheet to read for ``max_rows`` data rows: the header, the rows and
    one more that tells whether the sheet goes on (blank rows above the header make fewer)."""
    return None if max_rows is None else max_rows + 2


def _unreadable_xlsx() -> InvalidInput:
    return invalid(
        N_("The XLSX file could not be opened. It may be damaged or password-protected."),
        "unreadable_xlsx",
    )


def _check_archive(data: bytes) -> None:
    """Refuse a zip bomb from the archive's directory, before anything is unpacked."""
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            parts = archive.infolist()
    except (zipfile.BadZipFile, ValueError, EOFError) as error:
        raise _unreadable_xlsx() from error
    too_packed = any(
        part.file_size > XLSX_RATIO_GRACE_BYTES
        and part.file_size > MAX_XLSX_RATIO * max(part.compress_size, 1)
        for part in parts
    )
    if (
        len(parts) > MAX_XLSX_MEMBERS
        or sum(part.file_size for part in parts) > MAX_XLSX_UNPACKED_BYTES
        or too_packed
    ):
        raise invalid(
            N_(
                "The XLSX file would take up more than %(max)d MB once unpacked, or is packed "
                "far more tightly than a spreadsheet, so it was not opened. Split it into "
                "smaller files, or save it as CSV."
            ),
            "xlsx_too_large",
            max=MAX_XLSX_UNPACKED_BYTES // (1024 * 1024),
        )


def _sheet_rows(sheet: Any) -> Iterator[tuple[Any, ...]]:
    """The cells of a read-only sheet row by row, stopping at the first limit exceeded.

    The size the file states for the sheet is not trusted (``reset_dimensions``, as openpyxl's
    documentation advises for files from other programs): a row is as wide as its last cell.
    """
    sheet.reset_dimensions()
    cells = 0
    for number, row in enumerate(sheet.iter_rows(), start=1):
        if number > MAX_ROWS + 1:
            raise _too_many_rows()
        cells += len(row)
        if cells > MAX_CELLS:
            raise _too_many_cells()
        values = [cell.value for cell in row]
        width = _width(values, number)
        _check_cells(values[:width], number)
        yield row[:width]


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


def read_jsonl(text: str, max_rows: int | None = None) -> Table:
    """JSON Lines in the API's answer format: one object per line (only the first
    ``max_rows`` lines when given).

    Fields: ``prompt_id``, ``text``, ``client_submission_id``, ``channel``, ``profile``
    (``role``, ``age_group``, ``area``) as ``POST /api/v1/walls/<slug>/answers`` takes them,
    plus ``created_at`` (or ``date``), ``place`` and ``language``; ``id``, ``status`` and
    ``agree_count`` (from the API's answer lists) are ignored.
    """
    rows: list[Row] = []
    complete = True
    for number, line in enumerate(_lines(text), start=1):
        if max_rows is not None and len(rows) >= max_rows:
            complete = False
            break
        if not line.strip():
            rows.append(Row(number, ("",) * len(JSONL_COLUMNS)))
            continue
        if len(line) > MAX_LINE_CHARS:
            raise _too_long()
        cells, problem = _json_cells(line, number)
        _check_cells(cells, number)
        rows.append(Row(number, cells, problem))
        if len(rows) > MAX_ROWS:
            raise _too_many_rows()
    rows = _strip_trailing_blanks(rows)
    if not rows:
        raise invalid(N_("The file is empty."), "empty_file")
    return Table("jsonl", list(JSONL_COLUMNS), rows, complete=complete)


def _json_cells(line: str, number: int) -> tuple[tuple[str, ...], Issue | None]:
    empty = ("",) * len(JSONL_COLUMNS)
    try:
        item = json.loads(line)
    except ValueError as error:
        return empty, Issue(
            N_("The line is not valid JSON: %(error)s"), {"error": str(error)}, number
        )
    except RecursionError:  # [[[[... nested deeper than Python's parser goes
        return empty, Issue(N_("The line is nested too deeply to be an answer."), {}, number)
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


def read_table(data: bytes, filename: str = "", *, max_rows: int | None = None) -> Table:
    """Read an uploaded file (format from its content and name) into a :class:`Table`.

    With ``max_rows`` only the first rows are read (a preview of a large file: its
    ``complete`` is False when there are more); the limits are then checked on those rows.
    """
    if len(data) > MAX_FILE_BYTES:
        raise invalid(
            N_("The file is too large: at most %(max)d MB."),
            "file_too_large",
            max=MAX_FILE_BYTES // (1024 * 1024),
        )
    digest = hashlib.sha256(data).hexdigest()[:16]
    name = filename.lower()
    if data.startswith(b"\xd0\xcf\x11\xe0"):
        raise invalid(
            N_("This is an old Excel file (.xls). Save it as .xlsx or CSV and try again."),
            "old_excel",
        )
    if data.startswith(b"PK\x03\x04"):
        table = read_xlsx(data, max_rows)
    else:
        text, encoding = decode(data)
        if "\x00" in text:
            raise invalid(
                N_("This does not look like a text file. Upload CSV, XLSX or JSON Lines."),
                "not_text",
            )
        first = next((line.strip() for line in _lines(text) if line.strip()), "")
        if name.endswith((".jsonl", ".ndjson", ".json")) or first.startswith("{"):
            table = read_jsonl(text, max_rows)
        else:
            table = read_csv(text, max_rows)
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
