"""Danish text pipeline: normalisation, spaCy lemmatisation and clause segmentation.

`normalize_text` is a pure string function (lowercase, no URLs/emoji, youth spelling and missing
æøå repaired). `analyze` runs spaCy's `blank("da")` tokenizer, sentencizer and lookup lemmatizer
(from spacy-lookups-data) over normalised answers and cuts every answer into *units*: sentences,
further split at strong clause markers ("men", "desuden", ";"...), so that an answer raising
several things can belong to several themes.
"""

from __future__ import annotations

import gzip
import json
import re
import threading
import unicodedata
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from importlib import resources
from typing import Any, cast

from nlp.lexicon import DOMAIN_STOP_WORDS, LEMMA_FIXES, PLACEHOLDERS, SLANG


@dataclass(frozen=True)
class TextOptions:
    """Switches for each preprocessing step (all on by default; the benchmark ablates them)."""

    strip_noise: bool = True  # URLs, e-mails, @mentions, emoji, emoticons
    fix_spelling: bool = True  # slang map, elongations ("suuuper"), missing æøå ("smaa")
    lemmatize: bool = True  # spaCy lookup lemmatizer (+ compound-suffix fallback)
    stop_words: bool = True  # spaCy's Danish stop words
    domain_stop_words: bool = True  # words every answer on a citizen wall shares
    split_clauses: bool = True  # units = sentences/clauses instead of whole answers

    def to_dict(self) -> dict[str, bool]:
        """Plain dict (for serialisation)."""
        return dict(self.__dict__)


@dataclass
class Unit:
    """A sentence or clause of an answer, reduced to its content words."""

    answer: int  # index of the answer in the input list
    lemmas: list[str] = field(default_factory=list)
    surfaces: list[str] = field(default_factory=list)  # the lowercased words behind `lemmas`
    positions: list[int] = field(default_factory=list)  # token index in the answer

    @property
    def adjacent(self) -> list[bool]:
        """adjacent[i]: word i+1 directly followed word i in the answer (no word removed)."""
        return [b - a == 1 for a, b in zip(self.positions, self.positions[1:], strict=False)]

    @property
    def lemma_text(self) -> str:
        """Content lemmas joined by spaces (input of the word vectorizer)."""
        return " ".join(self.lemmas)

    @property
    def surface_text(self) -> str:
        """Content surface words joined by spaces (input of the character n-gram vectorizer)."""
        return " ".join(self.surfaces)


# --------------------------------------------------------------------------- resources

_LOCK = threading.Lock()
_PIPE_LOCK = threading.Lock()
_STATE: dict[str, Any] = {}


def _lexicon() -> dict[str, str]:
    """Danish surface -> lemma table shipped with spacy-lookups-data (lowercase keys)."""
    with _LOCK:
        if "lexicon" not in _STATE:
            path = resources.files("spacy_lookups_data") / "data" / "da_lemma_lookup.json.gz"
            with path.open("rb") as raw, gzip.open(raw, "rt", encoding="utf-8") as fh:
                table: dict[str, str] = json.load(fh)
            table.update(LEMMA_FIXES)
            _STATE["lexicon"] = table
        return _STATE["lexicon"]


_FOLD_DOUBLE = str.maketrans({"å": "aa", "ø": "oe", "æ": "ae"})
_FOLD_SINGLE = str.maketrans({"å": "a", "ø": "o", "æ": "e"})


def _fold_maps() -> tuple[dict[str, str], dict[str, str]]:
    """Maps from æøå-less spellings ("smaa", "sma") back to lexicon words ("små")."""
    with _LOCK:
        cached = _STATE.get("folds")
    if cached is not None:
        return cached
    lexicon = _lexicon()
    double: dict[str, str] = {}
    single: dict[str, str] = {}
    # Sorted so that ties resolve the same way on every run; base forms win over inflections.
    words = sorted({w for w in lexicon if not w.isascii()}, key=lambda w: (lexicon[w] != w, w))
    for word in words:
        if not any(c in word for c in "æøå"):
            continue
        double.setdefault(word.translate(_FOLD_DOUBLE), word)
        if len(word) >= 3:
            single.setdefault(word.translate(_FOLD_SINGLE), word)
    with _LOCK:
        _STATE["folds"] = (double, single)
    return double, single


#: spaCy keeps every string it has seen (its StringStore only grows). A web process that lives
#: for weeks and tokenizes every new answer starts a fresh pipeline past this many strings
#: (about 100,000 distinct new words), so its memory stays bounded.
MAX_STRINGS = 250_000


def _build_spacy() -> Any:
    import spacy
    from spacy.pipeline import Lemmatizer

    pipeline = spacy.blank("da")
    pipeline.add_pipe("sentencizer")
    pipeline.add_pipe("lemmatizer", config={"mode": "lookup"})
    pipeline.initialize()
    lemmatizer = cast(Lemmatizer, pipeline.get_pipe("lemmatizer"))
    table = lemmatizer.lookups.get_table("lemma_lookup")
    for word, lemma in LEMMA_FIXES.items():
        table[word] = lemma
    return pipeline


