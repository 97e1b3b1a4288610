"""The moderation queue: filters, approve/hide, bulk actions and redaction."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from flask import abort, flash, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _
from flask_babel import ngettext

from surveys import campaigns, moderation
from surveys.accounts import Permission
from surveys.errors import DomainError
from surveys.models import AnswerStatus, Campaign, Prompt, Wall
from surveys.moderation import QueueFilter
from surveys.search import clean_search

from ..extensions import db
from . import bp
from .auth import requires, staff
from .common import flash_error

PER_PAGE = 50
STATUS_CHOICES = ("pending", "approved", "hidden", "all")


@dataclass(frozen=True)
class QueueView:
    """The queue's filters as given in the query string (ids checked against the org)."""

    campaign: Campaign | None
    wall: Wall | None
    prompt: Prompt | None
    status: str
    flagged: bool
    page: int
    search: str | None = None

    def params(self, **changes: Any) -> dict[str, Any]:
        """Query parameters for a link to this view (with ``changes``)."""
        values: dict[str, Any] = {
            "campaign": self.campaign.id if self.campaign else None,
            "wall": self.wall.id if self.wall else None,
            "prompt": self.prompt.id if self.prompt else None,
            "status": self.status,
            "flagged": "1" if self.flagged else None,
            "search": self.search,
            "side": self.page if self.page > 1 else None,
        }
        values.update(changes)
        return {k: v for k, v in values.items() if v not in (None, "")}

    def queue_filter(self) -> QueueFilter:
        """The filter for :func:`surveys.moderation.queue`."""
        return QueueFilter(
            campaign_id=self.campaign.id if self.campaign else None,
            wall_id=self.wall.id if self.wall else None,
            prompt_id=self.prompt.id if self.prompt else None,
            status=None if self.status == "all" else AnswerStatus(self.status),
            flagged_only=self.flagged,
            search=self.search,
        )


def _int(source: Any, name: str) -> int | None:
    value = source.get(name, "")
    if value in ("", None):
        return None
    try:
        number = int(value)
    except ValueError:
        abort(404)
    return number


def parse_view(source: Any) -> QueueView:
    """Read the filters from ``request.args`` or ``request.form``; 404 for foreign ids."""
    organisation_id = staff().organisation_id
    campaign = wall = prompt = None
    prompt_id, wall_id, campaign_id = (
        _int(source, "prompt"),
        _int(source, "wall"),
        _int(source, "campaign"),
    )
    if prompt_id is not None:
        prompt = campaigns.get_prompt(db.session, organisation_id, prompt_id)
        wall_id = prompt.wall_id
    if wall_id is not None:
        wall = campaigns.get_wall(db.session, organisation_id, wall_id)
        campaign_id = wall.campaign_id
    if campaign_id is not None:
        campaign = campaigns.get_campaign(db.session, organisation_id, campaign_id)
    status = source.get("status", "pending")
    if status not in STATUS_CHOICES:
        status = "pending"
    page = max(1, min(_int(source, "side") or 1, 10_000))
    flagged = source.get("flagged") == "1"
    search = clean_search(source.get("search"))
    return QueueView(campaign, wall, prompt, status, flagged, page, search)


@bp.get("/moderation")
@requires(Permission.MODERATE)
def moderation_queue() -> ResponseReturnValue:
    """Answers to moderate, filtered by campaign, wall, prompt, status, guard flag and words
    in the text."""
    user = staff()
    view = parse_view(request.args)
    where = view.queue_filter()
    stmt = moderation.queue(user.organisation_id, where)
    answers = list(db.session.scalars(stmt.limit(PER_PAGE + 1).offset((view.page - 1) * PER_PAGE)))
    has_more = len(answers) > PER_PAGE
    answers = answers[:PER_PAGE]
    cards = [
        {
            "answer": answer,
            "findings": (found := moderation.display_findings(answer)),
            "segments": moderation.segments(answer.text, found),
            "fingerprint": moderation.text_fingerprint(answer.text),
        }
        for answer in answers
    ]
    all_campaigns = list(db.session.scalars(campaigns.campaigns_of(user.organisation_id)))
    walls = view.campaign.walls if view.campaign else []
    prompts = view.wall.prompts if view.wall else []
    return render_template(
        "staff/moderation.html",
        view=view,
        cards=cards,
        has_more=has_more,
        counts=moderation.queue_counts(db.session, user.organisation_id, where),
        all_campaigns=all_campaigns,
        walls=walls,
        prompts=prompts,
    )


