"""Rate limits on answering, agreeing and signing in (Flask-Limiter).

- Answering is rate limited per client: the web form and the JSON API share one limit per
  client address; a kiosk tablet with a valid device token has its own, higher limit per
  device. Client addresses are never stored as they are: the key is a keyed hash.
- "Enig" on a note and staff sign-in attempts are limited per client address.

The limits are set up by :func:`init_rate_limits`, called from :func:`app.security.init_security`.
"""

from __future__ import annotations

import hashlib
import inspect
import threading
import time
from typing import Any

from flask import Flask, current_app, g, request
from flask_limiter import Limiter
from limits.storage import MemoryStorage
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
