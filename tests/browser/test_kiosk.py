"""The kiosk tablet in a real browser: one person after another, offline-safe."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from typing import Any
from urllib.parse import urlparse

import pytest
from flask import Flask
from playwright.sync_api import Page, expect
from sqlalchemy import select
from sqlalchemy.orm import Session

from surveys.kiosk import create_device, revoke_device
from surveys.models import Answer, Channel, KioskDevice, Wall
from tests.factories import make_wall

from .conftest import screenshot

SECRET = "Mit hemmelige svar om vuggestuen"
QUEUED = "Gemt – sendes, når der er forbindelse"
KEPT = "Dit svar er gemt på denne enhed og sendes, når der er forbindelse."


#: An offline reload is answered by the service worker, which the browser may first have to
#: start again: on a busy CI machine that once took more than the pages' 5 s default.
OFFLINE_RELOAD_MS = 15_000


def _kiosk(session: Session, idle_seconds: int = 60, **fields: object) -> tuple[Wall, KioskDevice]:
    wall = make_wall(session, "kiosk-vaeg", title="Sig din mening", **fields)
    device = create_device(session, wall, "Biblioteket i Rønne")
    # Below the service's minimum, so that the tests need not wait a minute.
    device.idle_seconds = idle_seconds
    session.commit()
    return wall, device


def _answers(session: Session) -> list[Answer]:
    session.expire_all()
    return list(session.scalars(select(Answer).order_by(Answer.id)))


def _wait_for_answers(page: Page, session: Session, count: int) -> list[Answer]:
    for _ in range(50):
        answers = _answers(session)
        if len(answers) >= count:
            return answers
        page.wait_for_timeout(100)
    return _answers(session)


#: True once the page and every script and stylesheet it uses are in the worker's cache.
#: (Evaluate it: ``wait_for_function`` does not await a promise but takes it as true.)
KEPT_IN_CACHE = """() => Promise.all([location.href, ...[...document.querySelectorAll(
        'script[src], link[rel=stylesheet]')].map(e => e.src || e.href)]
    .map(u => caches.match(u))).then(hits => hits.every(Boolean))"""


def _wait_until_kept_offline(page: Page) -> None:
    """The worker has told the page that everything is kept, and it is, and it controls the
    page (offline reloads are served only then)."""
    expect(page.locator("html")).to_have_attribute("data-offline", "ready", timeout=10_000)
    assert page.evaluate(KEPT_IN_CACHE)
    page.wait_for_function("() => navigator.serviceWorker.controller !== null")


def _expect_fresh_start(page: Page) -> None:
    """The start screen, with nothing of the previous person anywhere on the page."""
    expect(page.get_by_role("heading", name="Vælg et spørgsmål")).to_be_visible()
    expect(page.locator(".kiosk-tile").first).to_be_visible()
    expect(page.locator("#kiosk-thanks")).to_be_hidden()
    expect(page.locator("#kiosk-idle")).to_be_hidden()
    assert SECRET not in page.content()
    assert page.locator("textarea").input_value() == ""
    assert page.evaluate("[...document.querySelectorAll('select')].every(s => !s.value)")
    assert page.evaluate(
        "![...document.querySelectorAll('input[type=radio]')].some(r => r.checked)"
    )
    assert page.evaluate("![...document.querySelectorAll('details')].some(d => d.open)")


def test_kiosk_resets_after_each_answer(live_server: str, tablet: Page, session: Session) -> None:
    wall, device = _kiosk(session, idle_seconds=3)
    tablet.goto(f"{live_server}/kiosk/kiosk-vaeg?device={device.token}")
    expect(tablet.locator(".kiosk-tile")).to_have_count(2)
    screenshot(tablet, "kiosk-tablet-start")
    tablet.get_by_role("button", name=wall.prompts[1].text).click()
    box = tablet.get_by_role("textbox", name="Dit svar")
    expect(box).to_be_focused()
    box.fill(SECRET)
    tablet.get_by_text("Om dig (frivilligt)").click()
    tablet.get_by_label("Jeg er").select_option("parent")
    screenshot(tablet, "kiosk-tablet-write")
    first_id = tablet.locator("input[name=client_submission_id]").input_value()
    tablet.get_by_role("button", name="Send svar").click()

    thanks = tablet.locator("#kiosk-thanks")
    expect(thanks.get_by_role("heading", name="Tak for dit svar")).to_be_visible()
    expect(thanks.locator(".note-text")).to_have_text(SECRET)
    screenshot(tablet, "kiosk-tablet-thanks")
    _expect_fresh_start(tablet)
    assert tablet.locator("input[name=client_submission_id]").input_value() != first_id

    stored = _wait_for_answers(tablet, session, 1)
    assert [(a.text, a.channel, a.device_id, a.role) for a in stored] == [
        (SECRET, Channel.KIOSK, device.id, "parent")
    ]


def test_kiosk_starts_over_after_inactivity_with_a_warning(
    live_server: str, tablet: Page, session: Session
) -> None:
    wall, device = _kiosk(session, idle_seconds=3)
    tablet.goto(f"{live_server}/kiosk/kiosk-vaeg?device={device.token}")
    tablet.get_by_role("button", name=wall.prompts[0].text).click()
    tablet.get_by_role("textbox", name="Dit svar").fill("Et svar, jeg bliver ved med")
    # Warned halfway: answering "still here" keeps the text.
    dialog = tablet.get_by_role("alertdialog", name="Er du her stadig?")
    expect(dialog).to_be_visible()
    expect(dialog.get_by_role("button", name="Ja, jeg er her stadig")).to_be_focused()
    screenshot(tablet, "kiosk-tablet-still-there")
    dialog.get_by_role("button", name="Ja, jeg er her stadig").click()
    expect(dialog).to_be_hidden()
    expect(tablet.get_by_role("textbox", name="Dit svar")).to_have_value(
        "Et svar, jeg bliver ved med"
    )
    # Then the person walks away: the warning, and then a fresh start.
    tablet.get_by_role("textbox", name="Dit svar").fill(SECRET)
    tablet.get_by_text("Om dig (frivilligt)").click()
    tablet.get_by_label("Hvor bor du?").select_option("Nexø")
    expect(dialog).to_be_visible()
    _expect_fresh_start(tablet)
    assert _answers(session) == []


def test_kiosk_language_goes_back_to_the_walls_own_after_a_person(
    live_server: str, tablet: Page, session: Session
) -> None:
    wall, device = _kiosk(session, idle_seconds=2)
    tablet.goto(f"{live_server}/kiosk/kiosk-vaeg?device={device.token}")
    tablet.get_by_role("link", name="English").click()
    expect(tablet.get_by_role("heading", name="Choose a question")).to_be_visible()
    # On the English page the question is shown in its English text.
    tablet.get_by_role("button", name=wall.prompts[0].translations["en"]).click()
    tablet.get_by_role("textbox", name="Your answer").fill("Hello")
    expect(tablet.get_by_role("heading", name="Vælg et spørgsmål")).to_be_visible(timeout=8000)
    assert tablet.evaluate("document.documentElement.lang") == "da"


def test_kiosk_reloads_offline_and_sends_when_back_online(
    live_server: str, tablet: Page, session: Session
) -> None:
    wall, device = _kiosk(session)
    url = f"{live_server}/kiosk/kiosk-vaeg?device={device.token}"
    tablet.goto(url)
    expect(tablet.locator(".kiosk-tile").first).to_be_visible()
    # The page and every script and stylesheet it uses are kept before going offline.
    _wait_until_kept_offline(tablet)

    tablet.context.set_offline(True)
    response = tablet.reload(timeout=OFFLINE_RELOAD_MS)
    assert response is not None and response.from_service_worker
    expect(tablet.locator(".kiosk-tile").first).to_be_visible()

    tablet.get_by_role("button", name=wall.prompts[1].text).click()
    tablet.get_by_role("textbox", name="Dit svar").fill("Skrevet på en kiosk uden net")
    tablet.get_by_role("button", name="Send svar").click()
    expect(tablet.locator("#kiosk-thanks .thanks-status")).to_have_text(KEPT)
    expect(tablet.locator("#outbox-status")).to_have_text(QUEUED)
    tablet.get_by_role("button", name="Start forfra").click()
    _expect_fresh_start(tablet)
    assert _answers(session) == []

    tablet.context.set_offline(False)
    expect(tablet.locator("#outbox-status")).to_have_text("Dine gemte svar er sendt.")
    stored = _wait_for_answers(tablet, session, 1)
    assert [(a.text, a.channel, a.device_id) for a in stored] == [
        ("Skrevet på en kiosk uden net", Channel.KIOSK, device.id)
    ]


class _ConnectionGone:
    """WSGI middleware for a connection that is gone right after the page has loaded, as
    seen by the service worker: its own requests (``fetch()``: ``Sec-Fetch-Dest: empty``)
    are refused while ``refuse`` is set. With ``no_store`` static files are not kept in the
    browser's HTTP cache, so the worker cannot copy them from there."""

    def __init__(self, wsgi_app: Callable[..., Iterable[bytes]], *, no_store: bool = False):
        self.wsgi_app = wsgi_app
        self.no_store = no_store
        self.refuse = True
        self.refused: list[str] = []

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Any:
        path = environ.get("PATH_INFO", "")
        if (
            self.refuse
            and environ["REQUEST_METHOD"] == "GET"
            and environ.get("HTTP_SEC_FETCH_DEST") == "empty"
        ):
            self.refused.append(path)
            start_response("503 Service Unavailable", [("Cache-Control", "no-store")])
            return [b"unavailable"]
        if not (self.no_store and path.startswith("/static/")):
            return self.wsgi_app(environ, start_response)

        def not_stored(status: str, headers: list[tuple[str, str]], *rest: Any) -> Any:
            kept = [(name, value) for name, value in headers if name.lower() != "cache-control"]
            return start_response(status, [*kept, ("Cache-Control", "no-store")], *rest)

        return self.wsgi_app(environ, not_stored)


