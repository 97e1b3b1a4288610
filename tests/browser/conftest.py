"""Browser fixtures: Debian's headless Chromium driven by Playwright, and a live server.

Nothing downloads a browser: Playwright launches ``/usr/bin/chromium`` (``make install``
installs it from Debian's packages). Browser tests are marked ``browser``.
"""

from __future__ import annotations

import functools
import os
import shutil
import threading
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from playwright.sync_api import Browser, Page, sync_playwright
from werkzeug.serving import make_server

CHROMIUM = os.environ.get("STEMMER_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-dev-shm-usage",
]
PHONE = {"width": 360, "height": 640}
TABLET = {"width": 800, "height": 1280}
PROJECTOR = {"width": 1920, "height": 1080}


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Everything under tests/browser is a browser test."""
    for item in items:
        if "tests/browser/" in str(item.fspath):
            item.add_marker(pytest.mark.browser)


@pytest.fixture(scope="session")
def browser() -> Iterator[Browser]:
    """One headless Chromium per test process."""
    if not shutil.which(CHROMIUM) and not os.path.exists(CHROMIUM):
        pytest.fail(f"Chromium not found at {CHROMIUM}: run 'make install' (Debian's chromium)")
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS
        )
        yield browser
        browser.close()


class _ClosingBody:
    """A response body that is closed even when the server forgets to."""

    def __init__(self, body: Iterable[bytes]) -> None:
        self._body = body
        self._closed = False

    def __iter__(self) -> Iterator[bytes]:
        return iter(self._body)

    def close(self) -> None:
        if not self._closed:
            self._closed = True
            close = getattr(self._body, "close", None)
            if close is not None:
                close()

    def __del__(self) -> None:
        self.close()


class _AlwaysClose:
    """WSGI middleware for Werkzeug's development server, which skips ``close()`` on the
    response body when the client resets the connection right after the response (its
    ``finally`` reads the socket first and that read raises). A static file's handle is then
    left to the garbage collector, and its ResourceWarning fails whichever test is running.
    Browsers reset connections they no longer need, so this happens now and then."""

    def __init__(self, wsgi_app: Any) -> None:
        self.wsgi_app = wsgi_app

    def __call__(self, environ: dict[str, Any], start_response: Any) -> _ClosingBody:
        return _ClosingBody(self.wsgi_app(environ, start_response))


@contextmanager
def serving(app: Flask, port: int = 0) -> Iterator[str]:
    """``app`` served on loopback (``port``, or a free one) while the block runs; gives its
    base URL. Every test server goes through :class:`_AlwaysClose`."""
    server = make_server("127.0.0.1", port, _AlwaysClose(app), threaded=True)
    # A short poll interval: shutdown() returns at once instead of after half a second.
    thread = threading.Thread(
        target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
    )
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}"
    finally:
        server.shutdown()
        thread.join(timeout=5)
        server.server_close()


@pytest.fixture
def live_server(app: Flask) -> Iterator[str]:
    """The test's app served on a free loopback port; yields its base URL."""
    with serving(app) as base:
        yield base


@pytest.fixture
def phone(browser: Browser) -> Iterator[Page]:
    """A page at phone size (360×640, touch, Danish)."""
    context = browser.new_context(
        viewport=PHONE, device_scale_factor=2, is_mobile=True, has_touch=True, locale="da-DK"
    )
    page = context.new_page()
    yield page
    context.close()


# --- Participant pages (issue 3): more viewports, axe-core, screenshots, request counting ---

AXE = Path(__file__).resolve().parents[2] / "node_modules" / "axe-core" / "axe.min.js"
AXE_TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]
SCREENSHOTS = Path(__file__).resolve().parents[2] / "build" / "screenshots"


@pytest.fixture(scope="session", autouse=True)
def _warm_guard() -> None:
    """Load the personal-data guard's name lists before the first answer, as the production
    server does at start (else the first answer of a process waits seconds for them, and the
    kiosk's timers run out under the test)."""
    from surveys.privacy import warm_up

    warm_up()


def _page(browser: Browser, **options: object) -> Iterator[Page]:
    context = browser.new_context(locale="da-DK", **options)
    context.set_default_timeout(5000)
    page = context.new_page()
    yield page
    context.close()


@pytest.fixture
def tablet(browser: Browser) -> Iterator[Page]:
    """A page at kiosk-tablet size (800×1280, touch, Danish)."""
    yield from _page(browser, viewport=TABLET, has_touch=True, is_mobile=True)


@pytest.fixture
def projector(browser: Browser) -> Iterator[Page]:
    """A page at projector size (1920×1080, Danish)."""
    yield from _page(browser, viewport=PROJECTOR)


@pytest.fixture
def no_js_phone(browser: Browser) -> Iterator[Page]:
    """A phone-sized page with JavaScript switched off."""
    yield from _page(browser, viewport=PHONE, java_script_enabled=False, is_mobile=True)


@pytest.fixture
def scriptless_phone(browser: Browser) -> Iterator[Page]:
    """A phone-sized page where the site's own scripts never load (what a visitor without
    JavaScript sees), while the test can still inject axe-core."""
    for page in _page(browser, viewport=PHONE, is_mobile=True):
        page.route("**/static/js/**", lambda route: route.abort())
        page.route("**/sw.js", lambda route: route.abort())
        yield page


@functools.cache
def _axe_source() -> str:
    return AXE.read_text(encoding="utf-8")


def check_axe(page: Page, label: str = "") -> None:
    """Run axe-core (WCAG 2.1 A/AA rules) on the page and fail on any violation."""
    if not AXE.exists():
        pytest.fail(f"axe-core not found at {AXE}: run 'make install' (npm ci)")
    if not page.evaluate("typeof window.axe !== 'undefined'"):
        # Evaluated through the DevTools protocol, which the page's strict CSP (no inline
        # scripts) does not apply to, unlike an injected <script> tag.
        page.evaluate(_axe_source() + "\n;0")
    violations = page.evaluate(
        """tags => axe.run(document, {runOnly: {type: 'tag', values: tags}})
              .then(r => r.violations.map(v => ({
                  id: v.id, impact: v.impact, help: v.help,
                  nodes: v.nodes.slice(0, 3).map(n => n.target.join(' ') + ': ' + n.failureSummary)
              })))""",
        AXE_TAGS,
    )
    assert violations == [], f"axe violations on {label or page.url}: {violations}"


def collect_errors(page: Page) -> list[str]:
    """Script errors and console errors (CSP violations among them) from now on."""
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(f"pageerror: {error}"))
    page.on(
        "console",
        lambda message: (
            errors.append(f"console: {message.text}")
            if message.type == "error"
            and "status of 404" not in message.text
            and "status of 410" not in message.text
            else None
        ),
    )
    return errors


def screenshot(page: Page, name: str, *, full_page: bool = False) -> None:
    """Keep a screenshot in build/screenshots (the reviewed ones are copied to docs/)."""
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / f"{name}.png"), full_page=full_page)


class RequestLog:
    """WSGI middleware recording the paths the live server was asked for."""

    def __init__(self, wsgi_app: Any) -> None:
        self.wsgi_app = wsgi_app
        self.paths: list[str] = []

    def __call__(self, environ: dict[str, Any], start_response: Any) -> Any:
        self.paths.append(f"{environ['REQUEST_METHOD']} {environ.get('PATH_INFO', '')}")
        return self.wsgi_app(environ, start_response)


@pytest.fixture
def request_log(app: Flask) -> RequestLog:
    """Every request the test's live server receives (method and path)."""
    log = RequestLog(app.wsgi_app)
    app.wsgi_app = log  # type: ignore[method-assign]
    return log
