"""Pages and handlers shared by every audience: health, errors, accessibility statement."""

from __future__ import annotations

from flask import Blueprint, jsonify, render_template, request
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _
from sqlalchemy import text
from werkzeug.exceptions import HTTPException

from surveys.errors import DomainError

from ..extensions import db

bp = Blueprint("core", __name__)


@bp.get("/healthz")
def healthz() -> ResponseReturnValue:
    """200 when the database answers, 503 otherwise."""
    try:
        db.session.execute(text("SELECT 1"))
    except Exception:  # any failure to reach the database means "unhealthy"
        return jsonify(status="unavailable", database=False), 503
    return jsonify(status="ok", database=True)


@bp.get("/")
def index() -> ResponseReturnValue:
    """A short landing page; citizens normally arrive by a wall's link or QR code."""
    return render_template("core/index.html")


@bp.get("/tilgaengelighed")
def accessibility() -> ResponseReturnValue:
    """The accessibility statement (tilgængelighedserklæring)."""
    return render_template("core/accessibility.html")


def _wants_json() -> bool:
    return request.path.startswith("/api/")


def error_response(status: int, code: str, message: str) -> ResponseReturnValue:
    """A JSON error for the API, a friendly page for people."""
    if _wants_json():
        return jsonify(error={"code": code, "message": message}), status
    return render_template("core/error.html", status=status, message=message), status


@bp.app_errorhandler(DomainError)
def handle_domain_error(error: DomainError) -> ResponseReturnValue:
    """Domain errors carry a code, a status and a translatable message."""
    return error_response(error.status, error.code, _(error.message, **error.params))


@bp.app_errorhandler(HTTPException)
def handle_http_error(error: HTTPException) -> ResponseReturnValue:
    """Werkzeug's errors (404, 405, 413, ...) in Danish, as JSON under /api/."""
    status = error.code or 500
    messages = {
        400: _("The request could not be understood."),
        404: _("We could not find that page."),
        405: _("That is not possible here."),
        413: _("What you sent is too large."),
        429: _("Too many requests. Please wait a moment and try again."),
    }
    message = messages.get(status, _("Something went wrong on our side. Please try again."))
    code = (error.name or "error").lower().replace(" ", "_")
    return error_response(status, code, message)


@bp.app_errorhandler(500)
def handle_server_error(_error: Exception) -> ResponseReturnValue:
    """Unexpected errors: an apology, never a stack trace."""
    return error_response(
        500, "internal_error", _("Something went wrong on our side. Please try again.")
    )
