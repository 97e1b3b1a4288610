"""The live wall for a projector at events."""

from flask import Blueprint

bp = Blueprint("live", __name__)

from . import views  # noqa: E402, F401
