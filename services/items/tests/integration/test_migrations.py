"""The migrations make exactly the schema the code declares, and undo cleanly."""

from pathlib import Path

from alembic import command
from sqlalchemy import create_engine, inspect

from flotilla.migrations import alembic_config, schema_differences, upgrade_to_head
from items.models import metadata

ALEMBIC_INI = Path(__file__).parents[2] / "alembic.ini"


def test_the_migrated_schema_matches_the_models(scratch_database: str) -> None:
    upgrade_to_head(str(ALEMBIC_INI), scratch_database)

    assert schema_differences(scratch_database, metadata) == []


def test_downgrade_removes_the_table_and_upgrade_restores_it(scratch_database: str) -> None:
    upgrade_to_head(str(ALEMBIC_INI), scratch_database)
    config = alembic_config(str(ALEMBIC_INI), scratch_database)

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
