"""Tests of the personal-data guard (surveys.privacy): detectors per kind, redaction, the
labelled answer sets and speed."""

from __future__ import annotations

import dataclasses
import datetime
import re
import time
from pathlib import Path
from unittest import mock

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from surveys.privacy import (
    Finding,
    contains_personal_data,
    detect_personal_data,
    redact,
    utf16_offsets,
    warm_up,
)
from surveys.privacy import identifiers as identifiers_module
from surveys.privacy import names as names_module
from surveys.privacy import patterns as patterns_module
from surveys.privacy.build_names import parse_nam_dict, select
from surveys.privacy.evaluation import (
    LabelledAnswer,
    evaluate,
    load_labelled,
    parse_labelled_line,
    split_halves,
)
from surveys.privacy.names import lexicon

DATA = Path(__file__).parent / "data"
DEV = DATA / "guard_labelled_dev.txt"
HELDOUT = DATA / "guard_labelled_heldout.txt"
MISSED = DATA / "guard_labelled_missed.txt"  # the kinds an outside test found missed


def found(text: str) -> list[tuple[str, str]]:
    return [(f.kind, f.text) for f in detect_personal_data(text)]


def kinds(text: str) -> set[str]:
    return {f.kind for f in detect_personal_data(text)}


# ---------------------------------------------------------------------------------------------
# CPR numbers
# ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "cpr"),
    [
        ("Mit cpr er 120388-1234.", "120388-1234"),
        ("cpr 1203881234 tak", "1203881234"),
        ("nummeret 120388 1234 er mit", "120388 1234"),
        ("Det er 050662–4421 (tankestreg)", "050662–4421"),
        ("Kan I slå mig op? 230495 - 1780", "230495 - 1780"),
        ("(311299-1234)", "311299-1234"),
        ("Skudår: 290200-1234", "290200-1234"),
    ],
)
def test_cpr_formats(text: str, cpr: str) -> None:
    assert found(text) == [("cpr", cpr)]


@pytest.mark.parametrize("cpr", ["710388-1234", "621190-1234", "910101-0000", "6801052233"])
def test_cpr_replacement_numbers_day_plus_60(cpr: str) -> None:
    assert found(f"Erstatningsnummer {cpr} til min søn") == [("cpr", cpr)]


def test_cpr_does_not_use_modulus_11() -> None:
    # 010203-1234 fails the modulus-11 check (weights 4 3 2 7 6 5 4 3 2 1 give 110 + ... ≠ 0).
    weights = (4, 3, 2, 7, 6, 5, 4, 3, 2, 1)
    digits = [int(c) for c in "0102031235"]
    assert sum(w * d for w, d in zip(weights, digits, strict=True)) % 11 != 0
    assert found("Mit barns nummer: 010203-1235") == [("cpr", "010203-1235")]


@pytest.mark.parametrize(
    "text",
    [
        "999999-9999 er ikke et cpr",
        "Ordrenummer 4501234567 er aldrig kommet",  # day 45
        "300299-1234",  # 30 February
        "290201-1234",  # 29 February in a year that is never a leap year
        "311188-1234",  # 31 November
        "921188-1234",  # day 92 (replacement days stop at 91)
        "011388-1234",  # month 13
        "EAN 5790001234567",
        "Telefon 0045 2812 3456",
        "1203881234567 er et langt tal",
    ],
)
def test_cpr_invalid_dates_and_other_numbers_are_not_cpr(text: str) -> None:
    assert "cpr" not in kinds(text)


def test_cpr_cue_accepts_invalid_date() -> None:
    assert found("Mit cpr-nummer er 999999-9999") == [("cpr", "999999-9999")]


@pytest.mark.parametrize(
    "cpr",
    [
        "12.03.07-1234",  # the date with dots
        "12.03.07 - 1234",
        "17/08/12-1990",
        "22-07-11-1458",
        "24 06 09-3381",
        "11 04 16 12 34",  # in pairs
        "120307 1234",
        "010415.3321",
        "1 2 0 3 0 7 - 1 2 3 4",  # a digit at a time
        "2 8 1 1 0 5 1 2 3 4",
        "１２０３０７－１２３４",  # fullwidth digits and hyphen
        "２８０５１２３３４５",
    ],
)
def test_cpr_written_with_dots_spaces_or_fullwidth_digits(cpr: str) -> None:
    assert found(f"Min søns nummer er {cpr} hvis I skal slå ham op") == [("cpr", cpr)]


@pytest.mark.parametrize(
    "text",
    [
        "12.03.2025 var sidste gang nogen ryddede op",  # a date
        "Vi var på lejrskole 12.03.25-14.03.25 og det regnede",  # a range of dates
        "min søn er født 12.03.07 og mister sin plads",  # a birth date alone
        "mødet d. 24.04.25 kl. 1900 blev aflyst",
        "Mødet 12.03.07 1234-1600",  # a time range after the date
        "Åbningstid 12:30-14 og 10.15-11.45",
        "Vi talte ned 5 4 3 2 1 og så gik fyrværkeriet af",
        "31.02.09-1234 findes ikke",  # 31 February
        "１２３４５ kr",  # fullwidth, but no CPR
    ],
)
def test_dates_times_and_counts_are_not_cpr(text: str) -> None:
    assert "cpr" not in kinds(text)


def test_fullwidth_text_keeps_its_offsets() -> None:
    text = "Ｈｅｊ! cpr １２０３０７－１２３４ og mail ｆｒｅｊａ＠ｇｍａｉｌ．ｃｏｍ 🙂"
    findings = detect_personal_data(text)
    assert [(f.kind, f.text) for f in findings] == [
        ("cpr", "１２０３０７－１２３４"),
        ("email", "ｆｒｅｊａ＠ｇｍａｉｌ．ｃｏｍ"),
    ]
    assert all(text[f.start : f.end] == f.text for f in findings)


# ---------------------------------------------------------------------------------------------
# Phone numbers
# ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "phone",
    [
        "22334455",
        "22 33 44 55",
        "2233 4455",
        "223 34 455",
        "22-33-44-55",
        "+45 22 33 44 55",
        "+4522334455",
        "0045 22334455",
        "0045 2233 4455",
        "(+45) 22334455",
        "(+45) 2233 4455",
    ],
)
def test_phone_groupings_and_prefixes(phone: str) -> None:
    assert found(f"Du kan fange mig på {phone} efter fyraften.") == [("phone", phone)]
    assert found(phone) == [("phone", phone)]


