"""Labelled answers for measuring the guard, and the scoring used by tests and ``bench/guard``.

File format (UTF-8 text): one answer per line; ``\\n`` in a line is a line break; gold spans
are marked ``[[kind:text]]``; lines starting with ``#`` and blank lines are ignored.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from surveys.privacy.guard import KINDS, Finding, detect_personal_data

_MARK = re.compile(r"\[\[(?P<kind>[a-z_]+):(?P<text>.*?)\]\]")


@dataclass(frozen=True)
class GoldSpan:
    """A labelled span of personal data."""

    kind: str
    start: int
    end: int


@dataclass(frozen=True)
class LabelledAnswer:
    """An answer text with its gold spans."""

    text: str
    gold: tuple[GoldSpan, ...]
    line: int = 0


def parse_labelled_line(line: str, line_no: int = 0) -> LabelledAnswer:
    """Strip the ``[[kind:text]]`` marks from one line and return the text with gold spans."""
    line = line.replace("\\n", "\n")
    parts: list[str] = []
    gold: list[GoldSpan] = []
    cursor = 0
    length = 0
    for m in _MARK.finditer(line):
        if m["kind"] not in KINDS:
            raise ValueError(f"line {line_no}: unknown kind {m['kind']!r}")
        before = line[cursor : m.start()]
        parts.append(before)
        length += len(before)
        parts.append(m["text"])
        gold.append(GoldSpan(m["kind"], length, length + len(m["text"])))
        length += len(m["text"])
        cursor = m.end()
    parts.append(line[cursor:])
    text = "".join(parts)
    if "[[" in text or "]]" in text:
        raise ValueError(f"line {line_no}: unbalanced [[...]] mark")
    return LabelledAnswer(text=text, gold=tuple(gold), line=line_no)


def load_labelled(path: Path | str) -> list[LabelledAnswer]:
    """Read a labelled answers file (see the module docstring)."""
    answers = []
    for no, raw in enumerate(Path(path).read_text(encoding="utf-8").splitlines(), start=1):
        line = raw.rstrip("\n")
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        answers.append(parse_labelled_line(line, no))
    return answers


def split_halves(
    answers: Iterable[LabelledAnswer],
) -> tuple[list[LabelledAnswer], list[LabelledAnswer]]:
    """Split answers into a development half and a held-out half, by a hash of each text.

    The split depends on the text alone (not on its line or the order of the file), so adding
    or moving answers leaves every other answer in its half.
    """
    dev: list[LabelledAnswer] = []
    heldout: list[LabelledAnswer] = []
    for answer in answers:
        digest = hashlib.sha256(answer.text.encode("utf-8")).digest()
        (dev if digest[0] % 2 == 0 else heldout).append(answer)
    return dev, heldout


def _overlaps(a_start: int, a_end: int, b_start: int, b_end: int) -> bool:
    return a_start < b_end and b_start < a_end


@dataclass
class KindScore:
    """Counts for one kind; a span counts as found when a span of the same kind overlaps it."""

    gold: int = 0
    predicted: int = 0
    gold_found: int = 0
    gold_exact: int = 0
    predicted_correct: int = 0
    misses: list[tuple[int, str]] = field(default_factory=list)
    false_alarms: list[tuple[int, str]] = field(default_factory=list)

    @property
    def recall(self) -> float:
        """Share of gold spans overlapped by a predicted span of the same kind."""
        return self.gold_found / self.gold if self.gold else 1.0

    @property
    def exact_recall(self) -> float:
        """Share of gold spans predicted with exactly the same boundaries."""
        return self.gold_exact / self.gold if self.gold else 1.0

    @property
    def precision(self) -> float:
        """Share of predicted spans that overlap a gold span of the same kind."""
        return self.predicted_correct / self.predicted if self.predicted else 1.0


@dataclass
class Report:
    """Scores of a detector on a labelled set."""

    answers: int = 0
    answers_with_data: int = 0
    answers_flagged_correctly: int = 0
    clean_answers: int = 0
    clean_answers_flagged: int = 0
    by_kind: dict[str, KindScore] = field(default_factory=lambda: {k: KindScore() for k in KINDS})

    @property
    def answer_recall(self) -> float:
        """Share of answers with personal data that the guard flags (kept from auto-publishing)."""
        return (
            self.answers_flagged_correctly / self.answers_with_data
            if self.answers_with_data
            else 1.0
        )

    @property
    def clean_flag_rate(self) -> float:
        """Share of answers without personal data that the guard flags anyway."""
        return self.clean_answers_flagged / self.clean_answers if self.clean_answers else 0.0


def evaluate(
    answers: Iterable[LabelledAnswer],
    detector: Callable[[str], Sequence[Finding]] = detect_personal_data,
) -> Report:
    """Run ``detector`` on every answer and count hits, misses and false alarms per kind."""
    report = Report()
    for answer in answers:
        found = detector(answer.text)
        report.answers += 1
        if answer.gold:
            report.answers_with_data += 1
            report.answers_flagged_correctly += bool(found)
        else:
            report.clean_answers += 1
            report.clean_answers_flagged += bool(found)
        for g in answer.gold:
            score = report.by_kind[g.kind]
            score.gold += 1
            same = [f for f in found if f.kind == g.kind]
            if any(_overlaps(g.start, g.end, f.start, f.end) for f in same):
                score.gold_found += 1
            else:
                score.misses.append((answer.line, answer.text[g.start : g.end]))
            score.gold_exact += any(f.start == g.start and f.end == g.end for f in same)
        for f in found:
            score = report.by_kind[f.kind]
            score.predicted += 1
            if any(
                g.kind == f.kind and _overlaps(g.start, g.end, f.start, f.end) for g in answer.gold
            ):
                score.predicted_correct += 1
            else:
                score.false_alarms.append((answer.line, f.text))
    return report


def format_report(report: Report, title: str) -> str:
    """A Markdown table of the scores."""
    lines = [
        f"### {title}",
        "",
        f"{report.answers} answers: {report.answers_with_data} with personal data, "
        f"{report.clean_answers} without.",
        "",
        "| kind | gold | predicted | recall | exact-span recall | precision |",
        "|---|---:|---:|---:|---:|---:|",
    ]
    for kind in KINDS:
        s = report.by_kind[kind]
        lines.append(
            f"| {kind} | {s.gold} | {s.predicted} | {s.recall:.3f} | {s.exact_recall:.3f} "
            f"| {s.precision:.3f} |"
        )
    lines += [
        "",
        f"Answers with personal data that are flagged (held back from auto-publishing): "
        f"{report.answers_flagged_correctly}/{report.answers_with_data} "
        f"= {report.answer_recall:.3f}.",
        f"Answers without personal data that are flagged anyway: "
        f"{report.clean_answers_flagged}/{report.clean_answers} = {report.clean_flag_rate:.3f}.",
    ]
    return "\n".join(lines)
