"""Views of the kiosk: ``/kiosk/<slug>?device=<token>``.

The device token in the URL is the kiosk's only credential. It can do nothing but answer on
its wall, and because a cross-site page cannot know it, the kiosk's form and its JSON
endpoint need no CSRF token (a kiosk page stays open for days; a session-bound token
would expire under it).
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable
from typing import Any

from flask import abort, jsonify, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_babel import get_locale
from flask_babel import gettext as _
from werkzeug.exceptions import TooManyRequests

from surveys import answers
from surveys import kiosk as kiosks
from surveys.errors import N_, DomainError, InvalidInput, NotFound, WallClosed, WallNotOpen
from surveys.models import Channel, KioskDevice, Wall

from ..config import LANGUAGES
from ..core import handle_http_error
from ..extensions import csrf, db
from ..participate import resubmissions
from ..participate.forms import OVER_THE_LIMIT, AnswerForm, ClosedAnswerForm, closed_forms
from ..ratelimits import kiosk_answer_limit, kiosk_device_limit
from ..wall_texts import use_wall_languages
from . import bp

DEVICE_HEADER = "X-Kiosk-Device"
#: Seconds the thank-you screen stays before the kiosk starts over (at most the idle time).
THANKS_SECONDS = 10


def _load(slug: str, token: str | None) -> tuple[Wall, KioskDevice]:
    wall = answers.get_wall_by_slug(db.session, slug)
    use_wall_languages(wall)
    device = kiosks.active_device(db.session, wall, token)
    return wall, device


def _plain_form_token() -> str | None:
    """The device token of the kiosk's plain form (posted with the form, else in the URL)."""
    return request.form.get("device") or request.args.get("device")


def _invalid(error: DomainError) -> ResponseReturnValue:
    return (
        render_template("kiosk/invalid.html", message=_(error.message, **error.params)),
        error.status,
    )


def _render(
    wall: Wall,
    device: KioskDevice,
    form: AnswerForm,
    status: int = 200,
    closed_form: ClosedAnswerForm | None = None,
) -> Any:
    closed_message = None
    if wall.has_closed():
        closed_message = _("This wall has closed. Thank you to everyone who answered.")
    elif not wall.is_open():
        closed_message = _("This wall has not opened yet. Please come back later.")
    locale = str(get_locale() or wall.language)
    reset_url = None
    if locale != wall.language:
        reset_url = url_for(".kiosk", slug=wall.slug, device=device.token, lang=wall.language)
    return (
        render_template(
            "kiosk/kiosk.html",
            wall=wall,
            device=device,
            form=form,
            closed_forms=closed_forms(wall, form, closed_form, csrf=False),
            closed_message=closed_message,
            thanks_seconds=min(THANKS_SECONDS, device.idle_seconds),
            reset_url=reset_url,
        ),
        status,
    )


@bp.get("/<slug>")
def kiosk(slug: str) -> ResponseReturnValue:
    """The kiosk page for one device."""
    try:
        wall, device = _load(slug, request.args.get("device"))
    except NotFound as error:
        if error.code == "wall_not_found":
            raise
        return _invalid(error)
    kiosks.touch_device(db.session, device)
    form = AnswerForm(wall, formdata=None, meta={"csrf": False})
    form.client_submission_id.data = uuid.uuid4().hex
    response, status = _render(wall, device, form)
    return response, status, {"Cache-Control": "no-cache"}


@bp.post("/<slug>")
@csrf.exempt
@kiosk_device_limit
@kiosk_answer_limit
def answer(slug: str) -> ResponseReturnValue:
    """The kiosk's plain form (without JavaScript): store, then thank and start over."""
    try:
        wall, device = _load(slug, _plain_form_token())
    except NotFound as error:
        if error.code == "wall_not_found":
            raise
        return _invalid(error)
    form = AnswerForm(wall, meta={"csrf": False})
    return _send(
        wall, device, form, form.prompt_id.data, lambda status: _render(wall, device, form, status)
    )


