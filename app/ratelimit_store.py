"""A rate-limit storage for ``limits`` in one SQLite file: the counters shared by every
worker process of one machine, with nothing else to install.

``limits`` documents custom storage backends: subclass :class:`limits.storage.Storage`, name
the URI scheme in ``STORAGE_SCHEME`` and the class is registered when it is defined, so that
``RATELIMIT_STORAGE_URI=sqlite:///path/to/file`` chooses it (an absolute path after the three
slashes: ``sqlite:////srv/stemmer/instance/ratelimits.sqlite3``, as SQLAlchemy writes it).

It implements the moving window (:class:`limits.storage.MovingWindowSupport`), the strategy
Stemmer uses: a limit holds over any 60 seconds (or whatever its period is), also across the
turn of a clock minute. Requests are counted per key and second (a row with their amount and
when it expires), so a check adds up at most one row per second of the limit's period however
many requests were counted (a row per request made each check of the load benchmark's one
client count tens of thousands of rows); a request stops counting when its second has left
the period, 59-60 s after it for a limit per minute. Each check is one SQL statement
(:data:`ACQUIRE`), its own short write transaction, so worker processes and their threads
count in turn and the file's write lock is taken and given back inside SQLite: a transaction
of several statements held the lock while its thread waited for the GIL between them, and
another process could wait over a second (a 503). It also has the fixed window's counters,
which the base class requires. The counters are not precious: the file is in WAL mode with
``synchronous=OFF`` (a power cut may forget the last counts), and a write waits at most
:data:`BUSY_TIMEOUT` seconds for the file; after that the check fails (``sqlite3.Error``,
which Flask-Limiter's ``wrap_exceptions`` storage option turns into ``StorageError``).
"""

from __future__ import annotations

import os
import sqlite3
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from limits.storage import MovingWindowSupport, Storage

#: Seconds a check waits for another process's write before it fails.
BUSY_TIMEOUT = 1.0
#: Seconds between sweeps of expired rows (rows of keys that are no longer used).
SWEEP_INTERVAL = 60.0

SCHEMA = """
DROP TABLE IF EXISTS moving_window;
DROP TABLE IF EXISTS moving_window_expiry;
CREATE TABLE IF NOT EXISTS window_second (
    key TEXT NOT NULL, at INTEGER NOT NULL, amount INTEGER NOT NULL, expires REAL NOT NULL,
    PRIMARY KEY (key, at)
);
CREATE INDEX IF NOT EXISTS window_second_expires ON window_second (expires);
CREATE TABLE IF NOT EXISTS counter (
    key TEXT PRIMARY KEY, value INTEGER NOT NULL, expires REAL NOT NULL
);
"""

#: Count ``amount`` requests under ``key`` in the second ``at`` when those counted in the
#: seconds of the limit's period (``expiry``) leave room for them within ``limit``. A refused
#: request changes nothing.
ACQUIRE = """
INSERT INTO window_second (key, at, amount, expires)
SELECT :key, :at, :amount, :at + :expiry + 1
WHERE coalesce(
    (SELECT sum(amount) FROM window_second WHERE key = :key AND at > :at - :expiry), 0
) + :amount <= :limit
ON CONFLICT (key, at) DO UPDATE SET amount = amount + excluded.amount
"""


def path_from_uri(uri: str) -> str:
    """The file of a ``sqlite:///relative/path`` or ``sqlite:////absolute/path`` URI."""
    prefix = "sqlite:///"
    if not uri.startswith(prefix) or len(uri) == len(prefix):
        raise ValueError(f"Expected sqlite:///<file>, got {uri!r}")
    return uri[len(prefix) :]


