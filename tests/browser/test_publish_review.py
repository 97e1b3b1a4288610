"""The publishing review and its preview in headless Chromium: axe, no console errors, a look."""

from __future__ import annotations

from playwright.sync_api import Page, expect
from sqlalchemy.orm import Session

from tests.app.test_publish_review import ENGINE_LABEL, make_world
from tests.browser.test_report import _log_in, desktop, narrow  # noqa: F401  (fixtures)

from .conftest import check_axe, screenshot


def test_review_names_themes_confirms_quotes_and_previews(
    live_server: str,
    desktop: Page,  # noqa: F811
    narrow: Page,  # noqa: F811
    session: Session,
) -> None:
    world = make_world(session)
    url = f"{live_server}/staff/campaigns/{world.campaign.id}/report/publish"
    for page, name in ((desktop, "desktop"), (narrow, "phone")):
        _log_in(page, live_server, world.manager.email)
        page.goto(url)
        expect(page.get_by_text("Mangler et navn")).to_be_visible()
        expect(page.get_by_label(f"“{world.profane.text}”")).to_be_disabled()
        screenshot(page, f"publish-review-{name}", full_page=True)
        check_axe(page, f"publishing review ({name})")

    page = desktop
    page.get_by_label("Vis temaet på den offentlige side").nth(1).check()
    # Publishing with the engine's label only is refused, and the page says which theme.
    page.get_by_role("button", name="Offentliggør", exact=True).click()
    expect(page.get_by_text("Giv disse temaer et navn")).to_contain_text(ENGINE_LABEL)
    page.get_by_label("Vis temaet på den offentlige side").nth(1).check()
    page.get_by_label("Navn, som borgerne ser").nth(1).fill("Bedre mad i kantinen")
    with page.context.expect_page() as opened:
        page.get_by_role("button", name="Se forhåndsvisning").click()
    preview = opened.value
    preview.wait_for_load_state()
    expect(preview.get_by_text("Forhåndsvisning – ikke offentlig.")).to_be_visible()
    expect(preview.get_by_role("heading", name="Bedre mad i kantinen")).to_be_visible()
    assert ENGINE_LABEL not in preview.content()
    screenshot(preview, "publish-preview", full_page=True)
    check_axe(preview, "publishing preview")
    preview.close()
    page.get_by_role("button", name="Offentliggør", exact=True).click()
    expect(page.get_by_text("Siden »Det har vi hørt« er offentliggjort")).to_be_visible()
