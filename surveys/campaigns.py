"""Campaigns, walls, prompts, kiosk devices and replies, as run from the staff workspace.

Every lookup takes the staff member's organisation and raises :class:`NotFound` for
another organisation's objects, so that isolation does not depend on the web layer alone.
Every change is written to the audit log in the same commit.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import TypeVar

from sqlalchemy import Select, exists, func, select
from sqlalchemy.orm import Session

from . import audit, closed, kiosk, organisations, replies
from .errors import N_, Conflict, InvalidInput, NotFound
from .models import (
    PROFILE_FIELDS,
    Answer,
    AnswerStatus,
    Audience,
    Campaign,
    KioskDevice,
    Moderation,
    Prompt,
    RetentionAction,
    StaffUser,
    Wall,
    WallReply,
    utcnow,
)
from .text import normalise_answer

SLUG_PATTERN = re.compile(r"^[a-z0-9](?:[a-z0-9-]{0,62}[a-z0-9])?$")
WALL_LANGUAGES = ("da", "en")
MAX_PROMPT_LENGTH = 500
MAX_AREAS = 60
MAX_RETENTION_MONTHS = 120
MAX_PURPOSE_LENGTH = 2000
OwnedT = TypeVar("OwnedT", Campaign, Wall, Prompt, KioskDevice, WallReply, Answer)

CAMPAIGN_FIELDS = (
    "slug",
    "title",
    "description",
    "retention_months",
    "retention_action",
    "privacy_purpose",
)
WALL_FIELDS = (
    "slug",
    "title",
    "intro",
    "audience",
    "languages",
    "moderation",
    "opens_at",
    "closes_at",
    "profile_questions",
    "areas",
)


class PromptsLocked(Conflict):
    """The wall has answers: its prompts can no longer change."""

    code = "prompts_locked"


@dataclass
class CampaignInput:
    """The editable fields of a campaign."""

    slug: str
    title: str
    description: str = ""
    retention_months: int | None = None
    retention_action: RetentionAction = RetentionAction.ANONYMISE
    #: What the answers are used for, in the privacy notice ("": a general sentence).
    privacy_purpose: str = ""


@dataclass
class WallInput:
    """The editable fields of a wall (prompts are edited separately once it exists)."""

    slug: str
    title: str
    audience: Audience
    moderation: Moderation
    intro: str = ""
    languages: list[str] = field(default_factory=lambda: ["da", "en"])
    opens_at: datetime | None = None
    closes_at: datetime | None = None
    profile_questions: list[str] = field(default_factory=list)
    areas: list[str] = field(default_factory=list)


# -- lookups, scoped to an organisation ---------------------------------------------------------


def campaigns_of(organisation_id: int) -> Select[tuple[Campaign]]:
    """An organisation's campaigns, newest first."""
    return (
        select(Campaign)
        .where(Campaign.organisation_id == organisation_id)
        .order_by(Campaign.created_at.desc(), Campaign.id.desc())
    )


def get_owned(
    session: Session,
    model: type[OwnedT],
    object_id: int,
    organisation_id: int,
    not_found: NotFound,
) -> OwnedT:
    """An object of the organisation by primary key; ``not_found`` for a missing id or for
    another organisation's object (so ids of other organisations reveal nothing)."""
    found = session.get(model, object_id)
    if found is None or owner_of(found) != organisation_id:
        raise not_found
    return found


def owner_of(obj: object) -> int:
    """The id of the organisation a campaign, wall, prompt, device, reply or answer belongs to."""
    if isinstance(obj, Campaign):
        return obj.organisation_id
    if isinstance(obj, Wall):
        return obj.campaign.organisation_id
    wall = obj.wall  # type: ignore[attr-defined]  # prompts, devices, replies, answers
    return wall.campaign.organisation_id


def get_campaign(session: Session, organisation_id: int, campaign_id: int) -> Campaign:
    """The organisation's campaign, or :class:`NotFound`."""
    missing = NotFound(N_("This campaign does not exist."), code="campaign_not_found")
    return get_owned(session, Campaign, campaign_id, organisation_id, missing)


def get_wall(session: Session, organisation_id: int, wall_id: int) -> Wall:
    """The organisation's wall, or :class:`NotFound`."""
    missing = NotFound(N_("This wall does not exist."), code="wall_not_found")
    return get_owned(session, Wall, wall_id, organisation_id, missing)


