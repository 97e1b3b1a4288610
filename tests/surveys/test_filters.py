"""AnswerFilter: each filter narrows the answers, and bad query strings are ignored."""

from __future__ import annotations

from datetime import UTC, date, datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from surveys.filters import AnswerFilter, answer_audience, audience_of, day_of
from surveys.models import Answer, Audience, Channel, Wall
from tests.factories import make_answer, make_wall


def _texts(session: Session, answer_filter: AnswerFilter) -> set[str]:
    stmt = select(Answer.text).join(Wall, Answer.wall_id == Wall.id)
    return set(session.scalars(answer_filter.apply(stmt)))


def test_each_filter_narrows(session: Session) -> None:
    parents = make_wall(session, audience=Audience.PARENTS)
    everyone = make_wall(session, campaign=parents.campaign, audience=Audience.EVERYONE)
    second = parents.prompts[1]
    make_answer(session, parents, "a", area="Rønne", created_at=datetime(2026, 5, 1, tzinfo=UTC))
    make_answer(session, everyone, "b", role="young", channel=Channel.KIOSK)
    make_answer(session, everyone, "c", prompt=everyone.prompts[0])
    make_answer(
        session,
        parents,
        "d",
        prompt=second,
        channel=Channel.PAPER,
        written_on=date(2026, 3, 2),
        created_at=datetime(2026, 6, 1, tzinfo=UTC),
    )
    assert _texts(session, AnswerFilter()) == {"a", "b", "c", "d"}
    assert _texts(session, AnswerFilter(audience=Audience.YOUNG)) == {"b"}
    assert _texts(session, AnswerFilter(audience=Audience.PARENTS)) == {"a", "d"}
    assert _texts(session, AnswerFilter(audience=Audience.EVERYONE)) == {"c"}
    assert _texts(session, AnswerFilter(area="Rønne")) == {"a"}
    assert _texts(session, AnswerFilter(channel=Channel.KIOSK)) == {"b"}
    assert _texts(session, AnswerFilter(prompt_id=second.id)) == {"d"}
    spring = AnswerFilter(since=date(2026, 3, 1), until=date(2026, 5, 1))
    assert _texts(session, spring) == {"a", "d"}  # "d" counts on the day written on paper
    assert _texts(session, AnswerFilter(until=date(2026, 4, 30))) == {"d"}


def test_audience_expression_matches_python_twin(session: Session) -> None:
    wall = make_wall(session, audience=Audience.EVERYONE)
    for role in (None, "parent", "expecting", "young", "professional"):
        make_answer(session, wall, f"role {role}", role=role)
    rows = session.execute(
        select(Answer.role, answer_audience()).join(Wall, Answer.wall_id == Wall.id)
    ).all()
    assert len(rows) == 5
    for role, audience in rows:
        assert audience == audience_of(role, wall.audience)


def test_from_args_round_trip_and_garbage() -> None:
    full = AnswerFilter(Audience.YOUNG, "Nexø", Channel.WEB, 7, date(2026, 1, 1), date(2026, 2, 1))
    assert full.active
    assert AnswerFilter.from_args(full.to_args()) == full
    garbage = {
        "audience": "martians",
        "channel": "<script>",
        "prompt_id": "١٢",
        "since": "2026-13-01",
        "until": "yesterday",
        "area": "   ",
    }
    assert AnswerFilter.from_args(garbage) == AnswerFilter()
    assert not AnswerFilter().active


def test_day_of() -> None:
    arrived = datetime(2026, 5, 1, 23, 30, tzinfo=UTC)
    assert day_of(arrived, None) == date(2026, 5, 1)
    assert day_of(arrived, date(2026, 4, 2)) == date(2026, 4, 2)
