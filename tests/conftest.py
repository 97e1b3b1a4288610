"""Fixtures: every test gets an app with its own freshly migrated database."""

from __future__ import annotations

import os
import tempfile
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient, FlaskCliRunner
from sqlalchemy import Engine
from sqlalchemy.orm import Session

# Background tasks run at once, in the caller (Huey's immediate mode), in every app the tests
# start, servers in subprocesses included; tests/app/test_queue.py runs a real worker.
os.environ["STEMMER_QUEUE_IMMEDIATE"] = "1"
# No semantic vectors unless a test asks (the real model is slow; tests use a fake encoder).
os.environ["STEMMER_EMBEDDINGS"] = "off"
# The queue file of this test process, for the tests that turn immediate mode off.
os.environ["STEMMER_QUEUE_FILE"] = os.path.join(
    tempfile.mkdtemp(prefix="stemmer-queue-"), "queue.db"
)

from app import create_app
from surveys.db import make_engine, make_session_factory

from .databases import TemplateDatabase


@pytest.fixture(scope="session")
def template_db(tmp_path_factory: pytest.TempPathFactory) -> Iterator[TemplateDatabase]:
    """The migrated template database of this test process."""
    template = TemplateDatabase(tmp_path_factory.mktemp("template"))
    yield template
    template.close()


@pytest.fixture
def database_url(template_db: TemplateDatabase, tmp_path: Path) -> Iterator[str]:
    """The URL of this test's own database."""
    with template_db.fresh(tmp_path) as url:
        yield url


@pytest.fixture
def make_app(database_url: str, tmp_path: Path) -> Iterator[Callable[..., Flask]]:
    """Build apps on this test's database (CSRF off) with extra settings; all closed after."""
    apps: list[Flask] = []

    def build(**config: Any) -> Flask:
        app = create_app(
            {
                "TESTING": True,
                "DATABASE_URL": database_url,
                "SECRET_KEY": "test-secret",
                "WTF_CSRF_ENABLED": False,
                # What the test client sends as Host; trusted with 127.0.0.1 (live servers).
                "BASE_URL": "http://localhost",
                # Staff log in with the password alone unless a test asks for two-factor
                # sign-in (tests/app/test_totp.py); production requires it for admins.
                "TOTP_REQUIRED_ROLES": [],
                **config,
            }
        )
        app.instance_path = str(tmp_path / "instance")
        apps.append(app)
        return app

    yield build
    for app in apps:
        hub = app.extensions.get("stemmer.live_hub")
        if hub is not None:
            hub.close()
        app.extensions["stemmer.db"].engine.dispose()


@pytest.fixture
def app(make_app: Callable[..., Flask]) -> Flask:
    """The app on this test's database; CSRF off unless a test turns it on."""
    return make_app()


@pytest.fixture
def client(app: Flask) -> FlaskClient:
    """A test client for the app."""
    return app.test_client()


@pytest.fixture
def runner(app: Flask) -> FlaskCliRunner:
    """A CLI runner for the app's commands."""
    return app.test_cli_runner()


@pytest.fixture
def session(database_url: str) -> Iterator[Session]:
    """A plain SQLAlchemy session on this test's database (no Flask involved)."""
    engine = make_engine(database_url)
    db_session = make_session_factory(engine)()
    yield db_session
    db_session.close()
    engine.dispose()


@pytest.fixture
def elsewhere(database_url: str) -> Iterator[Engine]:
    """Another engine on the test's database, written without the ORM: like another process."""
    engine = make_engine(database_url)
    yield engine
    engine.dispose()