def get_prompt(session: Session, organisation_id: int, prompt_id: int) -> Prompt:
    """The organisation's prompt, or :class:`NotFound`."""
    missing = NotFound(N_("This question does not exist."), code="prompt_not_found")
    return get_owned(session, Prompt, prompt_id, organisation_id, missing)


def get_device(session: Session, organisation_id: int, device_id: int) -> KioskDevice:
    """The organisation's kiosk device, or :class:`NotFound`."""
    missing = NotFound(N_("This device does not exist."), code="device_not_found")
    return get_owned(session, KioskDevice, device_id, organisation_id, missing)


def get_reply(session: Session, organisation_id: int, reply_id: int) -> WallReply:
    """The organisation's wall reply, or :class:`NotFound`."""
    missing = NotFound(N_("This reply does not exist."), code="reply_not_found")
    return get_owned(session, WallReply, reply_id, organisation_id, missing)


def wall_has_answers(session: Session, wall_id: int) -> bool:
    """Whether anyone has answered on the wall (its prompts are then frozen)."""
    return bool(session.scalar(select(exists().where(Answer.wall_id == wall_id))))


def status_counts(session: Session, wall_ids: Sequence[int]) -> dict[int, dict[str, int]]:
    """{wall id: {status: number of answers}} for the given walls."""
    counts: dict[int, dict[str, int]] = {w: {s.value: 0 for s in AnswerStatus} for w in wall_ids}
    if not wall_ids:
        return counts
    rows = session.execute(
        select(Answer.wall_id, Answer.status, func.count())
        .where(Answer.wall_id.in_(list(wall_ids)))
        .group_by(Answer.wall_id, Answer.status)
    )
    for wall_id, status, number in rows:
        counts[wall_id][AnswerStatus(status).value] = number
    return counts


# -- validation -----------------------------------------------------------------------------------


def _clean_line(value: str | None, max_length: int, message: str, code: str) -> str:
    cleaned = " ".join((value or "").split())
    if not cleaned or len(cleaned) > max_length:
        raise InvalidInput(message, code=code, max=max_length)
    return cleaned


def _clean_slug(value: str) -> str:
    slug = (value or "").strip().lower()
    if not SLUG_PATTERN.match(slug):
        raise InvalidInput(
            N_("The address name may use a-z, 0-9 and hyphens (at most 64 characters)."),
            code="invalid_slug",
        )
    return slug


def _clean_text(value: str | None, max_length: int) -> str:
    cleaned = normalise_answer(value or "")
    if len(cleaned) > max_length:
        raise InvalidInput(
            N_("The text is too long: at most %(max)d characters."),
            code="text_too_long",
            max=max_length,
        )
    return cleaned


def clean_prompt_text(text: str | None) -> str:
    """A prompt's text: trimmed, 1-500 characters."""
    return _clean_line(
        text,
        MAX_PROMPT_LENGTH,
        N_("A question must have 1-%(max)d characters."),
        "invalid_prompt",
    )


def _clean_campaign(data: CampaignInput) -> dict[str, object]:
    months = data.retention_months
    if months is not None and not 1 <= months <= MAX_RETENTION_MONTHS:
        raise InvalidInput(
            N_("The retention period must be between 1 and %(max)d months."),
            code="invalid_retention",
            max=MAX_RETENTION_MONTHS,
        )
    return {
        "slug": _clean_slug(data.slug),
        "title": _clean_line(
            data.title, 200, N_("The title must have 1-%(max)d characters."), "invalid_title"
        ),
        "description": _clean_text(data.description, 5000),
        "retention_months": months,
        "retention_action": RetentionAction(data.retention_action),
        "privacy_purpose": _clean_text(data.privacy_purpose, MAX_PURPOSE_LENGTH),
    }


