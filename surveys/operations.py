"""Services: every write of the domain goes through a function here.

Each service takes a session, validates, writes and commits; it raises a
:class:`~surveys.errors.DomainError` with a stable code when it cannot.
"""

from __future__ import annotations

import re
import threading
import time
from collections.abc import Mapping
from contextlib import suppress
from dataclasses import dataclass
from datetime import datetime
from itertools import chain
from typing import Any
from weakref import WeakKeyDictionary

from sqlalchemy import Engine, event, inspect, select
from sqlalchemy.exc import IntegrityError, UnboundExecutionError
from sqlalchemy.orm import Session, make_transient_to_detached, selectinload

from . import queries
from .db import PreparedInsert, SQLiteWriter, commit_driver
from .errors import N_, Conflict, InvalidInput, NotFound, WallClosed, WallNotOpen
from .models import (
    AGE_GROUP_CODES,
    PROFILE_FIELDS,
    ROLE_CODES,
    Answer,
    AnswerStatus,
    Audience,
    Campaign,
    Channel,
    KioskDevice,
    Moderation,
    Organisation,
    Prompt,
    Reaction,
    StaffRole,
    StaffUser,
    Wall,
    utcnow,
    window_has_closed,
    window_is_open,
)
from .passwords import hash_password
from .privacy import Finding, detect_personal_data
from .text import MAX_ANSWER_LENGTH, normalise_answer

SUBMISSION_ID_PATTERN = re.compile(r"^[A-Za-z0-9_.:-]{8,64}$")
#: The largest id the database can hold (PostgreSQL integer); larger ones match nothing.
MAX_DATABASE_ID = 2**31 - 1
EMAIL_PATTERN = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")


@dataclass(frozen=True)
class SubmitResult:
    """The stored answer and whether this call created it (False: an idempotent retry)."""

    answer: Answer
    created: bool


def get_wall(session: Session, slug: str) -> Wall:
    """The wall with this slug, or :class:`NotFound`."""
    wall = session.scalars(queries.wall_by_slug(slug)).one_or_none()
    if wall is None:
        raise NotFound(N_("This wall does not exist."), code="wall_not_found")
    return wall


@dataclass(frozen=True)
class PromptSnapshot:
    """A prompt as :class:`WallSnapshot` keeps it."""

    id: int
    position: int
    text: str


@dataclass(frozen=True)
class WallSnapshot:
    """A wall's own values and prompts, detached from any session.

    Immutable, so one process may share it between threads and keep it for a moment
    (:func:`remembered_wall`): :func:`submit_answer` takes it in place of a :class:`Wall`, and
    the wall page builds its cache key from it.
    """

    id: int
    campaign_id: int
    slug: str
    title: str
    intro: str
    audience: Audience
    language: str
    languages: tuple[str, ...]
    moderation: Moderation
    opens_at: datetime | None
    closes_at: datetime | None
    profile_questions: tuple[str, ...]
    areas: tuple[str, ...]
    prompts: tuple[PromptSnapshot, ...]
    prompt_ids: frozenset[int]

    @classmethod
    def of(cls, wall: Wall) -> WallSnapshot:
        """The loaded wall's values (loads its prompts if needed)."""
        prompts = tuple(PromptSnapshot(p.id, p.position, p.text) for p in wall.prompts)
        return cls(
            id=wall.id,
            campaign_id=wall.campaign_id,
            slug=wall.slug,
            title=wall.title,
            intro=wall.intro,
            audience=wall.audience,
            language=wall.language,
            languages=tuple(wall.languages or ()),
            moderation=wall.moderation,
            opens_at=wall.opens_at,
            closes_at=wall.closes_at,
            profile_questions=tuple(wall.profile_questions or ()),
            areas=tuple(wall.areas or ()),
            prompts=prompts,
            prompt_ids=frozenset(p.id for p in prompts),
        )

    def is_open(self, now: datetime | None = None) -> bool:
        """Whether the wall accepts answers at ``now`` (as :meth:`Wall.is_open`)."""
        return window_is_open(self.opens_at, self.closes_at, now)

    def has_closed(self, now: datetime | None = None) -> bool:
        """Whether the answering window is over (as :meth:`Wall.has_closed`)."""
        return window_has_closed(self.closes_at, now)


#: Seconds a process may answer from a remembered wall (:func:`remembered_wall`).
WALL_CACHE_SECONDS = 1.0
_MAX_REMEMBERED_WALLS = 1024


#: Seconds a request waits for another thread's read of the same wall before reading it itself.
WALL_READ_WAIT_SECONDS = 5.0


