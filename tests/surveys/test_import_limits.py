"""Import files made to take the server's time and memory are refused quickly, in bounded memory.

The hostile files are read in a child process, so that its peak memory (``ru_maxrss``) is its
own and a reader that never finishes is stopped by a timeout instead of stopping the suite.
"""

from __future__ import annotations

import io
import json
import subprocess
import sys
import time
from pathlib import Path

import pytest
from openpyxl import Workbook
from sqlalchemy.orm import Session

from surveys import imports
from surveys.errors import InvalidInput
from surveys.models import Moderation
from tests.factories import make_wall
from tests.surveys import hostile_files

ROOT = Path(__file__).parent.parent.parent
#: What reading one of these files may cost at most (issue 20: under 5 s and 200 MB).
MAX_SECONDS = 5
MAX_MEGABYTES = 200

_MEASURE = """
import json, resource, sys, time
from surveys import imports
from surveys.errors import InvalidInput
data = open(sys.argv[1], "rb").read()
before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
started = time.perf_counter()
try:
    imports.read_table(data, sys.argv[2])
    code = None
except InvalidInput as error:
    code = error.code
seconds = time.perf_counter() - started
grown = (resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before) / 1024
print(json.dumps({"code": code, "seconds": seconds, "megabytes": grown}))
"""


def measured_read(tmp_path: Path, data: bytes, name: str) -> dict[str, object]:
    """Read ``data`` as an upload named ``name`` in a child process: the error code (or None),
    the seconds it took and how much its peak memory grew (MB). Over a minute fails."""
    path = tmp_path / name
    path.write_bytes(data)
    # Imported before measuring, so that loading openpyxl is not counted.
    script = "import openpyxl.reader.excel\n" + _MEASURE
    try:
        done = subprocess.run(
            [sys.executable, "-c", script, str(path), name],
            cwd=ROOT,
            capture_output=True,
            text=True,
            timeout=60,
            check=True,
        )
    except subprocess.TimeoutExpired:
        pytest.fail(f"reading {name} ({len(data) // 1024} KB) took more than a minute")
    result = json.loads(done.stdout)
    print(f"\n{name} ({len(data) // 1024} KB): {result}")
    return result


def test_a_zip_bomb_is_refused_from_the_archive_directory(tmp_path: Path) -> None:
    bomb = hostile_files.zip_bomb()
    assert len(bomb) < 700 * 1024
    result = measured_read(tmp_path, bomb, "svar.xlsx")
    assert result["code"] == "xlsx_too_large"
    assert result["seconds"] < MAX_SECONDS
    assert result["megabytes"] < MAX_MEGABYTES


@pytest.mark.parametrize(("empty", "code"), [(True, "too_many_cells"), (False, "too_many_columns")])
def test_cells_far_out_in_every_row_stop_the_reading(
    tmp_path: Path, empty: bool, code: str
) -> None:
    """Packed like a normal spreadsheet, so only the limits checked while reading stop it."""
    data = hostile_files.far_cells(20_000, empty=empty)
    result = measured_read(tmp_path, data, "svar.xlsx")
    assert result["code"] == code
    assert result["seconds"] < MAX_SECONDS
    assert result["megabytes"] < MAX_MEGABYTES


