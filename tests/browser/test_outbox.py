"""The outbox in a real browser when the network lies: a Wi-Fi login page, a proxy, a firewall,
a refusal by Stemmer, a wall closed or a kiosk switched off while answers waited (issue 20).

An answer leaves the phone only when Stemmer's own JSON reply names its client_submission_id;
anything else keeps it, and the page says what is true.
"""

from __future__ import annotations

from datetime import timedelta

import pytest
from playwright.sync_api import Page, Route, expect
from sqlalchemy import select
from sqlalchemy.orm import Session

from surveys.kiosk import create_device, revoke_device
from surveys.models import Answer, AnswerStatus, Moderation, utcnow
from tests.factories import make_answer, make_wall

from .conftest import check_axe, screenshot

KEPT = "Dit svar er gemt på denne enhed og sendes, når der er forbindelse."
KEPT_UNREACHABLE = (
    "Dit svar er gemt på denne enhed. Vi kan ikke nå Stemmer lige nu, så vi bliver ved med at "
    "prøve at sende det."
)
QUEUED = "Gemt – sendes, når der er forbindelse"
UNREACHABLE = "Gemt – vi kan ikke nå Stemmer lige nu; vi prøver igen"
SENT = "Dine gemte svar er sendt."
PENDING = "Dit svar kommer op på væggen, når en medarbejder har læst det."
OUTBOX = "JSON.parse(localStorage.getItem('stemmer-outbox-v1') || '[]')"


def _answers(session: Session) -> list[Answer]:
    session.expire_all()
    answers = list(session.scalars(select(Answer).order_by(Answer.id)))
    session.commit()
    return answers


def _wait_for_answers(page: Page, session: Session, count: int) -> list[Answer]:
    for _ in range(50):
        answers = _answers(session)
        if len(answers) >= count:
            return answers
        page.wait_for_timeout(100)
    return _answers(session)


def _write(page: Page, text: str) -> None:
    page.get_by_role("textbox", name="Dit svar").fill(text)
    page.get_by_role("button", name="Send svar").click()


def _open(page: Page, url: str) -> None:
    page.goto(url)
    expect(page.locator("#text-counter")).to_be_visible()  # the scripts are running


def test_a_wifi_login_page_keeps_three_answers_until_stemmer_has_them(
    live_server: str, phone: Page, session: Session
) -> None:
    make_wall(session, "portal", prompts=("Hvad er godt?", "Hvad mangler?", "Hvem?"))
    _open(phone, f"{live_server}/w/portal")
    phone.context.set_offline(True)
    texts = ["Første svar i toget", "Andet svar i toget", "Tredje svar i toget"]
    for number, text in enumerate(texts, start=1):
        _write(phone, text)
        # this answer's thanks (the panel was hidden, with the last answer's words in it)
        expect(phone.locator("#js-thanks .note-text")).to_have_text(text)
        expect(phone.locator("#js-thanks .thanks-status")).to_have_text(KEPT)
        expect(phone.locator("#outbox-status")).to_contain_text(
            f"({number} svar venter)" if number > 1 else "Gemt"
        )
        if number < len(texts):
            phone.get_by_role("button", name="Næste spørgsmål").click()
            expect(phone.get_by_role("textbox", name="Dit svar")).to_have_value("")

    # Back online, behind a Wi-Fi login page that answers everything with 200 and HTML.
    portal: list[str] = []

    def login_page(route: Route) -> None:
        portal.append(route.request.post_data_json["client_submission_id"])
        route.fulfill(status=200, content_type="text/html", body="<h1>Log ind på Wi-Fi</h1>")

    phone.route("**/api/v1/walls/portal/answers", login_page)
    phone.context.set_offline(False)
    status = phone.locator("#outbox-status")
    expect(status).to_have_text(f"{UNREACHABLE} (3 svar venter)")
    assert portal, "the outbox did not try"
    assert len(phone.evaluate(OUTBOX)) == 3
    assert _answers(session) == []
    # It keeps trying on its own, with a growing pause: not a request a second.
    phone.wait_for_timeout(6000)
    assert len(portal) <= 3
    expect(status).to_have_text(f"{UNREACHABLE} (3 svar venter)")
    assert len(phone.evaluate(OUTBOX)) == 3

    # Logged in to the Wi-Fi: the next try reaches Stemmer (no reload, no click).
    phone.unroute("**/api/v1/walls/portal/answers")
    expect(status).to_have_text(SENT, timeout=15_000)
    assert sorted(a.text for a in _wait_for_answers(phone, session, 3)) == sorted(texts)
    assert phone.evaluate(OUTBOX) == []


