"""The staff workspace: campaigns, walls, moderation, audit and GDPR."""

from flask import Blueprint

bp = Blueprint("staff", __name__)
