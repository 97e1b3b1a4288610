"""Answers that arrive late from an outbox: written before the wall closed or the kiosk was
switched off, sent once the device is back online (issue 20, "lost answers")."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy.orm import Session

from surveys import answers
from surveys.answers import LATE_ANSWER_GRACE, WRITTEN_AT_CLOCK_SKEW
from surveys.errors import DeviceRevoked, InvalidInput, WallClosed, WallNotOpen
from surveys.kiosk import create_device, revoke_device
from surveys.models import AnswerStatus, Channel, KioskDevice, Moderation, Wall
from tests.factories import count_answers, make_wall, submit

CLOSED = datetime(2026, 12, 7, 12, 0, tzinfo=UTC)
OPENED = CLOSED - timedelta(days=7)


def _closed_wall(session: Session, **fields: object) -> Wall:
    """A post-moderated wall that was open for a week until ``CLOSED``."""
    return make_wall(
        session, moderation=Moderation.POST, opens_at=OPENED, closes_at=CLOSED, **fields
    )


def _iso(moment: datetime) -> str:
    return moment.isoformat()


def test_an_answer_written_before_the_close_is_accepted_within_the_grace_period(
    session: Session,
) -> None:
    wall = _closed_wall(session)
    written = CLOSED - timedelta(minutes=10)
    arrives = CLOSED + LATE_ANSWER_GRACE - timedelta(minutes=1)
    result = submit(session, wall, written_at=_iso(written), now=arrives)
    assert result.created
    answer = result.answer
    # Held for a moderator although the wall publishes at once, and the time it was written
    # is kept beside the time it arrived.
    assert answer.status is AnswerStatus.PENDING
    assert answer.written_at == written
    assert answer.created_at == arrives
    # Its outbox sends it again (the reply was lost): the same answer, not a second one.
    again = submit(session, wall, written_at=_iso(written), now=arrives + timedelta(hours=2))
    assert not again.created and again.answer.id == answer.id
    assert count_answers(session) == 1


@pytest.mark.parametrize(
    ("written", "arrives"),
    [
        # after the grace period
        (CLOSED - timedelta(minutes=10), CLOSED + LATE_ANSWER_GRACE),
        # written after the close
        (CLOSED + timedelta(seconds=1), CLOSED + timedelta(minutes=1)),
        # written before the wall opened
        (OPENED - timedelta(minutes=1), CLOSED + timedelta(minutes=1)),
        # no time given
        (None, CLOSED + timedelta(minutes=1)),
        # "written" in the future: the device's clock is wrong, the time proves nothing
        (CLOSED + timedelta(minutes=10), CLOSED + timedelta(minutes=1)),
    ],
)
def test_a_closed_wall_refuses_answers_not_written_in_time(
    session: Session, written: datetime | None, arrives: datetime
) -> None:
    wall = _closed_wall(session)
    with pytest.raises(WallClosed):
        submit(session, wall, written_at=written and _iso(written), now=arrives)
    assert count_answers(session) == 0


def test_a_wall_that_has_not_opened_yet_takes_nothing_whatever_the_written_time(
    session: Session,
) -> None:
    wall = _closed_wall(session)
    before = OPENED - timedelta(hours=1)
    with pytest.raises(WallNotOpen):
        submit(session, wall, written_at=_iso(before - timedelta(minutes=1)), now=before)
    with pytest.raises(WallNotOpen):
        submit(session, wall, written_at=_iso(before + timedelta(minutes=4)), now=before)
    assert count_answers(session) == 0


def test_written_at_on_an_open_wall_changes_nothing(session: Session) -> None:
    wall = _closed_wall(session)
    now = CLOSED - timedelta(hours=1)
    result = submit(session, wall, written_at=_iso(now - timedelta(hours=3)), now=now)
    assert result.answer.status is AnswerStatus.APPROVED
    assert result.answer.written_at is None
    # A fast clock is ignored, not an error: the answer is stored as usual.
    ahead = submit(
        session,
        wall,
        client_submission_id="abcdefgh-0002",
        written_at=_iso(now + WRITTEN_AT_CLOCK_SKEW + timedelta(minutes=1)),
        now=now,
    )
    assert ahead.created and ahead.answer.written_at is None


def test_written_at_in_another_time_zone_and_with_z(session: Session) -> None:
    wall = _closed_wall(session)
    arrives = CLOSED + timedelta(hours=1)
    copenhagen = submit(session, wall, written_at="2026-12-07T12:59:00+01:00", now=arrives)
    assert copenhagen.answer.written_at == CLOSED - timedelta(minutes=1)
    utc = submit(
        session,
        wall,
        client_submission_id="abcdefgh-0002",
        written_at="2026-12-07T11:58:00.000Z",
        now=arrives,
    )
    assert utc.answer.written_at == CLOSED - timedelta(minutes=2)


@pytest.mark.parametrize(
    "written_at",
    [
        "",
        "yesterday",
        "2026-12-07T11:00:00",  # no offset: whose time?
        "2026-12-07",
        "2026-13-01T00:00:00Z",
        "0001-01-01T00:00:00+01:00",
        "2026-12-07T11:00:00+01:00" + " " * 40,
        1796641200,
        ["2026-12-07T11:00:00Z"],
    ],
)
def test_an_unreadable_written_at_is_a_clear_400(session: Session, written_at: object) -> None:
    wall = _closed_wall(session)
    with pytest.raises(InvalidInput) as raised:
        submit(session, wall, written_at=written_at, now=CLOSED - timedelta(hours=1))
    assert raised.value.code == "invalid_written_at"
    assert raised.value.status == 400


# --- kiosk devices switched off while their outbox still held answers ---


def _kiosk(session: Session) -> KioskDevice:
    wall = make_wall(session, moderation=Moderation.POST)
    return create_device(session, wall, "Biblioteket")


def _kiosk_answer(device: KioskDevice, session: Session, **fields: object) -> object:
    values: dict[str, object] = {
        "prompt_id": device.wall.prompts[0].id,
        "text": "Læsehjørne med puder",
        "client_submission_id": "kiosk-late-0001",
    }
    values.update(fields)
    return answers.submit_answer(
        session,
        device.wall,
        channel=Channel.KIOSK,
        device=device,
        **values,  # type: ignore[arg-type]
    )


def test_a_revoked_kiosk_answer_written_before_is_accepted_within_the_grace_period(
    session: Session,
) -> None:
    device = _kiosk(session)
    written = datetime.now(UTC) - timedelta(hours=5)
    revoke_device(session, device)
    assert device.revoked_at is not None
    result = _kiosk_answer(device, session, written_at=_iso(written))
    assert isinstance(result, answers.SubmitResult) and result.created
    assert result.answer.status is AnswerStatus.PENDING
    assert result.answer.device_id == device.id
    assert result.answer.written_at == written
    assert device.last_seen_at is None  # a switched-off device is not "seen"


def test_a_revoked_kiosk_gets_its_stored_answer_back_not_410(session: Session) -> None:
    device = _kiosk(session)
    stored = _kiosk_answer(device, session)
    revoke_device(session, device)
    # The retry of an answer stored before (its reply was lost) needs no written_at.
    again = _kiosk_answer(device, session)
    assert isinstance(again, answers.SubmitResult) and isinstance(stored, answers.SubmitResult)
    assert not again.created and again.answer.id == stored.answer.id


def test_a_revoked_kiosk_is_refused_after_the_grace_period_or_for_new_answers(
    session: Session,
) -> None:
    device = _kiosk(session)
    revoke_device(session, device)
    assert device.revoked_at is not None
    revoked = device.revoked_at
    for written, arrives in (
        (revoked - timedelta(minutes=1), revoked + LATE_ANSWER_GRACE + timedelta(seconds=1)),
        (revoked + timedelta(seconds=1), revoked + timedelta(minutes=1)),
        (None, revoked + timedelta(minutes=1)),
    ):
        with pytest.raises(DeviceRevoked) as raised:
            _kiosk_answer(device, session, written_at=written and _iso(written), now=arrives)
        assert raised.value.status == 410
    assert count_answers(session) == 0


def test_a_kiosk_answer_needs_both_the_wall_and_the_device_in_time(session: Session) -> None:
    device = _kiosk(session)
    wall = device.wall
    now = datetime.now(UTC)
    wall.closes_at = now - timedelta(hours=2)
    session.commit()
    revoke_device(session, device)
    # Written after the wall closed (though before the kiosk was switched off): refused.
    with pytest.raises(WallClosed):
        _kiosk_answer(device, session, written_at=_iso(now - timedelta(hours=1)))
    accepted = _kiosk_answer(device, session, written_at=_iso(now - timedelta(hours=3)))
    assert isinstance(accepted, answers.SubmitResult) and accepted.created


# --- client_submission_id is matched whole ---


@pytest.mark.parametrize("submission_id", ["abcdefgh\n", "abcdefgh\r\n", "abcdefgh\x00"])
def test_a_submission_id_with_a_trailing_newline_is_refused(
    session: Session, submission_id: str
) -> None:
    wall = make_wall(session)
    with pytest.raises(InvalidInput) as raised:
        submit(session, wall, client_submission_id=submission_id)
    assert raised.value.code == "invalid_submission_id"
    assert count_answers(session) == 0
