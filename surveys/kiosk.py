"""Kiosk devices: shared tablets bound to one wall, identified by a URL token."""

from __future__ import annotations

import secrets
from collections.abc import Mapping
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from . import operations
from .errors import N_, InvalidInput, NotFound
from .models import Channel, KioskDevice, Wall, utcnow

MIN_IDLE_SECONDS = 15
MAX_IDLE_SECONDS = 3600


class DeviceRevoked(NotFound):
    """The kiosk link was valid once but the device has been revoked (410 Gone)."""

    code = "kiosk_device_revoked"
    status = 410


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
    """The active device with this token on this wall.

    Raises :class:`DeviceRevoked` (410) for a revoked device and :class:`NotFound` for an
    unknown token or a device of another wall.
    """
    device = device_by_token(session, token or "")
    if device is not None and device.wall_id == wall.id and not device.is_active:
        raise DeviceRevoked(
            N_("This kiosk has been switched off. Ask the staff for a new kiosk link."),
        )
    if device is None or device.wall_id != wall.id:
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


def submit_kiosk_answer(
    session: Session,
    device: KioskDevice,
    *,
    prompt_id: object,
    text: object,
    client_submission_id: object,
    profile: Mapping[str, object] | None = None,
    language: str | None = None,
    now: datetime | None = None,
) -> operations.SubmitResult:
    """Store an answer given on a kiosk tablet: channel ``kiosk``, tied to the device.

    Idempotent by ``client_submission_id`` like every answer (an offline kiosk retries).
    """
    if not device.is_active:
        raise DeviceRevoked(
            N_("This kiosk has been switched off. Ask the staff for a new kiosk link."),
        )
    result = operations.submit_answer(
        session,
        device.wall,
        prompt_id=prompt_id,
        text=text,
        client_submission_id=client_submission_id,
        channel=Channel.KIOSK,
        profile=profile,
        language=language,
        device=device,
        now=now,
    )
    touch_device(session, device)
    return result


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
