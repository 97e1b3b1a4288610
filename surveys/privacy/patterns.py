"""Pattern detectors for CPR numbers, Danish phone numbers, e-mail addresses and street addresses.

Each detector takes the answer text and returns ``(kind, start, end)`` tuples with character
(code point) offsets into that text. The detectors may overlap each other; ``guard`` resolves.
Digits are matched as ASCII ``[0-9]`` on purpose: ``\\d`` would also match Arabic-Indic and other
digits, whose offsets and meaning differ.
"""

from __future__ import annotations

import calendar
import re
from collections.abc import Iterator

from surveys.privacy.identifiers import ID_CUE
from surveys.privacy.words import Span, word_list, word_set

#: Fullwidth forms (U+FF01-U+FF5E, typed with East Asian keyboards: "１２０３０７－１２３４",
#: "navn＠gmail.com") and the ideographic space, as their ASCII characters: one code point for
#: one, so offsets found in the folded text are offsets in the text.
_FULLWIDTH = str.maketrans({chr(0xFF01 + i): chr(0x21 + i) for i in range(94)} | {"\u3000": " "})


_FULLWIDTH_CHAR = re.compile("[\uff01-\uff5e\u3000]")


def fold_fullwidth(text: str) -> str:
    """``text`` with fullwidth digits, letters and signs as ASCII (same length and offsets)."""
    return text.translate(_FULLWIDTH) if _FULLWIDTH_CHAR.search(text) else text


# --------------------------------------------------------------------------------------------
# CPR numbers
# --------------------------------------------------------------------------------------------

_DASHES = "\\-\u2010\u2011\u2012\u2013\u2014\u2212"
_DASH = rf"[ \u00a0]?[{_DASHES}][ \u00a0]?"  # "-", " - ", "–"
#: The ways people write a CPR number. Each pattern's digits are checked as a date afterwards.
_CPR_PATTERNS = {
    # 120388-1234, 1203881234, 120388 1234, 120388.1234
    "compact": rf"[0-9]{{6}}(?:{_DASH}|[ \u00a0.])?[0-9]{{4}}",
    # 12.03.88-1234, 12/03/88 - 1234, 12-03-88-1234, 24 06 09-3381, 11 04 16 12 34: the date
    # written with one separator twice, then the serial (after a dash, a space or that separator)
    "dated": rf"[0-9]{{2}}(?P<sep>[./\- \u00a0])[0-9]{{2}}(?P=sep)[0-9]{{2}}"
    rf"(?:{_DASH}|[ \u00a0]|(?P=sep))[0-9]{{2}}(?P=sep)?[0-9]{{2}}",
    # 1 2 0 3 8 8 - 1 2 3 4: one digit at a time
    "spaced": rf"[0-9](?:[ \u00a0][0-9]){{5}}(?:{_DASH}|[ \u00a0])[0-9](?:[ \u00a0][0-9]){{3}}",
}
_CPR = re.compile(rf"(?<![\w+])(?:{'|'.join(_CPR_PATTERNS.values())})(?![0-9]|[.,{_DASHES}][0-9])")
_CPR_CUE = re.compile(r"\b(?:cpr|personn)\w*\.?(?:\W+\w+){0,3}?\W*$", re.I)


def _valid_cpr_date(day: int, month: int, year: int) -> bool:
    """Day 1-31 (or 61-91 for replacement numbers), month 1-12, and the day exists in the month.

    The century is unknown, so 29 February is accepted whenever the two-digit year is divisible
    by four (it is a leap year in the 1900s or in the 2000s).
    """
    if day > 60:
        day -= 60
    if not (1 <= month <= 12 and 1 <= day <= 31):
        return False
    if month == 2:
        return day <= (29 if year % 4 == 0 else 28)
    return day <= calendar.monthrange(2001, month)[1]


