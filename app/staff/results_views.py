"""Staff view of the results of closed questions (issue 26): counts, shares with their
uncertainty, follow-up answers by choice, and breakdowns by group (small groups hidden)."""

from __future__ import annotations

from flask import render_template, request
from flask.typing import ResponseReturnValue
from flask_babel import lazy_gettext as _l

from surveys import campaigns, rounds
from surveys.accounts import Permission
from surveys.insights import MIN_GROUP_SIZE, OTHER_KEY
from surveys.results import ResultDimension, campaign_results

from ..extensions import db
from ..labels import GROUP_LABELS
from ..participate.forms import AGE_GROUP_LABELS, ROLE_LABELS
from ..questions import option_labels
from . import bp
from .auth import requires, staff

DIMENSION_LABELS = {
    ResultDimension.ROLE.value: _l("Who answered"),
    ResultDimension.AGE_GROUP.value: _l("Age"),
    ResultDimension.AREA.value: _l("Area"),
}


@bp.app_template_global("closed_group_label")
def group_label(dimension: ResultDimension, key: str) -> str:
    """A group's name: a role or an age group in words, the area as given."""
    if key == OTHER_KEY:
        return str(GROUP_LABELS[OTHER_KEY])
    words = {ResultDimension.ROLE: ROLE_LABELS, ResultDimension.AGE_GROUP: AGE_GROUP_LABELS}
    return str(words.get(dimension, {}).get(key, key))


@bp.get("/campaigns/<int:campaign_id>/results")
@requires(Permission.VIEW)
def campaign_results_page(campaign_id: int) -> ResponseReturnValue:
    """The results of the campaign's closed questions, optionally ``?by=`` a group."""
    campaign = campaigns.get_campaign(db.session, staff().organisation_id, campaign_id)
    by = request.args.get("by")
    dimension = ResultDimension(by) if by in DIMENSION_LABELS else None
    listed = campaign_results(db.session, campaign.id, dimension)
    earlier = rounds.rounds_of(db.session, campaign)[:1]
    labels = {
        prompt.id: {o["id"]: o for o in option_labels(prompt)}
        for _wall, questions in listed
        for prompt in (q.prompt for q in questions)
    }
    return render_template(
        "staff/results.html",
        campaign=campaign,
        listed=listed,
        labels=labels,
        dimension=dimension,
        dimensions=DIMENSION_LABELS,
        group_label=group_label,
        min_group_size=MIN_GROUP_SIZE,
        changes=rounds.compare_rounds(db.session, campaign) if earlier else {},
        earlier=earlier[0] if earlier else None,
        min_to_compare=rounds.MIN_TO_COMPARE,
    )
