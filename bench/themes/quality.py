"""Theme-engine quality benchmark: `python bench/themes/quality.py [--seeds 5] [--no-ablation]`.

Prints markdown (copied into bench/themes/RESULTS.md):
1. SIB-200 Danish (real text nobody here wrote): engine with automatic k vs two baselines given
   the true k=7, side by side in the same run; auto-k hit rate; seed stability.
2. Citizen-answer corpora with known themes (fixture, demo answers, a noisy copy): ARI/NMI on the
   primary theme, multi-label precision/recall, plus a supervised ceiling for context.
3. Labels and representatives as staff would see them.
4. Ablation: what each preprocessing step and feature block adds.
"""

from __future__ import annotations

import argparse
import dataclasses
import statistics
import time
from collections import Counter
from itertools import combinations
from typing import Any

import numpy as np
from common import (
    Corpus,
    load_demo,
    load_known,
    load_sib,
    md_table,
    multilabel_scores,
    perturbed,
    predicted_primary,
)
from sklearn.cluster import KMeans
from sklearn.decomposition import TruncatedSVD
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.metrics import adjusted_rand_score as ari
from sklearn.metrics import normalized_mutual_info_score as nmi

from nlp import TextOptions, ThemeModel
from nlp.features import FeatureConfig


def baseline_word(texts: list[str], k: int, seed: int) -> np.ndarray:
    """Word TF-IDF + KMeans (given k)."""
    x = TfidfVectorizer().fit_transform(texts)
    return KMeans(k, random_state=seed, n_init=10).fit_predict(x)


def baseline_char(texts: list[str], k: int, seed: int) -> np.ndarray:
    """char_wb 3-5-gram TF-IDF -> TruncatedSVD(100) -> KMeans (given k)."""
    x = TfidfVectorizer(analyzer="char_wb", ngram_range=(3, 5)).fit_transform(texts)
    z = TruncatedSVD(100, random_state=seed).fit_transform(x)
    return KMeans(k, random_state=seed, n_init=10).fit_predict(z)


def mean_sd(values: list[float]) -> str:
    """ "0.123 ± 0.004"."""
    sd = statistics.pstdev(values) if len(values) > 1 else 0.0
    return f"{statistics.mean(values):.3f} ± {sd:.3f}"


def engine(corpus: Corpus, seed: int, **kw: Any) -> ThemeModel:
    """Fit the engine on a corpus."""
    return ThemeModel(seed=seed, **kw).fit(corpus.texts, corpus.ids)


def section_sib(seeds: list[int]) -> str:
    """SIB-200: engine (auto k) vs baselines (k=7), auto-k hit rate, seed stability."""
    sib = load_sib()
    y = sib.primary
    k_true = len(set(y))
    rows = []
    for name, fn in (
        ("word TF-IDF + KMeans (k=7)", baseline_word),
        ("char 3-5 TF-IDF → SVD(100) → KMeans (k=7)", baseline_char),
    ):
        t0 = time.perf_counter()
        labs = [fn(sib.texts, k_true, s) for s in seeds]
        dt = (time.perf_counter() - t0) / len(seeds)
        rows.append(
            [
                name,
                mean_sd([nmi(y, p) for p in labs]),
                mean_sd([ari(y, p) for p in labs]),
                k_true,
                f"{dt:.1f}",
            ]
        )
    base_best = max(
        statistics.mean([nmi(y, fn(sib.texts, k_true, s)) for s in seeds])
        for fn in (baseline_word, baseline_char)
    )
    preds, ks, times = [], [], []
    for s in seeds:
        t0 = time.perf_counter()
        model = engine(sib, s)
        times.append(time.perf_counter() - t0)
        preds.append(predicted_primary(model.assignments_, sib.ids))
        ks.append(model.k_)
    eng_nmi = [nmi(y, p) for p in preds]
    rows.append(
        [
            "**engine, automatic k**",
            mean_sd(eng_nmi),
            mean_sd([ari(y, p) for p in preds]),
            ",".join(map(str, ks)),
            f"{statistics.mean(times):.1f}",
        ]
    )
    fixed = [
        predicted_primary(engine(sib, s, n_themes=k_true).assignments_, sib.ids) for s in seeds
    ]
    rows.append(
        [
            "engine, k=7 given",
            mean_sd([nmi(y, p) for p in fixed]),
            mean_sd([ari(y, p) for p in fixed]),
            k_true,
            "",
        ]
    )
    stab = [ari(a, b) for a, b in combinations(preds, 2)]
    hits = sum(abs(k - k_true) <= 2 for k in ks)
    out = [
        f"### SIB-200 Danish train ({len(y)} sentences, {k_true} topics), seeds {seeds}\n",
        md_table(["method", "NMI", "ARI", "k", "s/run"], rows),
        "",
        f"- engine NMI / best baseline NMI = **{statistics.mean(eng_nmi) / base_best:.2f}x** "
        "(target ≥ 1.5x)",
        f"- automatic k within ±2 of {k_true}: **{hits}/{len(ks)}** seeds (k = {ks})",
        f"- stability, ARI between runs with different seeds: mean {statistics.mean(stab):.3f},"
        f" min {min(stab):.3f} ({len(stab)} pairs)"
        if stab
        else "- (one seed: no stability)",
        f"- answers in 'andet': {statistics.mean(p.count('andet') for p in preds):.0f}",
        "",
    ]
    return "\n".join(out)