class SQLiteStorage(Storage, MovingWindowSupport):
    """Rate-limit counters in a SQLite file (``sqlite:///<file>``)."""

    STORAGE_SCHEME = ["sqlite"]

    def __init__(self, uri: str, wrap_exceptions: bool = False, **options: Any) -> None:
        self.path = path_from_uri(uri)
        directory = os.path.dirname(os.path.abspath(self.path))
        os.makedirs(directory, exist_ok=True)
        self._local = threading.local()
        self._next_sweep = 0.0
        super().__init__(uri, wrap_exceptions=wrap_exceptions, **options)
        self._connection().executescript(SCHEMA)

    @property
    def base_exceptions(self) -> type[Exception]:
        return sqlite3.Error

    def _connection(self) -> sqlite3.Connection:
        """This thread's connection; a process made by fork opens its own."""
        local = self._local
        if getattr(local, "pid", None) != os.getpid():
            connection = sqlite3.connect(self.path, timeout=BUSY_TIMEOUT, isolation_level=None)
            connection.execute("PRAGMA journal_mode=WAL")
            connection.execute("PRAGMA synchronous=OFF")
            local.connection, local.pid = connection, os.getpid()
        return local.connection

    @contextmanager
    def _writing(self) -> Iterator[sqlite3.Connection]:
        """A write transaction: other processes wait (up to BUSY_TIMEOUT) until it ends."""
        connection = self._connection()
        connection.execute("BEGIN IMMEDIATE")
        try:
            yield connection
        except BaseException:
            connection.execute("ROLLBACK")
            raise
        connection.execute("COMMIT")

    def _sweep(self, connection: sqlite3.Connection, now: float) -> None:
        """Drop expired rows, at most once per SWEEP_INTERVAL in this process."""
        if now < self._next_sweep:
            return
        self._next_sweep = now + SWEEP_INTERVAL
        connection.execute("DELETE FROM window_second WHERE expires <= ?", (now,))
        connection.execute("DELETE FROM counter WHERE expires <= ?", (now,))

    # --- moving window ---

    def acquire_entry(self, key: str, limit: int, expiry: int, amount: int = 1) -> bool:
        """Count ``amount`` requests under ``key`` if at most ``limit`` - ``amount`` were
        counted in the last ``expiry`` seconds; False (nothing counted) otherwise."""
        if amount > limit:
            return False
        now = time.time()
        connection = self._connection()
        self._sweep(connection, now)
        counted = connection.execute(
            ACQUIRE,
            {"key": key, "at": int(now), "amount": amount, "expiry": expiry, "limit": limit},
        )
        return counted.rowcount > 0

    def get_moving_window(self, key: str, limit: int, expiry: int) -> tuple[float, int]:
        """(the second of the oldest requests counted in the window, how many were counted)."""
        now = time.time()
        oldest, counted = (
            self._connection()
            .execute(
                "SELECT min(at), coalesce(sum(amount), 0) FROM window_second"
                " WHERE key = ? AND at > ?",
                (key, int(now) - expiry),
            )
            .fetchone()
        )
        return (float(oldest) if oldest is not None else now), int(counted)

    # --- fixed window ---

    def incr(self, key: str, expiry: int, amount: int = 1) -> int:
        """Add ``amount`` to the counter ``key`` (a new one expires in ``expiry`` seconds)."""
        now = time.time()
        with self._writing() as connection:
            connection.execute("DELETE FROM counter WHERE key = ? AND expires <= ?", (key, now))
            (value,) = connection.execute(
                "INSERT INTO counter (key, value, expires) VALUES (?, ?, ?)"
                " ON CONFLICT (key) DO UPDATE SET value = value + excluded.value"
                " RETURNING value",
                (key, amount, now + expiry),
            ).fetchone()
        return int(value)

    def get(self, key: str) -> int:
        """The value of the counter ``key`` (0 when it has expired)."""
        row = (
            self._connection()
            .execute("SELECT value FROM counter WHERE key = ? AND expires > ?", (key, time.time()))
            .fetchone()
        )
        return int(row[0]) if row else 0

    def get_expiry(self, key: str) -> float:
        """When the counter ``key`` expires (now when there is none)."""
        now = time.time()
        row = (
            self._connection()
            .execute("SELECT expires FROM counter WHERE key = ? AND expires > ?", (key, now))
            .fetchone()
        )
        return float(row[0]) if row else now

    # --- housekeeping ---

    def check(self) -> bool:
        """Whether the file can be read."""
        try:
            self._connection().execute("SELECT 1").fetchone()
        except sqlite3.Error:
            return False
        return True

    def clear(self, key: str) -> None:
        """Forget everything counted under ``key``."""
        with self._writing() as connection:
            connection.execute("DELETE FROM window_second WHERE key = ?", (key,))
            connection.execute("DELETE FROM counter WHERE key = ?", (key,))

    def reset(self) -> int:
        """Forget every count; returns how many keys there were."""
        with self._writing() as connection:
            (keys,) = connection.execute(
                "SELECT (SELECT count(DISTINCT key) FROM window_second)"
                " + (SELECT count(*) FROM counter)"
            ).fetchone()
            connection.execute("DELETE FROM window_second")
            connection.execute("DELETE FROM counter")
        return int(keys)
