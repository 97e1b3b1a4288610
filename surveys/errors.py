"""Domain errors with stable machine-readable codes.

Messages are English source strings; the web layer translates them with gettext.
"""

from __future__ import annotations


def N_(message: str) -> str:
    """Mark a message for translation without translating it (extracted by Babel)."""
    return message


class DomainError(Exception):
    """Base class: ``code`` is stable for API clients, ``message`` is a translatable source."""

    code = "error"
    status = 400

    def __init__(self, message: str, code: str | None = None, **params: object) -> None:
        super().__init__(message)
        self.message = message
        self.params = params
        if code is not None:
            self.code = code


class InvalidInput(DomainError):
    """The participant's or client's input cannot be stored as it is."""

    code = "invalid_input"
    status = 400


class NotFound(DomainError):
    """The thing asked for does not exist (or is not visible)."""

    code = "not_found"
    status = 404


class WallClosed(DomainError):
    """The wall's answering window is over."""

    code = "wall_closed"
    status = 410


class WallNotOpen(DomainError):
    """The wall has not opened yet."""

    code = "wall_not_open"
    status = 403


class Conflict(DomainError):
    """The request contradicts what is stored (e.g. a reused submission id)."""

    code = "conflict"
    status = 409


class DeviceRevoked(NotFound):
    """The kiosk link was valid once but the device has been revoked (410 Gone)."""

    code = "kiosk_device_revoked"
    status = 410
