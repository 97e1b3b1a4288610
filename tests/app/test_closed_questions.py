"""Closed questions on the wall (issue 26): the no-JavaScript forms, the JSON API, staff's
editor, the thanks page and the notes."""

from __future__ import annotations

import re
from typing import Any

from flask.testing import FlaskClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from surveys import kiosk as kiosks
from surveys import moderation
from surveys.models import Answer, AnswerStatus, Moderation, Prompt, PromptKind
from surveys.moderation import QueueFilter
from tests.app.staff_helpers import login
from tests.factories import (
    add_closed_prompts,
    count_answers,
    make_staff,
    make_themed_run,
    make_wall,
)


def _answers(session: Session) -> list[Answer]:
    session.expire_all()
    return list(session.scalars(select(Answer).order_by(Answer.id)))


def test_the_wall_shows_each_closed_question_as_its_own_form(
    client: FlaskClient, session: Session
) -> None:
    wall = make_wall(session, "lukkede", moderation=Moderation.POST)
    q = add_closed_prompts(session, wall)
    page = client.get("/w/lukkede").get_data(as_text=True)
    # the scale: words beside the faces, radios named per question
    form = page[page.index(f'id="spoergsmaal-{q["scale"].id}"') :]
    form = form[: form.index("</form>")]
    assert form.count('type="radio"') == 5
    for word in ("Meget dårligt", "Dårligt", "Midt imellem", "Godt", "Meget godt"):
        assert f'<span class="option-label">{word}</span>' in form
    assert "Hvorfor?" in form  # the follow-up
    multiple = page[page.index(f'id="spoergsmaal-{q["multiple"].id}"') :]
    assert multiple[: multiple.index("</form>")].count('type="checkbox"') == 4
    # the free-text form lists only the free-text questions
    text_form = page[page.index('class="answer-form"') :]
    text_form = text_form[: text_form.index("</fieldset>")]
    assert text_form.count('name="prompt_id"') == 2
    # every form has its own submission id, and no element id is used twice
    ids = re.findall(r'name="[^"]*client_submission_id" type="hidden" value="([^"]+)"', page)
    assert len(ids) == 4 and len(set(ids)) == 4
    element_ids = re.findall(r'\sid="([^"]+)"', page)
    assert len(element_ids) == len(set(element_ids))


def test_a_scale_answer_without_javascript(client: FlaskClient, session: Session) -> None:
    wall = make_wall(session, "skala", moderation=Moderation.PRE)
    q = add_closed_prompts(session, wall)
    prefix = f"q{q['scale'].id}"
    sent = {
        f"{prefix}-choice": "4",
        f"{prefix}-text": "",
        f"{prefix}-client_submission_id": "skala-nojs-0001",
        f"{prefix}-role": "young",
    }
    response = client.post(f"/w/skala/spoergsmaal/{q['scale'].id}", data=sent)
    assert response.status_code == 303
    thanks = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "Godt (4)" in thanks and "Dit svar er talt med." in thanks
    (answer,) = _answers(session)
    assert answer.value == 4 and answer.text == "" and answer.role == "young"
    assert answer.status is AnswerStatus.COUNTED
    # sent again (Back, then Send) with a new id: the same answer, not a second one
    again = client.post(
        f"/w/skala/spoergsmaal/{q['scale'].id}",
        data={**sent, f"{prefix}-client_submission_id": "skala-nojs-0002"},
    )
    assert again.status_code == 303 and count_answers(session) == 1


def test_a_multiple_choice_with_a_follow_up_becomes_a_note(
    client: FlaskClient, session: Session
) -> None:
    wall = make_wall(session, "flere", moderation=Moderation.POST)
    q = add_closed_prompts(session, wall)
    prefix = f"q{q['multiple'].id}"
    response = client.post(
        f"/w/flere/spoergsmaal/{q['multiple'].id}",
        data={
            f"{prefix}-choices": ["o4", "o1"],
            f"{prefix}-text": "Vi mangler en natbus i weekenden 🚌",
            f"{prefix}-client_submission_id": "flere-nojs-0001",
        },
    )
    assert response.status_code == 303
    (answer,) = _answers(session)
    assert answer.value == ["o1", "o4"] and answer.status is AnswerStatus.APPROVED
    wall_page = client.get("/w/flere").get_data(as_text=True)
    assert "Skaterbane, Natbus" in wall_page
    assert "Vi mangler en natbus i weekenden" in wall_page
    (note,) = client.get("/api/v1/walls/flere/answers").json["items"]
    assert note["value"] == ["o1", "o4"] and note["text"].startswith("Vi mangler en natbus")


