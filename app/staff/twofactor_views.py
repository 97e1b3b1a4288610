"""Two-factor sign-in (issue 25): the code after the password, enrolment, recovery codes, reset.

After a right password (:func:`after_password`, called by the login view) a member whose role
requires it (``TOTP_REQUIRED_ROLES``) or who has set it up is only *half* signed in: the
session cookie holds who and when (:data:`PENDING_KEY`), but no staff session exists yet, so
every staff page still sends them to the login. They then give a code from their app or a
recovery code (:func:`second_factor`), or, if their role requires it and they have none yet,
set up their app first (:func:`two_factor_enrol`). Only then does :func:`.auth.log_in` start
the staff session.
"""

from __future__ import annotations

import hashlib
import time

import segno
from cryptography.fernet import MultiFernet
from flask import current_app, flash, g, redirect, render_template, session, url_for
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_babel import ngettext
from flask_wtf import FlaskForm
from wtforms import StringField, SubmitField
from wtforms.validators import InputRequired, Length

from surveys import accounts, twofactor
from surveys.accounts import Permission
from surveys.errors import DomainError
from surveys.models import StaffUser

from ..extensions import db
from ..ratelimits import login_limit
from . import bp
from .auth import current_staff, log_in, login_client_key, requires, staff
from .common import error_text, flash_error

#: The half-finished sign-in in the session cookie: user id, when, a fingerprint of the
#: password hash (a new password cancels it) and where to go after.
PENDING_KEY = "staff_2fa"
#: Minutes the second step may take after the password.
PENDING_MINUTES = 10


class CodeForm(FlaskForm):
    """A 6-digit code from the authenticator app (or, when signing in, a recovery code)."""

    code = StringField(
        _l("Code"),
        validators=[InputRequired(message=_l("Write the code.")), Length(max=40)],
    )
    submit = SubmitField(_l("Continue"))


def _password_mark(user: StaffUser) -> str:
    return hashlib.sha256(user.password_hash.encode()).hexdigest()[:16]


def _required_roles() -> list[str]:
    return list(current_app.config["TOTP_REQUIRED_ROLES"])


def _key() -> MultiFernet:
    """What seals the authenticator secrets (from ``SECRET_KEY`` and its fallbacks)."""
    config = current_app.config
    return twofactor.sealer(str(config["SECRET_KEY"]), config["SECRET_KEY_FALLBACKS"])


def after_password(user: StaffUser, target: str | None) -> ResponseReturnValue:
    """The login's next step after a right password: sign in, or ask for the second factor
    (setting it up first when the role requires it and there is none)."""
    if not twofactor.asks_second_factor(db.session, user, _required_roles()):
        log_in(user)
        return redirect(target or url_for(".dashboard"), code=303)
    session[PENDING_KEY] = {
        "user": user.id,
        "at": int(time.time()),
        "mark": _password_mark(user),
        "next": target,
    }
    if twofactor.is_enrolled(db.session, user):
        return redirect(url_for(".second_factor"), code=303)
    return redirect(url_for(".two_factor_enrol"), code=303)


def _pending_user() -> StaffUser | None:
    """The member half signed in with this session (password given, no second step yet)."""
    data = session.get(PENDING_KEY)
    if not isinstance(data, dict) or not isinstance(data.get("user"), int):
        return None
    if not 0 <= time.time() - int(data.get("at", 0)) < PENDING_MINUTES * 60:
        session.pop(PENDING_KEY, None)
        return None
    user = db.session.get(StaffUser, data["user"])
    if user is None or not user.is_active or data.get("mark") != _password_mark(user):
        session.pop(PENDING_KEY, None)
        return None
    return user


def _finish(user: StaffUser) -> str:
    """Start the staff session of a half signed-in member; returns where to go next."""
    data = session.get(PENDING_KEY) or {}
    log_in(user)  # the pending sign-in is dropped with the rest of the session
    return data.get("next") or url_for(".dashboard")


@bp.route("/login/code", methods=["GET", "POST"])
@login_limit
def second_factor() -> ResponseReturnValue:
    """The second step of signing in: a code from the app or a recovery code."""
    user = _pending_user()
    if user is None:
        return redirect(url_for(".login"))
    if not twofactor.is_enrolled(db.session, user):
        return redirect(url_for(".two_factor_enrol"))
    form = CodeForm()
    status = 200
    if form.validate_on_submit():
        try:
            used_recovery = twofactor.verify(
                db.session, user, form.code.data or "", client=login_client_key(), key=_key()
            )
        except DomainError as error:
            form.code.errors = [error_text(error)]
            status = 401
        else:
            target = _finish(user)  # (a new session: flash after it)
            if used_recovery:
                left = twofactor.recovery_codes_left(db.session, user)
                flash(
                    ngettext(
                        "You used a recovery code. You have %(num)d left.",
                        "You used a recovery code. You have %(num)d left.",
                        left,
                    )
                    + " "
                    + _("Make new ones under My account if you have few left."),
                    "info",
                )
            return redirect(target, code=303)
    elif form.is_submitted():
        status = 400
    return render_template("staff/two_factor_code.html", form=form), status


