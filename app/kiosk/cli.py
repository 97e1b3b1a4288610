"""``flask --app wsgi kiosk add|revoke|list``: kiosk tablets from the command line."""

from __future__ import annotations

import click
from flask import current_app
from flask.cli import AppGroup

from surveys import answers
from surveys import kiosk as kiosks
from surveys.errors import DomainError
from surveys.kiosk import MAX_IDLE_SECONDS, MIN_IDLE_SECONDS
from surveys.models import KioskDevice

from ..extensions import db

kiosk_cli = AppGroup("kiosk", help="Kiosk tablets (shared tablets answering one wall).")


def _default_base_url() -> str:
    return str(current_app.config["BASE_URL"])


def kiosk_url(device: KioskDevice, base_url: str) -> str:
    """The URL a tablet opens for this device."""
    return f"{base_url.rstrip('/')}/kiosk/{device.wall.slug}?device={device.token}"


def _fail(error: DomainError) -> click.ClickException:
    return click.ClickException(error.message % error.params)


@kiosk_cli.command("add")
@click.argument("name")
@click.option("--wall", "wall_slug", required=True, help="Slug of the wall the tablet answers.")
@click.option(
    "--idle-seconds",
    type=click.IntRange(MIN_IDLE_SECONDS, MAX_IDLE_SECONDS),
    default=60,
    show_default=True,
    help="Seconds without a touch before the screen starts over.",
)
@click.option(
    "--base-url",
    default=None,
    help="Address of the site (default: $STEMMER_BASE_URL or http://127.0.0.1:$PORT).",
)
def kiosk_add(name: str, wall_slug: str, idle_seconds: int, base_url: str | None) -> None:
    """Register a kiosk tablet for a wall and print its URL."""
    try:
        wall = answers.get_wall_by_slug(db.session, wall_slug)
        device = kiosks.create_device(db.session, wall, name, idle_seconds=idle_seconds)
    except DomainError as error:
        raise _fail(error) from error
    click.echo(f"Created kiosk device {device.id} ({device.name}) for wall {wall.slug}.")
    click.echo(kiosk_url(device, base_url or _default_base_url()))


@kiosk_cli.command("revoke")
@click.argument("token_or_id")
def kiosk_revoke(token_or_id: str) -> None:
    """Switch a kiosk tablet off (by its token or id); its answers stay."""
    device = kiosks.find_device(db.session, token_or_id)
    if device is None:
        raise click.ClickException(f"No kiosk device {token_or_id!r}.")
    if not device.is_active:
        click.echo(f"Kiosk device {device.id} ({device.name}) was already revoked.")
        return
    kiosks.revoke_device(db.session, device)
    click.echo(f"Revoked kiosk device {device.id} ({device.name}).")


@kiosk_cli.command("list")
@click.option("--wall", "wall_slug", default=None, help="Only the devices of this wall.")
@click.option("--base-url", default=None, help="Address of the site, for the printed URLs.")
def kiosk_list(wall_slug: str | None, base_url: str | None) -> None:
    """List kiosk tablets with their state and URL."""
    try:
        wall = answers.get_wall_by_slug(db.session, wall_slug) if wall_slug else None
    except DomainError as error:
        raise _fail(error) from error
    devices = kiosks.list_devices(db.session, wall)
    if not devices:
        click.echo("No kiosk devices.")
        return
    base = base_url or _default_base_url()
    for device in devices:
        state = "revoked" if not device.is_active else "active"
        seen = device.last_seen_at.isoformat(timespec="seconds") if device.last_seen_at else "never"
        click.echo(
            f"{device.id}\t{state}\t{device.wall.slug}\t{device.name}\t"
            f"idle {device.idle_seconds}s\tlast seen {seen}\t{kiosk_url(device, base)}"
        )
