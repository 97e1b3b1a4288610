"""First names of people in Danish free text, found with spaCy's Danish tokenizer and name lists.

A token is a first name when its lower-case form is in the name lists (see ``data/README.md``)
and the context agrees:

* never when it is on the stop list (function words such as "Du", "Han", "Min", "To");
* written with a capital letter away from the start of a sentence: a name (Danish capitalises
  only proper nouns), unless it is a month after a preposition or a date ("i August");
* capitalised at the start of a sentence: a name, unless the word is also an ordinary Danish
  word ("Mark", "Sol", "Storm", "Per", "Hans"...) and no context cue points to a person;
* lower case or ALL CAPS: only after a strong cue ("min søn storm", "jeg hedder mikkel") or,
  for unambiguous names, before a cue such as "på 4 år".

A flagged name is extended over directly following capitalised words (surnames, middle names).
The lists are loaded once per process (``lexicon()``), as is the tokenizer (``tokenizer()``).
"""

from __future__ import annotations

import re
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from functools import cache
from importlib import resources
from typing import TYPE_CHECKING

from surveys.privacy.words import Span, word_list, word_set

if TYPE_CHECKING:
    from spacy.tokenizer import Tokenizer
    from spacy.tokens import Doc, Token


_DATA = "surveys.privacy.data"
NAME_FILES = ("first_names_da.txt", "first_names_extra.txt")


@dataclass(frozen=True)
class NameLexicon:
    """Lower-case name sets used by the detector."""

    names: frozenset[str]
    stop: frozenset[str]
    ambiguous: frozenset[str]


def _read_words(filename: str, *, one_per_line: bool) -> list[str]:
    text = resources.files(_DATA).joinpath(filename).read_text(encoding="utf-8")
    words: list[str] = []
    for line in text.splitlines():
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        words.extend([line] if one_per_line else line.split())
    return words


@cache
def lexicon() -> NameLexicon:
    """The name lists, read once per process from the package data."""
    stop = frozenset(w.lower() for w in _read_words("name_stoplist.txt", one_per_line=False))
    names = (
        frozenset(w.lower() for f in NAME_FILES for w in _read_words(f, one_per_line=True)) - stop
    )
    ambiguous = (
        frozenset(w.lower() for w in _read_words("names_ambiguous.txt", one_per_line=False)) & names
    )
    return NameLexicon(names=names, stop=stop, ambiguous=ambiguous)


#: The tokenizer keeps every string it has seen; past this many (about 100,000 distinct new
#: words) a long-running process starts a fresh one, so its memory stays bounded.
MAX_STRINGS = 250_000
_TOKENIZER: list[Tokenizer] = []
_TOKENIZER_LOCK = threading.Lock()


def tokenizer() -> Tokenizer:
    """spaCy's rule-based Danish tokenizer (``spacy.blank("da")``), shared by the process."""
    with _TOKENIZER_LOCK:
        if not _TOKENIZER or len(_TOKENIZER[0].vocab.strings) > MAX_STRINGS:
            import spacy

            _TOKENIZER[:] = [spacy.blank("da").tokenizer]
        return _TOKENIZER[0]


# --------------------------------------------------------------------------------------------
# Context cues
# --------------------------------------------------------------------------------------------

_KIN = word_list(
    "søn datter dreng pige barn bror lillebror storebror søster lillesøster storesøster mand "
    "kone kæreste hustru ægtefælle veninde ven kammerat klassekammerat mor far mormor farmor "
    "morfar farfar bedstemor bedstefar oldemor oldefar onkel moster faster tante nabo kollega "
    "stedsøn steddatter stedfar stedmor plejebarn plejesøn plejedatter plejemor plejefar nevø "
    "niece fætter kusine barnebarn tvilling tvillingebror tvillingesøster makker bonusbarn "
    "bonussøn bonusdatter bonusmor bonusfar elev"
)
_ROLES = word_list(
    "pædagog lærer klasselærer kontaktlærer leder skoleleder afdelingsleder inspektør "
    "sundhedsplejerske psykolog sagsbehandler rådgiver træner chauffør buschauffør dagplejer "
    "dagplejemor vikar kontaktperson støttepædagog klubmedarbejder medarbejder pedel sekretær "
    "hjemmehjælper sygeplejerske læge tandlæge præst formand mentor vejleder studievejleder "
    "ungdomsvejleder tolk assistent pædagogmedhjælper medhjælper klubleder borgmester rådmand "
    "ergoterapeut fysioterapeut talepædagog"
)


