"""Theme identity across re-runs: `python bench/themes/identity.py [--seeds 5]`.

For each corpus (known themes, demo answers, the noisy known-themes copy, SIB-200) and seed:

- **same answers**: fit, then fit again on the same answers with the first run's themes as
  `previous` (and its "andet" answers as `previous_andet`), as `flask themes build` does
  when nothing changed. Counts answers whose theme list changed, and whose main theme did.
  The issue asks for none.
- **10 % more answers**: fit on a seeded 91 %, re-fit on all with the first run's themes;
  counts answers of the first run whose main theme changed, and scores both runs' ARI
  against the gold main theme (the stability must not cost quality).

Prints a markdown table (copy into RESULTS.md section 6).
"""

from __future__ import annotations

import argparse
import inspect
import random
import statistics

from common import (
    Corpus,
    load_demo,
    load_known,
    load_sib,
    md_table,
    perturbed,
    predicted_primary,
)
from sklearn.metrics import adjusted_rand_score as ari

from nlp import ThemeModel

#: Older engines (before primary_ids/stickiness) take fewer arguments: the same script
#: measures them for comparison.
_HAS_ANDET = "previous_andet" in inspect.signature(ThemeModel.fit).parameters
_HAS_CLUSTERS = "previous_clusters" in inspect.signature(ThemeModel.fit).parameters
#: --start themes: leave the previous clusters out (the re-run starts from the previous
#: themes' main answers, as runs stored before clusters were kept do).
START_FROM_CLUSTERS = True


def refit(corpus: Corpus, previous: ThemeModel, seed: int) -> ThemeModel:
    """Fit on `corpus` with `previous`'s themes (and "andet" answers) as the previous run."""
    extra = {}
    if _HAS_ANDET:
        extra["previous_andet"] = [a for a, found in previous.assignments_.items() if not found]
    if _HAS_CLUSTERS and START_FROM_CLUSTERS:
        extra["previous_clusters"] = previous.clusters_
    return ThemeModel(seed=seed).fit(corpus.texts, corpus.ids, previous=previous.themes_, **extra)


def measure(corpus: Corpus, seed: int) -> dict[str, float]:
    """One seed's figures for one corpus."""
    first = ThemeModel(seed=seed).fit(corpus.texts, corpus.ids)
    again = refit(corpus, first, seed)
    ids = corpus.ids
    changed = sum(first.assignments_[a] != again.assignments_[a] for a in ids)
    main = sum(first.assignments_[a][:1] != again.assignments_[a][:1] for a in ids)

    order = list(range(len(ids)))
    random.Random(seed).shuffle(order)
    keep = sorted(order[: int(len(ids) / 1.1)])
    part = Corpus(
        name=corpus.name,
        ids=[ids[i] for i in keep],
        texts=[corpus.texts[i] for i in keep],
        gold=[corpus.gold[i] for i in keep],
    )
    base = ThemeModel(seed=seed).fit(part.texts, part.ids)
    grown = refit(corpus, base, seed)
    moved = sum(base.assignments_[a][:1] != grown.assignments_[a][:1] for a in part.ids)
    return {
        "changed": changed,
        "main": main,
        "moved": moved,
        "base_n": len(part.ids),
        "ari_base": ari(part.primary, predicted_primary(base.assignments_, part.ids)),
        "ari_grown": ari(corpus.primary, predicted_primary(grown.assignments_, ids)),
    }


def main() -> None:
    """Run every corpus and print the table."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--seeds", type=int, default=5)
    parser.add_argument(
        "--start",
        choices=("clusters", "themes"),
        default="clusters",
        help="where a re-run's k-means starts: the previous run's clusters (as the engine "
        "does) or its themes' main answers (runs stored before clusters were kept)",
    )
    args = parser.parse_args()
    global START_FROM_CLUSTERS
    START_FROM_CLUSTERS = args.start == "clusters"
    seeds = list(range(args.seeds))
    rows = []
    for corpus in (load_known(), load_demo(), perturbed(load_known()), load_sib()):
        runs = [measure(corpus, seed) for seed in seeds]
        rows.append(
            [
                corpus.name,
                len(corpus.ids),
                ", ".join(str(int(r["changed"])) for r in runs),
                ", ".join(str(int(r["main"])) for r in runs),
                ", ".join(f"{int(r['moved'])}/{int(r['base_n'])}" for r in runs),
                f"{statistics.mean(r['ari_base'] for r in runs):.3f}",
                f"{statistics.mean(r['ari_grown'] for r in runs):.3f}",
            ]
        )
    print(f"### Re-runs with the previous themes, seeds {seeds}\n")
    print(
        md_table(
            [
                "corpus",
                "n",
                "same answers: answers whose themes changed",
                "of them main theme",
                "+10 %: earlier answers whose main theme changed",
                "ARI before",
                "ARI after +10 %",
            ],
            rows,
        )
    )


if __name__ == "__main__":
    main()