@bp.post("/<slug>/spoergsmaal/<int:prompt_id>")
@csrf.exempt
@kiosk_device_limit
@kiosk_answer_limit
def closed_answer(slug: str, prompt_id: int) -> ResponseReturnValue:
    """A closed question on the kiosk's plain form: store, then thank and start over."""
    try:
        wall, device = _load(slug, _plain_form_token())
    except NotFound as error:
        if error.code == "wall_not_found":
            raise
        return _invalid(error)
    prompt = next((p for p in wall.prompts if p.id == prompt_id and p.is_closed), None)
    if prompt is None:
        abort(404)
    form = ClosedAnswerForm(wall, prompt, meta={"csrf": False})
    blank = AnswerForm(wall, formdata=None, meta={"csrf": False})
    blank.client_submission_id.data = uuid.uuid4().hex
    return _send(
        wall, device, form, prompt.id, lambda status: _render(wall, device, blank, status, form)
    )


def _send(
    wall: Wall,
    device: KioskDevice,
    form: AnswerForm,
    prompt_id: int,
    again: Callable[[int], ResponseReturnValue],
) -> ResponseReturnValue:
    """Store what the plain form sent and thank; on any problem ``again(status)`` shows the
    form with what was sent. Back, then Send, is the same answer: the session forgets it
    when the kiosk starts over for the next person."""
    if not form.client_submission_id.data:
        form.client_submission_id.data = uuid.uuid4().hex
    if not form.validate():
        return again(400)
    closed = isinstance(form, ClosedAnswerForm)
    value = form.value() if isinstance(form, ClosedAnswerForm) else None
    # a closed question's fingerprint covers the choice too
    sent = json.dumps([form.text.data, value]) if closed else form.text.data
    answer = (wall.id, prompt_id, sent, form.profile())
    if resubmissions.earlier_answer(*answer, device_id=device.id) is None:
        try:
            result = answers.submit_answer(
                db.session,
                wall,
                channel=Channel.KIOSK,
                device=device,
                prompt_id=prompt_id,
                text=form.text.data or None if closed else form.text.data,
                value=value,
                client_submission_id=form.client_submission_id.data,
                profile=form.profile(),
                language=str(get_locale() or wall.language),
            )
        except (WallClosed, WallNotOpen):
            return again(410 if wall.has_closed() else 403)
        except DomainError as error:
            form.form_errors.append(_(error.message, **error.params))
            return again(error.status)
        resubmissions.remember(*answer, result.answer.id, device_id=device.id)
    return redirect(url_for(".thanks", slug=wall.slug, device=device.token), code=303)


@bp.errorhandler(TooManyRequests)
def too_many_requests(error: TooManyRequests) -> ResponseReturnValue:
    """Over the limit on the kiosk's plain form: the form again with the answer kept, to send
    again in a moment; other routes as everywhere."""
    if request.endpoint not in ("kiosk.answer", "kiosk.closed_answer") or not request.view_args:
        return handle_http_error(error)
    try:
        wall, device = _load(request.view_args["slug"], _plain_form_token())
    except DomainError:  # no such wall or device: the plain 429
        return handle_http_error(error)
    form = AnswerForm(wall, meta={"csrf": False})
    closed = None
    if request.endpoint == "kiosk.closed_answer":
        prompt_id = request.view_args.get("prompt_id")
        prompt = next((p for p in wall.prompts if p.id == prompt_id and p.is_closed), None)
        if prompt is None:
            return handle_http_error(error)
        closed = ClosedAnswerForm(wall, prompt, meta={"csrf": False})
        closed.form_errors.append(str(OVER_THE_LIMIT))
        form = AnswerForm(wall, formdata=None, meta={"csrf": False})
        form.client_submission_id.data = uuid.uuid4().hex
    else:
        form.form_errors.append(str(OVER_THE_LIMIT))
    return _render(wall, device, form, 429, closed)


