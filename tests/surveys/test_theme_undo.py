"""Undo of a merge or a split: the themes' members, names and quotes as before, audited, the
newest step first, later moves kept, only in the latest run and the actor's organisation."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from surveys import theme_review as review
from surveys.errors import InvalidInput, NotFound
from surveys.models import AuditEntry, ThemeCuration, ThemeRun
from tests.factories import make_staff
from tests.surveys.test_theme_review import World, audit_actions, memberships, theme, world

__all__ = ["world"]  # the fixture, used by name


def _state(session: Session, run: ThemeRun) -> dict[str, Any]:
    """Everything a merge or split changes: members, names, quotes, sizes and the curation."""
    session.expire_all()
    run = session.get(ThemeRun, run.id)
    assert run is not None
    curation = session.scalars(select(ThemeCuration)).first()
    return {
        "members": memberships(session, run),
        "themes": {
            t.key: (t.label, t.size, list(t.representative_ids), list(t.terms)) for t in run.themes
        },
        # Empty entries ({} and {"merged": []}) mean the same to the engine.
        "curation": ({k: v for k, v in (curation.data or {}).items() if v}, curation.descriptions)
        if curation
        else None,
    }


def _curation_data(session: Session) -> dict[str, Any]:
    session.expire_all()
    return session.scalars(select(ThemeCuration)).one().data


def _newest_step(session: Session, world: World) -> int:
    steps = review.curation_steps(session, world.wall.campaign.organisation_id, world.scope)
    return next(s.id for s in steps if s.can_undo)


def test_undo_a_merge_brings_the_theme_back_with_its_members_and_name(
    session: Session, world: World
) -> None:
    keep, gone = world.key_of(session, "normering"), world.key_of(session, "skaerm")
    review.rename_theme(session, world.analyst, world.scope, gone, "Skærme")
    review.describe_theme(session, world.analyst, world.scope, gone, "Om skærmtid")
    before = _state(session, world.run)
    review.merge_themes(session, world.analyst, world.scope, keep, [gone])
    assert theme(session, world.run, gone) is None

    step, kept = review.undo_step(session, world.analyst, world.scope, _newest_step(session, world))
    assert step.action == "theme.merge" and kept is not None and kept.key == keep
    after = _state(session, world.run)
    assert after["members"] == before["members"]
    assert after["themes"] == before["themes"]
    assert after["curation"] == before["curation"]
    assert theme(session, world.run, gone).label == "Skærme"
    assert theme(session, world.run, gone).description == "Om skærmtid"
    entry = session.scalars(select(AuditEntry).where(AuditEntry.action == "theme.undo")).one()
    assert entry.actor_id == world.analyst.id
    assert entry.after["undone"] == "theme.merge" and entry.after["scope"] == world.scope.key
    # Nothing left to undo: the step is listed as undone.
    steps = review.curation_steps(session, world.wall.campaign.organisation_id, world.scope)
    assert [(s.undone, s.can_undo) for s in steps] == [(True, False)]
    with pytest.raises(InvalidInput) as error:
        review.undo_step(session, world.analyst, world.scope, step.id)
    assert error.value.code == "step_undone"


def test_undo_a_split_puts_the_answers_back(session: Session, world: World) -> None:
    key = world.key_of(session, "bus")
    part = world.ids["bus"][:3]
    before = _state(session, world.run)
    new = review.split_theme(session, world.analyst, world.scope, key, part, "Morgenbusser")
    new_key = new.key
    step, source = review.undo_step(
        session, world.analyst, world.scope, _newest_step(session, world)
    )
    assert step.action == "theme.split" and source is not None and source.key == key
    assert step.labels[1] == "Morgenbusser"
    assert theme(session, world.run, new_key) is None
    after = _state(session, world.run)
    assert after["members"] == before["members"]
    assert after["themes"] == before["themes"]
    assert after["curation"] == before["curation"]


def test_undo_twice_undoes_the_two_latest_steps_newest_first(
    session: Session, world: World
) -> None:
    keep, gone = world.key_of(session, "normering"), world.key_of(session, "skaerm")
    bus = world.key_of(session, "bus")
    start = _state(session, world.run)
    review.merge_themes(session, world.analyst, world.scope, keep, [gone])
    merged = _state(session, world.run)
    split = review.split_theme(
        session, world.analyst, world.scope, bus, world.ids["bus"][:2], "To busser"
    )
    steps = review.curation_steps(session, world.wall.campaign.organisation_id, world.scope)
    assert [s.action for s in steps] == ["theme.split", "theme.merge"]
    assert [s.can_undo for s in steps] == [True, False]
    with pytest.raises(InvalidInput) as error:  # the older one waits for the newer
        review.undo_step(session, world.analyst, world.scope, steps[1].id)
    assert error.value.code == "step_not_latest"

    review.undo_step(session, world.analyst, world.scope, steps[0].id)
    assert theme(session, world.run, split.key) is None
    assert _state(session, world.run) == merged
    review.undo_step(session, world.analyst, world.scope, steps[1].id)
    assert _state(session, world.run) == start
    assert audit_actions(session)[-2:] == ["theme.undo", "theme.undo"]


def test_an_answer_moved_after_the_merge_stays_where_it_was_moved(
    session: Session, world: World
) -> None:
    keep, gone = world.key_of(session, "normering"), world.key_of(session, "skaerm")
    other = world.key_of(session, "legeplads")
    moved = world.ids["skaerm"][0]
    assert gone in memberships(session, world.run)[moved]
    review.merge_themes(session, world.analyst, world.scope, keep, [gone])
    review.move_answers(session, world.analyst, world.scope, [moved], other)
    review.undo_step(session, world.analyst, world.scope, _newest_step(session, world))
    members = memberships(session, world.run)
    assert members[moved] == {other}
    assert all(gone in members[a] for a in world.ids["skaerm"][1:7] if keep not in members[a])
    assert theme(session, world.run, gone) is not None
    data = _curation_data(session)
    assert data["moved"][str(moved)] == other and data["merged"] == []


def test_an_answer_moved_out_of_a_split_theme_stays_and_one_moved_in_goes_to_the_source(
    session: Session, world: World
) -> None:
    key = world.key_of(session, "bus")
    other = world.key_of(session, "legeplads")
    part = world.ids["bus"][:3]
    new = review.split_theme(session, world.analyst, world.scope, key, part, "Morgenbusser")
    review.move_answers(session, world.analyst, world.scope, [part[0]], other)
    incoming = world.ids["legeplads"][0]
    review.move_answers(session, world.analyst, world.scope, [incoming], new.key)
    review.undo_step(session, world.analyst, world.scope, _newest_step(session, world))
    members = memberships(session, world.run)
    assert members[part[0]] == {other}  # moved later: stays
    assert all(members[a] == {key} for a in part[1:])
    assert members[incoming] == {key}
    data = _curation_data(session)
    assert new.key not in data.get("split", {}) and new.key not in data.get("renamed", {})
    assert data["moved"][str(incoming)] == key and data["moved"][str(part[0])] == other


def test_a_new_run_starts_afresh(session: Session, world: World) -> None:
    keep, gone = world.key_of(session, "normering"), world.key_of(session, "skaerm")
    review.merge_themes(session, world.analyst, world.scope, keep, [gone])
    step_id = _newest_step(session, world)
    review.run_themes(session, world.analyst, world.scope)
    assert review.curation_steps(session, world.wall.campaign.organisation_id, world.scope) == []
    with pytest.raises(NotFound):
        review.undo_step(session, world.analyst, world.scope, step_id)


def test_another_organisation_cannot_undo(session: Session, world: World) -> None:
    keep, gone = world.key_of(session, "normering"), world.key_of(session, "skaerm")
    review.merge_themes(session, world.analyst, world.scope, keep, [gone])
    step_id = _newest_step(session, world)
    stranger = make_staff(session, role="admin")
    with pytest.raises(NotFound):
        review.undo_step(session, stranger, world.scope, step_id)
    assert theme(session, world.run, gone) is None
    with pytest.raises(NotFound):
        review.undo_step(session, world.analyst, world.scope, step_id + 1000)