def test_phone_leading_one_needs_prefix_or_cue() -> None:
    assert found("ring 12 34 56 78") == [("phone", "12 34 56 78")]
    assert found("+45 12 34 56 78") == [("phone", "+45 12 34 56 78")]
    assert found("Koden er 12 34 56 78") == []


@pytest.mark.parametrize(
    "text",
    [
        "Det koster 1.200 kr. om måneden",
        "Vi har boet her siden 2024",
        "I 2023 og 2024 lukkede tre skoler",
        "Fra 2020-2022 var der lukket",
        "Mødet d. 24.12.2024 blev aflyst",
        "Født 24122024",
        "Vi bor i 8000 Aarhus C",
        "Budgettet er 12.500.000 kr",
        "Det kostede 2 345 678 kr",
        "22 33 44 55 kr er prisen",
        "Prisen er kr. 22334455",
        "Sagsnummer 2023-041234 er ikke afgjort",
        "sagsnr. 22334455",
        "CVR-nr. 22334455",
        "ordrenr. 22334455",
        "Træning 16:30-18:00",
        "12/3-24 kl. 14.30",
        "Der er 30-40 børn",
        "version 2.3.4.5",
    ],
)
def test_phone_negatives_amounts_years_dates_postcodes(text: str) -> None:
    assert "phone" not in kinds(text)


def test_strong_phone_cue_outweighs_case_number_word() -> None:
    assert found("sagsnr 4455, ring 22334455") == [("phone", "22334455")]


# ---------------------------------------------------------------------------------------------
# E-mail addresses
# ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "email",
    [
        "mette.h@gmail.com",
        "lars_1982@hotmail.dk",
        "mette+kommune@gmail.com",
        "Kasper.Holm@aarhus.dk",
        "jens@mail.tele.dk",
        "HANS.P@GMAIL.COM",
        "søren@æblehaven.dk",
        "formand@fck-ungdom.nu",
        "freja@gmail",  # a well-known provider without its top-level domain
    ],
)
def test_email_plain(email: str) -> None:
    assert found(f"Skriv til {email}.") == [("email", email)]


@pytest.mark.parametrize(
    "email",
    [
        "jens at gmail dot com",
        "anna [at] outlook [dot] com",
        "lise(at)gmail.com",
        "kim (at) firma (dot) dk",
        "ole snabel-a mail punktum dk",
        "jens at gmail.com",
        "freja(a)gmail.com",
        "louise(@)gmail.com",
        "sara{at}mail.dk",
        "freja @ gmail . com",
        "anne_m @ outlook.dk",
        "rikke.s@ gmail.com",
        "trine @gmail.com",
        "hanne snabel a stofanet punktum dk",
        "ib.j (snabel-a) jubii . dk",
        "mor2tvillinger AT yahoo DOT dk",
        "peter punktum nielsen at gmail punktum com",
        "bo.holm＠gmail.com",
        "freja[at]gmail[.]com",
    ],
)
def test_email_obfuscated(email: str) -> None:
    assert found(f"Min mail er {email} tak") == [("email", email)]


@pytest.mark.parametrize(
    "text",
    [
        "Jeg håber at I læser det her",
        "Det er godt at aula.dk virker igen",
        "Følg @aarhuskommune på Instagram",
        "Se mere på www.aarhus.dk",
        "Mødet er kl. 10 @ rådhuset",
        "Det er svært at finde ud af at gmail er blokeret på skolens net",
        "Husk at tjekke hjemmesiden aarhus.dk for nyt",
        "snabel-a tasten virker ikke på skolens ipads",
        "Det skal være slut med at gå på kompromis. Punktum.",
        "vi mødes @ hallen. Det er kl. 16",
        "Min mail er @gmail.com",  # only a domain
    ],
)
def test_email_negatives(text: str) -> None:
    assert "email" not in kinds(text)


# ---------------------------------------------------------------------------------------------
# Street addresses
# ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "address"),
    [
        ("Jeg bor på Storegade 12 med min familie", "Storegade 12"),
        ("Vores adresse er Nørre Allé 3, 2. tv, og vi venter", "Nørre Allé 3, 2. tv"),
        ("Vi bor på Vestervej 4B.", "Vestervej 4B"),
        ("Trafikken på Skolevej 14, 8210 Aarhus V er farlig", "Skolevej 14, 8210 Aarhus V"),
        ("H.C. Andersens Boulevard 40, 4. th", "H.C. Andersens Boulevard 40, 4. th"),
        ("Jens Baggesens Vej 12 trænger til asfalt", "Jens Baggesens Vej 12"),
        ("Frederiks Allé 105, st. tv har skimmel", "Frederiks Allé 105, st. tv"),
        ("Adresse: Østergade 7, 3. sal, 7400 Herning", "Østergade 7, 3. sal, 7400 Herning"),
        ("jeg bor på storegade 12", "storegade 12"),
        ("Hul i vejen ud for Åboulevarden 80.", "Åboulevarden 80"),
        ("Bøgevej 1-3 er en ejendom", "Bøgevej 1-3"),
        ("Gl. Kongevej 101, 1. th har fået nye vinduer", "Gl. Kongevej 101, 1. th"),
    ],
)
def test_address_positives(text: str, address: str) -> None:
    assert found(text) == [("address", address)]


@pytest.mark.parametrize(
    "text",
    [
        "Der kører biler for stærkt på Ringvejen",
        "Jeg cykler på Ringvejen 2 gange om dagen",
        "Hovedgaden 100 meter længere nede mangler lys",
        "Legepladsen 3 gange om ugen er for lidt",
        "legeplads 2 er den bedste",
        "storegade 12 er fin",  # lower case without a cue
        "Vi bor i 8000 Aarhus C",
        "Ved Vejen 3 kan man se søen",
        "Vi skal have 12 nye computere",
        "Motorvej 18 larmer",
    ],
)
def test_address_negatives(text: str) -> None:
    assert "address" not in kinds(text)