def _clean_wall(data: WallInput) -> dict[str, object]:
    languages = [lang for lang in dict.fromkeys(data.languages) if lang in WALL_LANGUAGES]
    if not languages or len(languages) != len(set(data.languages)):
        raise InvalidInput(N_("Choose at least one language."), code="invalid_languages")
    questions = [q for q in PROFILE_FIELDS if q in set(data.profile_questions)]
    if len(questions) != len(set(data.profile_questions)):
        raise InvalidInput(N_("Unknown profile question."), code="invalid_profile_questions")
    areas: list[str] = []
    for area in data.areas:
        cleaned = " ".join(area.split())
        if not cleaned:
            continue
        if len(cleaned) > 100:
            raise InvalidInput(
                N_("An area name may have at most %(max)d characters."),
                code="invalid_areas",
                max=100,
            )
        if cleaned not in areas:
            areas.append(cleaned)
    if len(areas) > MAX_AREAS:
        raise InvalidInput(N_("At most %(max)d areas."), code="invalid_areas", max=MAX_AREAS)
    if "area" in questions and not areas:
        raise InvalidInput(
            N_("List the areas to choose from, or do not ask for the area."),
            code="invalid_areas",
        )
    for moment in (data.opens_at, data.closes_at):
        if moment is not None and moment.tzinfo is None:
            raise InvalidInput(N_("Invalid time."), code="invalid_window")
    if data.opens_at and data.closes_at and data.closes_at <= data.opens_at:
        raise InvalidInput(N_("The wall must close after it opens."), code="invalid_window")
    return {
        "slug": _clean_slug(data.slug),
        "title": _clean_line(
            data.title, 200, N_("The title must have 1-%(max)d characters."), "invalid_title"
        ),
        "intro": _clean_text(data.intro, 2000),
        "audience": Audience(data.audience),
        "moderation": Moderation(data.moderation),
        "languages": languages,
        "language": languages[0],
        "opens_at": data.opens_at,
        "closes_at": data.closes_at,
        "profile_questions": questions,
        "areas": areas,
    }


def _slug_taken(session: Session, model: type[Campaign] | type[Wall], slug: str, own: int | None):
    stmt = select(model.id).where(model.slug == slug)
    if own is not None:
        stmt = stmt.where(model.id != own)
    if session.scalars(stmt).first() is not None:
        raise Conflict(N_("This address name is already in use."), code="slug_taken")


def free_slug(session: Session, model: type[Campaign] | type[Wall], base: str) -> str:
    """``base`` if no campaign (or wall: ``model``) has it yet, else ``base-2``, ``base-3``, ...:
    the first that is free (for walls and campaigns made by an import or a new round)."""
    taken = set(session.scalars(select(model.slug).where(model.slug.startswith(base))))
    slug, number = base, 2
    while slug in taken:
        slug, number = f"{base}-{number}", number + 1
    return slug


# -- campaigns ----------------------------------------------------------------------------------


def add_campaign(session: Session, actor: StaffUser, data: CampaignInput) -> Campaign:
    """Add a campaign to the actor's organisation and flush (the caller records and commits)."""
    values = _clean_campaign(data)
    _slug_taken(session, Campaign, str(values["slug"]), None)
    campaign = Campaign(organisation_id=actor.organisation_id, **values)
    session.add(campaign)
    session.flush()
    return campaign


def create_campaign(session: Session, actor: StaffUser, data: CampaignInput) -> Campaign:
    """Create a campaign in the actor's organisation."""
    campaign = add_campaign(session, actor, data)
    audit.commit_change(
        session,
        organisation_id=actor.organisation_id,
        actor=actor,
        action="campaign.create",
        target_type="campaign",
        target_id=campaign.id,
        after=audit.snapshot(campaign, CAMPAIGN_FIELDS),
    )
    return campaign


def update_campaign(
    session: Session, actor: StaffUser, campaign: Campaign, data: CampaignInput
) -> Campaign:
    """Edit a campaign's title, description, address name and retention."""
    _same_org(actor, campaign.organisation_id)
    values = _clean_campaign(data)
    _slug_taken(session, Campaign, str(values["slug"]), campaign.id)
    before = audit.snapshot(campaign, CAMPAIGN_FIELDS)
    for name, value in values.items():
        setattr(campaign, name, value)
    _record_change(
        session,
        actor,
        "campaign.update",
        "campaign",
        campaign.id,
        before,
        campaign,
        CAMPAIGN_FIELDS,
        campaign.organisation_id,
    )
    session.commit()
    return campaign


