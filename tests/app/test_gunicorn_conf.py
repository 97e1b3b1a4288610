"""The project's gunicorn settings (gunicorn.conf.py), as a worker applies them."""

from __future__ import annotations

import gc
import runpy
import signal
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest
from flask import Flask

from app.config import rate_limit_storage

CONF = Path(__file__).resolve().parents[2] / "gunicorn.conf.py"
SETTINGS = runpy.run_path(str(CONF))
web_workers = SETTINGS["web_workers"]
check_web_workers = SETTINGS["check_web_workers"]


def test_a_worker_warms_up_freezes_what_it_loaded_and_sizes_its_streams(
    app: Flask, monkeypatch: pytest.MonkeyPatch
) -> None:
    settings = runpy.run_path(str(CONF))
    warmed: list[str] = []
    monkeypatch.setattr("surveys.privacy.warm_up", lambda: warmed.append("guard"))
    monkeypatch.setattr("nlp.warm_up", lambda: warmed.append("nlp"))
    monkeypatch.setattr("app.warmup.warm_up", lambda app: warmed.append(app.name))
    handlers: dict[int, Any] = {}
    monkeypatch.setattr(
        signal, "signal", lambda number, handler: handlers.setdefault(number, handler)
    )
    monkeypatch.setattr(signal, "siginterrupt", lambda *_: None)
    app.config.pop("LIVE_MAX_STREAMS", None)
    worker = SimpleNamespace(wsgi=app, cfg=SimpleNamespace(threads=32))
    assert gc.get_freeze_count() == 0
    try:
        settings["post_worker_init"](worker)
        assert gc.get_freeze_count() > 0  # loaded objects out of the collector's sight
    finally:
        gc.unfreeze()
    assert warmed == ["guard", "nlp", app.name]
    assert app.config["LIVE_MAX_STREAMS"] == 32 - settings["RESERVED_THREADS"]
    assert signal.SIGTERM in handlers
    assert settings["max_requests"] == 0 and "%(h)s" not in settings["access_log_format"]


@pytest.mark.parametrize(
    ("env", "workers"),
    [
        ({}, 1),  # SQLite, limits in memory: one process
        ({"DATABASE_URL": "postgresql://db/stemmer"}, 1),  # limits still in memory
        ({"DATABASE_URL": "sqlite:////srv/stemmer.db", "REDIS_URL": "redis://r:6379/0"}, 1),
        ({"DATABASE_URL": "postgresql://db/stemmer", "REDIS_URL": "redis://r:6379/0"}, 6),
        ({"DATABASE_URL": "postgresql://db/s", "RATELIMIT_STORAGE_URI": "redis://r:6379/1"}, 6),
        ({"WEB_CONCURRENCY": "2", "REDIS_URL": "redis://r:6379/0"}, 2),
    ],
)
def test_worker_processes_by_database_and_rate_limit_store(
    env: dict[str, str], workers: int
) -> None:
    assert web_workers(env, cores=3) == workers


def test_several_workers_counting_limits_in_their_own_memory_are_refused(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    with pytest.raises(ValueError, match="REDIS_URL"):
        check_web_workers({}, 2)
    check_web_workers({}, 1)
    check_web_workers({"RATELIMIT_ENABLED": "0"}, 4)  # no limits, nothing to share
    check_web_workers({"REDIS_URL": "redis://r:6379/0"}, 4)
    with pytest.raises(ValueError, match="RATELIMIT_STORAGE_URI"):
        check_web_workers({"RATELIMIT_STORAGE_URI": "memory://", "REDIS_URL": "redis://r"}, 4)
    for name in ("DATABASE_URL", "REDIS_URL", "RATELIMIT_STORAGE_URI", "RATELIMIT_ENABLED"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("WEB_CONCURRENCY", "4")
    with pytest.raises(ValueError, match="WEB_CONCURRENCY=4"):
        runpy.run_path(str(CONF))  # gunicorn stops with this message before forking
    monkeypatch.delenv("WEB_CONCURRENCY")
    monkeypatch.delenv("GUNICORN_THREADS", raising=False)
    settings = runpy.run_path(str(CONF))
    assert (settings["workers"], settings["threads"]) == (1, 256)


@pytest.mark.parametrize("rate_limit_storage", [rate_limit_storage, SETTINGS["rate_limit_storage"]])
def test_the_rate_limit_store_follows_redis_url(rate_limit_storage: Any) -> None:
    # The app's and gunicorn's (which does not import the app) say the same.
    assert rate_limit_storage({}) == "memory://"
    assert rate_limit_storage({"REDIS_URL": "redis://r:6379/0"}) == "redis://r:6379/0"
    explicit = {"REDIS_URL": "redis://r:6379/0", "RATELIMIT_STORAGE_URI": "redis://s:6379/2"}
    assert rate_limit_storage(explicit) == "redis://s:6379/2"
