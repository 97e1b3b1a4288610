"""Read models for pages (surveys.reads)."""

from __future__ import annotations

import pytest
from sqlalchemy.orm import Session


def test_the_wall_pages_data_version_is_read_through_indexes(session: Session) -> None:
    """However many answers a wall has, its page's data version costs index lookups only
    (before migration 0006 every look scanned all the wall's answers)."""
    if session.get_bind().dialect.name != "sqlite":
        pytest.skip("SQLite's query plan")
    from surveys.reads import _WALL_PAGE_VERSION

    statement = _WALL_PAGE_VERSION.compile(session.get_bind())
    plan = session.connection().exec_driver_sql(
        "EXPLAIN QUERY PLAN " + str(statement),
        (1,) * len(statement.positiontup or ()),  # the plan does not depend on the values
    )
    steps = [row[3] for row in plan]
    on_answers = [step for step in steps if " answer " in step + " "]
    # Every look at the wall's answers is answered from an index alone: no row of the table
    # is read (a non-covering index would read every answer row of the wall).
    assert on_answers and all("USING COVERING INDEX" in step for step in on_answers), steps
    # The newest "enig" of the wall: one look in the reactions' wall index (no join through
    # every answer of the wall, as before migration 0007).
    on_reactions = [step for step in steps if " reaction " in step + " "]
    assert on_reactions and all("ix_reaction_wall_id" in step for step in on_reactions), steps
