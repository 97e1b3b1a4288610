"""Closed questions in a real browser (issue 26): a scale and choices on a phone, through
the offline outbox, without JavaScript, and checked with axe."""

from __future__ import annotations

from playwright.sync_api import Page, expect
from sqlalchemy import select
from sqlalchemy.orm import Session

from surveys.kiosk import create_device
from surveys.models import Answer, AnswerStatus, Channel, Moderation
from tests.factories import add_closed_prompts, make_wall

from .conftest import check_axe, collect_errors, screenshot


def _wait_for_answers(page: Page, session: Session, count: int) -> list[Answer]:
    for _ in range(50):
        session.expire_all()
        stored = list(session.scalars(select(Answer).order_by(Answer.id)))
        if len(stored) >= count:
            return stored
        page.wait_for_timeout(100)
    return stored


def test_a_scale_and_a_multiple_choice_on_a_phone(
    live_server: str, phone: Page, session: Session
) -> None:
    wall = make_wall(session, "lukket-telefon", moderation=Moderation.POST)
    q = add_closed_prompts(session, wall)
    errors = collect_errors(phone)
    phone.goto(f"{live_server}/w/lukket-telefon")
    scale = phone.locator(f"#spoergsmaal-{q['scale'].id}")
    expect(scale.get_by_role("group", name="Hvordan har du det i dit område?")).to_be_visible()
    screenshot(phone, "closed-phone", full_page=True)
    check_axe(phone, "wall with closed questions")

    # nothing chosen: said in the form, nothing sent
    scale.get_by_role("button", name="Send svar").click()
    expect(scale.locator(".field-error")).to_have_text(
        "Vælg et svar, eller skriv et, før du sender."
    )
    # the label (word and face) is the target
    scale.get_by_text("Godt", exact=True).click()
    expect(scale.get_by_role("radio", name="Godt", exact=True)).to_be_checked()
    scale.get_by_role("textbox", name="Hvorfor?").fill("Der er legepladser tæt på 🌳")
    scale.get_by_text("Om dig (frivilligt)").click()
    scale.get_by_label("Jeg er").select_option("parent")
    scale.get_by_role("button", name="Send svar").click()
    expect(scale.locator(".closed-thanks")).to_have_text("Tak! Dit svar: Godt")
    expect(scale.get_by_role("radio", name="Godt", exact=True)).not_to_be_checked()
    (first,) = _wait_for_answers(phone, session, 1)
    assert (first.value, first.text, first.role) == (4, "Der er legepladser tæt på 🌳", "parent")
    assert first.status is AnswerStatus.APPROVED

    # the role given once is offered in the other forms
    multiple = phone.locator(f"#spoergsmaal-{q['multiple'].id}")
    multiple.get_by_text("Om dig (frivilligt)").click()
    expect(multiple.get_by_label("Jeg er")).to_have_value("parent")

    # offline: kept on the phone, sent when the connection returns
    phone.context.set_offline(True)
    multiple.get_by_role("checkbox", name="Musik").check()
    multiple.get_by_role("checkbox", name="Natbus").check()
    multiple.get_by_role("button", name="Send svar").click()
    expect(multiple.locator(".closed-thanks")).to_contain_text("Tak! Dit svar: Musik, Natbus")
    expect(multiple.locator(".closed-thanks")).to_contain_text("når der er forbindelse")
    phone.context.set_offline(False)
    stored = _wait_for_answers(phone, session, 2)
    assert stored[1].value == ["o2", "o4"] and stored[1].status is AnswerStatus.COUNTED
    # (the failed send while offline is the browser's own console line)
    assert [e for e in errors if "ERR_INTERNET_DISCONNECTED" not in e] == []


def test_closed_questions_without_javascript(
    live_server: str, no_js_phone: Page, session: Session
) -> None:
    wall = make_wall(session, "lukket-uden-js", moderation=Moderation.PRE)
    q = add_closed_prompts(session, wall)
    no_js_phone.goto(f"{live_server}/w/lukket-uden-js")
    single = no_js_phone.locator(f"#spoergsmaal-{q['single'].id}")
    single.get_by_text("Udenfor").click()
    single.get_by_role("button", name="Send svar").click()
    expect(no_js_phone.get_by_role("heading", name="Tak for dit svar")).to_be_visible()
    expect(no_js_phone.locator(".note-value")).to_have_text("Udenfor")
    expect(no_js_phone.get_by_text("Dit svar er talt med.")).to_be_visible()
    screenshot(no_js_phone, "closed-thanks-nojs")
    stored = _wait_for_answers(no_js_phone, session, 1)
    assert stored[0].value == "o3"


