"""Issue 25: the organisation's settings page (admins only, audited), its look on the
citizens' pages, the privacy notice on every wall, and walls that cannot open without a
data controller."""

from __future__ import annotations

import io
import os
import re

import pytest
from flask.testing import FlaskClient
from PIL import Image
from sqlalchemy import select
from sqlalchemy.orm import Session

from surveys import branding, organisations
from surveys.errors import InvalidInput
from surveys.models import AuditEntry, KioskDevice, Organisation, StaffRole, Wall
from tests.app.staff_helpers import login
from tests.factories import make_organisation, make_staff, make_wall

GOOD = {
    "controller_name": "Bornholms Regionskommune",
    "controller_address": "Ullasvej 23\n3700 Rønne",
    "controller_email": "borgerservice@brk.example.dk",
    "controller_phone": "+45 56 92 00 00",
    "dpo_email": "dpo@brk.example.dk",
    "accessibility_url": "https://was.digst.dk/stemmer-brk-dk",
    "display_name": "Bornholm",
    "brand_colour": "#1B4F8A",
}


def picture(kind: str = "PNG", size: tuple[int, int] = (120, 60)) -> bytes:
    """A small picture in ``kind`` (PNG or JPEG)."""
    out = io.BytesIO()
    Image.new("RGB", size, (27, 79, 138)).save(out, format=kind)
    return out.getvalue()


def fresh(session: Session, organisation: Organisation) -> Organisation:
    session.expire_all()
    found = session.get(Organisation, organisation.id)
    assert found is not None
    return found


def upload(client: FlaskClient, data: bytes, name: str = "logo.png"):
    return client.post(
        "/staff/organisation/logo",
        data={"action": "upload", "logo": (io.BytesIO(data), name)},
        content_type="multipart/form-data",
    )


# -- permissions and isolation ----------------------------------------------------------------


@pytest.mark.parametrize("role", [r for r in StaffRole if r is not StaffRole.ADMIN])
def test_only_admins_reach_the_settings(
    client: FlaskClient, session: Session, role: StaffRole
) -> None:
    organisation = make_organisation(session, "kun-admin")
    login(client, make_staff(session, organisation, role))
    assert client.get("/staff/organisation").status_code == 403
    assert client.post("/staff/organisation", data=GOOD).status_code == 403
    assert upload(client, picture()).status_code == 403
    after = fresh(session, organisation)
    assert after.display_name == "" and not after.has_logo


def test_an_admin_changes_only_the_own_organisation_and_it_is_audited(
    client: FlaskClient, session: Session
) -> None:
    own = make_organisation(session, "egen")
    other = make_organisation(session, "anden", display_name="Anden")
    login(client, make_staff(session, own, "admin"))
    response = client.post("/staff/organisation", data=GOOD)
    assert response.status_code == 303, response.get_data(as_text=True)[:3000]
    saved = fresh(session, own)
    assert saved.controller_name == "Bornholms Regionskommune"
    assert saved.brand_colour == "#1b4f8a"  # stored lower case
    assert saved.settings_changed_at is not None
    assert fresh(session, other).display_name == "Anden"
    entries = list(session.scalars(select(AuditEntry).where(AuditEntry.action.like("organ%"))))
    assert [(e.organisation_id, e.action) for e in entries] == [(own.id, "organisation.update")]
    assert entries[0].after is not None and entries[0].after["brand_colour"] == "#1b4f8a"
    assert upload(client, picture()).status_code == 303
    logo_entry = session.scalars(
        select(AuditEntry).where(AuditEntry.action == "organisation.logo")
    ).one()
    assert logo_entry.after == {"logo": True}  # never the bytes
    assert not fresh(session, other).has_logo


def test_the_service_refuses_another_organisations_admin(session: Session) -> None:
    own = make_organisation(session)
    other = make_organisation(session)
    admin = make_staff(session, other, "admin")
    with pytest.raises(InvalidInput):
        organisations.update_settings(
            session, admin, own, organisations.SettingsInput(display_name="Overtaget")
        )
    with pytest.raises(InvalidInput):
        organisations.set_logo(session, admin, own, picture())
    session.rollback()
    assert fresh(session, own).display_name == ""