def test_a_closed_form_with_nothing_chosen_comes_back_with_the_text_kept(
    client: FlaskClient, session: Session
) -> None:
    wall = make_wall(session, "tom")
    q = add_closed_prompts(session, wall)
    prefix = f"q{q['single'].id}"
    response = client.post(
        f"/w/tom/spoergsmaal/{q['single'].id}",
        data={f"{prefix}-client_submission_id": "tom-nojs-00001", f"{prefix}-role": "parent"},
    )
    assert response.status_code == 400
    page = response.get_data(as_text=True)
    assert "Vælg et svar, eller skriv et, før du sender." in page
    assert '<option selected value="parent">' in page  # what was chosen is kept
    # an option that does not exist (a tampered form)
    response = client.post(
        f"/w/tom/spoergsmaal/{q['single'].id}",
        data={f"{prefix}-choice": "o99", f"{prefix}-client_submission_id": "tom-nojs-00002"},
    )
    assert response.status_code == 400
    assert "Dette valg findes ikke." in response.get_data(as_text=True)
    # a free-text question is not a closed one
    assert client.post(f"/w/tom/spoergsmaal/{wall.prompts[0].id}", data={}).status_code == 404
    assert count_answers(session) == 0


def test_the_api_describes_closed_questions_and_takes_their_values(
    client: FlaskClient, session: Session
) -> None:
    wall = make_wall(session, "api-lukket", moderation=Moderation.POST)
    q = add_closed_prompts(session, wall)
    prompts = {p["id"]: p for p in client.get("/api/v1/walls/api-lukket").json["prompts"]}
    assert prompts[wall.prompts[0].id]["type"] == "text"
    assert prompts[wall.prompts[0].id]["options"] == []
    scale = prompts[q["scale"].id]
    assert scale["type"] == "scale" and scale["follow_up"] == "Hvorfor?"
    assert scale["options"][3] == {"id": "4", "value": 4, "label": "Godt", "face": "🙂"}
    assert prompts[q["single"].id]["options"][1] == {"id": "o2", "label": "I klubben"}

    def post(body: dict[str, object]) -> tuple[int, dict[str, object]]:
        response = client.post("/api/v1/walls/api-lukket/answers", json=body)
        return response.status_code, response.json

    status, stored = post(
        {"prompt_id": q["single"].id, "value": "o3", "client_submission_id": "api-lukket-1"}
    )
    assert status == 201 and stored["value"] == "o3" and stored["status"] == "counted"
    status, again = post(
        {"prompt_id": q["single"].id, "value": "o3", "client_submission_id": "api-lukket-1"}
    )
    assert status == 200 and again["id"] == stored["id"]
    for body, code in [
        ({"prompt_id": q["scale"].id, "value": 7}, "unknown_option"),
        ({"prompt_id": q["scale"].id, "value": "meget"}, "invalid_value"),
        ({"prompt_id": q["multiple"].id, "value": "o1"}, "invalid_value"),
        ({"prompt_id": q["multiple"].id, "value": [], "text": ""}, "empty_answer"),
        ({"prompt_id": wall.prompts[0].id, "value": 2, "text": "Hej"}, "value_not_allowed"),
    ]:
        status, error = post({**body, "client_submission_id": "api-lukket-x"})
        assert status == 400 and error["error"]["code"] == code, body
    assert count_answers(session) == 1


def test_counted_answers_are_never_notes_nor_in_moderation(
    client: FlaskClient, session: Session
) -> None:
    wall = make_wall(session, "talt", moderation=Moderation.PRE)
    q = add_closed_prompts(session, wall)
    client.post(
        "/api/v1/walls/talt/answers",
        json={"prompt_id": q["scale"].id, "value": 2, "client_submission_id": "talt-00001"},
    )
    assert count_answers(session) == 1
    notes = client.get("/api/v1/walls/talt/answers").json
    assert notes["total"] == 0
    every_status = QueueFilter(status=None)
    organisation_id = wall.campaign.organisation_id
    assert session.scalars(moderation.queue(organisation_id, every_status)).all() == []
    counts = moderation.queue_counts(session, organisation_id, every_status)
    assert "counted" not in counts and sum(counts.values()) == 0


def test_staff_make_a_question_closed(client: FlaskClient, session: Session) -> None:
    wall = make_wall(session, "redigeret")
    staff = make_staff(session, wall.campaign.organisation, "admin")
    login(client, staff)
    page = client.get(f"/staff/walls/{wall.id}").get_data(as_text=True)
    assert "Svartype" in page and "Flere valg" in page
    response = client.post(
        f"/staff/walls/{wall.id}/prompts",
        data={
            "text": "Hvad laver du helst i fritiden?",
            "kind": "multiple",
            "options": "Sport\r\nMusik\r\n\r\nSpil\r\n",
            "follow_up": "Hvorfor?",
        },
    )
    assert response.status_code == 303
    session.expire_all()
    added = wall.prompts[-1]
    assert added.kind is PromptKind.MULTIPLE
    assert [o["label"] for o in added.options] == ["Sport", "Musik", "Spil"]
    # one option only: refused with the reason, nothing changed
    response = client.post(
        f"/staff/prompts/{added.id}",
        data={"text": added.text, "kind": "single", "options": "Sport", "follow_up": ""},
        follow_redirects=True,
    )
    assert "Et valgspørgsmål skal have fra 2 til 20 svarmuligheder" in response.get_data(
        as_text=True
    )
    session.expire_all()
    assert added.kind is PromptKind.MULTIPLE


