"""The demo campaign: two walls and about 300 hand-written Danish sample answers.

The answers in ``answers.jsonl`` were written for this demo; they are fictional and the
campaign is flagged ``is_demo`` so that staff pages and reports can say so.
"""

from __future__ import annotations

import json
import random
from dataclasses import dataclass
from datetime import datetime, timedelta
from importlib import resources
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from .. import queries
from ..closed import choice_options, scale_options
from ..models import (
    Answer,
    AnswerStatus,
    Audience,
    Campaign,
    Channel,
    Moderation,
    Organisation,
    Prompt,
    PromptKind,
    Wall,
    utcnow,
)

DEMO_ORGANISATION = "demo"
DEMO_CAMPAIGN = "demo"
#: The demo organisation as data controller (made up; example.dk addresses reach no one).
DEMO_CONTROLLER = {
    "controller_name": "Demo Kommune",
    "controller_address": "Rådhuset\nEksempelvej 1\n3700 Rønne",
    "controller_email": "stemmer@demo-kommune.example.dk",
    "controller_phone": "+45 56 00 00 00",
    "dpo_email": "dpo@demo-kommune.example.dk",
}
AREAS = ["Rønne", "Nexø", "Aakirkeby", "Hasle", "Allinge-Gudhjem", "Svaneke"]

WALLS: list[dict[str, Any]] = [
    {
        "slug": "godt-boerneliv",
        "title": "Det gode børneliv",
        "intro": (
            "Vi vil gerne høre fra forældre, kommende forældre og alle, der har med små børn at "
            "gøre. Dine svar er anonyme og bruges til at gøre livet bedre for børn og familier."
        ),
        "audience": Audience.PARENTS,
        "moderation": Moderation.PRE,
        "profile_questions": ["role", "age_group", "area"],
        "prompts": [
            "Hvad er det gode børneliv her?",
            "Hvad skal der gøres mere eller mindre af?",
            "Hvilke tilbud eller tiltag drømmer du om?",
            "Hvem skal stå for dem?",
        ],
        "english": {
            "title": "A good childhood",
            "intro": (
                "We would like to hear from parents, parents-to-be and everyone who works with "
                "young children. Your answers are anonymous and help make life better for "
                "children and families."
            ),
            "prompts": [
                "What is a good childhood here?",
                "What should there be more or less of?",
                "Which services or initiatives do you dream of?",
                "Who should run them?",
            ],
        },
        # issue 26: closed questions (shown before the written ones, after them in order)
        "closed": [
            {
                "kind": PromptKind.SCALE,
                "text": "Hvordan er det at være barnefamilie her?",
                "english": "How is it to be a family with children here?",
                "follow_up": "Hvorfor?",
            },
        ],
    },
    {
        "slug": "unge-stemmer",
        "title": "Unge stemmer",
        "intro": (
            "Hvad betyder noget for dig? Skriv det, du tænker – dit svar er anonymt og kommer "
            "op på væggen med det samme."
        ),
        "audience": Audience.YOUNG,
        "moderation": Moderation.POST,
        "profile_questions": ["age_group", "area"],
        "prompts": [
            "Hvad gør din hverdag god?",
            "Hvad står i vejen for et godt ungeliv her?",
            "Hvilke fællesskaber drømmer du om?",
        ],
        "english": {
            "title": "Young voices",
            "intro": (
                "What matters to you? Write what you think – your answer is anonymous and goes "
                "up on the wall at once."
            ),
            "prompts": [
                "What makes your everyday life good?",
                "What stands in the way of a good life for young people here?",
                "Which communities do you dream of?",
            ],
        },
        "closed": [
            {
                "kind": PromptKind.SINGLE,
                "text": "Hvor er du mest sammen med dine venner?",
                "english": "Where do you spend most time with your friends?",
                "options": [
                    "Hjemme",
                    "I skolen",
                    "I klubben eller foreningen",
                    "Udenfor",
                    "Online",
                ],
            },
            {
                "kind": PromptKind.MULTIPLE,
                "text": "Hvad skal der være mere af?",
                "english": "What should there be more of?",
                "options": [
                    "Steder at være om aftenen",
                    "Sport og bevægelse",
                    "Musik og kultur",
                    "Bedre busser",
                    "Nogen at tale med",
                ],
                "follow_up": "Fortæl gerne mere",
            },
        ],
    },
]


@dataclass(frozen=True)
class DemoResult:
    """What :func:`load_demo` did."""

    created: bool
    walls: int
    answers: int


def demo_answers() -> list[dict[str, Any]]:
    """The sample answers shipped with the package, one dict per answer."""
    raw = resources.files(__package__).joinpath("answers.jsonl").read_text(encoding="utf-8")
    return [json.loads(line) for line in raw.splitlines() if line.strip()]


