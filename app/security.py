"""Security headers, rate limits, proxies and the "database unavailable" answer.

Called once from the app factory (:func:`init_security`) after the blueprints are registered:

- Every response carries a strict Content-Security-Policy (no inline scripts or styles; the
  pages load their scripts and styles from ``/static``) and the usual hardening headers;
  HSTS is sent on HTTPS requests only.
- Answering is rate limited per client (Flask-Limiter): the web form and the JSON API share
  one limit per client address; a kiosk tablet with a valid device token has its own, higher
  limit per device. Client addresses are never stored as they are: the key is a keyed hash.
- ``STEMMER_TRUSTED_PROXIES`` (the number of proxies in front of the app) makes the client
  address and HTTPS come from the load balancer's ``X-Forwarded-*`` headers.
- JSON nested too deeply for Python's parser, numbers too large for the database and NUL
  characters PostgreSQL refuses are invalid input (400), not a crash.
- When the database cannot be reached, requests get 503 with ``Retry-After`` (JSON under
  ``/api/``): nothing was stored, and clients (the offline outbox) send again later.
"""

from __future__ import annotations

import hashlib
import inspect
import os
import threading
import time
from typing import Any

import flask
from flask import Flask, current_app, g, request
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _
from flask_limiter import Limiter
from limits.storage import MemoryStorage
from sqlalchemy.exc import DataError, InterfaceError, OperationalError
from sqlalchemy.exc import TimeoutError as PoolTimeoutError
from werkzeug.middleware.proxy_fix import ProxyFix
from werkzeug.wrappers import Response

#: Endpoints where a participant answers: they share one limit per client.
ANSWER_ENDPOINTS = ("participate.answer", "api.post_answer")
#: Kiosk endpoints: a valid device token gets the kiosk limit, anything else the client limit.
KIOSK_ENDPOINTS = ("kiosk.answer", "kiosk.post_answer")
#: "Enig" on a note.
REACTION_ENDPOINTS = ("participate.agree",)
#: Staff sign-in: limited per client address on top of the per-account lockout, so that one
#: address cannot try passwords against many accounts.
LOGIN_ENDPOINTS = ("staff.login",)
KIOSK_DEVICE_HEADER = "X-Kiosk-Device"

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


def client_key() -> str:
    """The rate-limit key of the client: a keyed hash of its address (never the address)."""
    address = request.remote_addr or "unknown"
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
        from surveys.kiosk import device_by_token

        from .extensions import db

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


class InlineExpiryMemoryStorage(MemoryStorage):
    """limits' in-memory storage (``memory://``), expiring old entries inline.

    The original starts a timer thread 10 ms after every use to drop expired entries: under
    load a new thread every 10 ms in every worker process. This one drops them at most once a
    second, in the request that comes along, and starts no thread. Counting is unchanged (the
    expiry only frees memory: expired entries never count). Chosen for ``memory://`` by
    :func:`init_rate_limits` when the installed ``limits`` has the methods it replaces.
    """

    STORAGE_SCHEME = ["stemmer-memory"]
    EXPIRY_INTERVAL = 1.0

    def __init__(self, uri: str | None = None, wrap_exceptions: bool = False, **options: Any):
        super().__init__(uri, wrap_exceptions=wrap_exceptions, **options)
        timer = getattr(self, "timer", None)
        if isinstance(timer, threading.Timer):
            timer.cancel()  # the one the original starts at once
        self._expiry_lock = threading.Lock()
        self._next_expiry = time.monotonic() + self.EXPIRY_INTERVAL

    def _MemoryStorage__schedule_expiry(self) -> None:
        now = time.monotonic()
        if now < self._next_expiry or not self._expiry_lock.acquire(blocking=False):
            return
        try:
            self._next_expiry = now + self.EXPIRY_INTERVAL
            self._MemoryStorage__expire_events()  # type: ignore[attr-defined]
        finally:
            self._expiry_lock.release()


def _takes_only_self(name: str) -> bool:
    method = getattr(MemoryStorage, name, None)
    return callable(method) and list(inspect.signature(method).parameters) == ["self"]


#: Whether :class:`InlineExpiryMemoryStorage` fits the installed ``limits`` (the two methods it
#: replaces and calls exist as it expects); otherwise ``memory://`` is limits' own storage.
INLINE_EXPIRY = all(
    _takes_only_self(name)
    for name in ("_MemoryStorage__schedule_expiry", "_MemoryStorage__expire_events")
)


def _limit(name: str) -> Any:
    return lambda: current_app.config[name]


