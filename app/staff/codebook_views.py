"""A campaign's codebook: the themes staff expect (``surveys.codebook``).

Reading needs ``VIEW``; writing, loading the starter and running the themes with the
codebook need ``CURATE_THEMES``. A run with the codebook is a background job (kind
``codebook``, ``app.jobs``) over the whole campaign or the scope the explorer was showing.
"""

from __future__ import annotations

from typing import Any

from flask import flash, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_babel import ngettext
from flask_wtf import FlaskForm
from wtforms import StringField, SubmitField, TextAreaField
from wtforms.validators import InputRequired

from surveys import codebook
from surveys import theme_review as review
from surveys.accounts import Permission
from surveys.errors import DomainError
from surveys.why import why_here

from ..extensions import db
from ..jobs import start_job
from . import bp
from .auth import requires, staff
from .common import flash_error
from .theme_views import parse_view, theme_job_key


class CodebookThemeForm(FlaskForm):
    """A codebook theme: name, one sentence, up to ten keywords. The service checks the
    lengths and keywords (its messages are in Danish)."""

    name = StringField(
        _l("Name"), validators=[InputRequired(message=_l("Write a name for the theme."))]
    )
    description = TextAreaField(
        _l("Description"),
        description=_l("One sentence about what the answers in this theme are about."),
    )
    keywords = TextAreaField(
        _l("Keywords"),
        description=_l(
            "Up to 10 words, separated by commas. A word also finds longer words it is part "
            "of (cykelsti finds skolecykelstien); a * at the end or start matches the rest "
            "of a word (natur*)."
        ),
    )
    submit = SubmitField(_l("Save"))

    def data_input(self) -> codebook.ThemeInput:
        """What staff wrote, for the service."""
        return codebook.ThemeInput(
            name=self.name.data or "",
            description=self.description.data or "",
            keywords=codebook.split_keywords(self.keywords.data or ""),
        )


@bp.app_context_processor
def why_here_helper() -> dict[str, Any]:
    """``why_here(run, theme, answer, text)`` for the theme page ("hvorfor her?")."""
    return {"why_here": why_here}


@bp.get("/campaigns/<int:campaign_id>/codebook")
@requires(Permission.VIEW)
def codebook_page(campaign_id: int) -> ResponseReturnValue:
    """The campaign's codebook, with the editor's actions."""
    campaign, themes = codebook.load_codebook(db.session, staff(), campaign_id)
    return render_template(
        "staff/codebook/index.html",
        campaign=campaign,
        themes=themes,
        max_themes=codebook.MAX_THEMES,
    )


def _form_page(campaign_id: int, theme_id: int | None) -> ResponseReturnValue:
    user = staff()
    campaign, _themes = codebook.load_codebook(db.session, user, campaign_id)
    theme = codebook.get_theme(db.session, user, campaign_id, theme_id) if theme_id else None
    form = CodebookThemeForm(obj=theme)
    if request.method == "GET" and theme is not None:
        form.keywords.data = ", ".join(theme.keywords)
    if form.validate_on_submit():
        try:
            if theme is None:
                saved = codebook.add_theme(db.session, user, campaign.id, form.data_input())
                flash(
                    _("The theme %(name)s was added to the codebook.", name=saved.name), "success"
                )
            else:
                saved = codebook.update_theme(
                    db.session, user, campaign.id, theme.id, form.data_input()
                )
                flash(_("The theme %(name)s was saved.", name=saved.name), "success")
        except DomainError as error:
            db.session.rollback()
            form.form_errors.append(_(error.message, **error.params))
        else:
            return redirect(url_for(".codebook_page", campaign_id=campaign.id), code=303)
    status = 400 if request.method == "POST" else 200
    page = render_template("staff/codebook/form.html", campaign=campaign, theme=theme, form=form)
    return page, status


@bp.route("/campaigns/<int:campaign_id>/codebook/new", methods=["GET", "POST"])
@requires(Permission.CURATE_THEMES)
def codebook_new(campaign_id: int) -> ResponseReturnValue:
    """Add a theme to the codebook."""
    return _form_page(campaign_id, None)


@bp.route("/campaigns/<int:campaign_id>/codebook/<int:theme_id>", methods=["GET", "POST"])
@requires(Permission.CURATE_THEMES)
def codebook_edit(campaign_id: int, theme_id: int) -> ResponseReturnValue:
    """Edit a codebook theme."""
    return _form_page(campaign_id, theme_id)


@bp.post("/campaigns/<int:campaign_id>/codebook/<int:theme_id>/delete")
@requires(Permission.CURATE_THEMES)
def codebook_delete(campaign_id: int, theme_id: int) -> ResponseReturnValue:
    """Remove a theme from the codebook (runs made with it keep their themes)."""
    name = codebook.delete_theme(db.session, staff(), campaign_id, theme_id)
    flash(_("The theme %(name)s was removed from the codebook.", name=name), "success")
    return redirect(url_for(".codebook_page", campaign_id=campaign_id), code=303)


@bp.post("/campaigns/<int:campaign_id>/codebook/starter")
@requires(Permission.CURATE_THEMES)
def codebook_starter(campaign_id: int) -> ResponseReturnValue:
    """Add the built-in starter for childhood campaigns (themes the codebook lacks)."""
    added = codebook.load_starter(db.session, staff(), campaign_id)
    flash(
        ngettext(
            "%(num)d theme from the starter was added. Edit or delete what does not fit.",
            "%(num)d themes from the starter were added. Edit or delete what does not fit.",
            added,
        ),
        "success",
    )
    return redirect(url_for(".codebook_page", campaign_id=campaign_id), code=303)


@bp.post("/campaigns/<int:campaign_id>/codebook/run")
@requires(Permission.CURATE_THEMES)
def codebook_run(campaign_id: int) -> ResponseReturnValue:
    """Sort the scope's answers into the codebook in the background and show the progress."""
    view = parse_view(campaign_id, request.form)
    explorer = url_for(".theme_explorer", campaign_id=view.campaign.id, **view.scope_params())
    try:
        codebook.ensure_codebook(db.session, staff(), view.campaign.id)
        review.ensure_enough_answers(db.session, view.scope)
    except DomainError as error:
        flash_error(error)
        return redirect(url_for(".codebook_page", campaign_id=view.campaign.id), code=303)
    scope = view.scope
    job, _created = start_job(
        "codebook",
        theme_job_key(scope),
        staff(),
        {
            "scope": {
                "campaign_id": scope.campaign_id,
                "wall_id": scope.wall_id,
                "prompt_id": scope.prompt_id,
            },
            "back": explorer,
        },
    )
    return redirect(url_for(".job_page", job_id=job.id), code=303)
