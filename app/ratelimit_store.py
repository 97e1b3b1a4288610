"""A rate-limit storage for ``limits`` in one SQLite file: the counters shared by every
worker process of one machine, with nothing else to install.

``limits`` documents custom storage backends: subclass :class:`limits.storage.Storage`, name
the URI scheme in ``STORAGE_SCHEME`` and the class is registered when it is defined, so that
``RATELIMIT_STORAGE_URI=sqlite:///path/to/file`` chooses it (an absolute path after the three
slashes: ``sqlite:////srv/stemmer/instance/ratelimits.sqlite3``, as SQLAlchemy writes it).

It implements the sliding window counter
(:class:`limits.storage.SlidingWindowCounterSupport`), the strategy Stemmer uses, as limits'
memory and Redis storages do: one counter per key and clock period, and a check weighs the
previous period's count by how much of it still lies within the last 60 seconds (or
whatever the limit's period is), so a burst across the turn of a minute does not get twice
the limit. A check costs the same however many requests were counted (the moving window's
row per request made each check count every row of the last minute: 2-4 ms per request
under load). It also has the fixed window's counters, which the base class requires. Each
check is one SQL statement, its own short write transaction, so worker processes and their
threads count in turn. The counters are not precious: the file is in WAL mode with
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

from limits.storage import SlidingWindowCounterSupport, Storage
from limits.storage.base import TimestampedSlidingWindow

#: Seconds a check waits for another process's write before it fails.
BUSY_TIMEOUT = 1.0
#: Seconds between sweeps of expired rows (rows of keys that are no longer used).
SWEEP_INTERVAL = 60.0

SCHEMA = """
DROP TABLE IF EXISTS moving_window;
DROP TABLE IF EXISTS moving_window_expiry;
CREATE TABLE IF NOT EXISTS counter (
    key TEXT PRIMARY KEY, value INTEGER NOT NULL, expires REAL NOT NULL
);
"""

#: Count a request under the current window's key when the weighted count leaves room: the
#: previous window's count weighs what is left of it in the limit's period (``weight``, as
#: limits' own storages weigh it), rounded down. A refused request inserts no row.
ACQUIRE = """
INSERT INTO counter (key, value, expires)
SELECT :current, :amount, :expires
WHERE CAST(
    coalesce((SELECT value FROM counter WHERE key = :previous AND expires > :now), 0) * :weight
    + coalesce((SELECT value FROM counter WHERE key = :current AND expires > :now), 0)
    AS INTEGER) + :amount <= :limit
ON CONFLICT (key) DO UPDATE SET value = value + excluded.value
"""


def path_from_uri(uri: str) -> str:
    """The file of a ``sqlite:///relative/path`` or ``sqlite:////absolute/path`` URI."""
    prefix = "sqlite:///"
    if not uri.startswith(prefix) or len(uri) == len(prefix):
        raise ValueError(f"Expected sqlite:///<file>, got {uri!r}")
    return uri[len(prefix) :]


class SQLiteStorage(Storage, SlidingWindowCounterSupport, TimestampedSlidingWindow):
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
        connection.execute("DELETE FROM counter WHERE expires <= ?", (now,))

    # --- sliding window counter ---

    def _counts(
        self, connection: sqlite3.Connection, key: str, expiry: int, now: float
    ) -> tuple[int, float, int, float]:
        """(previous window's count, its weight in seconds, current window's count, seconds
        until the current window's count stops counting): what limits' strategy needs."""
        previous_key, current_key = self.sliding_window_keys(key, expiry, now)
        counts = dict(
            connection.execute(
                "SELECT key, value FROM counter WHERE key IN (?, ?) AND expires > ?",
                (previous_key, current_key, now),
            ).fetchall()
        )
        previous, current = counts.get(previous_key, 0), counts.get(current_key, 0)
        # As limits' own storages: the previous window weighs what is left of it in the
        # moving 60 seconds (or whatever the limit's period is).
        previous_ttl = (1 - ((now - expiry) / expiry) % 1) * expiry if previous else 0.0
        current_ttl = (1 - (now / expiry) % 1) * expiry + expiry
        return int(previous), previous_ttl, int(current), current_ttl

    def acquire_sliding_window_entry(
        self, key: str, limit: int, expiry: int, amount: int = 1
    ) -> bool:
        """Count ``amount`` requests under ``key`` if the weighted count of the previous and
        the current window leaves room for them within ``limit``; False (nothing counted)
        otherwise.

        One statement (:data:`ACQUIRE`), so that the file's write lock is taken and given
        back inside SQLite: a transaction of several statements would hold the lock while
        its thread waits for the GIL between them, and the other processes' checks would
        wait that long too (up to a second under load, then a 503).
        """
        if amount > limit:
            return False
        now = time.time()
        connection = self._connection()
        self._sweep(connection, now)
        previous_key, current_key = self.sliding_window_keys(key, expiry, now)
        counted = connection.execute(
            ACQUIRE,
            {
                "previous": previous_key,
                "current": current_key,
                "weight": 1 - ((now - expiry) / expiry) % 1,
                "amount": amount,
                "limit": limit,
                "now": now,
                # The current window's counter is the next window's previous one.
                "expires": now + 2 * expiry,
            },
        )
        return counted.rowcount > 0

    def get_sliding_window(self, key: str, expiry: int) -> tuple[int, float, int, float]:
        """The previous and current window's counts and times (see :meth:`_counts`)."""
        return self._counts(self._connection(), key, expiry, time.time())

    def clear_sliding_window(self, key: str, expiry: int) -> None:
        """Forget the counts of ``key``'s previous and current window."""
        with self._writing() as connection:
            connection.executemany(
                "DELETE FROM counter WHERE key = ?",
                [(window,) for window in self.sliding_window_keys(key, expiry, time.time())],
            )

    # --- fixed window ---

    def incr(self, key: str, expiry: int, amount: int = 1) -> int:
        """Add ``amount`` to the counter ``key`` (a new one expires in ``expiry`` seconds)."""
        now = time.time()
        with self._writing() as connection:
            return self._add(connection, key, amount, now, now + expiry)

    @staticmethod
    def _add(
        connection: sqlite3.Connection, key: str, amount: int, now: float, expires: float
    ) -> int:
        """Add ``amount`` to the counter ``key``, which starts again (expiring at ``expires``)
        when it is new or has expired; its new value."""
        connection.execute("DELETE FROM counter WHERE key = ? AND expires <= ?", (key, now))
        (value,) = connection.execute(
            "INSERT INTO counter (key, value, expires) VALUES (?, ?, ?)"
            " ON CONFLICT (key) DO UPDATE SET value = value + excluded.value"
            " RETURNING value",
            (key, amount, expires),
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
            connection.execute("DELETE FROM counter WHERE key = ?", (key,))

    def reset(self) -> int:
        """Forget every count; returns how many keys there were."""
        with self._writing() as connection:
            (keys,) = connection.execute("SELECT count(*) FROM counter").fetchone()
            connection.execute("DELETE FROM counter")
        return int(keys)