#: Flask-Limiter settings that add limits beyond the per-view ones; with none of them set, its
#: before-request check has nothing to check (see :func:`_only_on_limited_endpoints`).
APP_WIDE_LIMIT_SETTINGS = ("RATELIMIT_DEFAULT", "RATELIMIT_APPLICATION", "RATELIMIT_META")


def init_rate_limits(app: Flask) -> Limiter | None:
    """Attach Flask-Limiter and wrap the answering views with their limits."""
    in_memory = app.config.get("RATELIMIT_STORAGE_URI") == "memory://" and INLINE_EXPIRY
    limiter = Limiter(
        key_func=client_key,
        key_prefix="stemmer",
        storage_uri="stemmer-memory://" if in_memory else None,
    )
    hooks_before = _request_hooks(app)
    limiter.init_app(app)
    app.extensions["stemmer.limiter"] = limiter
    if not limiter.enabled:
        return None
    limited = frozenset(
        (*ANSWER_ENDPOINTS, *KIOSK_ENDPOINTS, *REACTION_ENDPOINTS, *LOGIN_ENDPOINTS)
    )
    _only_on_limited_endpoints(app, hooks_before, limited)

    @limiter.request_filter
    def _unlimited() -> bool:
        # Only the answering routes are limited: skip the limiter's work everywhere else.
        return request.endpoint not in limited

    answers = limiter.shared_limit(_limit("RATELIMIT_ANSWERS"), scope="answers")
    # A kiosk without a valid token counts against the same per-client limit as the web.
    answers_without_device = limiter.shared_limit(
        _limit("RATELIMIT_ANSWERS"), scope="answers", exempt_when=_has_kiosk
    )
    kiosk = limiter.limit(_limit("RATELIMIT_KIOSK"), key_func=kiosk_key, exempt_when=_lacks_kiosk)
    reactions = limiter.limit(_limit("RATELIMIT_REACTIONS"), methods=["POST"])
    logins = limiter.limit(_limit("RATELIMIT_LOGIN"), methods=["POST"])
    wrappers: list[tuple[tuple[str, ...], list[Any]]] = [
        (ANSWER_ENDPOINTS, [answers]),
        (KIOSK_ENDPOINTS, [answers_without_device, kiosk]),
        (REACTION_ENDPOINTS, [reactions]),
        (LOGIN_ENDPOINTS, [logins]),
    ]
    for endpoints, limits in wrappers:
        for endpoint in endpoints:
            view = app.view_functions.get(endpoint)
            if view is None:
                continue
            for limit in limits:
                view = limit(view)
            app.view_functions[endpoint] = view
    return limiter


def _request_hooks(app: Flask) -> dict[str, list[Any]]:
    return {
        "before": list(app.before_request_funcs.get(None, [])),
        "after": list(app.after_request_funcs.get(None, [])),
        "teardown": list(app.teardown_request_funcs.get(None, [])),
    }


def _only_on_limited_endpoints(
    app: Flask, hooks_before: dict[str, list[Any]], limited: frozenset[str]
) -> None:
    """Run Flask-Limiter's app-wide request hooks only where they have work to do.

    Flask-Limiter adds three hooks to every request: a check of app-wide limits before the
    view, the ``X-RateLimit-*`` headers after it and a reset of its per-request state. This
    app's limits are all on views (the decorators in :func:`init_rate_limits` check them), so
    without app-wide limits (:data:`APP_WIDE_LIMIT_SETTINGS`) the first hook never finds a limit
    and is dropped, and the other two run only on the limited endpoints: the only ones with
    headers to write. Every other request (health check, wall page) skips the limiter.
    """
    hooks_after = _request_hooks(app)
    if any(
        hooks[: len(hooks_before[kind])] != hooks_before[kind]
        for kind, hooks in hooks_after.items()
    ):
        return  # not the hooks this was written for: leave them as they are
    added = {kind: hooks[len(hooks_before[kind]) :] for kind, hooks in hooks_after.items()}
    if not any(app.config.get(name) for name in APP_WIDE_LIMIT_SETTINGS):
        before = app.before_request_funcs[None]
        before[:] = [hook for hook in before if hook not in added["before"]]

    def on_limited_after(hook: Any) -> Any:
        def after(response: Response) -> Response:
            return hook(response) if request.endpoint in limited else response

        return after

    def on_limited_teardown(hook: Any) -> Any:
        def teardown(error: BaseException | None) -> None:
            if request.endpoint in limited:
                hook(error)

        return teardown

    for kind, funcs, wrap in (
        ("after", app.after_request_funcs[None], on_limited_after),
        ("teardown", app.teardown_request_funcs[None], on_limited_teardown),
    ):
        funcs[:] = [wrap(hook) if hook in added[kind] else hook for hook in funcs]


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
