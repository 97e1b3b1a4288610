"""Typed SQLAlchemy 2.0 mappings of the Stemmer domain."""

from __future__ import annotations

import enum
from datetime import UTC, date, datetime
from typing import Any

from sqlalchemy import (
    JSON,
    Boolean,
    Date,
    DateTime,
    Enum,
    Float,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Text,
    TypeDecorator,
    UniqueConstraint,
    false,
    text,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


def utcnow() -> datetime:
    """The current time, timezone-aware, in UTC."""
    return datetime.now(UTC)


class UTCDateTime(TypeDecorator[datetime]):
    """A timestamp stored as naive UTC and always returned timezone-aware (UTC).

    SQLite has no time zones; PostgreSQL would convert to the session zone. Storing
    naive UTC in both keeps comparisons and tests identical on the two databases.
    """

    impl = DateTime
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given; use timezone-aware UTC")
        return value.astimezone(UTC).replace(tzinfo=None)

    def process_result_value(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC)


class Base(DeclarativeBase):
    """Declarative base with a naming convention so that migrations name constraints."""

    metadata = MetaData(naming_convention=NAMING_CONVENTION)


def _enum(cls: type[enum.Enum], name: str) -> Enum:
    """A portable enum column: VARCHAR plus CHECK constraint, storing the member values."""
    return Enum(
        cls,
        name=name,
        native_enum=False,
        create_constraint=True,
        length=16,
        values_callable=lambda members: [m.value for m in members],
        validate_strings=True,
    )


class Audience(enum.StrEnum):
    """Who a wall is for."""

    PARENTS = "parents"
    YOUNG = "young"
    EVERYONE = "everyone"


class Moderation(enum.StrEnum):
    """Pre: nothing public before approval. Post: public at once, removable."""

    PRE = "pre"
    POST = "post"


class Channel(enum.StrEnum):
    """How an answer reached us."""

    WEB = "web"
    KIOSK = "kiosk"
    EVENT = "event"
    API = "api"
    PAPER = "paper"


class AnswerStatus(enum.StrEnum):
    """Moderation state of an answer."""

    PENDING = "pending"
    APPROVED = "approved"
    HIDDEN = "hidden"
    #: A closed question's choice without text: counted in the results, never a note.
    COUNTED = "counted"


#: The statuses of answers that are notes (text a moderator reads and a wall may show).
NOTE_STATUSES = (AnswerStatus.PENDING, AnswerStatus.APPROVED)


class PromptKind(enum.StrEnum):
    """What a question asks for: free text, or a closed answer (surveys.closed)."""

    TEXT = "text"
    SCALE = "scale"
    SINGLE = "single"
    MULTIPLE = "multiple"


class RetentionAction(enum.StrEnum):
    """What happens to a campaign's answers when its retention period is over."""

    ANONYMISE = "anonymise"  # profile values dropped, text kept as anonymous
    DELETE = "delete"


class StaffRole(enum.StrEnum):
    """Roles in the staff workspace, most powerful first."""

    ADMIN = "admin"
    MANAGER = "manager"
    MODERATOR = "moderator"
    ANALYST = "analyst"
    VIEWER = "viewer"


#: Profile questions a wall may ask; all optional for the participant.
PROFILE_FIELDS = ("role", "age_group", "area")
#: Allowed codes for the coded profile questions (labels live in the web layer, translated).
ROLE_CODES = ("parent", "expecting", "young", "professional", "other")
AGE_GROUP_CODES = ("0-2", "3-5", "6-12", "13-17", "18-24")


class Organisation(Base):
    """A municipality or an alliance (NGO, foundation, association) running campaigns."""

    __tablename__ = "organisation"

    id: Mapped[int] = mapped_column(primary_key=True)
    slug: Mapped[str] = mapped_column(String(64), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    # issue 25: the organisation as data controller, its accessibility statement, its look ----
    #: The data controller's legal name, postal address and contact (GDPR art. 13(1)(a)).
    controller_name: Mapped[str] = mapped_column(String(200), default="", server_default="")
    controller_address: Mapped[str] = mapped_column(Text, default="", server_default="")
    controller_email: Mapped[str] = mapped_column(String(254), default="", server_default="")
    controller_phone: Mapped[str] = mapped_column(String(40), default="", server_default="")
    #: The data protection officer's contact (art. 13(1)(b)); an e-mail address.
    dpo_email: Mapped[str] = mapped_column(String(254), default="", server_default="")
    #: The organisation's accessibility statement on was.digst.dk ("" : the app's own).
    accessibility_url: Mapped[str] = mapped_column(String(500), default="", server_default="")
    #: The name citizens see on walls, posters and reports ("": ``name``).
    display_name: Mapped[str] = mapped_column(String(200), default="", server_default="")
    #: The main colour, "#rrggbb", at least 4.5:1 against white text ("": Stemmer's green).
    brand_colour: Mapped[str] = mapped_column(String(7), default="", server_default="")
    #: The logo, re-encoded as PNG by ``surveys.branding`` (None: no logo).
    logo_png: Mapped[bytes | None] = mapped_column(LargeBinary, deferred=True)
    #: Whether there is a logo (read without loading its bytes).
    has_logo: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    #: When any of the settings above last changed (the version of the brand's files).
    settings_changed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

    campaigns: Mapped[list[Campaign]] = relationship(
        back_populates="organisation", cascade="all, delete-orphan", passive_deletes=True
    )
    staff: Mapped[list[StaffUser]] = relationship(
        back_populates="organisation", cascade="all, delete-orphan", passive_deletes=True
    )


class Campaign(Base):
    """A programme asking citizens, e.g. "De Små Børns Bornholm"."""

    __tablename__ = "campaign"

    id: Mapped[int] = mapped_column(primary_key=True)
    organisation_id: Mapped[int] = mapped_column(
        ForeignKey("organisation.id", ondelete="CASCADE"), index=True
    )
    slug: Mapped[str] = mapped_column(String(64), unique=True)
    title: Mapped[str] = mapped_column(String(200))
    description: Mapped[str] = mapped_column(Text, default="")
    language: Mapped[str] = mapped_column(String(8), default="da")
    is_demo: Mapped[bool] = mapped_column(Boolean, default=False)
    #: Months after an answer's creation when retention applies (None: kept until deleted).
    retention_months: Mapped[int | None] = mapped_column(Integer)
    retention_action: Mapped[RetentionAction] = mapped_column(
        _enum(RetentionAction, "retention_action"), default=RetentionAction.ANONYMISE
    )
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    #: What the campaign's answers are used for, in the privacy notice (GDPR art. 13(1)(c));
    #: "" : a general sentence naming the campaign.
    privacy_purpose: Mapped[str] = mapped_column(Text, default="", server_default="")
    # the report: the public "Det har vi hørt" page ------------------------------------------
    #: When staff published the campaign's public page (None: not published).
    published_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    #: The theme run the public page shows: a snapshot of what staff published, so a later
    #: re-run (new, not yet curated themes) stays private until they publish again. No foreign
    #: key on purpose: runs are deleted only with their campaign, and on SQLite a foreign-key
    #: column cannot be dropped without rebuilding the campaign table (which, with foreign
    #: keys on, would cascade-delete its walls and answers); a missing run shows no themes.
    published_run_id: Mapped[int | None] = mapped_column(Integer)
    #: What staff reviewed when they published: {theme key: [answer ids of its quotes]}. Only
    #: these themes (named by staff) and quotes are public. None: published before the review
    #: step existed (the page then shows staff-named themes with quotes that pass the checks).
    published_themes: Mapped[dict[str, list[int]] | None] = mapped_column(JSON)
    # issue 26: rounds -------------------------------------------------------------------
    #: The earlier round this campaign runs again (spring 2026, then spring 2027).
    previous_round_id: Mapped[int | None] = mapped_column(
        ForeignKey("campaign.id", ondelete="SET NULL")
    )
    #: The round's name ("Forår 2027"); empty for a campaign not run in rounds.
    round_label: Mapped[str] = mapped_column(String(100), default="", server_default="")

    organisation: Mapped[Organisation] = relationship(back_populates="campaigns")
    walls: Mapped[list[Wall]] = relationship(
        back_populates="campaign",
        cascade="all, delete-orphan",
        passive_deletes=True,
        order_by="Wall.id",
    )

    @property
    def has_closed_questions(self) -> bool:
        """Whether a wall of the campaign asks a scale or a choice (it then has results)."""
        return any(p.is_closed for wall in self.walls for p in wall.prompts)


def window_is_open(
    opens_at: datetime | None, closes_at: datetime | None, now: datetime | None = None
) -> bool:
    """Whether an answering window (either end may be open) includes ``now``."""
    now = now or utcnow()
    if opens_at is not None and now < opens_at:
        return False
    return closes_at is None or now < closes_at


def window_has_closed(closes_at: datetime | None, now: datetime | None = None) -> bool:
    """Whether an answering window is over (as opposed to not yet begun)."""
    now = now or utcnow()
    return closes_at is not None and now >= closes_at


class Wall(Base):
    """A question wall: a set of prompts answered by one audience."""

    __tablename__ = "wall"

    id: Mapped[int] = mapped_column(primary_key=True)
    campaign_id: Mapped[int] = mapped_column(
        ForeignKey("campaign.id", ondelete="CASCADE"), index=True
    )
    slug: Mapped[str] = mapped_column(String(64), unique=True)
    title: Mapped[str] = mapped_column(String(200))
    intro: Mapped[str] = mapped_column(Text, default="")
    audience: Mapped[Audience] = mapped_column(_enum(Audience, "audience"))
    language: Mapped[str] = mapped_column(String(8), default="da")
    #: Languages the wall is offered in (the first is the default).
    languages: Mapped[list[str]] = mapped_column(JSON, default=lambda: ["da", "en"])
    moderation: Mapped[Moderation] = mapped_column(_enum(Moderation, "moderation"))
    opens_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    closes_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    #: Which optional "om dig" questions the wall asks (subset of PROFILE_FIELDS).
    profile_questions: Mapped[list[str]] = mapped_column(JSON, default=list)
    #: The areas offered for the "area" question.
    areas: Mapped[list[str]] = mapped_column(JSON, default=list)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    #: The answer a presenter spotlights on the projector (shown large); None: no spotlight.
    #: No foreign key, like ``Campaign.published_run_id``: a missing or no longer approved
    #: answer is simply not shown.
    live_spotlight_id: Mapped[int | None] = mapped_column(Integer)
    #: The wall's texts in its other languages (``language`` is the one of ``title``,
    #: ``intro`` and ``areas``): {"en": {"title": ..., "intro": ..., "areas": [...]}}, the
    #: areas in the same order as ``areas`` (see :mod:`surveys.languages`).
    translations: Mapped[dict[str, dict[str, Any]]] = mapped_column(
        JSON, default=dict, server_default="{}"
    )

    campaign: Mapped[Campaign] = relationship(back_populates="walls")
    prompts: Mapped[list[Prompt]] = relationship(
        back_populates="wall",
        cascade="all, delete-orphan",
        passive_deletes=True,
        order_by="Prompt.position",
    )
    devices: Mapped[list[KioskDevice]] = relationship(
        back_populates="wall", cascade="all, delete-orphan", passive_deletes=True
    )
    replies: Mapped[list[WallReply]] = relationship(
        back_populates="wall",
        cascade="all, delete-orphan",
        passive_deletes=True,
        order_by="WallReply.created_at.desc()",
    )

    def is_open(self, now: datetime | None = None) -> bool:
        """Whether the wall accepts answers at ``now``."""
        return window_is_open(self.opens_at, self.closes_at, now)

    def has_closed(self, now: datetime | None = None) -> bool:
        """Whether the wall's answering window is over (as opposed to not yet begun)."""
        return window_has_closed(self.closes_at, now)

    @property
    def publishes_immediately(self) -> bool:
        """Post-moderated walls show answers at once (unless the guard flags them)."""
        return self.moderation is Moderation.POST


class Prompt(Base):
    """One question on a wall, in display order."""

    __tablename__ = "prompt"

    id: Mapped[int] = mapped_column(primary_key=True)
    wall_id: Mapped[int] = mapped_column(ForeignKey("wall.id", ondelete="CASCADE"), index=True)
    position: Mapped[int] = mapped_column(Integer, default=0)
    text: Mapped[str] = mapped_column(Text)
    #: The question in the wall's other languages: {"en": "..."}.
    translations: Mapped[dict[str, str]] = mapped_column(JSON, default=dict, server_default="{}")
    # issue 26: closed questions (surveys.closed) --------------------------------------------
    kind: Mapped[PromptKind] = mapped_column(
        _enum(PromptKind, "prompt_kind"), default=PromptKind.TEXT, server_default="text"
    )
    #: A closed question's options: [{"id": "o1", "label": "..."}]; a scale's
    #: [{"id": "1", "value": 1}, ...] (its words come from the product's catalogue).
    options: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list, server_default="[]")
    #: The optional free-text follow-up of a closed question ("Hvorfor?").
    follow_up: Mapped[str | None] = mapped_column(String(300))
    #: When the kind or the options last changed: an answer written before it, queued on a
    #: device, is kept as sent even when its value no longer fits.
    changed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    #: The same question in the campaign's earlier round (surveys.rounds).
    previous_prompt_id: Mapped[int | None] = mapped_column(
        ForeignKey("prompt.id", ondelete="SET NULL")
    )

    wall: Mapped[Wall] = relationship(back_populates="prompts")

    @property
    def is_closed(self) -> bool:
        """A scale or a choice (as opposed to a free-text question)."""
        return self.kind is not PromptKind.TEXT


class Answer(Base):
    """A citizen's answer to one prompt: free text, or a closed question's ``value`` with an
    optional follow-up text ("" when none; such an answer is ``COUNTED``, never a note)."""

    __tablename__ = "answer"
    __table_args__ = (
        UniqueConstraint("wall_id", "client_submission_id"),
        Index("ix_answer_wall_status_created", "wall_id", "status", "created_at"),
        # What a wall page depends on (surveys.reads.wall_page_version) in index lookups,
        # however many answers the wall has.
        Index("ix_answer_wall_status_id", "wall_id", "status", "id"),
        Index("ix_answer_wall_moderated", "wall_id", "moderated_at"),
        Index("ix_answer_wall_redacted", "wall_id", "redacted_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    wall_id: Mapped[int] = mapped_column(ForeignKey("wall.id", ondelete="CASCADE"))
    prompt_id: Mapped[int] = mapped_column(ForeignKey("prompt.id", ondelete="CASCADE"), index=True)
    text: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    channel: Mapped[Channel] = mapped_column(_enum(Channel, "channel"))
    #: Idempotency key chosen by the client; unique per wall so retries never duplicate.
    client_submission_id: Mapped[str] = mapped_column(String(64))
    status: Mapped[AnswerStatus] = mapped_column(
        _enum(AnswerStatus, "answer_status"), default=AnswerStatus.PENDING
    )
    language: Mapped[str | None] = mapped_column(String(8))
    role: Mapped[str | None] = mapped_column(String(32))
    age_group: Mapped[str | None] = mapped_column(String(32))
    area: Mapped[str | None] = mapped_column(String(100))
    #: The kiosk tablet the answer was given on (channel "kiosk").
    device_id: Mapped[int | None] = mapped_column(
        ForeignKey("kiosk_device.id", ondelete="SET NULL"), index=True
    )
    #: Personal data the guard found: [{"kind", "start", "end"}] offsets into ``text``,
    #: never the matched text itself. Non-empty means "never publish automatically".
    pii_findings: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)
    #: When a moderator last redacted the text (the redacted spans are not kept anywhere).
    redacted_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    moderated_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    moderated_by_id: Mapped[int | None] = mapped_column(
        ForeignKey("staff_user.id", ondelete="SET NULL")
    )
    #: When retention dropped the profile values.
    anonymised_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    # issue 8: answers from paper walls and imported files --------------------------------
    #: The event or place where a paper answer was collected ("Ungdomsklubben", "Folkemødet").
    place: Mapped[str | None] = mapped_column(String(200))
    #: The date written on the paper wall (or given in an imported file); None for web answers.
    written_on: Mapped[date | None] = mapped_column(Date)
    #: When the participant's device says the answer was written (an outbox may send it
    #: hours later); set only when it matters, i.e. an answer accepted after its wall closed
    #: or its kiosk was revoked because it was written before.
    written_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    #: When the queue put the answer under the latest themes (``themes.place_new_answers``);
    #: NULL until then: the catch-up task looks for these.
    themes_placed_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), index=True)
    #: A closed question's answer (issue 26): a scale's number, an option id, or a list of
    #: option ids; None for free text.
    value: Mapped[Any] = mapped_column(JSON(none_as_null=True), nullable=True)

    wall: Mapped[Wall] = relationship()
    prompt: Mapped[Prompt] = relationship()
    reactions: Mapped[list[Reaction]] = relationship(
        back_populates="answer", cascade="all, delete-orphan", passive_deletes=True
    )

    @property
    def profile(self) -> dict[str, str]:
        """The profile values the participant chose to give."""
        return {k: v for k in PROFILE_FIELDS if (v := getattr(self, k)) is not None}


