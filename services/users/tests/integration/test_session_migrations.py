"""Adding sessions (0003) keeps existing users, and undoing it drops only its tables."""

from pathlib import Path

import pytest
from alembic import command
from alembic.config import Config
from sqlalchemy import create_engine, inspect, text

from flotilla.migrations import alembic_config

ALEMBIC_INI = Path(__file__).parents[2] / "alembic.ini"
SESSION_TABLES = {"refresh_families", "refresh_tokens"}


@pytest.fixture
def config(scratch_database: str) -> Config:
    """Alembic on an empty database of its own."""
    return alembic_config(str(ALEMBIC_INI), scratch_database)


def test_adding_sessions_keeps_the_existing_users_and_gives_them_session_tables(
    config: Config, scratch_database: str
) -> None:
    command.upgrade(config, "0001")
    engine = create_engine(scratch_database)
    try:
        with engine.begin() as connection:
            connection.execute(
                text("INSERT INTO users (email, hashed_password) VALUES ('ada@example.com', 'h')")
            )
        command.upgrade(config, "head")
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


def test_downgrading_sessions_drops_only_their_tables(
    config: Config, scratch_database: str
) -> None:
    command.upgrade(config, "head")

    command.downgrade(config, "0002")

    engine = create_engine(scratch_database)
    try:
        with engine.connect() as connection:
            tables = set(inspect(connection).get_table_names())
    finally:
        engine.dispose()
    assert not SESSION_TABLES & tables
    assert {"users", "login_failures"} <= tables