# ---------------------------------------------------------------------------------------------
# First names
# ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "name"),
    [
        ("Min søn Malthe på 7 år bliver drillet", "Malthe"),
        ("Tak til pædagogen Susanne i Solsikken", "Susanne"),
        ("Emma er 9 år og tør ikke gå alene", "Emma"),
        ("Hej, jeg hedder Noah og går i 6. klasse", "Noah"),
        ("Skolelederen Hanne Mortensen har gjort det godt", "Hanne Mortensen"),
        ("Mvh Lone", "Lone"),
        ("Emils mor ringede", "Emils"),
        ("Anne-Sofie på 6 år", "Anne-Sofie"),
        ("jeg hedder mikkel og vil have cykler", "mikkel"),
        ("min bror aske er 10", "aske"),
        ("Vores datter lærke går i 0.b", "lærke"),
        ("Min søn Storm på 3 år", "Storm"),
        ("Tak Bo og resten af personalet", "Bo"),
        ("/Peter", "Peter"),
        ("ham mads fra klassen", "mads"),
        ("HEJ JEG HEDDER EMIL", "EMIL"),
        ("Jeg hedder Ayaan og er 14", "Ayaan"),  # not on the lists, but after "jeg hedder"
        ("Vores pige Nohr er 5", "Nohr"),
        ("Fru Jensen er vores lærer", "Jensen"),
        ("Læreren Lars Ø. Pedersen er god", "Lars Ø. Pedersen"),
        ("Mark er syg i dag", "Mark"),  # ambiguous at sentence start, but a person verb
        ("Lærke elsker at gå i børnehave", "Lærke"),
        ("Tak for en god dag i klubben – Mette", "Mette"),
    ],
)
def test_name_positives(text: str, name: str) -> None:
    assert found(text) == [("name", name)]


@pytest.mark.parametrize(
    "text",
    [
        "Mark og skov omkring byen skal beskyttes",
        "Sol og vind på legepladsen",
        "Storm og regn har ødelagt stien",
        "Lærke og solsort synger i haven",
        "Kim i kagen er at de unge ikke bliver hørt",
        "Per dag bruger min søn 2 timer i bussen",
        "Hans mor var med til mødet",
        "Bo tæt på naturen og få gode skoler",
        "Ask og eg i skoven skal bevares",
        "Is er det bedste om sommeren",
        "Eg er et hårdt træ",
        "Sol, sommer og is på stranden",
        "Andre børn har det svært",
        "Hos os er der ro",
        "Du kan komme forbi",
        "Han er sød, Hun er sød, De er søde",
        "Min mor siger nej",
        "To børn og en voksen",
        "Sankt Hans bålet var hyggeligt",
        "I August flytter vi, og 1. August starter skolen",
        "Kan I ringe til os?",
        "vi spiser is hver dag og per uge bliver det til meget",
        "Vi bor i Aarhus og handler i Netto",
        "Mark er oversvømmet efter regnen",
        "Den lokale øl hedder Manta",
        "Vi har en ny pædagog Og hun er sød",
        "Fly med Delta Air Lines eller med San Francisco som mål",
        "Hun blev indlagt på James Paget Hospital",
    ],
)
def test_name_negatives_common_words(text: str) -> None:
    assert "name" not in kinds(text)


@pytest.mark.parametrize(
    ("text", "name"),
    [
        ("pædagogen LONE råber ad børnene", "LONE"),
        ("min lærer mette er den bedste", "mette"),
        ("MIN DATTER SOFIE KAN IKKE FÅ EN PLADS!!!", "SOFIE"),
        ("Buschaufføren PER er altid sur", "PER"),  # "per" is also a word: a cue is needed
        ("pædagog BO er den eneste der lytter", "BO"),
        ("sagsbehandleren annette har ikke ringet", "annette"),
        ("MVH KAREN", "KAREN"),
        ("kh noahs mor", "noahs"),  # a name in the genitive before kin
    ],
)
def test_names_in_lower_case_or_capitals_after_a_cue(text: str, name: str) -> None:
    assert found(text) == [("name", name)]


@pytest.mark.parametrize(
    "text",
    [
        "pædagogen LØB efter min søn",  # capitals after a cue, but no name
        "min lærer SIGER at vi ikke må gå ud",
        "min søn ELSKER den nye bane!!",
        "vores nabo HAR en trampolin",
        "chaufføren MÅ IKKE køre så stærkt",
        "min lærer er super sød",
        "Hans mor var med til mødet",  # "hans" (his) before kin is no genitive name
        "Vi mangler mælk og frugt, og en sol på muren",
        "Jul i klubben var det bedste",
        "kære kommune, hvorfor er der ingen bænke",
    ],
)
def test_capitals_and_cues_without_a_name(text: str) -> None:
    assert detect_personal_data(text) == []


# ---------------------------------------------------------------------------------------------
# Licence plates
# ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "plate"),
    [
        ("Bilen AB 12 345 holder på fortovet", "AB 12 345"),
        ("ZK99122 kører alt for stærkt", "ZK99122"),
        ("Lastbilen AX 18345 læsser af kl. 5", "AX 18345"),
        ("Bilen AB-12-345 holder der", "AB-12-345"),
        ("Plade KL 29 905 – sort BMW", "KL 29 905"),
        ("Skolebussen (BD 37 901) kom for sent", "BD 37 901"),
        ("den grå bil med plade ey 81 447 holder der", "ey 81 447"),  # lower case after a cue
    ],
)
def test_plates(text: str, plate: str) -> None:
    assert found(text) == [("plate", plate)]


@pytest.mark.parametrize(
    "text",
    [
        "det koster 12 345 kr for et år i SFO",
        "OK 12 345 kr for en bænk??",
        "PS 12 345 har skrevet under",
        "ca 12 345 børn",  # lower case, no car or plate word
        "Ca. 12 345 mennesker",
        "Linje 5A og 13, E45, A4 papir, iPhone 12, VW T5 fra 2012, FIFA 24",
        "DKK 4 995 for en lejrskole",
        "Vi sparede 12 345 kr.",
    ],
)
def test_plate_look_alikes(text: str) -> None:
    assert detect_personal_data(text) == []


