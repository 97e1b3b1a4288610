"""Rate limits on answering, agreeing and signing in (Flask-Limiter).

- Answering is rate limited per client: the web form and the JSON API share one limit per
  client address; a kiosk tablet with a valid device token has its own, higher limit per
  device. Client addresses are never stored as they are: the key is a keyed hash.
- "Enig" on a note and staff sign-in attempts are limited per client address.

The limits are set up by :func:`init_rate_limits`, called from :func:`app.security.init_security`.
"""

from __future__ import annotations

import functools
import hashlib
import inspect
import logging
import math
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, NamedTuple

from flask import Flask, after_this_request, current_app, g, request
from flask_limiter import Limiter
from limits import RateLimitItem, parse_many
from limits.storage import MemoryStorage
from werkzeug.exceptions import TooManyRequests
from werkzeug.http import http_date
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


#: Flask-Limiter settings that add limits beyond the per-view ones (app-wide, default and meta
#: limits). With one of them set, Flask-Limiter's own request hooks stay to check them.
APP_WIDE_LIMIT_SETTINGS = ("RATELIMIT_DEFAULT", "RATELIMIT_APPLICATION", "RATELIMIT_META")
#: The first part of every limit key in the storage (after the ``limits`` namespace).
KEY_PREFIX = "stemmer"
#: The headers that describe the limit a request counted against.
LIMIT_HEADERS = ("X-RateLimit-Limit", "X-RateLimit-Remaining", "X-RateLimit-Reset")

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class ViewLimit:
    """A limit setting as a view applies it.

    Counted per ``key()`` in the bucket ``scope`` when views share one, else in the view's own
    bucket (its endpoint); only for ``methods`` (all methods when None) and not when
    ``exempt_when()`` says so.
    """

    setting: str
    key: Callable[[], str]
    scope: str | None = None
    methods: frozenset[str] | None = None
    exempt_when: Callable[[], bool] | None = None


class _Counted(NamedTuple):
    item: RateLimitItem
    identifiers: tuple[str, str, str]
    spent: bool


class ViewLimits:
    """The limits of one view, parsed and put in order once, counted on every request with
    Flask-Limiter's rate limiter (its strategy and storage, from ``RATELIMIT_STRATEGY`` and
    ``RATELIMIT_STORAGE_URI``).

    Flask-Limiter's own view decorators work the view's limits out anew on every request
    (exemptions, blueprints, the limit strings, their order): in-process about a quarter of an
    answer's time (bench/load/RESULTS.md). These limits are settings fixed when the app is
    made, so that work is done once; what is counted, under which key, and the answer are as
    with the decorators: the limits in the order of their windows (shortest first), each
    counted until one is spent, which ends the request with 429 and counts nothing more.
    ``X-RateLimit-Limit/-Remaining/-Reset`` describe the spent limit, else the view's first
    limit of its own, else its first shared one; a 429 also says in ``Retry-After`` how many
    seconds until the spent limit has room again.
    """

    def __init__(
        self,
        limiter: Limiter,
        endpoint: str,
        limits: Sequence[ViewLimit],
        config: Mapping[str, Any],
    ) -> None:
        self.limiter = limiter
        self.endpoint = endpoint
        self.limits = tuple(limits)
        items: list[tuple[RateLimitItem, int]] = []
        for index, limit in enumerate(self.limits):
            try:
                parsed = parse_many(config[limit.setting])
            except ValueError as error:
                raise ValueError(f"{limit.setting}: {error}") from None
            items.extend((item, index) for item in parsed)
        # Shortest window first (a stable sort, as Flask-Limiter sorts a view's limits).
        items.sort(key=lambda pair: pair[0].GRANULARITY.seconds)
        self.items = tuple(items)
        self.headers = bool(config.get("RATELIMIT_HEADERS_ENABLED"))
        self.retry_after_date = config.get("RATELIMIT_HEADER_RETRY_AFTER_VALUE") == "http-date"
        self.swallow_errors = bool(config.get("RATELIMIT_SWALLOW_ERRORS"))

    def count(self) -> None:
        """Count this request against the view's limits; 429 when one of them is spent.

        When the limits' storage fails (a Redis server gone), the error propagates (500; the
        outbox sends the answer again later), or with ``RATELIMIT_SWALLOW_ERRORS`` is logged
        and the request goes through uncounted, as with Flask-Limiter's own decorators.
        """
        try:
            self._count()
        except TooManyRequests:
            raise
        except Exception:
            if not self.swallow_errors:
                raise
            logger.exception("Rate limit storage failed at %s; not counted", self.endpoint)

    def _count(self) -> None:
        strategy = self.limiter.limiter
        method = request.method
        keys: list[str | None] = [None] * len(self.limits)
        described: _Counted | None = None  # the limit the headers describe
        described_shared = True
        for item, index in self.items:
            limit = self.limits[index]
            if limit.methods is not None and method not in limit.methods:
                continue
            if limit.exempt_when is not None and limit.exempt_when():
                continue
            key = keys[index]
            if key is None:
                key = keys[index] = limit.key()
            identifiers = (KEY_PREFIX, key, limit.scope or self.endpoint)
            if not strategy.hit(item, *identifiers):
                logger.info("Rate limit %s spent at %s", item, self.endpoint)
                self._describe(_Counted(item, identifiers, spent=True))
                raise TooManyRequests()
            if described is None or (described_shared and limit.scope is None):
                described = _Counted(item, identifiers, spent=False)
                described_shared = limit.scope is not None
        if described is not None:
            self._describe(described)

    def _describe(self, counted: _Counted) -> None:
        if self.headers:
            after_this_request(functools.partial(self._write_headers, counted))

    def _write_headers(self, counted: _Counted, response: Response) -> Response:
        try:
            reset, remaining = self.limiter.limiter.get_window_stats(
                counted.item, *counted.identifiers
            )
        except Exception:
            if not self.swallow_errors:
                raise
            logger.exception("Rate limit storage failed at %s; no headers", self.endpoint)
            return response
        reset_at = int(reset + 1)
        headers = response.headers
        for name, value in zip(
            LIMIT_HEADERS, (counted.item.amount, remaining, reset_at), strict=True
        ):
            headers[name] = str(value)
        if counted.spent:
            headers["Retry-After"] = (
                http_date(reset_at)
                if self.retry_after_date
                else str(max(1, math.ceil(reset - time.time())))
            )
        return response

    def __call__(self, view: Callable[..., Any]) -> Callable[..., Any]:
        """``view`` with these limits counted before it runs."""

        @functools.wraps(view)
        def limited(*args: Any, **kwargs: Any) -> Any:
            self.count()
            return view(*args, **kwargs)

        return limited


