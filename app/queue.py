"""The task queue: work that must not keep a citizen or a staff member waiting (Huey).

One machine: ``SqliteHuey``, a queue file in the instance folder (``instance/queue.db``, or
``STEMMER_QUEUE_FILE``); nothing to install. Several app servers and workers: ``RedisHuey``
on ``REDIS_URL``. The instance is built once, from the environment, when this module is
imported (Huey's tasks are registered on it by its decorators); the same code runs on both.

Tasks run in a worker process (``flask --app wsgi worker``, :mod:`app.queue_cli`), each in an
application context of its own (a database session of its own, closed after the task). With
``STEMMER_QUEUE_IMMEDIATE=1`` (the tests' default) Huey's immediate mode runs a task at once
in the caller, as it was done before the queue.

Every task is safe to run twice: the database says what is done (an answer's
``themes_placed_at``, its stored vector: ``surveys.vectors``), and the catch-up task, run
every minute and when a worker starts, does whatever a worker that was down or killed left
undone.
"""

from __future__ import annotations

import functools
import logging
import os
from collections.abc import Callable, Mapping
from datetime import datetime
from pathlib import Path
from typing import Any, TypeVar

from flask import Flask, current_app, has_app_context
from huey import RedisHuey, SqliteHuey, crontab
from huey.api import Huey
from sqlalchemy.orm import Session

from surveys import events, jobs, themes, vectors
from surveys.models import utcnow

from .embeddings import encoder
from .extensions import db
from .mail import send_moderation_digests

log = logging.getLogger(__name__)

ROOT = Path(__file__).resolve().parent.parent
#: The queue's name: its keys in Redis, its table rows in the SQLite file.
QUEUE_NAME = "stemmer"


def make_huey(env: Mapping[str, str]) -> Huey:
    """The queue the environment asks for: Redis with ``REDIS_URL``, else a SQLite file."""
    redis_url = env.get("REDIS_URL")
    if redis_url:
        return RedisHuey(QUEUE_NAME, url=redis_url, results=False)
    path = Path(env.get("STEMMER_QUEUE_FILE") or ROOT / "instance" / "queue.db")
    path.parent.mkdir(parents=True, exist_ok=True)
    # No fsync per task: a task lost in a power cut is found again by the catch-up (the
    # database, not the queue, says what is done), and an fsync per answer costs the POST.
    return SqliteHuey(QUEUE_NAME, filename=str(path), results=False, fsync=False)


huey = make_huey(os.environ)

#: The app tasks run in when no application context is active (the worker's threads).
_worker_app: Flask | None = None


def init_queue(app: Flask) -> None:
    """Run tasks at once (``QUEUE_IMMEDIATE``) or on the queue; remember the app for the
    worker's tasks."""
    global _worker_app
    huey.immediate = bool(app.config["QUEUE_IMMEDIATE"])
    _worker_app = app


def describe_queue(summary: jobs.JobsSummary, now: datetime | None = None) -> dict[str, Any]:
    """Whether the worker keeps up, as JSON for the staff's queue page and for monitors:
    tasks waiting (all), the jobs queued and running (of ``summary``) and the oldest waiting,
    the workers seen lately, and whether tasks run at once in the web process."""
    now = now or utcnow()
    oldest = summary.oldest_queued_at
    return {
        "tasks_waiting": huey.pending_count(),
        "jobs_queued": summary.queued,
        "jobs_running": summary.running,
        "oldest_queued_at": oldest.isoformat() if oldest else None,
        "oldest_waiting_seconds": round((now - oldest).total_seconds()) if oldest else 0,
        "workers": [
            {
                "name": w.name,
                "started_at": w.started_at.isoformat(),
                "seen_at": w.seen_at.isoformat(),
                "seconds_since_seen": round((now - w.seen_at).total_seconds()),
            }
            for w in summary.live_workers(now)
        ],
        "immediate": huey.immediate,
    }


F = TypeVar("F", bound=Callable[..., Any])


def in_app_context(task: F) -> F:
    """Run ``task`` in an application context of its own: the caller's app (immediate mode)
    or the worker's."""

    @functools.wraps(task)
    def run(*args: Any, **kwargs: Any) -> Any:
        app = current_app._get_current_object() if has_app_context() else _worker_app  # type: ignore[attr-defined]
        if app is None:
            raise RuntimeError("the task queue has no app: create_app() was not called")
        with app.app_context():
            return task(*args, **kwargs)

    return run  # type: ignore[return-value]


