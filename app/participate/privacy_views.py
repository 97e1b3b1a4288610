"""A wall's whole privacy notice (GDPR art. 13) on a page of its own (issue 25)."""

from __future__ import annotations

from flask import render_template
from flask.typing import ResponseReturnValue

from . import bp
from .views import _load_wall


@bp.get("/w/<slug>/privatliv")
def privacy(slug: str) -> ResponseReturnValue:
    """Who is responsible for the answers, what is stored, for how long, rights, complaints."""
    return render_template("participate/privacy.html", wall=_load_wall(slug))
