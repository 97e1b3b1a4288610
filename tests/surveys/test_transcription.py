"""Typing in paper answers: batches, the guard and moderation, idempotency, corrections."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from surveys import transcription
from surveys.errors import Conflict, InvalidInput, NotFound
from surveys.models import Answer, AnswerStatus, AuditEntry, Channel, Moderation, Wall
from tests.factories import make_answer, make_staff, make_wall


def _batch(session: Session, **wall_fields: object) -> tuple[Wall, transcription.Batch, object]:
    wall = make_wall(session, **wall_fields)
    staff = make_staff(session, wall.campaign.organisation, "moderator")
    batch = transcription.make_batch(
        session,
        staff,
        wall,
        prompt_id=wall.prompts[1].id,
        place="  Ungdomsklubben\n Vestergade ",
        written_on=date(2025, 5, 24),
        profile={"role": "young", "area": "Nexø"},
    )
    return wall, batch, staff


def test_a_note_is_stored_as_paper_with_the_batch_values(session: Session) -> None:
    wall, batch, staff = _batch(session)
    result = transcription.transcribe(session, staff, batch, " Flere  bænke ", "note-00000001")
    assert result.created and not result.duplicate
    answer = result.answer
    assert (answer.text, answer.channel, answer.prompt_id) == (
        "Flere bænke",
        Channel.PAPER,
        wall.prompts[1].id,
    )
    assert (answer.place, answer.written_on) == ("Ungdomsklubben Vestergade", date(2025, 5, 24))
    assert answer.profile == {"role": "young", "area": "Nexø"}
    assert answer.created_at == datetime(2025, 5, 24, 10, tzinfo=UTC)
    assert answer.status is AnswerStatus.PENDING  # pre-moderated wall
    entry = session.scalars(select(AuditEntry)).one()
    assert (entry.action, entry.actor_id, entry.target_id) == (
        "answer.transcribe",
        staff.id,
        answer.id,
    )


def test_guard_and_moderation_apply_as_on_the_web(session: Session) -> None:
    _wall, batch, staff = _batch(session, moderation=Moderation.POST)
    clean = transcription.transcribe(session, staff, batch, "Flere bænke", "note-00000001")
    flagged = transcription.transcribe(
        session, staff, batch, "Skriv til mig på anna@example.dk", "note-00000002"
    )
    assert clean.answer.status is AnswerStatus.APPROVED
    assert flagged.answer.status is AnswerStatus.PENDING
    assert [f["kind"] for f in flagged.answer.pii_findings] == ["email"]


def test_pressing_enter_twice_stores_one_note(session: Session) -> None:
    _wall, batch, staff = _batch(session)
    first = transcription.transcribe(session, staff, batch, "Flere bænke", "note-00000001")
    again = transcription.transcribe(session, staff, batch, "Flere bænke", "note-00000001")
    assert (again.created, again.answer.id) == (False, first.answer.id)
    with pytest.raises(Conflict):
        transcription.transcribe(session, staff, batch, "Noget andet", "note-00000001")
    assert session.scalar(select(func.count()).select_from(Answer)) == 1


def test_same_text_same_day_is_saved_but_marked(session: Session) -> None:
    wall, batch, staff = _batch(session)
    make_answer(session, wall, "flere BÆNKE", written_on=date(2025, 5, 24), channel=Channel.PAPER)
    result = transcription.transcribe(session, staff, batch, "Flere bænke", "note-00000001")
    assert result.created and result.duplicate
    other_day = transcription.Batch(wall, batch.prompt, written_on=date(2025, 5, 25))
    assert not transcription.transcribe(
        session, staff, other_day, "Flere bænke", "note-00000002"
    ).duplicate


def test_batch_validation(session: Session) -> None:
    wall = make_wall(session, profile_questions=["role"])
    staff = make_staff(session, wall.campaign.organisation, "moderator")
    stranger = make_staff(session, role="admin")
    other_wall = make_wall(session)
    with pytest.raises(NotFound):
        transcription.make_batch(session, stranger, wall, prompt_id=wall.prompts[0].id)
    with pytest.raises(InvalidInput):
        transcription.make_batch(session, staff, wall, prompt_id=other_wall.prompts[0].id)
    with pytest.raises(InvalidInput) as future:
        transcription.make_batch(
            session, staff, wall, prompt_id=wall.prompts[0].id, written_on=date(2999, 1, 1)
        )
    assert future.value.code == "invalid_date"
    with pytest.raises(InvalidInput):
        transcription.make_batch(
            session, staff, wall, prompt_id=wall.prompts[0].id, profile={"area": "Rønne"}
        )
    with pytest.raises(InvalidInput):
        transcription.make_batch(
            session, staff, wall, prompt_id=wall.prompts[0].id, place="x" * 201
        )


def test_a_closed_wall_still_takes_its_paper_notes(session: Session) -> None:
    past = datetime(2025, 1, 1, tzinfo=UTC)
    _wall, batch, staff = _batch(session, opens_at=past - timedelta(days=30), closes_at=past)
    assert transcription.transcribe(session, staff, batch, "Sent men godt", "note-00000001").created


def test_recent_correct_and_delete_own_notes_only(session: Session) -> None:
    wall, batch, staff = _batch(session, moderation=Moderation.POST)
    colleague = make_staff(session, wall.campaign.organisation, "moderator")
    ids = [
        transcription.transcribe(session, staff, batch, f"Seddel {i}", f"note-0000000{i}").answer.id
        for i in range(3)
    ]
    assert [a.id for a in transcription.recent(session, staff, wall)] == ids[::-1]
    assert transcription.recent(session, colleague, wall) == []

    corrected = transcription.correct(session, staff, ids[0], "Ring på 22 33 44 55")
    assert corrected.text == "Ring på 22 33 44 55"
    assert corrected.status is AnswerStatus.PENDING  # the guard ran again
    with pytest.raises(NotFound):
        transcription.correct(session, colleague, ids[1], "Ændret")
    with pytest.raises(NotFound):  # after the correction window
        transcription.correct(
            session, staff, ids[1], "Ændret", now=datetime.now(UTC) + timedelta(hours=13)
        )

    transcription.delete(session, staff, ids[2])
    assert session.get(Answer, ids[2]) is None
    assert [a.id for a in transcription.recent(session, staff, wall)] == [ids[1], ids[0]]
    actions = session.scalars(select(AuditEntry.action).order_by(AuditEntry.id)).all()
    assert actions[-2:] == ["answer.transcription_corrected", "answer.transcription_deleted"]
