"""A staff codebook: the themes staff expect, and sorting answers into them.

A codebook is ``{"themes": [{"name", "description", "keywords"}]}``. `CodebookSorter` scores
every answer against every codebook theme from two kinds of evidence, each optional:

- **keywords**, matched on the answers' lemmas and surface forms (a keyword also matches as the
  head or tail of a compound: "cykelsti" finds "cykelstien" and "skolecykelsti"; "natur*" and
  "*skov" are explicit prefix/suffix patterns as in `nlp.concepts`; a keyword of several words
  matches that phrase in the normalised text). A word counts less the later it comes in the
  answer (the theme named first is usually the main one).
- **semantic similarity** (e5 vectors given by the caller): cosine of the answer to the theme's
  name + description, and, once staff have put answers into a theme (corrections), to the
  mean of those examples.

The main theme is the best score; a second theme is listed when it scores nearly as well
("fits several equally", `several_`); an answer with no keyword and too little similarity
fits nowhere (`nowhere_`) and is left for new themes. Fitted attributes end in ``_``.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from nlp.concepts import CONCEPTS
from nlp.text import TextOptions, analyze, normalize_text


@dataclass
class CodebookTheme:
    """One theme staff expect: a name, one sentence, a few keywords."""

    name: str
    description: str = ""
    keywords: list[str] = field(default_factory=list)

    def passage(self) -> str:
        """The text embedded for this theme: name, description and keywords."""
        text = f"{self.name}. {self.description}".strip()
        words = [k.strip("*") for k in self.keywords]
        return f"{text} {', '.join(words)}".strip() if words else text


@dataclass
class Codebook:
    """An ordered list of codebook themes (names unique)."""

    themes: list[CodebookTheme] = field(default_factory=list)

    def __post_init__(self) -> None:
        names = [t.name for t in self.themes]
        if len(set(names)) != len(names):
            raise ValueError("codebook theme names must be unique")
        if any(not n.strip() for n in names):
            raise ValueError("codebook theme names must not be empty")

    @property
    def names(self) -> list[str]:
        """Theme names in codebook order."""
        return [t.name for t in self.themes]

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Codebook:
        """From ``{"themes": [{"name", "description", "keywords"}]}`` (other keys ignored)."""
        themes = data.get("themes")
        if not isinstance(themes, list):
            raise ValueError('a codebook needs a "themes" list')
        out = []
        for item in themes:
            if not isinstance(item, dict) or not isinstance(item.get("name"), str):
                raise ValueError('every codebook theme needs a "name"')
            keywords = item.get("keywords") or []
            if not isinstance(keywords, list) or not all(isinstance(k, str) for k in keywords):
                raise ValueError('"keywords" must be a list of strings')
            out.append(
                CodebookTheme(
                    name=item["name"].strip(),
                    description=str(item.get("description") or "").strip(),
                    keywords=[k.strip() for k in keywords if k.strip()],
                )
            )
        return cls(out)

    @classmethod
    def load(cls, path: str | Path) -> Codebook:
        """Read a codebook JSON file."""
        return cls.from_dict(json.loads(Path(path).read_text(encoding="utf-8")))

    def to_dict(self) -> dict[str, Any]:
        """JSON-friendly dict (the file format)."""
        return {
            "themes": [
                {"name": t.name, "description": t.description, "keywords": list(t.keywords)}
                for t in self.themes
            ]
        }


def childhood_starter() -> Codebook:
    """The built-in thesaurus (`nlp.concepts`) as a starter codebook for childhood campaigns:
    one theme per concept, its word patterns as keywords. Staff load, edit or ignore it."""
    return Codebook(
        [CodebookTheme(name=name, keywords=list(patterns)) for name, patterns in CONCEPTS.items()]
    )


@dataclass(frozen=True)
class _Keyword:
    theme: int
    kind: str  # "exact", "head", "tail", "phrase"
    value: str


def _compile_keywords(codebook: Codebook, options: TextOptions) -> list[_Keyword]:
    out: list[_Keyword] = []
    for t, theme in enumerate(codebook.themes):
        for raw in theme.keywords:
            word = raw.lower().strip()
            if word.endswith("*") and not word.startswith("*"):
                out.append(_Keyword(t, "head", word[:-1]))
            elif word.startswith("*") and not word.endswith("*"):
                out.append(_Keyword(t, "tail", word[1:]))
            elif " " in word:
                out.append(_Keyword(t, "phrase", " " + normalize_text(word, options) + " "))
            else:
                out.append(_Keyword(t, "exact", normalize_text(word, options)))
                units = analyze([word], options)[0]
                lemmas = [lemma for u in units for lemma in u.lemmas]
                if lemmas and lemmas[0] != word:
                    out.append(_Keyword(t, "exact", lemmas[0]))
    return out


def _word_matches(word: str, kw: _Keyword) -> bool:
    if kw.kind == "head":
        return word.startswith(kw.value)
    if kw.kind == "tail":
        return word.endswith(kw.value)
    if word == kw.value:
        return True
    # a plain keyword of 4+ letters is also the head or tail of a compound
    return len(kw.value) >= 4 and (word.startswith(kw.value) or word.endswith(kw.value))


class CodebookSorter:
    """Sorts answers into codebook themes (sklearn-shaped: `fit`, fitted attributes end in _).

    Parameters are the weights of the evidence and two thresholds; defaults were chosen on the
    development halves of bench/themes/data (see bench/themes/RESULTS.md, issue 22).
    """

    def __init__(
        self,
        codebook: Codebook,
        *,
        keyword_weight: float = 2.0,
        semantic_weight: float = 1.0,
        example_weight: float = 1.0,
        decay: float = 0.75,
        nowhere_threshold: float = 0.25,
        several_margin: float = 0.05,
        text_options: TextOptions | None = None,
    ) -> None:
        self.codebook = codebook
        self.keyword_weight = keyword_weight
        self.semantic_weight = semantic_weight
        self.example_weight = example_weight
        self.decay = decay
        self.nowhere_threshold = nowhere_threshold
        self.several_margin = several_margin
        self.text_options = text_options or TextOptions()
        self.scores_ = np.zeros((0, len(codebook.themes)), dtype=np.float32)
        self.assignments_: dict[str, list[str]] = {}
        self.nowhere_: list[str] = []
        self.several_: list[str] = []
        self.matched_words_: dict[str, list[str]] = {}

    def keyword_scores(self, texts: Sequence[str]) -> tuple[np.ndarray, list[list[str]]]:
        """(n, themes) keyword evidence in [0, 1] and, per answer, the words that matched."""
        keywords = _compile_keywords(self.codebook, self.text_options)
        n_themes = len(self.codebook.themes)
        scores = np.zeros((len(texts), n_themes), dtype=np.float32)
        words: list[list[str]] = []
        for i, units in enumerate(analyze(list(texts), self.text_options)):
            lemmas = [lemma for u in units for lemma in u.lemmas]
            surfaces = [s for u in units for s in u.surfaces]
            hit_words: list[str] = []
            for j, (lemma, surface) in enumerate(zip(lemmas, surfaces, strict=True)):
                themes = {
                    kw.theme
                    for kw in keywords
                    if kw.kind != "phrase"
                    and (_word_matches(lemma, kw) or _word_matches(surface, kw))
                }
                for t in themes:
                    scores[i, t] += self.decay**j
                if themes:
                    hit_words.append(surface)
            text = " " + normalize_text(texts[i], self.text_options) + " "
            for kw in keywords:
                if kw.kind == "phrase" and kw.value in text:
                    scores[i, kw.theme] += 1.0
                    hit_words.append(kw.value.strip())
            words.append(hit_words)
        # 1 - e^-x: one early keyword ~0.6, two ~0.8; more adds little
        return 1.0 - np.exp(-scores), words

    def fit(
        self,
        texts: Sequence[str],
        ids: Sequence[str],
        vectors: np.ndarray | None = None,
        theme_vectors: np.ndarray | None = None,
        corrections: Mapping[str, str] | None = None,
    ) -> CodebookSorter:
        """Score and sort `texts`.

        `vectors`: the answers' semantic vectors (queries); `theme_vectors`: the codebook
        themes' vectors (passages of `CodebookTheme.passage`), both optional and both needed
        for the semantic evidence. `corrections`: answer id -> codebook theme name that staff
        chose; those answers keep that theme, and their vectors become examples of it.
        """
        texts = [str(t) for t in texts]
        ids = [str(i) for i in ids]
        names = self.codebook.names
        column = {name: t for t, name in enumerate(names)}
        corrections = {str(a): c for a, c in (corrections or {}).items() if c in column}
        kw, words = self.keyword_scores(texts)
        score = self.keyword_weight * kw
        if vectors is not None and theme_vectors is not None and len(texts):
            v = _unit(np.asarray(vectors, dtype=np.float32))
            tv = _unit(np.asarray(theme_vectors, dtype=np.float32))
            sims = v @ tv.T
            # e5 cosines sit in a narrow band (~0.75-0.9): what counts is how much more an
            # answer resembles this theme than the codebook's themes on average.
            score = score + self.semantic_weight * _spread(sims)
            pos = {a: i for i, a in enumerate(ids)}
            examples = [
                [pos[a] for a, c in corrections.items() if c == name and a in pos] for name in names
            ]
            if any(examples):
                proto = np.zeros_like(tv)
                for t, rows in enumerate(examples):
                    if rows:
                        proto[t] = v[rows].mean(axis=0)
                # how much more the answer resembles the examples than the average answer
                baseline = v @ _unit(v.mean(axis=0, keepdims=True)).T
                ex = np.clip((v @ _unit(proto).T - baseline) / 0.05, 0.0, 1.0)
                ex[:, [not rows for rows in examples]] = 0.0
                score = score + self.example_weight * ex
        self.scores_ = score.astype(np.float32)
        self.assignments_, self.nowhere_, self.several_ = {}, [], []
        self.matched_words_ = {}
        for i, answer_id in enumerate(ids):
            self.matched_words_[answer_id] = words[i]
            if answer_id in corrections:
                self.assignments_[answer_id] = [corrections[answer_id]]
                continue
            row = self.scores_[i]
            order = np.argsort(-row, kind="stable")
            if not len(order) or row[order[0]] < self.nowhere_threshold:
                self.assignments_[answer_id] = []
                self.nowhere_.append(answer_id)
                continue
            chosen = [names[order[0]]]
            for t in order[1:3]:
                if row[t] >= row[order[0]] - self.several_margin:
                    chosen.append(names[t])
            if len(chosen) > 1:
                self.several_.append(answer_id)
            self.assignments_[answer_id] = chosen
        return self


def _unit(m: np.ndarray) -> np.ndarray:
    norms = np.linalg.norm(m, axis=1, keepdims=True)
    return np.divide(m, norms, out=np.zeros_like(m), where=norms > 0)


def _spread(sims: np.ndarray, scale: float = 0.05) -> np.ndarray:
    """Cosines as evidence: (cosine - the answer's mean cosine over the themes) / `scale`,
    clipped to [0, 1]."""
    mean = sims.mean(axis=1, keepdims=True)
    return np.clip((sims - mean) / scale, 0.0, 1.0).astype(np.float32)


def sort_into_codebook(
    texts: Sequence[str],
    ids: Sequence[str],
    codebook: Codebook,
    *,
    vectors: np.ndarray | None = None,
    theme_vectors: np.ndarray | None = None,
    corrections: Mapping[str, str] | None = None,
    seed: int = 0,
    questions: Sequence[str] = (),
    min_new: int = 10,
    quotable: Callable[[str], bool] | None = None,
) -> dict[str, Any]:
    """The CLI's output document for a run with a codebook.

    Codebook themes get ids "c1", "c2", ... in codebook order and carry ``"codebook": name``;
    answers that fit none of them are clustered by `ThemeModel` into proposed new themes
    ("t1", ...) when there are at least `min_new` of them (else they stay in "andet").
    ``fits_several`` lists the answers that fit two or three codebook themes about equally
    (main first in their assignment), ``fits_nowhere`` those left in "andet"; ``why`` gives
    per answer the keywords that matched and the two closest codebook themes with their
    scores (for "hvorfor her?"). Quotes
    (``representative_ids``) are the main answers that fit their theme best, `quotable` ones only.
    """
    from nlp.model import ThemeModel

    ids = [str(i) for i in ids]
    sorter = CodebookSorter(codebook).fit(
        texts, ids, vectors=vectors, theme_vectors=theme_vectors, corrections=corrections
    )
    theme_id = {name: f"c{n}" for n, name in enumerate(codebook.names, start=1)}
    pos = {a: i for i, a in enumerate(ids)}
    assignments = {a: [theme_id[name] for name in sorter.assignments_[a]] for a in ids}
    themes: list[dict[str, Any]] = []
    for column, theme in enumerate(codebook.themes):
        tid = theme_id[theme.name]
        members = [a for a in ids if tid in assignments[a]]
        main = sorted(
            (a for a in members if assignments[a][0] == tid),
            key=lambda a: (-float(sorter.scores_[pos[a], column]), pos[a]),
        )
        quotes = [a for a in main if quotable is None or quotable(texts[pos[a]])]
        themes.append(
            {
                "id": tid,
                "label": theme.name,
                "codebook": theme.name,
                "terms": list(theme.keywords),
                "answer_ids": members,
                "representative_ids": quotes[:4],
                "size": len(members),
            }
        )
    nowhere = list(sorter.nowhere_)
    if len(nowhere) >= min_new:
        rows = [pos[a] for a in nowhere]
        model = ThemeModel(seed=seed).fit(
            [texts[r] for r in rows],
            nowhere,
            questions=questions,
            vectors=None if vectors is None else np.asarray(vectors)[rows],
            quotable=quotable,
        )
        for theme in model.to_json()["themes"]:
            themes.append({**theme, "codebook": None, "proposed": True})
        for a, tids in model.assignments_.items():
            assignments[a] = list(tids)
    # "hvorfor her?": the keywords that matched and the two closest codebook themes
    why = {}
    for a in ids:
        row = sorter.scores_[pos[a]]
        closest = [int(t) for t in np.argsort(-row, kind="stable")[:2]]
        why[a] = {
            "words": sorter.matched_words_[a],
            "closest": [
                {"id": theme_id[codebook.names[t]], "score": round(float(row[t]), 3)}
                for t in closest
            ],
        }
    return {
        "themes": themes,
        "assignments": assignments,
        "why": why,
        "fits_several": list(sorter.several_),
        "fits_nowhere": [a for a in ids if not assignments[a]],
    }
