"""FIRST_ADMIN_* seeding at start-up: idempotent, and safe when replicas start together."""

import asyncio

from pydantic import SecretStr
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine

from flotilla.testing.pytest_plugin import truncate_all_tables
from users.main import create_app
from users.models import users
from users.settings import UsersSettings


async def start_and_stop(settings: UsersSettings) -> None:
    app = create_app(settings)
    async with app.router.lifespan_context(app):
        pass


async def test_two_replicas_starting_at_once_make_one_admin(
    settings: UsersSettings, database_engine: AsyncEngine
) -> None:
    seeded = settings.model_copy(
        update={
            "first_admin_email": "root@example.com",
            "first_admin_password": SecretStr("admin-secret"),
        }
    )
    try:
        await asyncio.gather(start_and_stop(seeded), start_and_stop(seeded))
        await start_and_stop(seeded)  # and a restart changes nothing

        async with database_engine.connect() as connection:
            rows = (await connection.execute(select(users.c.email, users.c.is_admin))).all()
    finally:
        await truncate_all_tables(database_engine)

    assert [tuple(row) for row in rows] == [("root@example.com", True)]


async def test_no_admin_is_made_without_the_settings(
    settings: UsersSettings, database_engine: AsyncEngine
) -> None:
    await start_and_stop(settings)

    async with database_engine.connect() as connection:
        assert (await connection.execute(select(users))).first() is None
