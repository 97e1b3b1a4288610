"""Views of the participant pages (work without JavaScript; enhanced by static scripts)."""

from __future__ import annotations

import io
import json
import threading
import uuid
from collections.abc import Callable

import segno
from cachetools import TTLCache, cached
from flask import (
    abort,
    current_app,
    jsonify,
    make_response,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from flask.typing import ResponseReturnValue
from flask_babel import format_date, format_time, get_locale
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_wtf.csrf import generate_csrf
from werkzeug.exceptions import TooManyRequests
from werkzeug.wrappers import Response

from surveys import answers, reactions
from surveys.errors import DomainError, WallClosed, WallNotOpen
from surveys.feedback import replies_to_answers
from surveys.models import Answer, Channel, Prompt, Wall
from surveys.reads import (
    NotesPage,
    agree_count,
    agreed_answer_ids,
    device_agreed_on_wall,
    wall_notes,
    wall_page_version,
    wall_replies,
)

from ..core import handle_http_error
from ..extensions import csrf, db
from ..public_links import public_url
from ..ratelimits import answer_limit, client_key, limiter, reaction_limit
from ..wall_texts import use_wall_languages
from . import bp, devices, resubmissions
from .assets import asset_url, assets_version
from .forms import OVER_THE_LIMIT, AnswerForm, ClosedAnswerForm, closed_forms
from .notes_view import notes_view

#: ``/w/<slug>?enig=afvist``: where an "enig" refused for want of a device key leads.
AGREE_REFUSED = "afvist"
AGREE_REFUSED_MESSAGE = _l(
    'Your "agree" was not counted. Open the wall again and allow cookies from this site, '
    "then you can agree."
)
MY_ANSWERS_KEPT = 20
NOTES_PER_PAGE = 30


@bp.app_template_global("asset_url")
def _asset_url(filename: str) -> str:
    return asset_url(filename)


def _load_wall(slug: str) -> Wall:
    wall = answers.get_wall_by_slug(db.session, slug)
    use_wall_languages(wall)
    return wall


def _chosen_prompt(wall: Wall) -> Prompt | None:
    chosen = request.args.get("prompt", type=int)
    return next((p for p in wall.prompts if p.id == chosen), None)


def _page_number() -> int:
    page = request.args.get("side", default=1, type=int) or 1
    return max(1, min(page, 1000))


#: How long a rendered wall page is kept at most (a backstop for changes the data version does
#: not see, such as a corrected paper note); the pages kept per process, least recently used
#: going first. Measured with 300 notes (bench/load/inprocess.py): 14 ms to render, 1.2 ms
#: from the cache.
PAGE_SECONDS = 30
PAGES_KEPT = 256
#: Stand in for the visitor's own CSRF token and submission id in a kept page.
CSRF_MARK = "\x00csrf\x00"
SUBMISSION_MARK = "\x00sid\x00"


def _page_key(
    wall: Wall, page: int, prompt_id: int | None, status: int, agreed: frozenset[int]
) -> tuple[object, ...]:
    """Everything a kept wall page (without the visitor's token and id) depends on: the wall's
    own fields, the language, page, question and state, the data version (every approval,
    hiding, "enig" and reply changes it) and the notes this device agreed with."""
    return (
        _wall_fields(wall),
        str(get_locale() or "da"),
        page,
        prompt_id,
        notes_view(wall),
        status,
        wall_page_version(db.session, wall),
        agreed,
    )


def _wall_fields(wall: Wall) -> tuple[object, ...]:
    """The wall's own values that show on its page."""
    return (
        wall.id,
        wall.slug,
        wall.title,
        wall.intro,
        wall.audience,
        wall.moderation,
        wall.opens_at,
        wall.closes_at,
        tuple(wall.languages or ()),
        tuple(wall.profile_questions or ()),
        tuple(wall.areas or ()),
        tuple((p.id, p.position, p.text, p.kind, p.follow_up) for p in wall.prompts),
        # the texts in other languages (surveys.languages), as one comparable value
        json.dumps(
            [
                wall.translations or {},
                [p.translations or {} for p in wall.prompts],
                [p.options for p in wall.prompts],
            ],
            sort_keys=True,
        ),
    )


def _kept_page(_key: tuple[object, ...], render: Callable[[], str]) -> str:
    """The page for ``_key``, rendered by ``render`` unless it is kept (see :func:`_pages`)."""
    return render()


def _pages() -> Callable[[tuple[object, ...], Callable[[], str]], str]:
    """:func:`_kept_page` with this app's cache of rendered wall pages (cachetools): one
    visitor renders a missing page while the others asking for it wait for that render."""
    kept = current_app.extensions.get("stemmer.wall_pages")
    if kept is None:
        turn = threading.Condition()
        kept = cached(
            TTLCache(maxsize=PAGES_KEPT, ttl=PAGE_SECONDS),
            key=lambda key, _render: key,
            lock=turn,
            condition=turn,
        )(_kept_page)
        kept = current_app.extensions.setdefault("stemmer.wall_pages", kept)
    return kept


def _page_cache_on() -> bool:
    return bool(current_app.config.get("WALL_PAGE_CACHE", True))


def _closed(wall: Wall) -> tuple[str | None, int | None]:
    """The message and status of a wall that takes no answers now (410 closed, 403 not open
    yet); (None, None) while it is open."""
    if wall.has_closed():
        return _("This wall has closed. Thank you to everyone who answered."), 410
    if not wall.is_open():
        if wall.opens_at is None:
            return _("This wall has not opened yet. Please come back later."), 403
        # when: in Copenhagen time, in the visitor's language
        message = _(
            "This wall has not opened yet. It opens on %(date)s at %(time)s.",
            date=format_date(wall.opens_at, "long"),
            time=format_time(wall.opens_at, "short"),
        )
        return message, 403
    return None, None


def _render_wall(
    wall: Wall,
    form: AnswerForm,
    status: int = 200,
    closed_form: ClosedAnswerForm | None = None,
) -> ResponseReturnValue:
    """The wall page with ``form`` (or a closed question's ``closed_form``) as it is (what
    was typed, its errors), never cached."""
    page = _page_number()
    closed_message, closed_status = _closed(wall)
    notes = _wall_notes(wall, page)
    agreed = agreed_answer_ids(db.session, devices.agreed_key(), [n.id for n in notes.notes])
    html = _wall_template(wall, form, notes, agreed, page, closed_message, closed_form)
    return html, closed_status or status


def _kept_wall_page(
    wall: Wall, prompt_id: int | None, blank_form: Callable[[str], AnswerForm]
) -> ResponseReturnValue:
    """The wall page with an empty answer form, from the page cache when it is kept there.

    ``blank_form(submission_id)`` builds the form; only a page that is rendered needs it (the
    cached page stands in the visitor's own CSRF token and a new submission id).
    """
    page = _page_number()
    closed_message, closed_status = _closed(wall)
    status = closed_status or 200
    on_wall = frozenset(device_agreed_on_wall(db.session, devices.agreed_key(), wall.id))
    key = _page_key(wall, page, prompt_id, status, on_wall)
    token, submission_id = generate_csrf(), uuid.uuid4().hex

    def render_marked() -> str:
        form = blank_form(submission_id)
        html = _wall_template(
            wall, form, _wall_notes(wall, page), set(on_wall), page, closed_message
        )
        return html.replace(token, CSRF_MARK).replace(submission_id, SUBMISSION_MARK)

    html = _pages()(key, render_marked)
    return html.replace(CSRF_MARK, token).replace(SUBMISSION_MARK, submission_id), status


def _wall_notes(wall: Wall, page: int) -> NotesPage:
    per_page = current_app.config.get("NOTES_PER_PAGE", NOTES_PER_PAGE)
    view = notes_view(wall)
    return wall_notes(
        db.session, wall.id, limit=page * per_page, prompt_id=view.prompt_id, order=view.order
    )


def _wall_template(
    wall: Wall,
    form: AnswerForm,
    notes: NotesPage,
    agreed: set[int],
    page: int,
    closed_message: str | None,
    closed_form: ClosedAnswerForm | None = None,
) -> str:
    return render_template(
        "participate/wall.html",
        wall=wall,
        form=form,
        closed_forms=closed_forms(wall, form, closed_form),
        notes=notes,
        agreed=agreed,
        prompts={p.id: p for p in wall.prompts},
        replies=wall_replies(db.session, wall.id),
        feedback=replies_to_answers(db.session, [note.id for note in notes.notes]),
        view=notes_view(wall),
        page=page,
        closed_message=closed_message,
    )


@bp.get("/w/<slug>")
def wall(slug: str) -> ResponseReturnValue:
    """The wall: its questions, the answer form and the approved answers.

    Gives the device its key for "enig" (a signed cookie, set on the response: never part of
    the cached page). ``?enig=afvist``, where a refused "enig" leads, adds a note on cookies
    to the page, which is then not taken from or put in the page cache.
    """
    devices.issue_device_key()
    agree_refused = request.args.get("enig") == AGREE_REFUSED
    wall = _load_wall(slug)
    chosen = _chosen_prompt(wall)
    written = [p for p in wall.prompts if not p.is_closed]
    if chosen is None or chosen.is_closed:
        chosen = written[0] if written else None
    prompt_id = chosen.id if chosen else None

    def blank_form(submission_id: str) -> AnswerForm:
        form = AnswerForm(wall, formdata=None)
        form.prompt_id.data = prompt_id
        form.client_submission_id.data = submission_id
        return form

    if agree_refused or not _page_cache_on():
        page = _render_wall(wall, blank_form(uuid.uuid4().hex))
    else:
        page = _kept_wall_page(wall, prompt_id, blank_form)
    return devices.set_device_cookie(make_response(page))


@bp.post("/w/<slug>")
@csrf.exempt  # the form checks its own token and re-renders with the text kept
@answer_limit
def answer(slug: str) -> ResponseReturnValue:
    """Store an answer; on any problem show the form again with what was typed."""
    wall = _load_wall(slug)
    form = AnswerForm(wall)
    return _send(wall, form, form.prompt_id.data, lambda status: _render_wall(wall, form, status))


@bp.post("/w/<slug>/spoergsmaal/<int:prompt_id>")
@csrf.exempt  # the form checks its own token and re-renders with the answer kept
@answer_limit
def closed_answer(slug: str, prompt_id: int) -> ResponseReturnValue:
    """Store an answer to a closed question; on any problem show its form again as sent."""
    wall = _load_wall(slug)
    prompt = next((p for p in wall.prompts if p.id == prompt_id and p.is_closed), None)
    if prompt is None:
        abort(404)
    form = ClosedAnswerForm(wall, prompt)
    blank = AnswerForm(wall, formdata=None)
    blank.client_submission_id.data = uuid.uuid4().hex
    return _send(wall, form, prompt.id, lambda status: _render_wall(wall, blank, status, form))


def _send(
    wall: Wall,
    form: AnswerForm,
    prompt_id: int,
    again: Callable[[int], ResponseReturnValue],
) -> ResponseReturnValue:
    """Store what a plain form sent (once: Back, then Send, is the same answer) and go to
    the thanks page; on any problem ``again(status)`` shows the form with what was sent."""
    if not form.client_submission_id.data:
        form.client_submission_id.data = uuid.uuid4().hex
    if not form.validate():
        if "csrf_token" in form.errors:
            form.form_errors.append(
                _("The page had expired. Your answer is still here: please press Send again.")
            )
        return again(400)
    profile = form.profile()
    closed = isinstance(form, ClosedAnswerForm)
    text = form.text.data or None if closed else form.text.data
    value = form.value() if isinstance(form, ClosedAnswerForm) else None
    # Back, then Send: the page came with a new submission id, but it is the same answer
    # (a closed question's fingerprint covers the choice too).
    sent = json.dumps([form.text.data, value]) if closed else form.text.data
    earlier = resubmissions.earlier_answer(wall.id, prompt_id, sent, profile)
    if earlier is not None:
        return _thanked(wall, earlier)
    try:
        result = answers.submit_answer(
            db.session,
            wall,
            prompt_id=prompt_id,
            text=text,
            value=value,
            client_submission_id=form.client_submission_id.data,
            channel=Channel.WEB,
            profile=profile,
            language=str(get_locale() or "da"),
        )
    except (WallClosed, WallNotOpen):
        return again(200)
    except DomainError as error:
        form.form_errors.append(_(error.message, **error.params))
        return again(error.status)
    resubmissions.remember(wall.id, prompt_id, sent, profile, result.answer.id)
    return _thanked(wall, result.answer.id)


def _thanked(wall: Wall, answer_id: int) -> ResponseReturnValue:
    """To the thanks page of this session's answer."""
    mine = [a for a in session.get("my_answers", []) if a != answer_id]
    session["my_answers"] = [*mine, answer_id][-MY_ANSWERS_KEPT:]
    return redirect(url_for(".thanks", slug=wall.slug, svar=answer_id), code=303)


@bp.errorhandler(TooManyRequests)
def too_many_requests(error: TooManyRequests) -> ResponseReturnValue:
    """Over the answer limit without JavaScript (a shared network at an event): the form
    again with the answer kept, to send again in a moment; other routes as everywhere."""
    answering = ("participate.answer", "participate.closed_answer")
    if request.endpoint not in answering or not request.view_args:
        return handle_http_error(error)
    try:
        wall = _load_wall(request.view_args["slug"])
    except DomainError:  # no such wall: the plain 429
        return handle_http_error(error)
    if request.endpoint == "participate.answer":
        form = AnswerForm(wall)
        form.form_errors.append(str(OVER_THE_LIMIT))
        return _render_wall(wall, form, 429)
    prompt_id = request.view_args.get("prompt_id")
    prompt = next((p for p in wall.prompts if p.id == prompt_id and p.is_closed), None)
    if prompt is None:
        return handle_http_error(error)
    closed = ClosedAnswerForm(wall, prompt)
    closed.form_errors.append(str(OVER_THE_LIMIT))
    blank = AnswerForm(wall, formdata=None)
    blank.client_submission_id.data = uuid.uuid4().hex
    return _render_wall(wall, blank, 429, closed)


def next_prompt(wall: Wall, answered_id: int) -> Prompt | None:
    """The prompt after ``answered_id`` in the wall's order (wrapping), if there is another."""
    prompts = list(wall.prompts)
    ids = [p.id for p in prompts]
    if answered_id not in ids or len(prompts) < 2:
        return None
    return prompts[(ids.index(answered_id) + 1) % len(prompts)]


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
    following = next_prompt(wall, answer.prompt_id)
    others = [p for p in wall.prompts if p.id not in (answer.prompt_id, following and following.id)]
    response = make_response(
        render_template(
            "participate/thanks.html", wall=wall, answer=answer, next=following, others=others
        )
    )
    # The page shows the participant's own text: never keep it in a shared cache.
    response.headers["Cache-Control"] = "no-store"
    return response


def _wants_json() -> bool:
    return request.accept_mimetypes.best == "application/json"


def _agree_key() -> str:
    """The per-note limit's key: the client's keyed address hash and the note."""
    return f"{client_key()}:answer:{(request.view_args or {}).get('answer_id')}"


def _without_device_key() -> bool:
    return devices.device_key() is None


@bp.post("/w/<slug>/svar/<int:answer_id>/enig")
@reaction_limit
@limiter.limit(
    lambda: str(current_app.config["RATELIMIT_REACTIONS_PER_ANSWER"]),
    key_func=_agree_key,
    methods=["POST"],
    exempt_when=_without_device_key,  # refused below without counting
)
def agree(slug: str, answer_id: int) -> ResponseReturnValue:
    """Add this device's "enig" to a note (once per device key; no login), or take it back.

    Counts only with a device key the wall page issued (:mod:`.devices`); without one it is
    refused: 403 JSON to scripts, else back to the note with a note on cookies. Answers JSON
    ``{"agree_count", "agreed"}`` to scripts asking for JSON, else redirects back to the note.
    ``agreed=0`` in the form takes the device's "enig" back (the pressed button sends it).
    """
    wall = _load_wall(slug)
    answer = db.session.get(Answer, answer_id)
    if answer is None or answer.wall_id != wall.id:
        abort(404)
    device = devices.device_key()
    if device is None:
        if _wants_json():
            error = {"code": "no_device_key", "message": str(AGREE_REFUSED_MESSAGE)}
            return jsonify(error=error), 403
        back = url_for(".wall", slug=wall.slug, enig=AGREE_REFUSED, _anchor=f"svar-{answer.id}")
        return redirect(back, code=303)
    # "agreed=0" takes this device's "enig" back (the pressed button sends it); else it agrees.
    agreed = request.form.get("agreed") != "0"
    if agreed:
        reactions.add_reaction(db.session, answer, device)
        devices.mark_agreed()
    else:
        reactions.remove_reaction(db.session, answer, device)
    response: Response
    if _wants_json():
        response = jsonify(agree_count=agree_count(db.session, answer.id), agreed=agreed)
    else:
        back = url_for(".wall", slug=wall.slug, _anchor=f"svar-{answer.id}")
        response = redirect(back, code=303)
    return devices.set_device_cookie(response)


def wall_link(wall: Wall, prompt: Prompt | None = None) -> str:
    """The absolute link a QR code leads to (optionally to one prompt), at the base URL."""
    if prompt is not None:
        return public_url("participate.wall", slug=wall.slug, prompt=prompt.id)
    return public_url("participate.wall", slug=wall.slug)


@bp.get("/w/<slug>/qr.svg")
def qr_code(slug: str) -> ResponseReturnValue:
    """The wall's QR code as SVG (``?prompt=<id>`` leads to one prompt)."""
    wall = _load_wall(slug)
    link = wall_link(wall, _chosen_prompt(wall))
    buffer = io.BytesIO()
    segno.make(link, error="m", micro=False).save(
        buffer,
        kind="svg",
        scale=1,
        border=4,
        xmldecl=False,
        omitsize=True,
        dark="#000",
        light="#fff",
        title=_("QR code for %(url)s", url=link),
    )
    response = Response(buffer.getvalue(), mimetype="image/svg+xml")
    response.headers["Cache-Control"] = "public, max-age=3600"
    return response


@bp.get("/w/<slug>/poster")
def poster(slug: str) -> ResponseReturnValue:
    """A printable A4 poster with the wall's question and its QR code."""
    wall = _load_wall(slug)
    prompt = _chosen_prompt(wall)
    return render_template(
        "participate/poster.html", wall=wall, prompt=prompt, link=wall_link(wall, prompt)
    )


@bp.get("/sw.js")
def service_worker() -> ResponseReturnValue:
    """The service worker (at the site root so it may control /w/ and /kiosk/ pages)."""
    path = f"{current_app.static_folder}/js/sw.js"
    with open(path, encoding="utf-8") as handle:
        source = handle.read().replace("__VERSION__", assets_version())
    response = Response(source, mimetype="text/javascript")
    response.headers["Cache-Control"] = "no-cache"
    return response