def test_a_closed_form_checks_its_own_csrf_token(make_app: Any, session: Session) -> None:
    app = make_app(WTF_CSRF_ENABLED=True)
    client = app.test_client()
    wall = make_wall(session, "csrf-lukket")
    q = add_closed_prompts(session, wall)
    prefix = f"q{q['single'].id}"
    response = client.post(
        f"/w/csrf-lukket/spoergsmaal/{q['single'].id}",
        data={f"{prefix}-choice": "o3", f"{prefix}-client_submission_id": "csrf-lukket-01"},
    )
    assert response.status_code == 400
    page = response.get_data(as_text=True)
    assert "Siden var udløbet" in page
    assert f'id="{prefix}-choice-o3" name="{prefix}-choice" value="o3" checked' in page
    token = re.search(rf'name="{prefix}-csrf_token" type="hidden" value="([^"]+)"', page)
    assert token is not None
    sent = client.post(
        f"/w/csrf-lukket/spoergsmaal/{q['single'].id}",
        data={
            f"{prefix}-choice": "o3",
            f"{prefix}-client_submission_id": "csrf-lukket-01",
            f"{prefix}-csrf_token": token.group(1),
        },
    )
    assert sent.status_code == 303 and count_answers(session) == 1


def test_a_kiosk_takes_closed_answers_with_and_without_javascript(
    client: FlaskClient, session: Session
) -> None:
    wall = make_wall(session, "kiosk-lukket", moderation=Moderation.PRE)
    q = add_closed_prompts(session, wall)
    device = kiosks.create_device(session, wall, "Hallen")
    page = client.get(f"/kiosk/kiosk-lukket?device={device.token}").get_data(as_text=True)
    assert f'action="/kiosk/kiosk-lukket/spoergsmaal/{q["single"].id}"' in page
    assert 'data-channel="kiosk"' in page
    # the plain form
    prefix = f"q{q['single'].id}"
    response = client.post(
        f"/kiosk/kiosk-lukket/spoergsmaal/{q['single'].id}",
        data={
            "device": device.token,
            f"{prefix}-choice": "o2",
            f"{prefix}-client_submission_id": "kiosk-lukket-01",
        },
    )
    assert response.status_code == 303 and "/tak" in response.headers["Location"]
    # the script's JSON, with the device token
    sent = client.post(
        "/kiosk/kiosk-lukket/answers",
        json={
            "prompt_id": q["multiple"].id,
            "value": ["o3"],
            "text": "Hjælp til matematik",
            "client_submission_id": "kiosk-lukket-02",
        },
        headers={"X-Kiosk-Device": device.token},
    )
    assert sent.status_code == 201 and sent.json["value"] == ["o3"]
    assert sent.json["status"] == "pending"  # the follow-up waits for a moderator
    refused = client.post(
        "/kiosk/kiosk-lukket/answers",
        json={"prompt_id": q["scale"].id, "value": 0, "client_submission_id": "kiosk-lukket-03"},
        headers={"X-Kiosk-Device": device.token},
    )
    assert refused.status_code == 400 and refused.json["error"]["code"] == "unknown_option"
    stored = _answers(session)
    assert [(a.value, a.channel.value, a.device_id) for a in stored] == [
        ("o2", "kiosk", device.id),
        (["o3"], "kiosk", device.id),
    ]


