"""Admin views: the organisation's staff accounts and the audit log; one's own password."""

from __future__ import annotations

from flask import flash, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _
from sqlalchemy import select

from surveys import accounts, audit
from surveys.accounts import Permission
from surveys.errors import DomainError
from surveys.models import StaffRole, StaffUser, utcnow

from ..extensions import db
from . import audit_labels, bp
from .auth import log_in, requires, staff
from .common import flash_error
from .forms import EditUserForm, NewUserForm, PasswordForm

AUDIT_PER_PAGE = 100


@bp.get("/users")
@requires(Permission.MANAGE_USERS)
def users() -> ResponseReturnValue:
    """The organisation's staff accounts."""
    people = list(db.session.scalars(accounts.staff_of(staff().organisation_id)))
    return render_template("staff/users.html", users=people, now=utcnow())


@bp.route("/users/new", methods=["GET", "POST"])
@requires(Permission.MANAGE_USERS)
def user_new() -> ResponseReturnValue:
    """Create an account; its generated password is shown once."""
    form = NewUserForm()
    if form.validate_on_submit():
        try:
            user, password = accounts.create_user(
                db.session,
                staff(),
                form.email.data or "",
                StaffRole(form.role.data),
                form.name.data or "",
            )
        except DomainError as error:
            db.session.rollback()
            form.form_errors.append(_(error.message, **error.params))
        else:
            return render_template("staff/user_password.html", user=user, password=password)
    return render_template("staff/user_form.html", form=form, user=None)


@bp.route("/users/<int:user_id>", methods=["GET", "POST"])
@requires(Permission.MANAGE_USERS)
def user_edit(user_id: int) -> ResponseReturnValue:
    """Change an account's role, name or active state; unlock it or reset its password."""
    actor = staff()
    user = accounts.get_staff_user(db.session, actor.organisation_id, user_id)
    action = request.form.get("action") if request.method == "POST" else None
    if action == "unlock":
        accounts.unlock_user(db.session, actor, user)
        flash(_("The account is unlocked."), "success")
        return redirect(url_for(".user_edit", user_id=user.id), code=303)
    if action == "reset_password":
        password = accounts.reset_password(db.session, actor, user)
        return render_template("staff/user_password.html", user=user, password=password)
    form = EditUserForm(obj=user)
    if request.method == "GET":
        form.role.data = user.role.value
    if form.validate_on_submit():
        try:
            accounts.update_user(
                db.session,
                actor,
                user,
                role=StaffRole(form.role.data),
                is_active=bool(form.is_active.data),
                name=form.name.data or "",
            )
        except DomainError as error:
            db.session.rollback()
            flash_error(error)
        else:
            flash(_("The user was saved."), "success")
        return redirect(url_for(".user_edit", user_id=user.id), code=303)
    return render_template(
        "staff/user_form.html",
        form=form,
        user=user,
        locked=accounts.is_locked(user),
        now=utcnow(),
    )


@bp.get("/audit")
@requires(Permission.VIEW_AUDIT)
def audit_log() -> ResponseReturnValue:
    """The organisation's audit log, newest first, filterable by action and person."""
    user = staff()
    action = (request.args.get("action") or "").strip()[:64] or None
    actor_id = request.args.get("actor", type=int)
    page = max(1, min(request.args.get("side", default=1, type=int) or 1, 10_000))
    stmt = audit.entries(user.organisation_id, action_prefix=action, actor_id=actor_id)
    rows = list(
        db.session.scalars(stmt.limit(AUDIT_PER_PAGE + 1).offset((page - 1) * AUDIT_PER_PAGE))
    )
    people = list(
        db.session.scalars(
            select(StaffUser)
            .where(StaffUser.organisation_id == user.organisation_id)
            .order_by(StaffUser.email)
        )
    )
    return render_template(
        "staff/audit.html",
        labels=audit_labels,
        entries=rows[:AUDIT_PER_PAGE],
        has_more=len(rows) > AUDIT_PER_PAGE,
        page=page,
        action=action or "",
        actor_id=actor_id,
        people=people,
    )


@bp.route("/account/password", methods=["GET", "POST"])
@requires(Permission.VIEW)
def password() -> ResponseReturnValue:
    """Change one's own password (other sessions of the account end)."""
    user = staff()
    form = PasswordForm()
    if form.validate_on_submit():
        try:
            accounts.change_password(db.session, user, form.current.data, form.new.data)
        except DomainError as error:
            db.session.rollback()
            form.current.errors = [_(error.message, **error.params)]
        else:
            log_in(user)
            flash(_("Your password was changed."), "success")
            return redirect(url_for(".dashboard"), code=303)
    return render_template("staff/password.html", form=form)
