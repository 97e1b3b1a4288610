"""JSON API v1 for kiosks, offline sync and integrations."""

from flask import Blueprint

bp = Blueprint("api", __name__)

from . import views  # noqa: E402, F401
