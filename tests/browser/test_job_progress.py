"""A background job's page in headless Chromium, phone and desktop: the progress bar moves
as the worker reports, and the page shows the result by itself when the job is done (its
script polls the JSON endpoint: no inline script under the CSP); axe."""

from __future__ import annotations

import pytest
from playwright.sync_api import Browser, expect
from sqlalchemy.orm import Session, sessionmaker

from surveys import jobs
from surveys.models import Job, JobStatus
from tests.factories import STAFF_PASSWORD, make_staff

from .conftest import check_axe, collect_errors, screenshot


@pytest.mark.parametrize("viewport", [(390, 844), (1280, 900)], ids=["phone", "desktop"])
def test_the_job_page_follows_the_worker_and_shows_the_result(
    live_server: str, browser: Browser, session: Session, viewport: tuple[int, int]
) -> None:
    analyst = make_staff(session, role="analyst", email="anna@example.dk")
    job, _ = jobs.request_job(
        session,
        kind="themes",
        key="themes:browser",
        organisation_id=analyst.organisation_id,
        requested_by_id=analyst.id,
        params={"back": "/staff/"},
    )
    jobs.claim(session, job.id)
    jobs.Progress(_sessions(session), job.id)(1200, 4000, "Reading the answers and finding themes")

    width, height = viewport
    context = browser.new_context(viewport={"width": width, "height": height}, locale="da-DK")
    context.set_default_timeout(15000)
    page = context.new_page()
    errors = collect_errors(page)
    page.goto(f"{live_server}/staff/login?next=/staff/jobs/{job.id}")
    page.get_by_label("E-mail").fill(analyst.email)
    page.get_by_label("Adgangskode").fill(STAFF_PASSWORD)
    page.get_by_role("button", name="Log ind").click()
    expect(page.get_by_role("heading", name="Finder temaer", level=1)).to_be_visible()
    expect(page.get_by_text("1.200 af 4.000 svar")).to_be_visible()
    bar = page.locator("progress")
    assert bar.get_attribute("max") == "4000" and bar.get_attribute("value") == "1200"
    assert page.evaluate("document.documentElement.scrollWidth") <= width
    check_axe(page, f"job page {width}")
    screenshot(page, f"job-running-{width}")

    # The worker moves on: the bar follows without a reload.
    jobs.Progress(_sessions(session), job.id)(3000)
    expect(page.get_by_text("3.000 af 4.000 svar")).to_be_visible()
    # ... and finishes: the page shows the result by itself.
    jobs.finish(session, job.id, {"themes": 7, "answers": 4000})
    expect(page.get_by_text("Temaerne er opdateret: 7 temaer ud fra 4000 svar.")).to_be_visible()
    assert page.locator("progress").count() == 0
    assert session.get(Job, job.id).status is JobStatus.DONE
    screenshot(page, f"job-done-{width}")
    context.close()
    assert errors == [], errors


def _sessions(session: Session) -> sessionmaker[Session]:
    """Sessions on the test's database, as a worker writes its progress."""
    return sessionmaker(session.get_bind())