def _reloads_offline(page: Page) -> None:
    page.context.set_offline(True)
    response = page.reload(timeout=OFFLINE_RELOAD_MS)
    assert response is not None and response.from_service_worker
    expect(page.locator(".kiosk-tile").first).to_be_visible()
    expect(page.locator("html")).to_have_class(re.compile(r"\bkiosk-js\b"))  # kiosk.js ran


def test_kiosk_is_kept_offline_when_the_connection_drops_right_after_loading(
    app: Flask, live_server: str, tablet: Page, session: Session
) -> None:
    _wall, device = _kiosk(session)
    gone = _ConnectionGone(app.wsgi_app)
    app.wsgi_app = gone  # type: ignore[method-assign]
    tablet.goto(f"{live_server}/kiosk/kiosk-vaeg?device={device.token}")
    # The worker keeps what the tablet has just loaded without asking the server again.
    _wait_until_kept_offline(tablet)
    assert not {"/kiosk/kiosk-vaeg", "/static/js/kiosk.js"} & set(gone.refused)
    _reloads_offline(tablet)


def test_kiosk_asks_again_for_what_was_not_kept_when_the_connection_returns(
    app: Flask, live_server: str, tablet: Page, session: Session
) -> None:
    _wall, device = _kiosk(session)
    gone = _ConnectionGone(app.wsgi_app, no_store=True)
    app.wsgi_app = gone  # type: ignore[method-assign]
    tablet.goto(f"{live_server}/kiosk/kiosk-vaeg?device={device.token}")
    # The page itself comes from the HTTP cache; its assets had to be asked for, and were not.
    for _ in range(50):
        if "/static/js/kiosk.js" in gone.refused:
            break
        tablet.wait_for_timeout(100)
    assert "/static/js/kiosk.js" in gone.refused
    expect(tablet.locator("html")).not_to_have_attribute("data-offline", "ready")

    # The connection returns. (Playwright tells the page before the worker, so the first
    # try may still fail; the page tries again after a pause.)
    gone.refuse = False
    tablet.context.set_offline(True)
    tablet.wait_for_function("() => !navigator.onLine")
    tablet.context.set_offline(False)
    _wait_until_kept_offline(tablet)
    _reloads_offline(tablet)


