"""Concept thesaurus patterns and the position-weighted concept block."""

from __future__ import annotations

import numpy as np
import pytest

from nlp.concepts import concepts_of
from nlp.features import Bag, FeatureConfig, Featurizer


@pytest.mark.parametrize(
    ("word", "concept"),
    [
        ("sundhedsplejen", "forældrestøtte"),  # compound head, definite form
        ("sundhedsplejersken", "forældrestøtte"),
        ("spejderne", "forening"),
        ("spejde", "forening"),  # the lemma table's form of "spejder"
        ("vejfesten", "forening"),
        ("bogbussen", "kultur"),
        ("søvnen", "mad"),
        ("sengetider", "mad"),
        ("læsevejleder", "skole"),  # compound tail
        ("valgfag", "skole"),
        ("arbejdsdagen", "familie"),
        ("fodgængerovergangen", "trafik"),
        ("cykelturen", "transport"),
        ("psykiateren", "trivsel"),
    ],
)
def test_word_families_match_their_concept(word: str, concept: str) -> None:
    assert concept in concepts_of(word)


@pytest.mark.parametrize(
    ("word", "not_concept"),
    [
        ("natur", "transport"),  # "*tur" used to catch na-tur and kul-tur
        ("kultur", "transport"),
        ("koster", "mad"),  # the verb "koste" is not "kost" (diet)
        ("bytte", "transport"),  # "by*" used to catch every word starting with "by"
        ("overgang", "trafik"),  # "overgangen fra børnehave til skole" is no crossing
        ("hjælpe", "forældrestøtte"),  # too general to point to one theme
    ],
)
def test_false_friends_do_not_match(word: str, not_concept: str) -> None:
    assert not_concept not in concepts_of(word)


def _concept_row(decay: float, bag: Bag) -> dict[str, float]:
    corpus = [Bag(("skole", "bus"), ("skole", "bus")), Bag(("bus", "skole"), ("bus", "skole"))]
    corpus += [Bag(("skole",), ("skole",)), Bag(("bus",), ("bus",))] * 3
    # two concepts only: the "splits the answers" gate would switch the block off
    feat = Featurizer(FeatureConfig(concept_decay=decay, concept_max_share=1.0)).fit(corpus)
    vectorizer = feat.blocks["concept"]
    row = feat._concepts(vectorizer, [bag]).toarray()[0]
    return {token: float(row[col]) for token, col in vectorizer.vocabulary_.items()}


def test_the_concept_mentioned_first_weighs_more() -> None:
    bag = Bag(("skole", "lektie", "bus"), ("skole", "lektie", "bus"))
    weighted = _concept_row(0.8, bag)
    assert weighted["§skole"] > weighted["§transport"] > 0
    plain = _concept_row(1.0, bag)  # decay 1: plain counts, 2 school words vs 1 bus word
    assert plain["§skole"] > plain["§transport"] > 0
    reversed_bag = Bag(("bus", "skole"), ("bus", "skole"))
    weighted = _concept_row(0.8, reversed_bag)
    assert weighted["§transport"] > weighted["§skole"]
    assert np.isclose(sum(v * v for v in weighted.values()), 1.0, atol=1e-5)


def test_old_saved_configs_keep_plain_concept_counts() -> None:
    data = FeatureConfig().to_dict()
    del data["concept_decay"]
    assert FeatureConfig.from_dict(data).concept_decay == 1.0
    assert FeatureConfig.from_dict(FeatureConfig().to_dict()).concept_decay == 0.75