def find_cpr(text: str) -> Iterator[Span]:
    """CPR numbers ``DDMMYY-SSSS`` as in ``_CPR_PATTERNS``; no modulus-11 check.

    The date part must be valid (replacement numbers with day + 60 included); after an explicit
    cue such as "cpr" or "personnummer" any ten digits in CPR shape are flagged.
    """
    for m in _CPR.finditer(text):
        digits = re.sub("[^0-9]", "", m.group())
        day, month, year = int(digits[:2]), int(digits[2:4]), int(digits[4:6])
        cue = _CPR_CUE.search(text, max(0, m.start() - 30), m.start()) is not None
        if not cue and ID_CUE.search(text, max(0, m.start() - 40), m.start()):
            continue  # "kundenummer 1102938475": that number (see identifiers.find_id_numbers)
        if cue or _valid_cpr_date(day, month, year):
            yield "cpr", m.start(), m.end()


# --------------------------------------------------------------------------------------------
# Phone numbers
# --------------------------------------------------------------------------------------------

_PREFIX = r"(?P<prefix>(?:\+|00)[ \u00a0]?45|\((?:\+|00)[ \u00a0]?45\))[ \u00a0\-]?"
# Danish subscriber numbers start with 2-9; a leading 1 is accepted after +45 or a phone cue
# (people type made-up "12 34 56 78" examples, and service numbers start with 1).
_GROUPINGS = (
    r"[1-9][0-9]{7}",  # 12345678
    r"[1-9][0-9](?P<sep>[ \u00a0.\-])[0-9]{2}(?P=sep)[0-9]{2}(?P=sep)[0-9]{2}",  # 12 34 56 78
    r"[1-9][0-9]{3}[ \u00a0\-][0-9]{4}",  # 1234 5678
    r"[1-9][0-9]{2}[ \u00a0][0-9]{2}[ \u00a0][0-9]{3}",  # 123 45 678
)
_PHONE = re.compile(
    rf"(?<![\w+])(?<![0-9][.,/\-])(?:{_PREFIX})?(?P<number>{'|'.join(_GROUPINGS)})"
    rf"(?![\w]|[.,/\-][0-9])"
)
_PHONE_CUE = re.compile(
    r"\b(?:tlf|telefon|mobil|ring|sms|opkald|fastnet|nummer|nr|kontakt|træffes)\w*\.?"
    r"(?:\W+\w+){0,4}?\W*$",
    re.I,
)
# Cues that outweigh "sagsnr."/"kr." style words before the number.
_STRONG_PHONE_CUE = re.compile(
    r"\b(?:tlf|telefon|mobil|ring|sms|opkald|fastnet)\w*\.?(?:\W+\w+){0,4}?\W*$", re.I
)
# Numbers after these words are case, order, customer, account or company numbers.
_NOT_PHONE_BEFORE = re.compile(
    r"(?:sags?|journal|ordre|kunde|faktura|konto|reg|registrerings|cvr|se|p|ean|pin|medlems"
    r"|bilag|kvitterings|postnummer|nummerplade)[\s\-.]*(?:nr|nummer|nummeret)?\W{0,4}$"
    r"|(?:kr|dkk|eur|€|\$)\.?\s*$",
    re.I,
)
_NOT_PHONE_AFTER = re.compile(
    r"\s*(?:kr\b|kr\.|kroner|dkk|eur|euro|€|\$|,-|\.-|mio|mia|%|procent|km\b|meter\b|m2|m²)",
    re.I,
)
_YEAR = re.compile(r"(?:19|20)[0-9]{2}$")


def _looks_like_date8(digits: str) -> bool:
    """``DDMMYYYY`` with a plausible year (1900-2099)."""
    day, month, year = int(digits[:2]), int(digits[2:4]), int(digits[4:])
    if not 1900 <= year <= 2099 or not 1 <= month <= 12:
        return False
    return 1 <= day <= calendar.monthrange(year, month)[1]


def find_phones(text: str) -> Iterator[Span]:
    """Danish phone numbers: 8 digits (first digit 2-9) in common groupings, optional +45/0045.

    Amounts, years, dates, postcodes and case/account numbers are left alone using the
    surrounding words ("kr", "sagsnr.", ...) unless a +45/0045 prefix or a phone cue says
    otherwise.
    """
    for m in _PHONE.finditer(text):
        number = m["number"]
        digits = re.sub(r"[^0-9]", "", number)
        before = text[max(0, m.start() - 40) : m.start()]
        if not m["prefix"]:
            cue = _PHONE_CUE.search(before) is not None
            strong_cue = _STRONG_PHONE_CUE.search(before) is not None
            if not strong_cue and _NOT_PHONE_BEFORE.search(before):
                continue
            if not cue and number[0] == "1":
                continue
            if _NOT_PHONE_AFTER.match(text, m.end()):
                continue
            parts = re.split(r"[^0-9]+", number)
            if len(parts) == 1:
                parts = [number[:4], number[4:]]
                if not cue and _looks_like_date8(digits):
                    continue  # "24122024"
            if not cue and len(parts) == 2 and all(_YEAR.match(p) for p in parts):
                continue  # "2023-2024", "2019 2020", "20232024"
        yield "phone", m.start(), m.end()


