"""The organisation's settings page (admins): the data controller named in every wall's privacy
notice, the accessibility statement, and the look of the citizens' pages (issue 25)."""

from __future__ import annotations

from typing import Any

from flask import flash, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from flask_wtf.file import FileField
from wtforms import StringField, SubmitField, TextAreaField
from wtforms.validators import Length

from surveys import branding, organisations
from surveys.accounts import Permission
from surveys.errors import DomainError
from surveys.models import Organisation
from surveys.organisations import SettingsInput

from ..branding import brand_of
from ..extensions import db
from . import bp
from .auth import requires, staff
from .common import error_text

#: The logo form may be this much larger than the logo itself (the form's other fields).
FORM_OVERHEAD_BYTES = 64 * 1024


class OrganisationForm(FlaskForm):
    """The organisation's controller details, statement link, name and colour."""

    controller_name = StringField(
        _l("Data controller's name"),
        description=_l("The legal name, e.g. Bornholms Regionskommune. Empty: the name above."),
        validators=[Length(max=200)],
    )
    controller_address = TextAreaField(
        _l("Postal address"), validators=[Length(max=organisations.MAX_ADDRESS_LENGTH)]
    )
    controller_email = StringField(
        _l("E-mail for questions about the answers"), validators=[Length(max=254)]
    )
    controller_phone = StringField(_l("Phone"), validators=[Length(max=40)])
    dpo_email = StringField(
        _l("The data protection officer's e-mail (DPO)"), validators=[Length(max=254)]
    )
    accessibility_url = StringField(
        _l("Link to your accessibility statement on was.digst.dk"),
        description=_l(
            "Empty: the walls link to Stemmer's own statement with your e-mail and phone above."
        ),
        validators=[Length(max=500)],
    )
    display_name = StringField(
        _l("Name on walls, posters and reports"),
        description=_l("Empty: the organisation's name."),
        validators=[Length(max=200)],
    )
    brand_colour = StringField(
        _l("Main colour"),
        description=_l(
            "As #rrggbb, e.g. #0b5c4a. It is used behind white text, so it must be dark "
            "enough: a contrast of at least 4.5:1 (WCAG AA). Empty: Stemmer's green."
        ),
        validators=[Length(max=7)],
    )
    submit = SubmitField(_l("Save"))

    def data_input(self) -> SettingsInput:
        """The form's values for :mod:`surveys.organisations`."""
        return SettingsInput(
            controller_name=self.controller_name.data or "",
            controller_address=self.controller_address.data or "",
            controller_email=self.controller_email.data or "",
            controller_phone=self.controller_phone.data or "",
            dpo_email=self.dpo_email.data or "",
            accessibility_url=self.accessibility_url.data or "",
            display_name=self.display_name.data or "",
            brand_colour=self.brand_colour.data or "",
        )


class LogoForm(FlaskForm):
    """Upload a logo (PNG or JPEG) or remove it."""

    logo = FileField(
        _l("Logo"),
        description=_l(
            "PNG or JPEG, at most 1 MB. It is shown on a white background, at most 240 pixels "
            "high. SVG cannot be used."
        ),
    )
    submit = SubmitField(_l("Upload the logo"))


@bp.url_value_preprocessor
def _allow_logo_uploads(endpoint: str | None, values: dict[str, Any] | None) -> None:
    """A logo may be larger than the app's general request limit, up to its own (set before
    the CSRF check reads the form); a larger upload is refused (413) before it is read."""
    if endpoint == "staff.organisation_logo" and request.method == "POST":
        request.max_content_length = branding.MAX_LOGO_BYTES + FORM_OVERHEAD_BYTES


def _organisation() -> Organisation:
    organisation = db.session.get(Organisation, staff().organisation_id)
    assert organisation is not None  # a staff member's organisation exists
    return organisation


def _page(
    organisation: Organisation, form: OrganisationForm, logo_form: LogoForm, status: int = 200
) -> ResponseReturnValue:
    return (
        render_template(
            "staff/organisation.html",
            organisation=organisation,
            form=form,
            logo_form=logo_form,
            brand=brand_of(organisation),
            missing=organisations.missing_controller_fields(organisation),
        ),
        status,
    )


@bp.route("/organisation", methods=["GET", "POST"])
@requires(Permission.MANAGE_ORGANISATION)
def organisation_settings() -> ResponseReturnValue:
    """See and change the organisation's settings."""
    organisation = _organisation()
    form = OrganisationForm(obj=organisation)
    if form.validate_on_submit():
        try:
            organisations.update_settings(db.session, staff(), organisation, form.data_input())
        except DomainError as error:
            db.session.rollback()
            form.form_errors.append(error_text(error))
            return _page(organisation, form, LogoForm(formdata=None), 400)
        flash(_("The organisation's settings were saved."), "success")
        return redirect(url_for(".organisation_settings"), code=303)
    status = 400 if request.method == "POST" else 200
    return _page(organisation, form, LogoForm(formdata=None), status)


@bp.route("/organisation/logo", methods=["POST"])
@requires(Permission.MANAGE_ORGANISATION)
def organisation_logo() -> ResponseReturnValue:
    """Upload a new logo (``action=upload``) or remove it (``action=remove``)."""
    organisation = _organisation()
    logo_form = LogoForm()
    if not logo_form.validate_on_submit():
        return _page(organisation, OrganisationForm(obj=organisation), logo_form, 400)
    try:
        if request.form.get("action") == "remove":
            organisations.set_logo(db.session, staff(), organisation, None)
            flash(_("The logo was removed."), "success")
        else:
            upload = logo_form.logo.data
            if upload is None or not upload.filename:
                logo_form.logo.errors = [_("Choose a PNG or JPEG file.")]
                return _page(organisation, OrganisationForm(obj=organisation), logo_form, 400)
            data = upload.stream.read(branding.MAX_LOGO_BYTES + 1)
            organisations.set_logo(db.session, staff(), organisation, data)
            flash(_("The logo was saved."), "success")
    except DomainError as error:
        db.session.rollback()
        logo_form.logo.errors = [error_text(error)]
        return _page(organisation, OrganisationForm(obj=organisation), logo_form, 400)
    return redirect(url_for(".organisation_settings"), code=303)
