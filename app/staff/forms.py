"""Forms of the staff workspace (Flask-WTF: every form carries a CSRF token)."""

from __future__ import annotations

from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import (
    BooleanField,
    DateTimeLocalField,
    EmailField,
    IntegerField,
    PasswordField,
    RadioField,
    SelectField,
    SelectMultipleField,
    StringField,
    SubmitField,
    TextAreaField,
)
from wtforms.fields.choices import SelectChoice
from wtforms.validators import EqualTo, InputRequired, Length, NumberRange, Optional
from wtforms.widgets import CheckboxInput, ListWidget

from surveys.accounts import MIN_PASSWORD_LENGTH
from surveys.campaigns import CampaignInput, WallInput
from surveys.models import Audience, Moderation, RetentionAction, StaffRole

from ..labels import AUDIENCE_LABELS

#: Staff enter and read times in Danish local time; the database keeps UTC.
LOCAL_ZONE = ZoneInfo("Europe/Copenhagen")

ROLE_LABELS = {
    StaffRole.ADMIN.value: _l("Admin – organisation and users"),
    StaffRole.MANAGER.value: _l("Manager – campaigns, walls and kiosk devices"),
    StaffRole.MODERATOR.value: _l("Moderator – approves and hides answers"),
    StaffRole.ANALYST.value: _l("Analyst – themes, reports and export"),
    StaffRole.VIEWER.value: _l("Viewer – read-only (e.g. alliance partners)"),
}
MODERATION_LABELS = {
    Moderation.PRE.value: _l("Before: nothing is public before a moderator approves it"),
    Moderation.POST.value: _l("After: answers are public at once and can be removed"),
}
RETENTION_LABELS = {
    RetentionAction.ANONYMISE.value: _l(
        "Drop profile values and keep the answers as anonymous text"
    ),
    RetentionAction.DELETE.value: _l("Delete the answers"),
}
LANGUAGE_LABELS = {"da": _l("Danish"), "en": _l("English")}
PROFILE_LABELS = {
    "role": _l("Role (parent, young person, ...)"),
    "age_group": _l("Age group"),
    "area": _l("Area"),
}


def _choices(labels: dict[str, Any]) -> list[SelectChoice]:
    return [SelectChoice(value, label) for value, label in labels.items()]


class MultiCheckboxField(SelectMultipleField):
    """Several choices as checkboxes."""

    widget = ListWidget(prefix_label=False)
    option_widget = CheckboxInput()


def to_utc(value: datetime | None) -> datetime | None:
    """A local (Copenhagen) time from a form as aware UTC."""
    if value is None:
        return None
    return value.replace(tzinfo=LOCAL_ZONE).astimezone(ZoneInfo("UTC"))


def to_local(value: datetime | None) -> datetime | None:
    """An aware UTC time as naive Copenhagen time, for a form."""
    if value is None:
        return None
    return value.astimezone(LOCAL_ZONE).replace(tzinfo=None)


def lines(text: str | None) -> list[str]:
    """Non-empty lines of a textarea."""
    return [line.strip() for line in (text or "").splitlines() if line.strip()]


class LoginForm(FlaskForm):
    """E-mail and password."""

    email = EmailField(
        _l("E-mail"), validators=[InputRequired(message=_l("Write your e-mail.")), Length(max=254)]
    )
    password = PasswordField(
        _l("Password"), validators=[InputRequired(message=_l("Write your password."))]
    )
    submit = SubmitField(_l("Log in"))


class CampaignForm(FlaskForm):
    """A campaign's settings."""

    title = StringField(_l("Title"), validators=[InputRequired(), Length(max=200)])
    slug = StringField(
        _l("Address name"),
        description=_l("Lower-case letters, digits and hyphens, e.g. godt-boerneliv-2026."),
        validators=[InputRequired(), Length(max=64)],
    )
    description = TextAreaField(_l("Description"), validators=[Length(max=5000)])
    retention_months = IntegerField(
        _l("Retention (months)"),
        description=_l(
            "After this many months the answers are handled as chosen below. "
            "Leave empty to keep them until the campaign is deleted."
        ),
        validators=[Optional(), NumberRange(min=1, max=120)],
    )
    retention_action = RadioField(
        _l("When the retention period is over"),
        choices=_choices(RETENTION_LABELS),
        default=RetentionAction.ANONYMISE.value,
    )
    privacy_purpose = TextAreaField(
        _l("What the answers are used for (privacy notice)"),
        description=_l(
            "In plain words a child understands, and the legal basis if you know it. "
            "Shown in the privacy notice of every wall of the campaign. Empty: a general "
            "sentence naming the campaign."
        ),
        validators=[Length(max=2000)],
    )
    submit = SubmitField(_l("Save"))

    def data_input(self) -> CampaignInput:
        """The form's values for :mod:`surveys.campaigns`."""
        return CampaignInput(
            slug=self.slug.data or "",
            title=self.title.data or "",
            description=self.description.data or "",
            retention_months=self.retention_months.data,
            retention_action=RetentionAction(self.retention_action.data),
            privacy_purpose=self.privacy_purpose.data or "",
        )


