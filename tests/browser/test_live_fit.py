"""The projector fits its screen: every theme and every shown note inside the viewport at
1280×720 and 1920×1080, with a reply; notes rotate through the newest; a spotlight (issue 24)."""

from __future__ import annotations

import re
from collections.abc import Iterator

import pytest
from flask import Flask
from playwright.sync_api import Browser, Page, expect
from sqlalchemy.orm import Session

from surveys.models import (
    Audience,
    StaffRole,
    Theme,
    ThemeAssignment,
    ThemeCuration,
    ThemeRun,
    Wall,
    WallReply,
    theme_scope_key,
)
from tests.factories import make_answer, make_staff, make_wall

from .conftest import check_axe, collect_errors, screenshot
from .test_report import _log_in, desktop  # noqa: F401  (a fixture)

#: Ten staff-named themes, as in the finding (3 of 10 were shown once a reply existed).
THEMES = [
    "Flere busser om aftenen",
    "Steder at være efter skole",
    "Klubben skal have åbent længere",
    "Bedre cykelstier til skolen",
    "Tryghed på stationen om aftenen",
    "Billigere fritidsaktiviteter",
    "Sport og hal i weekenden",
    "Mere grønt i byen",
    "Wifi på biblioteket",
    "Bedre mad i kantinen",
]
NOTE = (
    "Note {i}: Bussen går kun hver anden time om aftenen, så jeg kan ikke komme hjem fra "
    "træning, og det er mørkt og koldt at vente ved stationen"
)
REPLY = (
    "Tak for jeres svar! Byrådet har besluttet at køre bussen hver time om aftenen fra "
    "januar, og klubben får åbent til kl. 23 om fredagen. Vi fortæller mere på mødet."
)
SIZES = [(1280, 720), (1920, 1080)]


def make_busy_wall(session: Session, slug: str) -> Wall:
    """24 long notes, ten named themes of 5-14 answers each and a reply."""
    wall = make_wall(session, slug, title="Unge stemmer", audience=Audience.YOUNG)
    answers = [make_answer(session, wall, NOTE.format(i=i)) for i in range(24)]
    scope_key = theme_scope_key(wall.campaign_id, None, None)
    run = ThemeRun(campaign_id=wall.campaign_id, scope_key=scope_key, model=b"")
    session.add(run)
    for position, label in enumerate(THEMES):
        theme = Theme(key=f"t{position}", position=position, label=label)
        run.themes.append(theme)
        session.flush()
        for answer in answers[: 14 - position]:
            session.add(ThemeAssignment(theme_id=theme.id, answer_id=answer.id, run_id=run.id))
    renamed = {f"t{i}": label for i, label in enumerate(THEMES)}
    session.add(
        ThemeCuration(campaign_id=wall.campaign_id, scope_key=scope_key, data={"renamed": renamed})
    )
    session.add(WallReply(wall_id=wall.id, text=REPLY))
    session.commit()
    return wall


@pytest.fixture(params=SIZES, ids=[f"{w}x{h}" for w, h in SIZES])
def screen(request: pytest.FixtureRequest, browser: Browser) -> Iterator[Page]:
    width, height = request.param
    context = browser.new_context(locale="da-DK", viewport={"width": width, "height": height})
    context.set_default_timeout(5000)
    page = context.new_page()
    yield page
    context.close()


def _inside(page: Page, selector: str) -> list[str]:
    """The texts of visible elements matching ``selector`` that are not wholly on screen."""
    return page.evaluate(
        """selector => Array.from(document.querySelectorAll(selector))
            .filter(el => el.offsetParent !== null)
            .filter(el => {
                const r = el.getBoundingClientRect();
                return r.left < 0 || r.top < 0 || r.right > innerWidth + 0.5
                    || r.bottom > innerHeight + 0.5;
            })
            .map(el => el.textContent.trim().slice(0, 40))""",
        selector,
    )


def test_everything_fits_the_projector_with_a_reply(
    app: Flask, live_server: str, screen: Page, session: Session
) -> None:
    app.config.update(LIVE_STREAM_SECONDS=30, LIVE_POLL_SECONDS=0.3, LIVE_ROTATE_SECONDS=1.5)
    errors = collect_errors(screen)
    make_busy_wall(session, "travl")
    screen.goto(f"{live_server}/live/travl")
    size = screen.viewport_size
    assert size is not None
    name = f"live-fit-{size['width']}x{size['height']}"
    expect(screen.locator("#live-cloud .cloud-theme")).to_have_count(10)
    screen.wait_for_timeout(800)  # entry animations over
    screenshot(screen, name)
    # Every theme is shown, and inside the screen; so is every note shown and the reply.
    visible_themes = screen.locator("#live-cloud .cloud-theme:visible")
    assert visible_themes.count() == 10
    assert _inside(screen, "#live-cloud .cloud-theme") == []
    assert _inside(screen, ".live-note") == []
    assert _inside(screen, ".live-reply") == []
    assert _inside(screen, ".live-header, .live-filter, .live-footer") == []
    shown = screen.locator(".live-note:visible")
    first = set(shown.all_inner_texts())
    assert 2 <= len(first) < 24
    # The notes rotate through the newest: another set a moment later, still inside.
    screen.wait_for_timeout(2200)
    second = set(shown.all_inner_texts())
    assert second and second != first
    assert _inside(screen, ".live-note") == []
    screenshot(screen, name + "-rotated")
    assert errors == []


