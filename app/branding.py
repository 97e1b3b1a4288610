"""An organisation's look on the citizens' pages (walls, kiosk, poster, projector, "Det har vi
hørt", the report): its name, logo and main colour, and where its accessibility statement is.

The colour reaches the pages as a small stylesheet of its own (``/o/<slug>/brand.css``: the
Content-Security-Policy allows no inline styles) that sets the custom properties the page
stylesheets use. Staff pages keep the design system's look and never load it.
"""

from __future__ import annotations

import base64
from dataclasses import dataclass

from flask import url_for

from surveys import branding
from surveys.models import Organisation


@dataclass(frozen=True)
class Brand:
    """What a citizens' page shows of the organisation behind it."""

    slug: str
    name: str
    css_url: str | None
    logo_url: str | None
    accessibility_url: str
    #: Whether the statement is the organisation's own (on was.digst.dk) or the app's.
    own_statement: bool


def _version(organisation: Organisation) -> str:
    changed = organisation.settings_changed_at
    return str(int(changed.timestamp())) if changed else "0"


def brand_of(organisation: Organisation) -> Brand:
    """The brand of an organisation (links carry a version, so browsers may keep the files)."""
    version = _version(organisation)
    return Brand(
        slug=organisation.slug,
        name=organisation.display_name or organisation.name,
        css_url=(
            url_for("core.brand_css_view", slug=organisation.slug, v=version)
            if organisation.brand_colour
            else None
        ),
        logo_url=(
            url_for("core.brand_logo", slug=organisation.slug, v=version)
            if organisation.has_logo
            else None
        ),
        accessibility_url=organisation.accessibility_url
        or url_for("core.organisation_statement", slug=organisation.slug),
        own_statement=bool(organisation.accessibility_url),
    )


def brand_css(colour: str, *, print_cover: bool = False) -> str:
    """The stylesheet that gives the pages the (already validated) main colour."""
    colours = branding.palette(colour)
    css = (
        f":root {{ --accent: {colours.main}; --accent-dark: {colours.dark}; "
        f"--accent-wash: {colours.wash}; }}\n"
        f".report {{ --r-accent: {colours.main}; --r-accent-dark: {colours.dark}; "
        f"--r-wash: {colours.wash}; }}\n"
        f".heard .quote, .heard .replies {{ border-left-color: {colours.main}; }}\n"
        f"body.live {{ background: {colours.dark}; }}\n"
        f'.live-filter a[aria-current="page"] {{ color: {colours.dark}; }}\n'
    )
    if print_cover:
        css += f"@page cover {{ background: {colours.main}; }}\n"
    return css


def logo_data_uri(organisation: Organisation) -> str | None:
    """The logo as a ``data:`` URI, for documents made without a web server (the PDF)."""
    if not organisation.has_logo or organisation.logo_png is None:
        return None
    return "data:image/png;base64," + base64.b64encode(organisation.logo_png).decode("ascii")
