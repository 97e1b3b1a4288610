"""Pages and handlers shared by every audience: health, errors, accessibility statement."""

from __future__ import annotations

import hmac
from datetime import date

from flask import Blueprint, abort, current_app, jsonify, make_response, render_template, request
from flask.typing import ResponseReturnValue
from flask_babel import format_date
from flask_babel import gettext as _
from sqlalchemy import text
from werkzeug.exceptions import HTTPException, SecurityError

from surveys import jobs
from surveys.errors import DomainError

from ..extensions import db
from ..queue import describe_queue
from ..security import DATABASE_UNAVAILABLE_ERRORS, database_unavailable

bp = Blueprint("core", __name__)


@bp.get("/healthz")
def healthz() -> ResponseReturnValue:
    """200 when the database answers, 503 otherwise."""
    try:
        db.session.execute(text("SELECT 1"))
    except Exception:  # any failure to reach the database means "unhealthy"
        return jsonify(status="unavailable", database=False), 503
    return jsonify(status="ok", database=True)


@bp.get("/healthz/queue")
def queue_health() -> ResponseReturnValue:
    """The task queue's state for a monitor that cannot sign in (tasks waiting, the oldest
    waiting job, the workers seen; every organisation, no job titles), with
    ``Authorization: Bearer <STEMMER_MONITORING_TOKEN>``. 404 while no token is set."""
    token = str(current_app.config["MONITORING_TOKEN"])
    if not token:
        abort(404)
    given = request.headers.get("Authorization", "")
    if not hmac.compare_digest(given.encode(), f"Bearer {token}".encode()):
        response = make_response(
            error_response(401, "unauthorized", _("A valid monitoring token is needed."))
        )
        response.headers["WWW-Authenticate"] = 'Bearer realm="stemmer"'
        return response
    response = jsonify(describe_queue(jobs.summary(db.session)))
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.get("/")
def index() -> ResponseReturnValue:
    """A short landing page; citizens normally arrive by a wall's link or QR code."""
    return render_template("core/index.html")


#: When the accessibility statement was last reviewed against the pages (update it with them).
STATEMENT_REVIEWED = date(2026, 12, 7)
#: Where to complain when the organisation does not answer (Digitaliseringsstyrelsen).
COMPLAINT_URL = (
    "https://digst.dk/digital-inklusion/webtilgaengelighed/oplever-du-ikke-tilgaengeligt-indhold/"
)


@bp.get("/tilgaengelighed")
def accessibility() -> ResponseReturnValue:
    """The accessibility statement (tilgængelighedserklæring)."""
    return render_template(
        "core/accessibility.html",
        reviewed=format_date(STATEMENT_REVIEWED, "long"),
        contact_email=current_app.config.get("ACCESSIBILITY_EMAIL"),
        contact_phone=current_app.config.get("ACCESSIBILITY_PHONE"),
        complaint_url=COMPLAINT_URL,
    )


#: Endpoints that answer JSON or an event stream, whatever the client asks for: their errors
#: are JSON too (the projector's polling and its event stream).
JSON_ENDPOINTS = frozenset({"live.updates", "live.events"})


def wants_json() -> bool:
    """Whether this request's errors are answered in JSON: the API, the JSON endpoints, and
    clients that send JSON or prefer it to HTML (the pages' scripts ask for JSON)."""
    if request.path.startswith("/api/") or request.endpoint in JSON_ENDPOINTS:
        return True
    if request.is_json:
        return True
    accept = request.accept_mimetypes
    return accept.best_match(("text/html", "application/json")) == "application/json"


def error_response(status: int, code: str, message: str) -> ResponseReturnValue:
    """A JSON error for the API and JSON clients, a friendly page for people."""
    if wants_json():
        return jsonify(error={"code": code, "message": message}), status
    return render_template("core/error.html", status=status, message=message), status


@bp.app_errorhandler(DomainError)
def handle_domain_error(error: DomainError) -> ResponseReturnValue:
    """Domain errors carry a code, a status and a translatable message."""
    return error_response(error.status, error.code, _(error.message, **error.params))


@bp.app_errorhandler(HTTPException)
def handle_http_error(error: HTTPException) -> ResponseReturnValue:
    """Werkzeug's errors (404, 405, 413, ...) in Danish, as JSON under /api/.

    The error's own headers are kept (405's ``Allow``, 503's ``Retry-After`` ...), all but
    its ``Content-Type``.
    """
    status = error.code or 500
    messages = {
        400: _("The request could not be understood."),
        404: _("We could not find that page."),
        405: _("That is not possible here."),
        413: _("What you sent is too large."),
        414: _("The address is too long."),
        429: _("Too many requests. Please wait a moment and try again."),
    }
    message = messages.get(status, _("Something went wrong on our side. Please try again."))
    code = (error.name or "error").lower().replace(" ", "_")
    response = make_response(error_response(status, code, message))
    for name, value in error.get_headers():
        if name.lower() != "content-type":
            response.headers[name] = value
    return response


@bp.app_errorhandler(SecurityError)
def handle_untrusted_host(error: SecurityError) -> ResponseReturnValue:
    """A request for a host that is not trusted (Flask's ``TRUSTED_HOSTS``): a plain 400 that
    links nowhere. No page can be rendered, as no address can be built for such a request."""
    headers = {"Content-Type": "text/plain; charset=utf-8", "Cache-Control": "no-store"}
    return _("The request could not be understood."), 400, headers


@bp.app_errorhandler(500)
def handle_server_error(error: Exception) -> ResponseReturnValue:
    """Unexpected errors: an apology, never a stack trace. A database that went away where
    no other handler saw it (e.g. in a function run after the view) is the 503."""
    original = getattr(error, "original_exception", None)
    if isinstance(original, DATABASE_UNAVAILABLE_ERRORS):
        return database_unavailable(original)
    return error_response(
        500, "internal_error", _("Something went wrong on our side. Please try again.")
    )


from . import brand_views  # noqa: E402, F401  (an organisation's look and statement)
