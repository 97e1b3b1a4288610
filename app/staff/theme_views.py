"""The theme explorer: a scope's themes with counts and quotes, and staff curation.

Reading needs ``VIEW``; every change (running the engine, rename, describe, merge, split,
move, pin, hide, "not a theme") needs ``CURATE_THEMES``. The scope is chosen with
``?wall=<slug>&prompt=<id>``; the filters (audience, area, channel, prompt, period) are
``surveys.filters.AnswerFilter``'s query arguments. Forms post, then redirect back to the
same view (scope, filters and page are carried in hidden fields).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from flask import abort, flash, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _
from flask_babel import ngettext
from werkzeug.datastructures import MultiDict
from werkzeug.routing import BuildError

from surveys import feedback, jobs
from surveys import theme_review as review
from surveys.accounts import Permission
from surveys.errors import DomainError
from surveys.filters import AnswerFilter
from surveys.models import AnswerStatus, Campaign, Prompt, Wall, theme_scope_key
from surveys.themes import Scope

from ..extensions import db
from ..jobs import start_job
from ..labels import CHANNEL_LABELS
from . import bp
from .auth import can, requires, staff
from .common import flash_error

PER_PAGE = 50
MAX_PAGE = 10_000
#: Query arguments of the filters (``AnswerFilter.to_args``).
FILTER_ARGS = ("audience", "area", "channel", "prompt_id", "since", "until", "search")


def _int_arg(value: str | None) -> int | None:
    """A decimal id from the query string or a form; 404 for anything else."""
    if value in (None, ""):
        return None
    if not (value.isascii() and value.isdecimal() and len(value) < 10):
        abort(404)
    return int(value)


@dataclass(frozen=True)
class ThemeView:
    """Where the staff member is: campaign, scope, filters and page."""

    campaign: Campaign
    scope: Scope
    wall: Wall | None
    prompt: Prompt | None
    answer_filter: AnswerFilter
    page: int

    def params(self, **changes: Any) -> dict[str, Any]:
        """Query arguments for a link to this view (with ``changes``)."""
        values: dict[str, Any] = {
            "wall": self.wall.slug if self.wall and not self.prompt else None,
            "prompt": self.prompt.id if self.prompt else None,
            **self.answer_filter.to_args(),
            "side": self.page if self.page > 1 else None,
        }
        values.update(changes)
        return {k: v for k, v in values.items() if v not in (None, "")}

    def scope_params(self) -> dict[str, Any]:
        """Only the scope's arguments."""
        return self.params(**dict.fromkeys(FILTER_ARGS), side=None)

    @property
    def statuses(self) -> tuple[AnswerStatus, ...]:
        """Answers listed: approved ones; waiting ones too for those who moderate."""
        if can(Permission.MODERATE):
            return (AnswerStatus.APPROVED, AnswerStatus.PENDING)
        return (AnswerStatus.APPROVED,)


def parse_view(campaign_id: int, source: MultiDict[str, str]) -> ThemeView:
    """Read scope, filters and page from ``request.args`` or ``request.form``."""
    wall_slug = (source.get("wall") or "").strip() or None
    if wall_slug is not None and len(wall_slug) > 64:
        abort(404)
    prompt_id = _int_arg(source.get("prompt"))
    campaign, scope = review.load_scope(
        db.session, staff(), campaign_id, None if prompt_id else wall_slug, prompt_id
    )
    wall = next((w for w in campaign.walls if w.id == scope.wall_id), None)
    prompt = next((p for p in wall.prompts if p.id == scope.prompt_id), None) if wall else None
    page = max(1, min(_int_arg(source.get("side")) or 1, MAX_PAGE))
    return ThemeView(campaign, scope, wall, prompt, AnswerFilter.from_args(source), page)


def _filter_choices(view: ThemeView) -> dict[str, Any]:
    walls = [view.wall] if view.wall else list(view.campaign.walls)
    areas = sorted({area for wall in walls for area in wall.areas or []})
    if view.answer_filter.area and view.answer_filter.area not in areas:
        areas.append(view.answer_filter.area)
    prompts = [] if view.prompt else [(w, p) for w in walls for p in w.prompts]
    return {"areas": areas, "prompts": prompts}


