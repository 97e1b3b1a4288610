"""Roles: every staff route declares a permission and refuses roles without it."""

from __future__ import annotations

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy.orm import Session

from surveys.accounts import ROLE_PERMISSIONS, Permission
from surveys.models import AnswerStatus, StaffRole
from tests.app.staff_helpers import login, make_world
from tests.app.test_staff_isolation import HOSTILE_FORM, build, snapshot, staff_rules
from tests.factories import make_staff

#: The permission each route needs. Written out by hand so that a changed declaration in
#: the code is a deliberate change here too.
EXPECTED = {
    "staff.logout": Permission.VIEW,
    "staff.dashboard": Permission.VIEW,
    "staff.campaign": Permission.VIEW,
    "staff.wall": Permission.VIEW,
    "staff.transcribe": Permission.MODERATE,
    "staff.transcription_correct": Permission.MODERATE,
    "staff.transcription_delete": Permission.MODERATE,
    "staff.answers_import": Permission.MANAGE_CAMPAIGNS,
    "staff.wall_qr": Permission.VIEW,
    "staff.wall_texts": Permission.MANAGE_CAMPAIGNS,
    "staff.password": Permission.VIEW,
    "staff.two_factor": Permission.VIEW,
    "staff.two_factor_recovery_codes": Permission.VIEW,
    "staff.two_factor_disable": Permission.VIEW,
    "staff.two_factor_reset": Permission.MANAGE_USERS,
    "staff.moderation_queue": Permission.MODERATE,
    "staff.answer_status": Permission.MODERATE,
    "staff.answer_redact": Permission.MODERATE,
    "staff.moderation_bulk": Permission.MODERATE,
    "staff.campaign_new": Permission.MANAGE_CAMPAIGNS,
    "staff.campaign_edit": Permission.MANAGE_CAMPAIGNS,
    "staff.wall_new": Permission.MANAGE_CAMPAIGNS,
    "staff.wall_edit": Permission.MANAGE_CAMPAIGNS,
    "staff.wall_window": Permission.MANAGE_CAMPAIGNS,
    "staff.prompt_add": Permission.MANAGE_CAMPAIGNS,
    "staff.prompt_edit": Permission.MANAGE_CAMPAIGNS,
    "staff.prompt_move": Permission.MANAGE_CAMPAIGNS,
    "staff.prompt_delete": Permission.MANAGE_CAMPAIGNS,
    "staff.device_add": Permission.MANAGE_CAMPAIGNS,
    "staff.device": Permission.MANAGE_CAMPAIGNS,
    "staff.device_qr": Permission.MANAGE_CAMPAIGNS,
    "staff.device_revoke": Permission.MANAGE_CAMPAIGNS,
    "staff.reply_add": Permission.REPLY,
    "staff.reply_hide": Permission.REPLY,
    "staff.answer_reply": Permission.REPLY,
    "staff.answer_reply_delete": Permission.REPLY,
    "staff.theme_reply": Permission.REPLY,
    "staff.theme_reply_delete": Permission.REPLY,
    "staff.report": Permission.VIEW,
    "staff.report_pdf": Permission.VIEW,
    "staff.report_csv": Permission.EXPORT,
    "staff.report_xlsx": Permission.EXPORT,
    "staff.presenter": Permission.MODERATE,
    "staff.presenter_spotlight": Permission.MODERATE,
    "staff.presenter_hide": Permission.MODERATE,
    "staff.report_review": Permission.PUBLISH,
    "staff.report_preview": Permission.PUBLISH,
    "staff.report_publish": Permission.PUBLISH,
    "staff.report_unpublish": Permission.PUBLISH,
    "staff.campaign_delete": Permission.DELETE_CAMPAIGNS,
    "staff.users": Permission.MANAGE_USERS,
    "staff.user_new": Permission.MANAGE_USERS,
    "staff.user_edit": Permission.MANAGE_USERS,
    "staff.audit_log": Permission.VIEW_AUDIT,
    "staff.theme_explorer": Permission.VIEW,
    "staff.theme_detail": Permission.VIEW,
    "staff.theme_run": Permission.CURATE_THEMES,
    "staff.theme_rename": Permission.CURATE_THEMES,
    "staff.theme_describe": Permission.CURATE_THEMES,
    "staff.theme_merge": Permission.CURATE_THEMES,
    "staff.theme_visibility": Permission.CURATE_THEMES,
    "staff.theme_pin": Permission.CURATE_THEMES,
    "staff.theme_answers": Permission.CURATE_THEMES,
    "staff.theme_include": Permission.CURATE_THEMES,
    "staff.theme_undo": Permission.CURATE_THEMES,
    "staff.theme_breakdown": Permission.VIEW,
    "staff.campaign_results_page": Permission.VIEW,
    "staff.campaign_run_again": Permission.MANAGE_CAMPAIGNS,
    "staff.campaign_rounds": Permission.VIEW,
    "staff.job_page": Permission.VIEW,
    "staff.job_status": Permission.VIEW,
    "staff.job_file": Permission.VIEW,
    "staff.queue_page": Permission.VIEW_AUDIT,
    "staff.queue_status": Permission.VIEW_AUDIT,
    "staff.organisation_settings": Permission.MANAGE_ORGANISATION,
    "staff.organisation_logo": Permission.MANAGE_ORGANISATION,
    "staff.codebook_page": Permission.VIEW,
    "staff.codebook_new": Permission.CURATE_THEMES,
    "staff.codebook_edit": Permission.CURATE_THEMES,
    "staff.codebook_delete": Permission.CURATE_THEMES,
    "staff.codebook_starter": Permission.CURATE_THEMES,
    "staff.codebook_run": Permission.CURATE_THEMES,
}


