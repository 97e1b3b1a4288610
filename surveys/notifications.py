"""Telling moderators that answers wait: the count for the staff menu and the e-mail digest.

The digest says only how many answers wait, per campaign, and where to moderate them; never an
answer's text or anything about who wrote it (an e-mail leaves our hands). Each moderator gets
at most one per ``interval``: every digest sent is written to the audit log
(``moderation.digest``, target the staff member), and that entry is what the next run reads:
a run repeated within the interval sends nothing again. (The periodic task runs once an hour
from the queue's one scheduler, so two runs do not overlap.)

Who is a moderator: an active staff member whose role may moderate (``Permission.MODERATE``:
administrators, managers and moderators).
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy import Select, func, select
from sqlalchemy.orm import Session

from . import audit
from .accounts import ROLE_PERMISSIONS, Permission
from .models import Answer, AnswerStatus, AuditEntry, Campaign, StaffUser, Wall

#: The audit action of a digest sent (its target is the staff member it went to).
DIGEST_ACTION = "moderation.digest"
#: Roles that moderate, and so get the badge and the digest.
MODERATING_ROLES = tuple(r for r, perms in ROLE_PERMISSIONS.items() if Permission.MODERATE in perms)


def waiting_count(organisation_id: int) -> Select[tuple[int]]:
    """How many of the organisation's answers wait for moderation (one COUNT)."""
    return (
        select(func.count(Answer.id))
        .join(Wall, Answer.wall_id == Wall.id)
        .join(Campaign, Wall.campaign_id == Campaign.id)
        .where(Campaign.organisation_id == organisation_id, Answer.status == AnswerStatus.PENDING)
    )


def waiting_per_campaign() -> Select[tuple[int, int, str, int]]:
    """(organisation id, campaign id, campaign title, answers waiting) of every campaign with
    answers waiting."""
    return (
        select(Campaign.organisation_id, Campaign.id, Campaign.title, func.count(Answer.id))
        .join(Wall, Wall.campaign_id == Campaign.id)
        .join(Answer, Answer.wall_id == Wall.id)
        .where(Answer.status == AnswerStatus.PENDING)
        .group_by(Campaign.organisation_id, Campaign.id, Campaign.title)
        .order_by(Campaign.organisation_id, Campaign.title, Campaign.id)
    )


@dataclass
class Digest:
    """One e-mail to one moderator: how many answers wait, per campaign."""

    user: StaffUser
    campaigns: list[tuple[int, str, int]] = field(default_factory=list)  # (id, title, waiting)

    @property
    def total(self) -> int:
        """Answers waiting in all the organisation's campaigns."""
        return sum(count for _id, _title, count in self.campaigns)


def _last_sent(session: Session, user_ids: list[int]) -> dict[int, datetime]:
    rows = session.execute(
        select(AuditEntry.target_id, func.max(AuditEntry.created_at))
        .where(
            AuditEntry.action == DIGEST_ACTION,
            AuditEntry.target_type == "staff_user",
            AuditEntry.target_id.in_(user_ids),
        )
        .group_by(AuditEntry.target_id)
    )
    return {user_id: sent for user_id, sent in rows if user_id is not None}


def digests_due(session: Session, now: datetime, interval: timedelta) -> list[Digest]:
    """The digests to send now: one per moderator of an organisation with answers waiting who
    got none in the last ``interval``."""
    per_org: dict[int, list[tuple[int, str, int]]] = defaultdict(list)
    for organisation_id, campaign_id, title, count in session.execute(waiting_per_campaign()):
        per_org[organisation_id].append((campaign_id, title, count))
    if not per_org:
        return []
    users = list(
        session.scalars(
            select(StaffUser)
            .where(
                StaffUser.organisation_id.in_(per_org),
                StaffUser.is_active.is_(True),
                StaffUser.role.in_(MODERATING_ROLES),
            )
            .order_by(StaffUser.id)
        )
    )
    last = _last_sent(session, [u.id for u in users])
    return [
        Digest(user, per_org[user.organisation_id])
        for user in users
        if user.id not in last or now - last[user.id] >= interval
    ]


def record_digest_sent(session: Session, digest: Digest) -> None:
    """Write to the audit log that the digest went out (counts only) and commit."""
    audit.commit_change(
        session,
        organisation_id=digest.user.organisation_id,
        actor=None,
        actor_email=audit.SYSTEM_ACTOR,
        action=DIGEST_ACTION,
        target_type="staff_user",
        target_id=digest.user.id,
        after={"waiting": digest.total, "campaigns": len(digest.campaigns)},
    )
