"""Issue 22 benchmark: `python bench/themes/issue22.py [--seeds 3] [--section ...]`.

Prints markdown (copied into bench/themes/RESULTS.md, section 7):
1. No codebook, automatic k: ARI on the main theme for the two corpora written for issue 22
   (bench/themes/data: development half / held-out half / all, split by `common.is_held_out`),
   the known-themes set, the demo answers and SIB-200 (NMI), for the engine before issue 22,
   the engine now without vectors and the engine now with e5 vectors.
2. Codebook: main-theme accuracy on answers that have a gold theme, keywords only / e5 only /
   both; then after 5 corrections per theme on the remaining answers.
3. Speed: a codebook sort of 10,000 answers with stored vectors; the engine on 100,000 answers
   with stored vectors (fresh subprocess, peak RSS).

e5 vectors are computed once and cached under bench/out/ (gitignored).
"""

from __future__ import annotations

import argparse
import hashlib
import json
import resource
import statistics
import subprocess
import sys
import time
from typing import Any

import numpy as np
from common import (
    OTHER,
    Corpus,
    e5_vectors,
    is_held_out,
    load_codebook,
    load_demo,
    load_known,
    load_other,
    load_sib,
    md_table,
    predicted_primary,
)
from sklearn.metrics import adjusted_rand_score as ari
from sklearn.metrics import normalized_mutual_info_score as nmi

from nlp import ThemeModel
from nlp.codebook import Codebook, CodebookSorter
from nlp.features import FeatureConfig

BEFORE = FeatureConfig(concept_max_share=1.0)  # the engine as it was before issue 22


def _score(corpus: Corpus, pred: list[str], part: str, metric: Any = ari) -> float:
    keep = [
        j
        for j, i in enumerate(corpus.ids)
        if part == "all" or is_held_out(i) == (part == "held-out")
    ]
    y = corpus.primary
    return metric([y[j] for j in keep], [pred[j] for j in keep])


def _mean(values: list[float]) -> str:
    sd = statistics.pstdev(values) if len(values) > 1 else 0.0
    return f"{statistics.mean(values):.3f} ± {sd:.3f}"


def section_quality(seeds: list[int], names: list[str]) -> str:
    """ARI (NMI for SIB) with automatic k, three engines, dev / held-out / all."""
    loaders = {"known": load_known, "demo": load_demo, "sib": load_sib}
    corpora = [loaders[n]() if n in loaders else load_other(n) for n in names]
    variants = [
        ("engine before issue 22", BEFORE, False),
        ("engine now, no vectors", FeatureConfig(), False),
        ("engine now + e5 vectors", FeatureConfig(), True),
    ]
    rows = []
    for corpus in corpora:
        vectors = e5_vectors(corpus.texts)
        metric = nmi if corpus.name.startswith("sib") else ari
        for name, cfg, use in variants:
            scores: dict[str, list[float]] = {"dev": [], "held-out": [], "all": []}
            ks = []
            andet = []
            for seed in seeds:
                model = ThemeModel(seed=seed, features=cfg).fit(
                    corpus.texts, corpus.ids, vectors=vectors if use else None
                )
                pred = predicted_primary(model.assignments_, corpus.ids)
                for part in scores:
                    scores[part].append(_score(corpus, pred, part, metric))
                ks.append(model.k_)
                andet.append(pred.count("andet") / len(pred))
            rows.append(
                [
                    corpus.name + (" (NMI)" if metric is nmi else ""),
                    len(set(corpus.primary)),
                    name,
                    _mean(scores["dev"]),
                    _mean(scores["held-out"]),
                    _mean(scores["all"]),
                    ",".join(map(str, ks)),
                    f"{statistics.mean(andet):.2f}",
                ]
            )
            print(rows[-1], file=sys.stderr, flush=True)
    header = ["corpus", "true k", "engine", "dev half", "held-out half", "all", "auto k", "andet"]
    return "### No codebook, automatic k (ARI on the main theme)\n\n" + md_table(header, rows)


def _corrections(corpus: Corpus, key_to_name: dict[str, str], per_theme: int) -> dict[str, str]:
    """`per_theme` answers per gold main theme, chosen by id hash (not by difficulty)."""
    order = sorted(corpus.ids, key=lambda i: hashlib.sha256(i.encode()).hexdigest())
    gold = dict(zip(corpus.ids, corpus.gold, strict=True))
    out: dict[str, str] = {}
    count: dict[str, int] = {}
    for i in order:
        if gold[i] and count.get(gold[i][0], 0) < per_theme:
            out[i] = key_to_name[gold[i][0]]
            count[gold[i][0]] = count.get(gold[i][0], 0) + 1
    return out


def _accuracy(corpus: Corpus, assignments: dict[str, list[str]], part: str, skip: Any) -> float:
    hits = []
    for i, gold in zip(corpus.ids, corpus.gold, strict=True):
        if not gold or i in skip or (part != "all" and is_held_out(i) != (part == "held-out")):
            continue
        hits.append(bool(assignments[i]) and assignments[i][0] == gold[0])
    return float(np.mean(hits))