def _breakdown_url(view: ThemeView) -> str | None:
    """The breakdown page of the themes by group, where it exists."""
    try:
        return url_for("staff.theme_breakdown", campaign_id=view.campaign.id, **view.scope_params())
    except BuildError:
        return None


def _scopes(view: ThemeView) -> list[dict[str, Any]]:
    """The scopes of the campaign for the scope picker, with the time of their latest run."""
    campaign = view.campaign
    ran = dict(db.session.execute(review.latest_runs(campaign.id)).tuples().all())
    items = [
        {
            "label": _("The whole campaign"),
            "params": {},
            "level": 0,
            "current": view.wall is None,
            "ran_at": ran.get(theme_scope_key(campaign.id, None, None)),
        }
    ]
    for wall in campaign.walls:
        items.append(
            {
                "label": _("Wall: %(title)s", title=wall.title),
                "params": {"wall": wall.slug},
                "level": 1,
                "current": view.wall is wall and view.prompt is None,
                "ran_at": ran.get(theme_scope_key(campaign.id, wall.id, None)),
            }
        )
        for prompt in wall.prompts:
            items.append(
                {
                    "label": _(
                        "Question %(num)d: %(text)s", num=prompt.position + 1, text=prompt.text
                    ),
                    "params": {"prompt": prompt.id},
                    "level": 2,
                    "current": view.prompt is prompt,
                    "ran_at": ran.get(theme_scope_key(campaign.id, wall.id, prompt.id)),
                }
            )
    return items


def theme_job_key(scope: Scope) -> str:
    """The key of a scope's theme job: one run of a scope at a time, with a codebook or not."""
    return f"themes:{scope.key}"


@bp.get("/campaigns/<int:campaign_id>/themes")
@requires(Permission.VIEW)
def theme_explorer(campaign_id: int) -> ResponseReturnValue:
    """The latest run's themes of a scope, with counts, quotes and new answers, and a link
    to the build under way (if any)."""
    view = parse_view(campaign_id, request.args)
    explorer = review.explore(db.session, view.scope, view.answer_filter, view.statuses)
    building = jobs.active_job(db.session, view.campaign.organisation_id, theme_job_key(view.scope))
    return render_template(
        "staff/themes/explorer.html",
        view=view,
        explorer=explorer,
        scopes=_scopes(view),
        choices=_filter_choices(view),
        channel_labels=CHANNEL_LABELS,
        breakdown_url=_breakdown_url(view),
        min_answers=review.MIN_ANSWERS,
        building=building,
        steps=review.curation_steps(db.session, view.campaign.organisation_id, view.scope),
        theme_counts=range(review.MIN_THEMES, review.MAX_THEMES + 1),
    )


@bp.get("/campaigns/<int:campaign_id>/themes/<key>")
@requires(Permission.VIEW)
def theme_detail(campaign_id: int, key: str) -> ResponseReturnValue:
    """One theme with all its answers and the curation actions."""
    view = parse_view(campaign_id, request.args)
    page = review.theme_page(
        db.session,
        view.scope,
        key,
        view.answer_filter,
        view.statuses,
        page=view.page,
        per_page=PER_PAGE,
    )
    steps = review.curation_steps(db.session, view.campaign.organisation_id, view.scope)
    latest = next((s for s in steps if s.can_undo), None)
    return render_template(
        "staff/themes/theme.html",
        view=view,
        page=page,
        undoable=latest if latest is not None and key in latest.keys else None,
        theme_published=feedback.is_published_theme(db.session, view.campaign, view.scope, key),
        theme_feedback=feedback.theme_reply(db.session, view.scope, key),
        choices=_filter_choices(view),
        channel_labels=CHANNEL_LABELS,
        max_pinned=review.MAX_PINNED,
    )


# --------------------------------------------------------------------------- actions


def _back(view: ThemeView, key: str | None = None) -> ResponseReturnValue:
    if key is None:
        target = url_for(".theme_explorer", campaign_id=view.campaign.id, **view.params())
        return redirect(target, code=303)
    target = url_for(".theme_detail", campaign_id=view.campaign.id, key=key, **view.params())
    return redirect(target, code=303)


