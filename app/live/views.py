"""The projector view ``/live/<slug>``: approved answers appear within seconds.

New answers reach the page by server-sent events (``/events``); a page whose event stream
fails falls back to polling ``/updates`` (and tries the stream again later). A stream lasts
at most ``LIVE_STREAM_SECONDS`` and then ends; the browser's EventSource reconnects by itself
and resumes from the last event id, so no worker thread is held for ever. The streams of a
process wait on one poller (:class:`~app.live.hub.LiveHub`), which asks the database once per
``LIVE_POLL_SECONDS`` and wall, whatever the number of viewers. ``LIVE_MAX_STREAMS`` caps the
streams of one process (gunicorn.conf.py sets it from the worker's thread count, keeping
threads free for the other routes); beyond it the page is told (503) to poll instead.

Once the wall's campaign has themes, the page shows a cloud of them (``surveys.live.theme_cloud``):
in the page itself, in every ``/updates`` answer and as a ``themes`` event at the start of
each stream and whenever it changes (looked at every ``LIVE_THEMES_SECONDS``).

On a projector the page shows as many of the newest notes as fit and rotates through them
every ``LIVE_ROTATE_SECONDS`` (live.js). A note a presenter spotlights (staff side) is shown
large instead; the page asks ``/spotlight`` for it every few seconds.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from typing import Any

from cachetools import TTLCache
from flask import current_app, jsonify, render_template, request, url_for
from flask.typing import ResponseReturnValue
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session
from werkzeug.wrappers import Response

from surveys import answers
from surveys.live import (
    CloudTheme,
    LiveChanges,
    LiveNote,
    changes_since,
    from_millis,
    latest_notes,
    spotlight_note,
    theme_cloud,
    to_millis,
)
from surveys.models import Prompt, Wall, utcnow
from surveys.reads import wall_replies
from surveys.results import question_result

from ..extensions import db
from ..public_links import public_url
from ..wall_texts import use_wall_languages, wall_texts
from . import bp
from .hub import Batch, LiveHub, Subscription

#: A spotlighted note longer than this (characters) is shown in smaller type, so that it fits.
LONG_SPOTLIGHT = 180

_hub_lock = threading.Lock()


def _setting(name: str) -> Any:
    return current_app.config[name]


def _load_wall(slug: str) -> Wall:
    wall = answers.get_wall_by_slug(db.session, slug)
    use_wall_languages(wall)
    return wall


def _prompt_texts(wall: Wall) -> dict[int, str]:
    """The wall's questions in the page's language, by id (for the notes the script adds)."""
    texts = wall_texts(wall)
    return {p.id: str(texts.prompt(p)) for p in wall.prompts}


def _prompt_filter(wall: Wall) -> Prompt | None:
    chosen = request.args.get("prompt", type=int)
    return next((p for p in wall.prompts if p.id == chosen), None)


def _note_json(note: LiveNote, prompts: dict[int, str]) -> dict[str, Any]:
    return {
        "id": note.id,
        "prompt_id": note.prompt_id,
        "prompt": prompts.get(note.prompt_id, ""),
        "text": note.text,
        "created_at": note.created_at.isoformat(),
        "version": note.version,
    }


def _changes_json(changes: LiveChanges, prompts: dict[int, str]) -> dict[str, Any]:
    return {
        "cursor": to_millis(changes.cursor),
        "notes": [_note_json(n, prompts) for n in changes.notes],
        "removed": changes.removed,
    }


def _cloud_json(cloud: list[CloudTheme]) -> list[dict[str, Any]]:
    return [{"id": t.id, "label": t.label, "count": t.count, "size": t.size} for t in cloud]


class CloudCache:
    """Theme clouds per (wall, prompt), kept ``max_age`` seconds: a room of polling projectors
    then costs one count per wall and period, not one per request."""

    MAX_ENTRIES = 256

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._clouds: dict[tuple[int, int | None], tuple[float, list[dict[str, Any]]]] = {}

    def get(
        self,
        session: Session,
        campaign_id: int,
        wall_id: int,
        prompt_id: int | None,
        max_age: float,
    ) -> list[dict[str, Any]]:
        """The cloud as JSON, from the cache when it is fresh enough."""
        key = (wall_id, prompt_id)
        now = time.monotonic()
        with self._lock:
            cached = self._clouds.get(key)
        if cached is not None and now - cached[0] < max_age:
            return cached[1]
        cloud = _cloud_json(theme_cloud(session, campaign_id, wall_id, prompt_id=prompt_id))
        with self._lock:
            if len(self._clouds) >= self.MAX_ENTRIES:
                self._clouds.clear()
            self._clouds[key] = (now, cloud)
        return cloud


def _cloud_cache() -> CloudCache:
    cache = current_app.extensions.get("stemmer.live_clouds")
    if cache is None:
        cache = current_app.extensions.setdefault("stemmer.live_clouds", CloudCache())
    return cache


#: How long a closed question's live result is kept (a room of projectors polling it costs one
#: count per question and period).
RESULT_SECONDS = 2.0


def _result_json(prompt: Prompt) -> dict[str, Any]:
    """A closed question's result so far: how many answered, and per option its count and
    share (as on the staff results page)."""
    result = question_result(db.session, prompt)
    return {
        "respondents": result.respondents,
        "options": [
            {"id": o.option_id, "count": o.count, "share": round(o.share, 4)}
            for o in result.options
        ],
    }


def _kept_result(prompt: Prompt) -> dict[str, Any]:
    kept = current_app.extensions.get("stemmer.live_results")
    if kept is None:
        kept = current_app.extensions.setdefault(
            "stemmer.live_results", TTLCache(maxsize=256, ttl=RESULT_SECONDS)
        )
    key = (prompt.id, prompt.changed_at)
    found = kept.get(key)
    if found is None:
        found = kept[key] = _result_json(prompt)
    return dict(found)


@bp.get("/<slug>/result")
def result(slug: str) -> ResponseReturnValue:
    """The live result of the closed question ``?prompt=`` (404 for any other question)."""
    wall = _load_wall(slug)
    prompt = _prompt_filter(wall)
    if prompt is None or not prompt.is_closed:
        return jsonify(error={"code": "not_closed", "message": "Not a closed question."}), 404
    response = jsonify(_kept_result(prompt))
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.get("/<slug>")
def live(slug: str) -> ResponseReturnValue:
    """The projector page: the newest approved answers, updated live."""
    wall = _load_wall(slug)
    prompt = _prompt_filter(wall)
    now = utcnow()
    notes = latest_notes(
        db.session,
        wall.id,
        prompt_id=prompt.id if prompt else None,
        limit=_setting("LIVE_NOTES_SHOWN"),
    )
    prompt_id = prompt.id if prompt else None
    cloud = theme_cloud(db.session, wall.campaign_id, wall.id, prompt_id=prompt_id)
    return render_template(
        "live/live.html",
        wall=wall,
        prompt=prompt,
        prompts={p.id: p for p in wall.prompts},
        notes=notes,
        cursor=to_millis(now),
        events_url=url_for(".events", slug=wall.slug, prompt=prompt_id),
        updates_url=url_for(".updates", slug=wall.slug, prompt=prompt_id),
        wall_url=public_url("participate.wall", slug=wall.slug),
        replies=wall_replies(db.session, wall.id, limit=1),
        max_notes=_setting("LIVE_NOTES_SHOWN"),
        retry_stream_ms=int(float(_setting("LIVE_RETRY_STREAM_SECONDS")) * 1000),
        rotate_ms=int(float(_setting("LIVE_ROTATE_SECONDS")) * 1000),
        cloud=cloud,
        spotlight=spotlight_note(db.session, wall),
        long_spotlight=LONG_SPOTLIGHT,
        spotlight_url=url_for(".spotlight", slug=wall.slug),
        result=_kept_result(prompt) if prompt and prompt.is_closed else None,
        result_url=url_for(".result", slug=wall.slug, prompt=prompt_id),
    )


@bp.get("/<slug>/spotlight")
def spotlight(slug: str) -> ResponseReturnValue:
    """The note a presenter put in the spotlight (``{"id": null}`` when none)."""
    wall = _load_wall(slug)
    note = spotlight_note(db.session, wall)
    data = (
        {"id": None}
        if note is None
        else {"id": note.id, "text": note.text, "version": note.version}
    )
    response = jsonify(data)
    response.headers["Cache-Control"] = "no-store"
    return response


def _since() -> Any:
    raw = request.headers.get("Last-Event-ID") or request.args.get("since")
    return from_millis(raw) or utcnow()


@bp.get("/<slug>/updates")
def updates(slug: str) -> ResponseReturnValue:
    """Polling fallback: what changed since ``since`` (a cursor from the page or last poll)."""
    wall = _load_wall(slug)
    prompt = _prompt_filter(wall)
    prompt_id = prompt.id if prompt else None
    changes = changes_since(db.session, wall.id, _since(), prompt_id=prompt_id)
    data = _changes_json(changes, _prompt_texts(wall))
    data["themes"] = _cloud_cache().get(
        db.session, wall.campaign_id, wall.id, prompt_id, float(_setting("LIVE_THEMES_SECONDS"))
    )
    response = jsonify(data)
    response.headers["Cache-Control"] = "no-store"
    return response


def _event(name: str, data: Any, event_id: int | None = None) -> str:
    head = f"event: {name}\n"
    if event_id is not None:
        head += f"id: {event_id}\n"
    return f"{head}data: {json.dumps(data, ensure_ascii=False, separators=(',', ':'))}\n\n"


def stream_changes(
    hub: LiveHub,
    subscription: Subscription,
    prompts: dict[int, str],
    since: Any,
    *,
    duration: float,
    heartbeat: float,
) -> Iterator[str]:
    """Server-sent events for a wall until ``duration`` seconds have passed.

    The stream first catches up from ``since`` with a query of its own (in a short session of
    its own, so no transaction stays open while it waits), then passes on what the process's
    :class:`LiveHub` finds. The theme cloud is sent first and again when it changes.
    """
    topic = subscription.topic
    sent: dict[int, str] = {}
    sent_cloud: list[dict[str, Any]] = []  # an empty cloud needs no event at the start

    def send(batch: Batch) -> Iterator[str]:
        # The batch's events in one write. Each note's event is encoded once per batch for
        # all the streams of the wall (Batch.encoded): with 200 viewers and hundreds of
        # answers a second, encoding and writing every note for every stream was most of
        # what the viewers cost the answering (bench/load/RESULTS.md).
        nonlocal sent_cloud
        event_id = batch.event_id
        encoded = batch.encoded
        events: list[str] = []
        for note in batch.notes:
            if sent.get(note.id) != note.version:
                sent[note.id] = note.version
                key = (note.id, note.version, prompts.get(note.prompt_id, ""))
                event = encoded.get(key)
                if event is None:
                    event = encoded[key] = _event("note", _note_json(note, prompts), event_id)
                events.append(event)
        for answer_id in batch.removed:
            if sent.get(answer_id) != "removed":
                sent[answer_id] = "removed"
                events.append(_event("remove", {"id": answer_id}, event_id))
        if batch.cloud is not None and batch.cloud != sent_cloud:
            sent_cloud = batch.cloud
            events.append(_event("themes", {"themes": batch.cloud}, event_id))
        if events:
            yield "".join(events)

    try:
        yield "retry: 2000\n\n"
        started = time.monotonic()
        try:
            with Session(hub.engine) as session:
                changes = changes_since(session, topic.wall_id, since, prompt_id=topic.prompt_id)
                cloud = None
                if topic.campaign_id is not None:
                    cloud = hub.clouds(
                        session,
                        topic.campaign_id,
                        topic.wall_id,
                        topic.prompt_id,
                        hub.themes_every,
                    )
        except SQLAlchemyError:
            return  # the database went away: end the stream, the browser reconnects
        catch_up = Batch(0, changes.cursor, tuple(changes.notes), tuple(changes.removed), cloud)
        yield from send(catch_up)
        event_id = catch_up.event_id
        yield _event("ping", {"cursor": event_id}, event_id)
        last_beat = time.monotonic()
        while not hub.closed:
            now = time.monotonic()
            left = duration - (now - started)
            if left <= 0:
                return
            for batch in hub.wait(subscription, min(left, heartbeat - (now - last_beat))):
                event_id = batch.event_id
                yield from send(batch)
            if time.monotonic() - last_beat >= heartbeat:
                yield _event("ping", {"cursor": event_id}, event_id)
                last_beat = time.monotonic()
    finally:
        hub.unsubscribe(subscription)


def _hub() -> LiveHub:
    hub = current_app.extensions.get("stemmer.live_hub")
    if hub is None:
        with _hub_lock:
            hub = current_app.extensions.get("stemmer.live_hub")
            if hub is None:
                cache = _cloud_cache()
                hub = LiveHub(
                    db.engine,
                    poll=float(_setting("LIVE_POLL_SECONDS")),
                    themes_every=float(_setting("LIVE_THEMES_SECONDS")),
                    clouds=cache.get,
                    max_streams=int(_setting("LIVE_MAX_STREAMS")),
                )
                current_app.extensions["stemmer.live_hub"] = hub
    hub.max_streams = int(_setting("LIVE_MAX_STREAMS"))
    return hub


@bp.get("/<slug>/events")
def events(slug: str) -> ResponseReturnValue:
    """Server-sent events: ``note`` (show or update), ``remove`` (take down), ``themes``
    (the theme cloud), ``ping``."""
    wall = _load_wall(slug)
    prompt = _prompt_filter(wall)
    hub = _hub()
    subscription = hub.subscribe(wall.id, prompt.id if prompt else None, wall.campaign_id)
    if subscription is None:
        return Response("busy: poll /updates instead\n", status=503, headers={"Retry-After": "30"})
    generator = stream_changes(
        hub,
        subscription,
        _prompt_texts(wall),
        _since(),
        duration=float(_setting("LIVE_STREAM_SECONDS")),
        heartbeat=float(_setting("LIVE_HEARTBEAT_SECONDS")),
    )
    response = Response(generator, mimetype="text/event-stream")
    # Also when the stream never started (the client went away first).
    response.call_on_close(lambda: hub.unsubscribe(subscription))
    response.headers["Cache-Control"] = "no-cache, no-store"
    response.headers["X-Accel-Buffering"] = "no"  # nginx: do not buffer the stream
    return response
