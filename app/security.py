"""Security headers, rate limits, proxies and the "database unavailable" answer.

Called once from the app factory (:func:`init_security`) after the blueprints are registered:

- Every response carries a strict Content-Security-Policy (no inline scripts or styles; the
  pages load their scripts and styles from ``/static``) and the usual hardening headers;
  HSTS is sent on HTTPS requests only.
- Answering, agreeing and signing in are rate limited per client (:mod:`app.ratelimits`).
- ``STEMMER_TRUSTED_PROXIES`` (the number of proxies in front of the app) makes the client
  address and HTTPS come from the load balancer's ``X-Forwarded-*`` headers.
- JSON nested too deeply for Python's parser, numbers too large for the database and NUL
  characters PostgreSQL refuses are invalid input (400), not a crash.
- When the database cannot be reached, requests get 503 with ``Retry-After`` (JSON under
  ``/api/``): nothing was stored, and clients (the offline outbox) send again later.
"""

from __future__ import annotations

import os
from typing import Any

import flask
from flask import Flask, current_app, request
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _
from sqlalchemy.exc import DataError, InterfaceError, OperationalError
from sqlalchemy.exc import TimeoutError as PoolTimeoutError
from werkzeug.middleware.proxy_fix import ProxyFix
from werkzeug.wrappers import Response

from .ratelimits import init_rate_limits

#: The Content-Security-Policy of every response. The pages use no inline script, no inline
#: style and no event-handler attributes, so neither needs ``'unsafe-inline'``.
CSP: dict[str, str] = {
    "default-src": "'self'",
    "script-src": "'self'",
    "style-src": "'self'",
    "img-src": "'self' data:",
    "font-src": "'self'",
    "connect-src": "'self'",
    "manifest-src": "'self'",
    "worker-src": "'self'",
    "object-src": "'none'",
    "base-uri": "'none'",
    "form-action": "'self'",
    "frame-ancestors": "'none'",
}

SECURITY_HEADERS: dict[str, str] = {
    "X-Content-Type-Options": "nosniff",
    # Kiosk links carry the device token: never send a URL to another site.
    "Referrer-Policy": "same-origin",
    "X-Frame-Options": "DENY",
    "Cross-Origin-Opener-Policy": "same-origin",
    "Permissions-Policy": "camera=(), microphone=(), geolocation=(), payment=(), usb=()",
}

#: Seconds a client is asked to wait when the database is unavailable.
RETRY_AFTER_UNAVAILABLE = 5


def _env_flag(name: str, default: str = "0") -> bool:
    return os.environ.get(name, default).strip().lower() in ("1", "true", "yes", "on")


def security_defaults(app: Flask) -> dict[str, Any]:
    """Settings this module reads, from the environment; explicit app config wins.

    Rate limits are off in the test app (``TESTING``) unless a test turns them on with
    ``RATELIMIT_ENABLED``: the suite posts many answers from one client.
    """
    env = os.environ
    return {
        "RATELIMIT_ENABLED": _env_flag("RATELIMIT_ENABLED", "0" if app.testing else "1"),
        "RATELIMIT_STORAGE_URI": env.get("RATELIMIT_STORAGE_URI", "memory://"),
        "RATELIMIT_STRATEGY": env.get("RATELIMIT_STRATEGY", "moving-window"),
        "RATELIMIT_HEADERS_ENABLED": True,
        # Per client address, web form and API together. The offline outbox treats 429 as
        # "try again later", so a burst at an event on one shared network delays, never loses.
        "RATELIMIT_ANSWERS": env.get("RATELIMIT_ANSWERS", "60 per minute;1000 per hour"),
        # Per kiosk device with a valid token (its outbox may flush a day's answers at once).
        "RATELIMIT_KIOSK": env.get("RATELIMIT_KIOSK", "240 per minute;5000 per hour"),
        "RATELIMIT_REACTIONS": env.get("RATELIMIT_REACTIONS", "120 per minute"),
        # Sign-in attempts per client address (an office behind one address has colleagues).
        "RATELIMIT_LOGIN": env.get("RATELIMIT_LOGIN", "20 per minute;200 per hour"),
        "STEMMER_TRUSTED_PROXIES": int(env.get("STEMMER_TRUSTED_PROXIES", "0") or 0),
        "HSTS_SECONDS": int(env.get("STEMMER_HSTS_SECONDS", str(365 * 24 * 3600))),
        "CSP_FRAME_ANCESTORS": env.get("STEMMER_FRAME_ANCESTORS", "'none'"),
    }


