"""The migrations make the schema the code declares; 0002 fills email identities or stops."""

from pathlib import Path

import pytest
from alembic import command
from sqlalchemy import create_engine, inspect, text

from flotilla.migrations import alembic_config, schema_differences, upgrade_to_head
from users.models import metadata

ALEMBIC_INI = Path(__file__).parents[2] / "alembic.ini"

DOTLESS_I = "\N{LATIN SMALL LETTER DOTLESS I}"


def at_0001_with_users(database_url: str, *emails: str) -> None:
    command.upgrade(alembic_config(str(ALEMBIC_INI), database_url), "0001")
    engine = create_engine(database_url)
    try:
        with engine.begin() as connection:
            connection.execute(
                text("INSERT INTO users (email, hashed_password) VALUES (:email, 'x')"),
                [{"email": email} for email in emails],
            )
    finally:
        engine.dispose()


def query(database_url: str, sql: str) -> list[tuple[object, ...]]:
    engine = create_engine(database_url)
    try:
        with engine.connect() as connection:
            return [tuple(row) for row in connection.execute(text(sql))]
    finally:
        engine.dispose()


def test_the_migrated_schema_matches_the_models(scratch_database: str) -> None:
    upgrade_to_head(str(ALEMBIC_INI), scratch_database)

    assert schema_differences(scratch_database, metadata) == []


def test_0002_fills_the_identity_of_existing_users(scratch_database: str) -> None:
    at_0001_with_users(
        scratch_database, "Ada@Example.com", "ΣΊΣΥΦΟΣ@example.com", f"{DOTLESS_I}x@example.com"
    )

    command.upgrade(alembic_config(str(ALEMBIC_INI), scratch_database), "0002")

    assert query(scratch_database, "SELECT email, email_identity FROM users ORDER BY id") == [
        ("Ada@Example.com", "ada@example.com"),
        ("ΣΊΣΥΦΟΣ@example.com", "σίσυφοσ@example.com"),
        (f"{DOTLESS_I}x@example.com", f"{DOTLESS_I}x@example.com"),
    ]


def test_0002_stops_on_colliding_users_naming_them_and_changes_nothing(
    scratch_database: str,
) -> None:
    # lower() told these apart, so 0001's index let both in.
    at_0001_with_users(
        scratch_database, "STRASSE@example.com", "ok@example.com", "straße@example.com"
    )

    with pytest.raises(RuntimeError) as raised:
        command.upgrade(alembic_config(str(ALEMBIC_INI), scratch_database), "0002")

    assert "id 1 ('STRASSE@example.com') = id 3 ('straße@example.com')" in str(raised.value)
    assert "ok@example.com" not in str(raised.value)
    assert query(scratch_database, "SELECT version_num FROM alembic_version") == [("0001",)]
    engine = create_engine(scratch_database)
    try:
        with engine.connect() as connection:
            columns = [column["name"] for column in inspect(connection).get_columns("users")]
    finally:
        engine.dispose()
    assert "email_identity" not in columns


def test_downgrade_to_0001_and_upgrade_again_keep_the_users(scratch_database: str) -> None:
    at_0001_with_users(scratch_database, "Ada@Example.com")
    config = alembic_config(str(ALEMBIC_INI), scratch_database)
    command.upgrade(config, "0002")

    command.downgrade(config, "0001")
    command.upgrade(config, "0002")

    assert query(scratch_database, "SELECT email, email_identity FROM users") == [
        ("Ada@Example.com", "ada@example.com")
    ]
