"""Storing answers once and their validation (surveys.answers), reactions, staff users."""

from __future__ import annotations

import threading
import time
from datetime import timedelta

import pytest
from sqlalchemy import Engine, text
from sqlalchemy.orm import Session

from surveys import accounts, answers, reactions
from surveys.db import make_engine, make_session_factory
from surveys.errors import (
    Conflict,
    DeviceRevoked,
    InvalidInput,
    NotFound,
    WallClosed,
    WallNotOpen,
)
from surveys.models import (
    Answer,
    AnswerStatus,
    Channel,
    Moderation,
    Organisation,
    StaffRole,
    utcnow,
)
from surveys.passwords import verify_password
from tests.factories import (
    count_answers,
    make_answer,
    make_organisation,
    make_wall,
    record_statements,
    run_in_threads,
    submit,
)


def test_submit_stores_answer_pending_on_pre_moderated_wall(session: Session) -> None:
    wall = make_wall(session)
    result = submit(session, wall, profile={"role": "parent", "area": "Nexø"})
    assert result.created
    stored = session.get(Answer, result.answer.id)
    assert stored is not None
    assert stored.text == "Flere bænke ved legepladsen"
    assert stored.status is AnswerStatus.PENDING
    assert stored.channel is Channel.WEB
    assert stored.profile == {"role": "parent", "area": "Nexø"}
    assert stored.created_at.tzinfo is not None


def test_a_new_answer_is_one_insert_and_the_returned_object_is_complete(
    session: Session,
) -> None:
    wall = make_wall(session, moderation=Moderation.POST)
    statements = record_statements(session.get_bind())
    answer = submit(session, wall, profile={"role": "parent"}).answer
    assert [s.split()[0] for s in statements if not s.startswith("SELECT")] == ["INSERT"]
    statements.clear()
    # Every column is known on the returned object: reading it asks the database nothing.
    values = {column.key: getattr(answer, column.key) for column in Answer.__table__.columns}
    assert statements == []
    assert not session.new and not session.dirty
    assert values["id"] == answer.id and values["role"] == "parent"
    assert values["status"] is AnswerStatus.APPROVED and values["pii_findings"] == []
    assert values["moderated_at"] is None and values["place"] is None
    session.expire_all()
    stored = session.get(Answer, answer.id)
    assert {column.key: getattr(stored, column.key) for column in Answer.__table__.columns} == (
        values
    )
    assert stored.wall.id == wall.id and stored.prompt.id == wall.prompts[0].id


def test_the_columns_defaults_apply_to_what_the_service_leaves_unset(session: Session) -> None:
    """The answer is an ORM object: a column with a default (a new one too) gets it, instead
    of every answer being refused for want of a value (issue 23)."""
    wall = make_wall(session)
    answer, created = answers.add_once(
        session,
        Answer(
            wall_id=wall.id,
            prompt_id=wall.prompts[0].id,
            text="Flere bænke",
            channel=Channel.WEB,
            client_submission_id="defaults-0001",
        ),
    )
    session.commit()
    assert created
    session.expire_all()
    stored = session.get(Answer, answer.id)
    assert stored is not None
    assert stored.status is AnswerStatus.PENDING and stored.pii_findings == []
    assert stored.created_at is not None
    with pytest.raises(TypeError):  # a value for no column is a programming error
        Answer(colour="blå")


def test_an_answer_is_stored_while_the_session_has_writes_of_its_own_open(
    session: Session, elsewhere: Engine
) -> None:
    """The answer is committed with what the session had written before (one transaction)."""
    wall = make_wall(session)
    session.add(Organisation(slug="aaben", name="Åben transaktion"))
    session.flush()
    started = time.monotonic()
    assert submit(session, wall).created
    assert time.monotonic() - started < 5
    assert count_answers(session) == 1
    with elsewhere.connect() as connection:
        assert connection.scalar(text("SELECT name FROM organisation WHERE slug = 'aaben'"))


def test_post_moderated_wall_publishes_at_once(session: Session) -> None:
    wall = make_wall(session, moderation=Moderation.POST)
    assert submit(session, wall).answer.status is AnswerStatus.APPROVED


def test_retry_with_same_submission_id_returns_same_answer(session: Session) -> None:
    wall = make_wall(session)
    first = submit(session, wall)
    again = submit(session, wall, text="  Flere bænke ved legepladsen \n")
    assert not again.created
    assert again.answer.id == first.answer.id
    assert count_answers(session) == 1


