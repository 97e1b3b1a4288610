"""Strict isolation between organisations, for every staff route.

The tests walk ``app.url_map``: a new staff route is covered automatically, and one with a
new kind of URL parameter fails here until the parameter is mapped below.
"""

from __future__ import annotations

from collections.abc import Iterator

from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session
from werkzeug.routing import Rule

from app.staff.auth import PUBLIC_ENDPOINTS
from surveys.models import (
    Answer,
    AnswerStatus,
    AuditEntry,
    Campaign,
    FeedbackReply,
    KioskDevice,
    Prompt,
    StaffUser,
    Wall,
    WallReply,
)
from tests.app.staff_helpers import WORLD_THEME_KEY, OrgWorld, login, make_world

METHODS = ("GET", "POST")


def staff_rules(app: Flask) -> Iterator[Rule]:
    """Every staff route except the public ones (login page, design-system files)."""
    for rule in app.url_map.iter_rules():
        if rule.rule.startswith("/staff") and rule.endpoint not in PUBLIC_ENDPOINTS:
            yield rule


def url_params(rule: Rule, world: OrgWorld) -> dict[str, int | str]:
    """URL parameters pointing at ``world``'s objects."""
    values: dict[str, int | str] = {
        "campaign_id": world.campaign.id,
        "wall_id": world.wall.id,
        "prompt_id": world.wall.prompts[0].id,
        "device_id": world.device.id,
        "reply_id": world.reply.id,
        "answer_id": world.flagged.id,
        "user_id": world.other_user.id,
        "key": WORLD_THEME_KEY,
        "job_id": world.job.id,
        "theme_id": world.codebook_theme.id,
        "lang": "en",
    }
    unknown = set(rule.arguments) - set(values)
    assert not unknown, f"map the URL parameter(s) {unknown} of {rule.rule} in this test"
    return {name: values[name] for name in rule.arguments}


def build(app: Flask, rule: Rule, world: OrgWorld) -> str:
    with app.test_request_context():
        from flask import url_for

        return url_for(rule.endpoint, **url_params(rule, world))


def snapshot(session: Session) -> dict[str, object]:
    """Everything an attack on another organisation could change."""
    session.expire_all()
    return {
        "answers": [
            (a.id, a.status, a.text, a.pii_findings)
            for a in session.scalars(select(Answer).order_by(Answer.id))
        ],
        "campaigns": [(c.id, c.title, c.slug) for c in session.scalars(select(Campaign))],
        "walls": [(w.id, w.title, w.opens_at, w.closes_at) for w in session.scalars(select(Wall))],
        "prompts": [(p.id, p.text, p.position) for p in session.scalars(select(Prompt))],
        "devices": [(d.id, d.revoked_at) for d in session.scalars(select(KioskDevice))],
        "replies": [(r.id, r.is_hidden) for r in session.scalars(select(WallReply))],
        "feedback": [(r.id, r.text) for r in session.scalars(select(FeedbackReply))],
        "users": [
            (u.id, u.role, u.is_active, u.password_hash, u.failed_logins)
            for u in session.scalars(select(StaffUser))
        ],
    }


# Forms that would change something if they reached a service.
HOSTILE_FORM = {
    "action": "approve",
    "answer_ids": "0",
    "text": "Overtaget",
    "title": "Overtaget",
    "slug": "overtaget",
    "confirm": "overtaget",
    "name": "Overtaget",
    "role": "admin",
    "is_active": "y",
    "mode": "all",
    "start": "0",
    "end": "3",
    "direction": "up",
    "audience": "parents",
    "moderation": "post",
    "languages": "da",
    "prompts": "Q?",
    "idle_seconds": "60",
}


def test_every_staff_route_is_mapped(app: Flask, session: Session) -> None:
    world = make_world(session, "map")
    rules = list(staff_rules(app))
    assert len(rules) >= 30
    for rule in rules:
        build(app, rule, world)


