"""Rate limits on answering, agreeing and signing in, with Flask-Limiter's decorators.

- Answering is limited per client: the web form and the JSON API share one limit per client
  (``@answer_limit``); a kiosk tablet with a valid device token has its own, higher limit per
  device (``@kiosk_device_limit``; ``@kiosk_answer_limit`` counts a kiosk without one as any
  client). Client addresses are never stored as they are: the key is a keyed hash
  (:func:`client_key`).
- "Enig" on a note (``@reaction_limit``) and staff sign-in attempts (``@login_limit``) are
  limited per client.

The limits are the settings ``RATELIMIT_ANSWERS``, ``RATELIMIT_KIOSK``, ``RATELIMIT_REACTIONS``
and ``RATELIMIT_LOGIN``, read from the app's config when a request is counted. They are
counted with the moving window (the limit holds over any 60 seconds, also across the turn of
a clock minute) in ``RATELIMIT_STORAGE_URI``: by default in Redis when ``REDIS_URL`` is set
(shared by every process and server), else in the memory of the one worker process that
serves the app (gunicorn.conf.py refuses several processes that would each count alone).

:func:`init_rate_limits` (called from :func:`app.security.init_security`) initialises the one
:data:`limiter` of the process for the app. Flask-Limiter takes its own settings
(``RATELIMIT_SWALLOW_ERRORS`` and the like) from the first app it is initialised with; Stemmer's
settings above, the headers and whether limits are on are read per app.
"""

from __future__ import annotations

import hashlib
import ipaddress
import logging
import math
import time
from collections.abc import Callable

from flask import Flask, current_app, g, request
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _
from flask_limiter import Limiter
from limits import parse_many
from limits.errors import StorageError
from werkzeug.http import http_date
from werkzeug.wrappers import Response

from surveys.kiosk import device_by_token

from .extensions import db

KIOSK_DEVICE_HEADER = "X-Kiosk-Device"
#: The first part of every limit key in the storage (after the ``limits`` namespace).
KEY_PREFIX = "stemmer"
#: The settings that hold a limit, checked when the app is made.
LIMIT_SETTINGS = ("RATELIMIT_ANSWERS", "RATELIMIT_KIOSK", "RATELIMIT_REACTIONS", "RATELIMIT_LOGIN")
#: Seconds a client is asked to wait when the limits' storage cannot be reached.
RETRY_AFTER_UNAVAILABLE = 5

logger = logging.getLogger(__name__)


def client_address() -> str:
    """The client's address as limits count it: an IPv6 client by its /64 network, which one
    household or server usually has whole (else a client could take a new address for every
    few requests)."""
    address = request.remote_addr or "unknown"
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return address
    if ip.version == 6 and ip.ipv4_mapped is None:
        return str(ipaddress.ip_network(f"{ip}/64", strict=False))
    return address


def client_key() -> str:
    """The rate-limit key of the client: a keyed hash of its address (never the address)."""
    address = client_address()
    secret = str(current_app.config["SECRET_KEY"]).encode()
    digest = hashlib.blake2b(address.encode(), key=secret[:64], digest_size=12)
    return f"client:{digest.hexdigest()}"


def _kiosk_token() -> str | None:
    return (
        request.headers.get(KIOSK_DEVICE_HEADER)
        or request.form.get("device")
        or request.args.get("device")
    )


def kiosk_device_id() -> int | None:
    """The id of the active kiosk device whose token this request carries, else None."""
    if "kiosk_device_id" not in g:
        token = _kiosk_token()
        device = device_by_token(db.session, token) if token else None
        g.kiosk_device_id = device.id if device is not None and device.is_active else None
    return g.kiosk_device_id


def kiosk_key() -> str:
    """The rate-limit key of a kiosk device."""
    return f"kiosk:{kiosk_device_id()}"


def _has_kiosk() -> bool:
    return kiosk_device_id() is not None


def _lacks_kiosk() -> bool:
    return kiosk_device_id() is None


def _setting(name: str) -> Callable[[], str]:
    """The limit in the app's setting ``name``, read when a request is counted."""

    def limit() -> str:
        return str(current_app.config[name])

    limit.__name__ = name
    return limit


