"""Adding sessions (0003) keeps existing users, and undoing it drops only its tables."""

import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from alembic import command
from alembic.config import Config
from sqlalchemy import create_engine, inspect, text
from sqlalchemy.engine import URL

from flotilla.testing.postgres import create_database, drop_database

ALEMBIC_INI = Path(__file__).parents[2] / "alembic.ini"
SESSION_TABLES = {"refresh_families", "refresh_tokens"}


@pytest.fixture
def alembic_config(postgres_server_url: URL) -> Iterator[Config]:
    """Alembic on an empty database of its own."""
    name = f"users_migrations_{uuid.uuid4().hex[:8]}"
    url = create_database(postgres_server_url, name).render_as_string(hide_password=False)
    config = Config(str(ALEMBIC_INI))
    config.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    yield config
    drop_database(postgres_server_url, name)


def database_url(config: Config) -> str:
    return str(config.get_main_option("sqlalchemy.url")).replace("%%", "%")


def test_adding_sessions_keeps_the_existing_users_and_lets_them_log_in(
    alembic_config: Config,
) -> None:
    command.upgrade(alembic_config, "0001")
    engine = create_engine(database_url(alembic_config))
    try:
        with engine.begin() as connection:
            connection.execute(
                text("INSERT INTO users (email, hashed_password) VALUES ('ada@example.com', 'h')")
            )
        command.upgrade(alembic_config, "head")
        with engine.begin() as connection:
            emails = connection.execute(text("SELECT email FROM users")).scalars().all()
            connection.execute(
                text(
                    "INSERT INTO refresh_families (id, user_id, expires_at) "
                    "SELECT gen_random_uuid(), id, now() FROM users"
                )
            )
            tables = set(inspect(connection).get_table_names())
    finally:
        engine.dispose()

    assert emails == ["ada@example.com"]
    assert tables >= SESSION_TABLES


def test_downgrading_sessions_drops_only_their_tables(alembic_config: Config) -> None:
    command.upgrade(alembic_config, "head")

    command.downgrade(alembic_config, "0002")

    engine = create_engine(database_url(alembic_config))
    try:
        with engine.connect() as connection:
            tables = set(inspect(connection).get_table_names())
    finally:
        engine.dispose()
    assert not SESSION_TABLES & tables
    assert {"users", "login_failures"} <= tables
