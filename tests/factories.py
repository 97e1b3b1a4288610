"""Factories for campaigns, walls and answers used across the tests."""

from __future__ import annotations

import itertools
import threading
from collections.abc import Callable
from datetime import datetime
from typing import Any

from argon2 import PasswordHasher
from sqlalchemy import Engine, event, func, select
from sqlalchemy.orm import Session

from surveys.models import (
    Answer,
    AnswerStatus,
    Audience,
    Campaign,
    Channel,
    Moderation,
    Organisation,
    Prompt,
    StaffRole,
    StaffUser,
    Wall,
    utcnow,
)

_counter = itertools.count(1)


def make_organisation(session: Session, slug: str | None = None, **fields: Any) -> Organisation:
    """An organisation (committed)."""
    number = next(_counter)
    organisation = Organisation(
        slug=slug or f"org-{number}", name=fields.pop("name", f"Kommune {number}"), **fields
    )
    session.add(organisation)
    session.commit()
    return organisation


def make_wall(
    session: Session,
    slug: str | None = None,
    *,
    prompts: tuple[str, ...] = ("Hvad er det gode børneliv her?", "Hvad mangler der?"),
    organisation: Organisation | None = None,
    campaign: Campaign | None = None,
    **fields: Any,
) -> Wall:
    """A wall (with its campaign and organisation when not given), committed."""
    number = next(_counter)
    if campaign is None:
        organisation = organisation or make_organisation(session)
        campaign = Campaign(
            organisation_id=organisation.id, slug=f"campaign-{number}", title=f"Kampagne {number}"
        )
        session.add(campaign)
        session.flush()
    defaults: dict[str, Any] = {
        "title": f"Væg {number}",
        "audience": Audience.PARENTS,
        "moderation": Moderation.PRE,
        "profile_questions": ["role", "age_group", "area"],
        "areas": ["Rønne", "Nexø"],
    }
    defaults.update(fields)
    wall = Wall(
        campaign_id=campaign.id,
        slug=slug or f"wall-{number}",
        prompts=[Prompt(position=i, text=t) for i, t in enumerate(prompts)],
        **defaults,
    )
    session.add(wall)
    session.commit()
    return wall


def make_answer(
    session: Session,
    wall: Wall,
    text: str = "Flere legepladser med skygge",
    *,
    status: AnswerStatus = AnswerStatus.APPROVED,
    prompt: Prompt | None = None,
    created_at: datetime | None = None,
    **fields: Any,
) -> Answer:
    """An answer on a wall (committed), approved unless told otherwise."""
    prompt = (
        prompt
        or session.scalars(
            select(Prompt).where(Prompt.wall_id == wall.id).order_by(Prompt.position)
        ).first()
    )
    assert prompt is not None
    answer = Answer(
        wall_id=wall.id,
        prompt_id=prompt.id,
        text=text,
        status=status,
        channel=fields.pop("channel", Channel.WEB),
        client_submission_id=fields.pop("client_submission_id", f"factory-{next(_counter):06d}"),
        created_at=created_at or utcnow(),
        **fields,
    )
    session.add(answer)
    session.commit()
    return answer


# --- staff workspace (issue #4) ------------------------------------------------------------------

#: Password of every staff user made by :func:`make_staff`.
STAFF_PASSWORD = "et godt kodeord 42"
#: A deliberately cheap argon2 for test accounts (production uses argon2-cffi's defaults;
#: verification reads the parameters from the hash, so logging in stays fast in tests).
_CHEAP_HASHER = PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1)


def make_staff(
    session: Session,
    organisation: Organisation | None = None,
    role: StaffRole | str = "admin",
    *,
    email: str | None = None,
    password: str = STAFF_PASSWORD,
    **fields: Any,
) -> StaffUser:
    """A staff user (committed) whose password is :data:`STAFF_PASSWORD`."""
    organisation = organisation or make_organisation(session)
    role = StaffRole(role)
    user = StaffUser(
        organisation_id=organisation.id,
        email=email or f"{role.value}-{next(_counter)}@example.dk",
        role=role,
        password_hash=_CHEAP_HASHER.hash(password),
        **fields,
    )
    session.add(user)
    session.commit()
    return user


class Clock:
    """A monotonic clock the test moves by hand (the ``clock`` fixture)."""

    def __init__(self) -> None:
        self.now = 1000.0

    def monotonic(self) -> float:
        """The time the test has set."""
        return self.now


def submit(session: Session, wall: Any, **overrides: Any) -> Any:
    """Submit an answer to the wall's first question through the real service."""
    from surveys import operations

    fields: dict[str, Any] = {
        "prompt_id": wall.prompts[0].id,
        "text": "Flere bænke ved legepladsen",
        "client_submission_id": "abcdefgh-0001",
    }
    fields.update(overrides)
    return operations.submit_answer(session, wall, **fields)


def count_answers(session: Session) -> int:
    """How many answers the database holds."""
    from surveys.models import Answer

    return session.scalar(select(func.count()).select_from(Answer)) or 0


def run_in_threads(target: Callable[[], object], count: int) -> list[BaseException]:
    """Run ``target`` in ``count`` threads at once and wait for them; what they raised."""
    errors: list[BaseException] = []

    def guarded() -> None:
        try:
            target()
        except BaseException as error:  # returned to the test, which asserts on it
            errors.append(error)

    threads = [threading.Thread(target=guarded) for _ in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert not any(thread.is_alive() for thread in threads), "a thread did not finish"
    return errors


def record_statements(engine: Engine, monkeypatch: Any) -> list[str]:
    """Every SQL statement sent from now on (white space folded): through ``engine`` (for as
    long as it lives) and through this process's SQLite writers (:class:`surveys.db.SQLiteWriter`
    bypasses the engine's events; until ``monkeypatch`` undoes)."""
    from surveys.db import SQLiteWriter

    seen: list[str] = []

    def note(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        seen.append(" ".join(statement.split()))

    insert = SQLiteWriter.insert

    def note_writer(writer: SQLiteWriter, sql: str, parameters: Any) -> int:
        seen.append(" ".join(sql.split()))
        return insert(writer, sql, parameters)

    monkeypatch.setattr(SQLiteWriter, "insert", note_writer)
    event.listen(engine, "before_cursor_execute", note)
    return seen


#: Rate limits small enough for a test to spend (tests/app: limited_app).
TEST_RATE_LIMITS: dict[str, Any] = {
    "RATELIMIT_ENABLED": True,
    "RATELIMIT_STORAGE_URI": "memory://",
    "RATELIMIT_ANSWERS": "3 per minute",
    "RATELIMIT_KIOSK": "5 per minute",
    "RATELIMIT_REACTIONS": "2 per minute",
    "RATELIMIT_LOGIN": "4 per minute",
}


def limited_app(make_app: Callable[..., Any], **config: Any) -> Any:
    """An app from the ``make_app`` fixture with :data:`TEST_RATE_LIMITS` (``config`` wins)."""
    return make_app(**{**TEST_RATE_LIMITS, **config})