def _spacy() -> Any:
    """The shared spaCy pipeline: blank Danish + sentencizer + lookup lemmatizer (built anew
    when it has collected more than :data:`MAX_STRINGS` strings)."""
    with _LOCK:
        pipeline = _STATE.get("spacy")
        if pipeline is None or len(pipeline.vocab.strings) > MAX_STRINGS:
            pipeline = _STATE["spacy"] = _build_spacy()
        return pipeline


def warm_up() -> None:
    """Load spaCy and the lexicon now (about 2-3 s once per process) instead of on first use."""
    _spacy()
    _fold_maps()


@lru_cache(maxsize=1)
def spacy_stop_words() -> frozenset[str]:
    """spaCy's Danish stop word list."""
    from spacy.lang.da.stop_words import STOP_WORDS

    return frozenset(STOP_WORDS)


# --------------------------------------------------------------------------- normalisation

_URL_RE = re.compile(
    r"(?:https?://|www\.)\S+|\b[\w.-]+\.(?:dk|com|org|net|eu|io|nu|se|no)\b(?:/\S*)?",
    re.IGNORECASE,
)
_EMAIL_RE = re.compile(r"\S+@\S+\.\w+")
_MENTION_RE = re.compile(r"(?<!\w)@[\w@]+")
_EMOTICON_RE = re.compile(r"(?<!\w)(?:[:;=8xX][-']?[()\[\]dDpP/\\|*3oO]+|<3+|\^_*\^)(?!\w)")
_WORD_RE = re.compile(r"[^\W\d_]+")
_ELONGATION_RE = re.compile(r"(\w)\1{2,}")
_INSTEAD_RE = re.compile(r"\bi stedet for\b")
_SPACE_RE = re.compile(r"[ \t\f\v\u00a0]+")
_BREAKS_RE = re.compile(r"\s*\n[\s\n]*")
_BULLET_RE = re.compile(r"(?m)^[ \t]*(?:(?:[-*•·–]|\d+[.)])(?:[ \t]+|$))+")


def _is_emoji(ch: str) -> bool:
    if ch in "\u200d\ufe0f\ufe0e\u20e3":
        return True
    category = unicodedata.category(ch)
    return category in ("So", "Sk", "Cs", "Co", "Cn") or 0x1F000 <= ord(ch) <= 0x1FAFF


@lru_cache(maxsize=200_000)
def _fix_word(word: str) -> str:
    """Repair one lowercase word: slang, elongated letters, missing æøå (a fixed point)."""
    fixed = _fix_word_once(word)
    for _ in range(3):  # "aa" -> "å" -> "og": repeat until nothing changes
        again = " ".join(_fix_word_once(w) for w in fixed.split())
        if again == fixed:
            break
        fixed = again
    return fixed


def _fix_word_once(word: str) -> str:
    if word in SLANG:
        return SLANG[word]
    lexicon = _lexicon()
    if word in lexicon:
        return word
    if _ELONGATION_RE.search(word):
        two = _ELONGATION_RE.sub(r"\1\1", word)
        one = _ELONGATION_RE.sub(r"\1", word)
        for candidate in (two, one):
            if candidate in lexicon:
                return candidate
        word = one
    double, single = _fold_maps()
    if any(pair in word for pair in ("aa", "oe", "ae")) and word in double:
        return double[word]
    if len(word) >= 3 and word in single:
        return single[word]
    return word


def _fix_match(match: re.Match[str]) -> str:
    return _fix_word(match.group(0))


def normalize_text(text: str, options: TextOptions | None = None) -> str:
    """Lowercase and clean one answer; segment breaks (newlines, bullets, emoji) become "\\n".

    Idempotent: ``normalize_text(normalize_text(t)) == normalize_text(t)`` (the cleaning is
    repeated until nothing changes; one extra pass for almost every text).
    """
    opts = options or TextOptions()
    for _ in range(5):
        cleaned = _normalize_once(text, opts)
        if cleaned == text:
            break
        text = cleaned
    return text


def _normalize_once(text: str, opts: TextOptions) -> str:
    text = unicodedata.normalize("NFKC", text)
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    text = "".join(ch if ch.isprintable() or ch == "\n" else " " for ch in text)
    text = unicodedata.normalize("NFKC", text.lower())
    for placeholder in PLACEHOLDERS:  # "[fjernet]" stands for removed words: never a theme word
        text = text.replace(placeholder, " ")
    if opts.strip_noise:
        text = _URL_RE.sub(" ", text)
        text = _EMAIL_RE.sub(" ", text)
        text = _MENTION_RE.sub(" ", text)
        text = _EMOTICON_RE.sub("\n", text)
        text = "".join("\n" if _is_emoji(ch) else ch for ch in text)
        text = text.replace("#", " ")
    if opts.fix_spelling:
        text = _WORD_RE.sub(_fix_match, text)
    text = _INSTEAD_RE.sub("istedetfor", text)  # "i stedet for" is not about a place
    text = _SPACE_RE.sub(" ", text)
    text = _BULLET_RE.sub("\n", text)
    text = _BREAKS_RE.sub("\n", text)
    return text.strip()


