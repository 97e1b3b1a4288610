"""Shared fixtures for the theme engine tests: corpora and fitted models (built once)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from nlp import ThemeModel, warm_up

FIXTURES = Path(__file__).parent / "fixtures"


def load_jsonl(name: str) -> list[dict[str, Any]]:
    """Rows of a fixture JSONL file."""
    with (FIXTURES / name).open(encoding="utf-8") as fh:
        return [json.loads(line) for line in fh if line.strip()]


@pytest.fixture(scope="session", autouse=True)
def _spacy_loaded() -> None:
    warm_up()


@pytest.fixture(scope="session")
def small_rows() -> list[dict[str, Any]]:
    """~90 hand-written answers in 4 clear themes (+ multi-theme and 'andet' answers)."""
    return load_jsonl("small_da.jsonl")


@pytest.fixture(scope="session")
def known_rows() -> list[dict[str, Any]]:
    """The realistic known-themes corpus (~470 answers, 13 themes)."""
    return load_jsonl("known_themes_da.jsonl")


@pytest.fixture(scope="session")
def small_model(small_rows: list[dict[str, Any]]) -> ThemeModel:
    """A model fitted on the small corpus with seed 0 (do not mutate)."""
    return ThemeModel(seed=0).fit([r["text"] for r in small_rows], [r["id"] for r in small_rows])