# --------------------------------------------------------------------------- theme placement


#: Answers a theme task places at most at once: its own and others still waiting, so that a
#: backlog drains in batches (the model is much faster on many answers than on one at a time)
#: and the tasks of the answers it took find nothing left to do.
PLACE_BATCH = 200


@huey.task(retries=3, retry_delay=10)
@in_app_context
def handle_new_answer(answer_id: int, campaign_id: int) -> int:
    """A new answer is stored: put it under its campaign's latest themes (its vector first,
    when embeddings are on), or, in a campaign without themes yet, compute its vector only.

    Up to ``PLACE_BATCH`` other answers that wait go with it. Deciding here, not in the
    request, keeps the answer's POST to its own write (the check is a round trip of its own
    after the commit). Returns how many answers were placed or embedded.
    """
    if themes.campaign_has_runs(db.session, campaign_id):
        return place_answers([answer_id])
    return embed_answers([answer_id])


def place_answers(answer_ids: list[int]) -> int:
    """Put answers under the latest themes (once; see ``themes.place_new_answers``), with up
    to ``PLACE_BATCH`` others that wait."""
    waiting = themes.answers_to_place(db.session, limit=PLACE_BATCH)
    batch = [*answer_ids, *waiting][:PLACE_BATCH]
    embed = encoder()
    if embed is not None:  # first their vectors, so they are placed as the run was fitted
        vectors.embed_answers(db.session, batch, embed)
    return themes.place_new_answers(db.session, batch)


def embed_answers(answer_ids: list[int]) -> int:
    """Compute and store the semantic vectors of answers (once; see
    ``vectors.embed_answers``), with up to ``PLACE_BATCH`` others that have none yet;
    nothing when embeddings are off."""
    embed = encoder()
    if embed is None:
        return 0
    waiting = vectors.answers_to_embed(db.session, limit=PLACE_BATCH)
    return vectors.embed_answers(db.session, [*answer_ids, *waiting][:PLACE_BATCH], embed)


def embed_everything_due(session: Session) -> int:
    """Embed every answer that has no vector yet, in batches; how many were embedded."""
    embed = encoder()
    total = 0
    while embed is not None and (ids := vectors.answers_to_embed(session)):
        done = vectors.embed_answers(session, ids, embed)
        if not done:  # taken by another worker meanwhile (or nothing left to embed)
            break
        total += done
        session.expunge_all()
    return total


def place_everything_due(session: Session) -> int:
    """Place every answer not placed yet, in batches; how many were placed."""
    total = 0
    while ids := themes.answers_to_place(session):
        placed = themes.place_new_answers(session, ids)
        if not placed:  # taken by another worker meanwhile: it will finish them
            break
        total += placed
        session.expunge_all()
    return total


@huey.periodic_task(crontab(minute="*"))
@in_app_context
def catch_up() -> int:
    """Every minute (and when a worker starts): do what a worker that was down or killed
    left undone."""
    embedded = embed_everything_due(db.session)
    if embedded:
        log.info("catch-up embedded %s answers", embedded)
    placed = place_everything_due(db.session)
    if placed:
        log.info("catch-up placed %s answers under themes", placed)
    return placed


# --------------------------------------------------------------------------- e-mail


@huey.periodic_task(crontab(minute="5"))
@huey.lock_task("moderation-digest")
@in_app_context
def moderation_digest() -> int:
    """Every hour: e-mail the moderators who are due a digest of the answers waiting (nothing
    without SMTP_HOST). The lock keeps two workers' schedulers from sending it twice."""
    return send_moderation_digests(db.session)


@events.answer_stored.connect
def _queue_new_answer(session: Session, *, answer_id: int, campaign_id: int) -> None:
    """A new answer is stored: queue its placement under the campaign's themes (or the
    computing of its vector), :func:`handle_new_answer`. With embeddings on, every new answer
    has work to do, so the request does not look up the campaign's themes; with them off, a
    campaign without themes queues nothing.

    Outside the app (the domain's own tests, scripts) nothing is queued; the catch-up places
    the answer. A queue that cannot be reached loses nothing either: the answer is stored.
    """
    if not has_app_context():
        return
    try:
        if encoder() is None and not themes.campaign_has_runs(session, campaign_id):
            return
        handle_new_answer(answer_id, campaign_id)
    except Exception:
        log.exception("could not queue answer %s for its themes; the catch-up will", answer_id)
