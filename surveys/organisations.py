"""An organisation's settings (issue 25): the data controller named in every wall's privacy
notice, its accessibility statement, and its look (name, main colour, logo).

Admins change them from the staff workspace; every change is audited (the logo as a note that
it changed, never its bytes). A wall cannot be opened to citizens while the controller details
the privacy notice needs are missing (:func:`ensure_controller`).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from urllib.parse import urlsplit

from sqlalchemy import select
from sqlalchemy.orm import Session, undefer

from . import audit, branding
from .errors import N_, InvalidInput, NotFound
from .models import Campaign, Organisation, StaffUser, utcnow
from .text import normalise_answer

SETTINGS_FIELDS = (
    "controller_name",
    "controller_address",
    "controller_email",
    "controller_phone",
    "dpo_email",
    "accessibility_url",
    "display_name",
    "brand_colour",
)
#: The statements of Danish public bodies live in the Agency for Digitisation's tool.
STATEMENT_HOST = "was.digst.dk"
EMAIL_PATTERN = re.compile(r"^[^@\s<>\"']{1,64}@[^@\s<>\"']+\.[a-z]{2,}$", re.IGNORECASE)
PHONE_PATTERN = re.compile(r"^\+?[0-9 ()-]{8,20}$")
MAX_ADDRESS_LENGTH = 300
MAX_ADDRESS_LINES = 5

#: What the privacy notice needs before a wall may open, in the order staff are told.
REQUIRED_CONTROLLER_FIELDS = {
    "controller_address": N_("the data controller's postal address"),
    "controller_email": N_("the data controller's e-mail address"),
    "dpo_email": N_("the data protection officer's e-mail address"),
}


class ControllerMissing(InvalidInput):
    """A wall cannot open before the organisation's privacy notice names its controller."""

    code = "controller_missing"


@dataclass
class SettingsInput:
    """The organisation settings an admin edits (the logo is uploaded on its own)."""

    controller_name: str = ""
    controller_address: str = ""
    controller_email: str = ""
    controller_phone: str = ""
    dpo_email: str = ""
    accessibility_url: str = ""
    display_name: str = ""
    brand_colour: str = ""


def get_by_slug(session: Session, slug: str, *, with_logo: bool = False) -> Organisation:
    """The organisation with this slug (its logo's bytes loaded when asked), or NotFound."""
    stmt = select(Organisation).where(Organisation.slug == slug[:64])
    if with_logo:
        stmt = stmt.options(undefer(Organisation.logo_png))
    organisation = session.scalars(stmt).one_or_none()
    if organisation is None:
        raise NotFound(N_("We could not find that page."), code="organisation_not_found")
    return organisation


def of_campaign(session: Session, campaign_id: int) -> Organisation:
    """The organisation running a campaign, or NotFound."""
    organisation = session.scalars(
        select(Organisation).join(Campaign).where(Campaign.id == campaign_id)
    ).one_or_none()
    if organisation is None:
        raise NotFound(N_("We could not find that page."), code="organisation_not_found")
    return organisation


def missing_controller_fields(organisation: Organisation) -> list[str]:
    """The English labels (``N_``) of the controller details still missing, in order."""
    return [
        label
        for name, label in REQUIRED_CONTROLLER_FIELDS.items()
        if not getattr(organisation, name).strip()
    ]


def ensure_controller(organisation: Organisation) -> None:
    """:class:`ControllerMissing` unless the privacy notice can name the data controller."""
    missing = missing_controller_fields(organisation)
    if missing:
        raise ControllerMissing(
            N_(
                "The wall cannot be opened to citizens yet: its privacy notice must say who "
                "is responsible for the answers. An administrator must first fill in on the "
                "organisation's page: %(missing)s."
            ),
            missing=missing,
        )


def _line(value: str, max_length: int, label: str) -> str:
    """One line of text: control and invisible characters removed, spaces collapsed."""
    text = " ".join(normalise_answer(value or "").split())
    if len(text) > max_length:
        raise InvalidInput(
            N_("%(field_label)s is too long: at most %(max)d characters."),
            code="too_long",
            field_label=label,
            max=max_length,
        )
    return text