def test_a_closed_question_on_a_kiosk_then_a_fresh_start(
    live_server: str, tablet: Page, session: Session
) -> None:
    wall = make_wall(session, "lukket-kiosk", moderation=Moderation.POST)
    q = add_closed_prompts(session, wall)
    device = create_device(session, wall, "Biblioteket i Nexø")
    device.idle_seconds = 3  # below the service's minimum, so the test need not wait
    session.commit()
    errors = collect_errors(tablet)
    tablet.goto(f"{live_server}/kiosk/lukket-kiosk?device={device.token}")
    expect(tablet.locator(".kiosk-tile")).to_have_count(5)
    expect(tablet.locator("form.closed-form:visible")).to_have_count(0)
    tablet.get_by_role("button", name=q["scale"].text).click()
    scale = tablet.locator(f"#spoergsmaal-{q['scale'].id}")
    expect(scale.get_by_role("radio").first).to_be_focused()
    screenshot(tablet, "closed-kiosk-scale")
    check_axe(tablet, "kiosk closed question")
    scale.get_by_text("Meget godt").click()
    scale.get_by_role("textbox", name="Hvorfor?").fill("Vi har stranden lige her")
    scale.get_by_role("button", name="Send svar").click()
    thanks = tablet.locator("#kiosk-thanks")
    expect(thanks.locator(".note-text")).to_have_text("Meget godt – Vi har stranden lige her")
    # the next person: the start screen, nothing chosen or written anywhere
    expect(tablet.get_by_role("heading", name="Vælg et spørgsmål")).to_be_visible(timeout=8000)
    assert tablet.evaluate(
        "![...document.querySelectorAll('input[type=radio], input[type=checkbox]')]"
        ".some(r => r.checked)"
    )
    assert tablet.evaluate("[...document.querySelectorAll('textarea')].every(t => !t.value)")
    (stored,) = _wait_for_answers(tablet, session, 1)
    assert (stored.value, stored.channel, stored.device_id) == (5, Channel.KIOSK, device.id)
    assert errors == []


def test_the_projector_shows_a_closed_questions_result_as_votes_arrive(
    live_server: str, projector: Page, session: Session
) -> None:
    wall = make_wall(session, "lukket-live", moderation=Moderation.POST)
    q = add_closed_prompts(session, wall)
    projector.goto(f"{live_server}/live/lukket-live?prompt={q['single'].id}")
    panel = projector.locator("#live-result")
    expect(panel.get_by_text("0 har svaret")).to_be_visible()
    for number, value in enumerate(["o3", "o3", "o1"]):
        projector.request.post(
            f"{live_server}/api/v1/walls/lukket-live/answers",
            data={
                "prompt_id": q["single"].id,
                "value": value,
                "client_submission_id": f"live-lukket-{number}",
            },
        )
    # within a poll or two (every 3 s; the server keeps a result 2 s)
    expect(panel.get_by_text("3 har svaret")).to_be_visible(timeout=10_000)
    udenfor = panel.locator('li[data-id="o3"]')
    expect(udenfor.locator("[data-slot=count]")).to_have_text("2 (67\u00a0%)")
    screenshot(projector, "closed-live")
    check_axe(projector, "projector with a closed question")
    # the result of a free-text question does not exist
    missing = projector.request.get(
        f"{live_server}/live/lukket-live/result?prompt={wall.prompts[0].id}"
    )
    assert missing.status == 404


def test_results_and_rounds_pages_pass_axe_on_a_phone_and_a_desktop(
    live_server: str, phone: Page, session: Session
) -> None:
    from surveys import rounds
    from tests.factories import STAFF_PASSWORD, make_staff, make_themed_run, submit

    wall = make_wall(session, "lukket-staff", moderation=Moderation.POST)
    q = add_closed_prompts(session, wall)
    for number in range(12):
        submit(
            session,
            wall,
            prompt_id=q["scale"].id,
            value=1 + number % 5,
            text="Fordi det er trygt her" if number == 0 else None,
            profile={"role": "parent" if number % 2 else "young"},
            client_submission_id=f"lukket-staff-{number:03d}",
        )
    viewer = make_staff(session, wall.campaign.organisation, "viewer")
    new = rounds.run_again(
        session,
        make_staff(session, wall.campaign.organisation, "manager"),
        wall.campaign,
        rounds.RoundInput("Runde to", "lukket-staff-2", "Forår 2027"),
    )
    make_themed_run(session, wall, {"tryghed · ro": (["tryghed", "ro"], 6)}, other=6)
    make_themed_run(session, new.walls[0], {"ro · tryghed": (["ro", "tryghed"], 2)}, other=10)
    phone.goto(f"{live_server}/staff/login")
    phone.get_by_label("E-mail").fill(viewer.email)
    phone.get_by_label("Adgangskode").fill(STAFF_PASSWORD)
    phone.get_by_role("button", name="Log ind").click()
    expect(phone).to_have_url(f"{live_server}/staff/")
    pages = [
        f"/staff/campaigns/{wall.campaign_id}/results?by=role",
        f"/staff/campaigns/{new.id}/results",
        f"/staff/campaigns/{new.id}/rounds",
    ]
    for width in (390, 1280):
        phone.set_viewport_size({"width": width, "height": 900})
        for path in pages:
            phone.goto(f"{live_server}{path}")
            expect(phone.locator("h1")).to_be_visible()
            check_axe(phone, f"{path} at {width}")
        screenshot(phone, f"closed-rounds-{width}", full_page=True)
