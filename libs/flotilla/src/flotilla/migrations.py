"""The one way services run Alembic: a shared ``env.py`` body.

A service's ``migrations/env.py`` is just::

    from flotilla.migrations import run_migrations
    from items.models import Base
    run_migrations(Base.metadata, settings_class=ItemsSettings)

The URL comes from ``sqlalchemy.url`` when a caller (the test plugin) sets it,
otherwise from the service's settings, i.e. its environment.
"""

from typing import Any

from alembic import command, context
from alembic.autogenerate import compare_metadata
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from sqlalchemy import MetaData, create_engine, pool

from flotilla.settings import ServiceSettings


def run_migrations(metadata: MetaData, *, settings_class: type[ServiceSettings]) -> None:
    config = context.config
    url = config.get_main_option("sqlalchemy.url") or settings_class().database_url
    if context.is_offline_mode():
        context.configure(url=url, target_metadata=metadata, literal_binds=True)
        with context.begin_transaction():
            context.run_migrations()
        return
    engine = create_engine(url, poolclass=pool.NullPool)
    with engine.connect() as connection:
        context.configure(connection=connection, target_metadata=metadata)
        with context.begin_transaction():
            context.run_migrations()
    engine.dispose()


def alembic_config(alembic_ini: str, database_url: str) -> Config:
    """Alembic's configuration of ``alembic_ini``, migrating ``database_url``."""
    config = Config(alembic_ini)
    config.set_main_option("sqlalchemy.url", database_url.replace("%", "%%"))
    return config


def upgrade_to_head(alembic_ini: str, database_url: str) -> None:
    """Apply every migration to ``database_url`` (used by start-up scripts and tests)."""
    command.upgrade(alembic_config(alembic_ini, database_url), "head")


def schema_differences(database_url: str, metadata: MetaData) -> list[Any]:
    """What the database's schema lacks or has beyond ``metadata`` (Alembic's comparison)."""
    engine = create_engine(database_url, poolclass=pool.NullPool)
    try:
        with engine.connect() as connection:
            return list(compare_metadata(MigrationContext.configure(connection), metadata))
    finally:
        engine.dispose()
