"""Staff views: login, campaigns, walls, prompts, kiosk devices, replies, export, deletion."""

from __future__ import annotations

from collections.abc import Mapping

from flask import flash, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _
from sqlalchemy import select

from surveys import accounts, campaigns, rounds
from surveys.accounts import LoginFailed, Permission
from surveys.errors import DomainError
from surveys.models import Answer, AnswerStatus, KioskDevice, Wall, utcnow
from surveys.replies import visible_replies

from ..extensions import db
from ..public_links import public_url
from ..ratelimits import login_limit
from . import bp
from .auth import current_staff, log_out, login_client_key, requires, safe_next, staff
from .common import error_text, flash_error, kiosk_url, qr_svg
from .forms import (
    CampaignForm,
    DeleteCampaignForm,
    DeviceForm,
    LoginForm,
    PromptForm,
    ReplyForm,
    WallForm,
    to_local,
)
from .oidc_views import end_session_redirect
from .twofactor_views import after_password

RECENT_ANSWERS = 30


# -- login ------------------------------------------------------------------------------------


@bp.route("/login", methods=["GET", "POST"])
@login_limit
def login() -> ResponseReturnValue:
    """E-mail and password; failed attempts hold back the client (not the account) for a while."""
    if current_staff() is not None:
        return redirect(url_for(".dashboard"))
    form = LoginForm()
    status = 200
    if form.validate_on_submit():
        try:
            user = accounts.authenticate(
                db.session,
                form.email.data or "",
                form.password.data or "",
                client=login_client_key(),
            )
        except LoginFailed as error:
            form.form_errors.append(_(error.message, **error.params))
            status = 401
        else:  # signed in, or on to the second step (two-factor sign-in)
            return after_password(user, safe_next(request.args.get("next")))
    elif request.method == "POST":
        status = 400
    return render_template("staff/login.html", form=form), status


@bp.post("/logout")
@requires(Permission.VIEW)
def logout() -> ResponseReturnValue:
    """End the session."""
    accounts.record_logout(db.session, staff())
    log_out()
    flash(_("You are logged out."), "success")
    return end_session_redirect() or redirect(url_for(".login"), code=303)


# -- dashboard and campaigns --------------------------------------------------------------------


@bp.get("/")
@requires(Permission.VIEW)
def dashboard() -> ResponseReturnValue:
    """The organisation's campaigns with their walls and how many answers wait."""
    user = staff()
    items = list(db.session.scalars(campaigns.campaigns_of(user.organisation_id)))
    wall_ids = [w.id for c in items for w in c.walls]
    counts = campaigns.status_counts(db.session, wall_ids)
    totals = {
        c.id: {s: sum(counts[w.id][s] for w in c.walls) for s in ("pending", "approved", "hidden")}
        for c in items
    }
    return render_template("staff/dashboard.html", campaigns=items, totals=totals)


@bp.route("/campaigns/new", methods=["GET", "POST"])
@requires(Permission.MANAGE_CAMPAIGNS)
def campaign_new() -> ResponseReturnValue:
    """Create a campaign."""
    form = CampaignForm()
    if form.validate_on_submit():
        try:
            campaign = campaigns.create_campaign(db.session, staff(), form.data_input())
        except DomainError as error:
            form.form_errors.append(_(error.message, **error.params))
        else:
            flash(_("The campaign was created."), "success")
            return redirect(url_for(".campaign", campaign_id=campaign.id), code=303)
    return render_template("staff/campaign_form.html", form=form, campaign=None)


@bp.get("/campaigns/<int:campaign_id>")
@requires(Permission.VIEW)
def campaign(campaign_id: int) -> ResponseReturnValue:
    """A campaign: its walls, their state and answer counts."""
    item = campaigns.get_campaign(db.session, staff().organisation_id, campaign_id)
    counts = campaigns.status_counts(db.session, [w.id for w in item.walls])
    return render_template(
        "staff/campaign.html",
        campaign=item,
        counts=counts,
        now=utcnow(),
        earlier_rounds=rounds.rounds_of(db.session, item),
    )


