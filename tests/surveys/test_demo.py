"""The demo campaign."""

from __future__ import annotations

from collections import Counter

from flask.testing import FlaskCliRunner
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from surveys.demo import WALLS, demo_answers, load_demo
from surveys.models import Answer, AnswerStatus, Campaign, Moderation, PromptKind, Wall


def test_demo_has_the_required_prompts_and_walls(session: Session) -> None:
    result = load_demo(session)
    assert result.created
    walls = {w.slug: w for w in session.scalars(select(Wall))}
    parents = walls["godt-boerneliv"]
    assert [p.text for p in parents.prompts] == [
        "Hvad er det gode børneliv her?",
        "Hvad skal der gøres mere eller mindre af?",
        "Hvilke tilbud eller tiltag drømmer du om?",
        "Hvem skal stå for dem?",
        "Hvordan er det at være barnefamilie her?",
    ]
    # one closed question of each kind (issue 26)
    kinds = {p.kind for w in walls.values() for p in w.prompts if p.is_closed}
    assert kinds == {PromptKind.SCALE, PromptKind.SINGLE, PromptKind.MULTIPLE}
    assert parents.moderation is Moderation.PRE
    assert walls["unge-stemmer"].moderation is Moderation.POST
    campaign = session.scalars(select(Campaign).where(Campaign.slug == "demo")).one()
    assert campaign.is_demo


def test_demo_answers_are_about_300_varied_and_realistic(session: Session) -> None:
    rows = demo_answers()
    assert 280 <= len(rows) <= 340
    assert len({r["text"] for r in rows}) == len(rows)
    per_wall = Counter(r["wall"] for r in rows)
    assert per_wall["godt-boerneliv"] > 100 and per_wall["unge-stemmer"] > 80
    themes = Counter(t for r in rows for t in r["themes"])
    assert len(themes) >= 10
    with_profile = sum(1 for r in rows if r["profile"])
    assert with_profile > len(rows) * 0.8
    prompts = {spec["slug"]: len(spec["prompts"]) for spec in WALLS}
    assert all(0 <= r["prompt"] < prompts[r["wall"]] for r in rows)


def test_demo_load_is_idempotent(session: Session) -> None:
    first = load_demo(session)
    second = load_demo(session)
    assert not second.created
    assert second.answers == first.answers
    total = session.scalar(select(func.count()).select_from(Answer))
    assert total == first.answers
    approved = session.scalar(
        select(func.count()).select_from(Answer).where(Answer.status == AnswerStatus.APPROVED)
    )
    assert 0 < approved < total


def test_demo_load_cli(runner: FlaskCliRunner) -> None:
    first = runner.invoke(args=["demo", "load"])
    assert first.exit_code == 0 and "Loaded demo campaign with 2 walls" in first.output
    again = runner.invoke(args=["demo", "load"])
    assert again.exit_code == 0 and "Already loaded" in again.output


def test_demo_answers_hold_no_cpr_phone_or_email() -> None:
    from surveys.privacy import detect_personal_data

    flagged = [
        (r["text"], f.kind)
        for r in demo_answers()
        for f in detect_personal_data(r["text"])
        if f.kind in {"cpr", "phone", "email"}
    ]
    assert flagged == []
