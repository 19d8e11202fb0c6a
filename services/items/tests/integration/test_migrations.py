"""The migrations make exactly the schema the code declares, and undo cleanly."""

import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from sqlalchemy import create_engine, inspect
from sqlalchemy.engine import URL

from flotilla.migrations import upgrade_to_head
from flotilla.testing.postgres import create_database, drop_database
from items.models import metadata

ALEMBIC_INI = Path(__file__).parents[2] / "alembic.ini"


@pytest.fixture
def scratch_database(postgres_server_url: URL) -> Iterator[str]:
    """An empty database of its own; the URL as Alembic wants it."""
    name = f"items_migrations_{uuid.uuid4().hex[:8]}"
    url = create_database(postgres_server_url, name)
    yield url.render_as_string(hide_password=False)
    drop_database(postgres_server_url, name)


def test_the_migrated_schema_matches_the_models(scratch_database: str) -> None:
    upgrade_to_head(str(ALEMBIC_INI), scratch_database)

    engine = create_engine(scratch_database)
    try:
        with engine.connect() as connection:
            differences = compare_metadata(MigrationContext.configure(connection), metadata)
    finally:
        engine.dispose()

    assert differences == []


def test_downgrade_removes_the_table_and_upgrade_restores_it(scratch_database: str) -> None:
    upgrade_to_head(str(ALEMBIC_INI), scratch_database)
    config = Config(str(ALEMBIC_INI))
    config.set_main_option("sqlalchemy.url", scratch_database.replace("%", "%%"))

    command.downgrade(config, "base")
    engine = create_engine(scratch_database)
    try:
        with engine.connect() as connection:
            after_downgrade = inspect(connection).get_table_names()
        command.upgrade(config, "head")
        with engine.connect() as connection:
            after_upgrade = inspect(connection).get_table_names()
    finally:
        engine.dispose()

    assert "items" not in after_downgrade
    assert "items" in after_upgrade
