"""Moderators are told when answers wait: the staff menu's badge and the e-mail digest.

The digest is sent to a real SMTP server on this machine (aiosmtpd) started by the test.
"""

from __future__ import annotations

import socket
from collections.abc import Callable, Iterator
from datetime import timedelta
from email import message_from_bytes, policy
from email.message import EmailMessage
from typing import Any

import pytest
from aiosmtpd.controller import Controller
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select, update
from sqlalchemy.orm import Session

from surveys.models import Answer, AnswerStatus, AuditEntry
from surveys.notifications import DIGEST_ACTION
from tests.app.staff_helpers import login
from tests.factories import make_answer, make_organisation, make_staff, make_wall


class Inbox:
    """What the local SMTP server received."""

    def __init__(self) -> None:
        self.messages: list[tuple[list[str], EmailMessage]] = []

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        message = message_from_bytes(envelope.content, policy=policy.default)
        assert isinstance(message, EmailMessage)
        self.messages.append((list(envelope.rcpt_tos), message))
        return "250 Message accepted for delivery"

    def recipients(self) -> list[str]:
        return sorted(address for tos, _m in self.messages for address in tos)


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@pytest.fixture
def smtp() -> Iterator[tuple[Inbox, int]]:
    inbox = Inbox()
    port = _free_port()
    controller = Controller(inbox, hostname="127.0.0.1", port=port)
    controller.start()
    yield inbox, port
    controller.stop()


@pytest.fixture
def mail_app(make_app: Callable[..., Flask], smtp: tuple[Inbox, int]) -> Flask:
    _inbox, port = smtp
    return make_app(
        SMTP_HOST="127.0.0.1",
        SMTP_PORT=port,
        SMTP_STARTTLS=False,
        SMTP_FROM="Stemmer <stemmer@kommune.example>",
        BASE_URL="https://stemmer.kommune.example",
    )


def _world(session: Session) -> dict[str, Any]:
    """Two organisations: Bornholm with three answers waiting, Aarhus with none."""
    bornholm = make_organisation(session, "bornholm", name="Bornholms Regionskommune")
    wall = make_wall(session, "legepladser", organisation=bornholm, title="Legepladser")
    for text in ("Min nabo Jens Hansen larmer", "Flere gynger", "Mere skygge"):
        make_answer(session, wall, text, status=AnswerStatus.PENDING)
    make_answer(session, wall, "Allerede godkendt")
    aarhus = make_organisation(session, "aarhus", name="Aarhus Kommune")
    make_answer(session, make_wall(session, "aarhus-wall", organisation=aarhus), "Godkendt")
    return {
        "wall": wall,
        "moderator": make_staff(session, bornholm, "moderator", email="mod@brk.dk", name="Mona"),
        "admin": make_staff(session, bornholm, "admin", email="admin@brk.dk"),
        "viewer": make_staff(session, bornholm, "viewer", email="viewer@brk.dk"),
        "inactive": make_staff(session, bornholm, "moderator", email="old@brk.dk", is_active=False),
        "aarhus": make_staff(session, aarhus, "moderator", email="mod@aarhus.dk"),
    }


def test_the_menu_shows_how_many_answers_wait(client: FlaskClient, session: Session) -> None:
    people = _world(session)
    login(client, people["moderator"])
    html = client.get("/staff/").get_data(as_text=True)
    badge = (
        '<span class="menu-count" aria-hidden="true">3</span>'
        '<span class="sr-only">(3 svar venter)</span>'
    )
    assert html.count(badge) == 2  # the bar and the mobile drawer
    client.post("/staff/logout")
    login(client, people["viewer"])  # viewers do not moderate: no badge
    assert "menu-count" not in client.get("/staff/").get_data(as_text=True)
    client.post("/staff/logout")
    login(client, people["aarhus"])  # nothing waits in Aarhus
    assert "menu-count" not in client.get("/staff/").get_data(as_text=True)


def test_the_digest_goes_to_moderators_once_a_day_with_counts_only(
    mail_app: Flask, smtp: tuple[Inbox, int], session: Session
) -> None:
    from app.queue import moderation_digest

    inbox, _port = smtp
    people = _world(session)
    with mail_app.app_context():
        moderation_digest()
    assert inbox.recipients() == ["admin@brk.dk", "mod@brk.dk"]
    _tos, message = next(m for m in inbox.messages if m[0] == ["mod@brk.dk"])
    assert message["Subject"] == "3 svar venter på moderation i Stemmer"
    assert message["From"] == "Stemmer <stemmer@kommune.example>"
    assert message["To"] == "Mona <mod@brk.dk>"
    body = message.get_content()
    assert "Hej Mona" in body
    assert "3 svar venter på moderation hos Bornholms Regionskommune:" in body
    assert f"- {people['wall'].campaign.title}: 3 svar" in body
    assert "https://stemmer.kommune.example/staff/moderation" in body
    for text in ("Jens Hansen", "gynger", "skygge"):  # never an answer's text
        assert text not in body
    sent = session.scalars(select(AuditEntry).where(AuditEntry.action == DIGEST_ACTION)).all()
    assert sorted(e.target_id for e in sent) == sorted([people["moderator"].id, people["admin"].id])
    assert sent[0].after == {"waiting": 3, "campaigns": 1}

    # Within a day nothing more is sent; a day later it is, while answers still wait.
    with mail_app.app_context():
        moderation_digest()
    assert len(inbox.messages) == 2
    for entry in sent:
        entry.created_at -= timedelta(hours=25)
    session.commit()
    with mail_app.app_context():
        moderation_digest()
    assert len(inbox.messages) == 4


def test_no_digest_without_smtp_or_without_waiting_answers(
    make_app: Callable[..., Flask], mail_app: Flask, smtp: tuple[Inbox, int], session: Session
) -> None:
    from app.queue import moderation_digest

    inbox, _port = smtp
    _world(session)
    with make_app().app_context():  # SMTP_HOST unset: e-mail is off
        moderation_digest()
    assert inbox.messages == []
    session.execute(update(Answer).values(status=AnswerStatus.APPROVED))
    session.commit()
    with mail_app.app_context():  # nothing waits
        moderation_digest()
    assert inbox.messages == []
    assert session.scalars(select(AuditEntry).where(AuditEntry.action == DIGEST_ACTION)).all() == []