def delete_campaign(session: Session, actor: StaffUser, campaign: Campaign, confirm: str) -> None:
    """Delete a campaign with its walls, prompts, answers, reactions, devices and replies.

    ``confirm`` must repeat the campaign's address name. The audit log keeps only the
    campaign's name and how much was deleted.
    """
    _same_org(actor, campaign.organisation_id)
    if (confirm or "").strip() != campaign.slug:
        raise InvalidInput(
            N_("Type the campaign's address name to confirm the deletion."),
            code="confirmation_mismatch",
        )
    wall_ids = [w.id for w in campaign.walls]
    answers = 0
    if wall_ids:
        answers = session.scalar(select(func.count()).where(Answer.wall_id.in_(wall_ids))) or 0
    before = {
        **audit.snapshot(campaign, ("slug", "title")),
        "walls": len(wall_ids),
        "answers": answers,
    }
    audit.record(
        session,
        organisation_id=campaign.organisation_id,
        actor=actor,
        action="campaign.delete",
        target_type="campaign",
        target_id=campaign.id,
        before=before,
    )
    session.delete(campaign)
    session.commit()
    session.expunge_all()


# -- walls --------------------------------------------------------------------------------------


def create_wall(
    session: Session,
    actor: StaffUser,
    campaign: Campaign,
    data: WallInput,
    prompts: Sequence[str],
) -> Wall:
    """Create a wall with its prompts (in the order given) in one of the actor's campaigns."""
    _same_org(actor, campaign.organisation_id)
    values = _clean_wall(data)
    texts = [clean_prompt_text(t) for t in prompts if (t or "").strip()]
    if not texts:
        raise InvalidInput(N_("A wall needs at least one question."), code="no_prompts")
    _slug_taken(session, Wall, str(values["slug"]), None)
    _ensure_may_open(campaign, values.get("closes_at"))  # type: ignore[arg-type]
    wall = Wall(
        campaign_id=campaign.id,
        prompts=[Prompt(position=i, text=t) for i, t in enumerate(texts)],
        **values,
    )
    session.add(wall)
    session.flush()
    audit.commit_change(
        session,
        organisation_id=campaign.organisation_id,
        actor=actor,
        action="wall.create",
        target_type="wall",
        target_id=wall.id,
        after={**audit.snapshot(wall, WALL_FIELDS), "prompts": texts},
    )
    return wall


def update_wall(session: Session, actor: StaffUser, wall: Wall, data: WallInput) -> Wall:
    """Edit a wall's settings: texts, audience, languages, moderation, window, profile."""
    organisation_id = wall.campaign.organisation_id
    _same_org(actor, organisation_id)
    values = _clean_wall(data)
    _slug_taken(session, Wall, str(values["slug"]), wall.id)
    _ensure_may_open(wall.campaign, values.get("closes_at"))  # type: ignore[arg-type]
    before = audit.snapshot(wall, WALL_FIELDS)
    for name, value in values.items():
        setattr(wall, name, value)
    _record_change(
        session, actor, "wall.update", "wall", wall.id, before, wall, WALL_FIELDS, organisation_id
    )
    session.commit()
    return wall


def set_window(
    session: Session, actor: StaffUser, wall: Wall, action: str, now: datetime | None = None
) -> Wall:
    """Open the wall now (``"open"``) or close it now (``"close"``)."""
    organisation_id = wall.campaign.organisation_id
    _same_org(actor, organisation_id)
    now = now or utcnow()
    before = audit.snapshot(wall, ("opens_at", "closes_at"))
    if action == "open":
        organisations.ensure_controller(wall.campaign.organisation)
        if wall.opens_at is not None and wall.opens_at > now:
            wall.opens_at = now
        if wall.closes_at is not None and wall.closes_at <= now:
            wall.closes_at = None
    elif action == "close":
        if wall.opens_at is not None and wall.opens_at > now:
            wall.opens_at = now
        wall.closes_at = now
    else:
        raise InvalidInput(N_("Unknown action."), code="invalid_action")
    _record_change(
        session,
        actor,
        f"wall.{action}",
        "wall",
        wall.id,
        before,
        wall,
        ("opens_at", "closes_at"),
        organisation_id,
    )
    session.commit()
    return wall


# -- prompts ------------------------------------------------------------------------------------


def _ensure_prompts_editable(session: Session, wall: Wall) -> None:
    if wall_has_answers(session, wall.id):
        raise PromptsLocked(
            N_("The wall already has answers, so its questions can no longer be changed.")
        )


