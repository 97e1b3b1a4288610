"""Detectors for licence plates, social media handles, ID numbers and a class at a named school.

Like ``patterns``, each detector takes the answer text and returns ``(kind, start, end)`` tuples
with code-point offsets; ``guard`` resolves overlaps. Each kind is one commented pattern or a
small table of named ones, and each detector first makes a cheap test that most answers fail
(no digit, no "@", no platform word, no "skole", ...): the guard runs inside every answer
request.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

from surveys.privacy.words import Span, word_set

_DIGIT = re.compile("[0-9]")


def _alternation(patterns: dict[str, str]) -> str:
    return "|".join(f"(?:{pattern})" for pattern in patterns.values())


# --------------------------------------------------------------------------------------------
# Licence plates
# --------------------------------------------------------------------------------------------

#: Danish plates: two letters and five digits ("AB 12 345", "ZK99122", "AX 18345", "AB-12-345").
_PLATE = re.compile(
    r"(?<![\w.,])(?P<letters>[A-Za-z]{2})[ \u00a0\-]?[0-9]{2}[ \u00a0\-]?[0-9]{3}(?![\w]|[.,][0-9])"
)
#: Two capitals people also write before a number ("OK 12 345 kr", "PS 12 345 har skrevet").
_NOT_PLATE_LETTERS = word_set("OK PS CA KR NR DK EU ID TV PC CO HR ST SE UK US")
#: Plates written in lower case ("ey 81 447") are taken only after one of these words.
_PLATE_CUE = re.compile(
    r"(?:plade\w*|reg\.?\s*nr\.?|registrering\w*|\bbil\w*|\w+bil(?:en)?|vogn\w*|taxa\w*"
    r"|knallert\w*|scooter\w*|motorcykel\w*|trailer\w*|van|varevogn\w*)"
    r"(?:\W+\w+){0,3}?\W*$",
    re.I,
)
#: Amounts and counts after the digits ("12 345 kr", "12 345 mennesker").
_NOT_PLATE_AFTER = re.compile(
    r"[ \u00a0]*(?:kr\b|kr\.|kroner|dkk|eur|euro|€|\$|,-|%|procent|km|meter|m2|m²|mennesker"
    r"|borgere|børn|elever|personer|stk|underskrifter|medlemmer)",
    re.I,
)


def find_plates(text: str) -> Iterator[Span]:
    """Danish licence plates ("AB 12 345"); lower-case letters only after a car or plate word."""
    if not _DIGIT.search(text):  # a quick test (a simple search, no lookbehind to try)
        return
    for m in _PLATE.finditer(text):
        letters = m["letters"]
        if _NOT_PLATE_AFTER.match(text, m.end()):
            continue
        if letters.isupper():
            if letters in _NOT_PLATE_LETTERS:
                continue
        elif not (letters.islower() and _PLATE_CUE.search(text, max(0, m.start() - 40), m.start())):
            continue
        yield "plate", m.start(), m.end()


# --------------------------------------------------------------------------------------------
# Social media handles and profile links
# --------------------------------------------------------------------------------------------

#: Words for the platforms, as young people and parents write them, and for a user name.
_USER_NAME_WORDS = r"(?:brugernavn(?:et)?|username|gamertag|profilnavn(?:et)?)"
_PLATFORMS = (
    r"(?:insta|instagram|ig|snap|snapchat|sc|tiktok|tik\s+tok|discord|twitch|bereal"
    r"|youtube|yt|twitter|facebook|fb|messenger|steam|roblox|psn|xbox|telegram|threads"
    rf"|bluesky|pinterest|linkedin|{_USER_NAME_WORDS})"
)
#: Each pattern with what it needs in the text, tested first (most answers have none of it).
_HANDLE_PATTERNS = {
    # A link to a profile: "facebook.com/lene.k.5", "https://www.instagram.com/emma/",
    # "vm.tiktok.com/ZMabc/", "youtube.com/@Familien", "linkedin.com/in/anne-sofie". Needs ".com/",
    # ".net/" or ".tv/".
    "profile_link": re.compile(
        r"(?<![\w.])(?:https?://)?(?:[\w\-]+\.)?(?:facebook|fb|instagram|tiktok|snapchat"
        r"|youtube|twitter|x|linkedin|twitch|threads)\.(?:com|net|tv)/"
        r"[^\s,;!()<>\"']*[^\s,;!?.:()<>\"']",  # "...?id=1000", not a last "." or "?"
        re.I,
    ),
    # "@frejaa.nielsen", "@kevin__x": an "@" right before a name of two or more characters, not
    # inside a word, and not a spreadsheet function ("@SUM(A1)"). Needs "@".
    "at_handle": re.compile(r"(?<![\w@.])@[A-Za-z0-9_][A-Za-z0-9_.]*[A-Za-z0-9_](?![\w(])"),
    # "snap: nanna", "insta = frejaa", "bereal som idafrederikke", "min snap er mikkel",
    # "brugernavnet er frejaa": a word right after a platform word and ":", "=", "som", "hedder"
    # or "er" ("er" only after "min" or a word for a user name, see _ER_LINK_ALLOWED). Tried
    # where a platform word starts.
    "after_platform": re.compile(
        rf"{_PLATFORMS}(?P<link>\s*[:=]\s*|\s+(?:som|hedder|er)\s+)"
        r"(?P<word>[A-Za-z][A-Za-z0-9_.]*[A-Za-z0-9_])(?![\w@])",
        re.I,
    ),
}
_POSSESSIVE_BEFORE = re.compile(r"\b(?:min|mit|din|hans|hendes|sin|vores)\s+$", re.I)
_USER_NAME_WORD = re.compile(_USER_NAME_WORDS, re.I)
#: In every profile link (the quick test of "profile_link").
_LINK_HINTS = (".com/", ".net/", ".tv/")
#: "@alle" addresses everyone in a group chat; it is not a person.
_NOT_HANDLES = frozenset({"@alle", "@all", "@everyone", "@here", "@channel"})
#: Handles with one of these in them belong to an institution ("@aarhuskommune"), not a person.
#: (Not "politi" or "kirke": they are inside "ErikDKpolitik" and the surname "Kirkegaard".)
_INSTITUTION_PARTS = ("kommune", "skole", "klub", "bibliotek", "forening", "museum")


def _institution(handle: str) -> bool:
    low = handle.lower()
    return any(part in low for part in _INSTITUTION_PARTS)


#: Words after "snap:" or "insta som" that are Danish (or say what an account is), not a name.
_NOT_USER_NAMES = word_set(
    "alle alt altid andre at bare bedre begge da de dem den der det du efter eller en er et "
    "for fordi fra godt har hele her hun han hvis hvor i ikke ingen jeg kan man mange med men "
    "meget mere mig min mit nogen noget nok nu og om se selv sig skal som til ud var ved vi "
    "vil sjovt fedt dumt nej ja tak privat lukket slettet hacket nede offentlig influencer"
)
#: A word made up like a user name: letters with a digit, "_" or a dot inside ("mikkel_2009",
#: "laerke.hansen2", "oliver.gamer"); see ``_looks_like_user_name`` for what is left out.
_USER_NAME = re.compile(r"(?<![\w@./])[A-Za-z0-9_](?:[A-Za-z0-9_.]*[A-Za-z0-9_])?(?![\w@/])")
_PLATFORM = re.compile(rf"\b{_PLATFORMS}\b", re.I)
#: The platform words' letter runs: a text with none of them has no platform word.
_PLATFORM_RUNS = word_set(
    "insta instagram ig snap snapchat sc tiktok tik discord twitch bereal youtube yt twitter "
    "facebook fb messenger steam roblox psn xbox telegram threads bluesky pinterest linkedin "
    "brugernavn brugernavnet username gamertag profilnavn profilnavnet"
)
_LOWER_LETTERS = re.compile(r"[a-z]+")
_DOMAIN_END = re.compile(r"\.(?:dk|com|net|org|nu|se|no|de|eu|io|tv|me)$", re.I)
_ABBREVIATIONS = word_set("bl.a f.eks m.m d.v.s o.l m.v p.t h.c e.l o.s.v")


def _looks_like_user_name(word: str) -> bool:
    """At least two letters and a digit, "_" or a dot inside; not a domain ("aarhus.dk"),
    an abbreviation ("bl.a") or a class ("2.b")."""
    letters = sum(ch.isalpha() for ch in word)
    return (
        letters >= 2
        and any(ch.isdigit() or ch in "._" for ch in word)
        and not _DOMAIN_END.search(word)
        and word.lower() not in _ABBREVIATIONS
    )


def find_handles(text: str) -> Iterator[Span]:
    """Social media handles and profile links (``_HANDLE_PATTERNS``), and words made up like a
    user name within 30 characters of a platform word ("snapdaddy_1987 på snapchat").

    A plain word after a platform ("snap: mikkel") counts only when the clause ends after it or
    "og" follows, and it is not a common Danish word: "tiktok: børn der klatrer" is not a handle.
    Handles of institutions ("@aarhuskommune"), "@alle" and "@gmail.com" are left alone.
    """
    low = text.lower()
    if any(hint in low for hint in _LINK_HINTS):
        for m in _HANDLE_PATTERNS["profile_link"].finditer(text):
            if not _institution(m.group()):
                yield "handle", m.start(), m.end()
    if "@" in text:
        for m in _HANDLE_PATTERNS["at_handle"].finditer(text):
            handle = m.group()
            if not (
                handle.lower() in _NOT_HANDLES
                or _institution(handle)
                or _DOMAIN_END.search(handle)  # "min mail er @gmail.com": a domain
            ):
                yield "handle", m.start(), m.end()
    # A set lookup of the letter runs, much faster than searching for _PLATFORMS.
    if _PLATFORM_RUNS.isdisjoint(_LOWER_LETTERS.findall(low)):
        return
    after = _HANDLE_PATTERNS["after_platform"]
    user_names: set[tuple[int, int]] = set()
    for platform in _PLATFORM.finditer(text):
        named = after.match(text, platform.start())
        if named and (
            named["link"].strip() != "er"
            or _POSSESSIVE_BEFORE.search(text, 0, named.start())
            or _USER_NAME_WORD.match(platform.group())
        ):
            word = named["word"]
            rest = text[named.end() :].lstrip(" ")
            clause_ends = not rest or not rest[0].isalpha() or re.match(r"og\b", rest)
            if not _institution(word) and (
                _looks_like_user_name(word) or (clause_ends and word.lower() not in _NOT_USER_NAMES)
            ):
                yield "handle", named.start("word"), named.end("word")
        # Words made up like a user name within 30 characters (whole words: up to a space).
        low_end = text.rfind(" ", 0, max(0, platform.start() - 30)) + 1
        high_end = text.find(" ", platform.end() + 30)
        for m in _USER_NAME.finditer(text, low_end, len(text) if high_end < 0 else high_end):
            if _looks_like_user_name(m.group()) and not _institution(m.group()):
                user_names.add((m.start(), m.end()))
    for start, end in sorted(user_names):
        yield "handle", start, end


# --------------------------------------------------------------------------------------------
# ID numbers (MitID/NemID, passport, driving licence, member, pupil and customer numbers)
# --------------------------------------------------------------------------------------------

#: Words that present the number after them as a person's ID.
_ID_CUES = {
    # "MitID", "mitid-nummer", "NemID nr", "bruger-ID", "brugernummer", "sit id", "ID:"
    "login": r"mit[\s\-]?id|nem[\s\-]?id|bruger[\s\-]?(?:id|nummer|nr)"
    r"|\bid(?:[\s\-]?(?:nummer|nr))?\b",
    # "pasnummer", "pas" (not "pas på"), "kørekortnummer", "legitimation"
    "document": r"\bpas(?:nummer|nr|set)?\b(?!\s+på)|kørekort|legitimation",
    # "medlemsnr.", "elevnummer", "kundenummer", "kunde-id"
    "membership": r"(?:medlems|elev|kunde)[\s\-]?(?:nummer|nr|id)",
}
#: An ID cue right before a number (also used by ``patterns.find_cpr``).
ID_CUE = re.compile(
    rf"(?:{_alternation(_ID_CUES)})[\w\-]*\.?(?:\W+\w+){{0,3}}?\W*$",
    re.I,
)
#: 6 to 12 digits, in groups of 2 to 4 after the first ("938 274 615", "5520 3311 87").
_ID_NUMBER = re.compile(
    r"(?<![\w+,.])[0-9]{2,10}(?:[ \u00a0\-][0-9]{2,4}){0,3}(?![\w]|[.,\-][0-9])"
)
#: A date ("12-03-2025", "12 03 25") or an amount ("1 200 000 kr") is not an ID.
_DATE_SHAPED = re.compile(r"[0-9]{1,2}[ \-][0-9]{1,2}[ \-][0-9]{2,4}")
_AMOUNT_AFTER = re.compile(r"[ \u00a0]*(?:kr\b|kr\.|kroner|dkk|eur|euro|€|\$|,-|%)", re.I)


def find_id_numbers(text: str) -> Iterator[Span]:
    """Numbers of 6 to 12 digits presented as a person's ID ("mit MitID er 938 274 615")."""
    if not _DIGIT.search(text):  # a quick test (a simple search, no lookbehind to try)
        return
    for m in _ID_NUMBER.finditer(text):  # the numbers first: fewer than the cue words
        if (
            len(m.group()) >= 6
            and 6 <= sum(ch.isdigit() for ch in m.group()) <= 12
            and not _DATE_SHAPED.fullmatch(m.group())
            and not _AMOUNT_AFTER.match(text, m.end())
            and ID_CUE.search(text, max(0, m.start() - 40), m.start())
        ):
            yield "id_number", m.start(), m.end()


