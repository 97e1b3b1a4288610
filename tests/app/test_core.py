"""Health check, configuration and shared pages."""

from __future__ import annotations

import stat
from collections.abc import Callable
from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskClient

from app import create_app
from app.config import instance_secret_key, load_config
from surveys.db import is_postgresql, is_sqlite_file


def test_healthz_ok(client: FlaskClient) -> None:
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.get_json() == {"status": "ok", "database": True}


def test_healthz_503_when_database_unreachable(tmp_path: Path) -> None:
    app = create_app(
        {
            "TESTING": True,
            "SECRET_KEY": "x",
            "DATABASE_URL": f"sqlite:///{tmp_path}/missing-dir/nope.db",
        }
    )
    response = app.test_client().get("/healthz")
    assert response.status_code == 503
    assert response.get_json()["database"] is False
    app.extensions["stemmer.db"].engine.dispose()


def test_secret_key_generated_once_and_private(tmp_path: Path) -> None:
    first = instance_secret_key(str(tmp_path))
    second = instance_secret_key(str(tmp_path))
    assert first == second and len(first) == 64
    mode = stat.S_IMODE((tmp_path / "secret_key").stat().st_mode)
    assert mode == 0o600


def test_config_from_environment(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("DATABASE_URL", "postgres://u:p@db.example/stemmer")
    monkeypatch.setenv("SECRET_KEY", "from-env")
    config = load_config(str(tmp_path))
    assert config["DATABASE_URL"] == "postgres://u:p@db.example/stemmer"
    assert config["SECRET_KEY"] == "from-env"
    assert not (tmp_path / "secret_key").exists()
    monkeypatch.delenv("DATABASE_URL")
    monkeypatch.delenv("SECRET_KEY")
    config = load_config(str(tmp_path))
    assert config["DATABASE_URL"] == f"sqlite:///{tmp_path / 'stemmer.db'}"
    assert (tmp_path / "secret_key").exists()


def test_sqlite_runs_in_wal_mode_with_busy_timeout(
    make_app: Callable[..., Flask], monkeypatch: pytest.MonkeyPatch
) -> None:
    engine = make_app().extensions["stemmer.db"].engine
    if engine.dialect.name != "sqlite":
        pytest.skip("SQLite only")
    with engine.connect() as connection:
        assert connection.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
        assert connection.exec_driver_sql("PRAGMA busy_timeout").scalar() == 3000
    assert engine.pool.timeout() == 3.0  # waiting for a pooled connection is bounded too
    monkeypatch.setenv("DATABASE_LOCK_TIMEOUT", "1.5")
    engine = make_app().extensions["stemmer.db"].engine
    with engine.connect() as connection:
        assert connection.exec_driver_sql("PRAGMA busy_timeout").scalar() == 1500
    assert engine.pool.timeout() == 1.5


def test_accessibility_statement_and_front_page(client: FlaskClient) -> None:
    page = client.get("/tilgaengelighed")
    assert page.status_code == 200
    assert "(WCAG) 2.1 på niveau AA" in page.get_data(as_text=True)
    assert client.get("/").status_code == 200


def test_unknown_page_is_friendly_danish_404(client: FlaskClient) -> None:
    response = client.get("/findes/ikke")
    assert response.status_code == 404
    assert "Vi kunne ikke finde siden." in response.get_data(as_text=True)


def test_the_database_keeps_a_pool_of_connections_per_process(
    make_app: Callable[..., Flask], database_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    # PostgreSQL and SQLite files alike (the suite runs on both).
    pool = make_app().extensions["stemmer.db"].engine.pool
    monkeypatch.setenv("DATABASE_POOL_SIZE", "3")
    monkeypatch.setenv("DATABASE_MAX_OVERFLOW", "7")
    from_env = make_app().extensions["stemmer.db"].engine.pool
    # SQLite: four that requests queue for, no more (one writer at a time).
    expected = (4, 0) if database_url.startswith("sqlite") else (16, 4)
    assert (pool.size(), pool._max_overflow) == expected
    assert (from_env.size(), from_env._max_overflow) == (3, 7)
    assert is_postgresql("postgres://u@h/db") and not is_postgresql("sqlite:///x.db")
    assert is_sqlite_file("sqlite:///x.db") and not is_sqlite_file("sqlite:///:memory:")
    assert not is_sqlite_file("sqlite://") and not is_sqlite_file("postgres://u@h/db")