@settings(max_examples=150, deadline=None)
@given(
    st.text(alphabet="ABCDEFGHJKLMNPRSTUVXYZ", min_size=2, max_size=2),
    st.integers(10_000, 99_999),
    st.sampled_from(["{l} {a} {b}", "{l}{a}{b}", "{l} {a}{b}", "{l}\u00a0{a}\u00a0{b}"]),
)
def test_any_danish_plate_is_a_plate(letters: str, number: int, layout: str) -> None:
    digits = str(number)
    plate = layout.format(l=letters, a=digits[:2], b=digits[2:])
    text = f"Bilen {plate} holder der hver dag"
    if letters in identifiers_module._NOT_PLATE_LETTERS:
        assert "plate" not in kinds(text)
    else:
        assert found(text) == [("plate", plate)]


# ---------------------------------------------------------------------------------------------
# Social media handles and profile links
# ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "handle"),
    [
        ("skriv til mig på insta @frejaa.nielsen hvis i vil", "@frejaa.nielsen"),
        ("add mig snap: mikkel_2009", "mikkel_2009"),
        ("insta: nanna_lykke ❤️", "nanna_lykke"),
        ("snap: mikkel", "mikkel"),  # a plain word that ends the answer
        ("jeg er på bereal som idafrederikke og jeg tager billeder", "idafrederikke"),
        ("min insta er signe.bjerre hvis i vil se tegningerne", "signe.bjerre"),
        ("profilen hedder snapdaddy_1987 på snapchat", "snapdaddy_1987"),
        ("sc laerke.hansen2 👻", "laerke.hansen2"),
        ("Se min post på facebook.com/lene.kjaergaard.5, mange er enige", None),
        ("Billeder her https://www.instagram.com/emmaslivet/", None),
        ("tiktok.com/@mads.skater der kan I se det", None),
        ("YouTube-kanalen youtube.com/@FamilienBoeg har filmet det", None),
        ("Linkedin: linkedin.com/in/anne-sofie-lund (jeg vil gerne hjælpe)", None),
        ("facebook.com/ErikDKpolitik skriver om det", "facebook.com/ErikDKpolitik"),
        ("se vm.tiktok.com/ZMabc123/ nu", "vm.tiktok.com/ZMabc123/"),
        ("facebook.com/profile.php?id=100012345678.", "facebook.com/profile.php?id=100012345678"),
        ("brugernavnet er xXdragonXx", "xXdragonXx"),
        ("gamertag: NoobMaster69", "NoobMaster69"),
    ],
)
def test_handles(text: str, handle: str | None) -> None:
    handles = [f.text for f in detect_personal_data(text) if f.kind == "handle"]
    assert len(handles) == 1, handles
    if handle is None:  # a profile link: up to the next space or comma
        assert re.search(r"\.(?:com|net|tv)/", handles[0])
    else:
        assert handles == [handle]


@pytest.mark.parametrize(
    "text",
    [
        "jeg er på insta hele tiden og ser andre have det sjovt",
        "tiktok gør mine børn dumme ærligt",
        "vi mødes @ hallen efter skole",
        "@ alle forældre: husk at stemme 🙂",
        "Hej @alle, husk madpakke",
        "Følg @aarhuskommune på Instagram",  # an institution, not a person
        "Følg os på facebook.com/vestbykommune",
        "Læs mere på facebook.com eller på kommunens side",
        "Jeg så det på tiktok: børn der klatrer på taget af hallen",
        "Snap: alt for mange børn har det fra 2. klasse",
        "min snap er privat",
        "Husk f.eks. tiktok og bl.a. snap, og aarhus.dk",
        "#skaterbanenu",
        "Min mail er @gmail.com, skriv til @example.dk",  # domains
        "snap score er vigtigere end lektier for dem 🙄",
    ],
)
def test_handle_look_alikes(text: str) -> None:
    assert "handle" not in kinds(text)


_HANDLE_PIECES = st.sampled_from(
    [
        "",
        " ",
        "snap",
        "insta",
        ": ",
        " som ",
        "min ",
        " er ",
        "mikkel_2009",
        "frejaa",
        "@maja.x",
        "@",
        "facebook.com/",
        "Facebook.COM/lene.k",
        "tiktok.com/@mads",
        "aarhus.dk/",
        "/",
        " og",
        "!",
        "hele tiden",
        "kommune",
    ]
)


class _EveryWord(frozenset):
    """A set that meets every other: ``isdisjoint`` is always False (no quick test)."""

    def isdisjoint(self, other: object) -> bool:
        return False


_EVERY_WORD = _EveryWord()


@settings(max_examples=400, deadline=None)
@given(st.lists(_HANDLE_PIECES, max_size=8).map("".join))
def test_the_quick_tests_of_the_handle_patterns_change_nothing(text: str) -> None:
    quick = list(identifiers_module.find_handles(text))
    with (
        mock.patch.object(identifiers_module, "_PLATFORM_RUNS", _EVERY_WORD),
        mock.patch.object(identifiers_module, "_LINK_HINTS", ("",)),
    ):
        full = list(identifiers_module.find_handles(text))
    assert quick == full


# ---------------------------------------------------------------------------------------------
# ID numbers
# ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "number"),
    [
        ("Jeg kan ikke logge ind med MitID, mit bruger-ID er 938 274 615", "938 274 615"),
        ("NemID nr 4471928305 virker ikke længere", "4471928305"),
        ("mitid: 8823419076", "8823419076"),
        ("Kundenummer 1102938475 – jeg har betalt to gange", "1102938475"),  # a valid date too
        ("Pasnummer 209876543, jeg skal have et nyt pas", "209876543"),
        ("medlemsnr. 40029117 i svømmeklubben", "40029117"),  # eight digits, not a phone
        ("brugernummer 90817263 på biblioteket", "90817263"),
        ("kørekortnummer 34128811 til kørselsgodtgørelsen", "34128811"),
        ("ID: 5520 3311 87", "5520 3311 87"),
        ("mitid bruger-id 729-184-553 virker ikke", "729-184-553"),
        ("Borgeren skrev sit MitID-nummer (661 902 347) i feltet", "661 902 347"),
    ],
)
def test_id_numbers(text: str, number: str) -> None:
    assert found(text) == [("id_number", number)]