# -- bad input ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("brand_colour", "red", "Skriv farven som #"),
        ("brand_colour", "#12345", "Skriv farven som #"),
        ("brand_colour", "#ffcc00", "Hvid tekst på #ffcc00 har kun en kontrast på 1,51:1"),
        ("brand_colour", "#777777", "kontrast på 4,48:1"),
        ("controller_email", "ikke en adresse", "ikke en e-mailadresse"),
        ("dpo_email", "a@b", "ikke en e-mailadresse"),
        ("accessibility_url", "https://evil.example/was.digst.dk", "was.digst.dk"),
        ("accessibility_url", "javascript:alert(1)", "was.digst.dk"),
        ("controller_phone", "ring til mig", "Telefonnummeret må kun"),
    ],
)
def test_bad_values_are_refused_in_danish_and_nothing_is_saved(
    client: FlaskClient, session: Session, field: str, value: str, message: str
) -> None:
    organisation = make_organisation(session)
    login(client, make_staff(session, organisation, "admin"))
    response = client.post("/staff/organisation", data={**GOOD, field: value})
    assert response.status_code == 400
    assert message in response.get_data(as_text=True)
    assert fresh(session, organisation).display_name == ""


def test_huge_and_binary_text_is_refused_or_cleaned(client: FlaskClient, session: Session) -> None:
    organisation = make_organisation(session)
    login(client, make_staff(session, organisation, "admin"))
    huge = client.post("/staff/organisation", data={**GOOD, "display_name": "x" * 100_000})
    assert huge.status_code == 400
    assert fresh(session, organisation).display_name == ""
    with pytest.raises(InvalidInput):  # the service holds the line without the form too
        organisations.update_settings(
            session,
            make_staff(session, organisation, "admin"),
            organisation,
            organisations.SettingsInput(controller_address="Vej 1\n" * 50),
        )
    session.rollback()
    binary = client.post(
        "/staff/organisation", data={**GOOD, "display_name": "Born\x00holm\u202e\x07"}
    )
    assert binary.status_code == 303
    assert fresh(session, organisation).display_name == "Bornholm"


def test_an_svg_logo_is_refused(client: FlaskClient, session: Session) -> None:
    organisation = make_organisation(session)
    login(client, make_staff(session, organisation, "admin"))
    svg = b'<?xml version="1.0"?><svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>'
    response = upload(client, svg, "logo.svg")
    assert response.status_code == 400
    assert "SVG-filer kan ikke bruges" in response.get_data(as_text=True)
    assert not fresh(session, organisation).has_logo


def test_a_20_mb_png_is_refused_before_it_is_read(client: FlaskClient, session: Session) -> None:
    organisation = make_organisation(session)
    login(client, make_staff(session, organisation, "admin"))
    # the body built by hand: the test client would spool it to a file of its own
    boundary = "graense-0123456789"
    body = (
        (
            f'--{boundary}\r\nContent-Disposition: form-data; name="logo"; filename="logo.png"\r\n'
            "Content-Type: image/png\r\n\r\n"
        ).encode()
        + picture()
        + os.urandom(20 * 1024 * 1024)
        + f"\r\n--{boundary}--\r\n".encode()
    )
    response = client.post(
        "/staff/organisation/logo",
        data=body,
        content_type=f"multipart/form-data; boundary={boundary}",
    )
    assert response.status_code == 413
    assert not fresh(session, organisation).has_logo
    with pytest.raises(InvalidInput, match="too large"):  # and the domain's own limit
        branding.clean_logo(picture() + b"\0" * branding.MAX_LOGO_BYTES)


@pytest.mark.parametrize(
    "data",
    [
        b"\x89PNG\r\n\x1a\n" + b"\0" * 200,  # a PNG's signature and nothing of a picture
        b"GIF89a" + b"\0" * 100,  # a picture, but not PNG or JPEG
        b"%PDF-1.7 not a picture",
    ],
)
def test_files_that_are_not_png_or_jpeg_are_refused(data: bytes) -> None:
    with pytest.raises(InvalidInput, match="PNG or JPEG"):
        branding.clean_logo(data)


def test_a_png_declaring_huge_dimensions_is_refused() -> None:
    with pytest.raises(InvalidInput):
        branding.clean_logo(picture(size=(5000, 4000)))


