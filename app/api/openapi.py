"""The OpenAPI 3.1 document of the JSON API v1, kept next to the views it describes."""

from __future__ import annotations

from typing import Any

from surveys.answers import LATE_ANSWER_GRACE, WRITTEN_AT_CLOCK_SKEW
from surveys.models import AGE_GROUP_CODES, ROLE_CODES
from surveys.text import MAX_ANSWER_LENGTH

MAX_ID = 2**31 - 1


def _error(description: str) -> dict[str, Any]:
    return {
        "description": description,
        "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}},
    }


def _json(description: str, schema: str) -> dict[str, Any]:
    return {
        "description": description,
        "content": {"application/json": {"schema": {"$ref": f"#/components/schemas/{schema}"}}},
    }


#: The database cannot be reached for a moment; what was sent may or may not be stored.
UNAVAILABLE = _error(
    "The database is unavailable for a moment; what was sent may or may not have been "
    "stored. Send it again after Retry-After seconds with the same client_submission_id "
    "(it is never stored twice; a retry of a stored answer gets 200 and that answer)"
)

#: Database ids: positive 32-bit integers.
ID: dict[str, Any] = {"type": "integer", "minimum": 1, "maximum": MAX_ID}

SLUG = {
    "name": "slug",
    "in": "path",
    "required": True,
    "schema": {"type": "string", "maxLength": 64},
    "description": "The wall's slug, as in its link /w/<slug>.",
}


