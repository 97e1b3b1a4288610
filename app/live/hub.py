"""One poller per process for the live wall's event streams.

Every open event stream used to look at the database every second by itself, so the cost grew
with the number of projectors and each stream was worth a database query per second. The hub
turns that around: one background thread per process asks the database what changed on each
wall (and question) that has viewers, once per ``poll`` seconds, and hands each change to all
the streams of that wall, which wait on a condition in between. A stream thus costs a sleeping
thread; the database sees one query per wall and second, whatever the number of viewers.

Streams are counted here, under the same lock that admits them, so the per-process cap
(``max_streams``) cannot be overshot by streams arriving together.
"""

from __future__ import annotations

import logging
import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import Engine
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session

from surveys.live import OVERLAP, LiveNote, changes_since, to_millis
from surveys.models import utcnow

log = logging.getLogger(__name__)

#: How many batches a wall keeps for streams that were busy writing when they arrived.
BACKLOG = 64
#: How long the hub remembers a note it has passed on, to drop repeats of it: the database is
#: asked with an overlap (surveys.live.OVERLAP), so the same change comes back for a while.
_REMEMBER_SECONDS = 3 * OVERLAP.total_seconds()

Cloud = list[dict[str, Any]]
#: Gives the theme cloud of (campaign, wall, prompt), as JSON, fresh enough for ``max_age``.
CloudSource = Callable[[Session, int, int, int | None, float], Cloud]


@dataclass(frozen=True)
class Batch:
    """What one look at the database found new on a wall."""

    seq: int
    cursor: datetime
    notes: tuple[LiveNote, ...] = ()
    removed: tuple[int, ...] = ()
    #: The theme cloud when it changed, else None.
    cloud: Cloud | None = None
    #: The batch's events as the streams write them, worked out by the first stream that
    #: needs one and shared by the others (app.live.views.stream_changes).
    encoded: dict[tuple[Any, ...], str] = field(default_factory=dict, compare=False, repr=False)

    @property
    def event_id(self) -> int:
        """The id the browser sends back as ``Last-Event-ID`` when it reconnects."""
        return to_millis(self.cursor)


@dataclass(eq=False)
class _Topic:
    """A wall (or one question of it) that has viewers in this process."""

    wall_id: int
    prompt_id: int | None
    campaign_id: int | None
    cursor: datetime
    condition: threading.Condition
    subscribers: int = 0
    seq: int = 0
    batches: deque[Batch] = field(default_factory=lambda: deque(maxlen=BACKLOG))
    #: note id -> (version or "removed", when first passed on)
    passed_on: dict[int, tuple[str, float]] = field(default_factory=dict)
    cloud: Cloud = field(default_factory=list)
    cloud_checked: float | None = None


@dataclass(eq=False)
class Subscription:
    """One event stream's place in the hub."""

    topic: _Topic
    seen: int
    active: bool = True