class _WallRead:
    """One thread's read of a wall, which the other threads asking for it meanwhile share."""

    __slots__ = ("done", "generation", "wall")

    def __init__(self, generation: int) -> None:
        self.done = threading.Event()
        self.generation = generation
        self.wall: WallSnapshot | None = None  # None: the read failed


class _RememberedWalls:
    """Walls remembered per database (URL) and slug; ``generation`` counts forgettings;
    ``reads`` are the reads in progress, by slug."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.walls: dict[str, tuple[float, WallSnapshot]] = {}
        self.reads: dict[str, _WallRead] = {}
        self.generation = 0


_REMEMBERED: dict[str, _RememberedWalls] = {}
_DATABASE_KEYS: WeakKeyDictionary[Engine, str] = WeakKeyDictionary()


def _remembered(session: Session) -> _RememberedWalls:
    bind = session.get_bind(Wall)
    engine: Engine = getattr(bind, "engine", bind)
    key = _DATABASE_KEYS.get(engine)
    if key is None:
        key = _DATABASE_KEYS.setdefault(engine, engine.url.render_as_string(hide_password=True))
    remembered = _REMEMBERED.get(key)
    if remembered is None:
        remembered = _REMEMBERED.setdefault(key, _RememberedWalls())
    return remembered


def remembered_wall(
    session: Session, slug: str, max_age: float = WALL_CACHE_SECONDS
) -> WallSnapshot:
    """The wall with this slug as :class:`WallSnapshot`, or :class:`NotFound`.

    Remembered per process for ``max_age`` seconds (0: always read), so that a burst of
    answers does not read the wall and its prompts for every answer. A change to a wall, its
    prompts or its campaign committed through the ORM in this process is seen at once (the
    session events below forget every remembered wall of that database); a change made by
    another process (another gunicorn worker or app server) is seen within ``max_age``: a
    wall closed there refuses answers here at most ``max_age`` seconds later, and a changed
    moderation setting or set of questions applies to answers after at most as long. A wall
    or question deleted in the meantime is noticed by the database (see
    :func:`submit_answer`). Requests asking for a wall while another thread reads it wait for
    that read (at most :data:`WALL_READ_WAIT_SECONDS`) and share it.
    """
    remembered = _remembered(session)
    now = time.monotonic()
    entry = remembered.walls.get(slug)
    if entry is not None and now - entry[0] < max_age:
        return entry[1]
    if max_age <= 0:
        return _read_wall(session, slug)
    # One thread reads a wall that is not remembered (any more); the others asking for it
    # meanwhile wait for that read and share it. Without this, under load every request that
    # arrived while the read was in progress read the wall too (12 threads: 3.7 reads a
    # second instead of one; bench/load/RESULTS.md).
    with remembered.lock:
        read = remembered.reads.get(slug)
        reading = read is None
        if reading:
            read = remembered.reads[slug] = _WallRead(remembered.generation)
    assert read is not None
    if not reading:
        if read.done.wait(WALL_READ_WAIT_SECONDS) and read.wall is not None:
            return read.wall
        return _read_wall(session, slug)  # that read failed or is slow: read here
    try:
        wall = _read_wall(session, slug)
        read.wall = wall
        with remembered.lock:
            # Not when the walls were forgotten while this one was read: it may be older.
            if remembered.generation == read.generation:
                if len(remembered.walls) >= _MAX_REMEMBERED_WALLS:
                    remembered.walls.clear()
                remembered.walls[slug] = (now, wall)
        return wall
    finally:
        with remembered.lock:
            if remembered.reads.get(slug) is read:
                del remembered.reads[slug]
        read.done.set()


def _read_wall(session: Session, slug: str) -> WallSnapshot:
    """The wall and its prompts as the database has them now (not as this session last saw)."""
    stmt = (
        queries.wall_by_slug(slug)
        .options(selectinload(Wall.prompts))
        .execution_options(populate_existing=True)
    )
    wall = session.scalars(stmt).one_or_none()
    if wall is None:
        raise NotFound(N_("This wall does not exist."), code="wall_not_found")
    return WallSnapshot.of(wall)


def forget_walls(session: Session) -> None:
    """Forget every wall remembered for this session's database (in this process)."""
    remembered = _remembered(session)
    with remembered.lock:
        remembered.generation += 1
        remembered.walls.clear()
        remembered.reads.clear()  # a read begun before may be older than the change


_WALLS_CHANGED = "stemmer.walls_changed"


