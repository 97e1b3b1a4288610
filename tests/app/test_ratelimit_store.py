"""The SQLite file storage of the rate limits (app/ratelimit_store.py): it counts, forgets what
has expired, and holds a limit across processes that share the file."""

from __future__ import annotations

import multiprocessing
import sqlite3
from pathlib import Path
from typing import Any

import pytest
from limits import parse
from limits.storage import storage_from_string
from limits.strategies import MovingWindowRateLimiter

from app import ratelimit_store
from app.ratelimit_store import SQLiteStorage


class _Clock:
    def __init__(self) -> None:
        self.now = 1_800_000_000.0

    def time(self) -> float:
        return self.now


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch) -> _Clock:
    fake = _Clock()
    monkeypatch.setattr(ratelimit_store, "time", fake)
    return fake


def _storage(tmp_path: Path) -> SQLiteStorage:
    storage = storage_from_string(f"sqlite:///{tmp_path}/limits/counts.sqlite3")
    assert isinstance(storage, SQLiteStorage)  # registered by its scheme
    return storage


def test_the_moving_window_counts_up_to_the_limit_and_frees_as_entries_age(
    tmp_path: Path, clock: _Clock
) -> None:
    storage = _storage(tmp_path)
    assert [storage.acquire_entry("k", 3, 60) for _ in range(4)] == [True, True, True, False]
    assert storage.get_moving_window("k", 3, 60) == (clock.now, 3)
    assert storage.acquire_entry("other", 3, 60)  # another key has its own count
    clock.now += 30
    assert not storage.acquire_entry("k", 3, 60)
    assert storage.acquire_entry("k", 3, 60, amount=4) is False  # more than the limit at once
    clock.now += 30.5  # the first three are more than 60 s old
    assert storage.get_moving_window("k", 3, 60) == (clock.now, 0)
    assert storage.acquire_entry("k", 3, 60, amount=2)
    assert storage.acquire_entry("k", 3, 60)
    assert not storage.acquire_entry("k", 3, 60)


def test_a_burst_across_the_turn_of_a_minute_gets_the_limit_not_twice_it(
    tmp_path: Path, clock: _Clock
) -> None:
    limiter = MovingWindowRateLimiter(_storage(tmp_path))
    item = parse("60 per minute")
    clock.now = 1_800_000_000.0 - 1  # one second before a clock minute turns (a fixed window)
    granted = 0
    for _ in range(240):  # 120 requests a second for two seconds
        granted += limiter.hit(item, "stemmer", "client:x", "answers")
        clock.now += 1 / 120
    assert granted == 60
    reset, remaining = limiter.get_window_stats(item, "stemmer", "client:x", "answers")
    assert remaining == 0 and 57 <= reset - clock.now <= 60


def test_expired_rows_are_swept_and_reset_clears_everything(tmp_path: Path, clock: _Clock) -> None:
    storage = _storage(tmp_path)
    storage.acquire_entry("gone", 5, 10)
    storage.incr("counter", 10)
    clock.now += ratelimit_store.SWEEP_INTERVAL + 1
    storage.acquire_entry("fresh", 5, 10)  # sweeps what expired
    connection = storage._connection()
    keys = {key for (key,) in connection.execute("SELECT key FROM window_second")}
    assert keys == {"fresh"}
    assert connection.execute("SELECT count(*) FROM counter").fetchone() == (0,)
    assert storage.reset() == 1
    assert storage.get_moving_window("fresh", 5, 10)[1] == 0


def test_an_old_file_with_the_earlier_tables_is_cleaned_up(tmp_path: Path) -> None:
    path = tmp_path / "limits" / "counts.sqlite3"
    path.parent.mkdir()
    with sqlite3.connect(path) as old:
        old.execute("CREATE TABLE moving_window (key TEXT NOT NULL, at REAL NOT NULL)")
        old.execute("CREATE TABLE moving_window_expiry (key TEXT PRIMARY KEY, expires REAL)")
    storage = _storage(tmp_path)
    tables = {name for (name,) in storage._connection().execute("SELECT name FROM sqlite_master")}
    assert not tables & {"moving_window", "moving_window_expiry"}
    assert storage.acquire_entry("k", 1, 60) and not storage.acquire_entry("k", 1, 60)


def test_requests_are_counted_per_second_so_a_check_adds_up_few_rows(
    tmp_path: Path, clock: _Clock
) -> None:
    storage = _storage(tmp_path)
    for _ in range(500):  # one busy client in one second: one row
        assert storage.acquire_entry("busy", 10_000_000, 60)
        clock.now += 0.001
    rows = storage._connection().execute("SELECT count(*) FROM window_second").fetchone()
    assert rows == (1,) and storage.get_moving_window("busy", 10_000_000, 60)[1] == 500
    # A request stops counting when its second has left the period: 59-60 s later.
    clock.now = 1_800_000_010.9
    assert storage.acquire_entry("one", 1, 60)
    clock.now = 1_800_000_069.95
    assert not storage.acquire_entry("one", 1, 60)
    clock.now = 1_800_000_070.0
    assert storage.acquire_entry("one", 1, 60)


def test_the_fixed_window_counters(tmp_path: Path, clock: _Clock) -> None:
    storage = _storage(tmp_path)
    assert [storage.incr("c", 60) for _ in range(3)] == [1, 2, 3]
    assert storage.get("c") == 3
    assert storage.get_expiry("c") == clock.now + 60
    clock.now += 61
    assert storage.get("c") == 0
    assert storage.incr("c", 60, amount=2) == 2
    storage.clear("c")
    assert storage.get("c") == 0
    assert storage.check()


def _hit_many(uri: str, times: int, results: Any) -> None:
    storage = storage_from_string(uri)
    granted = sum(storage.acquire_entry("shared", 60, 60) for _ in range(times))
    results.put(granted)


def test_processes_sharing_the_file_share_one_limit(tmp_path: Path) -> None:
    uri = f"sqlite:///{tmp_path}/shared.sqlite3"
    _storage(tmp_path)  # the schema exists before the processes race
    context = multiprocessing.get_context("fork")
    results = context.Queue()
    workers = [context.Process(target=_hit_many, args=(uri, 50, results)) for _ in range(4)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join(timeout=60)
    assert [worker.exitcode for worker in workers] == [0] * 4
    granted = [results.get(timeout=5) for _ in workers]
    assert sum(granted) == 60  # 200 tries in four processes, limit 60: exactly 60


def test_a_forked_process_opens_its_own_connection(tmp_path: Path) -> None:
    storage = _storage(tmp_path)
    assert storage.acquire_entry("before-fork", 5, 60)
    context = multiprocessing.get_context("fork")
    results = context.Queue()

    def child() -> None:
        results.put(storage.acquire_entry("before-fork", 5, 60))

    process = context.Process(target=child)
    process.start()
    process.join(timeout=30)
    assert process.exitcode == 0 and results.get(timeout=5) is True
    assert storage.get_moving_window("before-fork", 5, 60)[1] == 2


def test_the_default_store_is_a_sqlite_file_in_the_instance_folder(tmp_path: Path) -> None:
    from app.config import load_config

    config = load_config(str(tmp_path), {"SECRET_KEY": "x"})
    assert config["RATELIMIT_STORAGE_URI"] == f"sqlite:///{tmp_path}/ratelimits.sqlite3"


def test_a_uri_without_a_file_is_refused() -> None:
    with pytest.raises(ValueError, match="sqlite:///"):
        SQLiteStorage("sqlite:///")