def _renumber(wall: Wall) -> None:
    for position, prompt in enumerate(sorted(wall.prompts, key=lambda p: (p.position, p.id))):
        prompt.position = position


#: What the audit log keeps of a question.
PROMPT_FIELDS = ("text", "kind", "options", "follow_up")


@dataclass(frozen=True)
class QuestionInput:
    """A question as the staff editor gives it: its text and, for a closed question, its
    kind, option labels (one per line) and follow-up (:func:`surveys.closed.question_fields`)."""

    text: str
    kind: str = "text"
    option_labels: Sequence[str] = ()
    follow_up: str | None = None


def add_prompt(
    session: Session, actor: StaffUser, wall: Wall, question: QuestionInput | str
) -> Prompt:
    """Add a question at the end of the wall (only before the first answer)."""
    organisation_id = wall.campaign.organisation_id
    _same_org(actor, organisation_id)
    _ensure_prompts_editable(session, wall)
    if isinstance(question, str):
        question = QuestionInput(question)
    cleaned = clean_prompt_text(question.text)
    fields = closed.question_fields(question.kind, question.option_labels, question.follow_up)
    prompt = Prompt(wall_id=wall.id, text=cleaned, position=len(wall.prompts), **fields)
    wall.prompts.append(prompt)
    session.flush()
    audit.commit_change(
        session,
        organisation_id=organisation_id,
        actor=actor,
        action="prompt.create",
        target_type="prompt",
        target_id=prompt.id,
        after={**audit.snapshot(prompt, PROMPT_FIELDS), "wall_id": wall.id},
    )
    return prompt


def update_prompt(
    session: Session, actor: StaffUser, prompt: Prompt, question: QuestionInput | str
) -> Prompt:
    """Change a question (only before the wall's first answer). A change of kind or options
    is dated (``changed_at``): answers queued on devices before it keep what they chose."""
    organisation_id = prompt.wall.campaign.organisation_id
    _same_org(actor, organisation_id)
    _ensure_prompts_editable(session, prompt.wall)
    if isinstance(question, str):
        question = QuestionInput(question, prompt.kind.value, _labels(prompt), prompt.follow_up)
    cleaned = clean_prompt_text(question.text)
    fields = closed.question_fields(
        question.kind, question.option_labels, question.follow_up, prompt.options
    )
    before = audit.snapshot(prompt, PROMPT_FIELDS)
    if fields["kind"] != prompt.kind or fields["options"] != prompt.options:
        prompt.changed_at = utcnow()
    prompt.text = cleaned
    for name, value in fields.items():
        setattr(prompt, name, value)
    _record_change(
        session,
        actor,
        "prompt.update",
        "prompt",
        prompt.id,
        before,
        prompt,
        PROMPT_FIELDS,
        organisation_id,
    )
    session.commit()
    return prompt


def _labels(prompt: Prompt) -> list[str]:
    return [str(o.get("label", "")) for o in prompt.options]


def move_prompt(session: Session, actor: StaffUser, prompt: Prompt, delta: int) -> None:
    """Move a question up (-1) or down (+1) (only before the wall's first answer)."""
    wall = prompt.wall
    organisation_id = wall.campaign.organisation_id
    _same_org(actor, organisation_id)
    _ensure_prompts_editable(session, wall)
    if delta not in (-1, 1):
        raise InvalidInput(N_("Unknown action."), code="invalid_action")
    ordered = sorted(wall.prompts, key=lambda p: (p.position, p.id))
    index = ordered.index(prompt)
    other = index + delta
    if not 0 <= other < len(ordered):
        return
    before = [p.id for p in ordered]
    ordered[index], ordered[other] = ordered[other], ordered[index]
    for position, item in enumerate(ordered):
        item.position = position
    audit.commit_change(
        session,
        organisation_id=organisation_id,
        actor=actor,
        action="prompt.move",
        target_type="wall",
        target_id=wall.id,
        before={"order": before},
        after={"order": [p.id for p in ordered]},
    )
    session.refresh(wall, ["prompts"])