class WallForm(FlaskForm):
    """A wall's settings; the prompts are only part of this form when the wall is created."""

    title = StringField(_l("Title"), validators=[InputRequired(), Length(max=200)])
    slug = StringField(
        _l("Address name"),
        description=_l("The wall's address becomes /w/ followed by the address name."),
        validators=[InputRequired(), Length(max=64)],
    )
    intro = TextAreaField(_l("Introduction"), validators=[Length(max=2000)])
    audience = SelectField(
        _l("Audience"), choices=_choices(AUDIENCE_LABELS), validators=[InputRequired()]
    )
    moderation = RadioField(
        _l("Moderation"),
        choices=_choices(MODERATION_LABELS),
        default=Moderation.PRE.value,
        description=_l("Answers in which personal data is found always wait for a moderator."),
    )
    languages = MultiCheckboxField(
        _l("Languages"),
        choices=_choices(LANGUAGE_LABELS),
        default=["da", "en"],
        description=_l("The first one is the wall's default language."),
    )
    opens_at = DateTimeLocalField(
        _l("Opens"),
        format="%Y-%m-%dT%H:%M",
        validators=[Optional()],
        description=_l("Leave empty to open at once."),
    )
    closes_at = DateTimeLocalField(
        _l("Closes"),
        format="%Y-%m-%dT%H:%M",
        validators=[Optional()],
        description=_l("Leave empty to keep the wall open."),
    )
    profile_questions = MultiCheckboxField(
        _l("Optional questions about the participant"),
        choices=_choices(PROFILE_LABELS),
        default=[],
    )
    areas = TextAreaField(_l("Areas"), description=_l("One area per line (for the area question)."))
    prompts = TextAreaField(
        _l("Questions"),
        description=_l(
            "One question per line, in the order they are shown. They can be "
            "changed until the first answer arrives."
        ),
    )
    submit = SubmitField(_l("Save"))

    def __init__(self, *args: Any, with_prompts: bool = True, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if not with_prompts:
            del self.prompts

    def data_input(self) -> WallInput:
        """The form's values for :mod:`surveys.campaigns`."""
        return WallInput(
            slug=self.slug.data or "",
            title=self.title.data or "",
            intro=self.intro.data or "",
            audience=Audience(self.audience.data),
            moderation=Moderation(self.moderation.data),
            languages=list(self.languages.data or []),
            opens_at=to_utc(self.opens_at.data),
            closes_at=to_utc(self.closes_at.data),
            profile_questions=list(self.profile_questions.data or []),
            areas=lines(self.areas.data),
        )


class PromptForm(FlaskForm):
    """One question's text."""

    # Own ids: the wall page shows this form and the reply form, both with a field "text".
    text = StringField(
        _l("Question"), validators=[InputRequired(), Length(max=500)], id="new-prompt-text"
    )
    submit = SubmitField(_l("Save"))


class DeviceForm(FlaskForm):
    """A new kiosk tablet."""

    name = StringField(
        _l("Name of the device"),
        description=_l('E.g. "Library, Rønne".'),
        validators=[InputRequired(), Length(max=200)],
    )
    idle_seconds = IntegerField(
        _l("Reset after (seconds without touch)"),
        default=60,
        validators=[InputRequired(), NumberRange(min=15, max=3600)],
    )
    submit = SubmitField(_l("Create device"))


class ReplyForm(FlaskForm):
    """A staff reply shown at the top of the wall."""

    text = TextAreaField(
        _l("Reply to the participants"),
        description=_l(
            'E.g. "We have heard you – this is what we do now: ...". Shown at '
            "the top of the wall and on the live view."
        ),
        validators=[InputRequired(), Length(max=2000)],
        id="reply-text",
    )
    submit = SubmitField(_l("Publish reply"))


class DeleteCampaignForm(FlaskForm):
    """Typing the address name confirms the deletion."""

    confirm = StringField(
        _l("Type the campaign's address name to confirm"), validators=[InputRequired()]
    )
    submit = SubmitField(_l("Delete the campaign and all its data"))


class NewUserForm(FlaskForm):
    """A new staff account (the password is generated and shown once)."""

    email = EmailField(_l("E-mail"), validators=[InputRequired(), Length(max=254)])
    name = StringField(_l("Name"), validators=[Length(max=200)])
    role = RadioField(_l("Role"), choices=_choices(ROLE_LABELS), default=StaffRole.VIEWER.value)
    submit = SubmitField(_l("Create user"))


class EditUserForm(FlaskForm):
    """A staff account's name, role and whether it is active."""

    name = StringField(_l("Name"), validators=[Length(max=200)])
    role = RadioField(_l("Role"), choices=_choices(ROLE_LABELS))
    is_active = BooleanField(_l("Active (may log in)"))
    submit = SubmitField(_l("Save"))


class PasswordForm(FlaskForm):
    """Change one's own password."""

    current = PasswordField(_l("Current password"), validators=[InputRequired()])
    new = PasswordField(
        _l("New password"),
        description=_l("At least %(min)d characters.", min=MIN_PASSWORD_LENGTH),
        validators=[InputRequired(), Length(min=MIN_PASSWORD_LENGTH, max=1024)],
    )
    repeat = PasswordField(
        _l("Repeat the new password"),
        validators=[InputRequired(), EqualTo("new", message=_l("The passwords differ."))],
    )
    submit = SubmitField(_l("Change password"))


class RoundForm(FlaskForm):
    """The next round of a campaign (issue 26)."""

    round_label = StringField(
        _l("Name of the round"),
        description=_l('E.g. "Spring 2027". The earlier round keeps its answers and its name.'),
        validators=[InputRequired(), Length(max=100)],
    )
    title = StringField(_l("Title"), validators=[InputRequired(), Length(max=200)])
    slug = StringField(
        _l("Address name"),
        description=_l("Lower-case letters, digits and hyphens, e.g. godt-boerneliv-2027."),
        validators=[InputRequired(), Length(max=64)],
    )
