"""The Stemmer web layer: app factory, blueprints per audience, templates and static files."""

from __future__ import annotations

import os
from typing import Any

from flask import Flask, g, request, session
from flask.sessions import SecureCookieSessionInterface
from flask_babel import get_locale
from itsdangerous import URLSafeTimedSerializer

from .config import LANGUAGES, load_config
from .extensions import babel, csrf, db, migrate
from .security import init_security


def select_locale() -> str:
    """The participant's chosen language, else the wall's, else Danish."""
    chosen = request.args.get("lang")
    if chosen in LANGUAGES:
        session["lang"] = chosen
        return chosen
    stored = session.get("lang")
    if stored in LANGUAGES:
        return stored
    return g.get("wall_language") or "da"


class SessionInterface(SecureCookieSessionInterface):
    """Flask's signed-cookie sessions, with the signing serializer built once per set of keys.

    Flask builds it on every request (for every request opens the session); the serializer
    holds only the keys and settings, so one per app serves every thread.
    """

    def __init__(self) -> None:
        self._serializer: tuple[object, URLSafeTimedSerializer | None] | None = None

    def get_signing_serializer(self, app: Flask) -> URLSafeTimedSerializer | None:
        """The serializer for the app's current secret key and fallbacks."""
        keys = (app.secret_key, tuple(app.config.get("SECRET_KEY_FALLBACKS") or ()))
        cached = self._serializer
        if cached is not None and cached[0] == keys:
            return cached[1]
        serializer = super().get_signing_serializer(app)
        self._serializer = (keys, serializer)
        return serializer


def create_app(config: dict[str, Any] | None = None) -> Flask:
    """Create the Stemmer app; ``config`` overrides the environment (used by tests)."""
    app = Flask(__name__, instance_relative_config=True)
    os.makedirs(app.instance_path, exist_ok=True)
    app.config.from_mapping(load_config(app.instance_path, config))
    app.json.ensure_ascii = False  # type: ignore[attr-defined]  # Danish and emoji as they are
    app.session_interface = SessionInterface()

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

    @app.context_processor
    def inject_locale() -> dict[str, Any]:
        return {"current_locale": str(get_locale() or "da"), "languages": LANGUAGES}

    return app
