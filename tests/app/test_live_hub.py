"""The live hub: one poller per process fans a wall's changes out to all its streams."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from typing import Any

import pytest
from sqlalchemy import Engine, event
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session

from app.live import hub as hub_module
from app.live.hub import LiveHub
from surveys.db import make_engine
from surveys.models import AnswerStatus, utcnow
from tests.factories import make_answer, make_wall, run_in_threads


def _no_cloud(*_args: Any) -> list[dict[str, Any]]:
    return []


@pytest.fixture
def engine(database_url: str) -> Iterator[Engine]:
    engine = make_engine(database_url)
    yield engine
    engine.dispose()


@pytest.fixture
def hub(engine: Engine) -> Iterator[LiveHub]:
    hub = LiveHub(engine, poll=0.05, themes_every=10, clouds=_no_cloud, max_streams=500)
    yield hub
    hub.close()


def _wait_for(subscription: Any, hub: LiveHub, seconds: float = 3.0) -> list[Any]:
    deadline = time.monotonic() + seconds
    found: list[Any] = []
    while time.monotonic() < deadline and not found:
        found = hub.wait(subscription, deadline - time.monotonic())
    return found


def test_a_new_answer_reaches_every_stream_once(session: Session, hub: LiveHub) -> None:
    wall = make_wall(session, "hub")
    subscriptions = [hub.subscribe(wall.id, None, wall.campaign_id) for _ in range(30)]
    assert all(subscriptions)
    answer = make_answer(session, wall, "Flere bænke ved stranden")
    for subscription in subscriptions:
        assert subscription is not None
        batches = _wait_for(subscription, hub)
        assert [n.text for b in batches for n in b.notes] == ["Flere bænke ved stranden"]
    # The database is asked with an overlap, so the note comes back for a while: the hub
    # passes it on once only.
    time.sleep(0.3)
    first = subscriptions[0]
    assert first is not None
    assert hub.wait(first, 0.2) == []
    # A moderator takes it down: the streams are told to remove it.
    answer.status = AnswerStatus.HIDDEN
    answer.moderated_at = utcnow()
    session.commit()
    assert [b.removed for b in _wait_for(first, hub)] == [(answer.id,)]


def test_the_database_is_asked_once_per_wall_whatever_the_number_of_viewers(
    session: Session, engine: Engine, hub: LiveHub
) -> None:
    walls = [make_wall(session, "en"), make_wall(session, "to")]
    queries: list[str] = []

    def count(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        if threading.current_thread().name == "stemmer-live-hub":
            queries.append(statement)

    event.listen(engine, "before_cursor_execute", count)
    try:
        subscriptions = [hub.subscribe(w.id, None, None) for w in walls for _ in range(100)]
        time.sleep(1.0)
    finally:
        event.remove(engine, "before_cursor_execute", count)
    looks = 1.0 / hub.poll
    # Two walls, about one look each per poll interval, not one per stream (200 streams).
    assert 2 <= len(queries) <= 2 * (looks + 2)
    for subscription in subscriptions:
        assert subscription is not None
        hub.unsubscribe(subscription)
    assert hub.open_streams == 0


def test_the_stream_cap_holds_when_streams_arrive_together(
    session: Session, engine: Engine
) -> None:
    wall = make_wall(session, "kø")
    hub = LiveHub(engine, poll=0.05, themes_every=10, clouds=_no_cloud, max_streams=10)
    admitted: list[Any] = []
    barrier = threading.Barrier(40)

    def arrive() -> None:
        barrier.wait()
        admitted.append(hub.subscribe(wall.id, None, None))

    assert run_in_threads(arrive, 40) == []
    assert sum(1 for s in admitted if s is not None) == 10
    assert hub.open_streams == 10
    hub.close()


def test_close_ends_waiting_streams_and_refuses_new_ones(session: Session, hub: LiveHub) -> None:
    wall = make_wall(session, "luk")
    subscription = hub.subscribe(wall.id, None, None)
    assert subscription is not None
    ended = threading.Event()

    def stream() -> None:
        hub.wait(subscription, 30)
        ended.set()

    threading.Thread(target=stream, daemon=True).start()
    time.sleep(0.1)
    hub.close()
    assert ended.wait(2)
    assert hub.closed
    assert hub.subscribe(wall.id, None, None) is None


def test_the_poller_stops_without_viewers_and_starts_again(session: Session, hub: LiveHub) -> None:
    wall = make_wall(session, "igen")
    first = hub.subscribe(wall.id, None, None)
    assert first is not None
    hub.unsubscribe(first)
    deadline = time.monotonic() + 2
    while hub._thread is not None and time.monotonic() < deadline:
        time.sleep(0.02)
    assert hub._thread is None
    again = hub.subscribe(wall.id, None, None)
    assert again is not None
    make_answer(session, wall, "Efter pausen")
    assert [n.text for b in _wait_for(again, hub) for n in b.notes] == ["Efter pausen"]


def test_a_database_outage_does_not_stop_the_poller(
    session: Session, hub: LiveHub, monkeypatch: pytest.MonkeyPatch
) -> None:
    wall = make_wall(session, "udfald")
    real = hub_module.changes_since
    failures = {"left": 3}

    def flaky(*args: Any, **kwargs: Any) -> Any:
        if failures["left"]:
            failures["left"] -= 1
            raise OperationalError("SELECT", {}, Exception("database is away"))
        return real(*args, **kwargs)

    monkeypatch.setattr(hub_module, "changes_since", flaky)
    subscription = hub.subscribe(wall.id, None, None)
    assert subscription is not None
    make_answer(session, wall, "Kom under udfaldet")
    assert [n.text for b in _wait_for(subscription, hub) for n in b.notes] == ["Kom under udfaldet"]
    assert failures["left"] == 0


def test_streams_of_a_wall_share_each_notes_event_and_write_a_batch_at_once(
    session: Session, hub: LiveHub, monkeypatch: pytest.MonkeyPatch
) -> None:
    from app.live import views as live_views

    wall = make_wall(session, "deles")
    prompts = {p.id: p.text for p in wall.prompts}
    encoded: list[int] = []
    note_json = live_views._note_json

    def counting(note: Any, texts: dict[int, str]) -> dict[str, Any]:
        encoded.append(note.id)
        return note_json(note, texts)

    monkeypatch.setattr(live_views, "_note_json", counting)
    streams = []
    for _ in range(3):
        subscription = hub.subscribe(wall.id, None, wall.campaign_id)
        assert subscription is not None
        stream = live_views.stream_changes(
            hub, subscription, prompts, utcnow(), duration=10, heartbeat=5
        )
        assert next(stream) == "retry: 2000\n\n"
        assert next(stream).startswith("event: ping\n")  # caught up: nothing new yet
        streams.append(stream)
    texts = ["Flere bænke", "En sti til skolen", "Længere åbent 📚"]
    for text in texts:
        make_answer(session, wall, text, status=AnswerStatus.APPROVED)
    writes: list[list[str]] = []
    for stream in streams:
        chunks: list[str] = []
        while sum(chunk.count("event: note\n") for chunk in chunks) < len(texts):
            chunks.append(next(stream))
        writes.append(chunks)
        stream.close()
    # Every stream wrote the same events, a batch in one write, and each note was encoded
    # once for all three streams.
    assert writes[0] == writes[1] == writes[2]
    assert all(chunk.count("event: note\n") >= 1 for chunk in writes[0])
    assert sorted(encoded) == sorted(set(encoded)) and len(encoded) == len(texts)
    assert all(text in "".join(writes[0]) for text in texts)
    assert hub.open_streams == 0