def test_every_route_declares_the_expected_permission(app: Flask) -> None:
    declared = {
        rule.endpoint: getattr(app.view_functions[rule.endpoint], "staff_permission", None)
        for rule in staff_rules(app)
    }
    assert declared == EXPECTED


def test_an_undeclared_staff_route_is_refused(app: Flask, session: Session) -> None:
    from app.staff import bp

    def sneaky() -> str:
        return "secret"

    app.add_url_rule("/staff/sneaky", "staff.sneaky", sneaky)
    assert bp.name == "staff"
    client = app.test_client()
    login(client, make_staff(session, role="admin"))
    assert client.get("/staff/sneaky").status_code == 403


@pytest.mark.parametrize("role", list(StaffRole))
def test_roles_get_403_without_the_permission(
    app: Flask, client: FlaskClient, session: Session, role: StaffRole
) -> None:
    world = make_world(session, f"roles-{role.value}")
    user = make_staff(session, world.organisation, role)
    login(client, user)
    allowed = ROLE_PERMISSIONS[role]
    before = snapshot(session)
    for rule in staff_rules(app):
        permission = EXPECTED[rule.endpoint]
        url = build(app, rule, world)
        if permission not in allowed:
            for method in ("GET", "POST"):
                if method in rule.methods:
                    response = client.open(url, method=method, data=HOSTILE_FORM)
                    assert response.status_code == 403, (role, method, url)
        elif "GET" in rule.methods:
            assert client.get(url).status_code == 200, (role, url)
    assert snapshot(session) == before


@pytest.mark.parametrize(
    ("role", "url", "status"),
    [
        ("viewer", "/staff/", 200),
        ("viewer", "/staff/moderation", 403),
        ("analyst", "/staff/moderation", 403),
        ("moderator", "/staff/moderation", 200),
        ("moderator", "/staff/campaigns/new", 403),
        ("manager", "/staff/campaigns/new", 200),
        ("manager", "/staff/users", 403),
        ("manager", "/staff/audit", 403),
        ("admin", "/staff/audit", 200),
    ],
)
def test_spot_checks(client: FlaskClient, session: Session, role: str, url: str, status: int):
    login(client, make_staff(session, role=role))
    assert client.get(url).status_code == status


def test_viewers_see_approved_answers_only(client: FlaskClient, session: Session) -> None:
    world = make_world(session, "viewer")
    world.answer.status = AnswerStatus.APPROVED
    world.answer.text = "Et godkendt svar"
    session.commit()
    login(client, world.other_user)  # a viewer
    html = client.get(f"/staff/walls/{world.wall.id}").get_data(as_text=True)
    assert "Et godkendt svar" in html
    assert "22 33 44 55" not in html  # the flagged, pending answer
    assert world.device.token not in html  # kiosk tokens are for managers
    assert "/staff/moderation" not in html
