"""Helpers shared by the staff views: headers, errors, template context, design-system files."""

from __future__ import annotations

import io
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import segno
from flask import (
    Response,
    current_app,
    flash,
    g,
    render_template,
    request,
    send_from_directory,
)
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _
from werkzeug.exceptions import HTTPException, NotFound
from werkzeug.routing import BuildError

from surveys import notifications
from surveys.accounts import Permission
from surveys.errors import DomainError
from surveys.models import Wall

from ..extensions import db
from ..labels import AUDIENCE_LABELS
from ..public_links import public_url
from . import bp
from .auth import can, current_staff
from .forms import LANGUAGE_LABELS, PROFILE_LABELS, ROLE_LABELS, to_local

DKFDS_FOLDERS = ("css", "js", "fonts", "img")


@bp.get("/dkfds/<path:filename>")
def dkfds(filename: str) -> ResponseReturnValue:
    """Serve Det Fælles Designsystem's CSS, JavaScript, fonts and icons from node_modules."""
    folder = Path(current_app.config["DKFDS_DIST"])
    if filename.split("/", 1)[0] not in DKFDS_FOLDERS or filename.endswith(".map"):
        raise NotFound()
    return send_from_directory(folder, filename, max_age=7 * 24 * 3600)


@bp.after_request
def staff_headers(response: Response) -> Response:
    """Staff pages hold personal data: never cached, framed or leaked by referrer."""
    if request.endpoint != "staff.dkfds":
        response.headers["Cache-Control"] = "no-store"
        response.headers["X-Frame-Options"] = "DENY"
        response.headers["Referrer-Policy"] = "same-origin"
        response.headers["X-Content-Type-Options"] = "nosniff"
    return response


def _error_page(status: int, message: str) -> ResponseReturnValue:
    return render_template("staff/error.html", status=status, message=message), status


@bp.errorhandler(DomainError)
def staff_domain_error(error: DomainError) -> ResponseReturnValue:
    """Domain errors in the workspace's own look."""
    return _error_page(error.status, _(error.message, **error.params))


@bp.errorhandler(HTTPException)
def staff_http_error(error: HTTPException) -> ResponseReturnValue:
    """403, 404, 405, ... in the workspace's own look."""
    status = error.code or 500
    messages = {
        403: _("Your role does not give access to this page."),
        404: _("We could not find that page."),
        405: _("That is not possible here."),
        400: _("The request could not be understood. Reload the page and try again."),
        429: _("Too many requests. Please wait a moment and try again."),
    }
    message = messages.get(status, _("Something went wrong on our side. Please try again."))
    if status == 400 and "CSRF" in str(error.description):
        message = _("The form had expired. Reload the page and try again.")
    return _error_page(status, message)


def waiting_answers() -> int:
    """Answers waiting for moderation in the organisation, for the staff menu's badge: one
    COUNT per page (kept for the request), 0 for those who do not moderate."""
    if "waiting_answers" not in g:
        user = current_staff()
        count = 0
        if user is not None and can(Permission.MODERATE):
            count = db.session.scalar(notifications.waiting_count(user.organisation_id)) or 0
        g.waiting_answers = count
    return int(g.waiting_answers)


@bp.context_processor
def staff_context() -> dict[str, Any]:
    """Template helpers for staff pages."""
    return {
        "staff_user": current_staff(),
        "can": can,
        "Permission": Permission,
        "role_labels": ROLE_LABELS,
        "audience_labels": AUDIENCE_LABELS,
        "language_labels": LANGUAGE_LABELS,
        "profile_labels": PROFILE_LABELS,
        "to_local": to_local,
        "waiting_answers": waiting_answers,
    }


def error_text(error: DomainError) -> str:
    """A domain error's message in the page's language. Parameters that are words of the
    domain (``N_``) are translated too: ``field_label`` (a field's name) and lists of them (joined
    with commas)."""
    params: dict[str, object] = {}
    for name, value in error.params.items():
        if isinstance(value, list | tuple):
            params[name] = ", ".join(_(str(item)) for item in value)
        elif name == "field_label":
            params[name] = _(str(value))
        else:
            params[name] = value
    return _(error.message, **params)


def flash_error(error: DomainError) -> None:
    """Show a domain error as an error message on the next page."""
    flash(error_text(error), "error")


def qr_svg(url: str) -> Response:
    """A QR code of ``url`` as an SVG image."""
    buffer = io.BytesIO()
    segno.make(url, error="m").save(buffer, kind="svg", scale=8, border=2, xmldecl=False)
    response = Response(buffer.getvalue(), mimetype="image/svg+xml")
    response.headers["Content-Disposition"] = "inline"
    return response


def kiosk_url(wall: Wall, token: str) -> str:
    """The address a kiosk tablet opens: ``/kiosk/<slug>?device=<token>`` at the base URL."""
    try:
        return public_url("kiosk.kiosk", slug=wall.slug, device=token)
    except BuildError:  # the kiosk pages are not registered (should not happen)
        base = current_app.config["BASE_URL"]
        return f"{base}/kiosk/{wall.slug}?{urlencode({'device': token})}"
