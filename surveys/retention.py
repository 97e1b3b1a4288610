"""Retention: after a campaign's ``retention_months``, answers are anonymised or deleted.

``anonymise`` keeps only anonymous text: the profile values (role, age group, area), the
kiosk device and the client's submission id are dropped, whatever personal data the guard
finds in the text is redacted, and the "enig" reactions lose their device keys (the counts
stay). ``delete`` deletes the answers with their reactions.

Both are idempotent: an anonymised answer is marked ``anonymised_at`` and skipped next
time, a deleted one is gone. A run also deletes the background jobs that ended more than
``keep_jobs`` ago (30 days by default) with their files (``surveys.jobs``): a report's
workbook holds answers too. The task queue runs it every night (``app/maintenance.py``);
``flask --app wsgi retention run`` does the same by hand and is safe to run any time.
"""

from __future__ import annotations

import calendar
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy import String, cast, delete, func, literal, select, update
from sqlalchemy.orm import Session

from . import audit, jobs
from .models import Answer, Campaign, Reaction, RetentionAction, ThemeRun, Wall, utcnow
from .privacy import detect_personal_data, redact
from .themes import relabel_run

#: Actor written to the audit log for retention runs.
RETENTION_ACTOR = "system:retention"
BATCH = 500


def months_before(moment: datetime, months: int) -> datetime:
    """``moment`` minus whole calendar months (the day is clamped to the month's length)."""
    years, month_index = divmod(moment.month - 1 - months, 12)
    year = moment.year + years
    month = month_index + 1
    day = min(moment.day, calendar.monthrange(year, month)[1])
    return moment.replace(year=year, month=month, day=day)


@dataclass(frozen=True)
class CampaignRetention:
    """What retention did (or would do) to one campaign."""

    campaign_id: int
    slug: str
    action: RetentionAction
    cutoff: datetime
    answers: int


@dataclass
class RetentionReport:
    """The outcome of a retention run."""

    campaigns: list[CampaignRetention] = field(default_factory=list)
    #: Old background jobs and files deleted (or, in a dry run, that would be).
    old_jobs: jobs.JobsDeleted = field(default_factory=lambda: jobs.JobsDeleted(0, 0, 0))

    @property
    def anonymised(self) -> int:
        """Answers anonymised in this run."""
        return sum(c.answers for c in self.campaigns if c.action is RetentionAction.ANONYMISE)

    @property
    def deleted(self) -> int:
        """Answers deleted in this run."""
        return sum(c.answers for c in self.campaigns if c.action is RetentionAction.DELETE)


def _due(campaign: Campaign, cutoff: datetime):
    stmt = (
        select(Answer.id)
        .join(Wall, Answer.wall_id == Wall.id)
        .where(Wall.campaign_id == campaign.id, Answer.created_at < cutoff)
    )
    if campaign.retention_action is RetentionAction.ANONYMISE:
        stmt = stmt.where(Answer.anonymised_at.is_(None))
    return stmt.order_by(Answer.id)


def anonymise_answer(answer: Answer, now: datetime) -> None:
    """Drop what could link an answer to a person; redact personal data left in its text."""
    spans = [(f.start, f.end) for f in detect_personal_data(answer.text)]
    for item in answer.pii_findings or []:
        start, end = item.get("start"), item.get("end")
        if isinstance(start, int) and isinstance(end, int) and 0 <= start < end <= len(answer.text):
            spans.append((start, end))
    if spans:
        answer.text = redact(answer.text, spans)
        answer.redacted_at = now
    answer.pii_findings = []
    answer.role = None
    answer.age_group = None
    answer.area = None
    answer.device_id = None
    answer.client_submission_id = f"anon-{answer.id}"
    answer.anonymised_at = now


def count_due(session: Session, campaign: Campaign, now: datetime) -> int:
    """How many of the campaign's answers its retention would treat now."""
    if campaign.retention_months is None:
        return 0
    due = _due(campaign, months_before(now, campaign.retention_months)).order_by(None)
    return session.scalar(select(func.count()).select_from(due.subquery())) or 0


def apply_campaign(
    session: Session,
    campaign: Campaign,
    now: datetime,
    *,
    dry_run: bool = False,
    on_batch: Callable[[int], None] | None = None,
) -> CampaignRetention | None:
    """Apply one campaign's retention; None when it has no retention period. ``on_batch``
    hears how many answers each batch treated."""
    if campaign.retention_months is None:
        return None
    cutoff = months_before(now, campaign.retention_months)
    ids = list(session.scalars(_due(campaign, cutoff)))
    outcome = CampaignRetention(
        campaign.id, campaign.slug, campaign.retention_action, cutoff, len(ids)
    )
    if dry_run or not ids:
        return outcome
    for offset in range(0, len(ids), BATCH):
        chunk = ids[offset : offset + BATCH]
        if campaign.retention_action is RetentionAction.DELETE:
            session.execute(delete(Answer).where(Answer.id.in_(chunk)))
        else:
            for answer in session.scalars(select(Answer).where(Answer.id.in_(chunk))):
                anonymise_answer(answer, now)
            session.execute(
                update(Reaction)
                .where(Reaction.answer_id.in_(chunk), Reaction.device_key.not_like("anon-%"))
                .values(device_key=literal("anon-") + cast(Reaction.id, String))
                .execution_options(synchronize_session="fetch")
            )
        session.flush()
        if on_batch is not None:
            on_batch(len(chunk))
    # What is gone or redacted no longer names a theme (as after a moderator's hide).
    for run in session.scalars(select(ThemeRun).where(ThemeRun.campaign_id == campaign.id)):
        relabel_run(session, run)
    audit.commit_change(
        session,
        organisation_id=campaign.organisation_id,
        actor=None,
        actor_email=RETENTION_ACTOR,
        action=f"retention.{campaign.retention_action.value}",
        target_type="campaign",
        target_id=campaign.id,
        after={"answers": len(ids), "cutoff": cutoff, "months": campaign.retention_months},
    )
    return outcome


def run_retention(
    session: Session,
    now: datetime | None = None,
    *,
    dry_run: bool = False,
    keep_jobs: timedelta = jobs.KEEP_FINISHED,
    progress: jobs.StepProgress = jobs.no_progress,
) -> RetentionReport:
    """Apply every campaign's retention period (each campaign in its own transaction), then
    delete the background jobs that ended more than ``keep_jobs`` ago. ``progress`` hears
    how many of the answers due are done."""
    now = now or utcnow()
    report = RetentionReport()
    campaigns = list(
        session.scalars(
            select(Campaign).where(Campaign.retention_months.is_not(None)).order_by(Campaign.id)
        )
    )
    total = 0 if dry_run else sum(count_due(session, c, now) for c in campaigns)
    done = 0
    progress(0, total)

    def batch_done(count: int) -> None:
        nonlocal done
        done += count
        progress(done, total)

    for campaign in campaigns:
        outcome = apply_campaign(session, campaign, now, dry_run=dry_run, on_batch=batch_done)
        if outcome is not None:
            report.campaigns.append(outcome)
    report.old_jobs = jobs.delete_finished_jobs(session, keep_jobs, now, dry_run=dry_run)
    progress(total, total)
    return report