def supervised_ceiling(corpus: Corpus) -> float:
    """5-fold logistic regression on the engine's own TF-IDF blocks (ARI of the predictions)."""
    from sklearn.linear_model import LogisticRegression
    from sklearn.model_selection import cross_val_predict

    from nlp.features import Bag, Featurizer
    from nlp.text import analyze

    bags = [Bag.of_units(us) for us in analyze(corpus.texts)]
    feat = Featurizer(FeatureConfig()).fit(bags)
    x = feat._tfidf(bags)  # the sparse TF-IDF before LSA
    y = np.asarray(corpus.primary)
    pred = cross_val_predict(LogisticRegression(C=10, max_iter=3000), x, y, cv=5)
    return float(ari(y, pred))


def section_citizen(corpora: list[Corpus], seeds: list[int]) -> str:
    """ARI/NMI on primary themes, multi-label scores, baselines with true k, ceiling."""
    rows = []
    for corpus in corpora:
        y = corpus.primary
        k_true = len({g for g in y if g != "andet"})
        res: dict[str, list[float]] = {
            "ari": [],
            "nmi": [],
            "p": [],
            "r": [],
            "mr": [],
            "k": [],
            "andet": [],
        }
        for s in seeds:
            model = engine(corpus, s)
            pred = predicted_primary(model.assignments_, corpus.ids)
            ml = multilabel_scores(model.assignments_, corpus)
            res["ari"].append(ari(y, pred))
            res["nmi"].append(nmi(y, pred))
            res["p"].append(ml["precision"])
            res["r"].append(ml["recall"])
            res["mr"].append(ml["multi_recall"])
            res["k"].append(model.k_)
            res["andet"].append(pred.count("andet") / len(pred))
        base = [ari(y, baseline_char(corpus.texts, k_true, s)) for s in seeds]
        rows.append(
            [
                corpus.name,
                len(y),
                k_true,
                mean_sd(res["ari"]),
                mean_sd(res["nmi"]),
                ",".join(str(int(k)) for k in res["k"]),
                f"{statistics.mean(res['andet']):.2f}",
                f"{statistics.mean(res['p']):.2f}/{statistics.mean(res['r']):.2f}",
                f"{statistics.mean(res['mr']):.2f}",
                mean_sd(base),
                f"{supervised_ceiling(corpus):.3f}",
            ]
        )
    header = [
        "corpus",
        "n",
        "true k",
        "ARI (primary)",
        "NMI",
        "auto k",
        "andet share",
        "theme-set P/R",
        "multi-theme recall",
        "char baseline ARI (true k)",
        "supervised ceiling ARI",
    ]
    return "\n".join(
        [f"### Citizen answers with known themes, seeds {seeds}\n", md_table(header, rows), ""]
    )


def section_halves(seeds: list[int]) -> str:
    """Known-themes ARI on the odd ids (used while writing the thesaurus) vs the even ids."""
    known = load_known()
    odd = [i for i, a in enumerate(known.ids) if int(a.lstrip("k")) % 2 == 1]
    even = [i for i, a in enumerate(known.ids) if int(a.lstrip("k")) % 2 == 0]
    rows = []
    for s in seeds:
        pred = predicted_primary(engine(known, s).assignments_, known.ids)
        y = known.primary
        rows.append(
            [
                s,
                ari([y[i] for i in odd], [pred[i] for i in odd]),
                ari([y[i] for i in even], [pred[i] for i in even]),
            ]
        )
    return "\n".join(
        [
            "### Known-themes set: development half vs held-out half\n",
            md_table(["seed", "ARI odd ids (dev)", "ARI even ids (held out)"], rows),
            "",
        ]
    )