def _inflections(nouns: list[str]) -> set[str]:
    forms: set[str] = set()
    for noun in nouns:
        forms |= {noun, noun + "en", noun + "n", noun + "s", noun + "ens", noun + "ns"}
    return forms


_PRE_CUES = frozenset(
    _inflections(_KIN)
    | _inflections(_ROLES)
    | {"sønnen", "datteren", "drengen", "pigen", "barnet", "broren", "søsteren", "manden"}
    | {"moren", "faren", "veninden", "vennen", "vikaren", "lederen", "læreren"}
    | {"hedder", "hed", "hedde", "kaldet", "kaldes", "kalder", "mvh", "hilsen", "hilsner"}
    | {"kh", "vh", "knus", "kære", "kæreste", "hej", "hejsa", "fru", "hr", "frk"}
    | {"kontakt", "kontakte", "kontaktes", "spørg"}
)
# Cues strong enough to take a capitalised word that is not on the name lists as a name.
_NOT_NAMING = word_set("ven vens mand mands mor far leder")
_NAMING_CUES = (_inflections(_KIN) | _inflections(_ROLES) | {"fru", "hr", "frk"}) - _NOT_NAMING
_KIN_AND_ROLES = _inflections(_KIN) | _inflections(_ROLES)
_PERSON_SUBJECTS = (
    _inflections(_KIN) | _inflections(_ROLES) | {"jeg", "han", "hun", "du", "vi", "de", "i"}
)
_SKIP_BEFORE = frozenset({",", ":", "(", "-", "–", "—", '"', "'", "“", "”", "»", "«"})
_OPENERS = frozenset({"(", "[", '"', "'", "“", "”", "»", "«", "„"})
_SENTENCE_END = frozenset({".", "!", "?", ":", ";", "…", "...", "•", "*", "#", "—", "–", "-"})
_ABBREVIATIONS = word_set(
    "kl. ca. bl.a. dvs. fx. f.eks. pr. nr. st. hr. fru. frk. ang. evt. inkl. ift. mht. mv. "
    "osv. jf. tlf. d. s. vedr. min. max. gl. ll. skt. dr. mr. ms. mrs."
)
_NUMBER = re.compile(r"[0-9]+(?:[.,][0-9]+)?\.?$")
_CLASS = re.compile(r"(?:[0-9]{1,2}\.?[a-zæøå]|[0-9]{1,2}\.)$", re.I)
_MONTHS = frozenset({"april", "august", "maj", "jan", "juni", "juli", "marts"})
_MONTH_BEFORE = word_set(
    "i fra til siden inden før efter medio primo ultimo sidst først midt hele start slut "
    "starten slutningen d. den"
)
# Words before a name that make it part of a place or holiday ("Sankt Hans", "San Francisco").
_SAINT = word_set(
    "sankt skt skt. st. sct. jomfru san santa santo são sao fort lake mount cape port los las "
    "el la de"
)
# Words after a name that make it an institution, place or event ("Emil Skolen", "Victoria Falls").
_INSTITUTION_AFTER = word_set(
    "skole skolen skoles kirke kirken hallen hal centret center festival festivalen vej gade "
    "allé plads torv park parken skov skoven falls island bay hospital university college "
    "national street avenue road river city county airport stadium centre show lines"
)
_FUNCTION_WORDS = word_set(
    "og eller men for at som der det den de en et i på til fra med af om under over efter før "
    "hos ved mod uden mellem gennem bag blandt siden hun han jeg du vi I man hende ham dem os "
    "mig dig sig er var har havde kan skal vil må bliver blev ikke også så nu her der da når "
    "hvis fordi selv alle nogle mange min mit mine din dit dine vores jeres deres sin sit sine "
    "hans hendes ny nye god gode stor store lille gammel"
)
_PERSON_VERBS = word_set(
    "elsker hader græder savner tør leger drømmer glæder fylder synes siger fortæller "
    "spørger hedder"
)
_INITIAL = re.compile(r"[A-ZÆØÅ]\.$")
_GLUED = "/-*_#@+~=|\\"