class LiveHub:
    """The per-process poller and fan-out for the live wall's event streams."""

    def __init__(
        self,
        engine: Engine,
        *,
        poll: float,
        themes_every: float,
        clouds: CloudSource,
        max_streams: int,
    ) -> None:
        self.engine = engine
        self.poll = poll
        self.themes_every = themes_every
        self.clouds = clouds
        self.max_streams = max_streams
        self._lock = threading.Lock()
        self._wake = threading.Condition(self._lock)
        self._topics: dict[tuple[int, int | None], _Topic] = {}
        self._streams = 0
        self._thread: threading.Thread | None = None
        self._closed = False

    @property
    def open_streams(self) -> int:
        """Streams open in this process."""
        return self._streams

    @property
    def closed(self) -> bool:
        """True once :meth:`close` was called: streams end, new ones are refused."""
        return self._closed

    def subscribe(
        self, wall_id: int, prompt_id: int | None, campaign_id: int | None
    ) -> Subscription | None:
        """Admit a stream for a wall, or None when the process has ``max_streams`` already."""
        with self._lock:
            if self._closed or self._streams >= self.max_streams:
                return None
            key = (wall_id, prompt_id)
            topic = self._topics.get(key)
            if topic is None:
                topic = _Topic(
                    wall_id, prompt_id, campaign_id, utcnow(), threading.Condition(self._lock)
                )
                self._topics[key] = topic
            topic.subscribers += 1
            self._streams += 1
            if self._thread is None:
                self._thread = threading.Thread(
                    target=self._run, name="stemmer-live-hub", daemon=True
                )
                self._thread.start()
            self._wake.notify_all()
            return Subscription(topic, topic.seq)

    def unsubscribe(self, subscription: Subscription) -> None:
        """Let a stream go (safe to call twice)."""
        with self._lock:
            if not subscription.active:
                return
            subscription.active = False
            self._streams -= 1
            topic = subscription.topic
            topic.subscribers -= 1
            if topic.subscribers == 0 and self._topics.get(_key(topic)) is topic:
                del self._topics[_key(topic)]

    def wait(self, subscription: Subscription, timeout: float) -> list[Batch]:
        """The batches the stream has not seen, waiting up to ``timeout`` seconds for one.

        A stream that fell more than :data:`BACKLOG` batches behind gets what is left; the
        notes it missed reach it when the browser reconnects (from its last event id).
        """
        topic = subscription.topic
        deadline = time.monotonic() + timeout
        with self._lock:
            while topic.seq == subscription.seen and not self._closed:
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    return []
                topic.condition.wait(remaining)
            batches = [b for b in topic.batches if b.seq > subscription.seen]
            subscription.seen = topic.seq
            return batches

    def close(self, timeout: float = 5.0) -> None:
        """End every stream of the process and stop the poller (worker shutdown, tests)."""
        with self._lock:
            self._closed = True
            thread = self._thread
            self._wake.notify_all()
            for topic in self._topics.values():
                topic.condition.notify_all()
        if thread is not None and thread is not threading.current_thread():
            thread.join(timeout)

    # --- the poller ---

    def _run(self) -> None:
        while True:
            with self._lock:
                topics = list(self._topics.values())
                if self._closed or not topics:
                    self._thread = None
                    return
            started = time.monotonic()
            try:
                with Session(self.engine) as session:
                    for topic in topics:
                        self._look(session, topic)
            except SQLAlchemyError:
                # The database is away for a moment: streams keep their heartbeat, and the
                # next look (from the same cursor) finds what happened meanwhile.
                log.warning("live hub: database unavailable", exc_info=True)
            with self._lock:
                remaining = self.poll - (time.monotonic() - started)
                if remaining > 0 and not self._closed:
                    self._wake.wait(remaining)

    def _look(self, session: Session, topic: _Topic) -> None:
        changes = changes_since(session, topic.wall_id, topic.cursor, prompt_id=topic.prompt_id)
        cloud: Cloud | None = None
        now = time.monotonic()
        if topic.campaign_id is not None and (
            topic.cloud_checked is None or now - topic.cloud_checked >= self.themes_every
        ):
            fresh = self.clouds(
                session, topic.campaign_id, topic.wall_id, topic.prompt_id, self.themes_every
            )
            topic.cloud_checked = now
            if fresh != topic.cloud:
                cloud = topic.cloud = fresh
        with self._lock:
            topic.cursor = changes.cursor
            for answer_id, (_version, when) in list(topic.passed_on.items()):
                if now - when > _REMEMBER_SECONDS:
                    del topic.passed_on[answer_id]
            notes = tuple(n for n in changes.notes if _first(topic, n.id, n.version, now))
            removed = tuple(i for i in changes.removed if _first(topic, i, "removed", now))
            if notes or removed or cloud is not None:
                topic.seq += 1
                topic.batches.append(Batch(topic.seq, changes.cursor, notes, removed, cloud))
                topic.condition.notify_all()


def _key(topic: _Topic) -> tuple[int, int | None]:
    return (topic.wall_id, topic.prompt_id)


def _first(topic: _Topic, answer_id: int, version: str, now: float) -> bool:
    """Whether this version of the note is news on the topic (and remember it)."""
    known = topic.passed_on.get(answer_id)
    if known is not None and known[0] == version:
        return False
    topic.passed_on[answer_id] = (version, now)
    return True
