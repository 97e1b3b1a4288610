"""Command-line interface."""

from __future__ import annotations

from flask.testing import FlaskCliRunner
from sqlalchemy import select
from sqlalchemy.orm import Session

from surveys.models import StaffRole, StaffUser
from surveys.passwords import verify_password
from tests.factories import make_organisation


def test_users_create_with_password_stdin(runner: FlaskCliRunner, session: Session) -> None:
    make_organisation(session, "bornholm")
    result = runner.invoke(
        args=["users", "create", "Mette@Brk.dk", "--role", "moderator", "--password-stdin"],
        input="et langt kodeord 123\n",
    )
    assert result.exit_code == 0, result.output
    assert "Password" not in result.output
    user = session.scalars(select(StaffUser)).one()
    assert user.email == "mette@brk.dk" and user.role is StaffRole.MODERATOR
    assert verify_password(user.password_hash, "et langt kodeord 123")


def test_users_create_generates_password(runner: FlaskCliRunner, session: Session) -> None:
    make_organisation(session, "lejre")
    result = runner.invoke(args=["users", "create", "a@lejre.dk", "--role", "admin"])
    assert result.exit_code == 0, result.output
    password = result.output.split("Password: ")[1].strip()
    user = session.scalars(select(StaffUser)).one()
    assert verify_password(user.password_hash, password)


def test_users_create_needs_org_when_several(runner: FlaskCliRunner, session: Session) -> None:
    make_organisation(session, "one")
    make_organisation(session, "two")
    result = runner.invoke(args=["users", "create", "a@b.dk", "--role", "viewer"])
    assert result.exit_code != 0
    assert "--org" in result.output
    ok = runner.invoke(args=["users", "create", "a@b.dk", "--role", "viewer", "--org", "two"])
    assert ok.exit_code == 0, ok.output


def test_users_create_rejects_bad_role_and_duplicates(
    runner: FlaskCliRunner, session: Session
) -> None:
    make_organisation(session)
    assert runner.invoke(args=["users", "create", "a@b.dk", "--role", "king"]).exit_code != 0
    assert runner.invoke(args=["users", "create", "a@b.dk", "--role", "admin"]).exit_code == 0
    again = runner.invoke(args=["users", "create", "A@b.dk", "--role", "admin"])
    assert again.exit_code != 0
    assert "already exists" in again.output


def test_users_create_without_organisation(runner: FlaskCliRunner) -> None:
    result = runner.invoke(args=["users", "create", "a@b.dk", "--role", "admin"])
    assert result.exit_code != 0
    assert "orgs create" in result.output


def test_orgs_create(runner: FlaskCliRunner) -> None:
    assert runner.invoke(args=["orgs", "create", "esbjerg", "Esbjerg Kommune"]).exit_code == 0
    assert runner.invoke(args=["orgs", "create", "esbjerg", "Igen"]).exit_code != 0
