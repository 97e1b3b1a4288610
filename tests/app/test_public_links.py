"""Public links come from the configured base URL; a request naming an unknown host gets 400."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy.orm import Session

from app.config import load_config
from tests.app.staff_helpers import login
from tests.factories import make_staff, make_wall

EVIL = {"Host": "evil.example"}


@pytest.mark.parametrize("path", ["/w/vaeg/qr.svg", "/w/vaeg/poster", "/live/vaeg", "/w/vaeg"])
def test_an_unknown_host_is_refused(client: FlaskClient, session: Session, path: str) -> None:
    make_wall(session, "vaeg")
    response = client.get(path, headers=EVIL)
    assert response.status_code == 400
    assert b"evil.example" not in response.data
    assert "public" not in response.headers.get("Cache-Control", "")
    assert client.get(path, headers={"Host": "localhost:5000"}).status_code == 200


def test_links_come_from_the_base_url_whatever_trusted_host_is_asked(
    make_app: Callable[..., Flask], session: Session
) -> None:
    wall = make_wall(session, "vaeg")
    app = make_app(BASE_URL="https://stemmer.example.dk/", TRUSTED_HOSTS=["localhost", "10.0.0.7"])
    client = app.test_client()
    asked_by_address = {"Host": "10.0.0.7:8000"}
    qr = client.get("/w/vaeg/qr.svg", headers=asked_by_address).get_data(as_text=True)
    assert "https://stemmer.example.dk/w/vaeg" in qr and "10.0.0.7" not in qr
    poster = client.get("/w/vaeg/poster", headers=asked_by_address).get_data(as_text=True)
    assert "https://stemmer.example.dk/w/vaeg" in poster and "10.0.0.7" not in poster
    live = client.get("/live/vaeg", headers=asked_by_address).get_data(as_text=True)
    assert "stemmer.example.dk/w/vaeg" in live and "10.0.0.7" not in live

    login(client, make_staff(session, wall.campaign.organisation, "admin"))
    # The staff pages on localhost (where the login cookie is), links still at the base URL.
    staff_page = client.get(f"/staff/walls/{wall.id}")
    assert "https://stemmer.example.dk/w/vaeg" in staff_page.get_data(as_text=True)
    staff_qr = client.get(f"/staff/walls/{wall.id}/qr.svg")
    assert staff_qr.status_code == 200 and b"localhost" not in staff_qr.data
    wall.campaign.published_at = datetime.now(UTC)  # the report shows the page's link then
    session.commit()
    report = client.get(f"/staff/campaigns/{wall.campaign_id}/report")
    assert f"https://stemmer.example.dk/c/{wall.campaign.slug}/hoert" in report.get_data(
        as_text=True
    )
    assert client.get("/w/vaeg/qr.svg", headers=EVIL).status_code == 400


def test_kiosk_links_on_the_staff_page_use_the_base_url(
    make_app: Callable[..., Flask], session: Session
) -> None:
    wall = make_wall(session, "vaeg")
    app = make_app(BASE_URL="https://stemmer.example.dk", TRUSTED_HOSTS=["localhost"])
    client = app.test_client()
    login(client, make_staff(session, wall.campaign.organisation, "admin"))
    response = client.post(
        f"/staff/walls/{wall.id}/devices", data={"name": "Biblioteket", "idle_seconds": "60"}
    )
    assert response.status_code == 303
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "https://stemmer.example.dk/kiosk/vaeg?device=" in page


def test_configuration_defaults_and_environment(
    tmp_path: object, monkeypatch: pytest.MonkeyPatch
) -> None:
    for name in ("STEMMER_BASE_URL", "STEMMER_TRUSTED_HOSTS", "HOST", "PORT"):
        monkeypatch.delenv(name, raising=False)
    config = load_config(str(tmp_path), {"SECRET_KEY": "x"})
    assert config["BASE_URL"] == "http://127.0.0.1:5000"
    assert config["TRUSTED_HOSTS"] == ["127.0.0.1", "localhost"]

    monkeypatch.setenv("HOST", "0.0.0.0")
    monkeypatch.setenv("PORT", "8080")
    assert load_config(str(tmp_path), {"SECRET_KEY": "x"})["BASE_URL"] == "http://127.0.0.1:8080"

    monkeypatch.setenv("STEMMER_BASE_URL", "https://stemmer.example.dk/")
    monkeypatch.setenv("STEMMER_TRUSTED_HOSTS", "10.0.0.7, .intern.example.dk")
    config = load_config(str(tmp_path), {"SECRET_KEY": "x"})
    assert config["BASE_URL"] == "https://stemmer.example.dk"
    assert config["TRUSTED_HOSTS"] == ["stemmer.example.dk", "10.0.0.7", ".intern.example.dk"]

    for wrong in ("stemmer.example.dk", "ftp://stemmer.example.dk", "https://x.dk/stemmer"):
        monkeypatch.setenv("STEMMER_BASE_URL", wrong)
        with pytest.raises(ValueError, match="STEMMER_BASE_URL"):
            load_config(str(tmp_path), {"SECRET_KEY": "x"})