def test_reduced_motion_rotates_without_animation(
    app: Flask, live_server: str, browser: Browser, session: Session
) -> None:
    app.config.update(LIVE_STREAM_SECONDS=30, LIVE_POLL_SECONDS=0.3, LIVE_ROTATE_SECONDS=1)
    make_busy_wall(session, "rolig")
    context = browser.new_context(
        locale="da-DK", viewport={"width": 1920, "height": 1080}, reduced_motion="reduce"
    )
    page = context.new_page()
    try:
        page.goto(f"{live_server}/live/rolig")
        expect(page.locator(".live-note:visible").first).to_be_visible()
        animations = page.evaluate(
            "Array.from(document.querySelectorAll('.live-note, .cloud-theme'))"
            ".map(n => getComputedStyle(n).animationName).filter(a => a !== 'none')"
        )
        assert animations == []
        first = set(page.locator(".live-note:visible").all_inner_texts())
        page.wait_for_timeout(1600)
        assert set(page.locator(".live-note:visible").all_inner_texts()) != first
    finally:
        context.close()


def test_a_spotlighted_note_is_shown_large_and_fits(
    app: Flask, live_server: str, screen: Page, session: Session
) -> None:
    app.config.update(LIVE_STREAM_SECONDS=30, LIVE_POLL_SECONDS=0.3)
    errors = collect_errors(screen)
    wall = make_busy_wall(session, "fokus")
    screen.goto(f"{live_server}/live/fokus")
    expect(screen.locator("#live-spotlight")).to_be_hidden()
    chosen = make_answer(
        session, wall, "Vi vil have en skaterbane ved skolen – med lys om aftenen!"
    )
    wall.live_spotlight_id = chosen.id  # as the presenter page's "Spotlight" does
    session.commit()
    spot = screen.locator("#live-spotlight-text")
    expect(spot).to_have_text(chosen.text, timeout=6000)  # asked for every 3 s
    expect(screen.locator("#live-wall")).to_be_hidden()
    size = screen.viewport_size
    assert size is not None
    screen.wait_for_timeout(300)
    screenshot(screen, f"live-spotlight-{size['width']}x{size['height']}")
    assert float(spot.evaluate("n => parseFloat(getComputedStyle(n).fontSize)")) >= 36
    assert _inside(screen, "#live-spotlight, #live-cloud .cloud-theme, .live-reply") == []
    # A long note (the longest an answer can be) is shown in smaller type, inside the screen.
    long = make_answer(session, wall, ("Vi vil have en skaterbane ved skolen. " * 27)[:1000])
    wall.live_spotlight_id = long.id
    session.commit()
    expect(spot).to_have_class(re.compile(r"\bis-long\b"), timeout=6000)
    screen.wait_for_timeout(300)
    screenshot(screen, f"live-spotlight-long-{size['width']}x{size['height']}")
    assert _inside(screen, "#live-spotlight, #live-spotlight-text") == []
    # The presenter ends it: the notes come back.
    wall.live_spotlight_id = None
    session.commit()
    expect(screen.locator("#live-wall")).to_be_visible(timeout=6000)
    expect(screen.locator("#live-spotlight")).to_be_hidden()
    assert _inside(screen, ".live-note") == []
    assert errors == []


def test_presenter_page_spotlights_a_note_on_the_projector(
    app: Flask,
    live_server: str,
    desktop: Page,  # noqa: F811
    projector: Page,
    session: Session,
) -> None:
    app.config.update(LIVE_STREAM_SECONDS=30, LIVE_POLL_SECONDS=0.3)
    wall = make_busy_wall(session, "oplaeg")
    moderator = make_staff(session, wall.campaign.organisation, StaffRole.MODERATOR)
    projector.goto(f"{live_server}/live/oplaeg")
    _log_in(desktop, live_server, moderator.email)
    desktop.goto(f"{live_server}/staff/walls/{wall.id}")
    desktop.get_by_role("link", name="Styr projektoren").click()
    expect(desktop.get_by_role("heading", name="I fokus")).to_be_visible()
    check_axe(desktop, "presenter page")
    screenshot(desktop, "presenter", full_page=True)
    desktop.get_by_role("button", name="Sæt i fokus – Note 5").click()
    expect(desktop.get_by_role("button", name="Afslut fokus")).to_be_visible()
    expect(projector.locator("#live-spotlight-text")).to_contain_text("Note 5:", timeout=6000)
    desktop.get_by_role("button", name="Skjul – Note 7").click()
    expect(desktop.get_by_text("Note 7:")).to_have_count(0)
    desktop.get_by_role("button", name="Afslut fokus").click()
    expect(projector.locator("#live-wall")).to_be_visible(timeout=6000)
    assert "Note 7:" not in projector.locator("#live-notes").inner_text()