# --------------------------------------------------------------------------------------------
# E-mail addresses
# --------------------------------------------------------------------------------------------

_EMAIL = re.compile(
    r"(?<![\w.%+\-])[\w.%+\-]*\w@(?:[\w\-]+\.)+[^\W\d_]{2,24}(?![\w\-]|\.\w)", re.UNICODE
)
_TLDS = r"(?:dk|com|net|org|nu|se|no|de|eu|info|io|me|biz|online|co\.uk|uk|fo|gl)"
_DOT_WORD = r"(?:dot|punktum|prik)"
#: How people hide the "@" of an e-mail address. Only the bare word "at" is also an everyday
#: Danish word ("at" = "to"/"that"); see ``find_emails``.
_AT_FORMS = {
    # "(at)", "[at]", "{at}", "<at>", "(a)", "(@)", "(snabel-a)"
    "bracketed_at": r"\s*[\[({<]\s*(?:at|a|@|snabel[- ]?a)\s*[\])}>]\s*",
    # "freja @ gmail", "rikke.s@ gmail", "trine @gmail": an "@" with a space beside it
    "spaced_at": r"\s+@\s*|@\s+",
    # "snabel-a", "snabel a": the Danish name of "@"
    "snabel_a": r"\s+snabel[- ]?a\s+",
    # "navn at gmail dot com"
    "word_at": r"\s+at\s+",
}
#: How people hide the dots of the domain.
_DOT_FORMS = {
    "dot": r"\.",
    # "[dot]", "(punktum)", "<prik>", "[.]"
    "bracketed_dot": rf"\s*[\[({{<]\s*(?:{_DOT_WORD}|\.)\s*[\])}}>]\s*",
    # " dot ", " punktum ", " prik "
    "word_dot": rf"\s+{_DOT_WORD}\s+",
    # "gmail . com", "jubii. dk": a dot with a space beside it
    "spaced_dot": r"\s+\.\s*|\.\s+",
}
_ANY_DOT = "|".join(_DOT_FORMS.values())
_MAIL_PROVIDERS = (
    r"(?:gmail|hotmail|outlook|live|yahoo|icloud|me|mail|jubii|ofir|webspeed|stofanet"
    r"|youmail|protonmail|proton|msn|aol|tdcadsl|post\.tele|mail\.tele|km|kommune)"
)
# "freja@gmail", "mads@hotmail": a well-known provider without its top-level domain
_EMAIL_NO_TLD = re.compile(
    rf"(?<![\w.%+\-])[\w.%+\-]*\w@{_MAIL_PROVIDERS}\b(?![.\-]\w)", re.I | re.UNICODE
)
# "navn [at] domæne [dot] dk", "navn at gmail dot com", "navn(a)domæne.dk", "peter punktum
# nielsen at gmail punktum com", "anne @ outlook . dk", ...
_EMAIL_OBFUSCATED = re.compile(
    rf"(?<![\w.])(?P<local>[\w.+\-]*\w(?:\s+{_DOT_WORD}\s+[\w.+\-]*\w)*)"
    rf"(?:{'|'.join(f'(?P<{name}>{form})' for name, form in _AT_FORMS.items())})"
    rf"(?P<domain>[\w\-]+(?:(?:{_ANY_DOT})[\w\-]+)*?)(?P<last>{_ANY_DOT}){_TLDS}\b",
    re.I | re.UNICODE,
)


#: Words before a spaced "@" that are not the local part of an address.
_NOT_LOCAL_PARTS = word_set("er på til i og at mail mailen adresse adressen e-mail email via")