#: The process's limiter; :func:`init_rate_limits` initialises it for the app. Its headers
#: are written by :func:`describe_limit` (Flask-Limiter's own would put ``Retry-After`` on
#: every limited response, also on a 503 that asks for a retry in 5 seconds).
limiter = Limiter(
    key_func=client_key,
    key_prefix=KEY_PREFIX,
    strategy="moving-window",
    headers_enabled=False,
    # A storage that fails (Redis gone, the SQLite file locked too long) raises StorageError.
    storage_options={"wrap_exceptions": True},
)

#: Answers through the web form and the API: one budget per client.
answer_limit = limiter.shared_limit(_setting("RATELIMIT_ANSWERS"), scope="answers")
#: The kiosk's views carry both: a valid device token answers on the device's own limit
#: (``kiosk_device_limit``, shared by the kiosk's form and its JSON endpoint); without one (a
#: wrong, revoked or missing token) the answer counts against the client's answer budget.
kiosk_device_limit = limiter.shared_limit(
    _setting("RATELIMIT_KIOSK"), scope="kiosk", key_func=kiosk_key, exempt_when=_lacks_kiosk
)
kiosk_answer_limit = limiter.shared_limit(
    _setting("RATELIMIT_ANSWERS"), scope="answers", exempt_when=_has_kiosk
)
#: "Enig" on a note, per client.
reaction_limit = limiter.limit(_setting("RATELIMIT_REACTIONS"), methods=["POST"])
#: Staff sign-in attempts per client, on top of the per-account lockout, so that one address
#: cannot try passwords against many accounts.
login_limit = limiter.limit(_setting("RATELIMIT_LOGIN"), methods=["POST"])


def describe_limit(response: Response) -> Response:
    """``X-RateLimit-Limit/-Remaining/-Reset`` for the limit the request counted against (the
    one it went over, else the view's own, else the shared one); on a 429 also ``Retry-After``,
    the seconds until that limit has room again (an HTTP date with
    ``RATELIMIT_HEADER_RETRY_AFTER_VALUE=http-date``). Off with ``RATELIMIT_HEADERS_ENABLED``
    false."""
    counted = limiter.current_limit
    config = current_app.config
    if counted is None or not config.get("RATELIMIT_HEADERS_ENABLED", True):
        return response
    try:
        reset, remaining = counted.window
    except StorageError:
        logger.warning("Rate limit storage failed; no rate limit headers", exc_info=True)
        return response
    headers = response.headers
    headers["X-RateLimit-Limit"] = str(counted.limit.amount)
    headers["X-RateLimit-Remaining"] = str(remaining)
    headers["X-RateLimit-Reset"] = str(counted.reset_at)
    if response.status_code == 429 and "Retry-After" not in headers:
        if config.get("RATELIMIT_HEADER_RETRY_AFTER_VALUE") == "http-date":
            headers["Retry-After"] = http_date(counted.reset_at)
        else:
            headers["Retry-After"] = str(max(1, math.ceil(reset - time.time())))
    return response


def limit_storage_unavailable(error: StorageError) -> ResponseReturnValue:
    """503 with ``Retry-After`` when the limits' storage fails: the limit is checked before
    the view runs, so nothing was done; the outbox sends again shortly.
    (With ``RATELIMIT_SWALLOW_ERRORS`` the request goes through uncounted instead.)"""
    from .core import error_response  # here: app.core imports app.security, which imports us

    logger.warning("Rate limit storage unavailable: %s", error)
    response = current_app.make_response(
        error_response(
            503,
            "rate_limit_unavailable",
            _("The service is busy for a moment. Please try again shortly."),
        )
    )
    response.headers["Retry-After"] = str(RETRY_AFTER_UNAVAILABLE)
    response.headers["Cache-Control"] = "no-store"
    return response


def init_rate_limits(app: Flask) -> Limiter:
    """Initialise :data:`limiter` for ``app`` (nothing is counted when
    ``RATELIMIT_ENABLED`` is off). A limit setting that is no limit stops the app here."""
    for name in LIMIT_SETTINGS:
        try:
            parse_many(str(app.config[name]))
        except ValueError as error:
            raise ValueError(f"{name}: {error}") from None
    limiter.init_app(app)
    app.extensions["stemmer.limiter"] = limiter
    if limiter.enabled:
        app.after_request(describe_limit)
        app.register_error_handler(StorageError, limit_storage_unavailable)
    return limiter
