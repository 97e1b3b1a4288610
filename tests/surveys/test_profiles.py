"""The age question follows who answers (issue 24): the wall's audience, then the role."""

from __future__ import annotations

import pytest
from sqlalchemy.orm import Session

from surveys.answers import clean_profile
from surveys.errors import InvalidInput
from surveys.models import AGE_GROUP_CODES, Audience
from surveys.profiles import AgeQuestion, age_question
from tests.factories import make_wall


def test_whose_age_and_which_bands() -> None:
    assert age_question(Audience.YOUNG) == (AgeQuestion.OWN, ("13-17", "18-24"))
    assert age_question(Audience.PARENTS) == (AgeQuestion.CHILD, AGE_GROUP_CODES)
    assert age_question(Audience.EVERYONE)[0] is AgeQuestion.ANY
    # The role, once given, decides, whatever the wall's audience.
    assert age_question(Audience.PARENTS, "young") == (AgeQuestion.OWN, ("13-17", "18-24"))
    assert age_question(Audience.YOUNG, "parent") == (AgeQuestion.CHILD, AGE_GROUP_CODES)
    assert age_question(Audience.EVERYONE, "professional")[0] is AgeQuestion.CHILDREN_WORKED_WITH
    assert age_question(Audience.EVERYONE, "expecting") is None


@pytest.mark.parametrize(
    ("audience", "profile"),
    [
        (Audience.YOUNG, {"age_group": "0-2"}),
        (Audience.PARENTS, {"role": "young", "age_group": "0-2"}),
        (Audience.EVERYONE, {"role": "young", "age_group": "3-5"}),
        (Audience.EVERYONE, {"role": "expecting", "age_group": "0-2"}),
    ],
)
def test_an_age_that_does_not_fit_who_answers_is_refused(
    session: Session, audience: Audience, profile: dict[str, str]
) -> None:
    wall = make_wall(session, audience=audience)
    with pytest.raises(InvalidInput) as caught:
        clean_profile(wall, profile)
    assert caught.value.code == "invalid_profile"
    assert caught.value.params["field"] == "age_group"


@pytest.mark.parametrize(
    ("audience", "profile"),
    [
        (Audience.YOUNG, {"age_group": "13-17"}),
        (Audience.YOUNG, {"role": "young", "age_group": "18-24"}),
        (Audience.PARENTS, {"role": "parent", "age_group": "0-2"}),
        (Audience.PARENTS, {"age_group": "3-5"}),
        (Audience.EVERYONE, {"role": "professional", "age_group": "6-12"}),
        (Audience.EVERYONE, {"role": "expecting"}),
    ],
)
def test_an_age_that_fits_is_kept(
    session: Session, audience: Audience, profile: dict[str, str]
) -> None:
    wall = make_wall(session, audience=audience)
    assert clean_profile(wall, profile) == profile


def test_a_professionals_quote_in_the_report_is_theirs_not_everyones(session: Session) -> None:
    from surveys import report as reports
    from tests.factories import make_answer
    from tests.surveys.test_report import make_run

    wall = make_wall(session, audience=Audience.EVERYONE)
    texts = [f"Mere tid til hvert barn i institutionen nr {i}" for i in range(6)]
    answers = [make_answer(session, wall, t, role="professional") for t in texts]
    parent = make_answer(session, wall, "Mere tid til hvert barn, siger en forælder", role="parent")
    make_run(session, wall.campaign, {"tid": [a.id for a in answers] + [parent.id]})

    result = reports.build_report(session, wall.campaign)
    quotes = {q.answer_id: q.audience for t in result.themes for q in t.quotes}
    assert {quotes[a.id] for a in answers if a.id in quotes} == {"professional"}
    assert quotes.get(parent.id, "parents") == "parents"
