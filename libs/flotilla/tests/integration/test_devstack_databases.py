"""The launcher gives every registered service that has a database its own, migrated."""

import uuid
from pathlib import Path

from sqlalchemy import create_engine, text
from sqlalchemy.engine import URL, make_url

from flotilla.devstack import launch
from flotilla.devstack.registry import discover
from flotilla.devstack.services import stack
from flotilla.testing.postgres import database_exists, drop_database


def migrated_revision(url: str) -> str | None:
    engine = create_engine(url)
    try:
        with engine.connect() as connection:
            return connection.execute(text("SELECT version_num FROM alembic_version")).scalar()
    finally:
        engine.dispose()


def test_every_service_with_a_database_gets_its_own_migrated_one(
    postgres_server_url: URL, tmp_path: Path
) -> None:
    specs = stack(tmp_path)
    prefix = f"launch_{uuid.uuid4().hex[:8]}_"
    try:
        urls = launch.prepare_databases(postgres_server_url, specs, prefix=prefix)
        again = launch.prepare_databases(postgres_server_url, specs, prefix=prefix)

        with_database = [service for service in discover() if service.has_database]
        assert sorted(urls) == sorted(service.name for service in with_database)
        assert again == urls
        for service in with_database:
            assert make_url(urls[service.name]).database == f"{prefix}{service.package}"
            assert migrated_revision(urls[service.name]) is not None
    finally:
        for spec in specs:
            name = f"{prefix}{spec.service.package}"
            if database_exists(postgres_server_url, name):
                drop_database(postgres_server_url, name)
