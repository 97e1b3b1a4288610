"""Theme labels (class-based TF-IDF over lemmas and bigrams) and representative answers."""

from __future__ import annotations

import math
from collections import Counter, defaultdict
from collections.abc import Callable, Collection, Sequence

import numpy as np

from nlp.features import Bag

LABEL_SEPARATOR = " · "


def _grams(bag: Bag) -> list[tuple[str, str]]:
    """(lemma key, surface text) for every unigram and adjacent bigram of a bag."""
    out = list(zip(bag.lemmas, bag.surfaces, strict=True))
    adjacent = bag.adjacent if len(bag.adjacent) == len(bag.lemmas) - 1 else None
    for i in range(len(bag.lemmas) - 1):
        if bag.lemmas[i] != bag.lemmas[i + 1] and (adjacent is None or adjacent[i]):
            out.append(
                (
                    f"{bag.lemmas[i]} {bag.lemmas[i + 1]}",
                    f"{bag.surfaces[i]} {bag.surfaces[i + 1]}",
                )
            )
    return out


def class_tfidf_terms(
    groups: Sequence[Sequence[Bag]],
    top_n: int = 10,
    min_docs: int = 2,
    exclude: Collection[str] = frozenset(),
    allow: Callable[[str], bool] | None = None,
) -> list[list[tuple[str, str]]]:
    """Distinctive terms per group, rendered with the surface form citizens used most.

    c-TF-IDF (as in BERTopic): weight(t, c) = tf(t, c) / |c| * log(1 + A / f(t)), with A the
    average number of terms per group and f(t) the frequency of t over all groups. A term must
    occur in at least `min_docs` answers of the group (all when the group is smaller). A unigram
    already covered by a chosen bigram (and vice versa) is skipped, and so is another
    inflection of a chosen word, and a term with a lemma in `exclude` (the question's own
    words), and a term whose surface form `allow` refuses (e.g. a person's name, whatever its
    case: the caller decides). Returns (lemma key, surface) pairs per group.
    """
    tf: list[Counter[str]] = []
    docfreq: list[Counter[str]] = []
    surfaces: list[defaultdict[str, Counter[str]]] = []
    for bags in groups:
        counts: Counter[str] = Counter()
        dfs: Counter[str] = Counter()
        surf: defaultdict[str, Counter[str]] = defaultdict(Counter)
        for bag in bags:
            grams = _grams(bag)
            for key, surface in grams:
                counts[key] += 1
                surf[key][surface] += 1
            dfs.update({key for key, _ in grams})
        tf.append(counts)
        docfreq.append(dfs)
        surfaces.append(surf)
    total: Counter[str] = Counter()
    for counts in tf:
        total.update(counts)
    sizes = [sum(c.values()) for c in tf]
    avg = (sum(sizes) / len(sizes)) if sizes else 0.0
    result: list[list[tuple[str, str]]] = []
    for counts, dfs, surf, size, bags in zip(tf, docfreq, surfaces, sizes, groups, strict=True):
        if not size:
            result.append([])
            continue
        need = min(min_docs, len(bags))
        scored = sorted(
            (
                (c / size * math.log(1 + avg / total[t]), t)
                for t, c in counts.items()
                if dfs[t] >= need and not (exclude and any(p in exclude for p in t.split(" ")))
            ),
            key=lambda x: (-x[0], x[1]),
        )
        rendered: list[tuple[str, str]] = []
        words: set[str] = set()
        for _, term in scored:
            parts = term.split(" ")
            if len(parts) == 1 and term in words:
                continue
            if len(parts) == 2 and all(p in words for p in parts):
                continue
            # Surface form: the most frequent way citizens wrote the term (ties -> alphabetical).
            surface = min(surf[term].items(), key=lambda kv: (-kv[1], kv[0]))[0]
            if allow is not None and not allow(surface):
                continue
            rendered.append((term, surface))
            words.update(parts)
            if len(rendered) >= top_n:
                break
        result.append(_dedupe_surfaces(rendered))
    return result


def _near(a: str, b: str) -> bool:
    """Same word in another inflection ("hjælp"/"hjælper", "klasse"/"klassen"), or a longer
    word built on a whole word of 6+ letters ("sundhedspleje"/"sundhedsplejersken"): a label
    of three terms should name three things."""
    short, long_ = sorted((a, b), key=len)
    return long_.startswith(short) and (len(long_) - len(short) <= 2 or len(short) >= 6)


def _dedupe_surfaces(terms: list[tuple[str, str]]) -> list[tuple[str, str]]:
    out: list[tuple[str, str]] = []
    for key, term in terms:
        if not any(term == t or (" " not in term + t and _near(term, t)) for _, t in out):
            out.append((key, term))
    return out


def make_label(terms: Sequence[str], n: int = 3) -> str:
    """Readable label from the top terms, e.g. "legepladser · skygge · bænke"."""
    return LABEL_SEPARATOR.join(terms[:n]) if terms else "uden tydelige ord"


def representatives(
    members: Sequence[int],
    vectors: np.ndarray,
    centroid: np.ndarray,
    bags: Sequence[Bag],
    texts: Sequence[str],
    term_keys: Sequence[str] = (),
    n: int = 4,
    max_similarity: float = 0.9,
) -> list[int]:
    """3-5 central members that are not near-duplicates of each other (indices into vectors).

    Score = cosine to the centroid, + 0.05 for answers of 4-40 content words (one-word answers
    are central but say little), + up to 0.1 for using the theme's top terms (the citizens'
    clearest words for it). A candidate is skipped when its vector is within `max_similarity`
    cosine of an already chosen one or its whitespace-normalised text is equal.
    """
    if not len(members):
        return []
    idx = np.asarray(members)
    sims = vectors[idx] @ centroid
    keys = [k.split(" ") for k in term_keys[:5]]
    score = np.empty(len(idx), dtype=np.float64)
    for row, i in enumerate(idx):
        lemmas = set(bags[i].lemmas)
        words = len(bags[i].lemmas)
        hits = sum(all(part in lemmas for part in key) for key in keys)
        score[row] = sims[row] + (0.05 if 4 <= words <= 40 else 0.0) + 0.1 * min(1.0, hits / 3)
    order = np.lexsort((idx, -score))
    chosen: list[int] = []
    seen_texts: set[str] = set()
    for pos in order:
        i = int(idx[pos])
        key = " ".join(texts[i].lower().split())
        if key in seen_texts:
            continue
        if chosen and float(np.max(vectors[chosen] @ vectors[i])) > max_similarity:
            continue
        chosen.append(i)
        seen_texts.add(key)
        if len(chosen) >= n:
            break
    return chosen