@pytest.mark.parametrize(
    "text",
    [
        "Ordrenummer 4501234567 er aldrig kommet",  # an order is not a person
        "Sagsnummer 2024-012345 har ligget hos jer",
        "123 456 789 myg i haven i år haha",  # a long number nobody presents as an ID
        "MitID-appen spurgte om 6 cifre og så låste den",
        "det tog 45 minutter at få et nyt MitID",
        "id-kort til unge koster 150 kr",
        "Pas på: 120 000 biler kører forbi om dagen",
        "pasnummer udløb 12-03-2025",  # a date
        "Medlemsnummer og kontingent: 1 200 000 kr i alt",
        "Der er 2 x 45 min idræt om ugen, 123456 minutter om året",
    ],
)
def test_id_number_look_alikes(text: str) -> None:
    assert "id_number" not in kinds(text)


# ---------------------------------------------------------------------------------------------
# A class at a named school
# ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "school_class"),
    [
        ("Min datter går i 2.b på Vestby Skole og", "2.b på Vestby Skole"),
        ("7.A på Nørre Skole har ikke haft dansk", "7.A på Nørre Skole"),
        ("min søn i 4.c på Holmegårdsskolen bliver drillet", "4.c på Holmegårdsskolen"),
        ("vi er 9.b fra Risskov Skole og", "9.b fra Risskov Skole"),
        ("5B på Skovvangskolen savner en legeplads", "5B på Skovvangskolen"),
        ("Vi er forældre i 3.d, Vestre Skole, og", "3.d, Vestre Skole"),
        ("Nørre Skoles 6.a skal på lejrskole", "Nørre Skoles 6.a"),
        ("Katedralskolens 2.g er søde", "Katedralskolens 2.g"),
        ("2.b på Vestby Lilleskole har ingen lærer", "2.b på Vestby Lilleskole"),
        ("10.C på Egebjerg Efterskole vil have en bus", "10.C på Egebjerg Efterskole"),
        ("2.y på Sankt Knuds Skole har fået et klasseværelse", "2.y på Sankt Knuds Skole"),
        ("hej vi er 8.b på hasle skole og vi vil ha pauser", "8.b på hasle skole"),
        ("min søn går i 2B på vestbyskolen", "2B på vestbyskolen"),
        ("2.b på Vestby Friskole", "2.b på Vestby Friskole"),
    ],
)
def test_school_classes(text: str, school_class: str) -> None:
    assert found(text) == [("class", school_class)]


@pytest.mark.parametrize(
    "text",
    [
        # A grade, a class or a school alone is shared by many children: not flagged.
        "Min søn går i 7. klasse og har alt for mange lektier",
        "7. klasse på Nørre Skole skal på lejrskole til Bornholm",
        "9. årgang på Risskov Skole har fået ny inspektør",
        "i 2.b er der 28 børn og kun én voksen",
        "Vestby Skole mangler lærere",
        "Vi har 3 børn på Vestby Skole, i 1., 4. og 7. klasse",
        "fra 2.b til 9.c har de samme problem",
        "min datter startede i børnehaveklassen på Bakkeskolen",
        "i 2.b på skolen er der larm",
        "2.b på den nye skole og 3.a på vores skole",
        "2.b på Folkeskolen og 3.a på ungdomsskolen",  # kinds of school, not names
    ],
)
def test_school_class_look_alikes(text: str) -> None:
    assert "class" not in kinds(text)


def test_lexicon_is_loaded_once_and_sane() -> None:
    lex = lexicon()
    assert lexicon() is lex
    assert {"jens", "mette", "emma", "noah", "malthe", "fatima", "mohammed"} <= lex.names
    assert {"mark", "sol", "storm", "per", "hans", "bo", "kim"} <= lex.ambiguous
    assert not ({"du", "han", "hun", "de", "min", "to"} & lex.names)
    assert len(lex.names) > 5000


def test_name_list_file_carries_source_and_license() -> None:
    data = Path(__file__).parents[2] / "surveys" / "privacy" / "data"
    header = (data / "first_names_da.txt").read_text(encoding="utf-8")[:2000]
    assert "Jörg MICHAEL" in header
    assert "GNU Free Documentation License" in header
    assert (data / "GFDL-1.2.txt").read_text(encoding="utf-8").lstrip().startswith("GNU Free")


def test_nam_dict_parser_reads_fixed_columns(tmp_path: Path) -> None:
    # nam_dict.txt layout: gender in columns 0-1, name in columns 3-28, a sort mark in column
    # 29, one hex frequency digit per country from column 30 (Great Britain 1st, Denmark 17th).
    def line(sex: str, name: str, freqs: dict[int, str]) -> str:
        cols = [" "] * 56
        for index, value in freqs.items():
            cols[index] = value
        return f"{sex:<3}{name:<26} " + "".join(cols) + "$"

    content = "\n".join(
        [
            "# comment line",
            line("M", "Aage", {16: "7"}),
            line("F", "Rarename", {0: "1"}),
            line("F", "Popular", {2: "A"}),
            "=  Abbi Abigail",
        ]
    )
    path = tmp_path / "nam_dict.txt"
    path.write_text(content + "\n", encoding="utf-8")
    names = parse_nam_dict(path)
    assert names["Aage"] == {"denmark": 7}
    assert names["Popular"] == {"usa": 10}
    assert select(names) == ["Aage", "Popular"]


# ---------------------------------------------------------------------------------------------
# Combined findings, redaction and offsets
# ---------------------------------------------------------------------------------------------


def test_findings_sorted_non_overlapping_with_exact_text() -> None:
    text = (
        "Kontakt: Lise Holm, lise.holm@live.dk, 29 88 71 03. Vi bor på Jens Baggesens Vej 12 "
        "og min søn Emil (cpr 120388-1234) går i 2.b 🙂"
    )
    findings = detect_personal_data(text)
    assert [(f.kind, f.text) for f in findings] == [
        ("name", "Lise Holm"),
        ("email", "lise.holm@live.dk"),
        ("phone", "29 88 71 03"),
        ("address", "Jens Baggesens Vej 12"),
        ("name", "Emil"),
        ("cpr", "120388-1234"),
    ]
    for f in findings:
        assert text[f.start : f.end] == f.text
    with pytest.raises(dataclasses.FrozenInstanceError):
        findings[0].kind = "x"  # type: ignore[misc]
    assert contains_personal_data(text)
    assert not contains_personal_data("Flere bænke i parken, tak.")
    assert detect_personal_data("") == []


