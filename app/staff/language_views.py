"""Staff write a wall's texts in its other languages (issue 24, WCAG 3.1.2).

A wall is offered to participants in another language only once its title, introduction and
questions exist in it (:func:`surveys.languages.offered_languages`); the wall's page says
what is missing and links here.
"""

from __future__ import annotations

from typing import Any

from flask import abort, flash, redirect, render_template, url_for
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import StringField, SubmitField, TextAreaField
from wtforms.validators import Length

from surveys import campaigns, languages
from surveys.accounts import Permission
from surveys.errors import DomainError
from surveys.models import Wall
from surveys.translations import WallTextsInput, set_wall_texts

from ..extensions import db
from . import bp
from .auth import requires, staff
from .forms import LANGUAGE_LABELS, lines


class WallTextsForm(FlaskForm):
    """A wall's texts in one other language; its questions are added per wall."""

    title = StringField(_l("Title"), validators=[Length(max=200)])
    intro = TextAreaField(_l("Introduction"), validators=[Length(max=2000)])
    areas = TextAreaField(_l("Areas"))
    submit = SubmitField(_l("Save"))


def _in_language(lang: str, text: str) -> str:
    """A field's hint: the wall's own text it translates."""
    return _("In %(language)s: %(text)s", language=LANGUAGE_LABELS.get(lang, lang), text=text)


def texts_form(wall: Wall, lang: str, **kwargs: Any) -> WallTextsForm:
    """The form for ``wall``'s texts in ``lang``, with a field per question."""

    class Form(WallTextsForm):
        pass

    for number, prompt in enumerate(wall.prompts, start=1):
        field = StringField(
            _l("Question %(num)d", num=number),
            description=_in_language(wall.language, prompt.text),
            validators=[Length(max=500)],
        )
        setattr(Form, f"prompt_{prompt.id}", field)
    form = Form(**kwargs)
    form.title.description = _in_language(wall.language, wall.title)
    if wall.intro:
        form.intro.description = _in_language(wall.language, wall.intro)
    else:
        del form.intro
    if wall.areas:
        form.areas.description = _(
            "One name per line, in the same order: %(areas)s. Leave empty to show the names "
            "as they are.",
            areas=", ".join(wall.areas),
        )
    else:
        del form.areas
    return form


def prompt_fields(form: WallTextsForm, wall: Wall) -> list[Any]:
    """The question fields of a :func:`texts_form`, in the wall's order."""
    return [form[f"prompt_{prompt.id}"] for prompt in wall.prompts]


@bp.route("/walls/<int:wall_id>/texts/<lang>", methods=["GET", "POST"])
@requires(Permission.MANAGE_CAMPAIGNS)
def wall_texts(wall_id: int, lang: str) -> ResponseReturnValue:
    """Write the wall's title, introduction, areas and questions in ``lang``."""
    wall = campaigns.get_wall(db.session, staff().organisation_id, wall_id)
    if lang not in wall.languages or lang == wall.language:
        abort(404)
    stored = (wall.translations or {}).get(lang, {})
    form = texts_form(wall, lang)
    if not form.is_submitted():
        form.title.data = stored.get("title", "")
        if "intro" in form:
            form.intro.data = stored.get("intro", "")
        if "areas" in form:
            form.areas.data = "\n".join(stored.get("areas", []))
        for prompt, field in zip(wall.prompts, prompt_fields(form, wall), strict=True):
            field.data = (prompt.translations or {}).get(lang, "")
    if form.validate_on_submit():
        data = WallTextsInput(
            title=form.title.data or "",
            intro=form.intro.data or "" if "intro" in form else "",
            areas=lines(form.areas.data) if "areas" in form else [],
            prompts={
                prompt.id: field.data or ""
                for prompt, field in zip(wall.prompts, prompt_fields(form, wall), strict=True)
            },
        )
        try:
            set_wall_texts(db.session, staff(), wall, lang, data)
        except DomainError as error:
            db.session.rollback()
            form.form_errors.append(_(error.message, **error.params))
        else:
            missing = languages.missing_texts(wall, lang)
            if missing:
                flash(_("The texts were saved. Some are still missing (see below)."), "info")
            else:
                flash(
                    _("The texts were saved. Participants can now choose the language."), "success"
                )
            return redirect(url_for(".wall", wall_id=wall.id, _anchor="languages"), code=303)
    return render_template(
        "staff/wall_texts.html",
        wall=wall,
        lang=lang,
        form=form,
        questions=prompt_fields(form, wall),
    )


def _missing_label(code: str) -> str:
    if code == "title":
        return _("the title")
    if code == "intro":
        return _("the introduction")
    return _("question %(num)s", num=code.partition(":")[2])


@bp.app_template_global("wall_language_status")
def wall_language_status(wall: Wall) -> list[dict[str, Any]]:
    """For the staff wall page: per language of the wall, whether participants are offered
    it and, if not, which texts are missing."""
    status = []
    for lang in wall.languages:
        missing = languages.missing_texts(wall, lang)
        status.append(
            {
                "lang": lang,
                "own": lang == wall.language,
                "missing": [_missing_label(code) for code in missing],
                "areas_missing": "area" in wall.profile_questions
                and languages.areas_missing(wall, lang),
            }
        )
    return status