@pytest.mark.parametrize(
    ("status", "content_type", "body"),
    [
        (200, "application/json", "{}"),  # a proxy's empty JSON
        (201, "application/json", '{"client_submission_id": "someone-else-0001"}'),
        (403, "text/html", "<h1>Forbidden by the school firewall</h1>"),
        (404, "text/html", "<h1>Not found</h1>"),
        (407, "text/html", "<h1>Proxy authentication required</h1>"),
        (400, "text/plain", "Bad request"),
        (400, "application/json", '{"message": "bad request"}'),  # JSON, but not Stemmer's
    ],
)
def test_a_reply_that_is_not_stemmers_keeps_the_answer(
    live_server: str, phone: Page, session: Session, status: int, content_type: str, body: str
) -> None:
    make_wall(session, "proxy")
    _open(phone, f"{live_server}/w/proxy")
    phone.route(
        "**/api/v1/walls/proxy/answers",
        lambda route: route.fulfill(status=status, content_type=content_type, body=body),
    )
    _write(phone, "Svar bag en proxy")
    thanks = phone.locator("#js-thanks .thanks-status")
    expect(thanks).to_have_text(KEPT_UNREACHABLE)
    expect(phone.locator("#outbox-status")).to_have_text(UNREACHABLE)
    expect(phone.locator(".field-error")).to_have_count(0)  # never "Skriv venligst et svar"
    assert [item["body"]["text"] for item in phone.evaluate(OUTBOX)] == ["Svar bag en proxy"]
    assert _answers(session) == []

    phone.unroute("**/api/v1/walls/proxy/answers")
    phone.evaluate("Stemmer.outbox.flush()")
    expect(phone.locator("#outbox-status")).to_have_text(SENT)
    expect(thanks).to_have_text(PENDING)
    assert [a.text for a in _answers(session)] == ["Svar bag en proxy"]


def test_a_refused_answer_stays_on_the_phone_to_correct_or_delete(
    live_server: str, phone: Page, session: Session
) -> None:
    wall = make_wall(session, "afvist", moderation=Moderation.POST)
    _open(phone, f"{live_server}/w/afvist")
    phone.context.set_offline(True)
    _write(phone, "Mit svar skrevet offline")
    expect(phone.locator("#js-thanks .thanks-status")).to_have_text(KEPT)
    # Meanwhile its client_submission_id is taken by another answer: Stemmer says 409.
    [kept] = phone.evaluate(OUTBOX)
    make_answer(session, wall, "Et andet svar", client_submission_id=kept["id"])

    phone.context.set_offline(False)
    status = phone.locator("#outbox-status")
    expect(status).to_contain_text("Et gemt svar kunne ikke sendes:")
    attention = phone.get_by_role("region", name="Svar, der ikke kunne sendes")
    expect(attention).to_be_visible()
    expect(attention.locator(".note-text")).to_have_text("Mit svar skrevet offline")
    expect(attention.locator(".field-error")).not_to_be_empty()
    expect(phone.locator("#js-thanks .thanks-status")).to_contain_text(
        "Dit svar kunne ikke sendes:"
    )
    assert status.text_content() != SENT
    assert len(phone.evaluate(OUTBOX)) == 1
    screenshot(phone, "outbox-refused-phone", full_page=True)
    check_axe(phone, "a refused answer on the phone")

    # Kept across a reload, until the participant decides.
    phone.reload()
    expect(attention.locator(".note-text")).to_have_text("Mit svar skrevet offline")

    # Correct and send again: the text is back in the form; once sent, the refused one goes.
    attention.get_by_role("button", name="Ret og send igen").click()
    box = phone.get_by_role("textbox", name="Dit svar")
    expect(box).to_have_value("Mit svar skrevet offline")
    expect(phone.locator(".field-error").first).to_be_visible()
    box.fill("Mit svar skrevet offline, rettet")
    phone.get_by_role("button", name="Send svar").click()
    expect(phone.locator("#js-thanks .thanks-status")).to_have_text("Dit svar er nu på væggen.")
    expect(attention).to_be_hidden()
    assert phone.evaluate(OUTBOX) == []
    assert [a.text for a in _answers(session)] == [
        "Et andet svar",
        "Mit svar skrevet offline, rettet",
    ]


def test_an_answer_refused_at_once_stays_in_the_form(
    live_server: str, phone: Page, session: Session
) -> None:
    make_wall(session, "straks")
    _open(phone, f"{live_server}/w/straks")
    phone.route(
        "**/api/v1/walls/straks/answers",
        lambda route: route.fulfill(
            status=409,
            content_type="application/json",
            body='{"error": {"code": "submission_id_reused", "message": "Allerede brugt."}}',
        ),
    )
    _write(phone, "Et svar Stemmer afviser")
    expect(phone.locator(".field-error")).to_have_text("Allerede brugt.")
    expect(phone.get_by_role("textbox", name="Dit svar")).to_have_value("Et svar Stemmer afviser")
    expect(phone.locator("#js-thanks")).to_be_hidden()
    phone.unroute("**/api/v1/walls/straks/answers")
    phone.get_by_role("button", name="Send svar").click()
    expect(phone.locator("#js-thanks .note-text")).to_have_text("Et svar Stemmer afviser")
    assert [a.text for a in _wait_for_answers(phone, session, 1)] == ["Et svar Stemmer afviser"]


