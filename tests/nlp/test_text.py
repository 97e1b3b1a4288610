"""Danish text pipeline: normalisation, lemmas, stop words, clause units."""

from __future__ import annotations

import string

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from nlp.text import TextOptions, analyze, normalize_text


def lemmas(text: str, **opts: bool) -> list[list[str]]:
    return [u.lemmas for u in analyze([text], TextOptions(**opts))[0]]


def test_lowercases_and_strips_urls_emoji_mentions() -> None:
    text = "Se HER: https://kk.dk/boern?x=1 og www.test.dk 😀🎉 @mads #legeplads :)"
    out = normalize_text(text)
    assert out == out.lower()
    for gone in ("http", "www", "kk.dk", "😀", "🎉", "@mads", "#", ":)"):
        assert gone not in out
    assert "legeplads" in out


def test_restores_missing_danish_letters() -> None:
    assert normalize_text("flere baenke paa legepladsen") == "flere bænke på legepladsen"
    assert normalize_text("de er for smaa") == "de er for små"
    assert normalize_text("bornene") == "børnene"
    # Real words are left alone even if they contain the letter pairs.
    assert normalize_text("poesi og aerobic") == "poesi og aerobic"


def test_repairs_youth_spelling() -> None:
    assert normalize_text("suuuuper fedt") == "super fedt"
    assert normalize_text("det er ik ok") == "det er ikke ok"
    assert normalize_text("lol haha") == ""


def test_strip_noise_can_be_switched_off() -> None:
    assert "https" in normalize_text("https://x.dk", TextOptions(strip_noise=False))


def test_lemmas_lowercased_before_lookup_and_stop_words_removed() -> None:
    assert lemmas("Legepladserne mangler BÆNKE og Skygge") == [["legeplads", "bænk", "skygge"]]
    # Domain stop words ("børn", "godt") vanish; without the list they stay.
    assert lemmas("Børnene har det godt") == [[]]
    assert "barn" in lemmas("Børnene har det godt", domain_stop_words=False)[0]


def test_clock_times_leave_no_content_words() -> None:
    # "kl 17" says when, not what: neither the abbreviation nor the number is a theme word.
    words = [w for unit in lemmas("Klubben lukker kl 17 og kl. 22.30 i weekenden") for w in unit]
    assert "kl" not in words and not any(w[0].isdigit() for w in words)
    assert "klub" in words


def test_compound_fallback_lemmatises_unknown_compounds() -> None:
    assert lemmas("hundeposerne skaterbanen") == [["hundepose", "skaterbane"]]


def test_lemmatisation_can_be_switched_off() -> None:
    assert lemmas("legepladserne", lemmatize=False) == [["legepladserne"]]


def test_clause_and_sentence_units() -> None:
    text = "Flere cykelstier til skolen. Desuden nye gynger på legepladsen, men også skygge"
    units = lemmas(text)
    assert units[0] == ["cykelsti", "skole"]
    assert ["gynge", "legeplads", "skygge"] in units or ["gynge", "legeplads"] in units
    assert len(lemmas(text, split_clauses=False)) == 1


def test_short_clauses_merge_into_neighbours() -> None:
    # "men skygge" alone is too short to be a unit of its own.
    assert lemmas("nye gynger på legepladsen men skygge") == [["gynge", "legeplads", "skygge"]]


def test_empty_and_noise_only_answers_give_one_empty_unit() -> None:
    for text in ("", "   ", "😂😂", "lol", "https://x.dk"):
        units = analyze([text])[0]
        assert len(units) == 1 and units[0].lemmas == []


_ALPHABET = st.one_of(
    st.sampled_from([*"abcæøåABCÆØÅ .,!?:;-\n\t#@/", "aa", "oe", "ae", "😀", "🇩🇰", ":)"]),
    st.characters(codec="utf-8"),
)


@settings(max_examples=300, deadline=None)
@given(st.lists(_ALPHABET, max_size=40).map("".join))
def test_normalize_text_properties(text: str) -> None:
    out = normalize_text(text)
    assert normalize_text(out) == out  # idempotent
    assert out == out.strip()
    assert "  " not in out
    assert not any(ch in out for ch in "😀🇩🇰")
    assert all(ch.isprintable() or ch == "\n" for ch in out)
    assert out == out.lower() or any(c not in string.printable for c in out)


@settings(max_examples=100, deadline=None)
@given(st.lists(st.text(max_size=60), max_size=5))
def test_analyze_never_fails_and_keeps_one_entry_per_text(texts: list[str]) -> None:
    result = analyze(texts)
    assert len(result) == len(texts)
    for units in result:
        assert units
        for unit in units:
            assert len(unit.lemmas) == len(unit.surfaces)
            assert all(w and w == w.strip() for w in unit.lemmas)


def test_a_long_running_process_keeps_spacys_memory_bounded(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """spaCy's string store only grows; past MAX_STRINGS the pipeline is built anew."""
    from nlp import text

    monkeypatch.setattr(text, "MAX_STRINGS", len(text._spacy().vocab.strings) + 2000)
    first = text._spacy()
    text.analyze([f"ordet{i} og andet{i}" for i in range(100)])
    assert text._spacy() is first  # still under the limit
    text.analyze([f"nyt{i} og mere{i}" for i in range(1000)])
    fresh = text._spacy()
    assert fresh is not first
    assert len(fresh.vocab.strings) < len(first.vocab.strings)
    # The fresh pipeline lemmatises as before.
    assert text.analyze(["Børnene legede på legepladserne"])[0][0].lemmas