def content_security_policy(frame_ancestors: str = "'none'") -> str:
    """The Content-Security-Policy header value."""
    directives = {**CSP, "frame-ancestors": frame_ancestors}
    return "; ".join(f"{name} {value}" for name, value in directives.items())


def add_security_headers(response: Response) -> Response:
    """The hardening headers and the Content-Security-Policy on every response.

    A header the view already set is left as it is. The (name, value) pairs are built once
    per app (:func:`_security_header_pairs`), and added in one call.
    """
    pairs = current_app.extensions.get("stemmer.security_headers")
    if pairs is None:
        pairs = current_app.extensions.setdefault(
            "stemmer.security_headers", _security_header_pairs(current_app)
        )
    plain, https = pairs
    headers = response.headers
    present = {name.lower() for name in headers.keys()}  # noqa: SIM118  (Headers, not a dict)
    wanted = https if request.is_secure else plain
    headers.extend([(name, value) for key, name, value in wanted if key not in present])
    return response


def _security_header_pairs(
    app: Flask,
) -> tuple[list[tuple[str, str, str]], list[tuple[str, str, str]]]:
    """(lower-case name, name, value) of the headers for HTTP and for HTTPS responses."""
    plain = [
        *SECURITY_HEADERS.items(),
        ("Content-Security-Policy", app.config["CONTENT_SECURITY_POLICY"]),
    ]
    https = list(plain)
    if app.config["HSTS_SECONDS"]:
        https.append(("Strict-Transport-Security", f"max-age={app.config['HSTS_SECONDS']}"))
    return (
        [(name.lower(), name, value) for name, value in plain],
        [(name.lower(), name, value) for name, value in https],
    )


def database_unavailable(_error: Exception) -> ResponseReturnValue:
    """503 when the database cannot be reached (nothing was stored; try again shortly)."""
    from .core import error_response

    current_app.logger.warning("Database unavailable: %s", _error.__class__.__name__)
    response = current_app.make_response(
        error_response(
            503,
            "database_unavailable",
            _(
                "The service is unavailable for a moment and nothing was stored. "
                "Please try again shortly."
            ),
        )
    )
    response.headers["Retry-After"] = str(RETRY_AFTER_UNAVAILABLE)
    response.headers["Cache-Control"] = "no-store"
    return response


class Request(flask.Request):
    """Flask's request, with JSON nested too deeply to parse treated as invalid JSON.

    Python's decoder raises RecursionError (not ValueError) on ``[[[[...`` a few thousand
    levels deep; without this it would be a 500 instead of a 400.
    """

    def get_json(self, force: bool = False, silent: bool = False, cache: bool = True) -> Any:
        """As Flask's, but a body nested too deeply is invalid JSON like any other."""
        try:
            return super().get_json(force=force, silent=silent, cache=cache)
        except RecursionError as error:
            if silent:
                return None
            return self.on_json_loading_failed(ValueError(str(error)))


def data_rejected(error: Exception) -> ResponseReturnValue:
    """400 for input the database refuses as data: a number too large for its integers
    (SQLite: OverflowError; PostgreSQL: "integer out of range") or a NUL character in a
    string (PostgreSQL). Bad input, never a 500; logged, since the view should have refused
    it first."""
    from .core import error_response

    current_app.logger.warning("Input refused by the database: %s", error.__class__.__name__)
    return error_response(400, "bad_request", _("The request could not be understood."))


def init_security(app: Flask) -> None:
    """Headers, proxies, rate limits and the 503 handler; call after registering blueprints."""
    for key, value in security_defaults(app).items():
        app.config.setdefault(key, value)
    app.config.setdefault(
        "CONTENT_SECURITY_POLICY", content_security_policy(app.config["CSP_FRAME_ANCESTORS"])
    )
    proxies = int(app.config["STEMMER_TRUSTED_PROXIES"])
    if proxies > 0:
        app.wsgi_app = ProxyFix(  # type: ignore[method-assign]
            app.wsgi_app, x_for=proxies, x_proto=proxies, x_host=proxies, x_port=proxies
        )
    app.request_class = Request
    app.after_request(add_security_headers)
    for error in (OperationalError, InterfaceError, PoolTimeoutError):
        app.register_error_handler(error, database_unavailable)
    for error in (OverflowError, DataError):
        app.register_error_handler(error, data_rejected)
    init_rate_limits(app)
