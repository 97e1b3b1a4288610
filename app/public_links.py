"""Absolute links for people outside the site: QR codes, posters, the projector, the report.

They are built from the configured ``BASE_URL`` (``STEMMER_BASE_URL``), never from the request's
``Host`` header, which the sender chooses: a request for ``Host: evil.example`` must not get a
QR code (cached for an hour) leading to evil.example.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

from flask import current_app, has_request_context, url_for


def public_url(endpoint: str, **values: Any) -> str:
    """The absolute address of ``url_for(endpoint, **values)`` at the configured base URL;
    outside a request too (a background task's e-mail), from the app's URL map."""
    base = current_app.config["BASE_URL"]
    if has_request_context():
        return base + url_for(endpoint, **values)
    adapter = current_app.url_map.bind(urlsplit(base).netloc)
    return base + adapter.build(endpoint, values)