#: What every match of ``_EMAIL_OBFUSCATED`` ends in: its last dot (or dot word) and its
#: top-level domain. Searched first, it spares the full pattern (which tries a local part at
#: every word) on the answers, nearly all, that have none.
_OBFUSCATED_TAIL = re.compile(rf"(?:\.|dot|punktum|prik)[\s\])}}>]*{_TLDS}\b", re.I | re.UNICODE)


def find_emails(text: str) -> Iterator[Span]:
    """E-mail addresses, including the obfuscations in ``_AT_FORMS`` and ``_DOT_FORMS``."""
    if "@" in text:  # in every match of _EMAIL and _EMAIL_NO_TLD
        for m in _EMAIL.finditer(text):
            yield "email", m.start(), m.end()
        for m in _EMAIL_NO_TLD.finditer(text):
            yield "email", m.start(), m.end()
    if not _OBFUSCATED_TAIL.search(text):
        return
    for m in _EMAIL_OBFUSCATED.finditer(text):
        if m["spaced_at"] and m["local"].lower() in _NOT_LOCAL_PARTS:
            continue  # "min mail er @gmail.com": no address, only its domain
        obfuscated_dot = m["last"] != "."
        # The bare word "at" is an everyday Danish word ("at" = "to"/"that"): after it require
        # an obfuscated last dot or a well-known mail provider as the domain.
        if not m["word_at"] or obfuscated_dot or re.fullmatch(_MAIL_PROVIDERS, m["domain"], re.I):
            yield "email", m.start(), m.end()


# --------------------------------------------------------------------------------------------
# Street addresses
# --------------------------------------------------------------------------------------------