def test_kiosk_is_kept_again_when_a_new_worker_version_takes_over(
    live_server: str, tablet: Page, session: Session, monkeypatch: pytest.MonkeyPatch
) -> None:
    _wall, device = _kiosk(session)
    tablet.goto(f"{live_server}/kiosk/kiosk-vaeg?device={device.token}")
    _wait_until_kept_offline(tablet)
    tablet.evaluate(
        "navigator.serviceWorker.addEventListener('controllerchange', () => window.taken = 1)"
    )
    # A deployment: the worker's script changes. The new version takes over the open page
    # (whose own listener has run by then) and, once activated, has deleted the old cache.
    monkeypatch.setattr("app.participate.views.assets_version", lambda: "ny-udgave")
    tablet.evaluate("navigator.serviceWorker.getRegistration().then(r => r.update())")
    tablet.wait_for_function("() => window.taken === 1")
    tablet.wait_for_function("() => navigator.serviceWorker.controller.state === 'activated'")
    _wait_until_kept_offline(tablet)
    assert tablet.evaluate("caches.keys()") == ["stemmer-ny-udgave"]
    _reloads_offline(tablet)


def test_kiosk_by_keyboard_alone(live_server: str, tablet: Page, session: Session) -> None:
    _wall, device = _kiosk(session)
    tablet.goto(f"{live_server}/kiosk/kiosk-vaeg?device={device.token}")
    expect(tablet.locator(".kiosk-tile").first).to_be_visible()
    for _ in range(10):
        tablet.keyboard.press("Tab")
        if tablet.evaluate("document.activeElement.className") == "kiosk-tile":
            break
    tablet.keyboard.press("Enter")
    expect(tablet.get_by_role("textbox", name="Dit svar")).to_be_focused()
    tablet.keyboard.type("Kun tastatur på kiosken")
    for _ in range(10):
        tablet.keyboard.press("Tab")
        if tablet.evaluate("document.activeElement.type") == "submit":
            break
    tablet.keyboard.press("Enter")
    expect(tablet.locator("#kiosk-thanks")).to_be_focused()
    assert [a.text for a in _wait_for_answers(tablet, session, 1)] == ["Kun tastatur på kiosken"]