def _email(value: str, label: str) -> str:
    text = normalise_answer(value or "")
    if text and (len(text) > 254 or not EMAIL_PATTERN.match(text)):
        raise InvalidInput(
            N_("%(field_label)s is not an e-mail address."), code="invalid_email", field_label=label
        )
    return text


def _address(value: str) -> str:
    lines = [" ".join(line.split()) for line in normalise_answer(value or "").splitlines()]
    lines = [line for line in lines if line]
    text = "\n".join(lines)
    if len(text) > MAX_ADDRESS_LENGTH or len(lines) > MAX_ADDRESS_LINES:
        raise InvalidInput(
            N_("The address is too long: at most %(lines)d lines and %(max)d characters."),
            code="too_long",
            lines=MAX_ADDRESS_LINES,
            max=MAX_ADDRESS_LENGTH,
        )
    return text


def _statement_url(value: str) -> str:
    url = normalise_answer(value or "")
    if not url:
        return ""
    parts = urlsplit(url)
    if (
        len(url) > 500
        or parts.scheme != "https"
        or parts.hostname != STATEMENT_HOST
        or parts.username
        or parts.port
    ):
        raise InvalidInput(
            N_(
                "The accessibility statement must be a link to was.digst.dk, beginning with "
                "https://was.digst.dk/."
            ),
            code="invalid_statement_url",
        )
    return url


def _clean(data: SettingsInput) -> dict[str, str]:
    phone = _line(data.controller_phone, 40, N_("The phone number"))
    if phone and not PHONE_PATTERN.match(phone):
        raise InvalidInput(N_("The phone number can only hold digits, spaces and +."))
    return {
        "controller_name": _line(data.controller_name, 200, N_("The data controller's name")),
        "controller_address": _address(data.controller_address),
        "controller_email": _email(data.controller_email, N_("The data controller's e-mail")),
        "controller_phone": phone,
        "dpo_email": _email(data.dpo_email, N_("The data protection officer's e-mail")),
        "accessibility_url": _statement_url(data.accessibility_url),
        "display_name": _line(data.display_name, 200, N_("The name on the walls")),
        "brand_colour": branding.clean_colour(data.brand_colour),
    }


def _require_own(actor: StaffUser, organisation: Organisation) -> None:
    if actor.organisation_id != organisation.id:
        raise InvalidInput(N_("This is not your organisation."), code="forbidden")


def update_settings(
    session: Session, actor: StaffUser, organisation: Organisation, data: SettingsInput
) -> Organisation:
    """Change the organisation's controller details, statement link, name and colour."""
    _require_own(actor, organisation)
    values = _clean(data)
    before = audit.snapshot(organisation, SETTINGS_FIELDS)
    for name, value in values.items():
        setattr(organisation, name, value)
    old, new = audit.changed(before, audit.snapshot(organisation, SETTINGS_FIELDS))
    if new:
        organisation.settings_changed_at = utcnow()
        audit.record(
            session,
            organisation_id=organisation.id,
            actor=actor,
            action="organisation.update",
            target_type="organisation",
            target_id=organisation.id,
            before=old,
            after=new,
        )
    session.commit()
    return organisation


def set_logo(
    session: Session, actor: StaffUser, organisation: Organisation, data: bytes | None
) -> Organisation:
    """Store a new logo (validated and re-encoded as PNG), or remove it (``None``)."""
    _require_own(actor, organisation)
    had_logo = organisation.has_logo
    organisation.logo_png = branding.clean_logo(data) if data is not None else None
    organisation.has_logo = organisation.logo_png is not None
    organisation.settings_changed_at = utcnow()
    audit.commit_change(
        session,
        organisation_id=organisation.id,
        actor=actor,
        action="organisation.logo" if data is not None else "organisation.logo_removed",
        target_type="organisation",
        target_id=organisation.id,
        before={"logo": had_logo},
        after={"logo": data is not None},
    )
    return organisation