_STREET_SUFFIXES = word_list(
    "vej vejen gade gaden allé alle stræde strædet plads pladsen torv torvet vænge vænget "
    "park parken have haven høj højen bakke bakken bakkevej sti stien boulevard boulevarden "
    "toft toften tofte engen marken mosen vang vangen lund lunden kaj kajen gyde gyden "
    "passage hegn hegnet krog krogen løkke løkken brink brinken vold volden kvarter kvarteret "
    "bro broen ager agre skov skoven dal dalen bjerg bjerget strand stranden tværvej "
    "slippen ringen parkvej bryn brynet skrænt skrænten kilde kilden næs næsset"
)
_SUFFIX_RE = "|".join(sorted(_STREET_SUFFIXES, key=len, reverse=True))
# Words that are street suffixes on their own ("Nørre Allé", "Jens Baggesens Vej").
_SEPARATE_SUFFIX = (
    r"(?:Vej|Vejen|Gade|Allé|Alle|Stræde|Plads|Torv|Vænge|Park|Boulevard|Have|Passage|Kaj"
    r"|Bro|Bakke|Sti|Hegn|Brink|Vold|Tværvej|Landevej|Hovedvej"
    r"|Kirkevej|Skovvej|Strandvej|Stationsvej|Byvej|Gyde)"
)
_UPPER = "A-ZÆØÅÉÜÖÄ"
_LOWER = "a-zæøåéüöä"
_INITIALS = rf"(?:[{_UPPER}]\.[ \u00a0]?){{1,3}}"  # "H.C. ", "H. C. "
_GENITIVE = rf"[{_UPPER}][{_LOWER}\-]*s"  # "Andersens", "Frederiks"
_STREET_ADJECTIVES = (
    r"(?:Nørre|Søndre|Østre|Vestre|Nordre|Vester|Øster|Store|Lille|Gammel|Gamle|Ny|Nye|Sankt"
    r"|Skt\.|Kongens|Dronningens|Prins|Prinsesse|Kong|Dronning|Hellig|Høje|Lange|Brede|Indre"
    r"|Ydre|Øvre|Nedre|Gl\.|Ll\.)"
)
# A capitalised word followed by a genitive: the first name in "Jens Baggesens Vej".
_NAME_BEFORE_GENITIVE = rf"[{_UPPER}][{_LOWER}\-]+(?=[ \u00a0]{_GENITIVE}[ \u00a0])"
_STREET = (
    rf"(?:{_INITIALS}|(?:{_STREET_ADJECTIVES}|{_GENITIVE}|{_NAME_BEFORE_GENITIVE})[ \u00a0]){{0,3}}"
    rf"(?:[{_UPPER}{_LOWER}][{_LOWER}\-]*(?:{_SUFFIX_RE})|{_SEPARATE_SUFFIX})"
)
_HOUSE_NUMBER = (
    r"[1-9][0-9]{0,2}(?:[A-Za-z](?![\w])|[ \u00a0][A-H](?![\w]))?"
    r"(?:[\-\u2013][1-9][0-9]{0,2}[A-Za-z]?(?![\w]))?"  # "Bøgevej 1-3"
)
_FLOOR = (
    r"(?:,?[ \u00a0]*(?:st|stuen|kl|kld|[1-9][0-9]?)\.?[ \u00a0]*"
    r"(?:th|tv|mf|t\.[ \u00a0]?h|t\.[ \u00a0]?v|sal|dør[ \u00a0]?[0-9]{1,3})\.?"
    r"|,?[ \u00a0]*(?:st|stuen|kld)\.?(?![\w]))"
)
_TOWN = (
    rf"(?:,?[ \u00a0]*[0-9]{{4}}[ \u00a0]+[{_UPPER}][{_LOWER}\-]+"
    rf"(?:[ \u00a0](?:[{_UPPER}]{{1,2}}\b|[{_UPPER}][{_LOWER}\-]+))?)"
)
_ADDRESS = re.compile(
    rf"(?<![\w.])(?P<street>{_STREET})[ \u00a0](?P<number>{_HOUSE_NUMBER})"
    rf"(?![0-9]|[.,][0-9])(?P<floor>{_FLOOR})?(?P<town>{_TOWN})?"
)
#: In every match of ``_ADDRESS``: the street name's last letter (every suffix ends in a
#: lower-case one), a space and the house number's first digit. Searched first, it spares the
#: full pattern (which tries a street name at every word) on most answers.
_ADDRESS_HINT = re.compile(rf"[{_LOWER}][ \u00a0][1-9]")
_NOT_ADDRESS_AFTER = re.compile(
    r"[ \u00a0]*(?:gange?|år|timer?|t\b|min\b|minutter|sek|dage?|uger?|måneder?|kr\b|kr\.|kroner"
    r"|km|meter|m\b|procent|%|børn|elever|personer|mennesker|stk|point|klasse|pladser|biler"
    r"|busser|huse|lejligheder|boliger|familier|træer|mio|mia)",
    re.I,
)
# A lower-case street name ("storegade 12") is accepted only after a cue or with floor/town.
_ADDRESS_CUE = re.compile(
    r"(?:\bbor|\bboede|\bbosat|\badresse\w*|\badr|\bbopæl\w*|\bhjemme|\bflytte\w*)\W+"
    r"(?:\w+\W+){0,2}$",
    re.I,
)
# Bare generic words that are street suffixes but, capitalised at a sentence start, are nouns.
_GENERIC = word_set(
    "vej vejen gade gaden plads pladsen park parken have haven sti stien bakke bakken skov "
    "skoven strand stranden bro broen dal dalen hus huse lund lunden ager torv torvet kaj kajen "
    "legeplads legepladsen parkeringsplads parkeringspladsen boldbane cykelsti cykelstien "
    "motorvej motorvejen skolevejen hovedvej hovedvejen"
)


def find_addresses(text: str) -> Iterator[Span]:
    """Danish street addresses: street name + house number, optional floor/side and postcode+town.

    "Storegade 12", "Nørre Allé 3, 2. tv", "Vestervej 4B", "Skolevej 14, 8210 Aarhus V".
    A street without a house number ("Ringvejen") is not flagged.
    """
    if not _ADDRESS_HINT.search(text):
        return
    for m in _ADDRESS.finditer(text):
        street = m["street"]
        if _NOT_ADDRESS_AFTER.match(text, m.end("number")) and not (m["floor"] or m["town"]):
            continue
        last_word = street.split()[-1]
        if last_word.lower() in _GENERIC and len(street.split()) == 1:
            continue
        if street[0].islower():
            cue = _ADDRESS_CUE.search(text, max(0, m.start() - 40), m.start()) is not None
            if not (cue or m["floor"] or m["town"]):
                continue
        yield "address", m.start(), m.end()
