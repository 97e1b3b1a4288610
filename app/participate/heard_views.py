"""The public page "Det har vi hørt": a published campaign's themes, quotes and replies."""

from __future__ import annotations

from flask import abort, g, render_template
from flask.typing import ResponseReturnValue

from surveys import feedback, organisations
from surveys.errors import NotFound
from surveys.report import PUBLIC_QUOTES, Report, build_public_report

from ..extensions import db
from ..labels import GROUP_LABELS
from . import bp


@bp.get("/c/<slug>/hoert")
def heard(slug: str) -> ResponseReturnValue:
    """What citizens told the campaign and what happens now; 404 until staff publish it."""
    if len(slug) > 64:
        abort(404)
    try:
        report = build_public_report(db.session, slug)
    except NotFound:
        abort(404)
    return render_heard(report)


def render_heard(report: Report, *, preview: bool = False) -> str:
    """The page in the campaign's language; a ``preview`` (for staff) is marked as one."""
    g.wall_language = report.language
    return render_template(
        "report/public.html",
        report=report,
        labels={"audience": {k: str(v) for k, v in GROUP_LABELS.items()}},
        quotes_shown=PUBLIC_QUOTES,
        preview=preview,
        theme_replies=feedback.replies_to_run_themes(db.session, report.run_id),
        organisation=organisations.of_campaign(db.session, report.campaign_id),
    )
