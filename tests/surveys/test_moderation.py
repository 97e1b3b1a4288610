"""Moderation: the queue, approve/hide in bulk, guard highlights and redaction."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from surveys import moderation
from surveys.errors import Conflict, InvalidInput, NotFound
from surveys.models import Answer, AnswerStatus, AuditEntry, utcnow
from surveys.moderation import QueueFilter
from surveys.privacy import Finding
from surveys.reads import wall_notes
from tests.factories import make_answer, make_organisation, make_staff, make_wall

PHONE_TEXT = "Ring til mig på 22 33 44 55 hvis I vil vide mere"


def _ids(session: Session, stmt) -> list[int]:
    return [a.id for a in session.scalars(stmt)]


def test_queue_filters_by_campaign_wall_prompt_status_and_flag(session: Session) -> None:
    org = make_organisation(session)
    wall = make_wall(session, organisation=org)
    other_wall = make_wall(session, campaign=wall.campaign)
    second_campaign_wall = make_wall(session, organisation=org)
    now = utcnow()
    first = make_answer(session, wall, status=AnswerStatus.PENDING, created_at=now)
    older = make_answer(
        session,
        wall,
        status=AnswerStatus.PENDING,
        created_at=now - timedelta(hours=1),
        prompt=wall.prompts[1],
    )
    flagged = make_answer(
        session,
        other_wall,
        PHONE_TEXT,
        status=AnswerStatus.PENDING,
        pii_findings=[{"kind": "phone", "start": 16, "end": 27}],
    )
    approved = make_answer(session, wall)
    elsewhere = make_answer(session, second_campaign_wall, status=AnswerStatus.PENDING)
    foreign = make_answer(session, make_wall(session), status=AnswerStatus.PENDING)

    everything = _ids(session, moderation.queue(org.id))
    assert everything == [older.id, first.id, flagged.id, elsewhere.id]  # oldest first
    assert foreign.id not in everything
    by_campaign = moderation.queue(org.id, QueueFilter(campaign_id=wall.campaign_id))
    assert set(_ids(session, by_campaign)) == {older.id, first.id, flagged.id}
    assert _ids(session, moderation.queue(org.id, QueueFilter(wall_id=wall.id))) == [
        older.id,
        first.id,
    ]
    by_prompt = moderation.queue(org.id, QueueFilter(prompt_id=wall.prompts[1].id))
    assert _ids(session, by_prompt) == [older.id]
    assert _ids(session, moderation.queue(org.id, QueueFilter(flagged_only=True))) == [flagged.id]
    approved_only = moderation.queue(org.id, QueueFilter(status=AnswerStatus.APPROVED))
    assert _ids(session, approved_only) == [approved.id]
    assert len(_ids(session, moderation.queue(org.id, QueueFilter(status=None)))) == 5

    counts = moderation.queue_counts(session, org.id, QueueFilter(campaign_id=wall.campaign_id))
    assert counts == {"pending": 3, "approved": 1, "hidden": 0, "flagged": 1}


def test_get_answer_is_scoped_to_the_organisation(session: Session) -> None:
    wall = make_wall(session)
    answer = make_answer(session, wall)
    organisation_id = wall.campaign.organisation_id
    assert moderation.get_answer(session, organisation_id, answer.id) is answer
    other = make_organisation(session)
    with pytest.raises(NotFound):
        moderation.get_answer(session, other.id, answer.id)
    with pytest.raises(NotFound):
        moderation.get_answers(session, other.id, [answer.id])
    with pytest.raises(NotFound):
        moderation.get_answer(session, organisation_id, 999_999)


def test_set_status_records_who_and_when(session: Session) -> None:
    wall = make_wall(session)
    moderator = make_staff(session, wall.campaign.organisation, "moderator")
    answer = make_answer(session, wall, status=AnswerStatus.PENDING)
    result = moderation.set_status(session, moderator, [answer], AnswerStatus.APPROVED)
    assert result.changed == [answer.id]
    assert answer.status is AnswerStatus.APPROVED
    assert answer.moderated_by_id == moderator.id and answer.moderated_at is not None
    again = moderation.set_status(session, moderator, [answer], AnswerStatus.APPROVED)
    assert again.unchanged == [answer.id]
    moderation.set_status(session, moderator, [answer], AnswerStatus.HIDDEN)
    entries = list(session.scalars(select(AuditEntry).order_by(AuditEntry.id)))
    assert [(e.action, e.before, e.after) for e in entries] == [
        ("answer.approve", {"status": "pending"}, {"status": "approved", "flagged": False}),
        ("answer.hide", {"status": "approved"}, {"status": "hidden", "flagged": False}),
    ]
    assert all(e.actor_id == moderator.id and e.target_id == answer.id for e in entries)


def test_bulk_approval_skips_flagged_answers(session: Session) -> None:
    wall = make_wall(session)
    moderator = make_staff(session, wall.campaign.organisation, "moderator")
    clean = make_answer(session, wall, status=AnswerStatus.PENDING)
    flagged = make_answer(
        session,
        wall,
        PHONE_TEXT,
        status=AnswerStatus.PENDING,
        pii_findings=[{"kind": "phone", "start": 16, "end": 27}],
    )
    result = moderation.set_status(
        session, moderator, [clean, flagged], AnswerStatus.APPROVED, approve_flagged=False
    )
    assert result.changed == [clean.id] and result.skipped_flagged == [flagged.id]
    assert flagged.status is AnswerStatus.PENDING
    # Hiding in bulk is always allowed; approving one by one after looking is too.
    moderation.set_status(session, moderator, [flagged], AnswerStatus.APPROVED)
    assert flagged.status is AnswerStatus.APPROVED


def test_a_moderator_cannot_moderate_another_organisations_answer(session: Session) -> None:
    answer = make_answer(session, make_wall(session), status=AnswerStatus.PENDING)
    stranger = make_staff(session, make_organisation(session), "moderator")
    with pytest.raises(NotFound):
        moderation.set_status(session, stranger, [answer], AnswerStatus.APPROVED)
    with pytest.raises(NotFound):
        moderation.redact_answer(session, stranger, answer, [(0, 4)])
    session.refresh(answer)
    assert answer.status is AnswerStatus.PENDING


def test_display_findings_merge_stored_and_fresh_ones() -> None:
    answer = Answer(
        text="Skriv til anne@example.dk eller ring 22 33 44 55",
        pii_findings=[
            {"kind": "email", "start": 10, "end": 25},
            {"kind": "bogus", "start": 40, "end": 999},  # out of range: ignored
            {"start": 1},  # malformed: ignored
        ],
    )
    found = moderation.display_findings(answer)
    assert [(f.kind, f.text) for f in found] == [
        ("email", "anne@example.dk"),
        ("phone", "22 33 44 55"),
    ]


def test_segments_cover_the_text() -> None:
    text = "Min søn Emil er 7"
    pieces = moderation.segments(text, [Finding("name", 8, 12, "Emil")])
    assert "".join(p.text for p in pieces) == text
    assert [(p.text, p.finding is not None) for p in pieces] == [
        ("Min søn ", False),
        ("Emil", True),
        (" er 7", False),
    ]


def test_redaction_removes_the_span_for_good(session: Session) -> None:
    wall = make_wall(session)
    moderator = make_staff(session, wall.campaign.organisation, "moderator")
    answer = make_answer(
        session,
        wall,
        PHONE_TEXT,
        status=AnswerStatus.PENDING,
        pii_findings=[{"kind": "phone", "start": 16, "end": 27}],
    )
    fingerprint = moderation.text_fingerprint(answer.text)
    moderation.redact_answer(session, moderator, answer, [(16, 27)], fingerprint=fingerprint)
    moderation.set_status(session, moderator, [answer], AnswerStatus.APPROVED)

    session.expire_all()
    stored = session.get(Answer, answer.id)
    assert stored.text == "Ring til mig på [fjernet] hvis I vil vide mere"
    assert stored.pii_findings == [] and stored.redacted_at is not None
    public = wall_notes(session, wall.id, limit=10)
    assert [n.text for n in public.notes] == [stored.text]
    # The audit log knows that something was removed, and where, but not what.
    entry = session.scalars(select(AuditEntry).where(AuditEntry.action == "answer.redact")).one()
    assert entry.after["spans"] == [[16, 27]] and entry.after["kinds"] == ["phone"]
    assert "22" not in str(entry.before) + str(entry.after)


def test_redaction_checks_spans_and_fingerprint(session: Session) -> None:
    wall = make_wall(session)
    moderator = make_staff(session, wall.campaign.organisation, "moderator")
    answer = make_answer(session, wall, "Hej med jer", status=AnswerStatus.PENDING)
    with pytest.raises(Conflict):
        moderation.redact_answer(session, moderator, answer, [(0, 3)], fingerprint="stale")
    for spans in ([], [(5, 3)], [(0, 99)], [(-1, 2)]):
        with pytest.raises(InvalidInput):
            moderation.redact_answer(session, moderator, answer, spans)
    assert answer.text == "Hej med jer"
    with pytest.raises(InvalidInput):
        moderation.redact_all_findings(session, moderator, answer)


def test_redact_all_findings_rechecks_the_new_text(session: Session) -> None:
    wall = make_wall(session)
    moderator = make_staff(session, wall.campaign.organisation, "moderator")
    answer = make_answer(
        session, wall, "Mail anne@example.dk eller ring 22 33 44 55", status=AnswerStatus.PENDING
    )
    moderation.redact_all_findings(session, moderator, answer)
    assert answer.text == "Mail [fjernet] eller ring [fjernet]"
    assert answer.pii_findings == []
    assert not moderation.display_findings(answer)
