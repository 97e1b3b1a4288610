"""Engines and sessions, independent of the web layer."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from sqlalchemy import Connection, Engine, Table, create_engine, event
from sqlalchemy.engine import Dialect, make_url
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session, sessionmaker

#: Milliseconds SQLite waits for a lock before giving up.
SQLITE_BUSY_TIMEOUT_MS = 10_000


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


def is_sqlite_file(url: str) -> bool:
    """Whether ``url`` names an SQLite database in a file (not in memory)."""
    parsed = make_url(normalise_url(url))
    return parsed.get_backend_name() == "sqlite" and parsed.database not in (None, "", ":memory:")


def _configure_sqlite(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.close()


def make_engine(url: str, **kwargs: Any) -> Engine:
    """Create an engine; SQLite gets WAL mode, a busy timeout and foreign keys."""
    url = normalise_url(url)
    if make_url(url).get_backend_name() == "sqlite":
        engine = create_engine(
            url, connect_args={"timeout": SQLITE_BUSY_TIMEOUT_MS / 1000}, **kwargs
        )
        event.listen(engine, "connect", _configure_sqlite)
        return engine
    kwargs.setdefault("pool_pre_ping", True)
    return create_engine(url, **kwargs)


def make_session_factory(engine: Engine) -> sessionmaker[Session]:
    """A session factory whose objects stay usable after commit (handy for rendering)."""
    return sessionmaker(bind=engine, expire_on_commit=False)


#: Parameters as the driver takes them: positional (SQLite) or by name (psycopg).
DriverParameters = Sequence[Any] | dict[str, Any]


class PreparedInsert:
    """A one-row ``INSERT ... RETURNING`` of a table, compiled once per dialect.

    For a hot write of a single row, executing a compiled Core statement costs more Python
    than the statement costs SQLite; on SQLite the writer holds the database's one write lock
    meanwhile, so every other writer waits for that Python too. :meth:`parameters` turns a row
    into the driver's parameters (through each column type's bind processor, as a Core
    execution would) before the write; :meth:`execute` then runs the compiled text with
    ``Connection.exec_driver_sql``, which keeps SQLAlchemy's transaction, events and error
    wrapping, and returns the new row's primary key.
    """

    def __init__(self, table: Table, columns: Sequence[str]) -> None:
        self._statement = table.insert().returning(*table.primary_key.columns)
        self._columns = list(columns)
        self._compiled: dict[str, tuple[str, bool, list[tuple[str, Any]]]] = {}

    def _for(self, dialect: Dialect) -> tuple[str, bool, list[tuple[str, Any]]]:
        compiled = self._compiled.get(dialect.name)
        if compiled is None:
            statement = self._statement.compile(dialect=dialect, column_keys=self._columns)
            # In the order the driver takes them: SQL order for positional parameters.
            names = list(statement.positiontup or () if statement.positional else statement.binds)
            if sorted(names) != sorted(self._columns):  # bind names are the column keys
                raise ValueError(f"cannot prepare {self._statement}: parameters {names}")
            binds = [
                (name, statement.binds[name].type.dialect_impl(dialect).bind_processor(dialect))
                for name in names
            ]
            compiled = self._compiled[dialect.name] = (str(statement), statement.positional, binds)
        return compiled

    def parameters(self, dialect: Dialect, row: Mapping[str, Any]) -> DriverParameters:
        """The driver's parameters for ``row`` (a value for every column named at
        construction)."""
        _sql, positional, binds = self._for(dialect)
        values = [
            (name, row[name] if process is None else process(row[name])) for name, process in binds
        ]
        if positional:
            return tuple(value for _name, value in values)
        return dict(values)

    def execute(self, connection: Connection, parameters: DriverParameters) -> Any:
        """Insert the row; return its primary key."""
        sql, _positional, _binds = self._for(connection.dialect)
        return connection.exec_driver_sql(sql, parameters).scalar_one()


def commit_driver(connection: Connection) -> None:
    """Commit the transaction of ``connection``'s driver connection now.

    For a writer that must release a lock right after its commit: the session's own commit
    (run afterwards, finding nothing left to commit) also closes the session's transaction
    and returns the connection to the pool, work that need not happen under the lock. A
    driver error is raised as SQLAlchemy's (``OperationalError`` etc.), as from a session.
    """
    dialect = connection.dialect
    error_class = dialect.loaded_dbapi.Error
    try:
        dialect.do_commit(connection.connection)
    except error_class as error:
        raise DBAPIError.instance("COMMIT", None, error, error_class, dialect=dialect) from error
