"""Results of closed questions (surveys.results): counts, intervals, follow-ups, groups."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy.orm import Session

from surveys import campaigns, results
from surveys.insights import OTHER_KEY
from surveys.models import Moderation, utcnow
from tests.factories import add_closed_prompts, make_staff, make_wall, submit

_ids = iter(range(10_000, 99_999))


def _send(session: Session, wall, prompt, value, text=None, **fields) -> None:  # type: ignore[no-untyped-def]
    submit(
        session,
        wall,
        prompt_id=prompt.id,
        value=value,
        text=text,
        client_submission_id=f"result-{next(_ids)}",
        **fields,
    )


def test_counts_shares_and_the_mean_of_a_scale(session: Session) -> None:
    wall = make_wall(session, moderation=Moderation.POST)
    scale = add_closed_prompts(session, wall)["scale"]
    for value in (5, 4, 4, 2, 4):
        _send(session, wall, scale, value)
    _send(session, wall, scale, None, text="Ved ikke")  # a follow-up without a choice
    result = results.question_result(session, scale)
    assert result.respondents == 5 and result.text_only == 1
    assert [o.count for o in result.options] == [0, 1, 0, 3, 1]
    assert result.options[3].share == pytest.approx(0.6)
    assert result.mean == pytest.approx(3.8)
    # the Wilson interval of 3 in 5: wide, and never outside 0-1
    low, high = result.options[3].low, result.options[3].high
    assert low == pytest.approx(0.231, abs=0.001) and high == pytest.approx(0.882, abs=0.001)
    assert results.wilson_interval(0, 0) == (0.0, 0.0)


def test_multiple_choice_shares_are_of_the_people_who_answered(session: Session) -> None:
    wall = make_wall(session, moderation=Moderation.POST)
    multiple = add_closed_prompts(session, wall)["multiple"]
    _send(session, wall, multiple, ["o1", "o2"], text="Skaterbanen er for lille")
    _send(session, wall, multiple, ["o2"], text="Mere musik!")
    _send(session, wall, multiple, ["o2", "o4"])
    result = results.question_result(session, multiple)
    assert result.respondents == 3
    assert [o.count for o in result.options] == [1, 3, 0, 1]
    assert sum(o.share for o in result.options) > 1  # more than 100 % together
    # follow-ups grouped by every option their writer chose, newest first
    assert [a.text for a in result.follow_ups["o2"]] == ["Mere musik!", "Skaterbanen er for lille"]
    assert [a.text for a in result.follow_ups["o1"]] == ["Skaterbanen er for lille"]
    assert "o4" not in result.follow_ups


def test_pending_follow_ups_are_counted_but_not_quoted(session: Session) -> None:
    wall = make_wall(session, moderation=Moderation.PRE)
    single = add_closed_prompts(session, wall)["single"]
    _send(session, wall, single, "o1", text="Vi hygger derhjemme")
    result = results.question_result(session, single)
    assert result.options[0].count == 1 and result.follow_ups == {}


def test_answers_to_an_earlier_version_are_counted_apart(session: Session) -> None:
    wall = make_wall(session, moderation=Moderation.POST)
    single = add_closed_prompts(session, wall)["single"]
    staff = make_staff(session, wall.campaign.organisation)
    written = (utcnow() - timedelta(hours=1)).isoformat()
    campaigns.update_prompt(
        session, staff, single, campaigns.QuestionInput(single.text, "single", ["Hjemme", "Ude"])
    )
    _send(session, wall, single, "o2", written_at=written)  # "I klubben", removed since
    _send(session, wall, single, "o1")
    result = results.question_result(session, single)
    assert (result.respondents, result.earlier) == (1, 1)


def test_breakdown_never_shows_a_group_under_five(session: Session) -> None:
    wall = make_wall(session, moderation=Moderation.POST)
    scale = add_closed_prompts(session, wall)["scale"]
    for _ in range(6):
        _send(session, wall, scale, 4, profile={"role": "parent"})
    for _ in range(3):
        _send(session, wall, scale, 2, profile={"role": "young"})
    _send(session, wall, scale, 1, profile={"role": "professional"})
    _send(session, wall, scale, 3)  # said nothing about themselves
    by_role = results.question_result(session, scale, results.ResultDimension.ROLE)
    assert [(g.key, g.respondents) for g in by_role.groups] == [("parent", 6)]
    assert (by_role.suppressed, by_role.unknown) == (4, 1)
    # two small groups that reach five together are shown pooled
    for _ in range(2):
        _send(session, wall, scale, 2, profile={"role": "professional"})
    pooled = results.question_result(session, scale, results.ResultDimension.ROLE)
    assert [(g.key, g.respondents) for g in pooled.groups] == [("parent", 6), (OTHER_KEY, 6)]
    assert pooled.suppressed == 0
    assert [o.count for o in pooled.groups[1].options] == [1, 5, 0, 0, 0]


def test_campaign_results_list_walls_with_closed_questions(session: Session) -> None:
    wall = make_wall(session)
    make_wall(session, campaign=wall.campaign)  # free text only: not listed
    add_closed_prompts(session, wall)
    listed = results.campaign_results(session, wall.campaign_id)
    assert [(w.id, len(questions)) for w, questions in listed] == [(wall.id, 3)]
