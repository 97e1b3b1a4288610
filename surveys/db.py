"""Engines and sessions, independent of the web layer."""

from __future__ import annotations

import fcntl
import os
import sqlite3
import threading
from collections.abc import Mapping, Sequence
from contextlib import suppress
from typing import Any, NamedTuple

from sqlalchemy import Connection, Engine, Table, create_engine, event
from sqlalchemy.engine import URL, Dialect, make_url
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


def _sqlite_file(url: URL) -> str | None:
    """The file of an SQLite URL; None for other databases and SQLite in memory."""
    if url.get_backend_name() != "sqlite" or url.database in (None, "", ":memory:"):
        return None
    return url.database


def is_sqlite_file(url: str) -> bool:
    """Whether ``url`` names an SQLite database in a file (not in memory)."""
    return _sqlite_file(make_url(normalise_url(url))) is not None


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


class _Compiled(NamedTuple):
    returning: str  # INSERT ... RETURNING the primary key
    plain: str  # INSERT alone (SQLite's writer reads the new rowid instead)
    positional: bool
    binds: list[tuple[str, Any]]  # (parameter name, bind processor or None), driver order


class PreparedInsert:
    """A one-row ``INSERT`` of a table, compiled once per dialect.

    For a hot write of a single row, executing a compiled Core statement costs more Python
    than the statement costs SQLite; on SQLite the writer holds the database's one write lock
    meanwhile, so every other writer waits for that Python too. :meth:`parameters` turns a row
    into the driver's parameters (through each column type's bind processor, as a Core
    execution would) before the write. :meth:`execute` then runs ``INSERT ... RETURNING`` with
    ``Connection.exec_driver_sql``, which keeps SQLAlchemy's transaction, events and error
    wrapping, and returns the new row's primary key; :meth:`execute_now` inserts and commits
    at once through an :class:`SQLiteWriter`.
    """

    def __init__(self, table: Table, columns: Sequence[str]) -> None:
        self._table = table
        self._columns = list(columns)
        self._compiled: dict[str, _Compiled] = {}

    def _for(self, dialect: Dialect) -> _Compiled:
        compiled = self._compiled.get(dialect.name)
        if compiled is None:
            insert = self._table.insert()
            returning = insert.returning(*self._table.primary_key.columns)
            statements = [
                statement.compile(dialect=dialect, column_keys=self._columns)
                for statement in (returning, insert)
            ]
            # In the order the driver takes them: SQL order for positional parameters.
            names = [
                list(statement.positiontup or () if statement.positional else statement.binds)
                for statement in statements
            ]
            if sorted(names[0]) != sorted(self._columns) or names[1] != names[0]:
                raise ValueError(f"cannot prepare {insert}: parameters {names[0]}")
            statement = statements[0]
            binds = [
                (name, statement.binds[name].type.dialect_impl(dialect).bind_processor(dialect))
                for name in names[0]
            ]
            compiled = self._compiled[dialect.name] = _Compiled(
                str(statement), str(statements[1]), statement.positional, binds
            )
        return compiled

    def parameters(self, dialect: Dialect, row: Mapping[str, Any]) -> DriverParameters:
        """The driver's parameters for ``row`` (a value for every column named at
        construction)."""
        compiled = self._for(dialect)
        values = [
            (name, row[name] if process is None else process(row[name]))
            for name, process in compiled.binds
        ]
        if compiled.positional:
            return tuple(value for _name, value in values)
        return dict(values)

    def execute(self, connection: Connection, parameters: DriverParameters) -> Any:
        """Insert the row in ``connection``'s transaction; return its primary key."""
        sql = self._for(connection.dialect).returning
        return connection.exec_driver_sql(sql, parameters).scalar_one()

    def execute_now(self, writer: SQLiteWriter, row: Mapping[str, Any]) -> int:
        """Insert the row and commit it at once through ``writer``; return its rowid (the
        primary key of a table whose key is one integer column)."""
        parameters = self.parameters(writer.dialect, row)
        return writer.insert(self._for(writer.dialect).plain, parameters)


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


#: Writers of all SQLite databases in this process take turns on this lock.
_SQLITE_WRITES = threading.Lock()
#: Writers kept open at most per process (a process normally writes one database; the test
#: suite writes hundreds).
MAX_SQLITE_WRITERS = 16