def _strip_possessive(word: str, names: frozenset[str]) -> str:
    """Strip a possessive ending: "Emils" -> "Emil", "Jonas'" -> "Jonas", "Emil's" -> "Emil"."""
    if word[-2:] in ("'s", "’s"):
        return word[:-2]
    if word.endswith(("'", "’")):
        return word[:-1]
    if (
        len(word) > 3
        and word.endswith("s")
        and word.lower() not in names
        and word[:-1].lower() in names
    ):
        return word[:-1]
    return word


def _casing(word: str) -> str:
    """Classify casing: "title" (each hyphen part capitalised), "lower", "upper" or "other"."""
    parts = [p for p in word.split("-") if p]
    if not parts or not all(p.isalpha() for p in parts):
        return "other"
    if all(p[0].isupper() and (p[1:].islower() or len(p) == 1) for p in parts):
        return "upper" if len(parts[0]) == 1 and len(parts) == 1 else "title"
    if word.islower():
        return "lower"
    if word.isupper():
        return "upper"
    return "other"


class _Context:
    """Neighbouring tokens of a candidate name, skipping whitespace."""

    def __init__(self, doc: Doc) -> None:
        self.doc = doc

    def prev(self, i: int, skip: frozenset[str] = frozenset()) -> Token | None:
        j = i - 1
        while j >= 0:
            tok = self.doc[j]
            if tok.is_space and "\n" in tok.text:
                return tok
            if not tok.is_space and tok.text not in skip:
                return tok
            j -= 1
        return None

    def next_tokens(self, i: int, n: int) -> list[Token]:
        out: list[Token] = []
        j = i + 1
        while j < len(self.doc) and len(out) < n:
            if not self.doc[j].is_space:
                out.append(self.doc[j])
            j += 1
        return out

    def sentence_initial(self, i: int) -> bool:
        """True at the start of the text, a line, or a sentence (after . ! ? : or an emoji)."""
        j = i - 1
        while j >= 0:
            tok = self.doc[j]
            text = tok.text
            if tok.is_space:
                if "\n" in text:
                    return True
            elif text in _OPENERS:
                pass  # look past an opening quote or bracket
            elif text in _SENTENCE_END or text[-1] in "!?":
                return True
            elif text.endswith("."):
                return not (text.lower() in _ABBREVIATIONS or _NUMBER.match(text))
            elif not any(ch.isalnum() for ch in text):
                # emoji and other symbols end a sentence; a comma or "&" does not
                return text not in {",", "&", "+", "/", ")", "]"}
            else:
                return False
            j -= 1
        return True

    def pre_cue(self, i: int) -> bool:
        """A word just before the token that introduces a person ("min søn", "hedder", "mvh")."""
        prev = self.prev(i, _SKIP_BEFORE)
        if prev is None or prev.is_space:
            return False
        word = prev.text.lower().rstrip(".")
        if word in _PRE_CUES:
            return True
        if word == "er":
            before = self.prev(prev.i)
            return before is not None and before.text.lower() in {"navn", "navnet"}
        return False

    def naming_cue(self, i: int) -> bool:
        """Directly after a kin or role noun, Fru/Hr./Frk., "mit navn er", or "hedder" with a
        person as subject ("jeg hedder", "min søn hedder"; not "øllet hedder")."""
        prev = self.prev(i, _SKIP_BEFORE)
        if prev is None or prev.is_space:
            return False
        word = prev.text.lower().rstrip(".")
        if word in _NAMING_CUES:
            return True
        before = self.prev(prev.i)
        before_word = before.text.lower() if before is not None else ""
        if word == "er":
            return before_word in {"navn", "navnet"}
        if word in {"hedder", "hed"}:
            return before_word in _PERSON_SUBJECTS
        return False

    def weak_pre_cue(self, i: int) -> bool:
        """Colloquial "ham mads", "hende emma", "jeg og emma" (enough for unambiguous names)."""
        prev = self.prev(i)
        if prev is None or prev.is_space:
            return False
        word = prev.text.lower()
        if word in {"ham", "hende"}:
            return True
        if word == "og":
            before = self.prev(prev.i)
            return before is not None and before.text.lower() in {"jeg", "mig"}
        return False

    def kin_after(self, i: int) -> bool:
        """A kin or role noun right after the token ("noahs mor", "emmas lærer")."""
        nxt = self.next_tokens(i, 1)
        return bool(nxt) and nxt[0].text.lower() in _KIN_AND_ROLES

    def post_cue(self, i: int) -> bool:
        """Words after the token that describe a person ("på 4 år", "fra 8.b", "er syg")."""
        nxt = [t.text.lower() for t in self.next_tokens(i, 4)]
        if not nxt:
            return False
        # "X på 4 år", "X på 4", "X er 9 år", "X 6 år"
        if nxt[0] in {"på", "er"} and len(nxt) > 1 and _NUMBER.match(nxt[1]):
            return nxt[0] == "på" or (len(nxt) > 2 and nxt[2] in {"år", "måneder", "uger"})
        if _NUMBER.match(nxt[0]) and len(nxt) > 1 and nxt[1] in {"år", "måneder"}:
            return True
        # "X (6)", "X (12 år)", "X, 7 år"
        if nxt[0] in {"(", ","} and len(nxt) > 1 and _NUMBER.match(nxt[1]):
            return nxt[0] == "(" or (len(nxt) > 2 and nxt[2] == "år")
        # "X fra 8.b", "X i 3.a", "X går i 5. klasse", "X og jeg"
        if nxt[0] in {"fra", "i"} and len(nxt) > 1 and _CLASS.match(nxt[1]):
            return True
        if nxt[0] == "går" and len(nxt) > 2 and nxt[1] == "i":
            return bool(_CLASS.match(nxt[2]))
        # "Mark er syg", "Lærke elsker ...": verbs that take a person as subject
        if nxt[0] in _PERSON_VERBS or nxt[:2] in (["er", "syg"], ["er", "ked"], ["er", "glad"]):
            return True
        return nxt[:2] == ["og", "jeg"]


