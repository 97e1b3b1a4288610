"""``flask --app wsgi answers import|import-campaign``: answers from CSV, XLSX or JSON Lines.

Messages are printed in Danish (the default locale), like the preview in the workspace. On a
terminal a progress bar (on standard error) follows the rows as they are checked; when the
output is not a terminal (a script, a log) nothing but the messages is printed. ``import
--wall ... --background`` hands the file to the task queue's worker instead, as the
workspace does, and prints the job's page.
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from contextlib import ExitStack
from datetime import datetime
from pathlib import Path
from typing import Any, TextIO, TypeVar

import click
from flask.cli import AppGroup
from flask_babel import force_locale
from flask_babel import gettext as _
from sqlalchemy import select

from surveys import imports, queries
from surveys.errors import DomainError
from surveys.imports import ColumnMapping, ImportOptions, ImportPlan, ImportRefused, Table
from surveys.models import Campaign, Channel, Wall

from .cli import find_organisation
from .extensions import db
from .jobs import start_job

answers_cli = AppGroup(
    "answers", help="Answers from paper walls, other surveys and earlier campaigns."
)

#: How many row errors are printed before "... and N more".
MAX_PRINTED_ERRORS = 50


def _fail(error: DomainError) -> click.ClickException:
    return click.ClickException(_(error.message, **error.params))


def _bytes(path: str) -> bytes:
    with open(path, "rb") as file:  # one byte past the limit is enough to refuse the file
        return file.read(imports.MAX_FILE_BYTES + 1)


def _read(path: str) -> Table:
    return imports.read_table(_bytes(path), Path(path).name)


def _progress_stream() -> TextIO:
    """Where progress bars go: standard error, so that the output stays the messages."""
    return sys.stderr


class _Bar:
    """A progress bar (``click.progressbar``) over the rows, made when their number is known
    (the planner tells it); hidden when the output is not a terminal."""

    def __init__(self, label: str) -> None:
        self.label = label
        self.shown = 0
        self.stack = ExitStack()
        self.bar: Any = None

    def __call__(self, done: int, total: int) -> None:
        if self.bar is None:
            stream = _progress_stream()
            self.bar = self.stack.enter_context(
                click.progressbar(
                    length=total, label=self.label, file=stream, hidden=not stream.isatty()
                )
            )
        self.bar.update(done - self.shown)
        self.shown = done

    def __enter__(self) -> _Bar:
        return self

    def __exit__(self, *exc_info: object) -> None:
        if self.bar is not None and exc_info[0] is None:
            self(self.bar.length, self.bar.length)  # the last rows since the last report
        self.stack.close()


def _mapping(table: Table, pairs: tuple[str, ...]) -> ColumnMapping:
    """The suggested mapping, overridden by ``FIELD=COLUMN`` pairs (``FIELD=`` unmaps)."""
    values = imports.suggest_mapping(table.columns).as_dict()
    for pair in pairs:
        name, sep, column = pair.partition("=")
        if not sep or name not in imports.MAPPING_FIELDS:
            raise click.BadParameter(
                f"use FIELD=COLUMN with FIELD one of {', '.join(imports.MAPPING_FIELDS)}",
                param_hint="--map",
            )
        values[name] = column or None
    return ColumnMapping.from_dict(values)


def _echo_plan(plan: ImportPlan, *, dry_run: bool) -> None:
    table = plan.table
    details = [table.format.upper()]
    if table.encoding:
        details.append(table.encoding)
    click.echo(_("File: %(details)s", details=", ".join(details)))
    for notice in plan.notices:
        click.echo(f"  {notice.render(_)}")
    mapped = [f"{column} → {name}" for name, column in plan.mapping.as_dict().items() if column]
    click.echo(_("Columns: %(columns)s", columns="; ".join(mapped)))
    click.echo(_("Rows: %(count)d", count=plan.rows))
    click.echo(_("To import: %(count)d", count=plan.to_import))
    click.echo(_("  of which held for moderation: %(count)d", count=plan.held))
    click.echo(_("  of which with possible personal data: %(count)d", count=plan.flagged))
    click.echo(_("Skipped as empty: %(count)d", count=plan.empty))
    click.echo(_("Skipped as duplicates: %(count)d", count=plan.duplicates))
    click.echo(_("Rows with errors: %(count)d", count=len(plan.errors)))
    for issue in plan.errors[:MAX_PRINTED_ERRORS]:
        click.echo(f"  {issue.render(_)}")
    if len(plan.errors) > MAX_PRINTED_ERRORS:
        more = len(plan.errors) - MAX_PRINTED_ERRORS
        click.echo("  " + _("... and %(count)d more.", count=more))
    if dry_run:
        click.echo(_("Dry run: nothing was saved."))


T = TypeVar("T")


def _run(action: Callable[[], T]) -> T:
    try:
        return action()
    except ImportRefused as refused:
        _echo_plan(refused.plan, dry_run=False)
        raise _fail(refused) from refused
    except DomainError as error:
        raise _fail(error) from error


@answers_cli.command("import")
@click.argument("file", type=click.Path(exists=True, dir_okay=False))
@click.option("--wall", "wall_slug", help="The wall the answers belong to.")
@click.option("--campaign", "campaign_slug", help="Or: a campaign; a column names each wall.")
@click.option("--prompt", "prompt_id", type=int, help="Question for rows that do not name one.")
@click.option(
    "--channel",
    type=click.Choice([c.value for c in Channel]),
    help="Channel for rows without one (default: paper; api for JSON Lines).",
)
@click.option("--place", help="The event or place for rows without one.")
@click.option(
    "--date", "written_on", type=click.DateTime(["%Y-%m-%d"]), help="Date for rows without one."
)
@click.option("--role", help="Profile value for every row (a batch), e.g. young.")
@click.option("--age-group", help="Profile value for every row, e.g. 13-17.")
@click.option("--area", help="Profile value for every row, one of the wall's areas.")
@click.option("--map", "pairs", multiple=True, metavar="FIELD=COLUMN", help="Column mapping.")
@click.option("--keep-duplicates", is_flag=True, help="Import rows that look like duplicates.")
@click.option("--skip-invalid", is_flag=True, help="Import the valid rows, skip rows with errors.")
@click.option("--dry-run", is_flag=True, help="Only show what would be imported.")
@click.option(
    "--background",
    is_flag=True,
    help="Run on the task queue's worker (--wall only) and print the job's page, instead of "
    "importing at once in one transaction (the default).",
)
def import_file(
    file: str,
    wall_slug: str | None,
    campaign_slug: str | None,
    prompt_id: int | None,
    channel: str | None,
    place: str | None,
    written_on: datetime | None,
    role: str | None,
    age_group: str | None,
    area: str | None,
    pairs: tuple[str, ...],
    keep_duplicates: bool,
    skip_invalid: bool,
    dry_run: bool,
    background: bool,
) -> None:
    """Import answers from a CSV, XLSX or JSON Lines FILE into a wall, in one transaction
    (at once, with a progress bar on a terminal), or as a job on the task queue with
    --background."""
    if (wall_slug is None) == (campaign_slug is None):
        raise click.UsageError("give either --wall SLUG or --campaign SLUG")
    if background and (wall_slug is None or dry_run):
        raise click.UsageError("--background imports into one --wall, and not as a --dry-run")
    with force_locale("da"):
        target: Wall | Campaign | None
        if wall_slug is not None:
            target = db.session.scalars(queries.wall_by_slug(wall_slug)).unique().first()
        else:
            target = db.session.scalars(queries.campaign_by_slug(str(campaign_slug))).first()
        if target is None:
            raise click.ClickException(
                f"No wall or campaign with slug {wall_slug or campaign_slug!r}."
            )
        table = _run(lambda: _read(file))
        mapping = _mapping(table, pairs)
        profile = {"role": role, "age_group": age_group, "area": area}
        options = ImportOptions(
            prompt_id=prompt_id,
            channel=Channel(channel) if channel else None,
            place=place,
            written_on=written_on.date() if written_on else None,
            profile={k: v for k, v in profile.items() if v},
            keep_duplicates=keep_duplicates,
            skip_invalid=skip_invalid,
        )
        if isinstance(target, Wall) and background:
            _start_in_background(target, file, table, mapping, options)
            return
        with _Bar(_("Checking the rows")) as bar:
            plan = _run(
                lambda: imports.import_answers(
                    db.session, target, table, mapping, options, dry_run=dry_run, progress=bar
                )
            )
        _echo_plan(plan, dry_run=dry_run)
        if not dry_run:
            click.echo(_("Imported %(count)d answers.", count=plan.to_import))


def _start_in_background(
    wall: Wall, path: str, table: Table, mapping: ColumnMapping, options: ImportOptions
) -> None:
    """Hand the file to an import job and say where to follow it."""
    data = _bytes(path)
    _run(lambda: imports.check_mapping(table, mapping, needs_wall=False))
    asked = imports.ImportRequest(wall.id, Path(path).name, mapping, options)
    job, created = start_job(
        imports.background.KIND,
        asked.job_key(data),
        wall.campaign.organisation,
        {**asked.params(), "command": True},
        inputs={asked.filename: data},
    )
    if not created:
        click.echo(_("The same import is already running as job %(id)d.", id=job.id))
    page = f"/staff/jobs/{job.id}"
    click.echo(
        _(
            "The import runs in the background as job %(id)d. Follow it in the workspace: %(path)s",
            id=job.id,
            path=page,
        )
    )


@answers_cli.command("import-campaign")
@click.argument("file", type=click.Path(exists=True, dir_okay=False))
@click.option("--slug", required=True, help="Slug of the new campaign.")
@click.option("--title", required=True, help="Title of the new campaign.")
@click.option("--org", "org_slug", help="Organisation slug (needed when several exist).")
@click.option("--map", "pairs", multiple=True, metavar="FIELD=COLUMN", help="Column mapping.")
@click.option("--skip-invalid", is_flag=True, help="Import the valid rows, skip rows with errors.")
@click.option("--dry-run", is_flag=True, help="Only show what would be imported.")
@click.option(
    "--earlier-round-of",
    "next_slug",
    help="Slug of the campaign this export is the earlier round of (to compare the two).",
)
def import_campaign(
    file: str,
    slug: str,
    title: str,
    org_slug: str | None,
    pairs: tuple[str, ...],
    skip_invalid: bool,
    dry_run: bool,
    next_slug: str | None,
) -> None:
    """Create a campaign from an earlier campaign's CSV export and import its answers, at
    once in one transaction (with a progress bar on a terminal)."""
    with force_locale("da"):
        organisation = find_organisation(org_slug)
        next_round = None
        if next_slug is not None:
            next_round = db.session.scalars(
                select(Campaign).where(
                    Campaign.slug == next_slug, Campaign.organisation_id == organisation.id
                )
            ).first()
            if next_round is None:
                raise click.ClickException(_("No campaign %(slug)s.", slug=next_slug))
        table = _run(lambda: _read(file))
        mapping = _mapping(table, pairs)
        options = ImportOptions(skip_invalid=skip_invalid, keep_duplicates=True)
        result: dict[str, object] = {}

        def action() -> ImportPlan:
            campaign, plan = imports.import_campaign(
                db.session,
                organisation,
                table,
                mapping,
                slug=slug,
                title=title,
                dry_run=dry_run,
                options=options,
                progress=bar,
                next_round=next_round,
            )
            result["walls"] = len(campaign.walls)
            result["slug"] = campaign.slug
            return plan

        with _Bar(_("Checking the rows")) as bar:
            plan = _run(action)
        _echo_plan(plan, dry_run=dry_run)
        if not dry_run:
            click.echo(
                _(
                    "Created campaign %(slug)s with %(walls)d walls and %(count)d answers.",
                    slug=result["slug"],
                    walls=result["walls"],
                    count=plan.to_import,
                )
            )
