"""An organisation's look on the citizens' pages: its main colour and its logo (issue 25).

The main colour is used behind white text (the wall's header, buttons) and as the colour of
links and headings on white, so it must reach WCAG AA's 4.5:1 against white; anything else
is refused with the ratio it reached. The logo is a PNG or JPEG of at most
:data:`MAX_LOGO_BYTES`; it is decoded with Pillow, shrunk to fit :data:`LOGO_BOX` and stored
re-encoded as PNG, so nothing of the uploaded file but its pixels is ever served (no
metadata, no trailing data, no script). SVG is refused: it is a document that can carry
script.
"""

from __future__ import annotations

import io
import re
import warnings
from dataclasses import dataclass

from PIL import Image, UnidentifiedImageError

from .errors import N_, InvalidInput

#: Stemmer's own green (7.6:1 on white), used when an organisation has no colour.
DEFAULT_COLOUR = "#0b5c4a"
WHITE = "#ffffff"
#: WCAG 2.1 AA for normal text.
MIN_CONTRAST = 4.5
COLOUR_PATTERN = re.compile(r"^#[0-9a-f]{6}$")

#: The largest logo file accepted (the upload route allows a little more for the form).
MAX_LOGO_BYTES = 1024 * 1024
#: The largest picture decoded (width × height), far below Pillow's bomb limit.
MAX_LOGO_PIXELS = 4000 * 4000
#: The stored logo fits this box (width, height), keeping its proportions.
LOGO_BOX = (800, 240)
LOGO_FORMATS = ("PNG", "JPEG")


def _linear(channel: int) -> float:
    value = channel / 255
    return value / 12.92 if value <= 0.04045 else ((value + 0.055) / 1.055) ** 2.4


def _rgb(colour: str) -> tuple[int, int, int]:
    return int(colour[1:3], 16), int(colour[3:5], 16), int(colour[5:7], 16)


def luminance(colour: str) -> float:
    """WCAG relative luminance of "#rrggbb"."""
    red, green, blue = (_linear(c) for c in _rgb(colour))
    return 0.2126 * red + 0.7152 * green + 0.0722 * blue


def contrast(first: str, second: str) -> float:
    """WCAG contrast ratio of two "#rrggbb" colours (1 to 21)."""
    high, low = sorted((luminance(first), luminance(second)), reverse=True)
    return (high + 0.05) / (low + 0.05)


def clean_colour(value: str | None) -> str:
    """A main colour as "#rrggbb" (lower case), "" for none; refused when it is not a colour
    written that way or when white text on it would be hard to read."""
    colour = (value or "").strip().lower()
    if not colour:
        return ""
    if not COLOUR_PATTERN.match(colour):
        raise InvalidInput(
            N_("Write the colour as # followed by six characters 0-9 or a-f, for example #0b5c4a."),
            code="invalid_colour",
        )
    ratio = contrast(colour, WHITE)
    if ratio < MIN_CONTRAST:
        raise InvalidInput(
            N_(
                "White text on %(colour)s has a contrast of only %(ratio)s:1; WCAG AA asks "
                "for at least 4.5:1, or many people cannot read it. Choose a darker colour."
            ),
            code="colour_contrast",
            colour=colour,
            ratio=f"{ratio:.2f}".replace(".", ","),
        )
    return colour


def _mix(colour: str, other: str, share: float) -> str:
    """``colour`` with ``share`` of ``other`` mixed in (0: colour, 1: other)."""
    mixed = (
        round(c * (1 - share) + o * share) for c, o in zip(_rgb(colour), _rgb(other), strict=True)
    )
    return "#" + "".join(f"{c:02x}" for c in mixed)


@dataclass(frozen=True)
class Palette:
    """The colours derived from a main colour: ``main`` behind white text and as link colour,
    ``dark`` for hover and headings, ``wash`` a pale background under ``dark`` text."""

    main: str
    dark: str
    wash: str


def palette(colour: str | None) -> Palette:
    """The palette of a (clean) main colour, or Stemmer's own for none."""
    main = colour or DEFAULT_COLOUR
    return Palette(main=main, dark=_mix(main, "#000000", 0.3), wash=_mix(main, WHITE, 0.88))


def clean_logo(data: bytes) -> bytes:
    """The logo re-encoded as PNG (fitted into :data:`LOGO_BOX`), or :class:`InvalidInput`."""
    if len(data) > MAX_LOGO_BYTES:
        raise InvalidInput(
            N_("The logo is too large: at most %(size)s MB."),
            code="logo_too_large",
            size=MAX_LOGO_BYTES // (1024 * 1024),
        )
    head = data[:512].lstrip().lower()
    if head.startswith((b"<?xml", b"<svg", b"<!doctype")) or b"<svg" in head:
        raise InvalidInput(
            N_("SVG files cannot be used, as they can contain script. Use PNG or JPEG."),
            code="logo_svg",
        )
    not_a_picture = InvalidInput(
        N_("The logo must be a PNG or JPEG picture."), code="logo_not_a_picture"
    )
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            with Image.open(io.BytesIO(data), formats=LOGO_FORMATS) as image:
                width, height = image.size
                if width * height > MAX_LOGO_PIXELS:
                    raise InvalidInput(
                        N_("The logo has too many pixels: at most %(width)d × %(height)d."),
                        code="logo_too_many_pixels",
                        width=4000,
                        height=4000,
                    )
                image.load()
                picture = image.convert("RGBA")
    except InvalidInput:
        raise
    except (
        UnidentifiedImageError,
        Image.DecompressionBombWarning,
        Image.DecompressionBombError,
        OSError,
        ValueError,
        SyntaxError,  # Pillow's PNG reader raises it for some broken chunks
    ):
        raise not_a_picture from None
    picture.thumbnail(LOGO_BOX)
    out = io.BytesIO()
    picture.save(out, format="PNG", optimize=True)
    return out.getvalue()
