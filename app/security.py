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
- When the database cannot be reached or does not answer in time (a restart, a fail-over, a
  lock held elsewhere), requests get 503 with ``Retry-After`` (JSON under ``/api/`` and for
  JSON clients), also when that happens while the request's session is closed, after the
  view. What was sent may or may not have been stored (a commit can reach the database
  while the connection breaks before its reply), so the answer says so, and clients (the
  offline outbox) send it again with the same ``client_submission_id``, which is never
  stored twice.
- A URL longer than ``MAX_URL_LENGTH`` is refused with 414 (gunicorn.conf.py lets longer
  request lines through to the app, up to its own hard limit).
"""

from __future__ import annotations

from typing import Any

import flask
from flask import Flask, current_app, request
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _
from sqlalchemy.exc import DataError, DisconnectionError, InterfaceError, OperationalError
from sqlalchemy.exc import TimeoutError as PoolTimeoutError
from werkzeug.exceptions import RequestURITooLarge
from werkzeug.middleware.proxy_fix import ProxyFix
from werkzeug.wrappers import Response

from .extensions import db
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

#: The errors that mean "the database cannot be reached or did not answer in time": the
#: connection failed or broke, a lock or a pooled connection was waited for too long.
DATABASE_UNAVAILABLE_ERRORS: tuple[type[Exception], ...] = (
    OperationalError,
    InterfaceError,
    DisconnectionError,
    PoolTimeoutError,
)


def content_security_policy(frame_ancestors: str = "'none'", form_action: str = "'self'") -> str:
    """The Content-Security-Policy header value."""
    directives = {**CSP, "form-action": form_action, "frame-ancestors": frame_ancestors}
    return "; ".join(f"{name} {value}" for name, value in directives.items())


def add_security_headers(response: Response) -> Response:
    """The hardening headers and the Content-Security-Policy on every response (HSTS on
    HTTPS requests only); a header the view already set is left as it is."""
    config = current_app.config
    wanted = {
        **SECURITY_HEADERS,
        "Content-Security-Policy": config["CONTENT_SECURITY_POLICY"]
        or content_security_policy(config["CSP_FRAME_ANCESTORS"]),
    }
    if request.is_secure and config["HSTS_SECONDS"]:
        wanted["Strict-Transport-Security"] = f"max-age={config['HSTS_SECONDS']}"
    for name, value in wanted.items():
        response.headers.setdefault(name, value)
    return response


def database_unavailable(error: Exception) -> Response:
    """503 with ``Retry-After`` when the database cannot be reached or did not answer in time.

    Only what is known is said: a request that writes may or may not have been stored (its
    commit may have reached the database and the connection broken before the reply), so the
    client is asked to send it again; an answer sent again with the same
    ``client_submission_id`` is never stored twice. A request that only reads stored nothing.
    """
    from .core import error_response, wants_json

    current_app.logger.warning("Database unavailable: %s", error.__class__.__name__)
    if request.method in ("GET", "HEAD", "OPTIONS"):
        message = _("The service is unavailable for a moment. Please try again shortly.")
    elif wants_json():
        message = _(
            "The service is unavailable for a moment, so we do not know whether what you "
            "sent was stored. Send it again shortly with the same client_submission_id: "
            "an answer is never stored twice."
        )
    else:
        message = _(
            "The service is unavailable for a moment, so we do not know whether what you "
            "sent was saved. Go back and send it again shortly: an answer is never saved "
            "twice."
        )
    response = current_app.make_response(error_response(503, "database_unavailable", message))
    response.headers["Retry-After"] = str(RETRY_AFTER_UNAVAILABLE)
    response.headers["Cache-Control"] = "no-store"
    return response


def end_database_session(response: Response) -> Response:
    """After the view, before the response leaves: close the request's database session.

    Closing ends the session's transaction (a rollback of whatever was not committed) on the
    database. If the database went away meanwhile that fails, and raised later, in Flask's
    teardown, it would replace the response with the server's bare 500. Here it still
    becomes the 503 (:func:`database_unavailable`).
    """
    try:
        db.end_session()
    except DATABASE_UNAVAILABLE_ERRORS as error:
        return database_unavailable(error)
    return response


def refuse_long_urls() -> None:
    """414 for a URL longer than ``MAX_URL_LENGTH``, before anything else looks at it."""
    if len(request.path) + len(request.query_string) > current_app.config["MAX_URL_LENGTH"]:
        raise RequestURITooLarge()


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
    proxies = int(app.config["STEMMER_TRUSTED_PROXIES"])
    if proxies > 0:
        app.wsgi_app = ProxyFix(  # type: ignore[method-assign]
            app.wsgi_app, x_for=proxies, x_proto=proxies, x_host=proxies, x_port=proxies
        )
    app.request_class = Request
    app.before_request(refuse_long_urls)
    app.after_request(add_security_headers)
    # Flask runs the after-request functions in the reverse order of registration: the
    # session is closed first, so that the 503 it may become gets the headers too.
    app.after_request(end_database_session)
    for error in DATABASE_UNAVAILABLE_ERRORS:
        app.register_error_handler(error, database_unavailable)
    for error in (OverflowError, DataError):
        app.register_error_handler(error, data_rejected)
    init_rate_limits(app)