def load_demo(session: Session, now: datetime | None = None, *, themes: bool = False) -> DemoResult:
    """Create the demo campaign with its walls and answers; do nothing if it exists.

    With ``themes`` the campaign's answers are also grouped into themes (one campaign-wide
    run, made only when the campaign has none yet), so the theme explorer shows themes at
    once. It loads the language model and takes a few seconds, so tests leave it off.
    """
    existing = session.scalars(queries.campaign_by_slug(DEMO_CAMPAIGN)).first()
    if existing is not None:
        count = len(session.scalars(queries.answers_of_campaign(existing.id)).all())
        if themes:
            _build_demo_themes(session, existing)
        return DemoResult(created=False, walls=len(existing.walls), answers=count)

    now = now or utcnow()
    organisation = session.scalars(
        select(Organisation).where(Organisation.slug == DEMO_ORGANISATION)
    ).first() or Organisation(slug=DEMO_ORGANISATION, name="Demo Kommune", **DEMO_CONTROLLER)
    campaign = Campaign(
        organisation=organisation,
        slug=DEMO_CAMPAIGN,
        title="Det gode børne- og ungeliv (demo)",
        description="Demokampagne med opdigtede eksempelsvar.",
        language="da",
        is_demo=True,
    )
    walls: dict[str, Wall] = {}
    for spec in WALLS:
        wall = Wall(
            campaign=campaign,
            slug=spec["slug"],
            title=spec["title"],
            intro=spec["intro"],
            audience=spec["audience"],
            moderation=spec["moderation"],
            language="da",
            profile_questions=list(spec["profile_questions"]),
            areas=list(AREAS),
            # English texts too, so that the walls are offered in English (surveys.languages).
            translations={
                "en": {"title": spec["english"]["title"], "intro": spec["english"]["intro"]}
            },
            prompts=[
                Prompt(position=i, text=t, translations={"en": english})
                for i, (t, english) in enumerate(
                    zip(spec["prompts"], spec["english"]["prompts"], strict=True)
                )
            ],
        )
        for question in spec.get("closed", []):
            kind = question["kind"]
            wall.prompts.append(
                Prompt(
                    position=len(wall.prompts),
                    text=question["text"],
                    translations={"en": question["english"]},
                    kind=kind,
                    options=scale_options()
                    if kind is PromptKind.SCALE
                    else choice_options(question["options"]),
                    follow_up=question.get("follow_up"),
                )
            )
        walls[spec["slug"]] = wall
    session.add(campaign)
    session.flush()

    rows = demo_answers()
    for number, row in enumerate(rows, start=1):
        wall = walls[row["wall"]]
        profile = row.get("profile") or {}
        session.add(
            Answer(
                wall_id=wall.id,
                prompt_id=wall.prompts[row["prompt"]].id,
                text=row["text"],
                created_at=now - timedelta(days=row.get("days_ago", 0), minutes=number),
                channel=Channel(row.get("channel", "web")),
                client_submission_id=f"demo-{number:05d}",
                status=AnswerStatus(row.get("status", "approved")),
                language="da",
                role=profile.get("role"),
                age_group=profile.get("age_group"),
                area=profile.get("area"),
            )
        )
    closed = _closed_answers(list(walls.values()), now, first_number=len(rows) + 1)
    session.add_all(closed)
    session.commit()
    if themes:
        _build_demo_themes(session, campaign)
    return DemoResult(created=True, walls=len(walls), answers=len(rows) + len(closed))


#: How the demo's made-up people answer the closed questions: a weight per option (in the
#: options' order), and how many answer. Choices only, no follow-up texts: those would be
#: notes on the wall, and the wall's notes are the hand-written ones.
CLOSED_WEIGHTS = {
    PromptKind.SCALE: (60, [1, 3, 6, 10, 5]),
    PromptKind.SINGLE: (70, [5, 3, 4, 4, 2]),
    PromptKind.MULTIPLE: (70, [6, 7, 3, 5, 2]),
}


def _closed_answers(walls: list[Wall], now: datetime, first_number: int) -> list[Answer]:
    """Made-up answers to the demo's closed questions (the same every time: seeded)."""
    rng = random.Random(26)
    made: list[Answer] = []
    for wall in walls:
        roles: list[str | None] = ["parent", "parent", "parent", "professional", "expecting", None]
        ages: dict[str, list[str | None]] = {
            "parents": ["0-2", "3-5", "3-5", "6-12", None],
            "young": ["13-17", "18-24"],
        }
        for prompt in (p for p in wall.prompts if p.is_closed):
            count, weights = CLOSED_WEIGHTS[prompt.kind]
            ids = [str(o["id"]) for o in prompt.options]
            for _ in range(count):
                value: Any
                if prompt.kind is PromptKind.MULTIPLE:
                    picked = set(rng.choices(ids, weights, k=rng.randint(1, 3)))
                    value = [i for i in ids if i in picked]
                else:
                    value = rng.choices(ids, weights)[0]
                    if prompt.kind is PromptKind.SCALE:
                        value = int(value)
                young = wall.audience is Audience.YOUNG
                made.append(
                    Answer(
                        wall_id=wall.id,
                        prompt_id=prompt.id,
                        text="",
                        value=value,
                        created_at=now - timedelta(days=rng.randint(0, 20), minutes=len(made)),
                        channel=Channel.WEB,
                        client_submission_id=f"demo-{first_number + len(made):05d}",
                        status=AnswerStatus.COUNTED,
                        language="da",
                        role=None if young else rng.choice(roles),
                        age_group=rng.choice(ages["young" if young else "parents"]),
                        area=rng.choice([*AREAS, ""]) or None,
                    )
                )
    return made


def _build_demo_themes(session: Session, campaign: Campaign) -> None:
    from ..themes import Scope, build_themes, latest_run

    scope = Scope(campaign.id)
    if latest_run(session, scope.key) is None:
        build_themes(session, scope)
