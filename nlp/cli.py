"""Command line: ``python -m nlp themes IN.jsonl --out OUT.json [--themes auto|N] [--seed S]
[--question TEXT ...]``."""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any


class InputError(Exception):
    """Bad input file; the message is shown to the user and the exit code is 2."""


def read_answers(path: Path) -> tuple[list[str], list[str]]:
    """(ids, texts) from a JSONL file of {"id", "text"} objects; raises InputError."""
    if not path.is_file():
        raise InputError(f"{path}: no such file")
    ids: list[str] = []
    texts: list[str] = []
    seen: dict[str, int] = {}
    try:
        content = path.read_text(encoding="utf-8")
    except UnicodeDecodeError as exc:
        raise InputError(f"{path}: not UTF-8 text ({exc.reason})") from exc
    for lineno, line in enumerate(content.splitlines(), start=1):
        if not line.strip():
            continue
        try:
            obj: Any = json.loads(line)
        except json.JSONDecodeError as exc:
            raise InputError(f"{path}:{lineno}: invalid JSON ({exc.msg})") from exc
        if not isinstance(obj, dict):
            raise InputError(f"{path}:{lineno}: expected a JSON object")
        for key in ("id", "text"):
            if key not in obj:
                raise InputError(f'{path}:{lineno}: missing "{key}"')
        raw_id, text = obj["id"], obj["text"]
        if isinstance(raw_id, bool) or not isinstance(raw_id, (str, int)) or raw_id == "":
            raise InputError(f'{path}:{lineno}: "id" must be a non-empty string or an integer')
        if not isinstance(text, str):
            raise InputError(f'{path}:{lineno}: "text" must be a string')
        answer_id = str(raw_id)
        if answer_id in seen:
            raise InputError(
                f'{path}:{lineno}: duplicate id "{answer_id}" (first on line {seen[answer_id]})'
            )
        seen[answer_id] = lineno
        ids.append(answer_id)
        texts.append(text)
    return ids, texts


def _themes_arg(value: str) -> int | str:
    if value == "auto":
        return value
    try:
        number = int(value)
    except ValueError:
        raise argparse.ArgumentTypeError("must be 'auto' or a positive integer") from None
    if number < 1:
        raise argparse.ArgumentTypeError("must be 'auto' or a positive integer")
    return number


def build_parser() -> argparse.ArgumentParser:
    """The argparse parser (exit code 2 on usage errors, as argparse does)."""
    parser = argparse.ArgumentParser(prog="python -m nlp", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)
    themes = sub.add_parser("themes", help="cluster answers into themes")
    themes.add_argument("input", type=Path, help="JSONL file, one {id, text} object per line")
    themes.add_argument("--out", type=Path, required=True, help="output JSON file")
    themes.add_argument("--themes", type=_themes_arg, default="auto", help="auto or N")
    themes.add_argument("--seed", type=int, default=0, help="random seed (default 0)")
    themes.add_argument(
        "--question",
        action="append",
        default=[],
        metavar="TEXT",
        help="the question the answers reply to (repeatable); its words are not theme labels",
    )
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point; returns the process exit code."""
    args = build_parser().parse_args(argv)
    try:
        ids, texts = read_answers(args.input)
    except InputError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    from nlp.model import ThemeModel

    model = ThemeModel(n_themes=args.themes, seed=args.seed).fit(
        texts, ids, questions=args.question
    )
    document = model.to_json()
    try:
        args.out.write_text(json.dumps(document, ensure_ascii=False, indent=2) + "\n", "utf-8")
    except OSError as exc:
        print(f"error: cannot write {args.out}: {exc.strerror}", file=sys.stderr)
        return 2
    print(
        f"{len(model.themes_)} themes, {sum(1 for v in model.assignments_.values() if not v)}"
        f" of {len(ids)} answers in 'andet' -> {args.out}",
        file=sys.stderr,
    )
    return 0
