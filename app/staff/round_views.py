"""Staff views for rounds (issue 26): run a campaign again."""

from __future__ import annotations

from datetime import date

from flask import flash, redirect, render_template, url_for
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from surveys import campaigns, rounds
from surveys.accounts import Permission
from surveys.errors import DomainError

from ..extensions import db
from . import bp
from .auth import requires, staff
from .forms import RoundForm


@bp.route("/campaigns/<int:campaign_id>/run-again", methods=["GET", "POST"])
@requires(Permission.MANAGE_CAMPAIGNS)
def campaign_run_again(campaign_id: int) -> ResponseReturnValue:
    """Make the campaign's next round: the same walls and questions, new addresses."""
    item = campaigns.get_campaign(db.session, staff().organisation_id, campaign_id)
    form = RoundForm()
    if not form.is_submitted():
        year = date.today().year + 1
        form.round_label.data = str(year)
        form.title.data = item.title
        form.slug.data = f"{item.slug}-{year}"[:64]
    if form.validate_on_submit():
        try:
            new = rounds.run_again(
                db.session,
                staff(),
                item,
                rounds.RoundInput(
                    title=form.title.data or "",
                    slug=form.slug.data or "",
                    round_label=form.round_label.data or "",
                ),
            )
        except DomainError as error:
            db.session.rollback()
            form.form_errors.append(_(error.message, **error.params))
        else:
            flash(_("The new round is ready. Its walls have new addresses."), "success")
            return redirect(url_for(".campaign", campaign_id=new.id), code=303)
    return render_template("staff/round_form.html", form=form, campaign=item)


TREND_LABELS = {
    rounds.ThemeTrend.GREW.value: _l("Grew"),
    rounds.ThemeTrend.SHRANK.value: _l("Shrank"),
    rounds.ThemeTrend.STEADY.value: _l("No clear change"),
    rounds.ThemeTrend.APPEARED.value: _l("New in this round"),
    rounds.ThemeTrend.DISAPPEARED.value: _l("Not found this round"),
}


@bp.get("/campaigns/<int:campaign_id>/rounds")
@requires(Permission.VIEW)
def campaign_rounds(campaign_id: int) -> ResponseReturnValue:
    """The campaign's themes beside its earlier round's: which grew, shrank, appeared or
    disappeared, with quotes from both rounds."""
    item = campaigns.get_campaign(db.session, staff().organisation_id, campaign_id)
    return render_template(
        "staff/rounds.html",
        campaign=item,
        earlier=rounds.rounds_of(db.session, item)[:1],
        comparison=rounds.compare_themes(db.session, item),
        trends=TREND_LABELS,
        min_to_compare=rounds.MIN_TO_COMPARE,
    )
