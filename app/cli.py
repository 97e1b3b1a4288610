"""Command-line interface: ``flask --app wsgi demo|users|orgs|translate ...``."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import click
from flask import Flask
from flask.cli import AppGroup
from sqlalchemy import select

from surveys import accounts, export, queries, themes, twofactor
from surveys.demo import load_demo
from surveys.errors import DomainError
from surveys.models import Organisation, StaffRole, StaffUser, ThemeRun
from surveys.passwords import generate_password

from .embeddings import encoder
from .extensions import db

ROOT = Path(__file__).resolve().parent.parent

demo_cli = AppGroup("demo", help="The demo campaign.")
users_cli = AppGroup("users", help="Staff accounts.")
orgs_cli = AppGroup("orgs", help="Organisations (municipalities and alliances).")
translate_cli = AppGroup("translate", help="Translation catalogues (Babel).")
themes_cli = AppGroup("themes", help="The theme engine.")


@demo_cli.command("load")
def demo_load() -> None:
    """Load the demo campaign (slug "demo"); does nothing when it is already there."""
    result = load_demo(db.session, themes=True)
    verb = "Loaded" if result.created else "Already loaded:"
    click.echo(f"{verb} demo campaign with {result.walls} walls and {result.answers} answers.")


def find_organisation(slug: str | None) -> Organisation:
    """The organisation named by --org, or the only one there is."""
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
        organisation = accounts.create_organisation(db.session, slug, name)
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
    organisation = find_organisation(org_slug)
    if password_stdin:
        password = sys.stdin.readline().rstrip("\r\n")
        generated = False
    else:
        password = generate_password()
        generated = True
    try:
        user = accounts.add_staff_user(
            db.session, organisation, email, StaffRole(role), password, name=name
        )
        db.session.commit()
    except DomainError as error:
        raise click.ClickException(error.message % error.params) from error
    click.echo(f"Created {user.role.value} {user.email} in {organisation.slug}.")
    if generated:
        click.echo(f"Password: {password}")


@users_cli.command("reset-two-factor")
@click.argument("email")
def users_reset_two_factor(email: str) -> None:
    """Remove a staff member's two-factor sign-in (lost phone and recovery codes, and no other
    admin to reset it): their sessions end and they set it up again at their next login."""
    user = db.session.scalars(
        select(StaffUser).where(StaffUser.email == accounts.normalise_email(email))
    ).first()
    if user is None:
        raise click.ClickException(f"No staff user with the e-mail {email}.")
    twofactor.reset(db.session, None, user)
    click.echo(f"Two-factor sign-in of {user.email} reset; they set it up at their next login.")


@themes_cli.command("build")
@click.argument("campaign_slug", metavar="CAMPAIGN")
@click.option("--wall", "wall_slug", help="Only this wall's answers.")
@click.option("--prompt", "prompt_id", type=int, help="Only this prompt's answers.")
@click.option("--themes", "n_themes", default="auto", show_default=True, help="auto or a number.")
@click.option("--seed", default=0, show_default=True, type=int)
def themes_build(
    campaign_slug: str, wall_slug: str | None, prompt_id: int | None, n_themes: str, seed: int
) -> None:
    """Cluster a campaign's answers into themes and store the run."""
    campaign = db.session.scalars(queries.campaign_by_slug(campaign_slug)).first()
    if campaign is None:
        raise click.ClickException(f"No campaign with slug {campaign_slug!r}.")
    if n_themes != "auto" and not (n_themes.isdecimal() and 1 <= int(n_themes) <= 100):
        raise click.BadParameter("use 'auto' or a number from 1 to 100", param_hint="--themes")
    try:
        scope = themes.resolve_scope(db.session, campaign, wall_slug, prompt_id)
    except DomainError as error:
        raise click.ClickException(error.message % error.params) from error
    run = themes.build_themes(
        db.session,
        scope,
        n_themes=n_themes if n_themes == "auto" else int(n_themes),
        seed=seed,
        encoder=encoder(),
    )
    shown = sum(t.size for t in run.themes)
    click.echo(f"Theme run {run.id}: {run.n_answers} answers, {len(run.themes)} themes.")
    for theme in run.themes:
        click.echo(f"  {theme.key:>4}  {theme.size:4d}  {theme.label}")
    click.echo(f"  andet: {run.n_answers - _themed(run)} answers in no theme ({shown} memberships)")


