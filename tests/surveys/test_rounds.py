"""Rounds (surveys.rounds): a campaign run again, its questions compared with the earlier round."""

from __future__ import annotations

import itertools

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from surveys import rounds
from surveys.errors import Conflict, InvalidInput
from surveys.models import AuditEntry, Campaign, CodebookTheme, Moderation, Prompt
from surveys.results import OptionCount
from tests.factories import add_closed_prompts, make_staff, make_themed_run, make_wall, submit

_ids = itertools.count(1)


def _answer(session: Session, wall, prompt, value) -> None:  # type: ignore[no-untyped-def]
    submit(
        session,
        wall,
        prompt_id=prompt.id,
        value=value,
        text=None,
        client_submission_id=f"round-{next(_ids):06d}",
    )


def _next_round(session: Session, campaign: Campaign) -> Campaign:
    staff = make_staff(session, campaign.organisation)
    return rounds.run_again(
        session,
        staff,
        campaign,
        rounds.RoundInput(title="Unge stemmer 2027", slug="unge-2027", round_label="Forår 2027"),
    )


def test_running_again_copies_walls_questions_and_codebook(session: Session) -> None:
    wall = make_wall(session, "unge", moderation=Moderation.POST)
    q = add_closed_prompts(session, wall)
    session.add(CodebookTheme(campaign_id=wall.campaign_id, name="Natbus", keywords=["bus"]))
    session.commit()
    new = _next_round(session, wall.campaign)
    assert (new.previous_round_id, new.round_label) == (wall.campaign_id, "Forår 2027")
    assert wall.campaign.round_label  # the first round is named too
    (copy,) = new.walls
    assert copy.slug == "unge-2" and copy.is_open()
    assert [p.text for p in copy.prompts] == [p.text for p in wall.prompts]
    by_text = {p.text: p for p in copy.prompts}
    single = by_text[q["single"].text]
    assert single.previous_prompt_id == q["single"].id
    assert single.options == q["single"].options  # same ids: the rounds can be compared
    assert single.kind is q["single"].kind
    codebook = session.scalars(
        select(CodebookTheme.name).where(CodebookTheme.campaign_id == new.id)
    ).all()
    assert codebook == ["Natbus"]
    assert rounds.rounds_of(session, new) == [wall.campaign]
    entry = session.scalars(
        select(AuditEntry).where(AuditEntry.action == "campaign.run_again")
    ).one()
    assert entry.target_id == new.id


def test_a_round_needs_a_name_and_a_free_address(session: Session) -> None:
    wall = make_wall(session, "runde")
    staff = make_staff(session, wall.campaign.organisation)
    with pytest.raises(InvalidInput):
        rounds.run_again(session, staff, wall.campaign, rounds.RoundInput("Ny", "ny-runde", "   "))
    with pytest.raises(Conflict):  # the address is the first round's
        rounds.run_again(
            session,
            staff,
            wall.campaign,
            rounds.RoundInput("Ny", wall.campaign.slug, "Forår 2027"),
        )
    session.rollback()
    assert session.scalar(select(Prompt.id).where(Prompt.previous_prompt_id.is_not(None))) is None


def test_the_interval_of_a_difference_follows_newcombe() -> None:
    # Newcombe (1998), Statistics in Medicine 17: 873-890, table II, method 10 (score):
    # 56/70 against 48/80 gives 0.0524 to 0.3339; 0/10 against 0/20, -0.1611 to 0.2775.
    before = OptionCount("a", 48, 48 / 80, *_wilson(48, 80))
    after = OptionCount("a", 56, 56 / 70, *_wilson(56, 70))
    difference, low, high = rounds.share_difference(before, after)
    assert difference == pytest.approx(0.2)
    assert (low, high) == (pytest.approx(0.0524, abs=5e-5), pytest.approx(0.3339, abs=5e-5))
    none_then = OptionCount("a", 0, 0.0, *_wilson(0, 20))
    none_now = OptionCount("a", 0, 0.0, *_wilson(0, 10))
    _same, low, high = rounds.share_difference(none_then, none_now)
    assert (low, high) == (pytest.approx(-0.1611, abs=5e-5), pytest.approx(0.2775, abs=5e-5))


def _wilson(count: int, total: int) -> tuple[float, float]:
    from surveys.results import wilson_interval

    return wilson_interval(count, total)