def test_a_logo_is_re_encoded_as_png_without_what_was_appended(
    client: FlaskClient, session: Session
) -> None:
    organisation = make_organisation(session, "logo-kommune")
    login(client, make_staff(session, organisation, "admin"))
    smuggled = picture("JPEG", size=(1600, 400)) + b"<script>alert(1)</script>"
    assert upload(client, smuggled, "logo.jpg").status_code == 303
    stored = fresh(session, organisation).logo_png
    assert stored is not None and stored.startswith(b"\x89PNG") and b"<script>" not in stored
    assert Image.open(io.BytesIO(stored)).size == (800, 200)  # fitted into 800 × 240
    served = client.get("/o/logo-kommune/logo.png")
    assert served.status_code == 200 and served.mimetype == "image/png"
    assert served.data == stored
    assert served.headers["X-Content-Type-Options"] == "nosniff"
    assert client.post("/staff/organisation/logo", data={"action": "remove"}).status_code == 303
    assert client.get("/o/logo-kommune/logo.png").status_code == 404


# -- contrast ------------------------------------------------------------------------------


def test_contrast_follows_wcag() -> None:
    assert branding.contrast("#000000", "#ffffff") == pytest.approx(21)
    assert branding.contrast("#767676", "#ffffff") == pytest.approx(4.54, abs=0.01)
    assert branding.clean_colour("#767676") == "#767676"
    with pytest.raises(InvalidInput):
        branding.clean_colour("#777777")


@pytest.mark.parametrize("colour", ["#767676", "#0b5c4a", "#1b4f8a", "#b00020", "#000000"])
def test_every_colour_derived_from_an_accepted_one_keeps_aa(colour: str) -> None:
    colours = branding.palette(colour)
    white = "#ffffff"
    assert branding.contrast(colours.main, white) >= 4.5  # buttons, header, links
    assert branding.contrast(colours.dark, white) >= 4.5  # hover, the projector's background
    assert branding.contrast(colours.dark, colours.wash) >= 4.5  # a secondary button's hover


# -- the citizens' pages -------------------------------------------------------------------------


def branded_wall(session: Session) -> Wall:
    organisation = make_organisation(
        session,
        "brk",
        name="BRK",
        **{**GOOD, "brand_colour": "#1b4f8a"},
        has_logo=True,
        logo_png=branding.clean_logo(picture()),
    )
    wall = make_wall(session, "brk-vaeg", organisation=organisation)
    wall.campaign.privacy_purpose = "Vi bruger svarene til at lave en ny plan for legepladser."
    wall.campaign.retention_months = 12
    session.commit()
    return wall


def test_a_branded_wall_links_its_look_notice_and_statement(
    client: FlaskClient, session: Session
) -> None:
    branded_wall(session)
    html = client.get("/w/brk-vaeg").get_data(as_text=True)
    css = re.search(r'href="(/o/brk/brand\.css\?v=\d+)"', html)
    assert css is not None
    assert re.search(r'<img class="brand-logo" src="/o/brk/logo\.png\?v=\d+" alt="Bornholm">', html)
    # near the send button, without JavaScript: the notice's own page
    form = html[html.index('class="answer-form"') : html.index("</form>")]
    assert 'href="/w/brk-vaeg/privatliv"' in form
    footer = html[html.index('<footer class="site-footer">') :]
    assert 'href="/w/brk-vaeg/privatliv"' in footer
    assert 'href="https://was.digst.dk/stemmer-brk-dk"' in footer
    sheet = client.get(css.group(1))
    assert sheet.status_code == 200 and sheet.mimetype == "text/css"
    assert "--accent: #1b4f8a" in sheet.get_data(as_text=True)


def test_an_unbranded_wall_keeps_stemmers_look_and_links_the_apps_statement(
    client: FlaskClient, session: Session
) -> None:
    wall = make_wall(session, "almindelig")
    slug = wall.campaign.organisation.slug
    html = client.get("/w/almindelig").get_data(as_text=True)
    assert "brand.css" not in html and "brand-logo" not in html
    assert f'href="/o/{slug}/tilgaengelighed"' in html
    assert client.get(f"/o/{slug}/brand.css").status_code == 404
    statement = client.get(f"/o/{slug}/tilgaengelighed").get_data(as_text=True)
    assert "borger@kommune.example.dk" in statement  # the organisation's contact


