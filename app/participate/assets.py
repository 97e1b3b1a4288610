"""Static assets with content-hash version parameters, so caches (and the service worker)
never serve an old file after a deployment."""

from __future__ import annotations

import hashlib
from functools import cache
from pathlib import Path

from flask import current_app, url_for

#: Files a participant page may load; the service worker's cache version covers them all.
PARTICIPANT_ASSETS = (
    "css/stemmer.css",
    "css/kiosk.css",
    "css/live.css",
    "css/poster.css",
    "js/stemmer.js",
    "js/wall.js",
    "js/kiosk.js",
    "js/live.js",
    "js/poster.js",
    "js/sw.js",
)


@cache
def _file_hash(path: str, mtime_ns: int) -> str:
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()[:10]


def asset_hash(filename: str) -> str:
    """A short hash of a static file's content (recomputed when the file changes)."""
    static = Path(current_app.static_folder or "")
    path = static / filename
    try:
        return _file_hash(str(path), path.stat().st_mtime_ns)
    except FileNotFoundError:
        return "0"


def asset_url(filename: str) -> str:
    """The URL of a static file with its content hash as ``v`` parameter."""
    return url_for("static", filename=filename, v=asset_hash(filename))


def assets_version() -> str:
    """One version for all participant assets: the service worker's cache name."""
    digest = hashlib.sha256()
    for name in PARTICIPANT_ASSETS:
        digest.update(asset_hash(name).encode())
    return digest.hexdigest()[:12]