# --------------------------------------------------------------------------------------------
# A class at a named school
# --------------------------------------------------------------------------------------------

_UPPER = "A-ZÆØÅ"
_SCHOOL_WORDS = r"(?:skole|friskole|privatskole|efterskole|lilleskole|realskole)"
#: "2.b", "7.A", "5B", "10.C", "7b", "2. b": a grade with a class letter (not "7. klasse").
_CLASS_NAME = rf"(?:10|[0-9])(?:\.[ ]?)?[a-zæøå{_UPPER}](?![\w])"


def _school(ending: str, lower_group: str) -> str:
    """A named school with ``ending`` after the school word ("n?", or "s|ns" for the genitive);
    a lower-case name is captured in the group ``lower_group``."""
    patterns = {
        # "Vestby Skole", "Sankt Knuds Skole", "Frijsenborg Friskole", "Egebjerg Efterskole"
        "name_and_school": rf"(?:[{_UPPER}][\w\-]*\.?[ ]){{1,3}}(?i:{_SCHOOL_WORDS})(?:{ending})",
        # "Holmegårdsskolen", "Skovvangskolen": one capitalised word ending in "skole"
        "compound": rf"[{_UPPER}][\w\-]*skole(?:{ending})",
        # "vestbyskolen": the same in lower case
        "lower_compound": rf"[a-zæøå]+skole(?:{ending})",
        # "hasle skole": a lower-case name (see _NOT_SCHOOL_NAMES)
        "lower_case": rf"(?P<{lower_group}>[a-zæøå]+)[ ]{_SCHOOL_WORDS}(?:{ending})",
    }
    return _alternation(patterns)


