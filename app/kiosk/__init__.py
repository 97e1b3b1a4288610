"""Kiosk tablets: a full-screen wall on a shared tablet that resets between people."""

from flask import Blueprint

bp = Blueprint("kiosk", __name__)

from . import views  # noqa: E402, F401