def test_reused_submission_id_for_other_text_is_a_conflict(session: Session) -> None:
    wall = make_wall(session)
    submit(session, wall)
    with pytest.raises(Conflict) as raised:
        submit(session, wall, text="Noget helt andet")
    assert raised.value.code == "submission_id_reused"
    assert count_answers(session) == 1


def test_same_submission_id_on_two_walls_are_two_answers(session: Session) -> None:
    one, two = make_wall(session), make_wall(session)
    submit(session, one)
    assert submit(session, two).created
    assert count_answers(session) == 2


def test_concurrent_retries_store_exactly_one(database_url: str, session: Session) -> None:
    """Eight threads, each with its own connection, post the same submission at once."""
    wall = make_wall(session)
    wall_id, prompt_id = wall.id, wall.prompts[0].id
    engine = (
        make_engine(database_url, pool_size=10)
        if "postgres" in database_url
        else (make_engine(database_url))
    )
    factory = make_session_factory(engine)
    barrier = threading.Barrier(8)
    ids: list[int] = []

    def worker() -> None:
        with factory() as own:
            from surveys.models import Wall

            own_wall = own.get(Wall, wall_id)
            barrier.wait()
            result = answers.submit_answer(
                own,
                own_wall,
                prompt_id=prompt_id,
                text="Samtidigt svar",
                client_submission_id="concurrent-0001",
            )
            ids.append(result.answer.id)

    errors = run_in_threads(worker, 8)
    engine.dispose()
    assert errors == []
    assert len(ids) == 8 and len(set(ids)) == 1
    assert count_answers(session) == 1


@pytest.mark.parametrize(
    ("text", "code"),
    [
        ("", "empty_text"),
        ("   \n\t  ", "empty_text"),
        ("\u200b\u200b", "empty_text"),
        ("x" * 1001, "text_too_long"),
        (None, "invalid_text"),
        (42, "invalid_text"),
    ],
)
def test_invalid_text_is_rejected(session: Session, text: object, code: str) -> None:
    wall = make_wall(session)
    with pytest.raises(InvalidInput) as raised:
        submit(session, wall, text=text)
    assert raised.value.code == code
    assert count_answers(session) == 0


def test_exactly_the_limit_is_accepted_and_emoji_count_as_one(session: Session) -> None:
    wall = make_wall(session)
    assert submit(session, wall, text="å" * 1000).created
    emoji = "🙂" * 1000
    assert submit(session, wall, text=emoji, client_submission_id="abcdefgh-0002").created


@pytest.mark.parametrize("prompt_id", [None, "1", True, 10_000])
def test_unknown_prompt_is_rejected(session: Session, prompt_id: object) -> None:
    wall = make_wall(session)
    with pytest.raises(InvalidInput) as raised:
        submit(session, wall, prompt_id=prompt_id)
    assert raised.value.code == "invalid_prompt"


def test_prompt_of_another_wall_is_rejected(session: Session) -> None:
    wall, other = make_wall(session), make_wall(session)
    with pytest.raises(InvalidInput):
        submit(session, wall, prompt_id=other.prompts[0].id)


@pytest.mark.parametrize(
    "submission_id", [None, "", "short", "has space here", "x" * 65, "ææææææææææ", 12345678]
)
def test_invalid_submission_id_is_rejected(session: Session, submission_id: object) -> None:
    wall = make_wall(session)
    with pytest.raises(InvalidInput) as raised:
        submit(session, wall, client_submission_id=submission_id)
    assert raised.value.code == "invalid_submission_id"


@pytest.mark.parametrize(
    "profile",
    [
        {"role": "king"},
        {"area": "Atlantis"},
        {"age_group": "99"},
        {"shoe_size": "42"},
        {"role": 3},
        ["role"],
    ],
)
def test_invalid_profile_is_rejected(session: Session, profile: object) -> None:
    wall = make_wall(session)
    with pytest.raises(InvalidInput) as raised:
        submit(session, wall, profile=profile)
    assert raised.value.code == "invalid_profile"


def test_profile_question_not_asked_by_wall_is_rejected(session: Session) -> None:
    wall = make_wall(session, profile_questions=["area"])
    with pytest.raises(InvalidInput):
        submit(session, wall, profile={"role": "parent"})
    assert submit(session, wall, profile={"role": "", "area": "Rønne"}).answer.profile == {
        "area": "Rønne"
    }


