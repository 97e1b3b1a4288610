"""Every participant page transfers at most 60 KB (HTML, CSS, JS and images, gzip-compressed,
fonts excluded), measured on what a fresh browser really fetched for the page."""

from __future__ import annotations

import gzip
from pathlib import Path
from urllib.parse import urlparse

from playwright.sync_api import Browser, Response
from playwright.sync_api import Error as PlaywrightError
from sqlalchemy.orm import Session

from surveys.answers import get_wall_by_slug
from surveys.demo import load_demo
from surveys.kiosk import create_device

from .conftest import PHONE, PROJECTOR, TABLET

LIMIT = 60 * 1024
REPORT = Path(__file__).resolve().parents[2] / "build" / "page-weights.txt"


def _weigh(
    browser: Browser, base: str, path: str, viewport: dict[str, int], *, post: bool = False
) -> dict[str, int]:
    """gzip size of every same-origin response a fresh browser fetched to show ``path``.

    With ``post``, the page's answer form is sent the plain way first and the page it leads
    to (the thank-you page) is weighed.
    """
    context = browser.new_context(viewport=viewport, locale="da-DK")
    responses: list[Response] = []
    try:
        page = context.new_page()
        if post:
            page.goto(base + path)
            page.get_by_role("textbox", name="Dit svar").fill("Et svar, der skal vejes")
            page.on("response", lambda response: responses.append(response))
            with page.expect_navigation():
                page.evaluate("document.querySelector('form.answer-form').submit()")
        else:
            page.on("response", lambda response: responses.append(response))
            page.goto(base + path)
        page.wait_for_load_state("load")
        sizes: dict[str, int] = {}
        for response in responses:
            url = urlparse(response.url)
            kind = response.headers.get("content-type", "")
            if not response.url.startswith(base) or "event-stream" in kind or "font" in kind:
                continue
            if 300 <= response.status < 400:
                continue  # a redirect has no body
            key = url.path + (f"?{url.query}" if url.query else "")
            try:
                body = response.body()
            except PlaywrightError:
                continue  # a late response of the page before (its body is gone); see below
            sizes[key] = len(gzip.compress(body, compresslevel=6, mtime=0))
        # Whatever the page refers to but came from a cache (or, like the service worker's
        # script, is fetched outside the page) counts too.
        referred = page.evaluate(
            """() => [...document.querySelectorAll('link[href], script[src], img[src]')]
                  .map(e => e.href || e.src)
                  .concat(document.body.dataset.sw ? [document.body.dataset.sw] : [])"""
        )
        for href in referred:
            url = urlparse(base + href if href.startswith("/") else href)
            key = url.path + (f"?{url.query}" if url.query else "")
            if url.netloc == urlparse(base).netloc and key not in sizes:
                body = context.request.get(f"{base}{key}").body()
                sizes[key] = len(gzip.compress(body, compresslevel=6, mtime=0))
        return sizes
    finally:
        context.close()


def test_every_participant_page_transfers_at_most_60_kb(
    live_server: str, browser: Browser, session: Session
) -> None:
    load_demo(session)
    wall = get_wall_by_slug(session, "godt-boerneliv")
    device = create_device(session, wall, "Sundhedsplejen")
    pages = {
        "wall (phone)": ("/w/godt-boerneliv", PHONE),
        "wall, young people (phone)": ("/w/unge-stemmer", PHONE),
        "kiosk (tablet)": (f"/kiosk/godt-boerneliv?device={device.token}", TABLET),
        "kiosk, invalid link": ("/kiosk/godt-boerneliv?device=forkert", TABLET),
        "live (projector)": ("/live/unge-stemmer", PROJECTOR),
        "poster": ("/w/godt-boerneliv/poster", PHONE),
        "404 page": ("/w/findes-ikke", PHONE),
        "accessibility statement": ("/tilgaengelighed", PHONE),
    }
    lines = []
    over = []
    for label, (path, viewport) in pages.items():
        sizes = _weigh(browser, live_server, path, viewport)
        total = sum(sizes.values())
        assert any(k.split("?")[0] == urlparse(path).path for k in sizes), (label, sizes)
        lines.append(f"{label:30} {total / 1024:6.1f} KB  ({len(sizes)} files)")
        if total > LIMIT:
            over.append((label, sizes))
    thanks = _weigh(browser, live_server, "/w/godt-boerneliv", PHONE, post=True)
    assert any("/tak" in key for key in thanks), thanks
    for label, sizes in (("thank-you page", thanks),):
        total = sum(sizes.values())
        lines.append(f"{label:30} {total / 1024:6.1f} KB  ({len(sizes)} files)")
        if total > LIMIT:
            over.append((label, sizes))
    REPORT.parent.mkdir(parents=True, exist_ok=True)
    REPORT.write_text("\n".join(lines) + "\n", encoding="utf-8")
    assert over == [], over