_SCHOOL = _school("n?", "lower")
_SCHOOL_GENITIVE = _school("s|ns", "lower_genitive")
_CLASS_AT_SCHOOL = re.compile(
    # "2.b på Vestby Skole", "9.b fra Risskov Skole", "3.d, Vestre Skole", "7b på Skjoldhøjskolen"
    rf"(?<![\w.])(?:{_CLASS_NAME})(?:,?[ ](?:på|paa|fra|i|ved)[ ]|,[ ])(?P<school>{_SCHOOL})"
    rf"(?![\w])"
    # "Nørre Skoles 6.a", "Katedralskolens 2.g"
    rf"|(?<![\w.])(?P<school_genitive>{_SCHOOL_GENITIVE})[ ](?:{_CLASS_NAME})",
)
#: Kinds of school, not names of one: "2.b på Folkeskolen", "3.a på ungdomsskolen".
_GENERIC_SCHOOLS = word_set(
    "skole folkeskole friskole privatskole efterskole ungdomsskole musikskole billedskole "
    "specialskole realskole lilleskole kostskole grundskole dagskole heldagsskole sprogskole "
    "modtageskole kommuneskole byskole landsbyskole centralskole overbygningsskole"
)
_SCHOOL_ENDING = re.compile(r"(?:ns|n|s)$")
#: Lower-case words before "skole" that do not name one ("vores skole", "den nye skole").
_NOT_SCHOOL_NAMES = word_set(
    "vores min mit din jeres deres hans hendes sin en den denne samme anden ny nye gamle "
    "gammel lokale store lille god gode dårlig dårlige hele rigtig"
)


def find_school_classes(text: str) -> Iterator[Span]:
    """A class with its letter at a named school ("2.b på Vestby Skole", "Nørre Skoles 6.a").

    A grade alone ("7. klasse", "7. klasse på Nørre Skole"), a class alone ("i 2.b") or a school
    alone ("Vestby Skole") is left alone: each is shared by many children.
    """
    if "skole" not in text.lower():
        return
    for m in _CLASS_AT_SCHOOL.finditer(text):
        lower = m["lower"] or m["lower_genitive"]
        if lower and lower in _NOT_SCHOOL_NAMES:
            continue
        school = m["school"] or m["school_genitive"]
        if _SCHOOL_ENDING.sub("", school.lower()) in _GENERIC_SCHOOLS:
            continue
        yield "class", m.start(), m.end()
