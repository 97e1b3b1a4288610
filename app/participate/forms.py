"""Forms of the participant pages."""

from __future__ import annotations

from typing import Any

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import HiddenField, RadioField, SelectField, SubmitField, TextAreaField
from wtforms.validators import InputRequired, ValidationError

from surveys.errors import InvalidInput
from surveys.models import AGE_GROUP_CODES, ROLE_CODES, Wall
from surveys.operations import clean_answer_text
from surveys.text import MAX_ANSWER_LENGTH

#: Shown with the form again when an answer sent without JavaScript is over the rate limit.
OVER_THE_LIMIT = _l(
    "Many answers were sent from here just now. Your answer is still here: wait a moment and "
    "press Send again."
)

ROLE_LABELS = {
    "parent": _l("Parent"),
    "expecting": _l("Expecting a child"),
    "young": _l("Young person"),
    "professional": _l("Working with children"),
    "other": _l("Other"),
}
AGE_GROUP_LABELS = {
    "0-2": _l("0–2 years"),
    "3-5": _l("3–5 years"),
    "6-12": _l("6–12 years"),
    "13-17": _l("13–17 years"),
    "18-24": _l("18–24 years"),
}
assert set(ROLE_LABELS) == set(ROLE_CODES)
assert set(AGE_GROUP_LABELS) == set(AGE_GROUP_CODES)


class OptionalSelectField(SelectField):
    """A skippable select: missing or empty means "prefer not to say"; anything else must be
    one of the choices."""

    def process_formdata(self, valuelist: list[Any]) -> None:
        self.data = valuelist[0] if valuelist else ""

    def pre_validate(self, form: FlaskForm) -> None:
        if self.data and self.data not in {value for value, _label in self.choices or []}:
            raise ValidationError(_("Choose one of the options."))


def _answer_text(_form: FlaskForm, field: TextAreaField) -> None:
    try:
        field.data = clean_answer_text(field.data or "")
    except InvalidInput as error:
        raise ValidationError(_(error.message, **error.params)) from error


class AnswerForm(FlaskForm):
    """One answer to one of the wall's prompts, with the optional "om dig" questions."""

    prompt_id = RadioField(
        _l("Choose a question"),
        coerce=int,
        validators=[InputRequired(message=_l("Choose one of the questions."))],
    )
    text = TextAreaField(_l("Your answer"), validators=[_answer_text])
    role = OptionalSelectField(_l("I am"))
    age_group = OptionalSelectField(_l("Age"))
    area = OptionalSelectField(_l("Where do you live?"))
    client_submission_id = HiddenField()
    submit = SubmitField(_l("Send answer"))

    max_length = MAX_ANSWER_LENGTH

    def __init__(self, wall: Wall, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.wall = wall
        self.prompt_id.choices = [(p.id, p.text) for p in wall.prompts]
        skip = ("", _l("Prefer not to say"))
        self.role.choices = [skip, *ROLE_LABELS.items()]
        age_label = _l("Your age") if wall.audience == "young" else _l("Your child's age")
        self.age_group.label.text = age_label
        self.age_group.choices = [skip, *AGE_GROUP_LABELS.items()]
        self.area.choices = [skip, *((a, a) for a in wall.areas)]

    def profile_fields(self) -> list[SelectField]:
        """The optional profile questions this wall asks, in order."""
        return [getattr(self, name) for name in self.wall.profile_questions]

    def profile(self) -> dict[str, str]:
        """The profile values given (skipped ones left out)."""
        return {f.name: f.data for f in self.profile_fields() if f.data}
