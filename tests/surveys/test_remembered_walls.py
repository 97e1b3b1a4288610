"""Walls remembered per process for answering (operations.remembered_wall)."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import Engine, delete, event, select, update
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session, sessionmaker

from surveys import operations
from surveys.db import make_engine, make_session_factory
from surveys.errors import InvalidInput, NotFound, WallClosed
from surveys.models import Answer, Moderation, Prompt, Wall, utcnow
from tests.factories import Clock, count_answers, make_wall, run_in_threads, submit


def _statements(session: Session) -> list[str]:
    seen: list[str] = []

    def note(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        seen.append(statement)

    event.listen(session.get_bind(), "before_cursor_execute", note)
    return seen


@pytest.fixture
def sessions(database_url: str) -> Iterator[sessionmaker[Session]]:
    """Sessions on an engine of their own, one for each thread of a test."""
    engine = make_engine(database_url)
    yield make_session_factory(engine)
    engine.dispose()


def test_the_wall_is_read_once_per_period(session: Session, clock: Clock) -> None:
    wall = make_wall(session, "husk", moderation=Moderation.POST)
    statements = _statements(session)
    first = operations.remembered_wall(session, "husk")
    read = len(statements)
    assert read >= 1
    assert first.prompt_ids == {p.id for p in wall.prompts}
    clock.now += operations.WALL_CACHE_SECONDS / 2
    assert operations.remembered_wall(session, "husk") is first
    assert len(statements) == read
    clock.now += operations.WALL_CACHE_SECONDS
    assert operations.remembered_wall(session, "husk") is not first
    assert len(statements) > read


def test_without_a_period_the_wall_is_always_read(session: Session, clock: Clock) -> None:
    make_wall(session, "altid")
    statements = _statements(session)
    operations.remembered_wall(session, "altid", max_age=0)
    read = len(statements)
    operations.remembered_wall(session, "altid", max_age=0)
    assert len(statements) == 2 * read


def test_an_answer_from_the_remembered_wall_is_stored_like_any_other(
    session: Session, clock: Clock
) -> None:
    wall = make_wall(session, "gemt", moderation=Moderation.POST)
    remembered = operations.remembered_wall(session, "gemt")
    statements = _statements(session)
    result = submit(session, remembered, profile={"role": "parent", "area": "Nexø"})
    assert result.created
    assert not any("FROM wall" in s or "FROM prompt" in s for s in statements)
    session.expire_all()
    stored = session.get(Answer, result.answer.id)
    assert stored is not None and stored.wall_id == wall.id
    assert stored.profile == {"role": "parent", "area": "Nexø"}
    # A retry is answered from the stored row, a different text is a conflict.
    again = submit(session, remembered)
    assert not again.created and again.answer.id == result.answer.id
    with pytest.raises(operations.Conflict):
        submit(session, remembered, text="Noget helt andet")
    with pytest.raises(InvalidInput) as refused:
        submit(session, remembered, prompt_id=10**6, client_submission_id="remember-0002")
    assert refused.value.code == "invalid_prompt"
    assert count_answers(session) == 1


def test_a_wall_closed_in_another_process_refuses_answers_within_the_period(
    session: Session, clock: Clock, elsewhere: Engine
) -> None:
    wall = make_wall(session, "lukker", moderation=Moderation.POST)
    assert operations.remembered_wall(session, "lukker").is_open()
    with elsewhere.begin() as connection:
        connection.execute(
            update(Wall).where(Wall.id == wall.id).values(closes_at=utcnow() - timedelta(1))
        )
    # Within the period this process may still take an answer (at most WALL_CACHE_SECONDS)...
    clock.now += operations.WALL_CACHE_SECONDS * 0.9
    assert operations.remembered_wall(session, "lukker").is_open()
    # ...after it, the wall is read again and refuses.
    clock.now += operations.WALL_CACHE_SECONDS * 0.2
    remembered = operations.remembered_wall(session, "lukker")
    assert remembered.has_closed()
    with pytest.raises(WallClosed):
        submit(session, remembered)
    assert count_answers(session) == 0


def test_a_change_committed_in_this_process_is_seen_at_once(
    session: Session, clock: Clock, sessions: sessionmaker[Session]
) -> None:
    wall = make_wall(session, "straks", moderation=Moderation.POST)
    assert operations.remembered_wall(session, "straks").moderation is Moderation.POST
    # Through another session and engine of this process (as a staff request would).
    with sessions() as other:
        stored = other.get(Wall, wall.id)
        assert stored is not None
        stored.moderation = Moderation.PRE
        stored.closes_at = utcnow() - timedelta(minutes=1)
        other.commit()
    remembered = operations.remembered_wall(session, "straks")
    assert remembered.moderation is Moderation.PRE
    assert remembered.has_closed()


def test_a_question_added_in_this_process_is_seen_at_once(session: Session, clock: Clock) -> None:
    wall = make_wall(session, "spoergsmaal")
    before = operations.remembered_wall(session, "spoergsmaal")
    prompt = Prompt(wall_id=wall.id, position=5, text="Hvad mere?")
    session.add(prompt)
    session.commit()
    after = operations.remembered_wall(session, "spoergsmaal")
    assert prompt.id not in before.prompt_ids
    assert prompt.id in after.prompt_ids


def test_a_wall_read_while_walls_were_forgotten_is_not_kept(
    session: Session, clock: Clock, monkeypatch: pytest.MonkeyPatch
) -> None:
    make_wall(session, "kapløb")
    read = operations._read_wall

    def read_while_forgetting(db: Session, slug: str) -> operations.WallSnapshot:
        wall = read(db, slug)
        operations.forget_walls(db)  # a change committed by another thread meanwhile
        return wall

    monkeypatch.setattr(operations, "_read_wall", read_while_forgetting)
    operations.remembered_wall(session, "kapløb")
    monkeypatch.setattr(operations, "_read_wall", read)
    statements = _statements(session)
    operations.remembered_wall(session, "kapløb")
    assert statements, "the wall read during the forgetting must not have been kept"


def test_a_question_deleted_in_another_process_is_refused_not_a_crash(
    session: Session, clock: Clock, elsewhere: Engine
) -> None:
    wall = make_wall(session, "slettet-spoergsmaal")
    remembered = operations.remembered_wall(session, "slettet-spoergsmaal")
    gone = wall.prompts[1].id
    with elsewhere.begin() as connection:
        connection.execute(delete(Prompt).where(Prompt.id == gone))
    with pytest.raises(InvalidInput) as refused:
        submit(session, remembered, prompt_id=gone)
    assert refused.value.code == "invalid_prompt"
    # The wall was read again; the other question still takes answers.
    assert submit(session, remembered, client_submission_id="remember-0009").created
    assert count_answers(session) == 1


def test_a_wall_deleted_in_another_process_is_not_found(
    session: Session, clock: Clock, elsewhere: Engine
) -> None:
    wall = make_wall(session, "slettet")
    remembered = operations.remembered_wall(session, "slettet")
    with elsewhere.begin() as connection:
        connection.execute(delete(Prompt).where(Prompt.wall_id == wall.id))
        connection.execute(delete(Wall).where(Wall.id == wall.id))
    with pytest.raises(NotFound):
        submit(session, remembered)
    assert count_answers(session) == 0


def test_concurrent_retries_with_a_remembered_wall_store_once(
    sessions: sessionmaker[Session],
) -> None:
    with sessions() as setup:
        make_wall(setup, "samtidig", moderation=Moderation.POST)
    results: list[operations.SubmitResult] = []
    start = threading.Barrier(4)

    def retry() -> None:
        with sessions() as own:
            remembered = operations.remembered_wall(own, "samtidig")
            start.wait()
            results.append(submit(own, remembered, client_submission_id="samtidig-01"))

    assert not run_in_threads(retry, 4)
    assert sorted(r.created for r in results) == [False, False, False, True]
    assert len({r.answer.id for r in results}) == 1
    with sessions() as check:
        assert count_answers(check) == 1


def test_an_answer_from_the_remembered_wall_is_put_under_the_latest_themes(
    session: Session,
) -> None:
    from surveys.models import ThemeAssignment
    from surveys.themes import Scope, build_themes
    from tests.surveys.test_themes import _memberships, _wall_with_topics

    wall, ids = _wall_with_topics(session)
    run = build_themes(session, Scope(wall.campaign_id), n_themes=3)
    bus_theme = sorted(_memberships(session, run)[ids["bus"][0]])[0]
    remembered = operations.remembered_wall(session, wall.slug)
    result = submit(
        session,
        remembered,
        text="Bussen kører for sjældent om aftenen",
        client_submission_id="remember-theme-01",
    )
    rows = session.scalars(
        select(ThemeAssignment).where(ThemeAssignment.answer_id == result.answer.id)
    ).all()
    assert rows and all(r.source == "transform" for r in rows)
    assert {t.id: t.key for t in run.themes}[rows[0].theme_id] == bus_theme


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


def _slow_reads(
    monkeypatch: pytest.MonkeyPatch, entered: threading.Event, release: threading.Event
) -> list[str]:
    """Make ``_read_wall`` note each read, say when one began and wait for ``release``."""
    read = operations._read_wall
    reads: list[str] = []

    def slow_read(db: Session, slug: str) -> operations.WallSnapshot:
        reads.append(slug)
        entered.set()
        assert release.wait(10)
        return read(db, slug)

    monkeypatch.setattr(operations, "_read_wall", slow_read)
    return reads


def test_requests_arriving_during_a_read_of_the_wall_share_it(
    sessions: sessionmaker[Session], monkeypatch: pytest.MonkeyPatch
) -> None:
    with sessions() as setup:
        make_wall(setup, "en-laesning", moderation=Moderation.POST)
    entered, release = threading.Event(), threading.Event()
    reads = _slow_reads(monkeypatch, entered, release)
    walls: list[operations.WallSnapshot] = []

    def ask() -> None:
        with sessions() as own:
            walls.append(operations.remembered_wall(own, "en-laesning"))

    first = threading.Thread(target=ask)
    first.start()
    assert entered.wait(10)
    others = [threading.Thread(target=ask) for _ in range(5)]
    for thread in others:
        thread.start()
    release.set()
    for thread in [first, *others]:
        thread.join(30)
    assert reads == ["en-laesning"]  # one read for six requests
    assert len(walls) == 6 and all(wall is walls[0] for wall in walls)


def test_a_failed_read_is_not_shared_each_waiting_request_reads_itself(
    session: Session, sessions: sessionmaker[Session], monkeypatch: pytest.MonkeyPatch
) -> None:
    make_wall(session, "fejl-laesning")
    read = operations._read_wall
    entered, release = threading.Event(), threading.Event()
    calls: list[str] = []

    def failing_first(db: Session, slug: str) -> operations.WallSnapshot:
        calls.append(slug)
        if len(calls) == 1:
            entered.set()
            assert release.wait(10)
            raise OperationalError("SELECT", {}, Exception("database is locked"))
        return read(db, slug)

    monkeypatch.setattr(operations, "_read_wall", failing_first)
    errors: list[BaseException] = []

    def leader() -> None:
        try:
            operations.remembered_wall(session, "fejl-laesning")
        except OperationalError as error:
            errors.append(error)

    first = threading.Thread(target=leader)
    first.start()
    assert entered.wait(10)
    waiting: list[operations.WallSnapshot] = []
    own = sessions()
    second = threading.Thread(
        target=lambda: waiting.append(operations.remembered_wall(own, "fejl-laesning"))
    )
    second.start()
    release.set()
    first.join(30)
    second.join(30)
    assert len(errors) == 1  # the failure is the first request's own
    assert len(waiting) == 1 and waiting[0].slug == "fejl-laesning"  # read again, not shared
    assert len(calls) == 2
    own.close()


def test_a_read_begun_before_walls_were_forgotten_is_not_joined(
    sessions: sessionmaker[Session], monkeypatch: pytest.MonkeyPatch
) -> None:
    with sessions() as setup:
        make_wall(setup, "glemt-laesning")
    entered, release = threading.Event(), threading.Event()
    reads = _slow_reads(monkeypatch, entered, release)

    def ask() -> None:
        with sessions() as own:
            operations.remembered_wall(own, "glemt-laesning")

    first = threading.Thread(target=ask)
    first.start()
    assert entered.wait(10)
    with sessions() as changer:
        operations.forget_walls(changer)  # a change committed here while the read runs
    later = threading.Thread(target=ask)
    later.start()
    time.sleep(0.05)
    release.set()
    first.join(30)
    later.join(30)
    assert reads == ["glemt-laesning", "glemt-laesning"]  # the later request read anew