@bp.get("/<slug>/forfra")
def start_over(slug: str) -> ResponseReturnValue:
    """The plain form's "Start over": the next person's answers are their own, even when they
    write the same words (see :mod:`app.participate.resubmissions`)."""
    resubmissions.forget()
    return redirect(url_for(".kiosk", slug=slug, device=request.args.get("device")), code=303)


@bp.get("/<slug>/tak")
def thanks(slug: str) -> ResponseReturnValue:
    """Thanks after the plain form; shows nothing of the answer (the next person is near)."""
    try:
        wall, device = _load(slug, request.args.get("device"))
    except NotFound as error:
        if error.code == "wall_not_found":
            raise
        return _invalid(error)
    return render_template("kiosk/thanks.html", wall=wall, device=device)


def _json_error(error: DomainError) -> ResponseReturnValue:
    message = _(error.message, **error.params)
    return jsonify(error={"code": error.code, "message": message}), error.status


@bp.post("/<slug>/answers")
@csrf.exempt
@kiosk_device_limit
@kiosk_answer_limit
def post_answer(slug: str) -> ResponseReturnValue:
    """JSON answers from the kiosk's script (and its offline outbox).

    Needs the device token in the ``X-Kiosk-Device`` header. Body: ``{prompt_id, text,
    client_submission_id, profile, written_at}``. 201 when stored, 200 for a retry, errors as
    in the API. A revoked device's retries still get their stored answer, and answers it
    wrote before it was revoked are accepted for a grace period (``written_at``; see
    :func:`surveys.answers.submit_answer`).
    """
    try:
        wall = answers.get_wall_by_slug(db.session, slug)
        use_wall_languages(wall)
        device = kiosks.wall_device(db.session, wall, request.headers.get(DEVICE_HEADER))
        payload = request.get_json(silent=True) if request.is_json else None
        if not isinstance(payload, dict):
            raise InvalidInput(N_("The body must be a JSON object."), code="invalid_json")
        fields = {"prompt_id", "text", "value", "client_submission_id", "profile", "written_at"}
        unknown = set(payload) - fields
        if unknown:
            raise InvalidInput(
                N_("Unknown field: %(field)s."), code="unknown_field", field=sorted(unknown)[0][:40]
            )
        language = request.headers.get("Content-Language", "").strip().lower()[:2]
        result = answers.submit_answer(
            db.session,
            wall,
            channel=Channel.KIOSK,
            device=device,
            prompt_id=payload.get("prompt_id"),
            text=payload.get("text"),
            value=payload.get("value"),
            client_submission_id=payload.get("client_submission_id"),
            profile=payload.get("profile"),
            language=language if language in LANGUAGES else wall.language,
            written_at=payload.get("written_at"),
        )
    except DomainError as error:
        return _json_error(error)
    answer = result.answer
    body = {
        "id": answer.id,
        "client_submission_id": answer.client_submission_id,
        "prompt_id": answer.prompt_id,
        "status": answer.status.value,
        "created_at": answer.created_at.isoformat(),
        "value": answer.value,
    }
    return jsonify(body), 201 if result.created else 200


@bp.get("/<slug>/manifest.webmanifest")
def manifest(slug: str) -> ResponseReturnValue:
    """A web app manifest, so that a tablet can open the kiosk full-screen from its home
    screen."""
    try:
        wall, device = _load(slug, request.args.get("device"))
    except NotFound as error:
        if error.code == "wall_not_found":
            raise
        return _json_error(error)
    start = url_for(".kiosk", slug=wall.slug, device=device.token)
    document = {
        "name": wall.title,
        "short_name": wall.title[:12],
        "start_url": start,
        "scope": url_for(".kiosk", slug=wall.slug),
        "display": "fullscreen",
        "orientation": "any",
        "background_color": "#f3f1ec",
        "theme_color": "#0b5c4a",
        "lang": wall.language,
    }
    response = jsonify(document)
    response.mimetype = "application/manifest+json"
    return response