@bp.route("/campaigns/<int:campaign_id>/edit", methods=["GET", "POST"])
@requires(Permission.MANAGE_CAMPAIGNS)
def campaign_edit(campaign_id: int) -> ResponseReturnValue:
    """Edit a campaign's settings and retention."""
    item = campaigns.get_campaign(db.session, staff().organisation_id, campaign_id)
    form = CampaignForm(obj=item)
    if request.method == "GET":
        form.retention_action.data = item.retention_action.value
    if form.validate_on_submit():
        try:
            campaigns.update_campaign(db.session, staff(), item, form.data_input())
        except DomainError as error:
            db.session.rollback()
            form.form_errors.append(_(error.message, **error.params))
        else:
            flash(_("The campaign was saved."), "success")
            return redirect(url_for(".campaign", campaign_id=item.id), code=303)
    return render_template("staff/campaign_form.html", form=form, campaign=item)


@bp.route("/campaigns/<int:campaign_id>/delete", methods=["GET", "POST"])
@requires(Permission.DELETE_CAMPAIGNS)
def campaign_delete(campaign_id: int) -> ResponseReturnValue:
    """Delete a campaign with all its walls, answers, devices and replies."""
    item = campaigns.get_campaign(db.session, staff().organisation_id, campaign_id)
    counts = campaigns.status_counts(db.session, [w.id for w in item.walls])
    form = DeleteCampaignForm()
    if form.validate_on_submit():
        title = item.title
        try:
            campaigns.delete_campaign(db.session, staff(), item, form.confirm.data or "")
        except DomainError as error:
            form.confirm.errors = [_(error.message, **error.params)]
        else:
            flash(
                _("The campaign %(title)s and all its data were deleted.", title=title), "success"
            )
            return redirect(url_for(".dashboard"), code=303)
    answers = sum(sum(c.values()) for c in counts.values())
    return render_template("staff/campaign_delete.html", campaign=item, form=form, answers=answers)


# -- walls ---------------------------------------------------------------------------------------


@bp.route("/campaigns/<int:campaign_id>/walls/new", methods=["GET", "POST"])
@requires(Permission.MANAGE_CAMPAIGNS)
def wall_new(campaign_id: int) -> ResponseReturnValue:
    """Create a wall with its questions."""
    item = campaigns.get_campaign(db.session, staff().organisation_id, campaign_id)
    form = WallForm()
    if form.validate_on_submit():
        prompts = [line.strip() for line in (form.prompts.data or "").splitlines()]
        try:
            wall = campaigns.create_wall(db.session, staff(), item, form.data_input(), prompts)
        except DomainError as error:
            db.session.rollback()
            form.form_errors.append(error_text(error))
        else:
            flash(_("The wall was created."), "success")
            return redirect(url_for(".wall", wall_id=wall.id), code=303)
    return render_template("staff/wall_form.html", form=form, campaign=item, wall=None)


def _load_wall(wall_id: int) -> Wall:
    return campaigns.get_wall(db.session, staff().organisation_id, wall_id)


@bp.get("/walls/<int:wall_id>")
@requires(Permission.VIEW)
def wall(wall_id: int) -> ResponseReturnValue:
    """A wall: settings, questions, kiosk devices, replies and the latest approved answers."""
    return _wall_page(_load_wall(wall_id))


def _wall_page(
    item: Wall, typed_reply: Mapping[str, str] | None = None, reply_error: str | None = None
) -> str:
    """The wall's page; ``typed_reply``: the reply form as sent, shown again with
    ``reply_error`` when it was refused."""
    reply_form = ReplyForm(formdata=None, text=(typed_reply or {}).get("text", ""))
    if reply_error:
        reply_form.text.errors = [reply_error]
    recent = list(
        db.session.scalars(
            select(Answer)
            .where(Answer.wall_id == item.id, Answer.status == AnswerStatus.APPROVED)
            .order_by(Answer.created_at.desc(), Answer.id.desc())
            .limit(RECENT_ANSWERS)
        )
    )
    devices = list(
        db.session.scalars(
            select(KioskDevice).where(KioskDevice.wall_id == item.id).order_by(KioskDevice.id)
        )
    )
    return render_template(
        "staff/wall.html",
        wall=item,
        counts=campaigns.status_counts(db.session, [item.id])[item.id],
        prompts_locked=campaigns.wall_has_answers(db.session, item.id),
        recent=recent,
        devices=devices,
        replies=list(db.session.scalars(visible_replies(item.id))),
        prompt_form=PromptForm(formdata=None),
        device_form=DeviceForm(formdata=None),
        reply_form=reply_form,
        typed_reply=typed_reply or {},
        public_url=public_url("participate.wall", slug=item.slug),
        now=utcnow(),
    )


