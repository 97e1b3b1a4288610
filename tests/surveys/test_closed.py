"""Closed questions (issue 26): options, values, storing a closed answer exactly once."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy.orm import Session

from surveys import campaigns, closed
from surveys.errors import Conflict, InvalidInput
from surveys.models import AnswerStatus, Moderation, PromptKind, utcnow
from tests.factories import add_closed_prompts, count_answers, make_staff, make_wall, submit


def test_choice_options_keep_ids_when_moved_or_corrected() -> None:
    first = closed.choice_options(["Svømmehal", "Skatbane", "Bibliotek"])
    assert [o["id"] for o in first] == ["o1", "o2", "o3"]
    # moved, one corrected in place (same position), one new
    again = closed.choice_options(["Bibliotek", "Skaterbane", "Svømmehal", "Musik"], first)
    ids = {o["label"]: o["id"] for o in again}
    assert ids["Bibliotek"] == "o3" and ids["Svømmehal"] == "o1"
    assert ids["Skaterbane"] == "o2"  # the corrected spelling keeps its answers
    assert ids["Musik"] == "o4"
    # a removed option's place taken by an unlike one is a new option, not the old one renamed
    fewer = closed.choice_options(["Bibliotek", "Ude"], again)
    assert [o["id"] for o in fewer] == ["o3", "o5"]


@pytest.mark.parametrize(
    "labels",
    [[], ["Kun én"], ["Ja", "ja"], ["x" * 101, "Nej"], [f"Valg {n}" for n in range(21)]],
)
def test_bad_option_lists_are_refused(labels: list[str]) -> None:
    with pytest.raises(InvalidInput) as refused:
        closed.choice_options(labels)
    assert refused.value.code == "invalid_options"


def test_question_fields_for_each_kind() -> None:
    assert closed.question_fields("text", ["a", "b"], "Hvorfor?") == {
        "kind": PromptKind.TEXT,
        "options": [],
        "follow_up": None,
    }
    scale = closed.question_fields("scale", (), "  Hvorfor?  ")
    assert [o["value"] for o in scale["options"]] == [1, 2, 3, 4, 5]
    assert scale["follow_up"] == "Hvorfor?"
    with pytest.raises(InvalidInput):
        closed.question_fields("ranking")
    with pytest.raises(InvalidInput):
        closed.question_fields("single", ["a", "b"], "x" * 301)


def test_values_are_checked_against_the_question(session: Session) -> None:
    wall = make_wall(session)
    q = add_closed_prompts(session, wall)
    assert closed.clean_value(q["scale"], 4) == 4
    assert closed.clean_value(q["scale"], "4") == 4  # from a form
    assert closed.clean_value(q["single"], "o2") == "o2"
    assert closed.clean_value(q["multiple"], ["o3", "o1"]) == ["o1", "o3"]  # options' order
    assert closed.clean_value(q["multiple"], []) is None
    refusals = [
        (wall.prompts[0], 3, "value_not_allowed"),
        (q["scale"], 0, "unknown_option"),
        (q["scale"], 6, "unknown_option"),
        (q["scale"], True, "invalid_value"),
        (q["scale"], 3.5, "invalid_value"),
        (q["scale"], "fire", "invalid_value"),
        (q["single"], "o9", "unknown_option"),
        (q["single"], ["o1"], "invalid_value"),
        (q["single"], "x" * 17, "invalid_value"),
        (q["multiple"], "o1", "invalid_value"),
        (q["multiple"], ["o1", 2], "invalid_value"),
        (q["multiple"], ["o1", "o1", "o1", "o1", "o1"], "unknown_option"),
        (q["multiple"], ["o7"], "unknown_option"),
        (q["multiple"], {"o1": True}, "invalid_value"),
    ]
    for prompt, value, code in refusals:
        with pytest.raises(InvalidInput) as refused:
            closed.clean_value(prompt, value)
        assert refused.value.code == code, (prompt.kind, value)


def test_a_closed_answer_without_text_is_counted_not_a_note(session: Session) -> None:
    wall = make_wall(session, moderation=Moderation.PRE)
    q = add_closed_prompts(session, wall)
    result = submit(session, wall, prompt_id=q["scale"].id, value=5, text=None)
    assert result.created
    assert result.answer.value == 5 and result.answer.text == ""
    assert result.answer.status is AnswerStatus.COUNTED
    # whitespace is no text either
    blank = submit(
        session,
        wall,
        prompt_id=q["single"].id,
        value="o1",
        text="  \n ",
        client_submission_id="closed-blank-1",
    )
    assert blank.answer.status is AnswerStatus.COUNTED


def test_a_follow_up_text_is_a_note_moderated_as_any_answer(session: Session) -> None:
    wall = make_wall(session, moderation=Moderation.POST)
    q = add_closed_prompts(session, wall)
    result = submit(
        session,
        wall,
        prompt_id=q["multiple"].id,
        value=["o4", "o2"],
        text="Natbussen er vigtig for os der bor ude på landet",
    )
    assert result.answer.value == ["o2", "o4"]
    assert result.answer.status is AnswerStatus.APPROVED
    # the guard still reads the follow-up
    flagged = submit(
        session,
        wall,
        prompt_id=q["scale"].id,
        value=2,
        text="Ring til mig på 22 33 44 55",
        client_submission_id="closed-pii-1",
    )
    assert flagged.answer.status is AnswerStatus.PENDING
    # a text answer to a closed question (the choice skipped) is a note too
    only_text = submit(
        session,
        wall,
        prompt_id=q["scale"].id,
        text="Det ved jeg ikke",
        client_submission_id="closed-text-1",
    )
    assert only_text.answer.value is None and only_text.answer.status is AnswerStatus.APPROVED


def test_a_closed_answer_needs_a_value_or_text(session: Session) -> None:
    wall = make_wall(session)
    q = add_closed_prompts(session, wall)
    with pytest.raises(InvalidInput) as refused:
        submit(session, wall, prompt_id=q["multiple"].id, value=[], text="")
    assert refused.value.code == "empty_answer"
    with pytest.raises(InvalidInput) as refused:
        submit(session, wall, prompt_id=q["scale"].id, value=9, text="Hvorfor ikke")
    assert refused.value.code == "unknown_option"
    with pytest.raises(InvalidInput) as refused:
        submit(session, wall, value=3)  # the first question is free text
    assert refused.value.code == "value_not_allowed"
    assert count_answers(session) == 0


def test_a_closed_answer_is_stored_once(session: Session) -> None:
    wall = make_wall(session)
    q = add_closed_prompts(session, wall)
    sent = {"prompt_id": q["multiple"].id, "text": None, "client_submission_id": "closed-once-1"}
    first = submit(session, wall, value=["o1", "o3"], **sent)
    again = submit(session, wall, value=["o3", "o1"], **sent)
    assert first.created and not again.created
    assert again.answer.id == first.answer.id
    with pytest.raises(Conflict):
        submit(session, wall, value=["o2"], **sent)
    assert count_answers(session) == 1


def test_an_answer_queued_before_the_question_changed_is_kept(session: Session) -> None:
    wall = make_wall(session, moderation=Moderation.POST)
    q = add_closed_prompts(session, wall)
    staff = make_staff(session, wall.campaign.organisation)
    written = utcnow() - timedelta(minutes=10)
    campaigns.update_prompt(
        session,
        staff,
        q["single"],
        campaigns.QuestionInput(q["single"].text, "single", ["Hjemme", "Udenfor"]),
    )
    assert q["single"].changed_at is not None
    assert closed.option_ids(q["single"]) == ["o1", "o3"]  # "I klubben" (o2) removed
    kept = submit(
        session,
        wall,
        prompt_id=q["single"].id,
        value="o2",
        text=None,
        written_at=written.isoformat(),
        client_submission_id="closed-queued-1",
    )
    assert kept.answer.value == "o2"
    assert not closed.fits(q["single"], kept.answer.value)
    # written after the change: refused with a clear error, nothing stored
    with pytest.raises(InvalidInput) as refused:
        submit(
            session,
            wall,
            prompt_id=q["single"].id,
            value="o2",
            text=None,
            client_submission_id="closed-queued-2",
        )
    assert refused.value.code == "unknown_option"
    # garbage is never kept, however old
    with pytest.raises(InvalidInput):
        submit(
            session,
            wall,
            prompt_id=q["single"].id,
            value={"x": 1},
            text=None,
            written_at=written.isoformat(),
            client_submission_id="closed-queued-3",
        )
    assert count_answers(session) == 1


def test_staff_add_and_change_closed_questions(session: Session) -> None:
    wall = make_wall(session)
    staff = make_staff(session, wall.campaign.organisation)
    prompt = campaigns.add_prompt(
        session,
        staff,
        wall,
        campaigns.QuestionInput(
            "Hvad vil du helst?", "multiple", ["Musik", "Sport", ""], "Hvorfor?"
        ),
    )
    assert prompt.kind is PromptKind.MULTIPLE and prompt.follow_up == "Hvorfor?"
    assert [o["label"] for o in prompt.options] == ["Musik", "Sport"]
    # a text change alone keeps the options and is not a change of the question's answers
    campaigns.update_prompt(session, staff, prompt, "Hvad vil du allerhelst?")
    assert prompt.kind is PromptKind.MULTIPLE and prompt.changed_at is None
    campaigns.update_prompt(session, staff, prompt, campaigns.QuestionInput(prompt.text, "text"))
    assert prompt.kind is PromptKind.TEXT and prompt.options == [] and prompt.changed_at
    with pytest.raises(InvalidInput):
        campaigns.add_prompt(session, staff, wall, campaigns.QuestionInput("Ja?", "single", ["Ja"]))
