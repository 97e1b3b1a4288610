"""Kiosk devices: shared tablets bound to one wall, identified by a URL token."""

from __future__ import annotations

import secrets
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from .errors import N_, DeviceRevoked, InvalidInput, NotFound
from .models import KioskDevice, Wall, utcnow

MIN_IDLE_SECONDS = 15
MAX_IDLE_SECONDS = 3600


def new_device(session: Session, wall: Wall, name: str, idle_seconds: int = 60) -> KioskDevice:
    """Register a kiosk tablet for a wall, with a fresh random token (flushed; the caller
    commits, e.g. with its audit entry: :func:`surveys.campaigns.add_device`)."""
    name = " ".join(name.split())
    if not name or len(name) > 200:
        raise InvalidInput(N_("Give the device a name of 1-200 characters."), code="invalid_name")
    if not MIN_IDLE_SECONDS <= idle_seconds <= MAX_IDLE_SECONDS:
        raise InvalidInput(
            N_("The idle time must be between %(min)d and %(max)d seconds."),
            code="invalid_idle_seconds",
            min=MIN_IDLE_SECONDS,
            max=MAX_IDLE_SECONDS,
        )
    device = KioskDevice(
        wall_id=wall.id, name=name, token=secrets.token_urlsafe(24), idle_seconds=idle_seconds
    )
    session.add(device)
    session.flush()
    return device


def create_device(session: Session, wall: Wall, name: str, idle_seconds: int = 60) -> KioskDevice:
    """:func:`new_device`, committed (the command line's ``kiosk add``)."""
    device = new_device(session, wall, name, idle_seconds)
    session.commit()
    return device


def switch_off(device: KioskDevice) -> None:
    """Stop a device from being used (its answers stay); the caller commits."""
    if device.revoked_at is None:
        device.revoked_at = utcnow()


def revoke_device(session: Session, device: KioskDevice) -> None:
    """:func:`switch_off`, committed (the command line's ``kiosk revoke``)."""
    switch_off(device)
    session.commit()


def device_by_token(session: Session, token: str) -> KioskDevice | None:
    """The device with this token, revoked or not (None when unknown)."""
    if not token or len(token) > 64:
        return None
    return session.scalars(select(KioskDevice).where(KioskDevice.token == token)).first()


def wall_device(session: Session, wall: Wall, token: str | None) -> KioskDevice:
    """The device with this token on this wall, revoked or not (for answers it queued
    before it was revoked: see :func:`surveys.answers.submit_answer`).

    Raises :class:`NotFound` for an unknown token or a device of another wall.
    """
    device = device_by_token(session, token or "")
    if device is None or device.wall_id != wall.id:
        raise NotFound(
            N_("This kiosk link is not valid (anymore). Ask the staff for a new one."),
            code="kiosk_device_invalid",
        )
    return device


def active_device(session: Session, wall: Wall, token: str | None) -> KioskDevice:
    """The active device with this token on this wall.

    Raises :class:`DeviceRevoked` (410) for a revoked device and :class:`NotFound` for an
    unknown token or a device of another wall.
    """
    device = wall_device(session, wall, token)
    if not device.is_active:
        raise DeviceRevoked(
            N_("This kiosk has been switched off. Ask the staff for a new kiosk link."),
        )
    return device


def note_seen(device: KioskDevice, now: datetime, min_interval_seconds: int = 60) -> None:
    """Note that the device was seen (at most one write a minute; the caller commits)."""
    last = device.last_seen_at
    if last is None or (now - last).total_seconds() >= min_interval_seconds:
        device.last_seen_at = now


def touch_device(session: Session, device: KioskDevice) -> None:
    """Record that the device was seen (the kiosk page calls this); commits."""
    note_seen(device, utcnow())
    session.commit()


def find_device(session: Session, token_or_id: str) -> KioskDevice | None:
    """A device by its token or by its numeric id (for the command line)."""
    token_or_id = token_or_id.strip()
    if token_or_id.isdecimal():
        device = session.get(KioskDevice, int(token_or_id))
        if device is not None:
            return device
    return device_by_token(session, token_or_id)


def list_devices(session: Session, wall: Wall | None = None) -> list[KioskDevice]:
    """Kiosk devices (of one wall, or all), oldest first."""
    stmt = select(KioskDevice).order_by(KioskDevice.id)
    if wall is not None:
        stmt = stmt.where(KioskDevice.wall_id == wall.id)
    return list(session.scalars(stmt))
