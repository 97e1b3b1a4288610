"""Benchmark of the personal-data guard (surveys.privacy).

Prints, as Markdown:
* recall / precision per kind on the hand-labelled answer sets (dev, held-out, both), and on
  the set of the kinds an outside test found missed (its development and held-out halves);
* two naive name baselines on the same answers (to show what the context rules buy);
* a false-alarm probe on real Danish text nobody on the project wrote: the SIB-200 Danish
  sentences in ../shared/data/sib200-da/ (news-like; read in place, never copied);
* load time and throughput.

Run from the repository root:  .venv/bin/python bench/guard/run.py [--list-sib-names]
"""

from __future__ import annotations

import argparse
import csv
import sys
import time
from collections import Counter
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from surveys.privacy import KINDS, Finding, detect_personal_data, warm_up  # noqa: E402
from surveys.privacy.evaluation import (  # noqa: E402
    LabelledAnswer,
    evaluate,
    format_report,
    load_labelled,
    split_halves,
)
from surveys.privacy.names import lexicon, tokenizer  # noqa: E402

DATA = ROOT / "tests" / "surveys" / "data"
SIB = ROOT.parent / "shared" / "data" / "sib200-da" / "train.tsv"


def naive_names(case_sensitive: bool) -> Callable[[str], list[Finding]]:
    """Baseline: every token in the name lists is a name (optionally only when capitalised)."""

    def detect(text: str) -> list[Finding]:
        names = lexicon().names
        out = []
        for tok in tokenizer()(text):
            word = tok.text
            if word.lower() in names and (not case_sensitive or word[:1].isupper()):
                out.append(Finding("name", tok.idx, tok.idx + len(word), word))
        return out

    return detect


def only_names(text: str) -> list[Finding]:
    return [f for f in detect_personal_data(text) if f.kind == "name"]


def name_row(
    label: str, answers: list[LabelledAnswer], detector: Callable[[str], list[Finding]]
) -> str:
    s = evaluate(answers, detector).by_kind["name"]
    return f"| {label} | {s.gold} | {s.predicted} | {s.recall:.3f} | {s.precision:.3f} |"


def _time_batch(texts: list[str]) -> float:
    start = time.perf_counter()
    for text in texts:
        detect_personal_data(text)
    return time.perf_counter() - start


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--list-sib-names", action="store_true", help="print SIB name spans")
    parser.add_argument(
        "--misses",
        action="store_true",
        help="print misses and false alarms (not those of the missed-kinds held-out half)",
    )
    parser.add_argument(
        "--misses-heldout",
        action="store_true",
        help="also print those of the missed-kinds held-out half (not while tuning!)",
    )
    args = parser.parse_args()

    start = time.perf_counter()
    warm_up()
    load_seconds = time.perf_counter() - start

    dev = load_labelled(DATA / "guard_labelled_dev.txt")
    heldout = load_labelled(DATA / "guard_labelled_heldout.txt")
    missed_dev, missed_heldout = split_halves(load_labelled(DATA / "guard_labelled_missed.txt"))
    sets = {
        "dev set": dev,
        "held-out set": heldout,
        "both sets": dev + heldout,
        "missed kinds, development half": missed_dev,
        "missed kinds, held-out half": missed_heldout,
    }

    print("## Labelled answers\n")
    for title, answers in sets.items():
        report = evaluate(answers)
        print(format_report(report, title))
        show = args.misses_heldout if answers is missed_heldout else args.misses
        if show:
            for kind, score in report.by_kind.items():
                for line, text in score.misses:
                    print(f"- miss {kind} (line {line}): {text!r}")
                for line, text in score.false_alarms:
                    print(f"- false alarm {kind} (line {line}): {text!r}")
        print()

    print("## Name baselines (both sets)\n")
    print("| detector | gold | predicted | recall | precision |")
    print("|---|---:|---:|---:|---:|")
    both = dev + heldout
    print(name_row("any token in the name lists", both, naive_names(case_sensitive=False)))
    print(name_row("capitalised token in the name lists", both, naive_names(case_sensitive=True)))
    print(name_row("guard (lists + casing + position + cues)", both, only_names))
    print()

    if SIB.exists():
        with SIB.open(encoding="utf-8", newline="") as fh:
            rows = list(csv.DictReader(fh, delimiter="\t"))
        counts: Counter[str] = Counter()
        flagged = 0
        name_spans: list[str] = []
        for row in rows:
            findings = detect_personal_data(row["text"])
            flagged += bool(findings)
            counts.update(f.kind for f in findings)
            name_spans += [f.text for f in findings if f.kind == "name"]
        print("## SIB-200 Danish sentences (false-alarm probe)\n")
        print(
            f"{len(rows)} sentences; {flagged} flagged; findings by kind: "
            + ", ".join(f"{k} {counts.get(k, 0)}" for k in KINDS)
            + "."
        )
        if args.list_sib_names:
            print("\nName spans: " + "; ".join(sorted(name_spans)))
        print()
    else:
        print(f"(SIB-200 not found at {SIB}; probe skipped)\n")

    texts = [a.text for a in both]
    batch = (texts * (1000 // len(texts) + 1))[:1000]
    batch_seconds = min(_time_batch(batch) for _ in range(5))
    missed_texts = [a.text for a in missed_dev + missed_heldout]
    missed_batch = (missed_texts * (1000 // len(missed_texts) + 1))[:1000]
    missed_seconds = min(_time_batch(missed_batch) for _ in range(5))
    long_text = " ".join(texts)[:1000]
    start = time.perf_counter()
    for _ in range(200):
        detect_personal_data(long_text)
    long_ms = (time.perf_counter() - start) / 200 * 1000
    print("## Speed\n")
    print(f"Load (name lists + spaCy blank 'da' tokenizer): {load_seconds:.2f} s")
    print(
        f"1,000 labelled answers (mean {sum(map(len, batch)) / 1000:.0f} chars): "
        f"{batch_seconds:.3f} s (best of 5)"
    )
    print(
        f"1,000 answers of the missed-kinds set (mean {sum(map(len, missed_batch)) / 1000:.0f} "
        f"chars): {missed_seconds:.3f} s (best of 5)"
    )
    print(f"One 1,000-character answer: {long_ms:.2f} ms")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
