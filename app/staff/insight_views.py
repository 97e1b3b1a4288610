"""Staff views for insights: how a run's themes spread over audiences, areas and months."""

from __future__ import annotations

from datetime import date
from typing import Any

from flask import render_template, request
from flask.typing import ResponseReturnValue
from flask_babel import format_date
from flask_babel import lazy_gettext as _l

from surveys.accounts import Permission
from surveys.errors import N_, InvalidInput
from surveys.filters import AnswerFilter
from surveys.insights import MIN_GROUP_SIZE, OTHER_KEY, Dimension, campaign_breakdown

from ..extensions import db
from ..labels import CHANNEL_LABELS, GROUP_LABELS
from . import bp
from .auth import requires, staff

DIMENSION_LABELS = {
    Dimension.AUDIENCE.value: _l("Audience"),
    Dimension.AREA.value: _l("Area"),
    Dimension.PERIOD.value: _l("Over time"),
}
#: Query-string keys the page keeps when a tab or the form changes one of them.
SCOPE_ARGS = ("wall", "prompt")


def _parse_id(value: str | None) -> int | None:
    if value is None or value == "":
        return None
    if value.isascii() and value.isdecimal() and len(value) < 10:
        return int(value)
    raise InvalidInput(N_("Choose one of the wall's questions."), code="invalid_prompt")


def _wall_slug(value: str | None) -> str | None:
    if not value:
        return None
    if len(value) > 64:
        raise InvalidInput(N_("This wall is not part of the campaign."), code="invalid_wall")
    return value


def _dimension(value: str | None) -> Dimension:
    try:
        return Dimension(value or Dimension.AUDIENCE.value)
    except ValueError:
        return Dimension.AUDIENCE


def group_label(dimension: Dimension, key: str) -> str:
    """A group's name on the page: a translated audience, a Danish month, or the area."""
    if key == OTHER_KEY or dimension is Dimension.AUDIENCE:
        return str(GROUP_LABELS.get(key, key))
    if dimension is Dimension.PERIOD:
        try:
            year, month = (int(part) for part in key.split("-"))
            return format_date(date(year, month, 1), "LLLL y")
        except ValueError:
            return key
    return key


@bp.get("/campaigns/<int:campaign_id>/themes/breakdown")
@requires(Permission.VIEW)
def theme_breakdown(campaign_id: int) -> ResponseReturnValue:
    """Themes × groups (audience, area or month) of the scope's latest run, small groups hidden."""
    dimension = _dimension(request.args.get("by"))
    answer_filter = AnswerFilter.from_args(request.args)
    wall_slug = _wall_slug(request.args.get("wall"))
    prompt_id = _parse_id(request.args.get("prompt"))
    view = campaign_breakdown(
        db.session,
        staff().organisation_id,
        campaign_id,
        dimension,
        answer_filter,
        wall_slug=wall_slug,
        prompt_id=prompt_id,
    )
    scope_args = {"wall": wall_slug, "prompt": prompt_id}
    keep: dict[str, Any] = {k: v for k, v in scope_args.items() if v is not None}
    keep.update(answer_filter.to_args())
    labels = {}
    if view.breakdown is not None:
        labels = {g.key: group_label(dimension, g.key) for g in view.breakdown.groups}
    return render_template(
        "staff/insights/breakdown.html",
        view=view,
        campaign=view.campaign,
        breakdown=view.breakdown,
        dimension=dimension,
        dimensions=DIMENSION_LABELS,
        group_labels=labels,
        channel_labels=CHANNEL_LABELS,
        answer_filter=answer_filter,
        wall_slug=wall_slug,
        prompt_id=prompt_id,
        keep=keep,
        min_group_size=MIN_GROUP_SIZE,
    )
