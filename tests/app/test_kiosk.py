"""The kiosk: device tokens, the kiosk page, its form and JSON endpoint, and the CLI."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from flask.testing import FlaskClient, FlaskCliRunner
from sqlalchemy import select
from sqlalchemy.orm import Session

from surveys import answers
from surveys import kiosk as kiosks
from surveys.errors import NotFound
from surveys.models import Answer, Channel, KioskDevice, Wall, utcnow
from tests.factories import make_wall


def _device(session: Session, wall: Wall | None = None, **fields: object) -> KioskDevice:
    wall = wall or make_wall(session, "kiosk-vaeg")
    return kiosks.create_device(session, wall, "Biblioteket", **fields)  # type: ignore[arg-type]


def _answers(session: Session) -> list[Answer]:
    session.expire_all()
    return list(session.scalars(select(Answer).order_by(Answer.id)))


def _json(wall: Wall, **overrides: object) -> dict[str, object]:
    body: dict[str, object] = {
        "prompt_id": wall.prompts[0].id,
        "text": "Flere bøger til de mindste",
        "client_submission_id": "kiosk-submission-1",
        "profile": {"role": "parent"},
    }
    body.update(overrides)
    return body


# --- service ---


def test_a_kiosk_answer_records_channel_and_device(session: Session) -> None:
    device = _device(session)
    result = answers.submit_answer(
        session,
        device.wall,
        channel=Channel.KIOSK,
        device=device,
        prompt_id=device.wall.prompts[0].id,
        text="Læsehjørne med puder",
        client_submission_id="kiosk-service-01",
    )
    assert result.created
    assert result.answer.channel is Channel.KIOSK
    assert result.answer.device_id == device.id
    assert device.last_seen_at is not None
    again = answers.submit_answer(
        session,
        device.wall,
        channel=Channel.KIOSK,
        device=device,
        prompt_id=device.wall.prompts[0].id,
        text="Læsehjørne med puder",
        client_submission_id="kiosk-service-01",
    )
    assert not again.created and again.answer.id == result.answer.id


def test_revoked_device_cannot_answer_and_gets_410(session: Session) -> None:
    device = _device(session)
    kiosks.revoke_device(session, device)
    with pytest.raises(kiosks.DeviceRevoked) as raised:
        answers.submit_answer(
            session,
            device.wall,
            channel=Channel.KIOSK,
            device=device,
            prompt_id=device.wall.prompts[0].id,
            text="x",
            client_submission_id="kiosk-service-02",
        )
    assert raised.value.status == 410
    with pytest.raises(kiosks.DeviceRevoked):
        kiosks.active_device(session, device.wall, device.token)


def test_active_device_refuses_unknown_tokens_and_other_walls(session: Session) -> None:
    device = _device(session)
    other = make_wall(session, "anden-vaeg")
    for wall, token in ((device.wall, "ukendt"), (device.wall, None), (other, device.token)):
        with pytest.raises(NotFound) as raised:
            kiosks.active_device(session, wall, token)
        assert raised.value.status == 404
        assert raised.value.code == "kiosk_device_invalid"


def test_find_and_list_devices(session: Session) -> None:
    device = _device(session)
    second = _device(session, make_wall(session, "anden"))
    assert kiosks.find_device(session, str(device.id)) is device
    assert kiosks.find_device(session, device.token) is device
    assert kiosks.find_device(session, "nope") is None
    assert kiosks.list_devices(session) == [device, second]
    assert kiosks.list_devices(session, second.wall) == [second]


# --- the kiosk page ---


def test_kiosk_page_for_a_device(client: FlaskClient, session: Session) -> None:
    device = _device(session, idle_seconds=45)
    response = client.get(f"/kiosk/kiosk-vaeg?device={device.token}")
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert 'data-idle="45"' in html
    assert f'data-device="{device.token}"' in html
    assert 'data-msg-queued="Gemt – sendes, når der er forbindelse"' in html
    assert 'rel="manifest"' in html
    assert "Tilgængelighedserklæring" in html
    for prompt in device.wall.prompts:
        assert prompt.text in html
    # Nothing leads away from the wall: every link stays on this kiosk.
    for href in re.findall(r'<a [^>]*href="([^"]*)"', html):
        assert href.startswith(("#", "?device=")), href
    session.expire_all()
    assert session.get(KioskDevice, device.id).last_seen_at is not None


@pytest.mark.parametrize(
    ("query", "status", "message"),
    [
        ("?device=forkert", 404, "Dette kiosk-link er ikke (længere) gyldigt."),
        ("", 404, "Dette kiosk-link er ikke (længere) gyldigt."),
        ("?device=REVOKED", 410, "Denne kiosk er slået fra."),
    ],
)
def test_invalid_kiosk_links_get_a_clear_page(
    client: FlaskClient, session: Session, query: str, status: int, message: str
) -> None:
    device = _device(session)
    if "REVOKED" in query:
        kiosks.revoke_device(session, device)
        query = f"?device={device.token}"
    response = client.get(f"/kiosk/kiosk-vaeg{query}")
    assert response.status_code == status
    html = response.get_data(as_text=True)
    assert message in html
    assert "<textarea" not in html and "<form" not in html


def test_kiosk_of_unknown_wall_is_404(client: FlaskClient) -> None:
    assert client.get("/kiosk/findes-ikke?device=x").status_code == 404


def test_kiosk_token_of_another_wall_is_refused(client: FlaskClient, session: Session) -> None:
    device = _device(session)
    make_wall(session, "anden-vaeg")
    assert client.get(f"/kiosk/anden-vaeg?device={device.token}").status_code == 404


def test_closed_wall_on_a_kiosk(client: FlaskClient, session: Session) -> None:
    wall = make_wall(session, "lukket", closes_at=utcnow() - timedelta(days=1))
    device = _device(session, wall)
    html = client.get(f"/kiosk/lukket?device={device.token}").get_data(as_text=True)
    assert "Denne væg er lukket" in html
    assert "<textarea" not in html


# --- the plain form (without JavaScript) ---


def test_plain_kiosk_form_stores_and_thanks_without_showing_the_text(
    client: FlaskClient, session: Session
) -> None:
    device = _device(session)
    wall = device.wall
    response = client.post(
        "/kiosk/kiosk-vaeg",
        data={
            "device": device.token,
            "prompt_id": str(wall.prompts[1].id),
            "text": "Mit svar på biblioteket",
            "client_submission_id": "kiosk-form-0001",
            "role": "young",
        },
    )
    assert response.status_code == 303
    assert response.headers["Location"].endswith(f"/kiosk/kiosk-vaeg/tak?device={device.token}")
    [answer] = _answers(session)
    assert (answer.channel, answer.device_id, answer.role) == (Channel.KIOSK, device.id, "young")
    thanks = client.get(response.headers["Location"])
    html = thanks.get_data(as_text=True)
    assert "Tak for dit svar" in html and "Mit svar på biblioteket" not in html
    assert f'href="/kiosk/kiosk-vaeg/forfra?device={device.token}"' in html


def test_plain_kiosk_form_errors_keep_the_text(client: FlaskClient, session: Session) -> None:
    device = _device(session)
    response = client.post(
        "/kiosk/kiosk-vaeg",
        data={"device": device.token, "text": "Uden spørgsmål", "client_submission_id": "k-000001"},
    )
    assert response.status_code == 400
    html = response.get_data(as_text=True)
    assert "Vælg et af spørgsmålene." in html
    assert "Uden spørgsmål" in html
    assert _answers(session) == []


def test_plain_kiosk_form_with_revoked_device_stores_nothing(
    client: FlaskClient, session: Session
) -> None:
    device = _device(session)
    kiosks.revoke_device(session, device)
    response = client.post(
        "/kiosk/kiosk-vaeg",
        data={
            "device": device.token,
            "prompt_id": str(device.wall.prompts[0].id),
            "text": "Hej",
            "client_submission_id": "kiosk-form-0002",
        },
    )
    assert response.status_code == 410
    assert _answers(session) == []


# --- the JSON endpoint used by the kiosk's script and its offline outbox ---


def test_json_answer_needs_the_device_header(client: FlaskClient, session: Session) -> None:
    device = _device(session)
    response = client.post("/kiosk/kiosk-vaeg/answers", json=_json(device.wall))
    assert response.status_code == 404
    assert response.get_json()["error"]["code"] == "kiosk_device_invalid"
    assert _answers(session) == []


def test_json_answer_is_idempotent_and_tied_to_the_device(
    client: FlaskClient, session: Session
) -> None:
    device = _device(session)
    headers = {"X-Kiosk-Device": device.token, "Content-Language": "en"}
    first = client.post("/kiosk/kiosk-vaeg/answers", json=_json(device.wall), headers=headers)
    assert first.status_code == 201
    body = first.get_json()
    assert body["client_submission_id"] == "kiosk-submission-1"
    assert body["status"] == "pending"
    retry = client.post("/kiosk/kiosk-vaeg/answers", json=_json(device.wall), headers=headers)
    assert retry.status_code == 200 and retry.get_json()["id"] == body["id"]
    reused = client.post(
        "/kiosk/kiosk-vaeg/answers", json=_json(device.wall, text="Noget andet"), headers=headers
    )
    assert reused.status_code == 409
    [answer] = _answers(session)
    assert (answer.channel, answer.device_id, answer.language) == (Channel.KIOSK, device.id, "en")
    assert answer.role == "parent"


@pytest.mark.parametrize(
    ("payload", "code"),
    [
        ("not json", "invalid_json"),
        ({"unexpected": 1}, "unknown_field"),
        ({"text": ""}, "empty_text"),
        ({"channel": "web"}, "unknown_field"),
    ],
)
def test_json_answer_rejects_bad_input(
    client: FlaskClient, session: Session, payload: object, code: str
) -> None:
    device = _device(session)
    headers = {"X-Kiosk-Device": device.token}
    if isinstance(payload, dict):
        response = client.post(
            "/kiosk/kiosk-vaeg/answers", json=_json(device.wall, **payload), headers=headers
        )
    else:
        response = client.post(
            "/kiosk/kiosk-vaeg/answers", data=payload, headers=headers, content_type="text/plain"
        )
    assert response.status_code == 400
    assert response.get_json()["error"]["code"] == code
    assert _answers(session) == []


def test_json_answer_from_revoked_device_is_410(client: FlaskClient, session: Session) -> None:
    device = _device(session)
    kiosks.revoke_device(session, device)
    response = client.post(
        "/kiosk/kiosk-vaeg/answers",
        json=_json(device.wall),
        headers={"X-Kiosk-Device": device.token},
    )
    assert response.status_code == 410
    assert response.get_json()["error"]["message"].startswith("Denne kiosk er slået fra")


def test_manifest_opens_the_kiosk_full_screen(client: FlaskClient, session: Session) -> None:
    device = _device(session)
    response = client.get(f"/kiosk/kiosk-vaeg/manifest.webmanifest?device={device.token}")
    assert response.status_code == 200
    assert response.mimetype == "application/manifest+json"
    manifest = response.get_json()
    assert manifest["display"] == "fullscreen"
    assert manifest["start_url"] == f"/kiosk/kiosk-vaeg?device={device.token}"
    assert client.get("/kiosk/kiosk-vaeg/manifest.webmanifest?device=x").status_code == 404


# --- command line ---


def test_cli_add_prints_the_kiosk_url(runner: FlaskCliRunner, session: Session) -> None:
    make_wall(session, "godt-boerneliv")
    result = runner.invoke(
        args=[
            "kiosk",
            "add",
            "Sundhedsplejen Rønne",
            "--wall",
            "godt-boerneliv",
            "--idle-seconds",
            "90",
            "--base-url",
            "https://stemmer.example.dk/",
        ]
    )
    assert result.exit_code == 0, result.output
    device = session.scalars(select(KioskDevice)).one()
    assert device.name == "Sundhedsplejen Rønne" and device.idle_seconds == 90
    assert f"https://stemmer.example.dk/kiosk/godt-boerneliv?device={device.token}" in result.output


def test_cli_add_rejects_unknown_wall_and_bad_idle_time(
    runner: FlaskCliRunner, session: Session
) -> None:
    make_wall(session, "vaeg")
    unknown = runner.invoke(args=["kiosk", "add", "X", "--wall", "findes-ikke"])
    assert unknown.exit_code != 0 and "does not exist" in unknown.output
    too_short = runner.invoke(args=["kiosk", "add", "X", "--wall", "vaeg", "--idle-seconds", "5"])
    assert too_short.exit_code != 0
    assert session.scalars(select(KioskDevice)).all() == []


def test_cli_list_and_revoke(runner: FlaskCliRunner, session: Session) -> None:
    first = _device(session)
    second = _device(session, first.wall)
    listed = runner.invoke(args=["kiosk", "list", "--base-url", "http://k.dk"])
    assert listed.exit_code == 0
    assert f"http://k.dk/kiosk/kiosk-vaeg?device={first.token}" in listed.output
    assert listed.output.count("\tactive\t") == 2

    by_id = runner.invoke(args=["kiosk", "revoke", str(first.id)])
    assert by_id.exit_code == 0 and "Revoked" in by_id.output
    by_token = runner.invoke(args=["kiosk", "revoke", second.token])
    assert by_token.exit_code == 0
    again = runner.invoke(args=["kiosk", "revoke", second.token])
    assert "already revoked" in again.output
    unknown = runner.invoke(args=["kiosk", "revoke", "nope"])
    assert unknown.exit_code != 0
    session.expire_all()
    assert all(d.revoked_at is not None for d in kiosks.list_devices(session))
    assert runner.invoke(args=["kiosk", "list"]).output.count("\trevoked\t") == 2
