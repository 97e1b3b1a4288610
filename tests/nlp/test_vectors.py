"""Issue 22: the engine with and without semantic vectors, the thesaurus gate, honest output."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

from nlp import ThemeModel
from nlp.features import Bag, FeatureConfig, Featurizer


def fake_vectors(rows: list[dict[str, Any]], dim: int = 16, seed: int = 0) -> np.ndarray:
    """Stand-ins for e5 vectors: one direction per gold theme plus noise, unit length,
    stored as float16 as the database will keep them."""
    rng = np.random.default_rng(seed)
    names = sorted({r["themes"][0] for r in rows if r["themes"]})
    axes = {name: rng.standard_normal(dim) for name in names}
    out = []
    for r in rows:
        base = axes[r["themes"][0]] if r["themes"] else np.zeros(dim)
        out.append(base + 0.3 * rng.standard_normal(dim))
    v = np.array(out, dtype=np.float32)
    return (v / np.linalg.norm(v, axis=1, keepdims=True)).astype(np.float16)


def texts_ids(rows: list[dict[str, Any]]) -> tuple[list[str], list[str]]:
    return [r["text"] for r in rows], [r["id"] for r in rows]


@pytest.fixture(scope="module")
def vector_model(small_rows: list[dict]) -> ThemeModel:
    texts, ids = texts_ids(small_rows)
    cfg = FeatureConfig(concept_max_share=0.0)  # thesaurus off: the vectors are used
    return ThemeModel(seed=0, features=cfg).fit(texts, ids, vectors=fake_vectors(small_rows))


def test_fit_with_vectors_keeps_the_contract(
    small_rows: list[dict], vector_model: ThemeModel
) -> None:
    assert vector_model._featurizer.semantic_mean_ is not None
    assert vector_model._featurizer.semantic_weight_ == 2.0
    assert set(vector_model.assignments_) == {r["id"] for r in small_rows}
    assert vector_model.themes_
    for theme in vector_model.themes_:
        assert 0.0 < theme.coherence <= 1.0


def test_vectors_must_match_the_texts(small_rows: list[dict]) -> None:
    texts, ids = texts_ids(small_rows)
    with pytest.raises(ValueError, match="one row per text"):
        ThemeModel(seed=0).fit(texts, ids, vectors=fake_vectors(small_rows)[:-1])


def test_same_answers_and_vectors_give_the_same_themes(
    small_rows: list[dict], vector_model: ThemeModel
) -> None:
    texts, ids = texts_ids(small_rows)
    again = ThemeModel(seed=0, features=FeatureConfig(concept_max_share=0.0)).fit(
        texts,
        ids,
        vectors=fake_vectors(small_rows),
        previous=vector_model.themes_,
        previous_clusters=vector_model.clusters_,
    )
    assert again.to_json() == vector_model.to_json()


def test_transform_with_and_without_vectors(
    small_rows: list[dict], vector_model: ThemeModel
) -> None:
    texts, _ = texts_ids(small_rows[:5])
    with_vectors = vector_model.transform(texts, vectors=fake_vectors(small_rows)[:5])
    without = vector_model.transform(texts)
    assert len(with_vectors) == len(without) == 5
    assert with_vectors[0] == vector_model.assignments_[small_rows[0]["id"]][:1]
    assert all(isinstance(t, list) for t in without)


def test_serialised_model_keeps_the_semantic_part(
    small_rows: list[dict], vector_model: ThemeModel
) -> None:
    restored = ThemeModel.from_bytes(vector_model.to_bytes())
    feat = restored._featurizer
    assert feat.semantic_mean_ is not None and feat.semantic_weight_ == 2.0
    texts, _ = texts_ids(small_rows[:3])
    vectors = fake_vectors(small_rows)[:3]
    assert restored.transform(texts, vectors) == vector_model.transform(texts, vectors)


def test_without_vectors_the_engine_is_unchanged(
    small_rows: list[dict], small_model: ThemeModel
) -> None:
    # the small corpus is a childhood one: its concepts split the answers, so the gate is on
    assert small_model._featurizer.semantic_mean_ is None
    assert "concept" in small_model._featurizer.blocks


def _bags(words: list[str]) -> list[Bag]:
    return [Bag((w,), (w,)) for w in words]


def test_thesaurus_is_off_when_one_concept_takes_most_answers() -> None:
    # a transport campaign: almost every covered answer names transport first
    corpus = _bags(["bus"] * 12 + ["skole", "legeplads", "cykel"] * 2)
    feat = Featurizer(FeatureConfig()).fit(corpus)
    assert feat.concept_top_share_ > 0.25
    assert "concept" not in feat.blocks


def test_thesaurus_is_on_when_its_concepts_split_the_answers() -> None:
    words = ["legeplads", "skole", "bus", "pædagog", "mobil", "fodbold", "sundhedsplejerske"]
    feat = Featurizer(FeatureConfig()).fit(_bags(words * 3))
    assert feat.concept_top_share_ <= 0.25
    assert "concept" in feat.blocks


def test_default_quotes_are_quotable_answers_only(small_rows: list[dict]) -> None:
    texts, ids = texts_ids(small_rows)
    banned = {r["text"] for r in small_rows if "legeplads" in r["text"].lower()}
    model = ThemeModel(seed=0).fit(texts, ids, quotable=lambda text: text not in banned)
    by_id = dict(zip(ids, texts, strict=True))
    quotes = [by_id[a] for t in model.themes_ for a in t.representative_ids]
    assert quotes
    assert not banned & set(quotes)


def test_a_catch_all_is_marked_mixed_with_a_split_suggestion(small_rows: list[dict]) -> None:
    # forced into 2 themes, the 4 clear themes of the small corpus make catch-alls; with
    # mixed_ratio 1.0 every theme below the median coherence is flagged
    texts, ids = texts_ids(small_rows)
    model = ThemeModel(n_themes=3, seed=0, mixed_ratio=1.0).fit(texts, ids)
    mixed = [t for t in model.themes_ if t.mixed]
    assert mixed
    for theme in mixed:
        assert len(theme.split_suggestion) == 2
    assert all(not t.mixed for t in ThemeModel(seed=0).fit(texts, ids).themes_)
