"""The presenter's controls for a wall's projector: spotlight one note, or hide it.

A note in the spotlight is shown large on the projector in place of the notes until the
presenter ends it (the projector asks every few seconds). "Hide" hides the answer as the
moderation page does (audited): it leaves the projector, the wall and every public page, which
is what a note unfit for the room needs; there is no separate "off the projector only".
"""

from __future__ import annotations

from flask import abort, flash, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _

from surveys import campaigns, moderation
from surveys import live as live_notes
from surveys.accounts import Permission
from surveys.errors import DomainError
from surveys.models import AnswerStatus, Wall

from ..extensions import db
from . import bp
from .auth import requires, staff
from .common import flash_error

#: Notes offered to the presenter: as many as the projector rotates through.
PRESENTER_NOTES = 24


def _wall(wall_id: int) -> Wall:
    return campaigns.get_wall(db.session, staff().organisation_id, wall_id)


def _back(wall: Wall) -> ResponseReturnValue:
    return redirect(url_for(".presenter", wall_id=wall.id), code=303)


@bp.get("/walls/<int:wall_id>/presenter")
@requires(Permission.MODERATE)
def presenter(wall_id: int) -> ResponseReturnValue:
    """The newest approved notes with "Spotlight" and "Hide", and the note in the spotlight."""
    wall = _wall(wall_id)
    return render_template(
        "staff/presenter.html",
        wall=wall,
        notes=live_notes.latest_notes(db.session, wall.id, limit=PRESENTER_NOTES),
        spotlight=live_notes.spotlight_note(db.session, wall),
        prompts={p.id: p.text for p in wall.prompts},
    )


@bp.post("/walls/<int:wall_id>/presenter/spotlight")
@requires(Permission.MODERATE)
def presenter_spotlight(wall_id: int) -> ResponseReturnValue:
    """Put a note in the projector's spotlight, or (without ``answer``) end the spotlight."""
    wall = _wall(wall_id)
    raw = request.form.get("answer", "")
    if raw and not (raw.isascii() and raw.isdigit() and len(raw) < 12):
        abort(400)
    try:
        note = live_notes.set_spotlight(db.session, staff(), wall, int(raw) if raw else None)
    except DomainError as error:
        db.session.rollback()
        flash_error(error)
    else:
        if note is None:
            flash(_("The projector shows the notes again."), "success")
        else:
            flash(_("The projector shows the note in the spotlight."), "success")
    return _back(wall)


@bp.post("/walls/<int:wall_id>/presenter/hide")
@requires(Permission.MODERATE)
def presenter_hide(wall_id: int) -> ResponseReturnValue:
    """Hide an answer of the wall (as moderation does): it leaves the projector at once."""
    wall = _wall(wall_id)
    user = staff()
    answer = moderation.get_answer(
        db.session, user.organisation_id, request.form.get("answer", 0, type=int)
    )
    if answer.wall_id != wall.id:
        abort(404)
    moderation.set_status(db.session, user, [answer], AnswerStatus.HIDDEN)
    flash(_("The answer was hidden."), "success")
    return _back(wall)
