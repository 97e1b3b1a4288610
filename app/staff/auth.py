"""Staff sessions and permissions for the workspace.

Every staff view declares the permission it needs with :func:`requires`; a view without
one is refused (deny by default). The check runs before the view, in :func:`guard`,
which also turns away sessions that ended (logout, a password change or reset,
deactivation), were idle too long or are too old: sessions are kept on the server
(:func:`surveys.accounts.session_user`), the signed cookie only carries a random token.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from datetime import timedelta
from typing import Any, TypeVar
from urllib.parse import urlsplit

from flask import abort, current_app, flash, g, redirect, request, session, url_for
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _

from surveys import accounts, twofactor
from surveys.accounts import Permission
from surveys.models import StaffUser

from ..extensions import db
from ..ratelimits import client_address

F = TypeVar("F", bound=Callable[..., Any])

SESSION_KEY = "staff"
#: The ID token of a single sign-on, kept in the session for the provider's logout.
SSO_ID_TOKEN_KEY = "sso_id_token"
#: Endpoints anyone may reach (the login page and the design system's files). The two-factor
#: sign-in's pages (app/staff/twofactor_views.py) check the half-finished sign-in themselves;
#: single sign-on's (app/staff/oidc_views.py) check the provider's answer.
PUBLIC_ENDPOINTS = frozenset(
    {
        "staff.login",
        "staff.dkfds",
        "staff.second_factor",
        "staff.two_factor_enrol",
        "staff.sso_login",
        "staff.sso_callback",
    }
)


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
    idle = timedelta(minutes=config["STAFF_IDLE_MINUTES"])
    max_age = timedelta(hours=config["STAFF_SESSION_HOURS"])
    return idle, max_age


def login_client_key() -> str:
    """Where a login attempt comes from, for counting failures: a keyed hash, never the address
    (an IPv6 client counts by its /64 network, as for the rate limits)."""
    address = client_address()
    secret = hashlib.sha256(str(current_app.config["SECRET_KEY"]).encode()).digest()
    digest = hashlib.blake2b(address.encode(), key=secret, digest_size=16, person=b"staff-login")
    return digest.hexdigest()


def _token() -> object:
    data = session.get(SESSION_KEY)
    return data.get("token") if isinstance(data, dict) else None


def log_in(user: StaffUser) -> None:
    """Start a fresh staff session (the rest of the session is dropped, except the language).

    The session lives on the server (:class:`surveys.models.StaffSession`); the cookie only
    carries its random token.
    """
    language = session.get("lang")
    session.clear()
    if language:
        session["lang"] = language
    _, max_age = _timeouts()
    session[SESSION_KEY] = {"token": accounts.start_session(db.session, user, max_age=max_age)}


def log_out() -> None:
    """End the staff session on the server (a copy of the cookie no longer works) and here."""
    token = _token()
    session.pop(SESSION_KEY, None)
    if token is not None:
        accounts.end_session(db.session, token)


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
    """(the session's staff member, whether a session existed but is no longer valid)."""
    token = _token()
    if token is None:
        return None, False
    idle, max_age = _timeouts()
    user = accounts.session_user(db.session, token, idle_timeout=idle, max_age=max_age)
    return user, user is None


def safe_next(target: str | None) -> str | None:
    """``target`` if it is a path inside the workspace (never another site)."""
    if not target or "\\" in target:
        return None
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or not parts.path.startswith("/staff/"):
        return None
    return target


def must_enrol(user: StaffUser) -> bool:
    """Whether the member's role requires two-factor sign-in and they have not set it up (a
    role given or a reset done while they were signed in): they may only enrol or log out."""
    required = current_app.config["TOTP_REQUIRED_ROLES"]
    return twofactor.is_required(user, required) and not twofactor.is_enrolled(db.session, user)


def signed_on_at_provider() -> bool:
    """Whether this session began with single sign-on (app/staff/oidc_views.py): the
    organisation's identity provider, not Stemmer's two-factor sign-in, then checks the
    second factor."""
    return bool(session.get(SSO_ID_TOKEN_KEY))


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
    if must_enrol(user) and request.endpoint != "staff.logout" and not signed_on_at_provider():
        return redirect(url_for("staff.two_factor_enrol"))
    permission = required_permission(request.endpoint)
    if permission is None or not accounts.can(user, permission):
        abort(403)
    return None


def can(permission: Permission) -> bool:
    """Template helper: whether the current staff member has the permission."""
    return accounts.can(current_staff(), permission)
