"""The plain answer form sent again is the same submission (Back, then Send, without
JavaScript).

Why it happened: after an answer the browser shows the thanks page; Back loads the wall (or
kiosk) page again from the server, which renders the form with a new
``client_submission_id``, while the browser puts the text back into the box. Send then posts
the same answer under a new id, and it was stored a second time.

So the browser's session remembers a fingerprint of the answers it sent lately (wall,
question, text and "om dig" values, hashed with the app's secret key: the cookie never holds
the text) with the stored answer's id. The same answer from the same session within
:data:`RESUBMIT_SECONDS` is recognised and leads to the thanks page of the stored answer.

A kiosk tablet is shared: there :func:`forget` runs when the screen starts over for the next
person, so two people writing the same words are two answers.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import time
from collections.abc import Mapping

from flask import current_app, session

#: How long after an answer the same answer from the same browser counts as sent again.
RESUBMIT_SECONDS = 15 * 60
#: How many recent answers a session remembers.
KEPT = 10
SESSION_KEY = "recent_answers"


def _fingerprint(
    wall_id: int, prompt_id: int, text: str, profile: Mapping[str, str], device_id: int | None
) -> str:
    message = json.dumps([wall_id, prompt_id, text, sorted(profile.items()), device_id])
    key = str(current_app.secret_key).encode()
    return hmac.new(key, message.encode(), hashlib.sha256).hexdigest()[:32]


def _recent(now: float) -> list[list[object]]:
    """The session's remembered answers, ``[fingerprint, answer id, time]``, still recent."""
    entries = session.get(SESSION_KEY, [])
    if not isinstance(entries, list):
        return []
    return [
        entry
        for entry in entries
        if isinstance(entry, list)
        and len(entry) == 3
        and isinstance(entry[2], int | float)
        and now - entry[2] < RESUBMIT_SECONDS
    ]


def earlier_answer(
    wall_id: int,
    prompt_id: int,
    text: str,
    profile: Mapping[str, str],
    device_id: int | None = None,
) -> int | None:
    """The id of the same answer sent from this browser session a moment ago, or None.

    ``text`` as the form cleaned it (normalised), so that a box the browser restored with
    slightly different white space still matches.
    """
    fingerprint = _fingerprint(wall_id, prompt_id, text, profile, device_id)
    for entry in _recent(time.time()):
        if entry[0] == fingerprint and isinstance(entry[1], int):
            return entry[1]
    return None


def remember(
    wall_id: int,
    prompt_id: int,
    text: str,
    profile: Mapping[str, str],
    answer_id: int,
    device_id: int | None = None,
) -> None:
    """Remember an answer this session has just sent (see :func:`earlier_answer`)."""
    now = time.time()
    fingerprint = _fingerprint(wall_id, prompt_id, text, profile, device_id)
    entries = [entry for entry in _recent(now) if entry[0] != fingerprint]
    session[SESSION_KEY] = [*entries, [fingerprint, answer_id, int(now)]][-KEPT:]


def forget() -> None:
    """Forget the session's recent answers (a kiosk starting over for the next person)."""
    session.pop(SESSION_KEY, None)