def test_redact_with_emoji_and_multibyte_text() -> None:
    text = "👨‍👩‍👧 Hej! Min søn Åge 🎉 ringer fra 22 33 44 55 – tak ❤️"
    findings = detect_personal_data(text)
    assert [(f.kind, f.text) for f in findings] == [("name", "Åge"), ("phone", "22 33 44 55")]
    redacted = redact(text, [(f.start, f.end) for f in findings])
    assert redacted == "👨‍👩‍👧 Hej! Min søn [fjernet] 🎉 ringer fra [fjernet] – tak ❤️"
    assert redact(text, [(f.start, f.end) for f in findings], placeholder="█") == (
        "👨‍👩‍👧 Hej! Min søn █ 🎉 ringer fra █ – tak ❤️"
    )


def test_redact_merges_overlaps_and_validates() -> None:
    text = "abcdefghij"
    assert redact(text, [(2, 5), (4, 7), (7, 8)]) == "ab[fjernet]ij"
    assert redact(text, [(8, 10), (0, 1)], placeholder="*") == "*bcdefgh*"
    assert redact(text, [(3, 3)]) == text
    assert redact(text, []) == text
    for bad in [(-1, 2), (5, 4), (0, 11)]:
        with pytest.raises(ValueError):
            redact(text, [bad])


def test_utf16_offsets_for_javascript() -> None:
    text = "😀 Emil"
    (f,) = detect_personal_data(text)
    assert (f.start, f.end) == (2, 6)
    assert utf16_offsets(text, f.start, f.end) == (3, 7)


_ALPHABET = list("aæø Å1234567890-+@.,:()\n😀EmilSørenKaj＠１２－_/AB")


@settings(max_examples=150, deadline=None)
@given(st.text(alphabet=st.sampled_from(_ALPHABET), max_size=80))
def test_findings_are_consistent_for_any_text(text: str) -> None:
    findings = detect_personal_data(text)
    previous_end = 0
    for f in findings:
        assert isinstance(f, Finding)
        assert previous_end <= f.start < f.end <= len(text)
        assert text[f.start : f.end] == f.text
        previous_end = f.end
    redacted = redact(text, [(f.start, f.end) for f in findings], placeholder="")
    assert len(redacted) == len(text) - sum(f.end - f.start for f in findings)


@settings(max_examples=150, deadline=None)
@given(
    st.dates(),
    st.integers(0, 9999),
    st.booleans(),
    st.sampled_from(["-", "", " ", "–"]),
)
def test_any_valid_birth_date_is_a_cpr(
    date: datetime.date, serial: int, replacement: bool, sep: str
) -> None:
    day = date.day + (60 if replacement else 0)
    cpr = f"{day:02d}{date.month:02d}{date.year % 100:02d}{sep}{serial:04d}"
    assert found(f"Her er nummeret {cpr} til sagen") == [("cpr", cpr)]


_FULLWIDTH_DIGITS = str.maketrans("0123456789-", "０１２３４５６７８９－")


@settings(max_examples=150, deadline=None)
@given(
    st.dates(),
    st.integers(0, 9999),
    st.sampled_from(
        ["{d}.{m}.{y}-{s}", "{d}/{m}/{y} - {s}", "{d}-{m}-{y}-{s}", "{d} {m} {y} {s}", "spaced"]
    ),
    st.booleans(),
)
def test_any_birth_date_with_dots_spaces_or_fullwidth_digits_is_a_cpr(
    date: datetime.date, serial: int, layout: str, fullwidth: bool
) -> None:
    d, m, y, s = f"{date.day:02d}", f"{date.month:02d}", f"{date.year % 100:02d}", f"{serial:04d}"
    if layout == "spaced":
        cpr = " ".join(d + m + y) + " - " + " ".join(s)
    else:
        cpr = layout.format(d=d, m=m, y=y, s=s)
    if fullwidth:
        cpr = cpr.translate(_FULLWIDTH_DIGITS)
    assert found(f"Her er nummeret {cpr} til sagen") == [("cpr", cpr)]


@settings(max_examples=150, deadline=None)
@given(
    st.integers(20_000_000, 99_999_999),
    st.sampled_from(["{a}{b}{c}{d}", "{a} {b} {c} {d}", "{a}{b} {c}{d}", "{a}{b}-{c}{d}"]),
    st.sampled_from(["", "+45 ", "0045 ", "(+45) ", "+45"]),
)
def test_any_danish_mobile_number_is_a_phone(number: int, layout: str, prefix: str) -> None:
    s = str(number)
    phone = prefix + layout.format(a=s[0:2], b=s[2:4], c=s[4:6], d=s[6:8])
    assert found(f"Ring til mig på {phone} i aften") == [("phone", phone)]


# ---------------------------------------------------------------------------------------------
# Labelled answer sets
# ---------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def labelled() -> dict[str, list[LabelledAnswer]]:
    missed_dev, missed_heldout = split_halves(load_labelled(MISSED))
    return {
        "dev": load_labelled(DEV),
        "heldout": load_labelled(HELDOUT),
        "missed_dev": missed_dev,
        "missed_heldout": missed_heldout,
    }


def test_labelled_parser() -> None:
    answer = parse_labelled_line("Ring [[phone:22 33 44 55]]\\nHilsen [[name:Bo]]")
    assert answer.text == "Ring 22 33 44 55\nHilsen Bo"
    assert [(g.kind, answer.text[g.start : g.end]) for g in answer.gold] == [
        ("phone", "22 33 44 55"),
        ("name", "Bo"),
    ]
    assert parse_labelled_line("ID [[id_number:938 274 615]]").gold[0].kind == "id_number"
    with pytest.raises(ValueError):
        parse_labelled_line("[[zip:8000]]")