@event.listens_for(Session, "after_flush")
def _note_wall_changes(session: Session, _context: Any) -> None:
    if _WALLS_CHANGED not in session.info and any(
        isinstance(obj, Wall | Prompt | Campaign)
        for obj in chain(session.new, session.dirty, session.deleted)
    ):
        session.info[_WALLS_CHANGED] = True


@event.listens_for(Session, "after_commit")
def _forget_changed_walls(session: Session) -> None:
    # (A flag left by changes rolled back since only makes this forget once more: harmless.)
    if session.info.pop(_WALLS_CHANGED, False):
        with suppress(UnboundExecutionError):
            forget_walls(session)


def ensure_open(wall: Wall | WallSnapshot, now: datetime | None = None) -> None:
    """Raise unless the wall accepts answers now."""
    now = now or utcnow()
    if wall.has_closed(now):
        raise WallClosed(N_("This wall has closed and no longer accepts answers."))
    if not wall.is_open(now):
        raise WallNotOpen(N_("This wall has not opened yet."))


def clean_answer_text(text: object) -> str:
    """Normalise and validate an answer's text; raise :class:`InvalidInput` when unusable."""
    if not isinstance(text, str):
        raise InvalidInput(N_("The answer must be text."), code="invalid_text")
    cleaned = normalise_answer(text)
    if not cleaned:
        raise InvalidInput(N_("Please write an answer before sending."), code="empty_text")
    if len(cleaned) > MAX_ANSWER_LENGTH:
        raise InvalidInput(
            N_("The answer is too long: at most %(max)d characters, this one has %(length)d."),
            code="text_too_long",
            max=MAX_ANSWER_LENGTH,
            length=len(cleaned),
        )
    return cleaned


def clean_profile(
    wall: Wall | WallSnapshot, profile: Mapping[str, object] | None
) -> dict[str, str]:
    """Validate optional profile values against the wall's questions; empty values are dropped."""
    if profile is None:
        return {}
    if not isinstance(profile, Mapping):
        raise InvalidInput(N_("The profile must be an object."), code="invalid_profile")
    cleaned: dict[str, str] = {}
    for key, value in profile.items():
        if key not in PROFILE_FIELDS:
            raise InvalidInput(
                N_("Unknown profile field: %(field)s."), code="invalid_profile", field=str(key)[:40]
            )
        if value is None or value == "":
            continue
        allowed: tuple[str, ...] | list[str]
        allowed = {"role": ROLE_CODES, "age_group": AGE_GROUP_CODES, "area": wall.areas}[key]
        if key not in wall.profile_questions or not isinstance(value, str) or value not in allowed:
            raise InvalidInput(
                N_("Invalid value for the profile field %(field)s."),
                code="invalid_profile",
                field=key,
            )
        cleaned[key] = value
    return cleaned


def initial_status(wall: Wall | WallSnapshot, findings: list[Finding]) -> AnswerStatus:
    """Pre-moderated walls hold answers for review; post-moderated ones publish at once.

    An answer in which the guard found personal data is never published automatically.
    """
    if findings or wall.moderation is not Moderation.POST:
        return AnswerStatus.PENDING
    return AnswerStatus.APPROVED


def findings_json(findings: list[Finding]) -> list[dict[str, object]]:
    """Guard findings as stored on the answer: kinds and offsets, never the matched text."""
    return [{"kind": f.kind, "start": f.start, "end": f.end} for f in findings]