#: A run of letters: what a name or a cue word in the text is made of.
_LETTERS = re.compile(r"[^\W\d_]+")


def _longest_run(word: str) -> str:
    return max(_LETTERS.findall(word), key=len, default=word)


@cache
def _telltales() -> frozenset[str]:
    """Letter runs at least one of which every text with a name in it contains.

    For each name and each naming cue its longest run of letters ("anne-marie" -> "marie"):
    a name is flagged only when it is on the lists or follows a cue (see :func:`find_names`).
    """
    cues = _NAMING_CUES | {"hedder", "hed", "navn", "navnet"}
    return _name_telltales() | frozenset(_longest_run(word) for word in cues)


@cache
def _name_telltales() -> frozenset[str]:
    """The :func:`_telltales` of the names on the lists (the others are naming cues only)."""
    return frozenset(_longest_run(word) for word in lexicon().names)


@cache
def _cue_runs() -> frozenset[str]:
    """Words that can make an ambiguous name in lower case a name (see :meth:`_Context.pre_cue`)."""
    return frozenset(_PRE_CUES | {"navn", "navnet"})


def might_name(text: str) -> bool:
    """False when ``text`` cannot contain a name :func:`find_names` would flag.

    A quick test without the tokenizer: no run of letters in the text is (with or without a
    possessive "s") one of the :func:`_telltales`. An ambiguous name written in lower case or
    capitals ("ville", "andre", "tage") only counts when a cue word that could introduce it is
    in the text too (and no hyphen could join it into a longer name). A naming cue that is no
    name ("barn", "pædagogen", "hedder") only counts when a capital letter follows it: a name
    that is not on the lists is flagged only capitalised, right after its cue. Most answers
    name nobody and stop here.
    """
    telltales = _telltales()
    names = _name_telltales()
    ambiguous = lexicon().ambiguous
    cue: bool | None = None
    after_cue: int | None = None  # where the letters of the first naming cue end
    for match in _LETTERS.finditer(text):
        run = match.group()
        for low in _LETTERS.findall(run.lower()):  # "İhsan" lowers to "i̇hsan": two runs
            if low not in telltales:
                if not (low[-1] == "s" and low[:-1] in telltales):
                    continue
                low = low[:-1]
            if low not in names:
                if after_cue is None:
                    after_cue = match.end()
                continue
            if low in ambiguous and (run.islower() or run.isupper()) and "-" not in text:
                if cue is None:
                    cues = _cue_runs()
                    cue = any(other.lower() in cues for other in _LETTERS.findall(text))
                if not cue:
                    continue
            return True
    if after_cue is None:
        return False
    rest = text[after_cue:]
    return rest != rest.lower()  # a capital letter (or any letter lower() changes) follows


