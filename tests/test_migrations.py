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


def test_downgrading_a_batch_migration_keeps_the_rows_that_point_at_the_table(
    database_url: str,
) -> None:
    """On SQLite a batch migration copies the table: no cascade may delete what refers to it."""
    from flask_migrate import downgrade, upgrade
    from sqlalchemy import func, select

    from app import create_app
    from surveys.db import make_engine, make_session_factory
    from surveys.models import Answer, Reaction, Theme, ThemeAssignment, ThemeRun
    from tests.databases import MIGRATIONS
    from tests.factories import make_answer, make_wall

    engine = make_engine(database_url)
    with make_session_factory(engine)() as session:
        wall = make_wall(session)
        answer = make_answer(session, wall, "Flere bænke ved søen")
        session.add(Reaction(answer_id=answer.id, wall_id=wall.id, device_key="device-key-0001"))
        run = ThemeRun(campaign_id=wall.campaign_id, scope_key="c", model=b"")
        run.themes.append(Theme(key="t1", label="Bænke"))
        session.add(run)
        session.flush()
        session.add(ThemeAssignment(theme_id=run.themes[0].id, answer_id=answer.id, run_id=run.id))
        session.commit()
    tables = (Answer, Reaction, ThemeAssignment)

    def counts() -> list[int]:
        with engine.connect() as connection:
            return [
                connection.scalar(select(func.count()).select_from(t.__table__)) for t in tables
            ]

    assert counts() == [1, 1, 1]
    app = create_app({"DATABASE_URL": database_url, "SECRET_KEY": "x", "TESTING": True})
    with app.app_context():
        downgrade(directory=MIGRATIONS, revision="0003_themes")
        assert counts() == [1, 1, 1]
        upgrade(directory=MIGRATIONS, revision="heads")
    assert counts() == [1, 1, 1]
    app.extensions["stemmer.db"].engine.dispose()
    engine.dispose()


def test_reactions_get_the_wall_of_their_answer_when_migrated(database_url: str) -> None:
    """0007 fills in reaction.wall_id from each reaction's answer."""
    from flask_migrate import downgrade, upgrade
    from sqlalchemy import select

    from app import create_app
    from surveys.db import make_engine, make_session_factory
    from surveys.models import Reaction
    from tests.databases import MIGRATIONS
    from tests.factories import make_answer, make_wall

    engine = make_engine(database_url)
    with make_session_factory(engine)() as session:
        walls = [make_wall(session), make_wall(session)]
        answers = [make_answer(session, wall, f"Svar på {wall.slug}") for wall in walls]
        for number, answer in enumerate(answers):
            session.add(
                Reaction(
                    answer_id=answer.id, wall_id=answer.wall_id, device_key=f"device-{number:04d}"
                )
            )
        session.commit()
        expected = {answer.id: answer.wall_id for answer in answers}
    app = create_app({"DATABASE_URL": database_url, "SECRET_KEY": "x", "TESTING": True})
    with app.app_context():
        downgrade(directory=MIGRATIONS, revision="0006_wall_page_indexes")
        upgrade(directory=MIGRATIONS, revision="heads")
    with engine.connect() as connection:
        rows = dict(connection.execute(select(Reaction.answer_id, Reaction.wall_id)).tuples().all())
    assert rows == expected and len(set(rows.values())) == 2
    app.extensions["stemmer.db"].engine.dispose()
    engine.dispose()


def test_authenticator_secrets_are_sealed_by_the_upgrade_and_unsealed_by_the_downgrade(
    database_url: str,
) -> None:
    """0023 seals the secrets stored in plain base32 with the app's SECRET_KEY."""
    import pyotp
    from flask_migrate import downgrade, upgrade
    from sqlalchemy import select

    from app import create_app
    from surveys import twofactor
    from surveys.db import make_engine, make_session_factory
    from surveys.models import StaffTotp
    from tests.databases import MIGRATIONS
    from tests.factories import make_staff

    app = create_app({"DATABASE_URL": database_url, "SECRET_KEY": "migrate-key", "TESTING": True})
    key = twofactor.sealer("migrate-key")
    engine = make_engine(database_url)
    plain = pyotp.random_base32()
    with make_session_factory(engine)() as session:
        user = make_staff(session, role="admin")
        session.add(StaffTotp(staff_user_id=user.id, secret=twofactor.seal(plain, key)))
        session.commit()
    stored = select(StaffTotp.secret)
    with app.app_context():
        downgrade(directory=MIGRATIONS, revision="0022_rounds")
        with engine.connect() as connection:
            assert connection.scalar(stored) == plain
        upgrade(directory=MIGRATIONS, revision="heads")
    with engine.connect() as connection:
        sealed = connection.scalar(stored)
    assert sealed is not None and plain not in sealed and twofactor.unseal(sealed, key) == plain
    app.extensions["stemmer.db"].engine.dispose()
    engine.dispose()