def delete_prompt(session: Session, actor: StaffUser, prompt: Prompt) -> None:
    """Remove a question (only before the wall's first answer; a wall keeps at least one)."""
    wall = prompt.wall
    organisation_id = wall.campaign.organisation_id
    _same_org(actor, organisation_id)
    _ensure_prompts_editable(session, wall)
    if len(wall.prompts) <= 1:
        raise Conflict(N_("A wall needs at least one question."), code="last_prompt")
    audit.record(
        session,
        organisation_id=organisation_id,
        actor=actor,
        action="prompt.delete",
        target_type="prompt",
        target_id=prompt.id,
        before={"text": prompt.text, "wall_id": wall.id},
    )
    wall.prompts.remove(prompt)
    session.delete(prompt)
    session.flush()
    _renumber(wall)
    session.commit()


# -- kiosk devices and replies ----------------------------------------------------------------


def add_device(
    session: Session, actor: StaffUser, wall: Wall, name: str, idle_seconds: int = 60
) -> KioskDevice:
    """Register a kiosk tablet for the wall (see :func:`surveys.kiosk.new_device`)."""
    organisation_id = wall.campaign.organisation_id
    _same_org(actor, organisation_id)
    device = kiosk.new_device(session, wall, name, idle_seconds)
    audit.commit_change(
        session,
        organisation_id=organisation_id,
        actor=actor,
        action="device.create",
        target_type="kiosk_device",
        target_id=device.id,
        after={"name": device.name, "wall_id": wall.id, "idle_seconds": device.idle_seconds},
    )
    return device


def revoke_device(session: Session, actor: StaffUser, device: KioskDevice) -> None:
    """Stop a kiosk tablet from being used (its answers stay)."""
    organisation_id = device.wall.campaign.organisation_id
    _same_org(actor, organisation_id)
    if device.revoked_at is not None:
        return
    kiosk.switch_off(device)
    audit.commit_change(
        session,
        organisation_id=organisation_id,
        actor=actor,
        action="device.revoke",
        target_type="kiosk_device",
        target_id=device.id,
        after={"revoked_at": device.revoked_at},
    )


def add_reply(
    session: Session,
    actor: StaffUser,
    wall: Wall,
    text: str,
    translations: dict[str, str] | None = None,
) -> WallReply:
    """Publish a staff reply on the wall (see :func:`surveys.replies.post_reply`)."""
    organisation_id = wall.campaign.organisation_id
    _same_org(actor, organisation_id)
    reply = replies.post_reply(session, wall, actor, text, translations)
    audit.commit_change(
        session,
        organisation_id=organisation_id,
        actor=actor,
        action="reply.create",
        target_type="wall_reply",
        target_id=reply.id,
        after={"text": reply.text, "wall_id": wall.id, **_translated(reply.translations)},
    )
    return reply


def hide_reply(session: Session, actor: StaffUser, reply: WallReply) -> None:
    """Take a staff reply off the wall."""
    organisation_id = reply.wall.campaign.organisation_id
    _same_org(actor, organisation_id)
    if reply.is_hidden:
        return
    replies.hide_reply(reply)
    audit.commit_change(
        session,
        organisation_id=organisation_id,
        actor=actor,
        action="reply.hide",
        target_type="wall_reply",
        target_id=reply.id,
        before={"is_hidden": False},
        after={"is_hidden": True},
    )


# -- helpers --------------------------------------------------------------------------------------


def _ensure_may_open(campaign: Campaign, closes_at: datetime | None) -> None:
    """A wall that is or will be open to citizens needs the organisation's controller details
    (its privacy notice names them); a wall that has already closed may still be edited."""
    if closes_at is None or closes_at > utcnow():
        organisations.ensure_controller(campaign.organisation)


def _translated(translations: dict[str, str] | None) -> dict[str, object]:
    """An audit entry's texts in other languages, when there are any."""
    return {"translations": translations} if translations else {}


def _same_org(actor: StaffUser, organisation_id: int) -> None:
    if actor.organisation_id != organisation_id:
        raise NotFound(N_("This campaign does not exist."), code="campaign_not_found")


def _record_change(
    session: Session,
    actor: StaffUser,
    action: str,
    target_type: str,
    target_id: int,
    before: dict[str, object],
    obj: object,
    fields: Sequence[str],
    organisation_id: int,
) -> None:
    old, new = audit.changed(before, audit.snapshot(obj, fields))
    if new:
        audit.record(
            session,
            organisation_id=organisation_id,
            actor=actor,
            action=action,
            target_type=target_type,
            target_id=target_id,
            before=old,
            after=new,
        )