@bp.get("/walls/<int:wall_id>/qr.svg")
@requires(Permission.VIEW)
def wall_qr(wall_id: int) -> ResponseReturnValue:
    """A QR code of the wall's public address (for posters and slides)."""
    item = _load_wall(wall_id)
    return qr_svg(public_url("participate.wall", slug=item.slug))


@bp.route("/walls/<int:wall_id>/edit", methods=["GET", "POST"])
@requires(Permission.MANAGE_CAMPAIGNS)
def wall_edit(wall_id: int) -> ResponseReturnValue:
    """Edit a wall's settings."""
    item = _load_wall(wall_id)
    form = WallForm(obj=item, with_prompts=False)
    if request.method == "GET":
        form.audience.data = item.audience.value
        form.moderation.data = item.moderation.value
        form.languages.data = list(item.languages or [])
        form.profile_questions.data = list(item.profile_questions or [])
        form.areas.data = "\n".join(item.areas or [])
        form.opens_at.data = to_local(item.opens_at)
        form.closes_at.data = to_local(item.closes_at)
    if form.validate_on_submit():
        try:
            campaigns.update_wall(db.session, staff(), item, form.data_input())
        except DomainError as error:
            db.session.rollback()
            form.form_errors.append(error_text(error))
        else:
            flash(_("The wall was saved."), "success")
            return redirect(url_for(".wall", wall_id=item.id), code=303)
    return render_template("staff/wall_form.html", form=form, campaign=item.campaign, wall=item)


@bp.post("/walls/<int:wall_id>/window")
@requires(Permission.MANAGE_CAMPAIGNS)
def wall_window(wall_id: int) -> ResponseReturnValue:
    """Open or close the wall now."""
    item = _load_wall(wall_id)
    action = request.form.get("action", "")
    try:
        campaigns.set_window(db.session, staff(), item, action)
    except DomainError as error:
        flash_error(error)
    else:
        message = _("The wall is open.") if action == "open" else _("The wall is closed.")
        flash(message, "success")
    return redirect(url_for(".wall", wall_id=item.id), code=303)


# -- prompts -------------------------------------------------------------------------------------


def _back_to_wall(wall_id: int) -> ResponseReturnValue:
    return redirect(url_for(".wall", wall_id=wall_id, _anchor="questions"), code=303)


def _question_input() -> campaigns.QuestionInput | str:
    """The question as the editor sent it: its text alone when the form has no kind."""
    text = request.form.get("text", "")
    if "kind" not in request.form:
        return text
    return campaigns.QuestionInput(
        text,
        request.form.get("kind", "text"),
        request.form.get("options", "").splitlines(),
        request.form.get("follow_up"),
    )


@bp.post("/walls/<int:wall_id>/prompts")
@requires(Permission.MANAGE_CAMPAIGNS)
def prompt_add(wall_id: int) -> ResponseReturnValue:
    """Add a question at the end."""
    item = _load_wall(wall_id)
    try:
        campaigns.add_prompt(db.session, staff(), item, _question_input())
    except DomainError as error:
        db.session.rollback()
        flash_error(error)
    else:
        flash(_("The question was added."), "success")
    return _back_to_wall(item.id)


@bp.post("/prompts/<int:prompt_id>")
@requires(Permission.MANAGE_CAMPAIGNS)
def prompt_edit(prompt_id: int) -> ResponseReturnValue:
    """Change a question's text."""
    prompt = campaigns.get_prompt(db.session, staff().organisation_id, prompt_id)
    try:
        campaigns.update_prompt(db.session, staff(), prompt, _question_input())
    except DomainError as error:
        db.session.rollback()
        flash_error(error)
    else:
        flash(_("The question was saved."), "success")
    return _back_to_wall(prompt.wall_id)


@bp.post("/prompts/<int:prompt_id>/move")
@requires(Permission.MANAGE_CAMPAIGNS)
def prompt_move(prompt_id: int) -> ResponseReturnValue:
    """Move a question up or down."""
    prompt = campaigns.get_prompt(db.session, staff().organisation_id, prompt_id)
    delta = -1 if request.form.get("direction") == "up" else 1
    try:
        campaigns.move_prompt(db.session, staff(), prompt, delta)
    except DomainError as error:
        db.session.rollback()
        flash_error(error)
    return _back_to_wall(prompt.wall_id)


