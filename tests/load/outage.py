"""Make a test's database unavailable for a moment, on SQLite and on PostgreSQL.

SQLite: another connection holds the write lock, and the app's connections wait only
``busy_ms`` for it (instead of 10 s) before failing with "database is locked".
PostgreSQL: the database stops accepting connections and its open ones are ended, as in a
restart or fail-over of the server.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from sqlalchemy import Engine, create_engine, event, text
from sqlalchemy.engine import make_url

from tests.databases import postgres_admin_url


def short_busy_timeout(engine: Engine, busy_ms: int = 200) -> None:
    """Let SQLite connections of ``engine`` wait at most ``busy_ms`` for a lock."""
    if engine.dialect.name != "sqlite":
        return

    def on_checkout(dbapi_connection: Any, _record: Any, _proxy: Any) -> None:
        dbapi_connection.execute(f"PRAGMA busy_timeout={busy_ms}")

    event.listen(engine, "checkout", on_checkout)


@contextmanager
def database_unavailable(database_url: str) -> Iterator[None]:
    """While inside, writes (SQLite) or all connections (PostgreSQL) fail."""
    url = make_url(database_url)
    if url.get_backend_name() == "sqlite":
        blocker = sqlite3.connect(url.database or "", timeout=10, isolation_level=None)
        blocker.execute("BEGIN IMMEDIATE")
        try:
            yield
        finally:
            blocker.execute("ROLLBACK")
            blocker.close()
        return
    admin_url = postgres_admin_url()
    assert admin_url, "a PostgreSQL database URL without STEMMER_TEST_POSTGRES_URL"
    name = url.database
    admin = create_engine(admin_url, isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as connection:
            connection.execute(text(f'ALTER DATABASE "{name}" ALLOW_CONNECTIONS false'))
            connection.execute(
                text(
                    "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                    "WHERE datname = :name AND pid <> pg_backend_pid()"
                ),
                {"name": name},
            )
        try:
            yield
        finally:
            with admin.connect() as connection:
                connection.execute(text(f'ALTER DATABASE "{name}" ALLOW_CONNECTIONS true'))
    finally:
        admin.dispose()
