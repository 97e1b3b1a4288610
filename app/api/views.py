"""Endpoints of the JSON API v1; errors are ``{"error": {"code", "message"}}``."""

from __future__ import annotations

from typing import Any

from flask import jsonify, request, url_for
from flask.typing import ResponseReturnValue

from surveys import answers, languages
from surveys.errors import N_, InvalidInput
from surveys.models import Answer, Channel, Wall
from surveys.reads import Note, wall_notes

from ..config import LANGUAGES
from ..extensions import db
from ..questions import option_labels
from ..ratelimits import answer_limit
from . import bp
from .openapi import MAX_ID, openapi_document

MAX_PER_PAGE = 100
#: Channels a client may claim through the API. Kiosk answers come from kiosk pages.
API_CHANNELS = {Channel.WEB, Channel.EVENT, Channel.API}


def _wall_json(wall: Wall) -> dict[str, Any]:
    offered = languages.offered_languages(wall)
    texts = {
        lang: {
            "title": str(languages.wall_title(wall, lang)),
            "intro": str(languages.wall_intro(wall, lang)),
            "areas": [str(name) for _area, name in languages.area_names(wall, lang)],
        }
        for lang in offered
    }
    return {
        "slug": wall.slug,
        "title": wall.title,
        "intro": wall.intro,
        "audience": wall.audience.value,
        "language": wall.language,
        "moderation": wall.moderation.value,
        "is_open": wall.is_open(),
        "opens_at": wall.opens_at.isoformat() if wall.opens_at else None,
        "closes_at": wall.closes_at.isoformat() if wall.closes_at else None,
        "profile_questions": list(wall.profile_questions),
        "areas": list(wall.areas),
        "languages": offered,
        "texts": texts,
        "prompts": [
            {
                "id": p.id,
                "text": p.text,
                "position": p.position,
                "texts": {lang: str(languages.prompt_text(wall, p, lang)) for lang in offered},
                "type": p.kind.value,
                "options": option_labels(p, wall.language),
                "follow_up": p.follow_up,
            }
            for p in wall.prompts
        ],
    }


def _note_json(note: Note) -> dict[str, Any]:
    return {
        "id": note.id,
        "prompt_id": note.prompt_id,
        "text": note.text,
        "created_at": note.created_at.isoformat(),
        "agree_count": note.agree_count,
        "value": note.value,
    }


def _stored_json(answer: Answer) -> dict[str, Any]:
    return {
        "id": answer.id,
        "client_submission_id": answer.client_submission_id,
        "prompt_id": answer.prompt_id,
        "status": answer.status.value,
        "created_at": answer.created_at.isoformat(),
        "value": answer.value,
    }


@bp.get("/walls/<slug>")
def get_wall(slug: str) -> ResponseReturnValue:
    """The wall and its prompts."""
    return jsonify(_wall_json(answers.get_wall_by_slug(db.session, slug)))


@bp.post("/walls/<slug>/answers")
@answer_limit
def post_answer(slug: str) -> ResponseReturnValue:
    """Store an answer: 201 when new, 200 for a retry with the same client_submission_id.

    ``written_at`` (optional) lets an answer written before the wall closed in, held for
    moderation, within :data:`surveys.answers.LATE_ANSWER_GRACE` after the close.
    """
    wall = answers.get_wall_by_slug(db.session, slug)
    if not request.is_json:
        raise InvalidInput(
            N_("Send the answer as JSON (Content-Type: application/json)."), code="not_json"
        )
    payload = request.get_json(silent=True)
    if not isinstance(payload, dict):
        raise InvalidInput(N_("The body must be a JSON object."), code="invalid_json")
    fields = {
        "prompt_id",
        "text",
        "value",
        "client_submission_id",
        "channel",
        "profile",
        "written_at",
    }
    unknown = set(payload) - fields
    if unknown:
        raise InvalidInput(
            N_("Unknown field: %(field)s."), code="unknown_field", field=sorted(unknown)[0][:40]
        )
    channel_value = payload.get("channel", Channel.API.value)
    try:
        channel = Channel(channel_value)
    except ValueError:
        channel = None
    if channel not in API_CHANNELS:
        raise InvalidInput(N_("Invalid channel."), code="invalid_channel")
    prompt_id = payload.get("prompt_id")
    if isinstance(prompt_id, int) and not 1 <= prompt_id <= MAX_ID:
        # Beyond what the database can hold: no such prompt (never an overflow error).
        raise InvalidInput(N_("Choose one of the wall's questions."), code="invalid_prompt")
    result = answers.submit_answer(
        db.session,
        wall,
        prompt_id=prompt_id,
        text=payload.get("text"),
        value=payload.get("value"),
        client_submission_id=payload.get("client_submission_id"),
        channel=channel,
        profile=payload.get("profile"),
        language=_content_language(wall),
        written_at=payload.get("written_at"),
    )
    status = 201 if result.created else 200
    response = jsonify(_stored_json(result.answer))
    response.status_code = status
    if result.created:
        response.headers["Location"] = url_for(".get_wall", slug=wall.slug)
    return response


@bp.get("/walls/<slug>/answers")
def list_answers(slug: str) -> ResponseReturnValue:
    """Approved answers, newest first, ``page`` and ``per_page`` (at most 100)."""
    wall = answers.get_wall_by_slug(db.session, slug)
    page = _positive_int("page", 1, 100_000)
    per_page = _positive_int("per_page", 20, MAX_PER_PAGE)
    prompt_id = request.args.get("prompt_id")
    prompt_filter = None
    if prompt_id is not None:
        if not (prompt_id.isdecimal() and 1 <= int(prompt_id) <= MAX_ID):
            raise InvalidInput(N_("prompt_id must be a number."), code="invalid_prompt")
        prompt_filter = int(prompt_id)
    notes = wall_notes(
        db.session,
        wall.id,
        limit=per_page,
        offset=(page - 1) * per_page,
        prompt_id=prompt_filter,
    )
    return jsonify(
        items=[_note_json(n) for n in notes.notes],
        page=page,
        per_page=per_page,
        total=notes.total,
        next_page=page + 1 if notes.has_more else None,
    )


def _content_language(wall: Wall) -> str:
    language = request.headers.get("Content-Language", "").strip().lower()[:2]
    return language if language in LANGUAGES else wall.language


def _positive_int(name: str, default: int, maximum: int) -> int:
    raw = request.args.get(name)
    if raw is None:
        return default
    if not raw.isdecimal() or not 1 <= int(raw) <= maximum:
        raise InvalidInput(
            N_("%(name)s must be a whole number from 1 to %(max)d."),
            code="invalid_pagination",
            name=name,
            max=maximum,
        )
    return int(raw)


@bp.get("/openapi.json")
def openapi() -> ResponseReturnValue:
    """The OpenAPI 3 document of this API."""
    return jsonify(openapi_document())
