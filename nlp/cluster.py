"""Clustering on unit-length LSA vectors: automatic k, seeded k-means, identity matching."""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np
from scipy.optimize import linear_sum_assignment
from sklearn.cluster import KMeans
from sklearn.metrics import silhouette_score

# Above this many points the choice of k is made on a seeded sample.
K_SELECTION_SAMPLE = 3000


def k_range(n: int, max_themes: int = 30) -> tuple[int, int]:
    """Sensible (min, max) number of themes for n answers: 2..sqrt(n/2), at most `max_themes`."""
    if n < 6:
        return (1, 1) if n else (0, 0)
    hi = int(min(max_themes, max(2, round(math.sqrt(n / 2)))))
    lo = min(hi, 2 if n < 40 else 4)
    return lo, hi


def _kmeans(z: np.ndarray, k: int, seed: int, n_init: int = 4) -> KMeans:
    return KMeans(n_clusters=k, n_init=n_init, random_state=seed, max_iter=200).fit(z)


def silhouette_curve(z: np.ndarray, ks: Sequence[int], seed: int) -> dict[int, float]:
    """Cosine silhouette of k-means with each k (on a seeded sample when z is large)."""
    if len(z) > K_SELECTION_SAMPLE:
        rng = np.random.default_rng(seed)
        z = z[np.sort(rng.choice(len(z), size=K_SELECTION_SAMPLE, replace=False))]
    scores: dict[int, float] = {}
    for k in ks:
        if k < 2 or k >= len(z):
            continue
        labels = _kmeans(z, k, seed, n_init=2).labels_
        if len(set(labels.tolist())) < 2:
            continue
        scores[k] = float(silhouette_score(z, labels, metric="cosine"))
    return scores


def choose_k(z: np.ndarray, lo: int, hi: int, seed: int) -> tuple[int, dict[int, float]]:
    """Automatic number of themes in [lo, hi] and the silhouette curve it was read from.

    The k with the best cosine silhouette after 3-point smoothing (one noisy k-means run per k
    should not decide); ties go to the smaller k.
    """
    if hi <= 1:
        return hi, {}
    scores = silhouette_curve(z, range(lo, hi + 1), seed)
    if not scores:
        return lo, scores
    ks = sorted(scores)
    smooth = {
        k: float(np.mean([scores[j] for j in ks[max(0, n - 1) : n + 2]])) for n, k in enumerate(ks)
    }
    best = max(smooth.values())
    return min(k for k in ks if smooth[k] >= best - 1e-12), scores


def seeded_init(z: np.ndarray, seeds: np.ndarray, k: int, seed: int) -> np.ndarray:
    """k initial centres: the given seed centres, then k-means++ style picks for the rest."""
    rng = np.random.default_rng(seed)
    centres = [c for c in seeds[:k]]
    if not centres:
        centres.append(z[rng.integers(len(z))])
    best_sim = np.max(z @ np.asarray(centres).T, axis=1)
    while len(centres) < k:
        dist = np.clip(1.0 - best_sim, 0.0, None) ** 2
        total = float(dist.sum())
        index = int(rng.choice(len(z), p=dist / total)) if total > 0 else int(rng.integers(len(z)))
        centres.append(z[index])
        best_sim = np.maximum(best_sim, z @ z[index])
    return np.asarray(centres, dtype=np.float64)


def cluster(
    z: np.ndarray, k: int, seed: int, seeds: np.ndarray | None = None
) -> tuple[np.ndarray, np.ndarray]:
    """k-means labels and unit-length centroids; `seeds` (previous themes) start the first rows."""
    k = max(1, min(k, len(z)))
    if seeds is not None and len(seeds):
        init = seeded_init(z, seeds, k, seed)
        km = KMeans(n_clusters=k, init=init, n_init=1, random_state=seed, max_iter=300).fit(z)
    else:
        km = _kmeans(z, k, seed, n_init=8 if len(z) <= 20_000 else 3)
    return km.labels_.astype(np.int64), unit_rows(km.cluster_centers_)


def unit_rows(m: np.ndarray) -> np.ndarray:
    """Rows scaled to unit length (zero rows stay zero)."""
    m = np.asarray(m, dtype=np.float32)
    norms = np.linalg.norm(m, axis=1, keepdims=True)
    return np.divide(m, norms, out=np.zeros_like(m), where=norms > 0)


def match_by_overlap(
    new: Sequence[set[str]], old: Sequence[set[str]], min_jaccard: float = 0.2
) -> dict[int, int]:
    """One-to-one match new -> old groups by answer overlap (Hungarian on Jaccard).

    Only answers present in both runs count, so added answers do not dilute the overlap.
    """
    if not new or not old:
        return {}
    common = set().union(*new) & set().union(*old)
    jac = np.zeros((len(new), len(old)))
    for i, a in enumerate(new):
        a = a & common
        for j, b in enumerate(old):
            b = b & common
            union = len(a | b)
            jac[i, j] = len(a & b) / union if union else 0.0
    rows, cols = linear_sum_assignment(-jac)
    return {int(i): int(j) for i, j in zip(rows, cols, strict=True) if jac[i, j] >= min_jaccard}
