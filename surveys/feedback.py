"""Official feedback (issue 24): staff's reply to one answer or to one theme.

Beside the wall-wide replies (``surveys.replies``), staff answer one citizen's answer (shown
under it on the wall) or one published theme (shown under it on "Det har vi hørt"). Each
answer or theme has at most one reply, which staff write, edit and delete; every change is
audited. Only an approved answer or a published theme can carry a reply, and the text is
checked by the personal-data guard like the other texts staff publish (theme names).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from sqlalchemy import select
from sqlalchemy.orm import Session

from . import audit, campaigns
from .errors import N_, InvalidInput, NotFound
from .models import (
    Answer,
    AnswerStatus,
    Campaign,
    FeedbackReply,
    StaffUser,
    ThemeRun,
    utcnow,
)
from .replies import clean_public_reply, clean_public_reply_text
from .report import published_run
from .themes import Scope


def get_answer(session: Session, organisation_id: int, answer_id: int) -> Answer:
    """The organisation's answer, or :class:`NotFound` (also for another organisation's)."""
    missing = NotFound(N_("This answer does not exist."), code="answer_not_found")
    return campaigns.get_owned(session, Answer, answer_id, organisation_id, missing)


def answer_reply(session: Session, answer_id: int) -> FeedbackReply | None:
    """The reply to an answer, if staff wrote one."""
    return session.scalar(select(FeedbackReply).where(FeedbackReply.answer_id == answer_id))


def replies_to_answers(session: Session, answer_ids: Sequence[int]) -> dict[int, FeedbackReply]:
    """{answer id: its reply} for those of ``answer_ids`` that have one."""
    if not answer_ids:
        return {}
    rows = session.scalars(select(FeedbackReply).where(FeedbackReply.answer_id.in_(answer_ids)))
    return {reply.answer_id: reply for reply in rows if reply.answer_id is not None}


def replies_to_themes(session: Session, scope_key: str) -> dict[str, FeedbackReply]:
    """{theme key: its reply} of a theme scope."""
    rows = session.scalars(select(FeedbackReply).where(FeedbackReply.scope_key == scope_key))
    return {reply.theme_key: reply for reply in rows if reply.theme_key is not None}


def _save(
    session: Session,
    actor: StaffUser,
    reply: FeedbackReply,
    text: str,
    translations: dict[str, str],
    target: dict[str, object],
) -> FeedbackReply:
    """Write ``text`` into a new or existing reply and audit it."""
    before = None if reply.id is None else {"text": reply.text, "translations": reply.translations}
    reply.text = text
    reply.translations = translations
    reply.author_id = actor.id
    reply.updated_at = utcnow()
    session.add(reply)
    session.flush()
    after = {"text": text, **target, **({"translations": translations} if translations else {})}
    audit.record(
        session,
        organisation_id=actor.organisation_id,
        actor=actor,
        action="feedback.create" if before is None else "feedback.update",
        target_type="feedback_reply",
        target_id=reply.id,
        before=before,
        after=after,
    )
    session.commit()
    return reply


def _delete(session: Session, actor: StaffUser, reply: FeedbackReply) -> None:
    audit.record(
        session,
        organisation_id=actor.organisation_id,
        actor=actor,
        action="feedback.delete",
        target_type="feedback_reply",
        target_id=reply.id,
        before={"text": reply.text, "answer_id": reply.answer_id, "theme_key": reply.theme_key},
    )
    session.delete(reply)
    session.commit()


def save_answer_reply(
    session: Session,
    actor: StaffUser,
    answer: Answer,
    text: str,
    translations: Mapping[str, str] | None = None,
) -> FeedbackReply:
    """Write or edit the reply under an approved answer (``translations``: in the wall's
    other languages)."""
    wall = answer.wall
    if actor.organisation_id != wall.campaign.organisation_id:
        raise NotFound(N_("This answer does not exist."), code="answer_not_found")
    if answer.status != AnswerStatus.APPROVED:
        raise InvalidInput(
            N_("Only an approved answer can get a reply: approve it first."),
            code="answer_not_approved",
        )
    cleaned, others = clean_public_reply(text, translations, wall)
    reply = answer_reply(session, answer.id) or FeedbackReply(
        campaign_id=wall.campaign_id, answer_id=answer.id
    )
    return _save(session, actor, reply, cleaned, others, {"answer_id": answer.id})


def delete_answer_reply(session: Session, actor: StaffUser, answer: Answer) -> bool:
    """Delete the reply under an answer; False when there was none."""
    if actor.organisation_id != answer.wall.campaign.organisation_id:
        raise NotFound(N_("This answer does not exist."), code="answer_not_found")
    reply = answer_reply(session, answer.id)
    if reply is None:
        return False
    _delete(session, actor, reply)
    return True


def is_published_theme(session: Session, campaign: Campaign, scope: Scope, key: str) -> bool:
    """Whether the theme ``key`` of ``scope`` is on the campaign's public page."""
    run = published_run(session, campaign)
    if run is None or run.scope_key != scope.key or campaign.published_themes is None:
        return False
    return key in campaign.published_themes


def theme_reply(session: Session, scope: Scope, key: str) -> FeedbackReply | None:
    """The reply to a theme of a scope, if staff wrote one."""
    return replies_to_themes(session, scope.key).get(key)


def save_theme_reply(
    session: Session, actor: StaffUser, campaign: Campaign, scope: Scope, key: str, text: str
) -> FeedbackReply:
    """Write or edit the reply under a published theme (in the campaign's language)."""
    if actor.organisation_id != campaign.organisation_id:
        raise NotFound(N_("This campaign does not exist."), code="campaign_not_found")
    if not is_published_theme(session, campaign, scope, key):
        raise InvalidInput(
            N_("Only a published theme can get a reply: publish the page with it first."),
            code="theme_not_published",
        )
    cleaned = clean_public_reply_text(text)
    reply = theme_reply(session, scope, key) or FeedbackReply(
        campaign_id=campaign.id, scope_key=scope.key, theme_key=key
    )
    return _save(session, actor, reply, cleaned, {}, {"theme_key": key, "scope": scope.key})


def delete_theme_reply(
    session: Session, actor: StaffUser, campaign: Campaign, scope: Scope, key: str
) -> bool:
    """Delete the reply under a theme; False when there was none."""
    if actor.organisation_id != campaign.organisation_id:
        raise NotFound(N_("This campaign does not exist."), code="campaign_not_found")
    reply = theme_reply(session, scope, key)
    if reply is None:
        return False
    _delete(session, actor, reply)
    return True


def replies_to_run_themes(session: Session, run_id: int | None) -> dict[str, FeedbackReply]:
    """{theme key: its reply} for the themes of a run (those of its scope): what "Det har vi
    hørt" shows under the published themes."""
    run = session.get(ThemeRun, run_id) if run_id is not None else None
    return {} if run is None else replies_to_themes(session, run.scope_key)
