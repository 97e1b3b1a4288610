"""Views of the participant pages (work without JavaScript; enhanced by static scripts)."""

from __future__ import annotations

import io
import secrets
import uuid

import segno
from flask import (
    abort,
    current_app,
    g,
    jsonify,
    make_response,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from flask.typing import ResponseReturnValue
from flask_babel import get_locale
from flask_babel import gettext as _
from flask_wtf.csrf import generate_csrf
from werkzeug.exceptions import TooManyRequests
from werkzeug.wrappers import Response

from surveys import operations
from surveys.errors import DomainError, WallClosed, WallNotOpen
from surveys.models import Answer, Channel, Prompt, Wall
from surveys.operations import WallSnapshot
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
from . import bp, page_cache
from .assets import asset_url, assets_version
from .forms import OVER_THE_LIMIT, AnswerForm

DEVICE_COOKIE = "stemmer_device"
MY_ANSWERS_KEPT = 20
NOTES_PER_PAGE = 30


@bp.app_template_global("asset_url")
def _asset_url(filename: str) -> str:
    return asset_url(filename)


def _load_wall(slug: str) -> Wall:
    wall = operations.get_wall(db.session, slug)
    g.wall_language = wall.language
    return wall


def _chosen_prompt(wall: Wall) -> Prompt | None:
    chosen = request.args.get("prompt", type=int)
    return next((p for p in wall.prompts if p.id == chosen), None)


def _page_number() -> int:
    page = request.args.get("side", default=1, type=int) or 1
    return max(1, min(page, 1000))


def _page_status(wall: Wall | WallSnapshot) -> int:
    """200 while the wall is open, 410 once it has closed, 403 before it opens."""
    if wall.has_closed():
        return 410
    return 200 if wall.is_open() else 403


def _page_key(
    wall: Wall | WallSnapshot, page: int, prompt_id: int | None, status: int
) -> tuple[object, ...]:
    """The page cache's key: everything a cached page (without its markers) depends on."""
    return (
        page_cache.wall_fields(wall),
        str(get_locale() or "da"),
        page,
        prompt_id,
        status,
        wall_page_version(db.session, wall),
    )


def _filled_page(marked: str, wall_id: int, submission_id: str) -> str:
    """A cached page with this visitor's CSRF token, submission id and "enig" state."""
    agreed = device_agreed_on_wall(db.session, request.cookies.get(DEVICE_COOKIE), wall_id)
    return page_cache.fill(marked, generate_csrf(), submission_id, agreed)


def _page_cache_on() -> bool:
    return bool(current_app.config.get("WALL_PAGE_CACHE", True))


def _cached_wall_page(slug: str) -> ResponseReturnValue | None:
    """The wall page from the page cache, or None when it has to be rendered.

    Needs no query for the wall: its values come from :func:`surveys.operations.
    remembered_wall` (at most ``WALL_CACHE_SECONDS`` old; a change made in this process is
    seen at once), and the page's data version is read as always, so notes, "enig" counts
    and replies are never older than the database. When the remembered wall differs from
    the database the key misses and the page is built from the wall as it is now.
    """
    remembered = operations.remembered_wall(
        db.session,
        slug,
        current_app.config.get("WALL_CACHE_SECONDS", operations.WALL_CACHE_SECONDS),
    )
    g.wall_language = remembered.language
    chosen = request.args.get("prompt", type=int)
    if chosen in remembered.prompt_ids:
        prompt_id: int | None = chosen
    else:
        prompt_id = remembered.prompts[0].id if remembered.prompts else None
    status = _page_status(remembered)
    marked = _page_cache().get(_page_key(remembered, _page_number(), prompt_id, status))
    if marked is None:
        return None
    return _filled_page(marked, remembered.id, uuid.uuid4().hex), status


def _render_wall(
    wall: Wall, form: AnswerForm, status: int = 200, *, cacheable: bool = False
) -> ResponseReturnValue:
    """The wall page; ``cacheable`` (a GET with an untouched form) may come from the cache."""
    page = _page_number()
    closed_message = None
    if wall.has_closed():
        closed_message = _("This wall has closed. Thank you to everyone who answered.")
        status = 410
    elif not wall.is_open():
        closed_message = _("This wall has not opened yet. Please come back later.")
        status = 403
    if not cacheable or not _page_cache_on():
        notes = _wall_notes(wall, page)
        device = request.cookies.get(DEVICE_COOKIE)
        agreed = agreed_answer_ids(db.session, device, [n.id for n in notes.notes])
        return _wall_template(wall, form, notes, agreed, page, closed_message), status
    key = _page_key(wall, page, form.prompt_id.data, status)
    submission_id = form.client_submission_id.data
    cache = _page_cache()
    marked = cache.get(key)
    if marked is None:
        with cache.rendering(key):
            marked = cache.get(key)  # rendered by another visitor while this one waited
            if marked is None:
                notes = _wall_notes(wall, page)
                html = _wall_template(wall, form, notes, set(), page, closed_message)
                marked = cache.put(key, html, generate_csrf(), submission_id)
    return _filled_page(marked, wall.id, submission_id), status


def _page_cache() -> page_cache.PageCache:
    cache = current_app.extensions.get("stemmer_wall_pages")
    if cache is None:
        cache = current_app.extensions.setdefault("stemmer_wall_pages", page_cache.PageCache())
    return cache


def _wall_notes(wall: Wall, page: int) -> NotesPage:
    per_page = current_app.config.get("NOTES_PER_PAGE", NOTES_PER_PAGE)
    return wall_notes(db.session, wall.id, limit=page * per_page)


def _wall_template(
    wall: Wall,
    form: AnswerForm,
    notes: NotesPage,
    agreed: set[int],
    page: int,
    closed_message: str | None,
) -> str:
    return render_template(
        "participate/wall.html",
        wall=wall,
        form=form,
        notes=notes,
        agreed=agreed,
        prompts={p.id: p for p in wall.prompts},
        replies=wall_replies(db.session, wall.id),
        page=page,
        closed_message=closed_message,
    )


@bp.get("/w/<slug>")
def wall(slug: str) -> ResponseReturnValue:
    """The wall: its questions, the answer form and the approved answers."""
    if _page_cache_on():
        cached = _cached_wall_page(slug)
        if cached is not None:
            return cached
    wall = _load_wall(slug)
    form = AnswerForm(wall, formdata=None)
    chosen = _chosen_prompt(wall)
    form.prompt_id.data = (chosen or wall.prompts[0]).id if wall.prompts else None
    form.client_submission_id.data = uuid.uuid4().hex
    return _render_wall(wall, form, cacheable=True)


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


@bp.errorhandler(TooManyRequests)
def too_many_requests(error: TooManyRequests) -> ResponseReturnValue:
    """Over the answer limit without JavaScript (a shared network at an event): the form
    again with the answer kept, to send again in a moment; other routes as everywhere."""
    if request.endpoint != "participate.answer" or not request.view_args:
        return handle_http_error(error)
    try:
        wall = _load_wall(request.view_args["slug"])
    except DomainError:  # no such wall: the plain 429
        return handle_http_error(error)
    form = AnswerForm(wall)
    form.form_errors.append(str(OVER_THE_LIMIT))
    return _render_wall(wall, form, 429)


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


@bp.post("/w/<slug>/svar/<int:answer_id>/enig")
def agree(slug: str, answer_id: int) -> ResponseReturnValue:
    """Add this device's "enig" to a note (once per device; no login).

    Answers JSON ``{"agree_count", "agreed"}`` to scripts asking for JSON, else redirects
    back to the note.
    """
    wall = _load_wall(slug)
    answer = db.session.get(Answer, answer_id)
    if answer is None or answer.wall_id != wall.id:
        abort(404)
    device = request.cookies.get(DEVICE_COOKIE) or secrets.token_urlsafe(16)
    operations.add_reaction(db.session, answer, device)
    response: Response
    if _wants_json():
        response = jsonify(agree_count=agree_count(db.session, answer.id), agreed=True)
    else:
        response = redirect(url_for(".wall", slug=wall.slug, _anchor=f"svar-{answer.id}"), code=303)
    response.set_cookie(
        DEVICE_COOKIE,
        device,
        max_age=365 * 24 * 3600,
        httponly=True,
        samesite="Lax",
        secure=request.is_secure,
    )
    return response


def wall_link(wall: Wall, prompt: Prompt | None = None) -> str:
    """The absolute link a QR code leads to (optionally to one prompt)."""
    if prompt is not None:
        return url_for("participate.wall", slug=wall.slug, prompt=prompt.id, _external=True)
    return url_for("participate.wall", slug=wall.slug, _external=True)


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