def submit_answer(
    session: Session,
    wall: Wall | WallSnapshot,
    *,
    prompt_id: object,
    text: object,
    client_submission_id: object,
    channel: Channel = Channel.WEB,
    profile: Mapping[str, object] | None = None,
    language: str | None = None,
    device: KioskDevice | None = None,
    now: datetime | None = None,
) -> SubmitResult:
    """Store a citizen's answer exactly once per ``client_submission_id`` on the wall.

    A retry with the same id returns the stored answer (``created=False``); the same id with
    a different text or prompt is a :class:`Conflict`. Concurrent retries are safe: the
    database's unique constraint decides, and the loser returns the winner's answer.
    The personal-data guard runs on every new answer; what it finds is stored as offsets and
    holds the answer for moderation. ``device`` ties a kiosk answer to its tablet.

    ``wall`` may be a remembered :class:`WallSnapshot` (no query for the wall and its
    prompts); when the database refuses the answer because that wall or question was deleted
    since, the wall is read again and the answer judged against it.
    """
    now = now or utcnow()
    if not isinstance(client_submission_id, str) or not SUBMISSION_ID_PATTERN.match(
        client_submission_id
    ):
        raise InvalidInput(
            N_("client_submission_id must be 8-64 letters, digits or -_.:"),
            code="invalid_submission_id",
        )
    if isinstance(prompt_id, bool) or not isinstance(prompt_id, int):
        raise InvalidInput(N_("Choose one of the wall's questions."), code="invalid_prompt")
    cleaned = clean_answer_text(text)

    try:
        ensure_open(wall, now)
    except (WallClosed, WallNotOpen):
        # A retry of an answer stored before the wall closed still gets its answer back.
        existing = session.scalars(
            queries.answer_by_submission(wall.id, client_submission_id)
        ).first()
        if existing is None:
            raise
        return _replay(existing, prompt_id, cleaned)
    if not _has_prompt(session, wall, prompt_id):
        existing = session.scalars(
            queries.answer_by_submission(wall.id, client_submission_id)
        ).first()
        if existing is not None:  # a retry that names a prompt deleted since: a conflict
            return _replay(existing, prompt_id, cleaned)
        raise InvalidInput(N_("Choose one of the wall's questions."), code="invalid_prompt")
    values = clean_profile(wall, profile)
    if device is not None and (device.wall_id != wall.id or not device.is_active):
        raise InvalidInput(
            N_("This kiosk device cannot answer on this wall."), code="invalid_device"
        )
    findings = detect_personal_data(cleaned)

    row = {
        "wall_id": wall.id,
        "prompt_id": prompt_id,
        "text": cleaned,
        "created_at": now,
        "channel": channel,
        "client_submission_id": client_submission_id,
        "status": initial_status(wall, findings),
        "pii_findings": findings_json(findings),
        "language": language,
        "device_id": device.id if device is not None else None,
        **values,
    }
    # Insert first: a new answer (the usual case) costs one INSERT; a retry hits the unique
    # constraint and is answered from the stored row. Nothing is expired by this commit, so
    # the caller can read the answer and the wall without reloading them.
    try:
        answer, created = add_once(session, row, commit=True)
    except IntegrityError:
        if not isinstance(wall, WallSnapshot):
            raise
        # Not a duplicate: the remembered wall or its question is gone. Ask the database.
        forget_walls(session)
        return submit_answer(
            session,
            get_wall(session, wall.slug),
            prompt_id=prompt_id,
            text=text,
            client_submission_id=client_submission_id,
            channel=channel,
            profile=profile,
            language=language,
            device=device,
            now=now,
        )
    if not created:
        return _replay(answer, prompt_id, cleaned)
    from .themes import assign_on_arrival  # the theme engine loads only when runs exist

    assign_on_arrival(session, answer, wall.campaign_id)
    return SubmitResult(answer, created=True)


def _has_prompt(session: Session, wall: Wall | WallSnapshot, prompt_id: int) -> bool:
    if isinstance(wall, WallSnapshot):
        return prompt_id in wall.prompt_ids
    prompt = session.get(Prompt, prompt_id) if 0 < prompt_id <= MAX_DATABASE_ID else None
    return prompt is not None and prompt.wall_id == wall.id


#: Every column of an answer but its id, in table order.
_ANSWER_COLUMNS = tuple(column.key for column in Answer.__table__.columns if column.key != "id")
#: Columns with a default: the caller sets them (the INSERT below names every column).
_DEFAULTED_COLUMNS = tuple(
    column.key
    for column in Answer.__table__.columns
    if column.key != "id" and (column.default is not None or column.server_default is not None)
)
#: One INSERT, compiled once and run without the ORM: the ORM's unit of work costs about as
#: much again as the statement itself for a single row, and answering is the hot write path.
_INSERT_ANSWER = PreparedInsert(Answer.__table__, _ANSWER_COLUMNS)


