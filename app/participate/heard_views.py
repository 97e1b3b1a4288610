"""The public page "Det har vi hørt": a published campaign's themes, quotes and replies."""

from __future__ import annotations

from flask import abort, g, render_template
from flask.typing import ResponseReturnValue
from flask_babel import lazy_gettext as _l

from surveys.errors import NotFound
from surveys.insights import OTHER_KEY
from surveys.models import Audience
from surveys.report import build_public_report

from ..extensions import db
from . import bp

#: Who a quote is from (the same words as the staff report's).
AUDIENCE_LABELS = {
    Audience.PARENTS.value: _l("Parents"),
    Audience.YOUNG.value: _l("Young people"),
    Audience.EVERYONE.value: _l("Everyone"),
    OTHER_KEY: _l("Other (small groups pooled)"),
}

#: Quotes per theme on the public page (the report has up to five).
PUBLIC_QUOTES = 3


@bp.get("/c/<slug>/hoert")
def heard(slug: str) -> ResponseReturnValue:
    """What citizens told the campaign and what happens now; 404 until staff publish it."""
    if len(slug) > 64:
        abort(404)
    try:
        report = build_public_report(db.session, slug)
    except NotFound:
        abort(404)
    g.wall_language = report.language
    return render_template(
        "report/public.html",
        report=report,
        labels={"audience": {k: str(v) for k, v in AUDIENCE_LABELS.items()}},
        quotes_shown=PUBLIC_QUOTES,
    )