def _answer_ids() -> list[int]:
    ids = []
    for value in request.form.getlist("answer_ids"):
        if not (value.isascii() and value.isdecimal() and len(value) < 10):
            abort(400)
        ids.append(int(value))
    return ids


def _theme_or_404(view: ThemeView, key: str) -> None:
    review.find_theme(db.session, view.scope, key)


def _curate(campaign_id: int, key: str | None, change: Callable[[ThemeView], str]) -> ThemeView:
    """Read the posted view, check the theme ``key`` (if any) and make the change.

    ``change`` calls the service and returns the message to flash; a domain error is rolled
    back and flashed instead. The view is returned for the redirect.
    """
    view = parse_view(campaign_id, request.form)
    if key is not None:
        _theme_or_404(view, key)
    try:
        message = change(view)
    except DomainError as error:
        db.session.rollback()
        flash_error(error)
    else:
        flash(message, "success")
    return view


@bp.post("/campaigns/<int:campaign_id>/themes/run")
@requires(Permission.CURATE_THEMES)
def theme_run(campaign_id: int) -> ResponseReturnValue:
    """Run the theme engine for the scope in the background (curation is kept) and show its
    progress; asked for twice while it runs, the same job is shown."""
    view = parse_view(campaign_id, request.form)
    explorer = url_for(".theme_explorer", campaign_id=view.campaign.id, **view.params(side=None))
    try:
        n_themes = review.theme_count(request.form.get("n_themes"))
        review.ensure_enough_answers(db.session, view.scope)
    except DomainError as error:
        flash_error(error)
        return redirect(explorer, code=303)
    scope = view.scope
    job, _created = start_job(
        "themes",
        theme_job_key(scope),
        staff(),
        {
            "scope": {
                "campaign_id": scope.campaign_id,
                "wall_id": scope.wall_id,
                "prompt_id": scope.prompt_id,
            },
            "n_themes": n_themes,
            "back": explorer,
        },
    )
    return redirect(url_for(".job_page", job_id=job.id), code=303)


@bp.post("/campaigns/<int:campaign_id>/themes/<key>/rename")
@requires(Permission.CURATE_THEMES)
def theme_rename(campaign_id: int, key: str) -> ResponseReturnValue:
    """Give the theme a name."""

    def rename(view: ThemeView) -> str:
        review.rename_theme(db.session, staff(), view.scope, key, request.form.get("label", ""))
        return _("The theme was renamed.")

    return _back(_curate(campaign_id, key, rename), key)


@bp.post("/campaigns/<int:campaign_id>/themes/<key>/describe")
@requires(Permission.CURATE_THEMES)
def theme_describe(campaign_id: int, key: str) -> ResponseReturnValue:
    """Write the theme's short description."""

    def describe(view: ThemeView) -> str:
        theme = review.describe_theme(
            db.session, staff(), view.scope, key, request.form.get("description", "")
        )
        message = _("The description was saved.") if theme.description else None
        return message or _("The description was removed.")

    return _back(_curate(campaign_id, key, describe), key)


@bp.post("/campaigns/<int:campaign_id>/themes/<key>/merge")
@requires(Permission.CURATE_THEMES)
def theme_merge(campaign_id: int, key: str) -> ResponseReturnValue:
    """Merge another theme into this one."""

    def merge(view: ThemeView) -> str:
        other = request.form.get("other", "")
        theme = review.merge_themes(db.session, staff(), view.scope, key, [other] if other else [])
        return _("The themes were merged into %(label)s.", label=theme.label)

    return _back(_curate(campaign_id, key, merge), key)


@bp.post("/campaigns/<int:campaign_id>/themes/<key>/visibility")
@requires(Permission.CURATE_THEMES)
def theme_visibility(campaign_id: int, key: str) -> ResponseReturnValue:
    """Hide the theme or show it again."""

    def hide_or_show(view: ThemeView) -> str:
        action = request.form.get("action", "")
        if action not in ("hide", "show"):
            abort(400)
        review.set_theme_hidden(db.session, staff(), view.scope, key, action == "hide")
        if action == "hide":
            return _("The theme is hidden. It keeps its answers and can be shown again.")
        return _("The theme is shown again.")

    view = _curate(campaign_id, key, hide_or_show)
    return _back(view, key if request.form.get("back") != "explorer" else None)