def test_a_change_is_claimed_only_when_the_numbers_carry_it(session: Session) -> None:
    wall = make_wall(session, "foer", moderation=Moderation.POST)
    q = add_closed_prompts(session, wall)
    # spring 2026: 40 answers, 10 "Hjemme" (25 %); scale mostly 2
    for number in range(40):
        _answer(session, wall, q["single"], "o1" if number < 10 else "o3")
        _answer(session, wall, q["scale"], 2 if number < 30 else 4)
    new = _next_round(session, wall.campaign)
    copy = new.walls[0]
    single = next(p for p in copy.prompts if p.previous_prompt_id == q["single"].id)
    scale = next(p for p in copy.prompts if p.previous_prompt_id == q["scale"].id)
    # spring 2027: 40 answers, 30 "Hjemme" (75 %): a real change; scale mostly 4
    for number in range(40):
        _answer(session, copy, single, "o1" if number < 30 else "o3")
        _answer(session, copy, scale, 4 if number < 30 else 2)
    changes = rounds.compare_rounds(session, new)
    home = changes[single.id].options[0]
    assert home.before is not None and home.before.share == pytest.approx(0.25)
    assert home.after.share == pytest.approx(0.75)
    assert home.changed and home.low > 0
    club = changes[single.id].options[1]  # "I klubben": 0 % both times
    assert not club.changed
    mean = changes[scale.id].mean
    assert mean is not None and mean.changed and mean.low > 0
    assert mean.before == pytest.approx(2.5) and mean.after == pytest.approx(3.5)


def test_few_answers_never_claim_a_change(session: Session) -> None:
    wall = make_wall(session, "faa", moderation=Moderation.POST)
    q = add_closed_prompts(session, wall)
    for _ in range(4):
        _answer(session, wall, q["single"], "o1")
    new = _next_round(session, wall.campaign)
    single = next(p for p in new.walls[0].prompts if p.previous_prompt_id == q["single"].id)
    for _ in range(4):
        _answer(session, new.walls[0], single, "o3")
    change = rounds.compare_rounds(session, new)[single.id]
    assert not change.comparable
    assert not any(o.changed for o in change.options)  # 100 % to 0 %, but of four people


def test_themes_are_matched_across_rounds_and_only_real_changes_named(session: Session) -> None:
    wall = make_wall(session, "tema-foer")
    new = _next_round(session, wall.campaign)
    make_themed_run(
        session,
        wall,
        {
            "bus · natbus · køre": (["bus", "natbus", "køre"], 40),
            "skole · lærer": (["skole", "lærer", "klasse"], 30),
            "svømmehal · åbningstid": (["svømmehal", "åbningstid"], 30),
        },
    )
    make_themed_run(
        session,
        new.walls[0],
        {
            "natbus · bus · weekend": (["natbus", "bus", "weekend"], 10),  # 40 % -> 10 %
            "lærer · skole · frikvarter": (["lærer", "skole", "frikvarter"], 28),
            "ensomhed · venner": (["ensomhed", "venner"], 30),
        },
        other=32,
    )
    comparison = rounds.compare_themes(session, new)
    assert comparison is not None and (comparison.total_before, comparison.total_after) == (
        100,
        100,
    )
    by_label = {
        (c.after or c.before).theme.label: c  # type: ignore[union-attr]
        for c in comparison.changes
    }
    bus = by_label["natbus · bus · weekend"]
    assert bus.before is not None and bus.before.theme.label == "bus · natbus · køre"
    assert bus.trend is rounds.ThemeTrend.SHRANK and bus.high < 0
    assert len(bus.quotes_before) == 2 and len(bus.quotes_after) == 2
    assert by_label["lærer · skole · frikvarter"].trend is rounds.ThemeTrend.STEADY  # 30 -> 28
    assert by_label["ensomhed · venner"].trend is rounds.ThemeTrend.APPEARED
    assert by_label["svømmehal · åbningstid"].trend is rounds.ThemeTrend.DISAPPEARED
    # without themes in both rounds there is nothing to compare
    third = _next_round_named(session, new, "tema-3")
    assert rounds.compare_themes(session, third) is None


def _next_round_named(session: Session, campaign: Campaign, slug: str) -> Campaign:
    staff = make_staff(session, campaign.organisation)
    return rounds.run_again(session, staff, campaign, rounds.RoundInput("Tre", slug, "2028"))


def test_codebook_themes_match_by_name() -> None:
    from surveys.models import Theme

    before = [Theme(label="a", terms=["x"], codebook="Natbus"), Theme(label="b", terms=["y"])]
    after = [Theme(label="q", terms=["z"], codebook="Natbus"), Theme(label="b", terms=["y"])]
    assert sorted(rounds.match_themes(before, after)) == [(0, 0), (1, 1)]