def test_an_answer_written_before_the_wall_closed_arrives_after_it(
    live_server: str, phone: Page, session: Session
) -> None:
    wall = make_wall(session, "lukker", moderation=Moderation.POST)
    _open(phone, f"{live_server}/w/lukker")
    phone.context.set_offline(True)
    _write(phone, "Skrevet lige før lukketid")
    expect(phone.locator("#js-thanks .thanks-status")).to_have_text(KEPT)
    phone.wait_for_timeout(50)
    wall.closes_at = utcnow()  # the wall closes while the phone is offline
    session.commit()

    phone.context.set_offline(False)
    expect(phone.locator("#outbox-status")).to_have_text(SENT)
    # Held for a moderator, although the wall publishes at once: the page says so.
    expect(phone.locator("#js-thanks .thanks-status")).to_have_text(PENDING)
    [answer] = _wait_for_answers(phone, session, 1)
    assert answer.status is AnswerStatus.PENDING
    assert answer.written_at is not None and answer.written_at < wall.closes_at


def test_an_answer_that_cannot_be_sent_any_more_is_shown_not_deleted(
    live_server: str, phone: Page, session: Session
) -> None:
    wall = make_wall(session, "for-sent")
    _open(phone, f"{live_server}/w/for-sent")
    phone.context.set_offline(True)
    _write(phone, "Skrevet på en side, der var for gammel")
    # Kept on the phone first (else, on a slow machine, the send could still be under way
    # when the connection returns, and the refusal would come back into the form instead).
    expect(phone.locator("#js-thanks .thanks-status")).to_have_text(KEPT)
    # The wall had closed before the answer was written: Stemmer's 410 is final.
    wall.closes_at = utcnow() - timedelta(hours=1)
    session.commit()
    phone.context.set_offline(False)
    attention = phone.get_by_role("region", name="Svar, der ikke kunne sendes")
    expect(attention.locator(".note-text")).to_have_text("Skrevet på en side, der var for gammel")
    expect(attention.locator(".field-error")).to_have_text(
        "Denne væg er lukket og tager ikke imod flere svar."
    )
    # The closed wall's page still shows it (its form is gone), with a way to delete it.
    phone.reload()
    expect(phone.locator("#closed-heading")).to_be_visible()
    expect(phone.locator("#outbox-status")).to_contain_text("Et gemt svar kunne ikke sendes:")
    expect(attention.locator(".note-text")).to_have_text("Skrevet på en side, der var for gammel")
    expect(attention.get_by_role("button", name="Ret og send igen")).to_have_count(0)
    assert len(phone.evaluate(OUTBOX)) == 1
    attention.get_by_role("button", name="Slet svaret").click()
    expect(attention).to_be_hidden()
    expect(phone.locator("#outbox-status")).to_have_text("")
    assert phone.evaluate(OUTBOX) == []
    assert _answers(session) == []


def test_a_switched_off_kiosk_still_delivers_what_it_kept(
    live_server: str, tablet: Page, session: Session
) -> None:
    wall = make_wall(session, "kiosk-vaeg", moderation=Moderation.POST)
    device = create_device(session, wall, "Biblioteket")
    tablet.goto(f"{live_server}/kiosk/kiosk-vaeg?device={device.token}")
    expect(tablet.locator(".kiosk-tile").first).to_be_visible()
    tablet.context.set_offline(True)
    tablet.get_by_role("button", name=wall.prompts[0].text).click()
    tablet.get_by_role("textbox", name="Dit svar").fill("Skrevet før kiosken blev slukket")
    tablet.get_by_role("button", name="Send svar").click()
    expect(tablet.locator("#kiosk-thanks .thanks-status")).to_have_text(KEPT)
    expect(tablet.locator("#outbox-status")).to_have_text(QUEUED)
    tablet.wait_for_timeout(50)
    revoke_device(session, device)  # staff switch the kiosk off while it is offline

    tablet.context.set_offline(False)
    expect(tablet.locator("#outbox-status")).to_have_text(SENT)
    [answer] = _wait_for_answers(tablet, session, 1)
    assert (answer.text, answer.device_id, answer.status) == (
        "Skrevet før kiosken blev slukket",
        device.id,
        AnswerStatus.PENDING,
    )
    assert answer.written_at is not None
    assert tablet.evaluate(OUTBOX) == []