def test_the_archive_directory_is_checked_for_size_parts_and_ratio(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    small_bomb = hostile_files.zip_bomb(rows=20_000)  # 14 KB that unpack to 3 MB
    with pytest.raises(InvalidInput) as refused:
        imports.read_table(small_bomb, "svar.xlsx")
    assert refused.value.code == "xlsx_too_large"
    assert "100 MB" in refused.value.message % refused.value.params

    normal = _workbook([["Svar"], *([f"Svar nummer {i}"] for i in range(100))])
    assert len(imports.read_table(normal, "svar.xlsx").rows) == 100
    monkeypatch.setattr(imports.reading, "MAX_XLSX_MEMBERS", 3)
    with pytest.raises(InvalidInput, match="unpacked"):
        imports.read_table(normal, "svar.xlsx")
    monkeypatch.setattr(imports.reading, "MAX_XLSX_MEMBERS", 1_000)
    monkeypatch.setattr(imports.reading, "MAX_XLSX_UNPACKED_BYTES", 10_000)
    with pytest.raises(InvalidInput, match="unpacked"):
        imports.read_table(normal, "svar.xlsx")


def _workbook(rows: list[list[object]]) -> bytes:
    book = Workbook(write_only=True)
    sheet = book.create_sheet("Svar")
    for row in rows:
        sheet.append(row)
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


@pytest.mark.slow  # about 8 s, most of it checking and writing the answers
def test_a_legitimate_large_workbook_still_imports(session: Session) -> None:
    wall = make_wall(session, prompts=("Hvad savner du?",), moderation=Moderation.POST)
    rows = [["Svar", "Dato", "Område"]]
    rows += [
        [f"Flere bænke og mere lys ved søen ({i})", "24-05-2025", "Rønne"] for i in range(10_000)
    ]
    data = _workbook(rows)
    started = time.perf_counter()
    table = imports.read_table(data, "stort.xlsx")
    read = time.perf_counter() - started
    plan = imports.import_answers(session, wall, table, imports.suggest_mapping(table.columns))
    print(f"\n10,000-row XLSX ({len(data) // 1024} KB): read in {read:.1f} s")
    assert plan.to_import == 10_000 and not plan.errors


def test_limits_on_columns_and_cell_length_in_a_workbook() -> None:
    wide = _workbook([["Svar", *[""] * 200], ["Mere lys", *[""] * 150, "x"]])
    with pytest.raises(InvalidInput) as refused:
        imports.read_table(wide, "svar.xlsx")
    assert (refused.value.code, refused.value.params["row"]) == ("too_many_columns", 2)
    trailing_blanks = _workbook([["Svar", *[None] * 200], ["Mere lys", *[None] * 150]])
    assert imports.read_table(trailing_blanks, "svar.xlsx").columns == ["Svar"]

    long_cell = _workbook([["Svar"], ["ok"], ["a" * (imports.MAX_CELL_CHARS + 1)]])
    with pytest.raises(InvalidInput) as refused:
        imports.read_table(long_cell, "svar.xlsx")
    assert (refused.value.code, refused.value.params["row"]) == ("cell_too_long", 3)


# -- CSV and JSON Lines -------------------------------------------------------------------------


@pytest.mark.parametrize(
    "data",
    [
        b"Svar;Dato\n" + b";" * 20_000_000,  # one line of 20 million cells
        b"Svar;Dato\n" + b'"\n";' * 5_000_000,  # one record of 5 million quoted line breaks
        b'{"text": "' + b"a" * 20_000_000 + b'"}\n',  # a JSON line of 20 MB
    ],
    ids=["csv-line", "csv-record", "json-line"],
)
def test_a_huge_line_is_refused_before_it_is_split(tmp_path: Path, data: bytes) -> None:
    name = "svar.jsonl" if data.startswith(b"{") else "svar.csv"
    result = measured_read(tmp_path, data, name)
    assert result["code"] == "line_too_long"
    assert result["seconds"] < MAX_SECONDS
    assert result["megabytes"] < MAX_MEGABYTES


def test_csv_limits_on_columns_cells_and_cell_length(monkeypatch: pytest.MonkeyPatch) -> None:
    with pytest.raises(InvalidInput) as refused:
        imports.read_table((";".join(["Svar"] * 101) + "\nMere lys\n").encode(), "svar.csv")
    assert refused.value.code == "too_many_columns"
    blank_columns = imports.read_table(("Svar" + ";" * 300 + "\nMere lys\n").encode(), "svar.csv")
    assert len(blank_columns.rows) == 1

    with pytest.raises(InvalidInput) as refused:
        imports.read_table(f"Svar\nok\n{'a' * 10_001}\n".encode(), "svar.csv")
    assert (refused.value.code, refused.value.params["row"]) == ("cell_too_long", 3)

    monkeypatch.setattr(imports.reading, "MAX_CELLS", 10)
    text = "Svar;Dato\n" + "".join(f"Svar {i};24-05-2025\n" for i in range(6))
    with pytest.raises(InvalidInput) as refused:
        imports.read_table(text.encode(), "svar.csv")
    assert refused.value.code == "too_many_cells"


def test_a_deeply_nested_json_line_is_a_row_error() -> None:
    lines = [
        json.dumps({"text": "Mere lys", "prompt_id": 1}),
        "[" * 100_000,
        '{"text": ' + "[" * 40_000 + "]" * 40_000 + "}",
    ]
    table = imports.read_table("\n".join(lines).encode(), "svar.jsonl")
    assert [row.problem.message if row.problem else None for row in table.rows] == [
        None,
        "The line is nested too deeply to be an answer.",
        "The line is nested too deeply to be an answer.",
    ]


def test_json_lines_are_split_only_at_line_ends() -> None:
    """A JSON string may hold U+2028 (a line separator to ``str.splitlines``) unescaped."""
    line = '{"text": "Mere lys\u2028ved søen"}\r\n{"text": "Bænke"}'
    table = imports.read_table(line.encode(), "svar.jsonl")
    assert [row.cells[1] for row in table.rows] == ["Mere lys\u2028ved søen", "Bænke"]