def test_the_privacy_notice_says_everything_article_13_asks(
    client: FlaskClient, session: Session
) -> None:
    branded_wall(session)
    response = client.get("/w/brk-vaeg/privatliv")
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    for expected in (
        "Bornholms Regionskommune har ansvaret for dine svar",  # controller
        "Ullasvej 23",
        "borgerservice@brk.example.dk",
        "dpo@brk.example.dk",  # DPO
        "Vi bruger svarene til at lave en ny plan for legepladser.",  # the campaign's purpose
        "Dit svar er anonymt",
        "cookie",  # "enig"
        "IP-adresse",
        "højst en time",
        "12 måneder",  # retention
        "Dine rettigheder",
        "Datatilsynet",
        "Carl Jacobsens Vej 35",
        "www.datatilsynet.dk",
        "under 15 år",
    ):
        assert expected in html, expected
    assert "13 år" not in html


def test_the_kiosk_shows_the_notice_without_leaving(client: FlaskClient, session: Session) -> None:
    wall = branded_wall(session)
    session.add(KioskDevice(wall_id=wall.id, name="Biblioteket", token="kiosk-token-0123456789"))
    session.commit()
    html = client.get("/kiosk/brk-vaeg?device=kiosk-token-0123456789").get_data(as_text=True)
    details = html[html.index('<details class="privacy-details"') :]
    details = details[: details.index("</details>")]
    assert "Carl Jacobsens Vej 35" in details and "dpo@brk.example.dk" in details
    assert "<a " not in details  # no way out of the kiosk
    assert 'href="#privacy-details"' in html  # near the send button
    assert "/o/brk/brand.css" in html and "brand-logo" in html


def test_poster_projector_and_report_carry_the_look(client: FlaskClient, session: Session) -> None:
    branded_wall(session)
    poster = client.get("/w/brk-vaeg/poster").get_data(as_text=True)
    assert "/o/brk/brand.css" in poster and "/o/brk/logo.png" in poster and "Bornholm" in poster
    live = client.get("/live/brk-vaeg").get_data(as_text=True)
    assert "/o/brk/brand.css" in live and "/o/brk/logo.png" in live


def test_the_pdf_report_carries_logo_and_colour(app, session: Session) -> None:
    from app.staff.report_views import render_pdf, render_standalone
    from surveys.report import build_report

    wall = branded_wall(session)
    with app.test_request_context():
        from app.extensions import db

        campaign = db.session.get(type(wall.campaign), wall.campaign_id)
        report = build_report(db.session, campaign)
        html = render_standalone(report, embed_css=False)
        assert "--r-accent: #1b4f8a" in html and "@page cover { background: #1b4f8a; }" in html
        assert 'src="data:image/png;base64,' in html
        assert report.organisation == "Bornholm"
        pdf = render_pdf(report)
    assert pdf.startswith(b"%PDF") and b"/Subtype /Image" in pdf


# -- a wall cannot open without a data controller ---------------------------------------------


def test_a_wall_cannot_open_without_the_controller(client: FlaskClient, session: Session) -> None:
    organisation = make_organisation(
        session, "uden", controller_address="", controller_email="", dpo_email=""
    )
    wall = make_wall(session, "lukket-vaeg", organisation=organisation, closes_at=None)
    manager = make_staff(session, organisation, "manager")
    login(client, manager)
    response = client.post(
        f"/staff/campaigns/{wall.campaign_id}/walls/new",
        data={
            "title": "Ny væg",
            "slug": "ny-vaeg",
            "audience": "parents",
            "moderation": "pre",
            "languages": ["da"],
            "prompts": "Hvad er godt her?",
        },
    )
    text = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "Væggen kan ikke åbnes for borgerne endnu" in text
    assert (
        "den dataansvarliges postadresse, den dataansvarliges e-mailadresse, "
        "databeskyttelsesrådgiverens e-mailadresse"
    ) in text
    assert session.scalars(select(Wall).where(Wall.slug == "ny-vaeg")).first() is None
    opened = client.post(f"/staff/walls/{wall.id}/window", data={"action": "open"})
    assert opened.status_code == 303
    page = client.get(f"/staff/walls/{wall.id}").get_data(as_text=True)
    assert "Væggen kan ikke åbnes for borgerne endnu" in page
    # the admin fills in the controller; then the wall may open
    client.post("/staff/logout")
    login(client, make_staff(session, organisation, "admin"))
    assert client.get("/staff/organisation").get_data(as_text=True).count("Det mangler") == 1
    assert client.post("/staff/organisation", data=GOOD).status_code == 303
    assert client.post(f"/staff/walls/{wall.id}/window", data={"action": "open"}).status_code == 303
    assert "Væggen er åben" in client.get(f"/staff/walls/{wall.id}").get_data(as_text=True)