def test_labelled_sets_size_and_mix(labelled: dict[str, list[LabelledAnswer]]) -> None:
    answers = labelled["dev"] + labelled["heldout"]
    assert len(labelled["dev"]) >= 200
    clean = sum(1 for a in answers if not a.gold)
    assert clean / len(answers) >= 0.6
    for kind in ("cpr", "phone", "email", "address", "name"):
        assert sum(g.kind == kind for a in answers for g in a.gold) >= 10, kind


@pytest.mark.parametrize("which", ["dev", "heldout", "all"])
def test_labelled_recall_cpr_phone_email(
    labelled: dict[str, list[LabelledAnswer]], which: str
) -> None:
    answers = labelled["dev"] + labelled["heldout"] if which == "all" else labelled[which]
    report = evaluate(answers)
    for kind in ("cpr", "phone", "email"):
        score = report.by_kind[kind]
        assert score.gold > 0
        assert score.recall >= 0.98, (kind, score.misses)


def test_missed_kinds_set_size_mix_and_split(labelled: dict[str, list[LabelledAnswer]]) -> None:
    answers = labelled["missed_dev"] + labelled["missed_heldout"]
    with_data = [a for a in answers if a.gold]
    assert len(with_data) >= 100
    assert len(answers) - len(with_data) >= len(with_data)  # as many look-alikes
    for kind in ("cpr", "email", "name", "plate", "handle", "id_number", "class"):
        assert sum(g.kind == kind for a in with_data for g in a.gold) >= 10, kind
    # The split depends on each text alone: the same in any order, and both halves are used.
    again_dev, again_heldout = split_halves(reversed(answers))
    assert {a.text for a in again_dev} == {a.text for a in labelled["missed_dev"]}
    assert {a.text for a in again_heldout} == {a.text for a in labelled["missed_heldout"]}
    assert min(len(labelled["missed_dev"]), len(labelled["missed_heldout"])) > 100


@pytest.mark.parametrize("which", ["missed_dev", "missed_heldout"])
def test_missed_kinds_recall_and_false_alarms(
    labelled: dict[str, list[LabelledAnswer]], which: str
) -> None:
    """Targets of issue 20: recall >= 0.98, answers without personal data flagged <= 3 %."""
    report = evaluate(labelled[which])
    assert report.answer_recall >= 0.98
    assert report.clean_flag_rate <= 0.03
    for kind, score in report.by_kind.items():
        assert score.recall >= 0.98, (kind, score.misses)
        assert score.precision >= 0.95, (kind, score.false_alarms)


def test_redacted_answers_have_nothing_left_to_find(
    labelled: dict[str, list[LabelledAnswer]],
) -> None:
    """Removing every finding leaves nothing the guard flags (the placeholder is harmless)."""
    for answer in [a for answers in labelled.values() for a in answers]:
        findings = detect_personal_data(answer.text)
        redacted = redact(answer.text, [(f.start, f.end) for f in findings])
        assert detect_personal_data(redacted) == [], (answer.text, redacted)


def test_labelled_precision_and_name_recall_floors(
    labelled: dict[str, list[LabelledAnswer]],
) -> None:
    # Regression floors, well below the figures in bench/guard/RESULTS.md.
    report = evaluate(labelled["dev"] + labelled["heldout"])
    for kind in ("cpr", "phone", "email", "address"):
        assert report.by_kind[kind].precision >= 0.95, (kind, report.by_kind[kind].false_alarms)
    assert report.by_kind["address"].recall >= 0.9
    assert report.by_kind["name"].recall >= 0.85
    assert report.by_kind["name"].precision >= 0.85
    assert report.clean_flag_rate <= 0.05


# ---------------------------------------------------------------------------------------------
# Speed
# ---------------------------------------------------------------------------------------------


