"""The migrations build exactly the schema the models describe."""

from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from flask import Flask

from surveys.models import Base


def test_migrated_schema_matches_models(app: Flask) -> None:
    engine = app.extensions["stemmer.db"].engine
    with engine.connect() as connection:
        context = MigrationContext.configure(connection, opts={"compare_type": True})
        differences = compare_metadata(context, Base.metadata)
    assert differences == []


def test_migrations_have_one_head() -> None:
    from alembic.config import Config
    from alembic.script import ScriptDirectory

    from tests.databases import MIGRATIONS

    config = Config()
    config.set_main_option("script_location", MIGRATIONS)
    assert len(ScriptDirectory.from_config(config).get_heads()) == 1


def test_migrations_downgrade_and_upgrade_again(database_url: str) -> None:
    """Every migration can be undone and redone on the test's database."""
    from flask_migrate import downgrade, upgrade

    from app import create_app
    from tests.databases import MIGRATIONS

    app = create_app({"DATABASE_URL": database_url, "SECRET_KEY": "x", "TESTING": True})
    with app.app_context():
        downgrade(directory=MIGRATIONS, revision="base")
        upgrade(directory=MIGRATIONS, revision="heads")
        engine = app.extensions["stemmer.db"].engine
        with engine.connect() as connection:
            from alembic.autogenerate import compare_metadata
            from alembic.migration import MigrationContext

            from surveys.models import Base

            context = MigrationContext.configure(connection, opts={"compare_type": True})
            assert compare_metadata(context, Base.metadata) == []
    app.extensions["stemmer.db"].engine.dispose()