class SQLiteWriter:
    """This process's writer of one SQLite file: statements committed as they run.

    SQLite lets one connection write at a time and makes the others sleep and retry (in steps
    of 1, 2, 5, 10 ... up to 100 ms). A hot single-row write (a citizen's answer) therefore
    takes turns instead: the threads of a process on a lock, the processes on an advisory lock
    on a file beside the database (``<database>-writers``), which the kernel hands to the next
    waiter at once. While a process holds the turn, every other writer waits, so the turn
    holds as little as possible: one statement on one connection in autocommit mode, so that
    SQLite inserts and commits within a single call that runs without Python's interpreter
    lock (a pooled connection would need the interpreter again between the INSERT and the
    COMMIT, and wait for it while every other writer waits for the turn).

    One writer per process and file (:meth:`of`), its connection opened on first use with the
    engine's pragmas. Durability is the engine's (WAL, ``synchronous=NORMAL``): the statement
    is committed when :meth:`insert` returns. A session that still has its own transaction open
    must commit it first (SQLite would make the writer wait for it).
    """

    _writers: dict[tuple[int, str], SQLiteWriter] = {}

    def __init__(self, engine: Engine, path: str) -> None:
        self.dialect = engine.dialect
        self.path = path
        self._url = engine.url
        self._connection: sqlite3.Connection | None = None
        self._busy_timeout_ms = SQLITE_BUSY_TIMEOUT_MS
        self._lock_file: int | None
        try:
            self._lock_file = os.open(
                f"{path}-writers", os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o600
            )
        except OSError:  # a read-only folder: SQLite's own waiting still keeps writes apart
            self._lock_file = None

    @classmethod
    def of(cls, engine: Engine) -> SQLiteWriter | None:
        """The writer of ``engine``'s SQLite file in this process; None for other databases
        (PostgreSQL, SQLite in memory)."""
        path = _sqlite_file(engine.url)
        if path is None or engine.url.query.get("mode") == "memory":  # file:...?mode=memory
            return None
        key = (os.getpid(), path)  # a forked process opens its own (a shared one would not
        writer = cls._writers.get(key)  # exclude, and SQLite connections must not cross forks)
        if writer is None:
            with _SQLITE_WRITES:
                writer = cls._writers.get(key)
                if writer is None:
                    if len(cls._writers) >= MAX_SQLITE_WRITERS:
                        # Safe to close: no write runs outside _SQLITE_WRITES, held here.
                        for old in cls._writers.values():
                            old._close()
                        cls._writers.clear()
                    writer = cls._writers[key] = cls(engine, path)
        return writer

    def set_busy_timeout(self, milliseconds: int) -> None:
        """How long a write waits for SQLite's lock while another program holds it (default
        :data:`SQLITE_BUSY_TIMEOUT_MS`); then it fails with ``OperationalError``."""
        with _SQLITE_WRITES:
            self._busy_timeout_ms = int(milliseconds)
            if self._connection is not None:
                self._connection.execute(f"PRAGMA busy_timeout={self._busy_timeout_ms}")

    def _connect(self) -> sqlite3.Connection:
        args, options = self.dialect.create_connect_args(self._url)  # file name, uri=...
        options.update(
            timeout=self._busy_timeout_ms / 1000,  # also while the pragmas below run
            isolation_level=None,  # autocommit: each statement commits as it completes
            check_same_thread=False,  # one thread at a time uses it, under _SQLITE_WRITES
        )
        connection = sqlite3.connect(*args, **options)
        _configure_sqlite(connection, None)  # the engine's pragmas (its busy timeout among them)
        connection.execute(f"PRAGMA busy_timeout={self._busy_timeout_ms}")
        return connection

    def insert(self, sql: str, parameters: DriverParameters) -> int:
        """Run one INSERT and commit it, in this database's write turn; return the rowid.

        A driver error is raised as SQLAlchemy's (``IntegrityError``, ``OperationalError``
        ...), as from a session; in autocommit mode it leaves no transaction open.
        """
        with _SQLITE_WRITES:
            try:
                if self._connection is None:
                    self._connection = self._connect()
                if self._lock_file is not None:
                    fcntl.flock(self._lock_file, fcntl.LOCK_EX)
                try:
                    cursor = self._connection.execute(sql, parameters)
                finally:
                    if self._lock_file is not None:
                        fcntl.flock(self._lock_file, fcntl.LOCK_UN)
            except sqlite3.Error as error:
                raise DBAPIError.instance(
                    sql, parameters, error, sqlite3.Error, dialect=self.dialect
                ) from error
        rowid = cursor.lastrowid
        if rowid is None:
            raise ValueError(f"not an INSERT: {sql}")
        return rowid

    def _close(self) -> None:
        if self._connection is not None:
            with suppress(sqlite3.Error):
                self._connection.close()
            self._connection = None
        if self._lock_file is not None:
            with suppress(OSError):
                os.close(self._lock_file)
            self._lock_file = None