def init_rate_limits(app: Flask) -> Limiter | None:
    """Attach Flask-Limiter and wrap the answering, agreeing and sign-in views with their
    limits (:class:`ViewLimits`); None when the limits are switched off."""
    in_memory = app.config.get("RATELIMIT_STORAGE_URI") == "memory://" and INLINE_EXPIRY
    limiter = Limiter(
        key_func=client_key,
        key_prefix=KEY_PREFIX,
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
    _keep_only_app_wide_checks(app, limiter, hooks_before, limited)

    answers = ViewLimit("RATELIMIT_ANSWERS", client_key, scope="answers")
    # A kiosk without a valid token counts against the same per-client limit as the web.
    answers_without_device = ViewLimit(
        "RATELIMIT_ANSWERS", client_key, scope="answers", exempt_when=_has_kiosk
    )
    kiosk = ViewLimit("RATELIMIT_KIOSK", kiosk_key, exempt_when=_lacks_kiosk)
    reactions = ViewLimit("RATELIMIT_REACTIONS", client_key, methods=frozenset({"POST"}))
    logins = ViewLimit("RATELIMIT_LOGIN", client_key, methods=frozenset({"POST"}))
    for endpoints, limits in (
        (ANSWER_ENDPOINTS, [answers]),
        (KIOSK_ENDPOINTS, [answers_without_device, kiosk]),
        (REACTION_ENDPOINTS, [reactions]),
        (LOGIN_ENDPOINTS, [logins]),
    ):
        for endpoint in endpoints:
            view = app.view_functions.get(endpoint)
            if view is not None:
                app.view_functions[endpoint] = ViewLimits(limiter, endpoint, limits, app.config)(
                    view
                )
    return limiter


#: The app's request hooks Flask-Limiter adds to, by kind.
_HOOK_ATTRIBUTES = {
    "before": "before_request_funcs",
    "after": "after_request_funcs",
    "teardown": "teardown_request_funcs",
}


def _request_hooks(app: Flask) -> dict[str, list[Any]]:
    return {
        kind: list(getattr(app, attribute).get(None, []))
        for kind, attribute in _HOOK_ATTRIBUTES.items()
    }


def _keep_only_app_wide_checks(
    app: Flask, limiter: Limiter, hooks_before: dict[str, list[Any]], limited: frozenset[str]
) -> None:
    """Flask-Limiter's request hooks, where the app has work for them.

    Flask-Limiter adds three hooks to every request: a check of app-wide limits before the
    view, its ``X-RateLimit-*`` headers after it and a reset of its per-request state. The
    views' limits are counted by :class:`ViewLimits`, so without app-wide limits
    (:data:`APP_WIDE_LIMIT_SETTINGS`) all three are dropped. With them, the hooks stay, on the
    limited endpoints only, and write their headers only where no view limit wrote its own.
    """
    hooks_after = _request_hooks(app)
    if any(
        hooks[: len(hooks_before[kind])] != hooks_before[kind]
        for kind, hooks in hooks_after.items()
    ):
        return  # not the hooks this was written for: leave them as they are
    added = {kind: hooks[len(hooks_before[kind]) :] for kind, hooks in hooks_after.items()}
    funcs = {kind: getattr(app, attribute)[None] for kind, attribute in _HOOK_ATTRIBUTES.items()}
    if not any(app.config.get(name) for name in APP_WIDE_LIMIT_SETTINGS):
        for kind, hooks in funcs.items():
            hooks[:] = [hook for hook in hooks if hook not in added[kind]]
        return

    @limiter.request_filter
    def _unlimited() -> bool:
        return request.endpoint not in limited

    def after_unless_described(hook: Any) -> Any:
        def after(response: Response) -> Response:
            if request.endpoint not in limited or LIMIT_HEADERS[0] in response.headers:
                return response
            return hook(response)

        return after

    funcs["after"][:] = [
        after_unless_described(hook) if hook in added["after"] else hook for hook in funcs["after"]
    ]
