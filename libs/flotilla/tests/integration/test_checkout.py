"""Requests beyond the pool's connections wait for one, for the checkout timeout at most."""

import asyncio
import time
from collections.abc import AsyncIterator

import pytest
from sqlalchemy import text
from sqlalchemy.exc import TimeoutError as PoolTimeout

from flotilla.db import Database
from flotilla.db_errors import DatabaseFault, classify

from ..conftest import settings_for

CHECKOUT_TIMEOUT = 0.5


@pytest.fixture
async def one_connection(database_url: str) -> AsyncIterator[Database]:
    settings = settings_for(
        database_url, database_pool_size=1, database_connect_timeout_seconds=CHECKOUT_TIMEOUT
    )
    database = Database(settings)
    yield database
    await database.dispose()


async def test_a_request_waits_for_the_connection_another_holds(one_connection: Database) -> None:
    async def hold_briefly() -> None:
        async with one_connection.transaction() as tx:
            await tx.fetch_value(text("SELECT 1"))
            await asyncio.sleep(0.2)

    holder = asyncio.create_task(hold_briefly())
    await asyncio.sleep(0.05)

    assert await one_connection.fetch_value(text("SELECT 2")) == 2
    await holder


async def test_no_free_connection_within_the_timeout_is_an_outage(
    one_connection: Database,
) -> None:
    async with one_connection.transaction():
        started = time.monotonic()
        with pytest.raises(PoolTimeout) as raised:
            await one_connection.fetch_value(text("SELECT 1"))
        waited = time.monotonic() - started

    assert CHECKOUT_TIMEOUT <= waited < CHECKOUT_TIMEOUT + 1
    assert classify(raised.value) is DatabaseFault.UNAVAILABLE  # answered 503, not 500
    assert await one_connection.fetch_value(text("SELECT 1")) == 1