@bp.route("/two-factor/enrol", methods=["GET", "POST"])
@login_limit
def two_factor_enrol() -> ResponseReturnValue:
    """Set up the authenticator app: scan the QR code (or type the key), confirm with a code,
    then see the recovery codes once. For a signed-in member, and for one half signed in whose
    role requires it."""
    user = current_staff()
    pending = user is None
    if user is None:
        user = _pending_user()
    if user is None:
        return redirect(url_for(".login"))
    if twofactor.is_enrolled(db.session, user):
        return redirect(url_for(".second_factor" if pending else ".two_factor"))
    form = CodeForm()
    status = 200
    if form.validate_on_submit():
        try:
            codes = twofactor.confirm_enrolment(db.session, user, form.code.data or "", key=_key())
        except DomainError as error:
            form.code.errors = [error_text(error)]
            status = 400
        else:
            target = _finish(user) if pending else url_for(".two_factor")
            return render_template("staff/two_factor_codes.html", codes=codes, target=target)
    elif form.is_submitted():
        status = 400
    sealing = _key()
    secret = twofactor.pending_secret(db.session, user, key=sealing) or twofactor.start_enrolment(
        db.session, user, key=sealing
    )
    uri = twofactor.provisioning_uri(secret, user.email)
    qr = segno.make(uri, error="m").svg_data_uri(scale=4, border=2)
    key = " ".join(secret[i : i + 4] for i in range(0, len(secret), 4))
    return render_template(
        "staff/two_factor_enrol.html",
        form=form,
        qr=qr,
        key=key,
        pending=pending,
        required=twofactor.is_required(user, _required_roles()),
    ), status


@bp.get("/account/two-factor")
@requires(Permission.VIEW)
def two_factor() -> ResponseReturnValue:
    """One's own two-factor sign-in: set up or not, recovery codes left, new codes."""
    user = staff()
    return render_template(
        "staff/two_factor.html",
        enrolled=twofactor.is_enrolled(db.session, user),
        required=twofactor.is_required(user, _required_roles()),
        codes_left=twofactor.recovery_codes_left(db.session, user),
        form=CodeForm(),
    )


@bp.post("/account/two-factor/recovery-codes")
@requires(Permission.VIEW)
@login_limit
def two_factor_recovery_codes() -> ResponseReturnValue:
    """New recovery codes (the old ones stop working), confirmed with a code from the app."""
    form = CodeForm()
    if form.validate_on_submit():
        try:
            codes = twofactor.renew_recovery_codes(
                db.session, staff(), form.code.data or "", key=_key()
            )
        except DomainError as error:
            db.session.rollback()
            flash_error(error)
        else:
            return render_template(
                "staff/two_factor_codes.html", codes=codes, target=url_for(".two_factor")
            )
    else:
        flash(_("Write the code."), "error")
    return redirect(url_for(".two_factor"), code=303)


@bp.post("/account/two-factor/disable")
@requires(Permission.VIEW)
@login_limit
def two_factor_disable() -> ResponseReturnValue:
    """Turn off one's own two-factor sign-in (roles that need not have it), with a code."""
    user = staff()
    form = CodeForm()
    if not form.validate_on_submit():
        flash(_("Write the code."), "error")
        return redirect(url_for(".two_factor"), code=303)
    required = twofactor.is_required(user, _required_roles())
    try:
        twofactor.disable(db.session, user, form.code.data or "", required=required, key=_key())
    except DomainError as error:
        db.session.rollback()
        flash_error(error)
    else:
        flash(_("Two-factor sign-in is turned off."), "success")
    return redirect(url_for(".two_factor"), code=303)


@bp.post("/users/<int:user_id>/two-factor/reset")
@requires(Permission.MANAGE_USERS)
def two_factor_reset(user_id: int) -> ResponseReturnValue:
    """Remove a member's second factor (a lost phone); they set it up again at sign-in."""
    actor = staff()
    user = accounts.get_staff_user(db.session, actor.organisation_id, user_id)
    try:
        twofactor.reset(db.session, actor, user)
    except DomainError as error:
        db.session.rollback()
        flash_error(error)
    else:
        flash(_("Two-factor sign-in was reset. Their sessions have ended."), "success")
    return redirect(url_for(".user_edit", user_id=user.id), code=303)


def two_factor_enrolled(user: StaffUser) -> bool:
    """Whether a member of the signed-in admin's organisation has set up two-factor sign-in
    (for the user pages: one query per request)."""
    if "two_factor_enrolled" not in g:
        stmt = twofactor.enrolled_in(staff().organisation_id)
        g.two_factor_enrolled = set(db.session.scalars(stmt))
    return user.id in g.two_factor_enrolled


@bp.context_processor
def two_factor_context() -> dict[str, object]:
    """``two_factor_enrolled(user)`` for the user pages."""
    return {"two_factor_enrolled": two_factor_enrolled}
