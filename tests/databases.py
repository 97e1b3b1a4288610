"""Per-test databases: a migrated template, copied for every test.

SQLite (default): the template is a file migrated once per test process and copied.
PostgreSQL: set ``STEMMER_TEST_POSTGRES_URL`` to a server's admin URL; the template is a
database migrated once per process and each test gets ``CREATE DATABASE ... TEMPLATE``.
Either way the real Alembic migrations build the schema that every test runs on.
"""

from __future__ import annotations

import os
import shutil
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from surveys.db import normalise_url

POSTGRES_ENV = "STEMMER_TEST_POSTGRES_URL"
MIGRATIONS = str(Path(__file__).resolve().parent.parent / "migrations")


def postgres_admin_url() -> str | None:
    """The admin URL of the PostgreSQL server to test against, if any."""
    url = os.environ.get(POSTGRES_ENV)
    return normalise_url(url) if url else None


def migrate(url: str) -> None:
    """Run the Alembic migrations against ``url`` through the app."""
    from flask_migrate import upgrade

    from app import create_app

    app = create_app({"DATABASE_URL": url, "SECRET_KEY": "migrate", "TESTING": True})
    with app.app_context():
        upgrade(directory=MIGRATIONS, revision="heads")
    app.extensions["stemmer.db"].engine.dispose()


class TemplateDatabase:
    """Hands out fresh, migrated databases."""

    def __init__(self, workdir: Path) -> None:
        self.workdir = workdir
        self.admin_url = postgres_admin_url()
        worker = os.environ.get("PYTEST_XDIST_WORKER", "main")
        if self.admin_url:
            self.template_name = f"stemmer_tpl_{worker}_{uuid.uuid4().hex[:8]}"
            self._admin(f'CREATE DATABASE "{self.template_name}"')
            migrate(self._url_for(self.template_name))
        else:
            self.template_file = workdir / "template.db"
            migrate(f"sqlite:///{self.template_file}")

    @property
    def dialect(self) -> str:
        """``postgresql`` or ``sqlite``."""
        return "postgresql" if self.admin_url else "sqlite"

    def _url_for(self, name: str) -> str:
        assert self.admin_url
        return make_url(self.admin_url).set(database=name).render_as_string(hide_password=False)

    def _admin(self, statement: str) -> None:
        assert self.admin_url
        engine = create_engine(self.admin_url, isolation_level="AUTOCOMMIT")
        try:
            with engine.connect() as connection:
                connection.execute(text(statement))
        finally:
            engine.dispose()

    @contextmanager
    def fresh(self, tmp_path: Path) -> Iterator[str]:
        """A new database with the migrated schema; dropped afterwards."""
        if self.admin_url:
            name = f"stemmer_t_{uuid.uuid4().hex[:16]}"
            self._admin(f'CREATE DATABASE "{name}" TEMPLATE "{self.template_name}"')
            try:
                yield self._url_for(name)
            finally:
                self._admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        else:
            target = tmp_path / "stemmer.db"
            shutil.copyfile(self.template_file, target)
            yield f"sqlite:///{target}"

    @contextmanager
    def empty(self, tmp_path: Path) -> Iterator[str]:
        """A new database without any tables, as on a new server; dropped afterwards."""
        if self.admin_url:
            name = f"stemmer_e_{uuid.uuid4().hex[:16]}"
            self._admin(f'CREATE DATABASE "{name}"')
            try:
                yield self._url_for(name)
            finally:
                self._admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        else:
            yield f"sqlite:///{tmp_path / 'empty' / 'stemmer.db'}"

    def close(self) -> None:
        """Remove the template."""
        if self.admin_url:
            self._admin(f'DROP DATABASE IF EXISTS "{self.template_name}" WITH (FORCE)')
