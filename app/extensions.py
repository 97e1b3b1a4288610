"""Flask extensions, created unbound and initialised in the app factory."""

from __future__ import annotations

from dataclasses import dataclass

from flask import Flask, current_app, g
from flask_babel import Babel
from flask_migrate import Migrate
from flask_wtf import CSRFProtect
from sqlalchemy import Engine, MetaData
from sqlalchemy.orm import Session, sessionmaker

from surveys.db import is_postgresql, is_sqlite_file, make_engine, make_session_factory
from surveys.models import Base


@dataclass
class _DatabaseState:
    engine: Engine
    sessions: sessionmaker[Session]


class Database:
    """The app's database: one engine per app, one session per application context.

    A small stand-in for Flask-SQLAlchemy so that the models in ``surveys`` stay plain
    SQLAlchemy; Flask-Migrate only needs ``metadata`` from it.
    """

    metadata: MetaData = Base.metadata

    def init_app(self, app: Flask) -> None:
        """Create the engine from ``DATABASE_URL`` and close sessions on teardown."""
        options = dict(app.config["DATABASE_ENGINE_OPTIONS"])
        url = app.config["DATABASE_URL"]
        if is_postgresql(url) or is_sqlite_file(url):
            # A connection opened per request beyond the pool costs PostgreSQL a new backend
            # process (SQLite: opening the file, the pragmas, reading the schema). gunicorn
            # gives one worker more than ten requests at once under load; SQLAlchemy's
            # defaults (5 kept, 10 more) then open and close hundreds a minute. Keep them.
            options.setdefault("pool_size", app.config["DATABASE_POOL_SIZE"])
            options.setdefault("max_overflow", app.config["DATABASE_MAX_OVERFLOW"])
        engine = make_engine(url, **options)
        app.extensions["stemmer.db"] = _DatabaseState(engine, make_session_factory(engine))
        app.teardown_appcontext(self._close_session)

    @staticmethod
    def _state() -> _DatabaseState:
        return current_app.extensions["stemmer.db"]

    @property
    def engine(self) -> Engine:
        """The current app's engine."""
        return self._state().engine

    @property
    def session(self) -> Session:
        """The session of the current application context, created on first use."""
        if "db_session" not in g:
            g.db_session = self._state().sessions()
        return g.db_session

    @staticmethod
    def _close_session(_exc: BaseException | None) -> None:
        session = g.pop("db_session", None)
        if session is not None:
            session.close()


db = Database()
migrate = Migrate()
babel = Babel()
csrf = CSRFProtect()
