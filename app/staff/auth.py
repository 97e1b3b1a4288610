"""Staff sessions and permissions for the workspace.

Every staff view declares the permission it needs with :func:`requires`; a view without
one is refused (deny by default). The check runs before the view, in :func:`guard`,
which also ends sessions that were idle too long, are too old, or whose password changed.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any, TypeVar
from urllib.parse import urlsplit

from flask import abort, current_app, flash, g, redirect, request, session, url_for
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _

from surveys import accounts
from surveys.accounts import Permission
from surveys.models import StaffUser, utcnow

from ..extensions import db

F = TypeVar("F", bound=Callable[..., Any])

SESSION_KEY = "staff"
#: Endpoints anyone may reach (the login page and the design system's files).
PUBLIC_ENDPOINTS = frozenset({"staff.login", "staff.dkfds"})
#: How often the "last seen" time in the session cookie is refreshed.
SEEN_RESOLUTION = timedelta(seconds=60)


def requires(permission: Permission) -> Callable[[F], F]:
    """Declare the permission a staff view needs (checked before the view runs)."""

    def mark(view: F) -> F:
        view.staff_permission = permission  # type: ignore[attr-defined]
        return view

    return mark


def required_permission(endpoint: str | None) -> Permission | None:
    """The permission declared for an endpoint (None: undeclared)."""
    view = current_app.view_functions.get(endpoint or "")
    return getattr(view, "staff_permission", None)


def _timeouts() -> tuple[timedelta, timedelta]:
    config = current_app.config
    idle = timedelta(minutes=config.get("STAFF_IDLE_MINUTES", 30))
    max_age = timedelta(hours=config.get("STAFF_SESSION_HOURS", 12))
    return idle, max_age


def _timestamp(moment: datetime) -> int:
    return int(moment.timestamp())


def _moment(value: object) -> datetime | None:
    if isinstance(value, bool) or not isinstance(value, int):
        return None
    return datetime.fromtimestamp(value, UTC)


def log_in(user: StaffUser) -> None:
    """Start a fresh staff session (the rest of the session is dropped, except the language)."""
    language = session.get("lang")
    session.clear()
    if language:
        session["lang"] = language
    now = _timestamp(utcnow())
    session[SESSION_KEY] = {
        "id": user.id,
        "key": accounts.session_key(user),
        "auth": now,
        "seen": now,
    }


def log_out() -> None:
    """End the staff session."""
    session.pop(SESSION_KEY, None)


def current_staff() -> StaffUser | None:
    """The logged-in staff member of this request (after :func:`guard` ran)."""
    return g.get("staff")


def staff() -> StaffUser:
    """The logged-in staff member; only for views behind :func:`requires`."""
    user = current_staff()
    if user is None:  # pragma: no cover - guard() redirects first
        abort(401)
    return user


def _session_user() -> tuple[StaffUser | None, bool]:
    """(the session's staff member, whether a session existed but expired)."""
    data = session.get(SESSION_KEY)
    if not isinstance(data, dict):
        return None, False
    authenticated, seen = _moment(data.get("auth")), _moment(data.get("seen"))
    user = accounts.load_session_user(db.session, data.get("id"), data.get("key"))
    if user is None or authenticated is None or seen is None:
        return None, True
    idle, max_age = _timeouts()
    times = accounts.SessionTimes(authenticated, seen)
    now = utcnow()
    if not accounts.session_is_fresh(times, now, idle_timeout=idle, max_age=max_age):
        return None, True
    if now - seen >= SEEN_RESOLUTION:
        session[SESSION_KEY] = {**data, "seen": _timestamp(now)}
    return user, False


def safe_next(target: str | None) -> str | None:
    """``target`` if it is a path inside the workspace (never another site)."""
    if not target or "\\" in target:
        return None
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or not parts.path.startswith("/staff/"):
        return None
    return target


def guard() -> ResponseReturnValue | None:
    """Before every staff request: load the staff member, check freshness and permission."""
    user, expired = _session_user()
    g.staff = user
    if request.endpoint in PUBLIC_ENDPOINTS:
        return None
    if user is None:
        log_out()
        if expired:
            flash(_("Your session has ended. Please log in again."), "info")
        target = request.full_path.rstrip("?") if request.method == "GET" else None
        return redirect(url_for("staff.login", next=safe_next(target)))
    permission = required_permission(request.endpoint)
    if permission is None or not accounts.can(user, permission):
        abort(403)
    return None


def can(permission: Permission) -> bool:
    """Template helper: whether the current staff member has the permission."""
    return accounts.can(current_staff(), permission)