def test_closed_and_not_yet_open_walls_accept_nothing(session: Session) -> None:
    now = utcnow()
    closed = make_wall(session, closes_at=now - timedelta(minutes=1))
    future = make_wall(session, opens_at=now + timedelta(days=1))
    with pytest.raises(WallClosed):
        submit(session, closed)
    with pytest.raises(WallNotOpen):
        submit(session, future)
    assert count_answers(session) == 0


def test_retry_after_close_still_returns_stored_answer(session: Session) -> None:
    """An offline client that stored before closing gets its 200, not an error."""
    wall = make_wall(session)
    first = submit(session, wall)
    wall.closes_at = utcnow() - timedelta(seconds=1)
    session.commit()
    assert submit(session, wall).answer.id == first.answer.id


def test_get_wall_unknown_slug(session: Session) -> None:
    with pytest.raises(NotFound):
        answers.get_wall_by_slug(session, "nope")


def test_reaction_once_per_device(session: Session) -> None:
    wall = make_wall(session)
    answer = make_answer(session, wall)
    assert reactions.add_reaction(session, answer, "device-key-1")
    assert not reactions.add_reaction(session, answer, "device-key-1")
    assert reactions.add_reaction(session, answer, "device-key-2")
    session.refresh(answer)
    assert len(answer.reactions) == 2


def test_reaction_on_unpublished_answer_is_refused(session: Session) -> None:
    wall = make_wall(session)
    answer = make_answer(session, wall, status=AnswerStatus.PENDING)
    with pytest.raises(NotFound):
        reactions.add_reaction(session, answer, "device-key-1")


def test_staff_user_password_is_hashed_and_email_unique(session: Session) -> None:
    organisation = make_organisation(session)
    user = accounts.add_staff_user(
        session, organisation, " Anna@Kommune.DK ", StaffRole.MODERATOR, "correct horse battery"
    )
    session.commit()
    assert user.email == "anna@kommune.dk"
    assert user.password_hash.startswith("$argon2id$")
    assert verify_password(user.password_hash, "correct horse battery")
    assert not verify_password(user.password_hash, "wrong password!")
    with pytest.raises(Conflict):
        accounts.add_staff_user(
            session, organisation, "anna@kommune.dk", StaffRole.VIEWER, "another password"
        )
    with pytest.raises(InvalidInput):
        accounts.add_staff_user(session, organisation, "x@y.dk", StaffRole.VIEWER, "short")


def test_guard_holds_answer_with_personal_data_even_on_post_moderated_wall(
    session: Session,
) -> None:
    wall = make_wall(session, moderation=Moderation.POST)
    text = "Ring til mig på 22 33 44 55 om legepladsen"
    result = submit(session, wall, text=text)
    answer = result.answer
    assert answer.status is AnswerStatus.PENDING
    assert answer.pii_findings == [{"kind": "phone", "start": 16, "end": 27}]
    assert text[16:27] == "22 33 44 55"
    assert "22 33 44 55" not in str(answer.pii_findings)


def test_guard_flags_cpr_and_email_and_clean_text_passes(session: Session) -> None:
    wall = make_wall(session, moderation=Moderation.POST)
    flagged = submit(session, wall, text="Mit CPR er 010203-1234, mail: mor@eksempel.dk")
    assert {f["kind"] for f in flagged.answer.pii_findings} == {"cpr", "email"}
    clean = submit(session, wall, text="Flere bænke i parken", client_submission_id="abcdefgh-0009")
    assert clean.answer.pii_findings == []
    assert clean.answer.status is AnswerStatus.APPROVED


def test_kiosk_device_is_recorded_and_must_belong_to_wall(session: Session) -> None:
    from surveys.kiosk import create_device, revoke_device

    wall, other = make_wall(session), make_wall(session)
    device = create_device(session, wall, "Biblioteket")
    result = submit(session, wall, channel=Channel.KIOSK, device=device)
    assert result.answer.device_id == device.id
    assert result.answer.channel is Channel.KIOSK
    foreign = create_device(session, other, "Sundhedsplejen")
    with pytest.raises(InvalidInput):
        submit(session, wall, device=foreign, client_submission_id="abcdefgh-0003")
    revoke_device(session, device)
    with pytest.raises(DeviceRevoked):  # nothing written before the revocation: 410
        submit(session, wall, device=device, client_submission_id="abcdefgh-0004")
