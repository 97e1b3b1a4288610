"""Engines and sessions, independent of the web layer."""

from __future__ import annotations

import functools
from typing import Any

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.engine import URL, make_url
from sqlalchemy.orm import Session, sessionmaker

from . import search

#: Seconds a statement waits at most for a lock another connection or program holds (SQLite's
#: write lock, a PostgreSQL row or table lock) before it fails with
#: ``OperationalError``, which the web layer answers with 503 and ``Retry-After``. The app's
#: ``DATABASE_LOCK_TIMEOUT`` (README "Drift"); :func:`make_engine`'s ``lock_timeout``.
DEFAULT_LOCK_TIMEOUT = 3.0

#: Seconds PostgreSQL's client waits at most to connect (libpq's minimum is 2).
CONNECT_TIMEOUT = 5


def normalise_url(url: str) -> str:
    """Accept the common ``postgres://`` and ``postgresql://`` forms and use psycopg 3."""
    if url.startswith("postgres://"):
        url = "postgresql://" + url[len("postgres://") :]
    if url.startswith("postgresql://"):
        url = "postgresql+psycopg://" + url[len("postgresql://") :]
    return url


def is_postgresql(url: str) -> bool:
    """Whether the URL names a PostgreSQL database (in any of the accepted forms)."""
    return make_url(normalise_url(url)).get_backend_name() == "postgresql"


def _sqlite_file(url: URL) -> str | None:
    """The file of an SQLite URL; None for other databases and SQLite in memory."""
    if url.get_backend_name() != "sqlite" or url.database in (None, "", ":memory:"):
        return None
    return url.database


def is_sqlite_file(url: str) -> bool:
    """Whether ``url`` names an SQLite database in a file (not in memory)."""
    return _sqlite_file(make_url(normalise_url(url))) is not None


def _configure_sqlite(busy_timeout_ms: int, dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute(f"PRAGMA busy_timeout={busy_timeout_ms}")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.close()
    # The staff's text search (surveys.search.folded): SQLite has no translate().
    dbapi_connection.create_function("stemmer_fold", 1, search.fold, deterministic=True)


def _configure_postgresql(lock_timeout_ms: int, dbapi_connection: Any, _record: Any) -> None:
    # SQLAlchemy's recipe for a setting per connection (PostgreSQL dialect docs, "Setting
    # Alternate Search Paths on Connect"); a SET works through PgBouncer too, unlike the
    # ``options`` startup parameter.
    autocommit = dbapi_connection.autocommit
    dbapi_connection.autocommit = True
    cursor = dbapi_connection.cursor()
    cursor.execute(f"SET SESSION lock_timeout = {int(lock_timeout_ms)}")
    cursor.close()
    dbapi_connection.autocommit = autocommit


def make_engine(url: str, *, lock_timeout: float = DEFAULT_LOCK_TIMEOUT, **kwargs: Any) -> Engine:
    """Create an engine whose statements wait at most ``lock_timeout`` seconds for a lock.

    SQLite gets WAL mode, that busy timeout and foreign keys; PostgreSQL that
    ``lock_timeout``, a connect timeout and a check of pooled connections before use.
    """
    url = normalise_url(url)
    lock_ms = max(1, int(lock_timeout * 1000))
    connect_args = dict(kwargs.pop("connect_args", {}))
    if make_url(url).get_backend_name() == "sqlite":
        connect_args.setdefault("timeout", lock_timeout)
        engine = create_engine(url, connect_args=connect_args, **kwargs)
        event.listen(engine, "connect", functools.partial(_configure_sqlite, lock_ms))
        return engine
    kwargs.setdefault("pool_pre_ping", True)
    if make_url(url).get_backend_name() == "postgresql":
        connect_args.setdefault("connect_timeout", CONNECT_TIMEOUT)
    engine = create_engine(url, connect_args=connect_args, **kwargs)
    if engine.dialect.name == "postgresql":
        listener = functools.partial(_configure_postgresql, lock_ms)
        event.listen(engine, "connect", listener, insert=True)
    return engine


def make_session_factory(engine: Engine) -> sessionmaker[Session]:
    """A session factory whose objects stay usable after commit (handy for rendering)."""
    return sessionmaker(bind=engine, expire_on_commit=False)