@bp.post("/campaigns/<int:campaign_id>/themes/<key>/pin")
@requires(Permission.CURATE_THEMES)
def theme_pin(campaign_id: int, key: str) -> ResponseReturnValue:
    """Pin an answer as one of the theme's quotes, or unpin it."""

    def pin_or_unpin(view: ThemeView) -> str:
        action = request.form.get("action", "")
        answer_id = _int_arg(request.form.get("answer_id"))
        if action not in ("pin", "unpin") or answer_id is None:
            abort(400)
        if action == "pin":
            review.pin_quote(db.session, staff(), view.scope, key, answer_id)
            return _("The answer is pinned as a quote of the theme.")
        review.unpin_quote(db.session, staff(), view.scope, key, answer_id)
        return _("The answer is no longer a pinned quote.")

    return _back(_curate(campaign_id, key, pin_or_unpin), key)


@bp.post("/campaigns/<int:campaign_id>/themes/<key>/answers")
@requires(Permission.CURATE_THEMES)
def theme_answers(campaign_id: int, key: str) -> ResponseReturnValue:
    """The chosen answers of the theme: move them, split them off, or mark "not a theme"."""

    def move_split_or_exclude(view: ThemeView) -> str:
        action = request.form.get("action", "")
        if action not in ("move", "split", "exclude"):
            abort(400)
        ids = _answer_ids()
        user = staff()
        if action == "move":
            target = review.move_answers(
                db.session, user, view.scope, ids, request.form.get("target", "")
            )
            return ngettext(
                "%(num)d answer was moved to %(label)s.",
                "%(num)d answers were moved to %(label)s.",
                len(ids),
                label=target.label,
            )
        if action == "split":
            theme = review.split_theme(
                db.session, user, view.scope, key, ids, request.form.get("label", "")
            )
            return ngettext(
                "%(num)d answer is now in the new theme %(label)s.",
                "%(num)d answers are now in the new theme %(label)s.",
                len(ids),
                label=theme.label,
            )
        count = review.exclude_answers(db.session, user, view.scope, ids)
        return ngettext(
            "%(num)d answer was marked as not a theme.",
            "%(num)d answers were marked as not a theme.",
            count,
        )

    return _back(_curate(campaign_id, key, move_split_or_exclude), key)


@bp.post("/campaigns/<int:campaign_id>/themes/undo")
@requires(Permission.CURATE_THEMES)
def theme_undo(campaign_id: int) -> ResponseReturnValue:
    """Undo the latest merge or split ("Fortryd"): the themes as they were before it."""

    def undo(view: ThemeView) -> str:
        step_id = _int_arg(request.form.get("step"))
        if step_id is None:
            abort(400)
        step, _theme = review.undo_step(db.session, staff(), view.scope, step_id)
        if step.action == "theme.merge":
            return _("The merge was undone: %(labels)s.", labels=", ".join(step.labels))
        return _("The split was undone: %(labels)s.", labels=", ".join(step.labels))

    view = _curate(campaign_id, None, undo)
    return redirect(
        url_for(".theme_explorer", campaign_id=view.campaign.id, **view.params(), _anchor="steps"),
        code=303,
    )


@bp.post("/campaigns/<int:campaign_id>/themes/include")
@requires(Permission.CURATE_THEMES)
def theme_include(campaign_id: int) -> ResponseReturnValue:
    """Undo "not a theme" for an answer: it goes back under the themes at once."""

    def include(view: ThemeView) -> str:
        review.include_answers(db.session, staff(), view.scope, _answer_ids())
        return _("The answer is back in the themes.")

    view = _curate(campaign_id, None, include)
    return redirect(
        url_for(
            ".theme_explorer", campaign_id=view.campaign.id, **view.params(), _anchor="excluded"
        ),
        code=303,
    )
