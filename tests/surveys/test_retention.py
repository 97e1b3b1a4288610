"""Retention: anonymise or delete answers after a campaign's period; idempotent."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from flask.testing import FlaskCliRunner
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from surveys.models import (
    Answer,
    AnswerStatus,
    AuditEntry,
    KioskDevice,
    Reaction,
    RetentionAction,
    utcnow,
)
from surveys.retention import months_before, run_retention
from tests.factories import make_answer, make_wall

NOW = datetime(2026, 11, 25, 12, 0, tzinfo=UTC)


def test_months_before() -> None:
    assert months_before(NOW, 1) == datetime(2026, 10, 25, 12, 0, tzinfo=UTC)
    assert months_before(NOW, 12) == datetime(2025, 11, 25, 12, 0, tzinfo=UTC)
    assert months_before(NOW, 23) == datetime(2024, 12, 25, 12, 0, tzinfo=UTC)
    march = datetime(2026, 3, 31, tzinfo=UTC)
    assert months_before(march, 1) == datetime(2026, 2, 28, tzinfo=UTC)
    assert months_before(datetime(2024, 3, 31, tzinfo=UTC), 1) == datetime(2024, 2, 29, tzinfo=UTC)


def _campaign_wall(session: Session, action: RetentionAction, months: int | None = 12):
    wall = make_wall(session)
    wall.campaign.retention_months = months
    wall.campaign.retention_action = action
    session.commit()
    return wall


def test_anonymise_drops_profile_and_personal_data(session: Session) -> None:
    wall = _campaign_wall(session, RetentionAction.ANONYMISE)
    device = KioskDevice(wall_id=wall.id, name="Tablet", token="tok-0123456789abcdef")
    session.add(device)
    session.commit()
    old = make_answer(
        session,
        wall,
        "Ring til Sofie på 22 33 44 55",
        created_at=NOW - timedelta(days=400),
        role="parent",
        age_group="0-2",
        area="Rønne",
        device_id=device.id,
        client_submission_id="my-phone-remembers-this",
        pii_findings=[{"kind": "phone", "start": 18, "end": 29}],
    )
    recent = make_answer(
        session, wall, created_at=NOW - timedelta(days=30), role="parent", area="Nexø"
    )
    session.add(Reaction(answer_id=old.id, wall_id=old.wall_id, device_key="cookie-of-a-phone"))
    session.commit()

    report = run_retention(session, now=NOW)
    assert report.anonymised == 1 and report.deleted == 0
    session.expire_all()
    stored = session.get(Answer, old.id)
    assert stored.profile == {} and stored.device_id is None
    assert stored.client_submission_id == f"anon-{old.id}"
    assert "22 33 44 55" not in stored.text and "[fjernet]" in stored.text
    assert stored.anonymised_at == NOW and stored.pii_findings == []
    assert stored.status is AnswerStatus.APPROVED
    reaction = session.scalars(select(Reaction)).one()
    assert reaction.device_key == f"anon-{reaction.id}"
    untouched = session.get(Answer, recent.id)
    assert untouched.profile == {"role": "parent", "area": "Nexø"}
    assert untouched.anonymised_at is None

    # Idempotent: a second run (the next day) changes nothing more.
    again = run_retention(session, now=NOW + timedelta(days=1))
    assert again.anonymised == 0
    entries = session.scalars(select(AuditEntry)).all()
    assert [(e.action, e.actor_email, e.after["answers"]) for e in entries] == [
        ("retention.anonymise", "system:retention", 1)
    ]


def test_delete_removes_old_answers_only(session: Session) -> None:
    wall = _campaign_wall(session, RetentionAction.DELETE, months=6)
    old = make_answer(session, wall, created_at=NOW - timedelta(days=200))
    recent = make_answer(session, wall, created_at=NOW - timedelta(days=100))
    session.add(Reaction(answer_id=old.id, wall_id=old.wall_id, device_key="cookie-of-a-phone"))
    session.commit()
    report = run_retention(session, now=NOW)
    assert report.deleted == 1
    session.expire_all()
    assert session.get(Answer, old.id) is None and session.get(Answer, recent.id) is not None
    assert session.scalar(select(func.count()).select_from(Reaction)) == 0
    assert run_retention(session, now=NOW).deleted == 0


def test_campaigns_without_retention_are_left_alone(session: Session) -> None:
    wall = _campaign_wall(session, RetentionAction.DELETE, months=None)
    answer = make_answer(session, wall, created_at=NOW - timedelta(days=4000), role="parent")
    report = run_retention(session, now=NOW)
    assert report.campaigns == []
    session.expire_all()
    assert session.get(Answer, answer.id).role == "parent"


def test_dry_run_changes_nothing(session: Session) -> None:
    wall = _campaign_wall(session, RetentionAction.DELETE, months=1)
    make_answer(session, wall, created_at=NOW - timedelta(days=60))
    report = run_retention(session, now=NOW, dry_run=True)
    assert report.deleted == 1
    assert session.scalar(select(func.count()).select_from(Answer)) == 1


def test_retention_run_command(runner: FlaskCliRunner, session: Session) -> None:
    wall = _campaign_wall(session, RetentionAction.ANONYMISE, months=1)
    make_answer(session, wall, created_at=utcnow() - timedelta(days=90), area="Rønne")
    dry = runner.invoke(args=["retention", "run", "--dry-run"])
    assert dry.exit_code == 0, dry.output
    assert "Would anonymise 1 and delete 0 answers" in dry.output
    result = runner.invoke(args=["retention", "run"])
    assert result.exit_code == 0, result.output
    assert "Did anonymise 1 and delete 0 answers in 1 campaigns" in result.output
    assert "Did anonymise 0" in runner.invoke(args=["retention", "run"]).output
    session.expire_all()
    assert session.scalars(select(Answer)).one().area is None


def test_deleted_answers_no_longer_name_a_theme(session: Session) -> None:
    from surveys.models import ThemeRun
    from surveys.themes import Scope, build_themes

    wall = _campaign_wall(session, RetentionAction.DELETE, months=6)
    texts = ["Svømmehallen skal have længere åbningstid"] * 3 + ["Legepladsen er for lille"] * 3
    for text in texts:
        make_answer(session, wall, text, created_at=NOW - timedelta(days=100))
    for _ in range(3):  # old answers: they name a theme until retention deletes them
        make_answer(
            session,
            wall,
            "Bussen til Rønne kører for sjældent",
            created_at=NOW - timedelta(days=200),
        )
    run = build_themes(session, Scope(wall.campaign_id), n_themes=3)
    assert any("bus" in t.label for t in run.themes)

    run_retention(session, now=NOW)

    session.expire_all()
    themes = session.get(ThemeRun, run.id).themes
    assert not any("bus" in t.label or "bussen" in t.terms for t in themes)
    assert sum(t.size for t in themes) <= 6
