"""Kiosk devices: shared tablets bound to one wall, identified by a URL token."""

from __future__ import annotations

import secrets

from sqlalchemy import select
from sqlalchemy.orm import Session

from .errors import N_, InvalidInput, NotFound
from .models import KioskDevice, Wall, utcnow

MIN_IDLE_SECONDS = 15
MAX_IDLE_SECONDS = 3600


def create_device(session: Session, wall: Wall, name: str, idle_seconds: int = 60) -> KioskDevice:
    """Register a kiosk tablet for a wall, with a fresh random token."""
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
    session.commit()
    return device


def revoke_device(session: Session, device: KioskDevice) -> None:
    """Stop a device from being used; its answers stay."""
    if device.revoked_at is None:
        device.revoked_at = utcnow()
        session.commit()


def device_by_token(session: Session, token: str) -> KioskDevice | None:
    """The device with this token, revoked or not (None when unknown)."""
    if not token or len(token) > 64:
        return None
    return session.scalars(select(KioskDevice).where(KioskDevice.token == token)).first()


def active_device(session: Session, wall: Wall, token: str | None) -> KioskDevice:
    """The active device with this token on this wall, or :class:`NotFound`."""
    device = device_by_token(session, token or "")
    if device is None or device.wall_id != wall.id or not device.is_active:
        raise NotFound(
            N_("This kiosk link is not valid (anymore). Ask the staff for a new one."),
            code="kiosk_device_invalid",
        )
    return device


def touch_device(session: Session, device: KioskDevice, min_interval_seconds: int = 60) -> None:
    """Record that the device was seen (at most one write a minute)."""
    now = utcnow()
    last = device.last_seen_at
    if last is None or (now - last).total_seconds() >= min_interval_seconds:
        device.last_seen_at = now
        session.commit()