@themes_cli.command("relabel")
def themes_relabel() -> None:
    """Name every theme run's themes anew from approved answers only (once after upgrading:
    runs built by earlier releases may carry words of answers a moderator never approved)."""
    count = themes.relabel_all_runs(db.session)
    click.echo(f"{count} theme runs named anew from approved answers.")


def _themed(run: ThemeRun) -> int:
    return len(
        {answer_id for _t, answer_id, _s in db.session.execute(themes.theme_members(run.id))}
    )


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


# -- the campaign report (issue: report) --------------------------------------------------------

report_cli = AppGroup("report", help="The campaign report and answer exports.")
REPORT_FORMATS = ("html", "pdf", "csv", "xlsx")


@report_cli.command("build")
@click.argument("campaign_slug", metavar="CAMPAIGN")
@click.option(
    "--format",
    "fmt",
    type=click.Choice(REPORT_FORMATS, case_sensitive=False),
    help="html, pdf, csv or xlsx (default: from the file name's ending).",
)
@click.option(
    "--out",
    "out",
    required=True,
    type=click.Path(dir_okay=False, writable=False, path_type=Path),
    help="The file to write.",
)
@click.option(
    "--draft",
    is_flag=True,
    help="The latest themes, marked as a draft, even when other themes are published.",
)
def report_build(campaign_slug: str, fmt: str | None, out: Path, draft: bool) -> None:
    """Write a campaign's report (HTML or PDF) or its answers with themes (CSV or XLSX).

    The report shows the published themes when there are some, else the latest as a draft."""
    from flask import current_app

    from surveys.report import build_report

    from .cli_progress import TerminalProgress
    from .staff.report_views import build_report_file, export_file, render_standalone

    fmt = (fmt or out.suffix.lstrip(".")).lower()
    if fmt not in REPORT_FORMATS:
        raise click.BadParameter(
            "use html, pdf, csv or xlsx, or a file name ending in one of them",
            param_hint="--format",
        )
    campaign = db.session.scalars(queries.campaign_by_slug(campaign_slug)).first()
    if campaign is None:
        raise click.ClickException(f"No campaign with slug {campaign_slug!r}.")
    if out.exists() and out.is_dir():
        raise click.ClickException(f"Cannot write {out}: it is a directory.")
    if not out.parent.is_dir():
        raise click.ClickException(f"Cannot write {out}: the folder {out.parent} does not exist.")
    if not os.access(out if out.exists() else out.parent, os.W_OK):
        raise click.ClickException(f"Cannot write {out}: permission denied.")
    with current_app.test_request_context("/"):
        if fmt == "csv":
            body = export_file(campaign, "csv", actor_email="command line")
        elif fmt == "html":
            data = build_report(db.session, campaign, draft=draft)
            body = render_standalone(data, embed_css=True).encode()
        else:  # the PDF and the workbook take a while: a progress bar on a terminal
            with TerminalProgress(f"{fmt.upper()}") as progress:
                built = build_report_file(campaign, fmt, progress, draft=draft)
            body = built.data
            if built.answers is not None:
                export.record_export(
                    db.session, campaign, "xlsx", built.answers, actor_email="command line"
                )
                db.session.commit()
        what = "answers" if fmt in ("csv", "xlsx") else "report"
    try:
        out.write_bytes(body)
    except OSError as error:
        raise click.ClickException(f"Cannot write {out}: {error.strerror or error}.") from error
    size = f"{len(body):,} bytes"
    click.echo(f"Wrote the {what} of {campaign.slug} as {fmt.upper()} to {out} ({size}).")


def register(app: Flask) -> None:
    """Attach the command groups to the app."""
    from .answers_cli import answers_cli
    from .backup_cli import backup_cli
    from .kiosk.cli import kiosk_cli
    from .queue_cli import worker_command
    from .staff.cli import retention_cli

    groups = (
        demo_cli,
        users_cli,
        orgs_cli,
        translate_cli,
        themes_cli,
        kiosk_cli,
        retention_cli,
        answers_cli,
        backup_cli,
        report_cli,
    )
    for group in groups:
        app.cli.add_command(group)
    app.cli.add_command(worker_command)
