"""What a new server process does before its first request, so that no visitor waits for it."""

from __future__ import annotations

from babel import localedata
from flask import Flask
from flask_babel import force_locale, get_translations
from sqlalchemy.exc import SQLAlchemyError

from surveys import queries

from .config import LANGUAGES
from .extensions import db


def warm_up(app: Flask) -> list[str]:
    """Get a new process ready before its first request; return the compiled templates' names.

    Compiles every template, loads every language's translations and locale data (how
    numbers and dates are written) and shows the newest wall's page once, which prepares the
    page's SQL statements (and puts the page in the page cache). Measured before this: the
    first wall page of a new process took 0.3-0.6 s in-process and up to 0.9 s under load,
    while the process's other requests waited; 1-4 ms once warm. Most of it was Jinja
    compiling templates, then Babel loading the Danish locale data, then SQLAlchemy compiling
    the page's statements. A database that cannot be reached only skips the wall page.
    """
    env = app.jinja_env
    names = env.list_templates()
    for name in names:
        env.get_template(name)
    with app.test_request_context():
        for language in LANGUAGES:
            with force_locale(language):
                get_translations()
            localedata.load(language)
    try:
        with app.app_context():
            slug = db.session.scalar(queries.newest_wall_slug())
    except SQLAlchemyError as error:
        app.logger.warning("Warm-up: no wall page shown, the database failed: %s", error)
        return names
    if slug is not None:
        app.test_client().get(f"/w/{slug}")
    return names
