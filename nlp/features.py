"""Answer vectors: word/lemma + character n-gram + concept TF-IDF, reduced with LSA.

Each block is L2-normalised on its own, weighted and concatenated; TruncatedSVD (LSA) reduces the
result to a few dozen dimensions and rows are L2-normalised, so a dot product is a cosine.
Vectorizers and SVD are fitted on at most `max_fit_docs` documents (a seeded sample) and then
applied in chunks, which keeps time and memory flat for 100k answers.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from typing import Any

import numpy as np
import scipy.sparse as sp
from sklearn.decomposition import TruncatedSVD
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.preprocessing import normalize

from nlp.concepts import concept_tokens


@dataclass(frozen=True)
class Bag:
    """The content words of an answer (or of one of its units)."""

    lemmas: tuple[str, ...] = ()
    surfaces: tuple[str, ...] = ()
    # adjacent[i]: word i+1 directly followed word i in the text (bigram labels need it);
    # empty = unknown, treated as adjacent.
    adjacent: tuple[bool, ...] = ()

    @classmethod
    def of_units(cls, units: Sequence[Any]) -> Bag:
        """Concatenate text units (anything with lemmas/surfaces/adjacent)."""
        lemmas: list[str] = []
        surfaces: list[str] = []
        adjacent: list[bool] = []
        for unit in units:
            if not unit.lemmas:
                continue
            if lemmas:
                adjacent.append(False)
            lemmas.extend(unit.lemmas)
            surfaces.extend(unit.surfaces)
            adjacent.extend(unit.adjacent)
        return cls(tuple(lemmas), tuple(surfaces), tuple(adjacent))

    @property
    def empty(self) -> bool:
        """True when there is no content word at all."""
        return not self.lemmas


@dataclass
class FeatureConfig:
    """Feature settings (defaults chosen by `bench/themes/quality.py`)."""

    n_components: int = 30
    word_weight: float = 1.0
    char_weight: float = 1.0
    concept_weight: float = 2.0
    char_ngrams: tuple[int, int] = (3, 5)
    word_ngrams: tuple[int, int] = (1, 2)
    max_word_features: int = 50_000
    max_char_features: int = 100_000
    max_fit_docs: int = 20_000
    # The concept block is scaled by how much of the corpus the thesaurus covers: full weight at
    # `concept_full_rate` concept words per content word, none at or below `concept_min_rate`.
    concept_min_rate: float = 0.15
    concept_full_rate: float = 0.35
    # LSA coordinates are U * S**power: above 1 the leading (broad-topic) directions weigh more.
    singular_power: float = 1.5
    # A concept word's count is concept_decay**j, j = its position among the answer's content
    # words (1.0 = plain counts); the theme mentioned first is usually the main one.
    concept_decay: float = 0.75
    # The thesaurus is a starter for childhood campaigns: it is used only when its concepts
    # split the answers (the concept named first by the most answers takes at most this share
    # of the answers it covers). On a transport campaign "§transport" takes half: off.
    concept_max_share: float = 0.25
    # Semantic vectors (e5, `Featurizer.fit(..., vectors=...)`): centred on the corpus mean,
    # unit length, appended to the LSA coordinates with this weight; a smaller weight when
    # the thesaurus is on (it knows those campaigns better than e5 does).
    semantic_weight: float = 2.0
    semantic_weight_with_concepts: float = 0.0

    def to_dict(self) -> dict[str, Any]:
        """JSON-friendly dict."""
        data = asdict(self)
        data["char_ngrams"] = list(self.char_ngrams)
        data["word_ngrams"] = list(self.word_ngrams)
        return data

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> FeatureConfig:
        """Inverse of `to_dict`."""
        data = dict(data)
        data.setdefault("concept_decay", 1.0)  # models saved before position weighting
        data.setdefault("concept_max_share", 1.0)  # models saved before issue 22
        data["char_ngrams"] = tuple(data["char_ngrams"])
        data["word_ngrams"] = tuple(data["word_ngrams"])
        return cls(**data)


def _unit(block: np.ndarray) -> np.ndarray:
    norms = np.linalg.norm(block, axis=1, keepdims=True)
    return np.divide(block, norms, out=np.zeros_like(block), where=norms > 0)


def _identity(doc: Sequence[str]) -> Sequence[str]:
    return doc


def _word_docs(bags: Sequence[Bag]) -> list[list[str]]:
    return [list(b.lemmas) for b in bags]


def _char_docs(bags: Sequence[Bag]) -> list[str]:
    return [" ".join(b.surfaces) for b in bags]


def _concept_docs(bags: Sequence[Bag]) -> list[list[str]]:
    return [concept_tokens(list(b.lemmas), list(b.surfaces)) for b in bags]


def _word_vectorizer(cfg: FeatureConfig, min_df: int, vocabulary: Any = None) -> TfidfVectorizer:
    return TfidfVectorizer(
        analyzer=_identity if cfg.word_ngrams == (1, 1) else "word",
        tokenizer=_identity,
        preprocessor=_identity,
        token_pattern=None,
        lowercase=False,
        ngram_range=tuple(cfg.word_ngrams),
        min_df=min_df,
        max_features=cfg.max_word_features,
        sublinear_tf=True,
        dtype=np.float32,
        vocabulary=vocabulary,
    )


def _char_vectorizer(cfg: FeatureConfig, min_df: int, vocabulary: Any = None) -> TfidfVectorizer:
    return TfidfVectorizer(
        analyzer="char_wb",
        ngram_range=tuple(cfg.char_ngrams),
        lowercase=False,
        min_df=min_df,
        max_features=cfg.max_char_features,
        sublinear_tf=True,
        dtype=np.float32,
        vocabulary=vocabulary,
    )


def _concept_vectorizer(vocabulary: Any = None) -> TfidfVectorizer:
    return TfidfVectorizer(
        analyzer=_identity,
        lowercase=False,
        sublinear_tf=True,
        dtype=np.float32,
        vocabulary=vocabulary,
    )


def concept_top_share(bags: Sequence[Bag]) -> float:
    """Among the answers that use a concept word, the share whose first concept is the most
    common one (1.0 = the thesaurus sees one theme only; 0.0 when nothing is covered)."""
    first: dict[str, int] = {}
    for b in bags:
        for lemma, surface in zip(b.lemmas, b.surfaces, strict=True):
            tokens = concept_tokens([lemma], [surface])
            if tokens:
                first[tokens[0]] = first.get(tokens[0], 0) + 1
                break
    covered = sum(first.values())
    return max(first.values()) / covered if covered else 0.0


def concept_rate(bags: Sequence[Bag]) -> float:
    """Concept words per content word over a corpus (how well the thesaurus covers it)."""
    words = sum(len(b.lemmas) for b in bags)
    if not words:
        return 0.0
    hits = sum(
        1
        for b in bags
        for lemma, surface in zip(b.lemmas, b.surfaces, strict=True)
        if concept_tokens([lemma], [surface])
    )
    return hits / words


@dataclass
class Featurizer:
    """Fitted TF-IDF blocks + LSA projection."""

    config: FeatureConfig = field(default_factory=FeatureConfig)
    blocks: dict[str, TfidfVectorizer] = field(default_factory=dict)
    weights: dict[str, float] = field(default_factory=dict)
    components: np.ndarray | None = None  # (d, n_features) LSA basis; None = no reduction
    concept_rate_: float = 0.0
    concept_top_share_: float = 0.0
    #: Mean of the semantic vectors seen in `fit` (None = fitted without vectors).
    semantic_mean_: np.ndarray | None = None
    semantic_weight_: float = 0.0

    def fit(
        self, bags: Sequence[Bag], seed: int = 0, vectors: np.ndarray | None = None
    ) -> Featurizer:
        """Fit vectorizers and LSA on (a seeded sample of) the non-empty bags.

        `vectors`: optional semantic vectors, one row per bag (e.g. e5, any dimension); when
        given, `transform` appends them (centred, weighted) to the LSA coordinates.
        """
        cfg = self.config
        keep = [i for i, b in enumerate(bags) if not b.empty]
        if len(keep) > cfg.max_fit_docs:
            rng = np.random.default_rng(seed)
            pick = np.sort(rng.choice(len(keep), size=cfg.max_fit_docs, replace=False))
            keep = [keep[i] for i in pick]
        docs = [bags[i] for i in keep]
        self.blocks, self.weights = {}, {}
        self.components = None
        self.semantic_mean_, self.semantic_weight_ = None, 0.0
        if not docs:
            return self
        min_df = 2 if len(docs) >= 50 else 1
        self.concept_rate_ = concept_rate(docs)
        self.concept_top_share_ = concept_top_share(docs)
        span = max(cfg.concept_full_rate - cfg.concept_min_rate, 1e-9)
        gate = float(np.clip((self.concept_rate_ - cfg.concept_min_rate) / span, 0.0, 1.0))
        if self.concept_top_share_ > cfg.concept_max_share:
            gate = 0.0
        weight = cfg.semantic_weight_with_concepts if gate > 0 else cfg.semantic_weight
        if vectors is not None and weight > 0:
            sem = np.asarray(vectors, dtype=np.float32)[keep]
            self.semantic_mean_ = sem.mean(axis=0)
            self.semantic_weight_ = weight
        plan: list[tuple[str, float, TfidfVectorizer, list[Any]]] = [
            ("word", cfg.word_weight, _word_vectorizer(cfg, min_df), _word_docs(docs)),
            ("char", cfg.char_weight, _char_vectorizer(cfg, min_df), _char_docs(docs)),
            ("concept", cfg.concept_weight * gate, _concept_vectorizer(), _concept_docs(docs)),
        ]
        for name, weight, vectorizer, block_docs in plan:
            if weight <= 0:
                continue
            try:
                vectorizer.fit(block_docs)
            except ValueError:  # empty vocabulary (e.g. every word below min_df)
                continue
            self.blocks[name] = vectorizer
            self.weights[name] = weight
        if not self.blocks:
            return self
        matrix = self._tfidf(docs)
        d = min(cfg.n_components, matrix.shape[1] - 1, matrix.shape[0] - 1)
        if d >= 2:
            svd = TruncatedSVD(n_components=d, random_state=seed, algorithm="randomized")
            svd.fit(matrix)
            scale = svd.singular_values_ ** (cfg.singular_power - 1.0)
            scale = scale / scale.max() if scale.max() > 0 else scale
            self.components = (svd.components_ * scale[:, None]).astype(np.float32)
        return self

    @property
    def fitted(self) -> bool:
        """True once at least one block has a vocabulary."""
        return bool(self.blocks)

    @property
    def lexical_dim(self) -> int:
        """Dimension of the word/char/concept part of the vectors."""
        if self.components is not None:
            return int(self.components.shape[0])
        return sum(len(v.vocabulary_) for v in self.blocks.values())

    @property
    def dim(self) -> int:
        """Dimension of the vectors `transform` returns."""
        extra = 0 if self.semantic_mean_ is None else len(self.semantic_mean_)
        return self.lexical_dim + extra

    def _tfidf(self, bags: Sequence[Bag]) -> sp.csr_matrix:
        parts = []
        for name, vectorizer in self.blocks.items():
            if name == "word":
                docs: list[Any] = _word_docs(bags)
            elif name == "char":
                docs = _char_docs(bags)
            else:
                parts.append(self._concepts(vectorizer, bags) * np.float32(self.weights[name]))
                continue
            parts.append(vectorizer.transform(docs) * np.float32(self.weights[name]))
        return normalize(sp.hstack(parts, format="csr", dtype=np.float32))

    def _concepts(self, vectorizer: TfidfVectorizer, bags: Sequence[Bag]) -> sp.csr_matrix:
        """Concept TF-IDF with position-weighted counts (plain TF-IDF when decay is 1)."""
        decay = float(self.config.concept_decay)
        if decay >= 1.0:
            return vectorizer.transform(_concept_docs(bags))
        vocab = vectorizer.vocabulary_
        rows, cols, vals = [], [], []
        for r, bag in enumerate(bags):
            counts: dict[int, float] = {}
            for j, (lemma, surface) in enumerate(zip(bag.lemmas, bag.surfaces, strict=True)):
                for token in concept_tokens([lemma], [surface]):
                    col = vocab.get(token)
                    if col is not None:
                        counts[col] = counts.get(col, 0.0) + decay**j
            for col, value in counts.items():
                rows.append(r)
                cols.append(col)
                vals.append(1.0 + np.log(value) if value >= 1.0 else value)
        tf = sp.csr_matrix((vals, (rows, cols)), shape=(len(bags), len(vocab)), dtype=np.float32)
        return normalize(tf @ sp.diags(vectorizer.idf_.astype(np.float32)))

    def transform(
        self, bags: Sequence[Bag], vectors: np.ndarray | None = None, chunk: int = 10_000
    ) -> np.ndarray:
        """Unit-length vectors (float32); empty bags give zero rows.

        Fitted with semantic vectors, each row is [LSA coordinates, weight * centred unit
        semantic vector], made unit length; without `vectors` here the semantic part is 0.
        """
        out = np.zeros((len(bags), max(self.dim, 1)), dtype=np.float32)
        if not self.fitted:
            return out
        for start in range(0, len(bags), chunk):
            matrix = self._tfidf(bags[start : start + chunk])
            if self.components is not None:
                block = np.asarray(matrix @ self.components.T, dtype=np.float32)
            else:
                block = matrix.toarray()
            block = _unit(block)
            if self.semantic_mean_ is not None:
                sem = np.zeros((len(block), len(self.semantic_mean_)), dtype=np.float32)
                if vectors is not None:
                    part = np.asarray(vectors[start : start + len(block)], dtype=np.float32)
                    sem = _unit(part - self.semantic_mean_) * np.float32(self.semantic_weight_)
                empty = ~block.any(axis=1)
                sem[empty] = 0.0
                block = _unit(np.hstack([block, sem]))
            out[start : start + len(block), : block.shape[1]] = block
        return out

    # ------------------------------------------------------------------ serialisation

    def state(self) -> tuple[dict[str, Any], dict[str, np.ndarray]]:
        """(JSON-able metadata, arrays) that `from_state` restores."""
        meta: dict[str, Any] = {
            "config": self.config.to_dict(),
            "weights": self.weights,
            "concept_rate": self.concept_rate_,
            "concept_top_share": self.concept_top_share_,
            "semantic_weight": self.semantic_weight_,
            "vocabularies": {},
        }
        arrays: dict[str, np.ndarray] = {}
        for name, vectorizer in self.blocks.items():
            vocab = vectorizer.vocabulary_
            terms = [""] * len(vocab)
            for term, index in vocab.items():
                terms[index] = term
            meta["vocabularies"][name] = terms
            arrays[f"idf_{name}"] = np.asarray(vectorizer.idf_, dtype=np.float32)
        if self.components is not None:
            arrays["components"] = self.components
        if self.semantic_mean_ is not None:
            arrays["semantic_mean"] = self.semantic_mean_
        return meta, arrays

    @classmethod
    def from_state(cls, meta: dict[str, Any], arrays: dict[str, np.ndarray]) -> Featurizer:
        """Rebuild a fitted featurizer without refitting."""
        cfg = FeatureConfig.from_dict(meta["config"])
        feat = cls(config=cfg, weights={k: float(v) for k, v in meta["weights"].items()})
        feat.concept_rate_ = float(meta.get("concept_rate", 0.0))
        feat.concept_top_share_ = float(meta.get("concept_top_share", 0.0))
        feat.semantic_weight_ = float(meta.get("semantic_weight", 0.0))
        feat.semantic_mean_ = arrays.get("semantic_mean")
        for name, terms in meta["vocabularies"].items():
            if name == "word":
                vocab_terms: Any = terms
                vectorizer = _word_vectorizer(cfg, 1, vocabulary=vocab_terms)
            elif name == "char":
                vectorizer = _char_vectorizer(cfg, 1, vocabulary=terms)
            else:
                vectorizer = _concept_vectorizer(vocabulary=terms)
            vectorizer.idf_ = arrays[f"idf_{name}"].astype(np.float64)
            feat.blocks[name] = vectorizer
        feat.components = arrays.get("components")
        return feat