def test_speed_1000_answers_under_2_seconds(labelled: dict[str, list[LabelledAnswer]]) -> None:
    warm_up()
    texts = [a.text for a in labelled["dev"] + labelled["heldout"]]
    batch = (texts * (1000 // len(texts) + 1))[:1000]
    start = time.perf_counter()
    for text in batch:
        detect_personal_data(text)
    elapsed = time.perf_counter() - start
    assert elapsed < 2.0, elapsed


def test_the_guards_tokenizer_keeps_memory_bounded(monkeypatch: pytest.MonkeyPatch) -> None:
    """Every new word adds strings to spaCy's store; past MAX_STRINGS a fresh tokenizer."""
    from surveys.privacy import names

    first = names.tokenizer()
    monkeypatch.setattr(names, "MAX_STRINGS", len(first.vocab.strings) + 300)
    for number in range(200):
        detect_personal_data(f"Ring til Mette på skolen{number} om ordet{number}")
    assert names.tokenizer() is not first
    assert [f.kind for f in detect_personal_data("Min søn Oliver går i 3. klasse")] == ["name"]


# --- the quick test before the tokenizer (names.might_name) -------------------------------

_SOME_NAMES = ["Emil", "emma", "Anne-Marie", "İhsan", "Jonas", "Mark", "Sol", "Per", "Ida"]
_AMBIGUOUS = ["ville", "andre", "tage", "mark", "sol", "VILLE", "per", "bo"]  # also words
_CUES = ["min søn", "datteren", "Fru", "hr.", "jeg hedder", "mit navn er", "mvh", "pædagogen"]
_WORDS = ["legepladsen", "er", "god", "og", "i", "skolen", "bus", "ven", "vores", "Mette's"]
_GLUE = [" ", ", ", ". ", "-", "'s ", "’", "/", "\n", "! ", " (6) ", "s ", "@", "🙂", "_"]


@settings(max_examples=400, deadline=None)
@given(
    st.lists(
        st.tuples(
            st.one_of(
                st.sampled_from(_SOME_NAMES + _AMBIGUOUS + _CUES + _WORDS),
                st.text(alphabet="abcdeæøåEIMSİ-'’.", min_size=1, max_size=8),
            ),
            st.sampled_from(_GLUE),
        ),
        max_size=10,
    )
)
def test_the_quick_name_test_never_skips_a_text_with_a_name(pieces: list[tuple[str, str]]):
    text = "".join(word + glue for word, glue in pieces)
    if names_module.might_name(text):
        return
    with mock.patch.object(names_module, "might_name", return_value=True):
        assert list(names_module.find_names(text)) == []


_PIECES = st.lists(
    st.tuples(st.sampled_from(_CUES + _WORDS + _AMBIGUOUS), st.sampled_from(_GLUE)), max_size=4
).map(lambda pieces: "".join(word + glue for word, glue in pieces))


@settings(max_examples=400, deadline=None)
@given(
    _PIECES,
    st.sampled_from(_CUES),
    st.sampled_from([" ", ": ", ", ", " (", "\n"]),
    st.text(alphabet="abcdeæøåzrx", min_size=1, max_size=7).map(str.capitalize),
    _PIECES,
)
def test_a_capitalised_word_after_a_naming_cue_is_never_skipped(
    before: str, cue: str, glue: str, word: str, after: str
) -> None:
    """Names not on the lists are flagged after a cue ("min søn Zorbax"): the quick test keeps
    every text with a capital letter after a cue, wherever other cues stand."""
    text = before + cue + glue + word + after
    with mock.patch.object(names_module, "might_name", return_value=True):
        flagged = list(names_module.find_names(text))
    if flagged:
        assert names_module.might_name(text), text


def test_the_quick_name_test_spares_the_tokenizer_for_most_answers():
    plain = "Flere bænke og mere skygge ved legepladsen, og en bus der kører om aftenen."
    assert not names_module.might_name(plain)
    with mock.patch.object(names_module, "tokenizer", side_effect=AssertionError("tokenized")):
        assert detect_personal_data(plain) == []
    for text in ("Min søn Emil er 7", "jeg hedder Zorbax", "Anne-Maries mor", "İhsan kom"):
        assert names_module.might_name(text), text
    # A naming cue that is no name counts when a capital letter follows it (after any cue).
    assert not names_module.might_name("Mere tid til det enkelte barn (og pædagogen)")
    with mock.patch.object(names_module, "tokenizer", side_effect=AssertionError("tokenized")):
        assert detect_personal_data("Mere tid til det enkelte barn, tak") == []
    assert names_module.might_name("min søn Zorbax og datteren")
    assert [f.text for f in detect_personal_data("min søn Zorbax og datteren")] == ["Zorbax"]
    # Ambiguous names in lower case are names only after a cue word ("min søn mark").
    assert not names_module.might_name("vi ville gerne have at andre kunne tage med")
    assert names_module.might_name("vi ville gerne have at sønnen ville med")
    assert [f.text for f in detect_personal_data("hilsen mark og min søn mark")] == ["mark"] * 2
    # Joined by a hyphen they are one name that is not ambiguous: a weak cue is enough.
    assert [f.text for f in detect_personal_data("ham ville-andre")] == ["ville-andre"]
    assert [f.text for f in detect_personal_data("jeg hedder Zorbax")] == ["Zorbax"]


def test_the_quick_name_test_agrees_on_every_labelled_answer():
    answers = [*load_labelled(DEV), *load_labelled(HELDOUT)]
    assert len(answers) > 100
    for answer in answers:
        if not names_module.might_name(answer.text):
            with mock.patch.object(names_module, "might_name", return_value=True):
                assert list(names_module.find_names(answer.text)) == [], answer.text


# The quick tests in front of the e-mail and address patterns are necessary conditions of those
# patterns: with them or without them the detectors find the same. The texts are built from
# the parts the patterns look for, in order, so that matches and near misses are common.
_NOISE = st.sampled_from(["", "Ring til ", "bor på ", "Skriv: ", " tak.", ", 8210 Aarhus", "\n"])
_EMAIL_LIKE = st.tuples(
    st.sampled_from(["anne", "a.b", "x", "Mor"]),
    st.sampled_from(
        [" at ", " (at) ", "[at]", " snabel-a ", "@", " AT ", " <at> ", " @ ", "(a)", " snabel a "]
    ),
    st.sampled_from(["gmail", "kommune", "mail.tele", "x-y", "skolen"]),
    st.sampled_from([".", " dot ", " [dot] ", "(punktum)", " prik ", " PRIK ", ". ", " . ", "[.]"]),
    st.sampled_from(["dk", "com", "co.uk", "dkx", "nu", "DK"]),
)
_ADDRESS_LIKE = st.tuples(
    st.sampled_from(["Storegade", "Nørre Allé", "Jens Baggesens Vej", "storegade", "Vej"]),
    st.sampled_from([" ", "\u00a0", "  ", ""]),
    st.sampled_from(["12", "1", "0", "3B", "4 B", "1-3", "120"]),
    st.sampled_from(["", ", 2. tv", ", 8210 Aarhus V", " gange", "."]),
)


@settings(max_examples=400, deadline=None)
@given(_NOISE, st.one_of(_EMAIL_LIKE, _ADDRESS_LIKE).map("".join), _NOISE)
def test_the_quick_tests_of_the_email_and_address_patterns_change_nothing(
    before: str, candidate: str, after: str
) -> None:
    text = before + candidate + after
    quick = list(patterns_module.find_emails(text)), list(patterns_module.find_addresses(text))
    with (
        mock.patch.object(patterns_module, "_OBFUSCATED_TAIL", re.compile("")),
        mock.patch.object(patterns_module, "_ADDRESS_HINT", re.compile("")),
    ):
        full = list(patterns_module.find_emails(text)), list(patterns_module.find_addresses(text))
    assert quick == full


@pytest.mark.parametrize(
    ("text", "kind"),
    [
        ("Skriv til anne [at] gmail [dot] com", "email"),
        ("anne at gmail.com", "email"),
        ("anne (at) skolen prik dk", "email"),
        ("mail: a@b.dk", "email"),
        ("Bor på Storegade 12, 2. tv", "address"),
        ("bor på storegade 12", "address"),
        ("Jens Baggesens Vej\u00a03", "address"),
        ("Nørre Allé 3", "address"),
    ],
)
def test_emails_and_addresses_pass_the_quick_tests(text: str, kind: str) -> None:
    assert [f.kind for f in detect_personal_data(text)] == [kind]