def test_staff_see_the_results_with_intervals_and_groups(
    client: FlaskClient, session: Session
) -> None:
    wall = make_wall(session, "resultater", moderation=Moderation.POST)
    q = add_closed_prompts(session, wall)
    for number, (value, role) in enumerate(
        [(4, "parent")] * 5 + [(5, "parent"), (2, "young"), (1, "young")]
    ):
        client.post(
            "/api/v1/walls/resultater/answers",
            json={
                "prompt_id": q["scale"].id,
                "value": value,
                "text": "Fordi skolen er god" if number == 0 else "",
                "profile": {"role": role},
                "client_submission_id": f"resultat-{number:04d}",
            },
        )
    staff = make_staff(session, wall.campaign.organisation, "viewer")
    login(client, staff)
    campaign_page = client.get(f"/staff/campaigns/{wall.campaign_id}").get_data(as_text=True)
    assert f"/staff/campaigns/{wall.campaign_id}/results" in campaign_page
    page = client.get(f"/staff/campaigns/{wall.campaign_id}/results").get_data(as_text=True)
    assert "8 personer svarede." in page
    assert "Gennemsnit: 3,5 på skalaen fra 1 til 5." in page
    # 5 of 8 chose "Godt": 62 %, and honestly somewhere between 31 % and 86 %
    assert re.search(r"</progress> 62\W%</td>\s*<td[^>]*>31\W%–86\W%</td>", page)
    assert "Fordi skolen er god" in page
    by_role = client.get(f"/staff/campaigns/{wall.campaign_id}/results?by=role").get_data(
        as_text=True
    )
    assert "Forælder" in by_role and "6 personer" in by_role
    # two young people: never shown as a group of their own
    assert "Ung<br>" not in by_role
    assert "2 svar er i grupper med færre end 5 personer" in by_role
    report = client.get(f"/staff/campaigns/{wall.campaign_id}/report").get_data(as_text=True)
    assert "De lukkede spørgsmål" in report
    assert re.search(r"<td class=\"num\">5</td><td class=\"num\">62\W%</td>", report)
    assert "Fordi skolen er god" in report
    # two young people are no group of their own: one group only, so no breakdown table
    assert "Efter hvem der svarede" not in report


def test_staff_run_a_campaign_again_and_compare_the_rounds(
    client: FlaskClient, session: Session
) -> None:
    wall = make_wall(session, "runde-1", moderation=Moderation.POST)
    q = add_closed_prompts(session, wall)

    def vote(slug: str, prompt_id: int, values: list[str], tag: str) -> None:
        for number, value in enumerate(values):
            response = client.post(
                f"/api/v1/walls/{slug}/answers",
                json={
                    "prompt_id": prompt_id,
                    "value": value,
                    "client_submission_id": f"{tag}-{number:04d}",
                },
            )
            assert response.status_code == 201

    vote("runde-1", q["single"].id, ["o1"] * 5 + ["o3"] * 15, "foer-runde")
    admin = make_staff(session, wall.campaign.organisation, "admin")
    login(client, admin)
    form = client.get(f"/staff/campaigns/{wall.campaign_id}/run-again").get_data(as_text=True)
    assert "Kør kampagnen igen" in form
    response = client.post(
        f"/staff/campaigns/{wall.campaign_id}/run-again",
        data={"round_label": "Forår 2027", "title": "Runde to", "slug": "runde-to"},
    )
    assert response.status_code == 303
    new_id = int(response.headers["Location"].rstrip("/").split("/")[-1])
    page = client.get(f"/staff/campaigns/{new_id}").get_data(as_text=True)
    assert "Forår 2027" in page and f"/staff/campaigns/{wall.campaign_id}" in page
    session.expire_all()
    copy = session.scalars(select(Prompt).where(Prompt.previous_prompt_id == q["single"].id)).one()
    vote(copy.wall.slug, copy.id, ["o1"] * 15 + ["o3"] * 5, "nu-runde")
    results = client.get(f"/staff/campaigns/{new_id}/results").get_data(as_text=True)
    assert "Sammenlignet med" in results
    # "Hjemme" from 25 % to 75 % of 20 people each: a clear rise; "I klubben" 0 % both times
    assert "<strong>Højere</strong>" in results and "<strong>Lavere</strong>" in results
    assert "Ingen klar ændring" in results


def test_the_rounds_page_shows_themes_that_changed_with_quotes(
    client: FlaskClient, session: Session
) -> None:
    from tests.surveys.test_rounds import _next_round

    wall = make_wall(session, "tema-runde")
    new = _next_round(session, wall.campaign)
    viewer = make_staff(session, wall.campaign.organisation, "viewer")
    login(client, viewer)
    empty = client.get(f"/staff/campaigns/{new.id}/rounds").get_data(as_text=True)
    assert "Ingen temaer at sammenligne endnu" in empty
    make_themed_run(session, wall, {"bus · natbus": (["bus", "natbus"], 40)}, other=60)
    make_themed_run(session, new.walls[0], {"natbus · bus": (["natbus", "bus"], 10)}, other=90)
    page = client.get(f"/staff/campaigns/{new.id}/rounds").get_data(as_text=True)
    assert "<strong>Skrumpede</strong>" in page
    assert "dengang: bus · natbus" in page
    assert "bus · natbus svar 0" in page and "natbus · bus svar 0" in page  # quotes of both
    campaign_page = client.get(f"/staff/campaigns/{new.id}").get_data(as_text=True)
    assert f"/staff/campaigns/{new.id}/rounds" in campaign_page