class Reaction(Base):
    """An "enig" (agree) on an answer, at most one per device."""

    __tablename__ = "reaction"
    __table_args__ = (
        UniqueConstraint("answer_id", "device_key"),
        # The wall page's data version reads the wall's newest "enig" from this index.
        Index("ix_reaction_wall_id", "wall_id", "id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    answer_id: Mapped[int] = mapped_column(ForeignKey("answer.id", ondelete="CASCADE"))
    #: The answer's wall (copied from it, so the wall's reactions need no join).
    wall_id: Mapped[int] = mapped_column(ForeignKey("wall.id", ondelete="CASCADE"))
    #: A random per-device key (cookie), never an IP address or account.
    device_key: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    answer: Mapped[Answer] = relationship(back_populates="reactions")


class StaffUser(Base):
    """A member of an organisation's staff (or an alliance partner with read access)."""

    __tablename__ = "staff_user"
    __table_args__ = (UniqueConstraint("oidc_issuer", "oidc_subject"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    organisation_id: Mapped[int] = mapped_column(
        ForeignKey("organisation.id", ondelete="CASCADE"), index=True
    )
    email: Mapped[str] = mapped_column(String(254), unique=True)
    name: Mapped[str] = mapped_column(String(200), default="")
    password_hash: Mapped[str] = mapped_column(String(255))
    role: Mapped[StaffRole] = mapped_column(_enum(StaffRole, "staff_role"))
    is_active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    last_login_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    failed_logins: Mapped[int] = mapped_column(Integer, default=0)
    locked_until: Mapped[datetime | None] = mapped_column(UTCDateTime())
    # issue 25: single sign-on. The account at the organisation's OpenID provider (its issuer
    # and the subject it gives this person), linked at the first sign-on (surveys/sso.py).
    oidc_issuer: Mapped[str | None] = mapped_column(String(500))
    oidc_subject: Mapped[str | None] = mapped_column(String(255))

    organisation: Mapped[Organisation] = relationship(back_populates="staff")


class StaffSession(Base):
    """A signed-in staff browser, held on the server so that logging out really ends it.

    The browser's cookie carries a random token; only its SHA-256 is stored here.
    """

    __tablename__ = "staff_session"

    id: Mapped[int] = mapped_column(primary_key=True)
    staff_user_id: Mapped[int] = mapped_column(
        ForeignKey("staff_user.id", ondelete="CASCADE"), index=True
    )
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    #: Refreshed at most once a minute (not on every request).
    last_seen_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    #: Logout, a password change or reset, or deactivation (None: still open).
    ended_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

    user: Mapped[StaffUser] = relationship()


class LoginThrottle(Base):
    """Failed logins on one account from one client (a keyed hash of its address).

    Failures hold back only that client for that account, so an attacker cannot keep a
    staff member out by guessing from somewhere else.
    """

    __tablename__ = "login_throttle"
    __table_args__ = (UniqueConstraint("staff_user_id", "client_key"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    staff_user_id: Mapped[int] = mapped_column(ForeignKey("staff_user.id", ondelete="CASCADE"))
    client_key: Mapped[str] = mapped_column(String(64))
    failures: Mapped[int] = mapped_column(Integer, default=0)
    last_failure_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    locked_until: Mapped[datetime | None] = mapped_column(UTCDateTime())


class StaffTotp(Base):
    """A staff member's authenticator app (TOTP, RFC 6238); unconfirmed until a first code."""

    __tablename__ = "staff_totp"

    staff_user_id: Mapped[int] = mapped_column(
        ForeignKey("staff_user.id", ondelete="CASCADE"), primary_key=True
    )
    #: The authenticator secret (base32), sealed: a Fernet token (surveys.twofactor.seal).
    secret: Mapped[str] = mapped_column(String(255))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    confirmed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    #: The time step of the last code accepted: a code is never taken twice.
    last_step: Mapped[int | None] = mapped_column(Integer)


class RecoveryCode(Base):
    """A one-time code for signing in without the phone; only a salted hash is kept."""

    __tablename__ = "recovery_code"

    id: Mapped[int] = mapped_column(primary_key=True)
    staff_user_id: Mapped[int] = mapped_column(
        ForeignKey("staff_user.id", ondelete="CASCADE"), index=True
    )
    code_hash: Mapped[str] = mapped_column(String(100))
    used_at: Mapped[datetime | None] = mapped_column(UTCDateTime())


class KioskDevice(Base):
    """A shared tablet at the health visitor, library or daycare, bound to one wall."""

    __tablename__ = "kiosk_device"

    id: Mapped[int] = mapped_column(primary_key=True)
    wall_id: Mapped[int] = mapped_column(ForeignKey("wall.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(String(200))
    #: Random URL token (``/kiosk/<slug>?device=<token>``); low privilege: it can only answer.
    token: Mapped[str] = mapped_column(String(64), unique=True)
    #: Seconds without a touch before the screen resets to the start.
    idle_seconds: Mapped[int] = mapped_column(Integer, default=60)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    last_seen_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

    wall: Mapped[Wall] = relationship(back_populates="devices")

    @property
    def is_active(self) -> bool:
        """Whether the device may still be used."""
        return self.revoked_at is None


class WallReply(Base):
    """Staff's answer back to citizens ("Det har vi hørt – det gør vi nu"), shown on the wall."""

    __tablename__ = "wall_reply"

    id: Mapped[int] = mapped_column(primary_key=True)
    wall_id: Mapped[int] = mapped_column(ForeignKey("wall.id", ondelete="CASCADE"), index=True)
    author_id: Mapped[int | None] = mapped_column(ForeignKey("staff_user.id", ondelete="SET NULL"))
    text: Mapped[str] = mapped_column(Text)
    is_hidden: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    #: The reply in the wall's other languages: {"en": "..."}.
    translations: Mapped[dict[str, str]] = mapped_column(JSON, default=dict, server_default="{}")

    wall: Mapped[Wall] = relationship(back_populates="replies")


class FeedbackReply(Base):
    """Staff's official reply to one answer (on the wall, under it) or to one theme of a
    scope (on "Det har vi hørt", under it): ``answer_id`` or ``scope_key`` and ``theme_key``."""

    __tablename__ = "feedback_reply"
    __table_args__ = (UniqueConstraint("scope_key", "theme_key"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    campaign_id: Mapped[int] = mapped_column(
        ForeignKey("campaign.id", ondelete="CASCADE"), index=True
    )
    answer_id: Mapped[int | None] = mapped_column(
        ForeignKey("answer.id", ondelete="CASCADE"), unique=True
    )
    scope_key: Mapped[str | None] = mapped_column(String(64))
    theme_key: Mapped[str | None] = mapped_column(String(16))
    author_id: Mapped[int | None] = mapped_column(ForeignKey("staff_user.id", ondelete="SET NULL"))
    text: Mapped[str] = mapped_column(Text)
    #: The reply in the wall's other languages: {"en": "..."} (answer replies).
    translations: Mapped[dict[str, str]] = mapped_column(JSON, default=dict, server_default="{}")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class AuditEntry(Base):
    """One staff action: who, what, when, and before/after for edits."""

    __tablename__ = "audit_entry"
    __table_args__ = (Index("ix_audit_entry_org_created", "organisation_id", "created_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    organisation_id: Mapped[int] = mapped_column(ForeignKey("organisation.id", ondelete="CASCADE"))
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("staff_user.id", ondelete="SET NULL"))
    #: Kept when the account is deleted, so the log still says who.
    actor_email: Mapped[str] = mapped_column(String(254), default="")
    action: Mapped[str] = mapped_column(String(64))
    target_type: Mapped[str] = mapped_column(String(32), default="")
    target_id: Mapped[int | None] = mapped_column(Integer)
    before: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    after: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


# --- Themes (issue #5: the bridge between the database and the pure ``nlp`` engine) ---------


def theme_scope_key(campaign_id: int, wall_id: int | None, prompt_id: int | None) -> str:
    """A stable text key for a theme scope: a campaign, one of its walls, or one prompt."""
    return f"{campaign_id}:{wall_id or '*'}:{prompt_id or '*'}"


class ThemeRun(Base):
    """One run of the theme engine over a scope's answers, with the fitted model."""

    __tablename__ = "theme_run"

    id: Mapped[int] = mapped_column(primary_key=True)
    campaign_id: Mapped[int] = mapped_column(
        ForeignKey("campaign.id", ondelete="CASCADE"), index=True
    )
    wall_id: Mapped[int | None] = mapped_column(ForeignKey("wall.id", ondelete="CASCADE"))
    prompt_id: Mapped[int | None] = mapped_column(ForeignKey("prompt.id", ondelete="CASCADE"))
    scope_key: Mapped[str] = mapped_column(String(64), index=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    n_answers: Mapped[int] = mapped_column(Integer, default=0)
    requested_themes: Mapped[str] = mapped_column(String(8), default="auto")
    seed: Mapped[int] = mapped_column(Integer, default=0)
    #: ``nlp.ThemeModel.to_bytes()``: used to assign new answers to this run's themes.
    model: Mapped[bytes] = mapped_column(LargeBinary, deferred=True)
    #: The campaign's codebook as the run used it (``nlp.codebook.Codebook.to_dict()``);
    #: None for a run of the engine alone.
    codebook: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    #: "Hvorfor her?" per answer id of a codebook run: ``{"words": [...], "closest":
    #: [{"id": theme key, "score": float}, ...]}`` (``nlp.codebook.sort_into_codebook``).
    explanations: Mapped[dict[str, Any] | None] = mapped_column(JSON, deferred=True)
    #: What changed since the scope's previous run (``surveys.theme_changes``), for the
    #: explorer: answers that changed theme, themes new and gone.
    changes: Mapped[dict[str, Any] | None] = mapped_column(JSON)

    themes: Mapped[list[Theme]] = relationship(
        back_populates="run",
        cascade="all, delete-orphan",
        passive_deletes=True,
        order_by="Theme.position",
    )


class Theme(Base):
    """A named theme of a run; ``key`` is the engine's id, stable across runs."""

    __tablename__ = "theme"
    __table_args__ = (UniqueConstraint("run_id", "key"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    run_id: Mapped[int] = mapped_column(ForeignKey("theme_run.id", ondelete="CASCADE"))
    key: Mapped[str] = mapped_column(String(16))
    position: Mapped[int] = mapped_column(Integer, default=0)
    label: Mapped[str] = mapped_column(String(200))
    auto_label: Mapped[str] = mapped_column(String(200), default="")
    description: Mapped[str] = mapped_column(Text, default="")
    terms: Mapped[list[str]] = mapped_column(JSON, default=list)
    size: Mapped[int] = mapped_column(Integer, default=0)
    representative_ids: Mapped[list[int]] = mapped_column(JSON, default=list)
    hidden: Mapped[bool] = mapped_column(Boolean, default=False)
    #: The codebook theme's name when the theme comes from the campaign's codebook.
    codebook: Mapped[str] = mapped_column(String(100), default="", server_default="")
    #: The engine's coherence estimate (mean cosine of its main answers to its centre).
    coherence: Mapped[float] = mapped_column(Float, default=0.0, server_default="0")
    #: A catch-all by the engine's estimate: shown as mixed, with ``split_suggestion``.
    mixed: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    #: Labels of the two halves the engine suggests splitting a mixed theme into.
    split_suggestion: Mapped[list[str]] = mapped_column(
        JSON, default=list, server_default=text("'[]'")
    )
    #: A theme the engine proposes in a codebook run for answers that fit no codebook theme.
    proposed: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())

    run: Mapped[ThemeRun] = relationship(back_populates="themes")


class ThemeAssignment(Base):
    """An answer's membership of a theme ("andet" = no row in the run)."""

    __tablename__ = "theme_assignment"
    __table_args__ = (Index("ix_theme_assignment_run_answer", "run_id", "answer_id"),)

    theme_id: Mapped[int] = mapped_column(
        ForeignKey("theme.id", ondelete="CASCADE"), primary_key=True
    )
    answer_id: Mapped[int] = mapped_column(
        ForeignKey("answer.id", ondelete="CASCADE"), primary_key=True, index=True
    )
    run_id: Mapped[int] = mapped_column(ForeignKey("theme_run.id", ondelete="CASCADE"))
    #: "fit" (the run), "transform" (a new answer assigned on arrival) or "staff".
    source: Mapped[str] = mapped_column(String(16), default="fit")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class ThemeCuration(Base):
    """Staff decisions for a scope (``nlp.Curation`` as JSON) that every re-run respects."""

    __tablename__ = "theme_curation"

    id: Mapped[int] = mapped_column(primary_key=True)
    campaign_id: Mapped[int] = mapped_column(
        ForeignKey("campaign.id", ondelete="CASCADE"), index=True
    )
    scope_key: Mapped[str] = mapped_column(String(64), unique=True)
    data: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    #: Descriptions staff wrote, by theme key.
    descriptions: Mapped[dict[str, str]] = mapped_column(JSON, default=dict)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class AnswerVector(Base):
    """An answer's semantic vector (e5, ``nlp.semantic``), computed once by the task queue.

    384 float16 values (768 bytes). ``digest`` is a hash of the text that was embedded: a
    vector whose answer was redacted since no longer matches and is computed again.
    """

    __tablename__ = "answer_vector"

    answer_id: Mapped[int] = mapped_column(
        ForeignKey("answer.id", ondelete="CASCADE"), primary_key=True
    )
    digest: Mapped[str] = mapped_column(String(32))
    vector: Mapped[bytes] = mapped_column(LargeBinary)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class CodebookTheme(Base):
    """A theme staff expect in a campaign (its codebook): a name, one sentence, keywords."""

    __tablename__ = "codebook_theme"
    __table_args__ = (UniqueConstraint("campaign_id", "name"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    campaign_id: Mapped[int] = mapped_column(
        ForeignKey("campaign.id", ondelete="CASCADE"), index=True
    )
    position: Mapped[int] = mapped_column(Integer, default=0)
    name: Mapped[str] = mapped_column(String(100))
    description: Mapped[str] = mapped_column(String(300), default="")
    keywords: Mapped[list[str]] = mapped_column(JSON, default=list)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class JobStatus(enum.StrEnum):
    """Where a background job is."""

    QUEUED = "queued"
    RUNNING = "running"
    DONE = "done"
    FAILED = "failed"


class Job(Base):
    """Background work someone waits for (a theme run, ...), done by the task queue.

    The row is what the staff page shows (progress, result or error) and what makes the work
    safe to repeat: ``active_key`` holds the job's idempotency key while it is queued or
    running (unique: asking again returns the same job) and is cleared when it ends; a worker
    claims the job by an atomic update and keeps ``heartbeat_at`` fresh while it runs, so the
    catch-up task can hand the job of a killed worker to another (``surveys.jobs``).
    """

    __tablename__ = "job"
    __table_args__ = (Index("ix_job_status_heartbeat", "status", "heartbeat_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(32))
    key: Mapped[str] = mapped_column(String(200))
    active_key: Mapped[str | None] = mapped_column(String(200), unique=True)
    status: Mapped[JobStatus] = mapped_column(
        _enum(JobStatus, "job_status"), default=JobStatus.QUEUED
    )
    organisation_id: Mapped[int] = mapped_column(
        ForeignKey("organisation.id", ondelete="CASCADE"), index=True
    )
    requested_by_id: Mapped[int | None] = mapped_column(
        ForeignKey("staff_user.id", ondelete="SET NULL")
    )
    #: What to do (kind-specific, JSON).
    params: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    done: Mapped[int] = mapped_column(Integer, default=0)
    total: Mapped[int | None] = mapped_column(Integer)
    #: What the job is doing now, in English (shown translated by the web layer).
    message: Mapped[str] = mapped_column(String(200), default="")
    #: What came out (kind-specific, JSON), once done.
    result: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    #: Why it failed: a domain error's code and message, or "internal".
    error: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    started_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    heartbeat_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

    requested_by: Mapped[StaffUser | None] = relationship()


class JobFile(Base):
    """A file a job reads or makes (an uploaded import, a built PDF or XLSX report).

    Kept in the database, not on a disk, so that any worker on any machine can read what a
    web server received and any web server can hand out what a worker made. ``role`` says
    which: ``input`` (read by the job) or ``output`` (its result, downloaded from the job's
    page). Deleted with its job; the retention task removes old jobs' files.
    """

    __tablename__ = "job_file"
    __table_args__ = (UniqueConstraint("job_id", "role", "name"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    job_id: Mapped[int] = mapped_column(ForeignKey("job.id", ondelete="CASCADE"), index=True)
    role: Mapped[str] = mapped_column(String(16))
    name: Mapped[str] = mapped_column(String(200))
    content_type: Mapped[str] = mapped_column(String(100))
    size: Mapped[int] = mapped_column(Integer)
    data: Mapped[bytes] = mapped_column(LargeBinary, deferred=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class QueueWorker(Base):
    """A task-queue worker process, as last seen (for the staff status page)."""

    __tablename__ = "queue_worker"

    name: Mapped[str] = mapped_column(String(200), primary_key=True)
    started_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    seen_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