def section_labels(corpus: Corpus, seed: int = 0, n_reps: int = 2) -> str:
    """Themes as staff would see them, with the gold key most of their answers carry."""
    model = engine(corpus, seed)
    text = dict(zip(corpus.ids, corpus.texts, strict=True))
    gold = dict(zip(corpus.ids, corpus.primary, strict=True))
    rows = []
    for t in model.themes_:
        c = Counter(gold[a] for a in t.answer_ids if model.assignments_[a][0] == t.id)
        key, count = c.most_common(1)[0] if c else ("-", 0)
        reps = " / ".join("“" + _short(text[r]) + "”" for r in t.representative_ids[:n_reps])
        purity = count / max(1, sum(c.values()))
        rows.append([t.id, t.size, f"**{t.label}**", f"{key} ({purity:.0%})", reps])
    andet = sum(1 for v in model.assignments_.values() if not v)
    return "\n".join(
        [
            f"### Labels: {corpus.name} (seed {seed}, k={model.k_}, andet={andet})\n",
            md_table(
                ["id", "size", "label", "majority gold theme (purity)", "representatives"], rows
            ),
            "",
        ]
    )


def _short(text: str, n: int = 90) -> str:
    text = " ".join(text.split()).replace("|", "/")
    return text if len(text) <= n else text[: n - 1] + "…"


def section_ablation(seeds: list[int]) -> str:
    """Turn off one step at a time; report SIB NMI and citizen ARI."""
    sib, known, demo = load_sib(), load_known(), load_demo()
    noisy = perturbed(known, seed=1)
    full = TextOptions()
    fc = FeatureConfig()

    def text(**kw: bool) -> dict[str, Any]:
        return {"text_options": dataclasses.replace(full, **kw)}

    def feat(**kw: float) -> dict[str, Any]:
        return {"features": dataclasses.replace(fc, **kw)}

    variants: list[tuple[str, dict[str, Any]]] = [
        ("full engine", {}),
        ("− noise stripping (URLs, emoji)", text(strip_noise=False)),
        ("− spelling repair (æøå, slang, elongation)", text(fix_spelling=False)),
        ("− lemmatisation", text(lemmatize=False)),
        ("− spaCy stop words", text(stop_words=False)),
        ("− domain stop words", text(domain_stop_words=False)),
        ("− clause splitting", text(split_clauses=False)),
        ("− concept thesaurus", feat(concept_weight=0.0)),
        ("− char n-grams", feat(char_weight=0.0)),
        ("− word/lemma n-grams", feat(word_weight=0.0)),
        ("LSA without singular-value emphasis (power 1)", feat(singular_power=1.0)),
    ]
    rows = []
    for name, kw in variants:
        sib_nmi = [
            nmi(sib.primary, predicted_primary(engine(sib, s, **kw).assignments_, sib.ids))
            for s in seeds
        ]
        row: list[Any] = [name, statistics.mean(sib_nmi)]
        for corpus in (known, demo, noisy):
            scores = [
                ari(
                    corpus.primary,
                    predicted_primary(engine(corpus, s, **kw).assignments_, corpus.ids),
                )
                for s in seeds
            ]
            row.append(statistics.mean(scores))
        rows.append(row)
    return "\n".join(
        [
            f"### Ablation (mean over seeds {seeds}; automatic k)\n",
            md_table(["variant", "SIB NMI", "known ARI", "demo ARI", "known-noisy ARI"], rows),
            "",
        ]
    )


def main() -> None:
    """Run the sections and print markdown."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--seeds", type=int, default=5)
    parser.add_argument("--ablation-seeds", type=int, default=3)
    parser.add_argument("--no-ablation", action="store_true")
    parser.add_argument("--only", choices=["sib", "citizen", "labels", "ablation"])
    args = parser.parse_args()
    seeds = list(range(args.seeds))
    t0 = time.perf_counter()
    known, demo = load_known(), load_demo()
    if args.only in (None, "sib"):
        print(section_sib(seeds), flush=True)
    if args.only in (None, "citizen"):
        print(section_citizen([known, demo, perturbed(known, seed=1)], seeds), flush=True)
        print(section_halves(seeds), flush=True)
    if args.only in (None, "labels"):
        print(section_labels(known), flush=True)
        print(section_labels(demo), flush=True)
    if args.only == "ablation" or (args.only is None and not args.no_ablation):
        print(section_ablation(list(range(args.ablation_seeds))), flush=True)
    print(f"_quality.py ran in {time.perf_counter() - t0:.0f} s_")


if __name__ == "__main__":
    main()