# --------------------------------------------------------------------------- lemmas


@lru_cache(maxsize=200_000)
def _compound_lemma(word: str) -> str:
    """Lemma of an unknown Danish compound from a known tail ("hundeposerne" -> "hundepose").

    Prefers the split with the longest known head ("hunde" + "poserne", not "hund" + "eposerne");
    without a known head, the longest known tail.
    """
    lexicon = _lexicon()
    best: tuple[int, int] | None = None  # (head known, head length)
    for cut in range(2, len(word) - 3):
        head, tail = word[:cut], word[cut:]
        if tail not in lexicon:
            continue
        score = (int(head in lexicon), cut)
        if best is None or (score[0], score[1] if score[0] else -score[1]) > (
            best[0],
            best[1] if best[0] else -best[1],
        ):
            best = score
    if best is None:
        return word
    cut = best[1]
    return word[:cut] + lexicon[word[cut:]]


# Clause markers: a new unit starts at these tokens (inside a sentence).
_CLAUSE_STARTERS = frozenset({"men", "desuden", "derudover", "samt", "plus", "endvidere", "ellers"})
_CLAUSE_PUNCT = frozenset({";", ":", "-", "–", "—", "/"})
_MIN_UNIT_WORDS = 2


def _is_content(surface: str, lemma: str, opts: TextOptions, stops: frozenset[str]) -> bool:
    if len(surface) < 2 or not _WORD_RE.fullmatch(surface.replace("-", "")):
        return False
    if opts.stop_words and (surface in stops or lemma in stops):
        return False
    return not (
        opts.domain_stop_words and (surface in DOMAIN_STOP_WORDS or lemma in DOMAIN_STOP_WORDS)
    )


def analyze(texts: Sequence[str], options: TextOptions | None = None) -> list[list[Unit]]:
    """Normalise, tokenize, lemmatise and segment every text; one list of units per text.

    A text without content words gets a single empty unit (it will end up in "andet").
    """
    opts = options or TextOptions()
    nlp = _spacy()
    stops = spacy_stop_words()
    lexicon = _lexicon()
    normalised = (normalize_text(t, opts).replace("\n", " .\n ") for t in texts)
    result: list[list[Unit]] = []
    with _PIPE_LOCK:  # one spaCy pipeline shared by all threads of a web process
        for index, doc in enumerate(nlp.pipe(normalised, batch_size=512)):
            result.append(_units_of(index, doc, opts, stops, lexicon))
    return result


def _units_of(
    index: int, doc: Any, opts: TextOptions, stops: frozenset[str], lexicon: dict[str, str]
) -> list[Unit]:
    """Content words of one spaCy doc, cut into sentence/clause pieces."""
    pieces: list[list[tuple[str, str, int]]] = []
    for sent in doc.sents:
        current: list[tuple[str, str, int]] = []
        pending_split = False
        for tok in sent:
            surface = tok.text
            if surface in _CLAUSE_PUNCT or (opts.split_clauses and surface in _CLAUSE_STARTERS):
                pending_split = True
                continue
            if opts.lemmatize:
                lemma = tok.lemma_
                if lemma == surface and surface not in lexicon:
                    lemma = _compound_lemma(surface)
            else:
                lemma = surface
            if not _is_content(surface, lemma, opts, stops):
                continue
            if pending_split and opts.split_clauses and current:
                pieces.append(current)
                current = []
            pending_split = False
            current.append((lemma, surface, tok.i))
        if current:
            pieces.append(current)
    return _merge_pieces(index, pieces, opts)


def _merge_pieces(
    index: int, pieces: list[list[tuple[str, str, int]]], opts: TextOptions
) -> list[Unit]:
    """Turn token pieces into units; too-short pieces join their neighbour."""
    if not opts.split_clauses:
        flat = [pair for piece in pieces for pair in piece]
        pieces = [flat] if flat else []
    merged: list[list[tuple[str, str, int]]] = []
    for piece in pieces:
        if merged and (len(piece) < _MIN_UNIT_WORDS or len(merged[-1]) < _MIN_UNIT_WORDS):
            merged[-1] = merged[-1] + piece
        else:
            merged.append(list(piece))
    if not merged:
        return [Unit(answer=index)]
    return [
        Unit(
            answer=index,
            lemmas=[p[0] for p in piece],
            surfaces=[p[1] for p in piece],
            positions=[p[2] for p in piece],
        )
        for piece in merged
    ]


def iter_surface_counts(units: Iterable[Unit]) -> Iterable[tuple[str, str]]:
    """(lemma, surface) pairs of the given units, for label rendering."""
    for unit in units:
        yield from zip(unit.lemmas, unit.surfaces, strict=True)
