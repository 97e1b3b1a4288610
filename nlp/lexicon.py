"""Word lists for the Danish text pipeline: domain stop words, youth spelling and lemma fixes.

Kept small and explicit on purpose; `bench/themes/quality.py` measures what each list adds.
"""

from __future__ import annotations

# Words (lemmas) that nearly every answer on a citizen wall shares, so they carry no theme.
# spaCy's Danish stop words are added on top of these.
DOMAIN_STOP_WORDS: frozenset[str] = frozenset(
    str.split(
        """
    barn børn unge ung ungdom voksen forældre forælder folk person menneske mennesker
    god godt dårlig dårligt bedre bedst fin fint fed fedt nice sej sejt cool kedelig dejlig
    rigtig virkelig helt ret mega vildt super total totalt virkeligt meget mere mest bare
    synes synas tro tænke mene ønske gerne håbe føle vide syne sige snakke
    ville skulle kunne måtte burde have få gå komme give tage se stå ligge sætte bruge
    gøre lave være blive hedde finde ting del måde gang tid år dag
    kommune kommunen by område lokal lokalt
    mangle brug behov gide trænge nødt vigtig problem savne
    ja nej okay ok tak hej hey lol haha hehe xd omg jo nå altså faktisk egentlig
    også osse bare lige ligesom sådan istedetfor
    sidst sidste første næste hel hele helt
    en to tre fire fem seks syv otte ni ti tyve hundrede tusind kl
        """
    )
)

# What the personal-data guard's redaction puts where it removed a name or a number (lower
# case, as the normaliser sees it). Never a word of an answer: removed before anything else.
PLACEHOLDERS: tuple[str, ...] = ("[fjernet]",)

# Common youth / SMS spellings (after lowercasing) -> standard Danish word(s).
SLANG: dict[str, str] = {
    "ik": "ikke",
    "ikk": "ikke",
    "ka": "kan",
    "sku": "skulle",
    "sgu": "",
    "ha": "have",
    "hva": "hvad",
    "bli": "blive",
    "ku": "kunne",
    "te": "til",
    "å": "og",
    "o": "og",
    "osse": "også",
    "ogs": "også",
    "osv": "",
    "mer": "mere",
    "nogn": "nogen",
    "noe": "noget",
    "dk": "danmark",
    "kbh": "københavn",
    "pga": "på grund af",
    "bla": "blandt andet",
    "tlf": "telefon",
    "insta": "instagram",
    "snap": "snapchat",
    "wi-fi": "wifi",
    "fritter": "fritidsklub",
    "lol": "",
    "haha": "",
    "hahaha": "",
    "hehe": "",
    "xd": "",
    "omg": "",
    "btw": "",
    "plz": "",
    "pls": "",
    "thx": "",
    "mvh": "",
}

# Entries of spacy-lookups-data's Danish lemma table that are wrong for our domain.
LEMMA_FIXES: dict[str, str] = {
    "godt": "god",
    "grønt": "grøn",
    "lys": "lys",
    "cykler": "cykel",
    "pauser": "pause",
    "toiletter": "toilet",
    "toiletterne": "toilet",
    "mobilen": "mobil",
    "unge": "ung",
    "lærer": "lærer",
}

# Fixed expressions whose words are not what a question asks about: "Hvad står i vejen for et
# godt ungeliv?" asks about obstacles, not roads, so "vej" must stay a possible theme word.
# Removed from question texts before their words are kept out of theme labels.
QUESTION_IDIOMS: tuple[str, ...] = (
    "i vejen for",
    "i vejen",
    "i gang med",
    "i gang",
    "på plads",
    "til rådighed",
    "til stede",
    "i stand til",
    "i orden",
    "til gavn for",
    "i forhold til",
    "på tværs af",
    "for eksempel",
)
