"""Forms of the participant pages."""

from __future__ import annotations

import json
from typing import Any

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import (
    HiddenField,
    RadioField,
    SelectField,
    SelectMultipleField,
    SubmitField,
    TextAreaField,
)
from wtforms.validators import InputRequired, ValidationError

from surveys.answers import clean_answer_text, clean_optional_text
from surveys.errors import InvalidInput
from surveys.languages import area_names, prompt_text
from surveys.models import AGE_GROUP_CODES, ROLE_CODES, Prompt, PromptKind, Wall
from surveys.profiles import AgeQuestion, age_question, age_questions_by_role
from surveys.text import MAX_ANSWER_LENGTH

from ..questions import option_labels
from ..wall_texts import page_language

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
AGE_QUESTION_LABELS = {
    AgeQuestion.OWN: _l("Your age"),
    AgeQuestion.CHILD: _l("Your child's age"),
    AgeQuestion.CHILDREN_WORKED_WITH: _l("Age of the children you work with"),
    AgeQuestion.ANY: _l("Your age, or your child's age"),
}
assert set(ROLE_LABELS) == set(ROLE_CODES)
assert set(AGE_GROUP_LABELS) == set(AGE_GROUP_CODES)


class OptionalSelectField(SelectField):
    """A skippable select: missing or empty means "prefer not to say"; anything else must be
    one of the choices."""

    def process_formdata(self, valuelist: list[Any]) -> None:
        self.data = valuelist[0] if valuelist else ""

    def pre_validate(self, form: FlaskForm) -> None:
        if self.data and self.data not in {choice[0] for choice in self.choices or []}:
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
        # The questions and areas in the page's language (surveys.languages): a label is a
        # LocalText, so the page can mark one in another language with its ``lang``.
        lang = page_language()
        # Closed questions have forms of their own (ClosedAnswerForm).
        self.prompt_id.choices = [
            (p.id, prompt_text(wall, p, lang)) for p in wall.prompts if not p.is_closed
        ]
        skip = ("", _l("Prefer not to say"))
        self.role.choices = [skip, *ROLE_LABELS.items()]
        self.area.choices = [
            skip,
            *(
                (area, str(name), {"lang": name.lang} if name.lang != lang else {})
                for area, name in area_names(wall, lang)
            ),
        ]
        # The age question follows who answers: the wall's audience, and the role once given
        # (the server's choice; the page's script changes it as the role changes).
        role = self.role.data if "role" in wall.profile_questions else None
        self.age = age_question(wall.audience, role if role in ROLE_LABELS else None)
        self.age_group.choices = [skip]
        if self.age is not None:
            kind, bands = self.age
            self.age_group.label.text = AGE_QUESTION_LABELS[kind]
            self.age_group.choices += [(b, AGE_GROUP_LABELS[b]) for b in bands]

    def validate_age_group(self, field: SelectField) -> None:
        """Refuse an age that does not fit who answers (a young person's "0–2 years")."""
        if field.data and field.data not in dict(field.choices or []):
            field.errors.clear()  # said instead of the select's "Choose one of the options."
            raise ValidationError(
                _('The age does not fit your answer to "I am": choose another age or leave it out.')
            )

    def age_questions_json(self) -> str:
        """For the page's script (JSON): the age question's label and options per role, ""
        before a role is chosen; a role missing from it is asked no age."""
        questions = {
            role: {
                "label": str(AGE_QUESTION_LABELS[kind]),
                "options": [[band, str(AGE_GROUP_LABELS[band])] for band in bands],
            }
            for role, (kind, bands) in age_questions_by_role(self.wall.audience).items()
        }
        return json.dumps(questions, ensure_ascii=False)

    def profile_fields(self) -> list[SelectField]:
        """The optional profile questions this wall asks, in order (without the age when it
        does not apply to the role given, e.g. someone expecting a child)."""
        asked = self.age is not None or self.age_group.errors
        names = self.wall.profile_questions
        return [getattr(self, name) for name in names if name != "age_group" or asked]

    def profile(self) -> dict[str, str]:
        """The profile values given (skipped ones left out)."""
        return {f.short_name: f.data for f in self.profile_fields() if f.data}


def _follow_up_text(_form: FlaskForm, field: TextAreaField) -> None:
    try:
        field.data = clean_optional_text(field.data or "")
    except InvalidInput as error:
        raise ValidationError(_(error.message, **error.params)) from error


class ClosedAnswerForm(AnswerForm):
    """An answer to one closed question (issue 26): its choice, the optional follow-up text
    and the same optional "om dig" questions. Each closed question on a wall has its own form
    (``prefix`` keeps the fields' ids apart); its choice is optional when a follow-up is
    written, and the service says when neither is given."""

    prompt_id = HiddenField()
    text = TextAreaField(_l("Your answer"), validators=[_follow_up_text])
    choice = RadioField(_l("Your answer"), validate_choice=False)
    choices = SelectMultipleField(_l("Your answer"), validate_choice=False)

    def __init__(self, wall: Wall, prompt: Prompt, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("prefix", f"q{prompt.id}")
        super().__init__(wall, *args, **kwargs)
        self.prompt = prompt
        self.prompt_id.data = str(prompt.id)
        self.options = option_labels(prompt)
        pairs = [(o["id"], o["label"]) for o in self.options]
        self.choice.choices = pairs
        self.choices.choices = pairs
        if prompt.follow_up:
            self.text.label.text = prompt.follow_up

    @property
    def value_field(self) -> RadioField | SelectMultipleField:
        """The field that holds the choice: checkboxes for a multiple choice, else radios."""
        return self.choices if self.prompt.kind is PromptKind.MULTIPLE else self.choice

    def value(self) -> int | str | list[str] | None:
        """The choice as the service takes it (None when nothing was chosen)."""
        if self.prompt.kind is PromptKind.MULTIPLE:
            return list(self.choices.data or []) or None
        chosen = self.choice.data or None
        if chosen is not None and self.prompt.kind is PromptKind.SCALE:
            return int(chosen) if chosen.isdecimal() and len(chosen) < 3 else chosen
        return chosen


def closed_forms(
    wall: Wall, form: AnswerForm, sent: ClosedAnswerForm | None, *, csrf: bool = True
) -> dict[int, ClosedAnswerForm]:
    """A form for each of the wall's closed questions (``sent``, the one just sent, as it
    was). Each has its own submission id, made from ``form``'s, so that a kept page still
    gives every visitor theirs (the page cache stands in the id)."""
    forms: dict[int, ClosedAnswerForm] = {}
    for prompt in wall.prompts:
        if not prompt.is_closed:
            continue
        if sent is not None and sent.prompt.id == prompt.id:
            forms[prompt.id] = sent
            continue
        blank = ClosedAnswerForm(wall, prompt, formdata=None, meta={} if csrf else {"csrf": False})
        blank.client_submission_id.data = f"{form.client_submission_id.data}-q{prompt.id}"
        forms[prompt.id] = blank
    return forms