def test_anonymous_visitors_are_sent_to_login(
    app: Flask, client: FlaskClient, session: Session
) -> None:
    world = make_world(session, "anon")
    before = snapshot(session)
    for rule in staff_rules(app):
        url = build(app, rule, world)
        for method in METHODS:
            if method not in rule.methods:
                continue
            response = client.open(url, method=method, data=HOSTILE_FORM)
            assert response.status_code == 302, (method, url, response.status_code)
            assert response.headers["Location"].startswith("/staff/login"), (method, url)
    assert snapshot(session) == before


def test_staff_of_another_organisation_get_404_everywhere(
    app: Flask, client: FlaskClient, session: Session
) -> None:
    """An admin of B (all permissions) can neither see nor change anything of A."""
    world_a = make_world(session, "kommune-a")
    world_b = make_world(session, "kommune-b")
    login(client, world_b.admin)
    before = snapshot(session)
    checked = 0
    for rule in staff_rules(app):
        if not rule.arguments:
            continue
        url = build(app, rule, world_a)
        for method in METHODS:
            if method not in rule.methods:
                continue
            response = client.open(url, method=method, data=HOSTILE_FORM)
            assert response.status_code == 404, (method, url, response.status_code)
            checked += 1
    assert checked >= 25
    assert snapshot(session) == before


def test_lists_and_filters_show_only_the_own_organisation(
    app: Flask, client: FlaskClient, session: Session
) -> None:
    world_a = make_world(session, "kommune-a")
    world_b = make_world(session, "kommune-b")
    world_a.campaign.title = "Hemmelig kampagne A"
    world_a.wall.title = "Hemmelig væg A"
    world_a.answer.text = "Hemmeligt svar fra A"
    session.commit()
    login(client, world_a.admin)  # some audit entries for A
    client.post("/staff/logout")
    login(client, world_b.admin)
    for rule in staff_rules(app):
        if rule.arguments or "GET" not in rule.methods:
            continue
        url = build(app, rule, world_b)
        html = client.get(url).get_data(as_text=True)
        for secret in (
            "Hemmelig",
            world_a.admin.email,
            world_a.other_user.email,
            world_a.answer.text,
            world_a.device.token,
        ):
            assert secret not in html, (url, secret)
    # The queue's filters refuse A's ids, and bulk actions refuse A's answers.
    for name, value in [
        ("campaign", world_a.campaign.id),
        ("wall", world_a.wall.id),
        ("prompt", world_a.wall.prompts[0].id),
    ]:
        assert client.get("/staff/moderation", query_string={name: value}).status_code == 404
    before = snapshot(session)
    response = client.post(
        "/staff/moderation/bulk",
        data={"action": "hide", "answer_ids": [world_b.answer.id, world_a.answer.id]},
    )
    assert response.status_code == 404
    response = client.post(
        f"/staff/answers/{world_b.answer.id}/status",
        data={"action": "hide", "campaign": world_a.campaign.id},
    )
    assert response.status_code == 404
    assert snapshot(session) == before
    # The audit log shows B's entries only.
    html = client.get("/staff/audit").get_data(as_text=True)
    assert world_b.admin.email in html and world_a.admin.email not in html
    a_entries = session.scalar(
        select(func.count()).where(AuditEntry.organisation_id == world_a.organisation.id)
    )
    assert a_entries >= 2


def test_own_organisation_reaches_every_route(
    app: Flask, client: FlaskClient, session: Session
) -> None:
    """The control: the same URLs work for A's own admin, so the 404s above are real."""
    world = make_world(session, "kommune-a")
    login(client, world.admin)
    for rule in staff_rules(app):
        if "GET" not in rule.methods:
            continue
        url = build(app, rule, world)
        response = client.get(url)
        assert response.status_code == 200, (url, response.status_code)
    response = client.post(f"/staff/answers/{world.answer.id}/status", data={"action": "approve"})
    assert response.status_code == 303
    session.refresh(world.answer)
    assert world.answer.status is AnswerStatus.APPROVED
