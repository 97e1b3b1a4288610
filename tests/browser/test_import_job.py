"""The file import in headless Chromium, phone and desktop: upload, the preview of a large
file's first rows, "Importér alle svarene", then the job's page with the result and the rows
that were not imported; nothing scrolls sideways; axe."""

from __future__ import annotations

import pytest
from playwright.sync_api import Browser, expect
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from surveys.models import Answer, Moderation
from tests.factories import STAFF_PASSWORD, make_staff, make_wall

from .conftest import check_axe, collect_errors, screenshot


@pytest.mark.parametrize("viewport", [(390, 844), (1280, 900)], ids=["phone", "desktop"])
def test_a_large_file_is_previewed_then_imported_by_a_job(
    live_server: str,
    browser: Browser,
    session: Session,
    viewport: tuple[int, int],
    tmp_path: object,
) -> None:
    wall = make_wall(session, prompts=("Hvad savner du?",), moderation=Moderation.POST)
    manager = make_staff(session, wall.campaign.organisation, "manager", email="mia@example.dk")
    rows = [f"Flere bænke ved legepladsen nr. {n} 🌳" for n in range(260)]
    rows[230] = "=SUM(A1:A3)"  # a formula beyond the preview's rows: the job finds it
    data = ("Svar\n" + "".join(f"{row}\n" for row in rows)).encode()

    width, height = viewport
    context = browser.new_context(viewport={"width": width, "height": height}, locale="da-DK")
    context.set_default_timeout(15000)
    page = context.new_page()
    errors = collect_errors(page)
    page.goto(f"{live_server}/staff/login?next=/staff/walls/{wall.id}/import")
    page.get_by_label("E-mail").fill(manager.email)
    page.get_by_label("Adgangskode").fill(STAFF_PASSWORD)
    page.get_by_role("button", name="Log ind").click()
    page.locator("input[type=file]").set_input_files(
        files=[{"name": "svar.csv", "mimeType": "text/csv", "buffer": data}]
    )
    page.get_by_role("button", name="Upload og se forhåndsvisning").click()
    expect(
        page.get_by_text("så forhåndsvisningen læser og tjekker kun de første 200 rækker")
    ).to_be_visible()
    assert page.evaluate("document.documentElement.scrollWidth") <= width
    screenshot(page, f"import-preview-{width}")
    page.get_by_label("Importér de andre rækker og spring rækker med fejl over").check()
    page.get_by_role("button", name="Opdatér forhåndsvisningen").click()
    page.get_by_role("button", name="Importér alle svarene").click()

    # The tests' queue runs the job at once: its page shows the result.
    expect(page.get_by_role("heading", name="Importerer svar", level=1)).to_be_visible()
    expect(page.get_by_text("259 svar blev importeret (0 venter på moderation)")).to_be_visible()
    expect(page.get_by_role("heading", name="Rækker, der ikke blev importeret")).to_be_visible()
    expect(page.get_by_text("Række 232: Teksten er en regnearksformel")).to_be_visible()
    assert page.evaluate("document.documentElement.scrollWidth") <= width
    check_axe(page, f"import job page {width}")
    screenshot(page, f"import-job-done-{width}", full_page=True)
    page.get_by_role("link", name="Tilbage").click()
    expect(page).to_have_url(f"{live_server}/staff/walls/{wall.id}")
    context.close()
    assert errors == [], errors
    assert session.scalar(select(func.count()).where(Answer.wall_id == wall.id)) == 259
