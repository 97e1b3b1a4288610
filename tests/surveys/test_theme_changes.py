"""What changed between two runs of a scope (surveys.theme_changes), kept on the run."""

from __future__ import annotations

from sqlalchemy.orm import Session

from surveys.themes import Scope, build_themes
from tests.factories import make_answer
from tests.surveys.test_themes import _wall_with_topics


def test_a_first_run_has_nothing_to_compare_and_a_re_run_on_the_same_answers_changes_nothing(
    session: Session,
) -> None:
    wall, _ids = _wall_with_topics(session)
    scope = Scope(wall.campaign_id)
    first = build_themes(session, scope, n_themes=3)
    assert first.changes == {"previous_run_id": None, "shared": 0, "changed": 0, "examples": []}
    second = build_themes(session, scope, n_themes=3)
    assert second.changes is not None
    assert second.changes["previous_run_id"] == first.id
    assert second.changes["changed"] == 0 and second.changes["new"] == []
    assert second.changes["shared"] >= 20


def test_answers_that_arrived_after_the_previous_run_are_not_counted_as_changed(
    session: Session,
) -> None:
    wall, _ids = _wall_with_topics(session)
    scope = Scope(wall.campaign_id)
    build_themes(session, scope, n_themes=3)
    late = [make_answer(session, wall, f"Bussen kører for sjældent, svar {n}").id for n in range(3)]
    run = build_themes(session, scope, n_themes=3)
    assert run.changes is not None
    assert not {e["answer_id"] for e in run.changes["examples"]} & set(late)