def openapi_document() -> dict[str, Any]:
    """The document served at ``/api/v1/openapi.json``."""
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "Stemmer API",
            "version": "1.0.0",
            "description": (
                "Question walls and anonymous answers. Posting is idempotent per "
                "client_submission_id: a retry returns the stored answer."
            ),
        },
        "servers": [{"url": "/api/v1"}],
        "paths": {
            "/walls/{slug}": {
                "get": {
                    "operationId": "getWall",
                    "summary": "A wall and its prompts",
                    "parameters": [SLUG],
                    "responses": {
                        "200": _json("The wall", "Wall"),
                        "404": _error("No wall with this slug"),
                        "503": UNAVAILABLE,
                    },
                }
            },
            "/walls/{slug}/answers": {
                "get": {
                    "operationId": "listAnswers",
                    "summary": "Approved answers, newest first",
                    "parameters": [
                        SLUG,
                        {
                            "name": "page",
                            "in": "query",
                            "schema": {"type": "integer", "minimum": 1, "maximum": 100000},
                        },
                        {
                            "name": "per_page",
                            "in": "query",
                            "schema": {"type": "integer", "minimum": 1, "maximum": 100},
                        },
                        {"name": "prompt_id", "in": "query", "schema": ID},
                    ],
                    "responses": {
                        "200": _json("A page of answers", "AnswerPage"),
                        "400": _error("Invalid paging parameters"),
                        "404": _error("No wall with this slug"),
                        "503": UNAVAILABLE,
                    },
                },
                "post": {
                    "operationId": "postAnswer",
                    "summary": "Submit an answer (idempotent per client_submission_id)",
                    "description": (
                        "A change to the wall (closing it, its moderation, its questions) "
                        "applies to answers at once on the server where it was made and "
                        "within a second on the others. An answer written before the wall "
                        "closed (written_at) is accepted, held for moderation, when it "
                        f"arrives within {LATE_ANSWER_GRACE.total_seconds() / 3600:g} hours "
                        "after the close."
                    ),
                    "parameters": [SLUG],
                    "requestBody": {
                        "required": True,
                        "content": {
                            "application/json": {
                                "schema": {"$ref": "#/components/schemas/NewAnswer"}
                            }
                        },
                    },
                    "responses": {
                        "201": _json("Stored", "StoredAnswer"),
                        "200": _json("Already stored earlier (a retry)", "StoredAnswer"),
                        "400": _error("Invalid input"),
                        "403": _error("The wall has not opened yet"),
                        "404": _error("No wall with this slug"),
                        "409": _error("client_submission_id used for a different answer"),
                        "410": _error(
                            "The wall has closed (and the answer was not written before it, "
                            "or arrived after the grace period)"
                        ),
                        "413": _error("Body too large"),
                        "429": _error(
                            "Too many answers from this client; send again after Retry-After "
                            "seconds"
                        ),
                        "503": UNAVAILABLE,
                    },
                },
            },
            "/openapi.json": {
                "get": {
                    "operationId": "getOpenAPI",
                    "summary": "This document",
                    "responses": {"200": {"description": "The OpenAPI document"}},
                }
            },
        },
        "components": {
            "schemas": {
                "Error": {
                    "type": "object",
                    "required": ["error"],
                    "properties": {
                        "error": {
                            "type": "object",
                            "required": ["code", "message"],
                            "properties": {
                                "code": {"type": "string"},
                                "message": {"type": "string"},
                            },
                        }
                    },
                },
                "Prompt": {
                    "type": "object",
                    "required": ["id", "text", "position", "type"],
                    "properties": {
                        "id": {"type": "integer"},
                        "text": {"type": "string", "description": "In the wall's language"},
                        "position": {"type": "integer"},
                        "type": {
                            "enum": ["text", "scale", "single", "multiple"],
                            "description": "text: a written answer; scale: a number from 1 to "
                            "5; single: one option; multiple: any of the options. A closed "
                            "question's answer sends `value`, and may add `text` (the follow-up).",
                        },
                        "options": {
                            "type": "array",
                            "items": {"$ref": "#/components/schemas/Option"},
                            "description": "A closed question's options, in order (empty for text)",
                        },
                        "follow_up": {
                            "type": ["string", "null"],
                            "description": 'A closed question\'s optional follow-up ("Hvorfor?")',
                        },
                        "texts": {
                            "type": "object",
                            "description": "The question in each language the wall offers",
                            "additionalProperties": {"type": "string"},
                        },
                    },
                },
                "Option": {
                    "type": "object",
                    "required": ["id", "label"],
                    "properties": {
                        "id": {"type": "string", "maxLength": 16},
                        "label": {"type": "string", "description": "In the wall's language"},
                        "value": {
                            "type": "integer",
                            "minimum": 1,
                            "maximum": 5,
                            "description": "A scale's number",
                        },
                    },
                },
                "WallTexts": {
                    "type": "object",
                    "description": "The wall's texts in one language (areas in the order of "
                    "`areas`; where staff gave no names in this language, the wall's own)",
                    "properties": {
                        "title": {"type": "string"},
                        "intro": {"type": "string"},
                        "areas": {"type": "array", "items": {"type": "string"}},
                    },
                },
                "Wall": {
                    "type": "object",
                    "required": ["slug", "title", "audience", "language", "prompts", "is_open"],
                    "properties": {
                        "slug": {"type": "string"},
                        "title": {"type": "string"},
                        "intro": {"type": "string"},
                        "audience": {"enum": ["parents", "young", "everyone"]},
                        "language": {"type": "string"},
                        "moderation": {"enum": ["pre", "post"]},
                        "is_open": {"type": "boolean"},
                        "opens_at": {"type": ["string", "null"], "format": "date-time"},
                        "closes_at": {"type": ["string", "null"], "format": "date-time"},
                        "profile_questions": {
                            "type": "array",
                            "items": {"enum": ["role", "age_group", "area"]},
                        },
                        "areas": {"type": "array", "items": {"type": "string"}},
                        "languages": {
                            "type": "array",
                            "items": {"type": "string"},
                            "description": "The languages the wall is offered in (its own "
                            "first): those in which its title, intro and questions exist",
                        },
                        "texts": {
                            "type": "object",
                            "description": "The wall's texts by language, for each offered one",
                            "additionalProperties": {"$ref": "#/components/schemas/WallTexts"},
                        },
                        "prompts": {
                            "type": "array",
                            "items": {"$ref": "#/components/schemas/Prompt"},
                        },
                    },
                },
                "Profile": {
                    "type": "object",
                    "additionalProperties": False,
                    "description": "Optional; only the questions the wall asks are accepted.",
                    "properties": {
                        "role": {"enum": [*ROLE_CODES, "", None]},
                        "age_group": {"enum": [*AGE_GROUP_CODES, "", None]},
                        "area": {
                            "type": ["string", "null"],
                            "description": "One of the wall's areas",
                        },
                    },
                },
                "NewAnswer": {
                    "type": "object",
                    "additionalProperties": False,
                    "required": ["prompt_id", "client_submission_id"],
                    "properties": {
                        "prompt_id": ID,
                        "text": {
                            "type": "string",
                            "description": f"At most {MAX_ANSWER_LENGTH} characters after "
                            "normalisation (control and invisible characters removed). "
                            "Required for a text question; optional beside a closed "
                            "question's value (its follow-up).",
                        },
                        "value": {
                            "oneOf": [
                                {"type": "integer", "minimum": 1, "maximum": 5},
                                {"type": "string", "maxLength": 16},
                                {"type": "array", "items": {"type": "string", "maxLength": 16}},
                            ],
                            "description": "A closed question's answer: a scale's number, a "
                            "single choice's option id, or a list of option ids. 400 "
                            "value_not_allowed on a text question, invalid_value for the wrong "
                            "shape, unknown_option for a number off the scale or an option "
                            "that does not exist; empty_answer when neither a value nor text "
                            "is given. An answer written (written_at) before the question "
                            "was changed is kept as sent.",
                        },
                        "client_submission_id": {
                            "type": "string",
                            "pattern": "^[A-Za-z0-9_.:-]{8,64}$",
                        },
                        "channel": {"enum": ["web", "event", "api"], "default": "api"},
                        "profile": {"$ref": "#/components/schemas/Profile"},
                        "written_at": {
                            "type": "string",
                            "format": "date-time",
                            "maxLength": 40,
                            "description": (
                                "When the answer was written on the device, ISO 8601 with a "
                                "UTC offset (an offline client sends it later). Unparsable: "
                                "400 invalid_written_at; more than "
                                f"{WRITTEN_AT_CLOCK_SKEW.total_seconds() / 60:g} minutes in "
                                "the future: ignored (the device's clock is wrong)."
                            ),
                        },
                    },
                },
                "StoredAnswer": {
                    "type": "object",
                    "required": ["id", "client_submission_id", "prompt_id", "status", "created_at"],
                    "properties": {
                        "id": {"type": "integer"},
                        "client_submission_id": {"type": "string"},
                        "prompt_id": {"type": "integer"},
                        "status": {
                            "enum": ["pending", "approved", "hidden", "counted"],
                            "description": "counted: a closed question's answer without text "
                            "(counted in the results, never shown as a note)",
                        },
                        "created_at": {"type": "string", "format": "date-time"},
                        "value": {"description": "The stored value of a closed question"},
                    },
                },
                "Note": {
                    "type": "object",
                    "required": ["id", "prompt_id", "text", "created_at", "agree_count"],
                    "properties": {
                        "id": {"type": "integer"},
                        "prompt_id": {"type": "integer"},
                        "text": {"type": "string"},
                        "created_at": {"type": "string", "format": "date-time"},
                        "agree_count": {"type": "integer", "minimum": 0},
                        "value": {
                            "description": "The choice given beside the text, on a closed "
                            "question (null for a free-text question)"
                        },
                    },
                },
                "AnswerPage": {
                    "type": "object",
                    "required": ["items", "page", "per_page", "total", "next_page"],
                    "properties": {
                        "items": {"type": "array", "items": {"$ref": "#/components/schemas/Note"}},
                        "page": {"type": "integer"},
                        "per_page": {"type": "integer"},
                        "total": {"type": "integer"},
                        "next_page": {"type": ["integer", "null"]},
                    },
                },
            }
        },
    }