@bp.post("/prompts/<int:prompt_id>/delete")
@requires(Permission.MANAGE_CAMPAIGNS)
def prompt_delete(prompt_id: int) -> ResponseReturnValue:
    """Remove a question."""
    prompt = campaigns.get_prompt(db.session, staff().organisation_id, prompt_id)
    wall_id = prompt.wall_id
    try:
        campaigns.delete_prompt(db.session, staff(), prompt)
    except DomainError as error:
        db.session.rollback()
        flash_error(error)
    else:
        flash(_("The question was removed."), "success")
    return _back_to_wall(wall_id)


# -- kiosk devices -------------------------------------------------------------------------------


@bp.post("/walls/<int:wall_id>/devices")
@requires(Permission.MANAGE_CAMPAIGNS)
def device_add(wall_id: int) -> ResponseReturnValue:
    """Register a kiosk tablet for the wall and show its address and QR code."""
    item = _load_wall(wall_id)
    form = DeviceForm()
    if not form.validate():
        for errors in form.errors.values():
            for message in errors:
                flash(str(message), "error")
        return redirect(url_for(".wall", wall_id=item.id, _anchor="devices"), code=303)
    try:
        device = campaigns.add_device(
            db.session, staff(), item, form.name.data or "", form.idle_seconds.data or 60
        )
    except DomainError as error:
        db.session.rollback()
        flash_error(error)
        return redirect(url_for(".wall", wall_id=item.id, _anchor="devices"), code=303)
    flash(_("The device was created. Open the address on the tablet."), "success")
    return redirect(url_for(".device", device_id=device.id), code=303)


@bp.get("/devices/<int:device_id>")
@requires(Permission.MANAGE_CAMPAIGNS)
def device(device_id: int) -> ResponseReturnValue:
    """A kiosk device: its address, QR code, last seen and revocation."""
    item = campaigns.get_device(db.session, staff().organisation_id, device_id)
    return render_template("staff/device.html", device=item, url=kiosk_url(item.wall, item.token))


@bp.get("/devices/<int:device_id>/qr.svg")
@requires(Permission.MANAGE_CAMPAIGNS)
def device_qr(device_id: int) -> ResponseReturnValue:
    """The QR code of a kiosk device's address."""
    item = campaigns.get_device(db.session, staff().organisation_id, device_id)
    return qr_svg(kiosk_url(item.wall, item.token))


@bp.post("/devices/<int:device_id>/revoke")
@requires(Permission.MANAGE_CAMPAIGNS)
def device_revoke(device_id: int) -> ResponseReturnValue:
    """Stop a kiosk device from being used."""
    item = campaigns.get_device(db.session, staff().organisation_id, device_id)
    campaigns.revoke_device(db.session, staff(), item)
    flash(_("The device %(name)s can no longer be used.", name=item.name), "success")
    return redirect(url_for(".wall", wall_id=item.wall_id, _anchor="devices"), code=303)


# -- replies -------------------------------------------------------------------------------------


@bp.post("/walls/<int:wall_id>/replies")
@requires(Permission.REPLY)
def reply_add(wall_id: int) -> ResponseReturnValue:
    """Publish a staff reply at the top of the wall."""
    item = _load_wall(wall_id)
    try:
        translations = {lang: request.form.get(f"text-{lang}", "") for lang in item.languages}
        campaigns.add_reply(db.session, staff(), item, request.form.get("text", ""), translations)
    except DomainError as error:
        db.session.rollback()
        # Shown again with what was typed: a refused reply is not lost.
        flash_error(error)
        return _wall_page(item, request.form, error_text(error)), 400
    flash(_("The reply is shown at the top of the wall."), "success")
    return redirect(url_for(".wall", wall_id=item.id, _anchor="replies"), code=303)


@bp.post("/replies/<int:reply_id>/hide")
@requires(Permission.REPLY)
def reply_hide(reply_id: int) -> ResponseReturnValue:
    """Take a staff reply off the wall."""
    reply = campaigns.get_reply(db.session, staff().organisation_id, reply_id)
    campaigns.hide_reply(db.session, staff(), reply)
    flash(_("The reply was taken off the wall."), "success")
    return redirect(url_for(".wall", wall_id=reply.wall_id, _anchor="replies"), code=303)
