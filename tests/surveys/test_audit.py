"""The audit log: who, what, when, before/after; never citizens' texts."""

from __future__ import annotations

import enum
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from surveys import accounts, audit, campaigns, moderation
from surveys.campaigns import CampaignInput
from surveys.models import (
    AnswerStatus,
    AuditEntry,
    KioskDevice,
    RetentionAction,
    StaffRole,
    StaffUser,
    Wall,
    WallReply,
)
from tests.factories import make_answer, make_organisation, make_staff, make_wall


class Colour(enum.Enum):
    RED = "red"


def test_snapshot_and_changed_are_json_ready() -> None:
    class Thing:
        colour = Colour.RED
        when = datetime(2026, 1, 2, 3, 4, tzinfo=UTC)
        names = ("a", "b")
        size = 3

    snap = audit.snapshot(Thing(), ("colour", "when", "names", "size"))
    assert snap == {
        "colour": "red",
        "when": "2026-01-02T03:04:00+00:00",
        "names": ["a", "b"],
        "size": 3,
    }
    assert audit.changed({"a": 1, "b": 2}, {"a": 1, "b": 3}) == ({"b": 2}, {"b": 3})


def test_record_is_committed_with_the_change(session: Session) -> None:
    admin = make_staff(session)
    entry = audit.record(
        session,
        organisation_id=admin.organisation_id,
        actor=admin,
        action="test.thing",
        target_type="thing",
        target_id=7,
        before={"x": 1},
        after={"x": 2},
    )
    session.rollback()  # not committed by record() itself
    assert session.scalars(select(AuditEntry)).all() == []
    entry = audit.record(
        session,
        organisation_id=admin.organisation_id,
        actor=admin,
        action="test.thing",
        target_type="thing",
        target_id=7,
        before={"x": 1},
        after={"x": 2},
    )
    session.commit()
    session.expire_all()
    stored = session.get(AuditEntry, entry.id)
    assert (stored.actor_id, stored.actor_email, stored.action) == (
        admin.id,
        admin.email,
        "test.thing",
    )
    assert (stored.before, stored.after, stored.target_id) == ({"x": 1}, {"x": 2}, 7)
    assert stored.created_at is not None


def test_entries_are_per_organisation_and_filterable(session: Session) -> None:
    admin = make_staff(session)
    other = make_staff(session, make_organisation(session))
    for actor, action in [
        (admin, "answer.approve"),
        (admin, "wall.update"),
        (other, "answer.approve"),
        (admin, "answer_x"),
    ]:
        audit.record(session, organisation_id=actor.organisation_id, actor=actor, action=action)
    session.commit()
    mine = session.scalars(audit.entries(admin.organisation_id)).all()
    assert [e.action for e in mine] == ["answer_x", "wall.update", "answer.approve"]
    prefixed = session.scalars(audit.entries(admin.organisation_id, action_prefix="answer.")).all()
    assert [e.action for e in prefixed] == ["answer.approve"]  # "_" and "%" are literal
    by_actor = session.scalars(audit.entries(other.organisation_id, actor_id=other.id)).all()
    assert [e.action for e in by_actor] == ["answer.approve"]


def test_campaign_edit_is_audited_with_before_and_after(session: Session) -> None:
    manager = make_staff(session, role="manager")
    campaign = campaigns.create_campaign(
        session, manager, CampaignInput(slug="boern-2026", title="Børn 2026")
    )
    campaigns.update_campaign(
        session,
        manager,
        campaign,
        CampaignInput(
            slug="boern-2026",
            title="Børneliv 2026",
            retention_months=24,
            retention_action=RetentionAction.DELETE,
        ),
    )
    entries = session.scalars(select(AuditEntry).order_by(AuditEntry.id)).all()
    assert [e.action for e in entries] == ["campaign.create", "campaign.update"]
    assert entries[1].before == {
        "title": "Børn 2026",
        "retention_months": None,
        "retention_action": "anonymise",
    }
    assert entries[1].after == {
        "title": "Børneliv 2026",
        "retention_months": 24,
        "retention_action": "delete",
    }
    assert entries[1].actor_email == manager.email


def test_moderation_never_copies_the_answer_text(session: Session) -> None:
    wall = make_wall(session)
    moderator = make_staff(session, wall.campaign.organisation, "moderator")
    secret = "Min datter Sofie går på Rønne Skole, ring 22 33 44 55"
    answer = make_answer(session, wall, secret, status=AnswerStatus.PENDING)
    moderation.redact_all_findings(session, moderator, answer)
    moderation.set_status(session, moderator, [answer], AnswerStatus.APPROVED)
    logged = " ".join(f"{e.before} {e.after}" for e in session.scalars(select(AuditEntry)))
    for piece in ("Sofie", "22 33", "Rønne Skole", "datter"):
        assert piece not in logged


class AuditDown(Exception):
    """The audit write failed (a full disk, a lost connection)."""


def _add_device(session: Session, manager: StaffUser, wall: Wall) -> None:
    campaigns.add_device(session, manager, wall, "Biblioteket")


def _revoke_device(session: Session, manager: StaffUser, wall: Wall) -> None:
    device = KioskDevice(wall_id=wall.id, name="Tablet", token="tok-0123456789abcdef")
    session.add(device)
    session.commit()
    campaigns.revoke_device(session, manager, device)


def _add_reply(session: Session, manager: StaffUser, wall: Wall) -> None:
    campaigns.add_reply(session, manager, wall, "Vi sætter bænke op i maj")


def _hide_reply(session: Session, manager: StaffUser, wall: Wall) -> None:
    reply = WallReply(wall_id=wall.id, text="Tak")
    session.add(reply)
    session.commit()
    campaigns.hide_reply(session, manager, reply)


def _create_user(session: Session, manager: StaffUser, wall: Wall) -> None:
    accounts.create_user(session, manager, "ny@kommune.dk", StaffRole.VIEWER, "Ny")


def _stored(session: Session) -> dict[str, Any]:
    return {
        "devices": session.scalar(select(func.count()).select_from(KioskDevice)),
        "revoked": session.scalar(select(func.count()).where(KioskDevice.revoked_at.is_not(None))),
        "replies": session.scalar(select(func.count()).select_from(WallReply)),
        "hidden": session.scalar(select(func.count()).where(WallReply.is_hidden)),
        "users": session.scalar(select(func.count()).select_from(StaffUser)),
    }


@pytest.mark.parametrize(
    "change", [_add_device, _revoke_device, _add_reply, _hide_reply, _create_user]
)
def test_a_change_is_not_stored_when_its_audit_entry_fails(
    session: Session,
    monkeypatch: pytest.MonkeyPatch,
    change: Callable[[Session, StaffUser, Wall], None],
) -> None:
    """A change and its audit row are one transaction: no audit entry, no change."""
    wall = make_wall(session)
    manager = make_staff(session, wall.campaign.organisation, "admin")

    def failing_record(*args: Any, **kwargs: Any) -> AuditEntry:
        raise AuditDown

    monkeypatch.setattr(audit, "record", failing_record)
    before = _stored(session)
    with pytest.raises(AuditDown):
        change(session, manager, wall)
    session.rollback()  # what the request's teardown does after an error
    after = _stored(session)
    # The rows the test set up itself (one device or reply) were committed before the change.
    assert {key: after[key] - before[key] for key in after} == {
        "devices": 1 if change is _revoke_device else 0,
        "revoked": 0,
        "replies": 1 if change is _hide_reply else 0,
        "hidden": 0,
        "users": 0,
    }
    assert session.scalars(select(AuditEntry)).all() == []
