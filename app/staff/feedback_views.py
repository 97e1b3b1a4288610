"""Official feedback (issue 24): staff's reply to one answer (from moderation) or to one
published theme (from the theme explorer). Every route needs ``REPLY``; the service checks
the organisation, the answer's approval or the theme's publication, and the guard."""

from __future__ import annotations

from flask import flash, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _

from surveys import feedback
from surveys.accounts import Permission
from surveys.errors import DomainError

from ..extensions import db
from . import bp
from .auth import requires, staff
from .common import error_text
from .theme_views import ThemeView, _back, _curate


@bp.route("/answers/<int:answer_id>/reply", methods=["GET", "POST"])
@requires(Permission.REPLY)
def answer_reply(answer_id: int) -> ResponseReturnValue:
    """Write or edit the reply shown under one answer on the wall."""
    answer = feedback.get_answer(db.session, staff().organisation_id, answer_id)
    wall = answer.wall
    reply = feedback.answer_reply(db.session, answer.id)
    error = None
    status = 200
    if request.method == "POST":
        translations = {lang: request.form.get(f"text-{lang}", "") for lang in wall.languages}
        try:
            feedback.save_answer_reply(
                db.session, staff(), answer, request.form.get("text", ""), translations
            )
        except DomainError as failure:
            db.session.rollback()
            error, status = error_text(failure), 400
        else:
            flash(_("The reply is shown under the answer on the wall."), "success")
            return redirect(url_for(".answer_reply", answer_id=answer.id), code=303)
    return render_template(
        "staff/answer_reply.html",
        answer=answer,
        wall=wall,
        reply=reply,
        error=error,
        typed=request.form if request.method == "POST" else None,
    ), status


@bp.post("/answers/<int:answer_id>/reply/delete")
@requires(Permission.REPLY)
def answer_reply_delete(answer_id: int) -> ResponseReturnValue:
    """Delete the reply under an answer."""
    answer = feedback.get_answer(db.session, staff().organisation_id, answer_id)
    if feedback.delete_answer_reply(db.session, staff(), answer):
        flash(_("The reply was deleted."), "success")
    return redirect(url_for(".answer_reply", answer_id=answer.id), code=303)


@bp.post("/campaigns/<int:campaign_id>/themes/<key>/reply")
@requires(Permission.REPLY)
def theme_reply(campaign_id: int, key: str) -> ResponseReturnValue:
    """Write or edit the reply shown under a published theme on "Det har vi hørt"."""

    def save(view: ThemeView) -> str:
        text = request.form.get("text", "")
        feedback.save_theme_reply(db.session, staff(), view.campaign, view.scope, key, text)
        return _("The reply is shown under the theme on the public page.")

    return _back(_curate(campaign_id, key, save), key)


@bp.post("/campaigns/<int:campaign_id>/themes/<key>/reply/delete")
@requires(Permission.REPLY)
def theme_reply_delete(campaign_id: int, key: str) -> ResponseReturnValue:
    """Delete the reply under a theme."""

    def delete(view: ThemeView) -> str:
        feedback.delete_theme_reply(db.session, staff(), view.campaign, view.scope, key)
        return _("The reply was deleted.")

    return _back(_curate(campaign_id, key, delete), key)
