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

CONF = Path(__file__).resolve().parents[2] / "gunicorn.conf.py"


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
