"""Theme-engine speed and memory: `python bench/themes/speed.py [--sizes 1000 10000 100000]`.

Synthetic corpora of the wanted size are made by recombining and perturbing the sentences of the
known-themes fixture and the demo answers (youth spelling, missing æøå, emoji, typos, dropped
words), so vocabularies grow like real data instead of repeating the same answers. Each size runs
in a fresh subprocess so that peak RSS (ru_maxrss) belongs to that size alone.
Targets (2-core machine): 10k answers ≤ 20 s, 100k ≤ 4 min, peak memory ≤ 3 GB.
"""

from __future__ import annotations

import argparse
import json
import random
import re
import resource
import subprocess
import sys
import time

from common import load_demo, load_known, md_table, perturb

_SPLIT = re.compile(r"(?<=[.!?])\s+|,\s+(?=men |og så )")


def synthesize(n: int, seed: int = 0) -> list[str]:
    """n answers made of 1-3 perturbed sentences drawn from the citizen corpora."""
    rng = random.Random(seed)
    sentences = [
        s.strip()
        for corpus in (load_known(), load_demo())
        for text in corpus.texts
        for s in _SPLIT.split(text)
        if len(s.split()) >= 3
    ]
    out = []
    for _ in range(n):
        parts = [rng.choice(sentences) for _ in range(rng.choice((1, 1, 1, 2, 2, 3)))]
        words = " ".join(parts).split()
        words = [w for w in words if rng.random() > 0.08] or words
        out.append(perturb(" ".join(words), rng, strength=0.6))
    return out


def child(n: int) -> None:
    """Measure one size (run in a subprocess); prints one JSON line."""
    texts = synthesize(n)
    ids = [f"a{i}" for i in range(n)]
    t0 = time.perf_counter()
    from nlp import ThemeModel, warm_up

    warm_up()
    load = time.perf_counter() - t0
    t0 = time.perf_counter()
    model = ThemeModel(seed=0).fit(texts, ids)
    fit = time.perf_counter() - t0
    t0 = time.perf_counter()
    blob = model.to_bytes()
    ser = time.perf_counter() - t0
    t0 = time.perf_counter()
    restored = ThemeModel.from_bytes(blob)
    deser = time.perf_counter() - t0
    probe = synthesize(5, seed=99)
    restored.transform(probe[:1])  # first call compiles regexes / fills caches
    t0 = time.perf_counter()
    restored.transform(probe)
    transform = time.perf_counter() - t0
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KiB -> MiB on Linux
    print(
        json.dumps(
            {
                "n": n,
                "load_s": load,
                "fit_s": fit,
                "k": model.k_,
                "themes": len(model.themes_),
                "andet": sum(1 for v in model.assignments_.values() if not v),
                "bytes_mb": len(blob) / 1e6,
                "to_bytes_s": ser,
                "from_bytes_s": deser,
                "transform5_s": transform,
                "peak_rss_mb": rss,
            }
        )
    )


def main() -> None:
    """Run each size in a subprocess and print a markdown table."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--sizes", type=int, nargs="+", default=[1000, 3000, 10000, 30000, 100000])
    parser.add_argument("--child", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        child(args.child)
        return
    rows = []
    for n in args.sizes:
        done = subprocess.run(
            [sys.executable, __file__, "--child", str(n)],
            capture_output=True,
            text=True,
            check=True,
        )
        r = json.loads(done.stdout.strip().splitlines()[-1])
        rows.append(
            [
                f"{n:,}",
                f"{r['fit_s']:.1f}",
                f"{r['fit_s'] / n * 1000:.2f}",
                f"{r['load_s']:.1f}",
                f"{r['peak_rss_mb']:.0f}",
                r["k"],
                r["andet"],
                f"{r['bytes_mb']:.1f}",
                f"{r['from_bytes_s']:.2f}",
                f"{r['transform5_s'] * 1000:.0f}",
            ]
        )
        print(f"n={n}: {r}", file=sys.stderr, flush=True)
    print(
        md_table(
            [
                "answers",
                "fit s",
                "ms/answer",
                "spaCy load s",
                "peak RSS MB",
                "k",
                "andet",
                "model MB",
                "from_bytes s",
                "transform(5) ms",
            ],
            rows,
        )
    )


if __name__ == "__main__":
    main()