def add_once(session: Session, values: Mapping[str, Any], *, commit: bool) -> tuple[Answer, bool]:
    """Insert a new answer with these column values; return it and True.

    ``values`` names every column but ``id`` that has a default (the INSERT names every
    column, so none applies) and any others (missing ones are NULL). The answer returned is as
    if loaded (its id assigned, nothing pending). Without ``commit`` it is in the session, part
    of the session's transaction, which the caller commits. With ``commit`` it is committed at
    once and left detached, in no session (the hot path of answering reads only its columns;
    ``session.add(answer)`` attaches it without writing, to load its relationships): on an
    SQLite file by this process's :class:`~surveys.db.SQLiteWriter` (in the database's write
    turn; a transaction the session still has open is committed first), elsewhere in the
    session's transaction. When the wall already holds an answer with the same
    ``client_submission_id`` (a retry, or a concurrent duplicate losing the race on the unique
    constraint) the session is rolled back and that stored answer is returned, with False.
    """
    unknown = set(values).difference(_ANSWER_COLUMNS)
    if unknown:  # a programming error
        raise ValueError(f"add_once got values for no column: {', '.join(sorted(unknown))}")
    row = {key: values.get(key) for key in _ANSWER_COLUMNS}
    unset = [key for key in _DEFAULTED_COLUMNS if row[key] is None]
    if unset:  # a programming error: the INSERT names every column, so no default applies
        raise ValueError(f"add_once needs {', '.join(unset)} set on the answer")
    try:
        writer = SQLiteWriter.of(session.get_bind().engine) if commit else None
        if writer is not None:
            if session.in_transaction():
                session.commit()  # SQLite would make the writer wait for its open transaction
            answer = _loaded_answer(row, _INSERT_ANSWER.execute_now(writer, row))
        else:
            connection = session.connection()
            parameters = _INSERT_ANSWER.parameters(connection.dialect, row)
            answer = _loaded_answer(row, _INSERT_ANSWER.execute(connection, parameters))
            if commit:
                commit_driver(connection)
                _commit_keeping_state(session)  # the answer is committed: this ends the transaction
            else:
                session.add(answer)
    except IntegrityError:
        session.rollback()
        # What the session holds may be what the database refused (a wall or question
        # deleted since): read it again, also when the writer left the session no transaction.
        session.expire_all()
        existing = session.scalars(
            queries.answer_by_submission(row["wall_id"], row["client_submission_id"])
        ).first()
        if existing is None:
            raise
        return existing, False
    return answer, True


_ANSWER_CLASS = inspect(Answer).class_manager


def _loaded_answer(row: Mapping[str, Any], answer_id: int) -> Answer:
    """The answer just stored as ``row`` with ``answer_id``, as if loaded from the database
    (detached, nothing pending, every column known).

    Built the way the ORM builds a loaded object: a new instance without ``__init__``, its
    values put in place without attribute events (there is no history to keep), then given
    its identity. The constructor's per-attribute events cost four times as much, on every
    answer a citizen sends.
    """
    answer = _ANSWER_CLASS.new_instance()
    answer.__dict__.update(row, id=answer_id)
    make_transient_to_detached(answer)
    return answer


def _commit_keeping_state(session: Session) -> None:
    """Commit without expiring loaded objects (their state is what was just written)."""
    expire = session.expire_on_commit
    session.expire_on_commit = False
    try:
        session.commit()
    finally:
        session.expire_on_commit = expire


def _replay(existing: Answer, prompt_id: int, text: str) -> SubmitResult:
    if existing.prompt_id != prompt_id or existing.text != text:
        raise Conflict(
            N_("This client_submission_id was already used for a different answer."),
            code="submission_id_reused",
        )
    return SubmitResult(existing, created=False)


def add_reaction(session: Session, answer: Answer, device_key: str) -> bool:
    """Record an "enig" from a device once; return False when it had already agreed."""
    if answer.status is not AnswerStatus.APPROVED:
        raise NotFound(N_("This answer is not shown on the wall."), code="answer_not_found")
    if not SUBMISSION_ID_PATTERN.match(device_key):
        raise InvalidInput(N_("Invalid device key."), code="invalid_device")
    session.add(Reaction(answer_id=answer.id, wall_id=answer.wall_id, device_key=device_key))
    try:
        session.commit()
    except IntegrityError:
        session.rollback()
        return False
    return True


def create_organisation(session: Session, slug: str, name: str) -> Organisation:
    """Create an organisation (municipality or alliance)."""
    if session.scalars(queries.organisation_by_slug(slug)).first() is not None:
        raise Conflict(N_("An organisation with this slug already exists."), code="slug_taken")
    organisation = Organisation(slug=slug, name=name)
    session.add(organisation)
    session.commit()
    return organisation


def create_staff_user(
    session: Session,
    organisation: Organisation,
    email: str,
    role: StaffRole,
    password: str,
    name: str = "",
) -> StaffUser:
    """Create a staff account with an argon2-hashed password."""
    email = email.strip().lower()
    if not EMAIL_PATTERN.match(email):
        raise InvalidInput(N_("Invalid e-mail address."), code="invalid_email")
    if len(password) < 10:
        raise InvalidInput(
            N_("The password must have at least 10 characters."), code="weak_password"
        )
    if session.scalars(select(StaffUser).where(StaffUser.email == email)).first() is not None:
        raise Conflict(N_("A user with this e-mail already exists."), code="email_taken")
    user = StaffUser(
        organisation_id=organisation.id,
        email=email,
        name=name,
        role=role,
        password_hash=hash_password(password),
    )
    session.add(user)
    session.commit()
    return user
