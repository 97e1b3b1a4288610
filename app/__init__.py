"""The Stemmer web layer: app factory, blueprints per audience, templates and static files."""

from __future__ import annotations

import os
from typing import Any

from flask import Flask, g, request, session
from flask_babel import get_locale

from .config import LANGUAGES, load_config
from .embeddings import init_embeddings
from .extensions import babel, csrf, db, migrate
from .questions import init_questions
from .queue import init_queue
from .security import init_security
from .wall_texts import init_wall_texts


def select_locale() -> str:
    """The participant's chosen language, else the wall's, else Danish.

    On a wall's pages (``g.wall_languages``: the languages it offers, see
    :func:`surveys.languages.offered_languages`) only an offered language is chosen: a wall
    with no English texts is shown in Danish, whatever the visitor chose elsewhere.
    """
    chosen = request.args.get("lang")
    if chosen in LANGUAGES:
        session["lang"] = chosen
    offered = g.get("wall_languages") or LANGUAGES
    for wanted in (chosen, session.get("lang")):
        if wanted in LANGUAGES and wanted in offered:
            return wanted
    return g.get("wall_language") or "da"


def create_app(config: dict[str, Any] | None = None) -> Flask:
    """Create the Stemmer app; ``config`` overrides the environment (used by tests)."""
    app = Flask(__name__, instance_relative_config=True)
    os.makedirs(app.instance_path, exist_ok=True)
    app.config.from_mapping(load_config(app.instance_path, config))
    app.json.ensure_ascii = False  # type: ignore[attr-defined]  # Danish and emoji as they are

    db.init_app(app)
    migrate.init_app(
        app,
        db,
        directory=os.path.join(os.path.dirname(os.path.dirname(__file__)), "migrations"),
        render_as_batch=True,
        compare_type=True,
    )
    babel.init_app(app, locale_selector=select_locale)
    csrf.init_app(app)
    init_queue(app)
    init_embeddings(app)

    from . import cli
    from .api import bp as api_bp
    from .core import bp as core_bp
    from .kiosk import bp as kiosk_bp
    from .live import bp as live_bp
    from .participate import bp as participate_bp
    from .staff import bp as staff_bp

    app.register_blueprint(core_bp)
    app.register_blueprint(participate_bp)
    app.register_blueprint(kiosk_bp, url_prefix="/kiosk")
    app.register_blueprint(live_bp, url_prefix="/live")
    app.register_blueprint(staff_bp, url_prefix="/staff")
    app.register_blueprint(api_bp, url_prefix="/api/v1")
    csrf.exempt(api_bp)
    cli.register(app)
    init_security(app)
    init_wall_texts(app)
    init_questions(app)

    @app.context_processor
    def inject_locale() -> dict[str, Any]:
        return {"current_locale": str(get_locale() or "da"), "languages": LANGUAGES}

    return app
