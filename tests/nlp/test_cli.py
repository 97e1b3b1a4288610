"""`python -m nlp themes IN.jsonl --out OUT.json`: JSON contract and input errors."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from nlp.cli import main

ROOT = Path(__file__).resolve().parents[2]


def write_jsonl(path: Path, rows: list[Any]) -> Path:
    lines = [r if isinstance(r, str) else json.dumps(r, ensure_ascii=False) for r in rows]
    path.write_text("".join(line + "\n" for line in lines), encoding="utf-8")
    return path


def check_contract(doc: dict[str, Any], input_ids: list[str]) -> None:
    assert set(doc) >= {"themes", "assignments"}
    assert sorted(doc["assignments"]) == sorted(input_ids)
    theme_ids = [t["id"] for t in doc["themes"]]
    assert len(theme_ids) == len(set(theme_ids))
    for theme in doc["themes"]:
        assert set(theme) >= {"id", "label", "terms", "answer_ids", "representative_ids"}
        assert isinstance(theme["label"], str) and theme["label"]
        assert all(isinstance(t, str) for t in theme["terms"])
        assert set(theme["representative_ids"]) <= set(theme["answer_ids"])
        for answer_id in theme["answer_ids"]:
            assert theme["id"] in doc["assignments"][answer_id]
    for answer_id, tids in doc["assignments"].items():
        assert isinstance(tids, list)
        assert set(tids) <= set(theme_ids), answer_id


def test_themes_command(tmp_path: Path, small_rows: list[dict], capsys: Any) -> None:
    rows = [{"id": r["id"], "text": r["text"]} for r in small_rows]
    src = write_jsonl(tmp_path / "in.jsonl", rows)
    out = tmp_path / "out.json"
    assert main(["themes", str(src), "--out", str(out), "--themes", "4", "--seed", "1"]) == 0
    doc = json.loads(out.read_text(encoding="utf-8"))
    check_contract(doc, [r["id"] for r in rows])
    assert len(doc["themes"]) == 4
    noise = [r["id"] for r in small_rows if not r["themes"]]
    assert all(doc["assignments"][i] == [] for i in noise)
    assert "4 themes" in capsys.readouterr().err


def test_question_option_keeps_its_words_out_of_labels(
    tmp_path: Path, small_rows: list[dict]
) -> None:
    rows = [{"id": r["id"], "text": r["text"]} for r in small_rows]
    src = write_jsonl(tmp_path / "in.jsonl", rows)
    out = tmp_path / "out.json"
    args = ["themes", str(src), "--out", str(out), "--question", "Hvad med legepladserne?"]
    assert main([*args, "--question", "Og cykelstierne?"]) == 0
    doc = json.loads(out.read_text(encoding="utf-8"))
    check_contract(doc, [r["id"] for r in rows])
    terms = " ".join(term for theme in doc["themes"] for term in theme["terms"])
    assert "legeplads" not in terms and "cykelsti" not in terms


def test_integer_ids_and_blank_lines(tmp_path: Path) -> None:
    src = write_jsonl(
        tmp_path / "in.jsonl",
        [{"id": 1, "text": "flere cykelstier"}, "", {"id": 2, "text": "lol", "extra": True}],
    )
    out = tmp_path / "out.json"
    assert main(["themes", str(src), "--out", str(out)]) == 0
    doc = json.loads(out.read_text(encoding="utf-8"))
    check_contract(doc, ["1", "2"])
    assert doc["assignments"]["2"] == []


def test_empty_input_gives_empty_result(tmp_path: Path) -> None:
    src = write_jsonl(tmp_path / "in.jsonl", [])
    out = tmp_path / "out.json"
    assert main(["themes", str(src), "--out", str(out)]) == 0
    assert json.loads(out.read_text(encoding="utf-8")) == {"themes": [], "assignments": {}}


@pytest.mark.parametrize(
    ("lines", "message"),
    [
        (['{"id": "a", "text": "x"}', "{not json"], "in.jsonl:2: invalid JSON"),
        (['{"text": "x"}'], 'in.jsonl:1: missing "id"'),
        (['{"id": "a"}'], 'in.jsonl:1: missing "text"'),
        (['{"id": "a", "text": 5}'], '"text" must be a string'),
        (['{"id": null, "text": "x"}'], '"id" must be'),
        (['["a", "x"]'], "expected a JSON object"),
        (
            ['{"id": "a", "text": "x"}', '{"id": "b", "text": "y"}', '{"id": "a", "text": "z"}'],
            'in.jsonl:3: duplicate id "a" (first on line 1)',
        ),
    ],
)
def test_bad_input_exits_2(tmp_path: Path, capsys: Any, lines: list[str], message: str) -> None:
    src = write_jsonl(tmp_path / "in.jsonl", lines)
    out = tmp_path / "out.json"
    assert main(["themes", str(src), "--out", str(out)]) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: ") and message in err
    assert not out.exists()


def test_missing_file_exits_2(tmp_path: Path, capsys: Any) -> None:
    assert main(["themes", str(tmp_path / "nope.jsonl"), "--out", str(tmp_path / "o")]) == 2
    assert "no such file" in capsys.readouterr().err


def test_not_utf8_exits_2(tmp_path: Path, capsys: Any) -> None:
    src = tmp_path / "in.jsonl"
    src.write_bytes(b'{"id": "a", "text": "\xe6\xf8"}\n')
    assert main(["themes", str(src), "--out", str(tmp_path / "o")]) == 2
    assert "not UTF-8" in capsys.readouterr().err


@pytest.mark.parametrize("value", ["0", "-3", "many"])
def test_bad_themes_option_exits_2(tmp_path: Path, value: str) -> None:
    src = write_jsonl(tmp_path / "in.jsonl", [{"id": "a", "text": "x"}])
    with pytest.raises(SystemExit) as exc:
        main(["themes", str(src), "--out", str(tmp_path / "o"), "--themes", value])
    assert exc.value.code == 2


def test_python_dash_m(tmp_path: Path) -> None:
    """The real entry point, in a subprocess (one spaCy load)."""
    src = write_jsonl(
        tmp_path / "in.jsonl",
        [{"id": f"a{i}", "text": t} for i, t in enumerate(["cykelsti til skolen"] * 3 + ["hej"])],
    )
    out = tmp_path / "out.json"
    done = subprocess.run(
        [sys.executable, "-m", "nlp", "themes", str(src), "--out", str(out), "--seed", "3"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    doc = json.loads(out.read_text(encoding="utf-8"))
    check_contract(doc, ["a0", "a1", "a2", "a3"])
    bad = subprocess.run(
        [sys.executable, "-m", "nlp", "themes", str(tmp_path / "missing"), "--out", str(out)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=False,
    )
    assert bad.returncode == 2 and "no such file" in bad.stderr
