"""Views of the participant pages (work without JavaScript)."""

from __future__ import annotations

import secrets
import uuid

from flask import abort, g, redirect, render_template, request, session, url_for
from flask.typing import ResponseReturnValue
from flask_babel import get_locale
from flask_babel import gettext as _
from werkzeug.wrappers import Response

from surveys import operations
from surveys.errors import DomainError, WallClosed, WallNotOpen
from surveys.models import Answer, Channel, Wall
from surveys.reads import wall_notes

from ..extensions import csrf, db
from . import bp
from .forms import AnswerForm

DEVICE_COOKIE = "stemmer_device"
MY_ANSWERS_KEPT = 20


def _load_wall(slug: str) -> Wall:
    wall = operations.get_wall(db.session, slug)
    g.wall_language = wall.language
    return wall


def _render_wall(wall: Wall, form: AnswerForm, status: int = 200) -> ResponseReturnValue:
    page = request.args.get("side", default=1, type=int) or 1
    page = max(1, min(page, 1000))
    per_page = 30
    notes = wall_notes(db.session, wall.id, limit=page * per_page)
    prompts = {p.id: p for p in wall.prompts}
    closed_message = None
    if wall.has_closed():
        closed_message = _("This wall has closed. Thank you to everyone who answered.")
        status = 410
    elif not wall.is_open():
        closed_message = _("This wall has not opened yet. Please come back later.")
        status = 403
    return (
        render_template(
            "participate/wall.html",
            wall=wall,
            form=form,
            notes=notes,
            prompts=prompts,
            page=page,
            closed_message=closed_message,
        ),
        status,
    )


@bp.get("/w/<slug>")
def wall(slug: str) -> ResponseReturnValue:
    """The wall: its questions, the answer form and the approved answers."""
    wall = _load_wall(slug)
    form = AnswerForm(wall, formdata=None)
    chosen = request.args.get("prompt", type=int)
    form.prompt_id.data = chosen if chosen in {p.id for p in wall.prompts} else wall.prompts[0].id
    form.client_submission_id.data = uuid.uuid4().hex
    return _render_wall(wall, form)


@bp.post("/w/<slug>")
@csrf.exempt  # the form checks its own token and re-renders with the text kept
def answer(slug: str) -> ResponseReturnValue:
    """Store an answer; on any problem show the form again with what was typed."""
    wall = _load_wall(slug)
    form = AnswerForm(wall)
    if not form.client_submission_id.data:
        form.client_submission_id.data = uuid.uuid4().hex
    if not form.validate():
        if "csrf_token" in form.errors:
            form.form_errors.append(
                _("The page had expired. Your answer is still here: please press Send again.")
            )
        return _render_wall(wall, form, 400)
    try:
        result = operations.submit_answer(
            db.session,
            wall,
            prompt_id=form.prompt_id.data,
            text=form.text.data,
            client_submission_id=form.client_submission_id.data,
            channel=Channel.WEB,
            profile=form.profile(),
            language=str(get_locale() or "da"),
        )
    except (WallClosed, WallNotOpen):
        return _render_wall(wall, form)
    except DomainError as error:
        form.form_errors.append(_(error.message, **error.params))
        return _render_wall(wall, form, error.status)
    mine = [a for a in session.get("my_answers", []) if a != result.answer.id]
    session["my_answers"] = [*mine, result.answer.id][-MY_ANSWERS_KEPT:]
    return redirect(url_for(".thanks", slug=wall.slug, svar=result.answer.id), code=303)


@bp.get("/w/<slug>/tak")
def thanks(slug: str) -> ResponseReturnValue:
    """The thank-you page, showing the participant's own answer back to them."""
    wall = _load_wall(slug)
    answer_id = request.args.get("svar", type=int)
    answer = None
    if answer_id is not None and answer_id in session.get("my_answers", []):
        answer = db.session.get(Answer, answer_id)
    if answer is None or answer.wall_id != wall.id:
        return redirect(url_for(".wall", slug=wall.slug))
    return render_template("participate/thanks.html", wall=wall, answer=answer)


@bp.post("/w/<slug>/svar/<int:answer_id>/enig")
def agree(slug: str, answer_id: int) -> ResponseReturnValue:
    """Add this device's "enig" to a note (once per device; no login)."""
    wall = _load_wall(slug)
    answer = db.session.get(Answer, answer_id)
    if answer is None or answer.wall_id != wall.id:
        abort(404)
    device = request.cookies.get(DEVICE_COOKIE) or secrets.token_urlsafe(16)
    operations.add_reaction(db.session, answer, device)
    response: Response = redirect(
        url_for(".wall", slug=wall.slug, _anchor=f"svar-{answer.id}"), code=303
    )
    response.set_cookie(
        DEVICE_COOKIE,
        device,
        max_age=365 * 24 * 3600,
        httponly=True,
        samesite="Lax",
        secure=request.is_secure,
    )
    return response