def find_names(text: str) -> Iterator[Span]:
    """First names (with directly following surnames) in ``text``; see the module docstring."""
    if not might_name(text):
        return
    lex = lexicon()
    doc = tokenizer()(text)
    ctx = _Context(doc)
    covered_until = -1
    for tok in doc:
        if tok.is_space or tok.idx < covered_until:
            continue
        # The tokenizer leaves some symbols glued to a word: "/Peter", "-Mette", "@emma".
        word = tok.text.lstrip(_GLUED)
        offset = len(tok.text) - len(word)
        if not word:
            continue
        base = _strip_possessive(word, lex.names)
        key = base.lower()
        parts = [p for p in key.split("-") if p]
        casing = _casing(base)
        if not parts or any(p in lex.stop for p in parts) or key in _INSTITUTION_AFTER:
            continue
        if any(p not in lex.names for p in parts):
            # Not on the lists: still a name right after "hedder", "min søn", "Fru", ...
            if not (
                casing == "title"
                and len(base) > 1
                and key not in _FUNCTION_WORDS
                and ctx.naming_cue(tok.i)
            ):
                continue
        elif not _is_name(tok, key, casing, ctx, lex, possessive=base != word):
            continue
        end = _extend_surname(tok, ctx, lex)
        if end is None:
            continue
        covered_until = end
        yield "name", tok.idx + offset, end


def _is_name(
    tok: Token, key: str, casing: str, ctx: _Context, lex: NameLexicon, *, possessive: bool
) -> bool:
    ambiguous = key in lex.ambiguous
    prev = ctx.prev(tok.i)
    prev_word = prev.text.lower() if prev is not None and not prev.is_space else ""
    if prev_word in _SAINT:
        return False
    if casing == "title":
        if key in _MONTHS and (prev_word in _MONTH_BEFORE or _NUMBER.match(prev_word)):
            return False
        if not ctx.sentence_initial(tok.i):
            # "Delta Air Lines", "Vestre Skole Emil": inside a longer proper noun, unless cued.
            return not _after_other_proper_noun(tok, ctx, lex) or ctx.pre_cue(tok.i)
        return not ambiguous or ctx.pre_cue(tok.i) or ctx.post_cue(tok.i)
    if casing in ("lower", "upper"):
        if ctx.pre_cue(tok.i):
            return True
        if ambiguous:
            return False
        # "ham mads", "mads på 7 år", "noahs mor" (a name in the genitive before kin or a role)
        return (
            ctx.weak_pre_cue(tok.i) or ctx.post_cue(tok.i) or (possessive and ctx.kin_after(tok.i))
        )
    return False


def _after_other_proper_noun(tok: Token, ctx: _Context, lex: NameLexicon) -> bool:
    """The token directly follows a capitalised word that is not a name (one space between)."""
    if tok.i == 0:
        return False
    prev = ctx.doc[tok.i - 1]
    if prev.is_space or ctx.doc.text[prev.idx + len(prev.text) : tok.idx] != " ":
        return False
    word = prev.text
    return (
        _casing(word) == "title"
        and word.lower() not in lex.names
        and word.lower().rstrip(".") not in _PRE_CUES
        and not ctx.sentence_initial(prev.i)
    )


def _extend_surname(tok: Token, ctx: _Context, lex: NameLexicon) -> int | None:
    """End offset of the name starting at ``tok``, including up to three following surnames.

    None when the capitalised words after the name end in an institution or place word
    ("James Paget Hospital", "Hong Kong Island").
    """
    end = tok.idx + len(tok.text)
    doc = ctx.doc
    j = tok.i
    for _ in range(4):
        if j + 1 >= len(doc):
            break
        nxt = doc[j + 1]
        if doc.text[end : nxt.idx] not in (" ", "\u00a0"):
            break
        base = _strip_possessive(nxt.text, lex.names)
        lower = base.lower()
        if _INITIAL.match(base):  # "Lars Ø. Pedersen"
            end = nxt.idx + len(nxt.text)
            j = nxt.i
            continue
        if _casing(base) != "title" or lower in lex.stop or lower in _FUNCTION_WORDS:
            break
        if lower in _INSTITUTION_AFTER:
            return None
        end = nxt.idx + len(nxt.text)
        j = nxt.i
    return end
