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

#: English texts of the factory's default questions (other questions get "(en)" added).
ENGLISH_PROMPTS = {
    "Hvad er det gode børneliv her?": "What is a good childhood here?",
    "Hvad mangler der?": "What is missing?",
}


#: Controller details every factory organisation has unless told otherwise (walls may open).
CONTROLLER_DETAILS = {
    "controller_address": "Rådhuset\nStore Torv 1\n3700 Rønne",
    "controller_email": "borger@kommune.example.dk",
    "dpo_email": "dpo@kommune.example.dk",
}


def make_organisation(session: Session, slug: str | None = None, **fields: Any) -> Organisation:
    """An organisation (committed), with controller details unless ``fields`` say otherwise."""
    number = next(_counter)
    organisation = Organisation(
        slug=slug or f"org-{number}",
        name=fields.pop("name", f"Kommune {number}"),
        **{**CONTROLLER_DETAILS, **fields},
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
    # Walls offer English (the model's default languages) only with English texts: the
    # factory writes them unless told otherwise (english=False, or translations=...).
    english = fields.pop("english", True)
    if english:
        defaults["translations"] = {"en": {"title": f"Wall {number}"}}
        if fields.get("intro"):
            defaults["translations"]["en"]["intro"] = f"{fields['intro']} (en)"
    defaults.update(fields)
    wall = Wall(
        campaign_id=campaign.id,
        slug=slug or f"wall-{number}",
        prompts=[
            Prompt(
                position=i,
                text=t,
                translations={"en": ENGLISH_PROMPTS.get(t, f"{t} (en)")} if english else {},
            )
            for i, t in enumerate(prompts)
        ],
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


def submit(session: Session, wall: Any, **overrides: Any) -> Any:
    """Submit an answer to the wall's first question through the real service."""
    from surveys import answers

    fields: dict[str, Any] = {
        "prompt_id": wall.prompts[0].id,
        "text": "Flere bænke ved legepladsen",
        "client_submission_id": "abcdefgh-0001",
    }
    fields.update(overrides)
    return answers.submit_answer(session, wall, **fields)


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


def record_statements(engine: Engine) -> list[str]:
    """Every SQL statement sent through ``engine`` from now on (white space folded)."""
    seen: list[str] = []

    def note(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        seen.append(" ".join(statement.split()))

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


class FakeEncoder:
    """A stand-in for the e5 encoder (``surveys.vectors.Encoder``): 384-d unit vectors made
    from the text's words, so alike answers get alike vectors; counts what it was asked."""

    def __init__(self) -> None:
        self.calls = 0
        self.texts: list[str] = []

    def __call__(self, texts: Any, *, passages: bool = False) -> Any:
        import hashlib

        import numpy as np

        self.calls += 1
        self.texts.extend(texts)
        out = np.zeros((len(texts), 384), dtype=np.float32)
        for row, text in enumerate(texts):
            for word in str(text).lower().split():
                digest = hashlib.blake2b(word.strip(".,!?").encode(), digest_size=4).digest()
                out[row, int.from_bytes(digest, "little") % 384] += 1.0
            out[row, 383] += 0.1  # never all zero
        return out / np.linalg.norm(out, axis=1, keepdims=True)


def add_closed_prompts(session: Session, wall: Wall) -> dict[str, Prompt]:
    """A scale, a single and a multiple choice question (issue 26) added to ``wall``."""
    from surveys.closed import choice_options, scale_options
    from surveys.models import PromptKind

    start = len(wall.prompts)
    added = {
        "scale": Prompt(
            text="Hvordan har du det i dit område?",
            kind=PromptKind.SCALE,
            options=scale_options(),
            follow_up="Hvorfor?",
            translations={"en": "How are you doing where you live?"},
        ),
        "single": Prompt(
            text="Hvor ses du helst med venner?",
            kind=PromptKind.SINGLE,
            options=choice_options(["Hjemme", "I klubben", "Udenfor"]),
            translations={"en": "Where do you prefer to meet friends?"},
        ),
        "multiple": Prompt(
            text="Hvad skal der være mere af?",
            kind=PromptKind.MULTIPLE,
            options=choice_options(["Skaterbane", "Musik", "Lektiehjælp", "Natbus"]),
            follow_up="Fortæl mere",
            translations={"en": "What should there be more of?"},
        ),
    }
    for position, prompt in enumerate(added.values(), start=start):
        prompt.position = position
        wall.prompts.append(prompt)
    session.commit()
    return added


def make_themed_run(
    session: Session, wall, themes: dict[str, tuple[list[str], int]], other: int = 0
) -> None:  # type: ignore[no-untyped-def]
    """A campaign-wide run whose themes (label: (terms, number of answers)) hold new approved
    answers, plus ``other`` answers in no theme."""
    from surveys.models import AnswerStatus, Theme, ThemeAssignment, ThemeRun
    from surveys.themes import Scope
    from tests.factories import make_answer

    run = ThemeRun(campaign_id=wall.campaign_id, scope_key=Scope(wall.campaign_id).key, model=b"")
    session.add(run)
    session.flush()
    for position, (label, (terms, size)) in enumerate(themes.items()):
        theme = Theme(
            run_id=run.id, key=f"t{position}", label=label, terms=terms, position=position
        )
        session.add(theme)
        session.flush()
        ids = []
        for number in range(size):
            answer = make_answer(
                session, wall, f"{label} svar {number}", status=AnswerStatus.APPROVED
            )
            ids.append(answer.id)
            session.add(ThemeAssignment(theme_id=theme.id, answer_id=answer.id, run_id=run.id))
        theme.representative_ids = ids[:3]
    for number in range(other):
        make_answer(session, wall, f"Noget helt andet {number}")
    run.n_answers = sum(size for _terms, size in themes.values()) + other
    session.commit()
