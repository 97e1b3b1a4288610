"""The wall's QR code and its printable A4 poster."""

from __future__ import annotations

import io
import xml.etree.ElementTree as ET

import segno
from flask.testing import FlaskClient
from sqlalchemy.orm import Session

from tests.factories import make_wall

SVG = "{http://www.w3.org/2000/svg}"


def _modules(root: ET.Element) -> str:
    """The path of the dark modules (the one with a stroke; the other is the white ground)."""
    [path] = [p for p in root.iter(f"{SVG}path") if p.get("stroke")]
    return path.get("d") or ""


def _expected_path(url: str) -> str:
    """The modules segno draws for ``url`` (what a phone's camera will read)."""
    buffer = io.BytesIO()
    segno.make(url, error="m", micro=False).save(
        buffer, kind="svg", scale=1, border=4, xmldecl=False, omitsize=True
    )
    return _modules(ET.fromstring(buffer.getvalue()))


def test_qr_code_leads_to_the_wall(client: FlaskClient, session: Session) -> None:
    make_wall(session, "godt-boerneliv")
    response = client.get("/w/godt-boerneliv/qr.svg")
    assert response.status_code == 200
    assert response.mimetype == "image/svg+xml"
    assert "max-age" in response.headers["Cache-Control"]
    root = ET.fromstring(response.data)
    assert root.tag == f"{SVG}svg"
    assert root.get("viewBox")  # scales to whatever size the poster or projector needs
    assert root.find(f"{SVG}title").text == "QR-kode til http://localhost/w/godt-boerneliv"  # type: ignore[union-attr]
    assert _modules(root) == _expected_path("http://localhost/w/godt-boerneliv")
    assert any(p.get("fill") == "#fff" for p in root.iter(f"{SVG}path"))  # a white quiet zone
    assert response.data.count(b"<script") == 0


def test_qr_code_for_one_prompt(client: FlaskClient, session: Session) -> None:
    wall = make_wall(session, "vaeg")
    prompt = wall.prompts[1]
    root = ET.fromstring(client.get(f"/w/vaeg/qr.svg?prompt={prompt.id}").data)
    url = f"http://localhost/w/vaeg?prompt={prompt.id}"
    assert _modules(root) == _expected_path(url)
    # An unknown prompt id falls back to the wall itself.
    root = ET.fromstring(client.get("/w/vaeg/qr.svg?prompt=99999").data)
    assert _modules(root) == _expected_path("http://localhost/w/vaeg")


def test_qr_code_of_unknown_wall_is_404(client: FlaskClient) -> None:
    assert client.get("/w/findes-ikke/qr.svg").status_code == 404
    assert client.get("/w/findes-ikke/poster").status_code == 404


def test_poster_has_question_qr_code_and_address(client: FlaskClient, session: Session) -> None:
    wall = make_wall(
        session,
        "godt-boerneliv",
        title="Det gode børneliv",
        intro="Vi vil gerne høre fra dig.",
    )
    response = client.get("/w/godt-boerneliv/poster")
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert '<h1 id="poster-heading">Det gode børneliv</h1>' in html
    for prompt in wall.prompts:
        assert prompt.text in html
    assert 'src="/w/godt-boerneliv/qr.svg"' in html
    assert 'alt="QR-kode, der åbner væggen: http://localhost/w/godt-boerneliv"' in html
    assert "localhost/w/godt-boerneliv</strong>" in html
    assert "Anonymt – intet navn, intet login" in html
    assert wall.campaign.organisation.name in html
    assert "css/poster.css?v=" in html
    assert 'data-action="print" hidden' in html  # the print button needs the script


def test_poster_for_one_prompt(client: FlaskClient, session: Session) -> None:
    wall = make_wall(session, "vaeg")
    prompt = wall.prompts[1]
    html = client.get(f"/w/vaeg/poster?prompt={prompt.id}").get_data(as_text=True)
    assert f'<h1 id="poster-heading">{prompt.text}</h1>' in html
    assert wall.prompts[0].text not in html
    assert f'src="/w/vaeg/qr.svg?prompt={prompt.id}"' in html
    assert f"localhost/w/vaeg?prompt={prompt.id}</strong>" in html


def test_poster_prints_on_a4(client: FlaskClient) -> None:
    with client.get("/static/css/poster.css") as response:
        css = response.get_data(as_text=True)
    assert "@page { size: A4 portrait;" in css
    assert "@media print" in css