def _back(view: QueueView, focus: int | None = None) -> ResponseReturnValue:
    anchor = f"answer-{focus}" if focus else None
    return redirect(url_for(".moderation_queue", **view.params(), _anchor=anchor), code=303)


def _focus_after() -> int | None:
    value = request.form.get("next", "")
    return int(value) if value.isdecimal() else None


@bp.post("/answers/<int:answer_id>/status")
@requires(Permission.MODERATE)
def answer_status(answer_id: int) -> ResponseReturnValue:
    """Approve, hide or return one answer to pending."""
    user = staff()
    view = parse_view(request.form)
    answer = moderation.get_answer(db.session, user.organisation_id, answer_id)
    status = moderation.ACTIONS.get(request.form.get("action", ""))
    if status is None:
        abort(400)
    moderation.set_status(db.session, user, [answer], status)
    messages = {
        AnswerStatus.APPROVED: _("The answer was approved."),
        AnswerStatus.HIDDEN: _("The answer was hidden."),
        AnswerStatus.PENDING: _("The answer is waiting again."),
    }
    flash(messages[status], "success")
    return _back(view, _focus_after())


@bp.post("/moderation/bulk")
@requires(Permission.MODERATE)
def moderation_bulk() -> ResponseReturnValue:
    """Approve or hide the chosen answers; bulk approval skips flagged answers."""
    user = staff()
    view = parse_view(request.form)
    status = moderation.ACTIONS.get(request.form.get("action", ""))
    if status is None:
        abort(400)
    ids = []
    for value in request.form.getlist("answer_ids"):
        if not value.isdecimal():
            abort(400)
        ids.append(int(value))
    if not ids:
        flash(_("Choose the answers first."), "error")
        return _back(view)
    answers = moderation.get_answers(db.session, user.organisation_id, ids)
    result = moderation.set_status(db.session, user, answers, status, approve_flagged=False)
    if result.changed:
        count = len(result.changed)
        done = {
            AnswerStatus.APPROVED: ngettext(
                "%(num)d answer was approved.", "%(num)d answers were approved.", count
            ),
            AnswerStatus.HIDDEN: ngettext(
                "%(num)d answer was hidden.", "%(num)d answers were hidden.", count
            ),
            AnswerStatus.PENDING: ngettext(
                "%(num)d answer is waiting again.", "%(num)d answers are waiting again.", count
            ),
        }
        flash(done[status], "success")
    if result.skipped_flagged:
        flash(
            ngettext(
                "%(num)d answer may hold personal data and was not approved: look at it "
                "on its own.",
                "%(num)d answers may hold personal data and were not approved: look at "
                "them one by one.",
                len(result.skipped_flagged),
            ),
            "warning",
        )
    return _back(view)


@bp.post("/answers/<int:answer_id>/redact")
@requires(Permission.MODERATE)
def answer_redact(answer_id: int) -> ResponseReturnValue:
    """Remove personal data from an answer: one finding, all findings or a chosen span."""
    user = staff()
    view = parse_view(request.form)
    answer = moderation.get_answer(db.session, user.organisation_id, answer_id)
    fingerprint = request.form.get("fingerprint") or None
    try:
        if request.form.get("mode") == "all":
            moderation.redact_all_findings(db.session, user, answer, fingerprint=fingerprint)
        else:
            try:
                start = int(request.form.get("start", ""))
                end = int(request.form.get("end", ""))
            except ValueError:
                abort(400)
            moderation.redact_answer(
                db.session, user, answer, [(start, end)], fingerprint=fingerprint
            )
    except DomainError as error:
        db.session.rollback()
        flash_error(error)
    else:
        flash(_("The text was removed. The original is not kept."), "success")
    return _back(view, answer.id)
