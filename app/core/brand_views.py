"""An organisation's public files and pages: its stylesheet (main colour), its logo and the
app's accessibility statement with the organisation's contact (issue 25)."""

from __future__ import annotations

from flask import Response, abort, current_app, render_template
from flask.typing import ResponseReturnValue
from flask_babel import format_date

from surveys import organisations
from surveys.errors import NotFound
from surveys.models import Organisation

from ..branding import Brand, brand_css, brand_of
from ..extensions import db
from . import COMPLAINT_URL, STATEMENT_REVIEWED, bp

#: The files' links carry the settings' version (``?v=``), so browsers may keep them a day.
CACHE_SECONDS = 24 * 3600


@bp.app_template_global("brand_of")
def _brand_of(organisation: Organisation) -> Brand:
    return brand_of(organisation)


def _organisation(slug: str, *, with_logo: bool = False) -> Organisation:
    try:
        return organisations.get_by_slug(db.session, slug, with_logo=with_logo)
    except NotFound:
        abort(404)


def _cached(response: Response) -> Response:
    response.headers["Cache-Control"] = f"public, max-age={CACHE_SECONDS}"
    return response


@bp.get("/o/<slug>/brand.css")
def brand_css_view(slug: str) -> ResponseReturnValue:
    """The organisation's main colour as a stylesheet (404 without one)."""
    organisation = _organisation(slug)
    if not organisation.brand_colour:
        abort(404)
    return _cached(Response(brand_css(organisation.brand_colour), mimetype="text/css"))


@bp.get("/o/<slug>/logo.png")
def brand_logo(slug: str) -> ResponseReturnValue:
    """The organisation's logo: always the PNG Stemmer re-encoded, never the upload."""
    organisation = _organisation(slug, with_logo=True)
    if organisation.logo_png is None:
        abort(404)
    response = Response(organisation.logo_png, mimetype="image/png")
    response.headers["Content-Disposition"] = "inline"
    return _cached(response)


@bp.get("/o/<slug>/tilgaengelighed")
def organisation_statement(slug: str) -> ResponseReturnValue:
    """The app's accessibility statement with the organisation's contact (for organisations
    without a statement of their own on was.digst.dk)."""
    organisation = _organisation(slug)
    return render_template(
        "core/accessibility.html",
        reviewed=format_date(STATEMENT_REVIEWED, "long"),
        contact_email=organisation.controller_email
        or current_app.config.get("ACCESSIBILITY_EMAIL"),
        contact_phone=organisation.controller_phone
        or current_app.config.get("ACCESSIBILITY_PHONE"),
        complaint_url=COMPLAINT_URL,
        organisation_name=organisation.display_name or organisation.name,
        own_statement=organisation.accessibility_url,
    )
