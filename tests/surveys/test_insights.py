"""Theme counts: approved answers only, shares of the counted total, filters respected."""

from __future__ import annotations

from sqlalchemy.orm import Session

from surveys.filters import AnswerFilter
from surveys.insights import theme_counts
from surveys.models import AnswerStatus, Audience, Theme, ThemeAssignment, ThemeRun
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