def section_codebook(names: list[str]) -> str:
    """Main-theme accuracy with the codebooks, and after 5 corrections per theme."""
    rows = []
    for name in names:
        corpus = load_other(name)
        raw = load_codebook(name)
        codebook = Codebook.from_dict(raw)
        key = {t["name"]: t["key"] for t in raw["themes"]}
        vectors = e5_vectors(corpus.texts)
        theme_vectors = e5_vectors([t.passage() for t in codebook.themes], is_query=False)
        corr = _corrections(corpus, {v: k for k, v in key.items()}, 5)
        for label, kw in (
            ("keywords only", {"semantic_weight": 0.0}),
            ("e5 only (name + description + keywords)", {"keyword_weight": 0.0}),
            ("keywords + e5", {}),
        ):
            for corrections in (None, corr):
                sorter = CodebookSorter(codebook, **kw).fit(
                    corpus.texts,
                    corpus.ids,
                    vectors=vectors,
                    theme_vectors=theme_vectors,
                    corrections=corrections,
                )
                got = {a: [key[t] for t in ts] for a, ts in sorter.assignments_.items()}
                skip = set(corrections or ())
                rows.append(
                    [
                        name,
                        label,
                        "5 per theme" if corrections else "none",
                        f"{_accuracy(corpus, got, 'dev', skip):.3f}",
                        f"{_accuracy(corpus, got, 'held-out', skip):.3f}",
                        f"{_accuracy(corpus, got, 'all', skip):.3f}",
                        len(sorter.nowhere_),
                        len(sorter.several_),
                    ]
                )
    header = ["corpus", "evidence", "corrections", "dev", "held-out", "all", "nowhere", "several"]
    return "### Codebook: main-theme accuracy on answers with a gold theme\n\n" + md_table(
        header, rows
    )


def _stored_vectors(n: int, dim: int = 384, seed: int = 0) -> np.ndarray:
    """Stand-ins for stored e5 vectors (float16, unit length): embedding 100k synthetic answers
    would take hours here, and the engine's cost does not depend on what the vectors say."""
    rng = np.random.default_rng(seed)
    v = rng.standard_normal((n, dim)).astype(np.float32)
    return (v / np.linalg.norm(v, axis=1, keepdims=True)).astype(np.float16)


def child(n: int, what: str) -> None:
    """One timed run in a subprocess; prints one JSON line."""
    from speed import synthesize

    from nlp import warm_up

    texts = synthesize(n)
    ids = [f"a{i}" for i in range(n)]
    vectors = _stored_vectors(n)
    warm_up()
    t0 = time.perf_counter()
    if what == "codebook":
        codebook = Codebook.from_dict(load_codebook("digital"))
        tv = _stored_vectors(len(codebook.themes), seed=1)
        sorter = CodebookSorter(codebook).fit(texts, ids, vectors=vectors, theme_vectors=tv)
        extra = {"nowhere": len(sorter.nowhere_)}
    else:
        # the synthetic answers are childhood ones (thesaurus on, e5 unused): "engine-e5"
        # switches the thesaurus off so that the vectors are used, the slower case
        cfg = FeatureConfig(concept_max_share=0.0) if what == "engine-e5" else FeatureConfig()
        model = ThemeModel(seed=0, features=cfg).fit(texts, ids, vectors=vectors)
        extra = {"k": model.k_, "semantic": model._featurizer.semantic_weight_}
    seconds = time.perf_counter() - t0
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(json.dumps({"n": n, "what": what, "s": seconds, "peak_rss_mb": rss, **extra}))


def section_speed(sizes: list[tuple[int, str]]) -> str:
    """Each run in a fresh subprocess (peak RSS belongs to it alone)."""
    rows = []
    for n, what in sizes:
        done = subprocess.run(
            [sys.executable, __file__, "--child", str(n), what],
            capture_output=True,
            text=True,
            check=True,
        )
        r = json.loads(done.stdout.strip().splitlines()[-1])
        rows.append([f"{n:,}", what, f"{r['s']:.1f}", f"{r['peak_rss_mb']:.0f}", json.dumps(r)])
        print(rows[-1], file=sys.stderr, flush=True)
    return "### Speed with stored vectors\n\n" + md_table(
        ["answers", "run", "seconds", "peak RSS MB", "detail"], rows
    )


def main() -> None:
    """Print the chosen sections."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--seeds", type=int, default=3)
    parser.add_argument("--section", nargs="+", default=["quality", "codebook", "speed"])
    parser.add_argument(
        "--corpora",
        nargs="+",
        default=[*OTHER, "known", "demo", "sib"],
        help="which corpora (the codebook section takes those with a codebook)",
    )
    parser.add_argument("--child", nargs=2, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        child(int(args.child[0]), args.child[1])
        return
    seeds = list(range(args.seeds))
    if "codebook" in args.section:
        print(section_codebook([n for n in args.corpora if n in OTHER]) + "\n", flush=True)
    if "quality" in args.section:
        print(section_quality(seeds, args.corpora) + "\n", flush=True)
    if "speed" in args.section:
        runs = [(10_000, "codebook"), (100_000, "engine"), (100_000, "engine-e5")]
        print(section_speed(runs) + "\n", flush=True)


if __name__ == "__main__":
    main()
