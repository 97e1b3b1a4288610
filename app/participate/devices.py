"""The device key behind "enig": one agree per device and note, with keys only the server issues.

The key is a random value the server gives a phone in a signed cookie when the wall page is
served (:func:`issue_device_key`, then :func:`set_device_cookie` on the response: the page
cache holds only the page's HTML, never a cookie). An "enig" counts only with a key signed
by this site (:func:`device_key`), so a script cannot make up a new device for every post;
getting a new key takes a visit to the wall page, and the number of "enig" per note from one
client address is capped by a rate limit (``RATELIMIT_REACTIONS_PER_ANSWER``).

The cookie also says whether the device has ever agreed, so that the wall page looks up the
notes it agreed with only for such devices. A cookie from before keys were signed (the bare
random key, set by an "enig") is signed as it is when the wall page is served, so such a
device keeps its "enig" instead of agreeing again under a new key.
"""

from __future__ import annotations

import re
import secrets

from flask import current_app, g, request
from itsdangerous import BadSignature, URLSafeSerializer
from werkzeug.wrappers import Response

DEVICE_COOKIE = "stemmer_device"
#: A key as the server makes it (``secrets.token_urlsafe(16)``), also the bare cookie of old.
_KEY = re.compile(r"[A-Za-z0-9_-]{22}")
_SALT = "stemmer.device-key"
_ONE_YEAR = 365 * 24 * 3600


def _serializer() -> URLSafeSerializer:
    """Signs with the app's secret key (and still accepts ``SECRET_KEY_FALLBACKS``)."""
    fallbacks = current_app.config.get("SECRET_KEY_FALLBACKS") or []
    return URLSafeSerializer([*fallbacks, current_app.secret_key], salt=_SALT)


def _verified(cookie: str | None) -> tuple[str, bool] | None:
    """The key and the "has agreed" mark in a cookie this site signed, else None."""
    if not cookie:
        return None
    try:
        value = _serializer().loads(cookie)
    except BadSignature:
        return None
    if isinstance(value, list) and len(value) == 2 and isinstance(value[0], str):
        key, agreed = value
        return (key, bool(agreed)) if _KEY.fullmatch(key) else None
    return None


def _device() -> tuple[str, bool] | None:
    if "device" not in g:
        g.device = _verified(request.cookies.get(DEVICE_COOKIE))
    return g.device


def device_key() -> str | None:
    """This device's key: from its signed cookie, or issued while serving this request; None
    when it has none or a cookie the server did not sign."""
    device = _device()
    return device[0] if device else None


def agreed_key() -> str | None:
    """The key of a device that has ever said "enig", else None: the wall page looks up which
    notes it agreed with only then (a first visit costs no query)."""
    device = _device()
    return device[0] if device and device[1] else None


def issue_device_key() -> None:
    """Give the device a key unless its cookie carries one (the wall page calls this)."""
    if _device() is None:
        old = request.cookies.get(DEVICE_COOKIE, "")
        if _KEY.fullmatch(old):  # the old cookie was only set by an "enig"
            g.device = (old, True)
        else:
            g.device = (secrets.token_urlsafe(16), False)
        g.device_cookie_changed = True


def mark_agreed() -> None:
    """Note in the device's cookie that it has said "enig" (after one was recorded)."""
    device = _device()
    if device is not None and not device[1]:
        g.device = (device[0], True)
        g.device_cookie_changed = True


def set_device_cookie(response: Response) -> Response:
    """Set the signed cookie on ``response`` when this request issued or changed it."""
    if g.get("device_cookie_changed"):
        response.set_cookie(
            DEVICE_COOKIE,
            _serializer().dumps(list(g.device)),
            max_age=_ONE_YEAR,
            httponly=True,
            samesite="Lax",
            secure=request.is_secure,
        )
    return response
