"""Command-line interface: ``flask --app wsgi demo|users|orgs|translate ...``."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import click
from flask import Flask
from flask.cli import AppGroup
from sqlalchemy import select

from surveys import operations
from surveys.demo import load_demo
from surveys.errors import DomainError
from surveys.models import Organisation, StaffRole
from surveys.passwords import generate_password

from .extensions import db

ROOT = Path(__file__).resolve().parent.parent

demo_cli = AppGroup("demo", help="The demo campaign.")
users_cli = AppGroup("users", help="Staff accounts.")
orgs_cli = AppGroup("orgs", help="Organisations (municipalities and alliances).")
translate_cli = AppGroup("translate", help="Translation catalogues (Babel).")


@demo_cli.command("load")
def demo_load() -> None:
    """Load the demo campaign (slug "demo"); does nothing when it is already there."""
    result = load_demo(db.session)
    verb = "Loaded" if result.created else "Already loaded:"
    click.echo(f"{verb} demo campaign with {result.walls} walls and {result.answers} answers.")


def _organisation(slug: str | None) -> Organisation:
    organisations = list(db.session.scalars(select(Organisation).order_by(Organisation.id)))
    if slug is not None:
        for organisation in organisations:
            if organisation.slug == slug:
                return organisation
        raise click.ClickException(f"No organisation with slug {slug!r}.")
    if len(organisations) == 1:
        return organisations[0]
    if not organisations:
        raise click.ClickException(
            "No organisation exists yet: run 'flask --app wsgi orgs create SLUG NAME' first."
        )
    raise click.ClickException("Several organisations exist: choose one with --org SLUG.")


@orgs_cli.command("create")
@click.argument("slug")
@click.argument("name")
def orgs_create(slug: str, name: str) -> None:
    """Create an organisation."""
    try:
        organisation = operations.create_organisation(db.session, slug, name)
    except DomainError as error:
        raise click.ClickException(error.message % error.params) from error
    click.echo(f"Created organisation {organisation.slug} ({organisation.name}).")


@users_cli.command("create")
@click.argument("email")
@click.option(
    "--role", type=click.Choice([r.value for r in StaffRole]), required=True, help="Staff role."
)
@click.option("--org", "org_slug", help="Organisation slug (needed when several exist).")
@click.option("--name", default="", help="Display name.")
@click.option("--password-stdin", is_flag=True, help="Read the password from standard input.")
def users_create(
    email: str, role: str, org_slug: str | None, name: str, password_stdin: bool
) -> None:
    """Create a staff user; prints a generated password unless --password-stdin is given."""
    organisation = _organisation(org_slug)
    if password_stdin:
        password = sys.stdin.readline().rstrip("\r\n")
        generated = False
    else:
        password = generate_password()
        generated = True
    try:
        user = operations.create_staff_user(
            db.session, organisation, email, StaffRole(role), password, name=name
        )
    except DomainError as error:
        raise click.ClickException(error.message % error.params) from error
    click.echo(f"Created {user.role.value} {user.email} in {organisation.slug}.")
    if generated:
        click.echo(f"Password: {password}")


def _pybabel(*args: str) -> None:
    pybabel = Path(sys.executable).with_name("pybabel")
    subprocess.run([str(pybabel), *args], check=True, cwd=ROOT)


@translate_cli.command("extract")
def translate_extract() -> None:
    """Extract messages and update every catalogue (new strings appear untranslated)."""
    _pybabel(
        "extract",
        "-F",
        "babel.cfg",
        "-k",
        "_l",
        "-k",
        "N_",
        "--no-location",
        "--sort-output",
        "-o",
        "translations/messages.pot",
        ".",
    )
    if any((ROOT / "translations").glob("*/LC_MESSAGES/messages.po")):
        _pybabel(
            "update",
            "-i",
            "translations/messages.pot",
            "-d",
            "translations",
            "--no-fuzzy-matching",
            "--ignore-obsolete",
        )


@translate_cli.command("compile")
def translate_compile() -> None:
    """Compile the catalogues to .mo files."""
    _pybabel("compile", "-d", "translations", "--statistics")


@translate_cli.command("init")
@click.argument("language")
def translate_init(language: str) -> None:
    """Start a catalogue for a new language."""
    _pybabel("init", "-i", "translations/messages.pot", "-d", "translations", "-l", language)


def register(app: Flask) -> None:
    """Attach the command groups to the app."""
    for group in (demo_cli, users_cli, orgs_cli, translate_cli):
        app.cli.add_command(group)
