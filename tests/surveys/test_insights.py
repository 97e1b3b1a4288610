"""Theme counts: approved answers only, shares of the counted total, filters respected."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest
from sqlalchemy.orm import Session

from surveys.filters import AnswerFilter
from surveys.insights import (
    OTHER_KEY,
    Breakdown,
    Dimension,
    benjamini_hochberg,
    over_representation_p,
    theme_breakdown,
    theme_counts,
)
from surveys.models import AnswerStatus, Audience, Channel, Theme, ThemeAssignment, ThemeRun
from tests.factories import make_answer, make_wall


def _run_with_themes(session: Session, wall, groups: dict[str, list[int]], hidden=()) -> ThemeRun:
    run = ThemeRun(campaign_id=wall.campaign_id, scope_key=f"c{wall.campaign_id}", model=b"")
    session.add(run)
    for position, (key, members) in enumerate(groups.items()):
        theme = Theme(key=key, position=position, label=key, hidden=key in hidden)
        run.themes.append(theme)
        session.flush()
        for answer_id in members:
            session.add(ThemeAssignment(theme_id=theme.id, answer_id=answer_id, run_id=run.id))
    session.commit()
    return run


def test_counts_shares_and_andet(session: Session) -> None:
    wall = make_wall(session, audience=Audience.EVERYONE)
    a = [make_answer(session, wall, f"svar {i}").id for i in range(6)]
    pending = make_answer(session, wall, "venter", status=AnswerStatus.PENDING).id
    young = make_answer(session, wall, "ung", role="young").id
    run = _run_with_themes(
        session,
        wall,
        {"t1": [a[0], a[1], a[2], pending], "t2": [a[2], a[3], young], "t3": [a[4]]},
        hidden={"t3"},
    )
    counts = theme_counts(session, run)
    assert counts.total == 7  # six approved + the young one; pending not counted
    assert [(c.theme.key, c.count) for c in counts.themes] == [("t1", 3), ("t2", 3)]
    assert counts.themes[0].share == 3 / 7
    assert counts.unthemed == 2  # a[4] sits only in a hidden theme, a[5] in none
    young_only = theme_counts(session, run, AnswerFilter(audience=Audience.YOUNG))
    assert young_only.total == 1
    assert [(c.theme.key, c.count) for c in young_only.themes] == [("t2", 1), ("t1", 0)]
    with_pending = theme_counts(
        session, run, statuses=(AnswerStatus.APPROVED, AnswerStatus.PENDING)
    )
    assert with_pending.themes[0].count == 4


def test_empty_scope(session: Session) -> None:
    wall = make_wall(session)
    run = _run_with_themes(session, wall, {"t1": []})
    counts = theme_counts(session, run)
    assert (counts.total, counts.unthemed, counts.themes[0].share) == (0, 0, 0.0)


# --- breakdowns by group ---


def _answers(session: Session, wall, n: int, **fields) -> list[int]:
    return [make_answer(session, wall, f"svar {i}", **fields).id for i in range(n)]


def _cells(breakdown: Breakdown) -> dict[str, dict[str, tuple[int, bool]]]:
    """{group key: {theme key: (count, over)}}."""
    keys = {tc.theme.id: tc.theme.key for tc in breakdown.themes}
    return {g.key: {keys[c.theme_id]: (c.count, c.over) for c in g.cells} for g in breakdown.groups}


def test_audience_counts_shares_index_and_over_representation(session: Session) -> None:
    wall = make_wall(session, audience=Audience.EVERYONE)
    parents = _answers(session, wall, 20, role="parent")
    young = _answers(session, wall, 20, role="young")
    make_answer(session, wall, "venter", role="parent", status=AnswerStatus.PENDING)
    # Every parent answer is about the bus, only two of the young people's; the other theme
    # is spread evenly.
    run = _run_with_themes(
        session,
        wall,
        {"bus": parents + young[:2], "klub": parents[:10] + young[:10]},
    )
    breakdown = theme_breakdown(session, run, Dimension.AUDIENCE)
    assert breakdown.dimension is Dimension.AUDIENCE
    assert (breakdown.total, breakdown.suppressed, breakdown.unknown) == (40, 0, 0)
    assert [tc.theme.key for tc in breakdown.themes] == ["bus", "klub"]
    assert [(g.key, g.n_answers) for g in breakdown.groups] == [("parents", 20), ("young", 20)]
    parents_bus = breakdown.groups[0].cells[0]
    assert parents_bus.theme_id == breakdown.themes[0].theme.id
    assert (parents_bus.count, parents_bus.share) == (20, 1.0)
    assert parents_bus.index == pytest.approx(1.0 / (22 / 40))
    assert _cells(breakdown) == {
        "parents": {"bus": (20, True), "klub": (10, False)},  # klub: as everywhere
        "young": {"bus": (2, False), "klub": (10, False)},
    }
    young_klub = breakdown.groups[1].cells[1]
    assert (young_klub.share, young_klub.index) == (0.5, 1.0)


def test_over_needs_a_real_difference_not_only_a_high_index(session: Session) -> None:
    wall = make_wall(session)
    # Rønne 5 of 5 in the theme, Nexø 5 of 10: index exactly 1.5 and 5 answers, but the
    # one-sided Fisher test gives p = C(10,5)/C(15,5) = 252/3003 = 0.084: could be chance.
    ronne = _answers(session, wall, 5, area="Rønne")
    nexo = _answers(session, wall, 10, area="Nexø")
    run = _run_with_themes(session, wall, {"t": ronne + nexo[:5]})
    small = theme_breakdown(session, run, Dimension.AREA)
    cell = small.groups[1].cells[0]
    assert small.groups[1].key == "Rønne"
    assert (cell.count, cell.index, cell.over) == (5, 1.5, False)
    # The same proportions with four times the answers are no longer chance.
    wall2 = make_wall(session)
    ronne = _answers(session, wall2, 20, area="Rønne")
    nexo = _answers(session, wall2, 40, area="Nexø")
    run2 = _run_with_themes(session, wall2, {"t": ronne + nexo[:20]})
    big = theme_breakdown(session, run2, Dimension.AREA)
    assert [(g.key, g.cells[0].index, g.cells[0].over) for g in big.groups] == [
        ("Nexø", 0.75, False),
        ("Rønne", 1.5, True),
    ]
    # A big difference on few answers: 3 of the group's 5 (index 3.0) is not enough.
    wall3 = make_wall(session)
    ronne = _answers(session, wall3, 5, area="Rønne")
    nexo = _answers(session, wall3, 45, area="Nexø")
    run3 = _run_with_themes(session, wall3, {"t": ronne[:3] + nexo[:7]})
    few = theme_breakdown(session, run3, Dimension.AREA)
    assert [(g.key, g.cells[0].count, g.cells[0].over) for g in few.groups] == [
        ("Nexø", 7, False),
        ("Rønne", 3, False),
    ]
    assert few.groups[1].cells[0].index == pytest.approx((3 / 5) / (10 / 50))


def test_fisher_p_and_benjamini_hochberg() -> None:
    assert over_representation_p(5, 5, 10, 15) == pytest.approx(252 / 3003)
    assert over_representation_p(0, 5, 10, 15) == 1.0
    assert over_representation_p(1, 1, 15, 15) == pytest.approx(1.0)
    # 0.01 passes alone, but not among 10 tests; 0.001 passes among 10.
    assert benjamini_hochberg([0.01]) == [True]
    assert benjamini_hochberg([0.01] + [0.5] * 9) == [False] + [False] * 9
    assert benjamini_hochberg([0.5, 0.001] + [0.9] * 8) == [False, True] + [False] * 8
    assert benjamini_hochberg([]) == []


def test_small_groups_are_never_shown_on_their_own(session: Session) -> None:
    wall = make_wall(session)
    _answers(session, wall, 6, area="Rønne")
    _answers(session, wall, 5, area="Aakirkeby")
    four = _answers(session, wall, 4, area="Nexø")  # one small group: left out
    _answers(session, wall, 2)  # no area
    _answers(session, wall, 3, area="Gudhjem", status=AnswerStatus.PENDING)  # not counted
    run = _run_with_themes(session, wall, {"t": four})
    breakdown = theme_breakdown(session, run, Dimension.AREA)
    assert [(g.key, g.n_answers) for g in breakdown.groups] == [("Rønne", 6), ("Aakirkeby", 5)]
    assert (breakdown.total, breakdown.suppressed, breakdown.unknown) == (17, 4, 2)
    assert all(c.count == 0 for g in breakdown.groups for c in g.cells)
    # With a threshold of 6, Aakirkeby (5) and Nexø (4) are both small and together reach 6:
    # they are pooled into "other", never shown one by one.
    strict = theme_breakdown(session, run, Dimension.AREA, min_group_size=6)
    assert [(g.key, g.n_answers) for g in strict.groups] == [("Rønne", 6), (OTHER_KEY, 9)]
    assert [c.count for c in strict.groups[1].cells] == [4]
    assert strict.suppressed == 0


def test_two_small_groups_are_pooled_into_other(session: Session) -> None:
    wall = make_wall(session)
    _answers(session, wall, 7, area="Rønne")
    gudhjem = _answers(session, wall, 3, area="Gudhjem")
    svaneke = _answers(session, wall, 3, area="Svaneke")
    run = _run_with_themes(session, wall, {"t": gudhjem[:2] + svaneke[:1]})
    breakdown = theme_breakdown(session, run, Dimension.AREA)
    assert [(g.key, g.n_answers) for g in breakdown.groups] == [("Rønne", 7), (OTHER_KEY, 6)]
    assert breakdown.suppressed == 0
    other = breakdown.groups[1].cells[0]
    assert (other.count, other.share, other.over) == (3, 0.5, False)
    # Two small groups that together stay below the threshold are left out.
    breakdown = theme_breakdown(session, run, Dimension.AREA, min_group_size=7)
    assert [g.key for g in breakdown.groups] == ["Rønne"]
    assert breakdown.suppressed == 6


def test_one_group_of_four_alone_is_suppressed(session: Session) -> None:
    wall = make_wall(session, audience=Audience.EVERYONE)
    _answers(session, wall, 10, role="parent")
    young = _answers(session, wall, 4, role="young")
    run = _run_with_themes(session, wall, {"t": young})
    breakdown = theme_breakdown(session, run, Dimension.AUDIENCE)
    assert [g.key for g in breakdown.groups] == ["parents"]
    assert (breakdown.total, breakdown.suppressed, breakdown.unknown) == (14, 4, 0)
    # Everything below the threshold: no group at all.
    nothing = theme_breakdown(session, run, Dimension.AUDIENCE, min_group_size=20)
    assert (nothing.groups, nothing.suppressed) == ([], 14)
    with pytest.raises(ValueError):
        theme_breakdown(session, run, Dimension.AUDIENCE, min_group_size=0)


def test_audience_falls_back_to_the_wall_and_keeps_its_order(session: Session) -> None:
    everyone = make_wall(session, audience=Audience.EVERYONE)
    young_wall = make_wall(session, campaign=everyone.campaign, audience=Audience.YOUNG)
    _answers(session, young_wall, 5)  # no role given: the wall's audience
    _answers(session, everyone, 6)
    _answers(session, everyone, 5, role="expecting")
    _answers(session, everyone, 5, role="professional")  # -> the wall's audience
    run = _run_with_themes(session, everyone, {"t": []})
    breakdown = theme_breakdown(session, run, Dimension.AUDIENCE)
    assert [(g.key, g.n_answers) for g in breakdown.groups] == [
        ("parents", 5),
        ("young", 5),
        ("everyone", 11),
    ]


def test_period_uses_the_date_written_on_paper(session: Session) -> None:
    wall = make_wall(session)
    may = datetime(2026, 5, 10, 12, tzinfo=UTC)
    _answers(session, wall, 5, created_at=may)
    paper = _answers(
        session, wall, 5, channel=Channel.PAPER, written_on=date(2026, 3, 31), created_at=may
    )
    _answers(session, wall, 5, created_at=datetime(2025, 12, 31, 23, 30, tzinfo=UTC))
    run = _run_with_themes(session, wall, {"t": paper})
    breakdown = theme_breakdown(session, run, Dimension.PERIOD)
    assert [(g.key, g.n_answers, g.cells[0].count) for g in breakdown.groups] == [
        ("2025-12", 5, 0),
        ("2026-03", 5, 5),
        ("2026-05", 5, 0),
    ]
    assert breakdown.groups[1].cells[0].over is True  # 5 of 5 against 5 of 15


def test_filters_narrow_the_breakdown(session: Session) -> None:
    wall = make_wall(session, audience=Audience.EVERYONE)
    parents_ronne = _answers(session, wall, 6, role="parent", area="Rønne")
    _answers(session, wall, 5, role="young", area="Rønne")
    _answers(session, wall, 7, role="parent", area="Nexø")
    run = _run_with_themes(session, wall, {"t": parents_ronne, "u": []}, hidden={"u"})
    ronne = theme_breakdown(session, run, Dimension.AUDIENCE, AnswerFilter(area="Rønne"))
    assert [(g.key, g.n_answers) for g in ronne.groups] == [("parents", 6), ("young", 5)]
    assert ronne.total == 11
    assert [tc.theme.key for tc in ronne.themes] == ["t"]  # hidden themes are not shown
    assert [c.count for c in ronne.groups[0].cells] == [6]
    parents = theme_breakdown(session, run, Dimension.AREA, AnswerFilter(audience=Audience.PARENTS))
    assert [(g.key, g.n_answers) for g in parents.groups] == [("Nexø", 7), ("Rønne", 6)]
    assert parents.total == 13
    # Every counted answer is in a shown group, left out or unknown.
    for breakdown in (ronne, parents):
        shown = sum(g.n_answers for g in breakdown.groups)
        assert shown + breakdown.suppressed + breakdown.unknown == breakdown.total