def test_kiosk_has_no_way_away_from_the_wall(
    live_server: str, tablet: Page, session: Session
) -> None:
    _wall, device = _kiosk(session)
    tablet.goto(f"{live_server}/kiosk/kiosk-vaeg?device={device.token}")
    hrefs = tablet.eval_on_selector_all("a[href]", "links => links.map(a => a.href)")
    assert hrefs, "expected at least the language switch"
    for href in hrefs:
        assert urlparse(href).path == "/kiosk/kiosk-vaeg", href
    expect(tablet.get_by_text("Tilgængelighedserklæring")).to_be_visible()


def test_kiosk_plain_form_without_javascript(
    live_server: str, no_js_phone: Page, session: Session
) -> None:
    wall, device = _kiosk(session)
    page = no_js_phone
    page.goto(f"{live_server}/kiosk/kiosk-vaeg?device={device.token}")
    page.get_by_label(wall.prompts[0].text).check()
    page.get_by_role("textbox", name="Dit svar").fill(SECRET)
    page.get_by_role("button", name="Send svar").click()
    expect(page.locator("h1")).to_have_text("Tak for dit svar")
    assert SECRET not in page.content()  # the next person is right behind
    page.get_by_role("link", name="Start forfra").click()
    expect(page.get_by_role("textbox", name="Dit svar")).to_have_value("")
    assert [(a.channel, a.device_id) for a in _answers(session)] == [(Channel.KIOSK, device.id)]


def test_unknown_and_revoked_kiosk_links_get_a_clear_page(
    live_server: str, tablet: Page, session: Session
) -> None:
    _wall, device = _kiosk(session)
    response = tablet.goto(f"{live_server}/kiosk/kiosk-vaeg?device=ukendt-token")
    assert response is not None and response.status == 404
    expect(tablet.locator("h1")).to_have_text(
        "Dette kiosk-link er ikke (længere) gyldigt. Bed personalet om et nyt."
    )
    expect(tablet.locator("textarea")).to_have_count(0)
    revoke_device(session, device)
    response = tablet.goto(f"{live_server}/kiosk/kiosk-vaeg?device={device.token}")
    assert response is not None and response.status == 410
    expect(tablet.locator("h1")).to_have_text(
        "Denne kiosk er slået fra. Bed personalet om et nyt kiosk-link."
    )
    expect(tablet.locator("textarea")).to_have_count(0)
