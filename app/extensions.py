"""Flask extensions, created unbound and initialised in the app factory."""

from __future__ import annotations

from dataclasses import dataclass

from flask import Flask, current_app, g
from flask_babel import Babel
from flask_migrate import Migrate
from flask_wtf import CSRFProtect
from sqlalchemy import Engine, MetaData
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session, sessionmaker

from surveys.db import (
    is_postgresql,
    is_sqlite_file,
    make_engine,
    make_session_factory,
)
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
        """Create the engine from ``DATABASE_URL`` and close sessions on teardown.

        ``DATABASE_LOCK_TIMEOUT`` (seconds, :mod:`app.config`) bounds each wait
        of a request for the database: for a lock another connection or program holds, and
        for a connection from the pool when all are in use. Past it the request fails with
        ``OperationalError`` or the pool's ``TimeoutError``, answered with 503 and
        ``Retry-After`` (:mod:`app.security`).
        """
        lock_timeout = float(app.config["DATABASE_LOCK_TIMEOUT"])
        options = dict(app.config["DATABASE_ENGINE_OPTIONS"])
        url = app.config["DATABASE_URL"]
        if is_postgresql(url) or is_sqlite_file(url):
            # A connection opened per request beyond the pool costs PostgreSQL a new backend
            # process (SQLite: opening the file, the pragmas, reading the schema). gunicorn
            # gives one worker more than ten requests at once under load; SQLAlchemy's
            # defaults (5 kept, 10 more) then open and close hundreds a minute. Keep them.
            options.setdefault("pool_size", app.config["DATABASE_POOL_SIZE"])
            options.setdefault("max_overflow", app.config["DATABASE_MAX_OVERFLOW"])
            options.setdefault("pool_timeout", lock_timeout)
        engine = make_engine(url, lock_timeout=lock_timeout, **options)
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
    def sessions(self) -> sessionmaker[Session]:
        """New sessions on the current app's database (for work beside the context's session)."""
        return self._state().sessions

    @property
    def session(self) -> Session:
        """The session of the current application context, created on first use."""
        if "db_session" not in g:
            g.db_session = self._state().sessions()
        return g.db_session

    def end_session(self) -> None:
        """Close the session of the current context now: its transaction ends and its
        connection goes back to the pool. A database error doing so (the database went away)
        is raised, so that the request can still be answered with 503 (:mod:`app.security`
        calls this before the response leaves). Using :attr:`session` afterwards starts a
        new one."""
        session = g.pop("db_session", None)
        if session is not None:
            _close(session)

    @staticmethod
    def _close_session(_exc: BaseException | None) -> None:
        """Teardown: close a session still open (used after the response was made, or by a
        CLI command). The response is already made, so a database error is only logged:
        raised here it would replace that response with the server's bare 500."""
        session = g.pop("db_session", None)
        if session is None:
            return
        try:
            _close(session)
        except SQLAlchemyError as error:
            current_app.logger.warning("Database session not closed cleanly: %s", error)


def _close(session: Session) -> None:
    """Close ``session``; when that fails (its connection broke) drop its connection instead
    of returning it to the pool, then raise the error."""
    try:
        session.close()
    except SQLAlchemyError:
        session.invalidate()
        raise


db = Database()
migrate = Migrate()
babel = Babel()
csrf = CSRFProtect()
