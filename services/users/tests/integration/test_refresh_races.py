"""Concurrent refreshes of one token, on separate pooled connections that really commit."""

import asyncio
import uuid

import httpx
from sqlalchemy import select, text
from sqlalchemy.ext.asyncio import AsyncSession

from flotilla.db import Database
from users import session_store
from users.models import refresh_families
from users.refresh_tokens import refresh_token_hash
from users.settings import UsersSettings

from ..conftest import refresh, session_for

_WAITING_FOR_A_LOCK = text(
    "SELECT count(*) FROM pg_stat_activity "
    "WHERE datname = current_database() AND wait_event_type = 'Lock'"
)


async def test_of_concurrent_refreshes_of_one_token_at_most_one_succeeds(
    committing_client: httpx.AsyncClient, db_session: AsyncSession
) -> None:
    token = (await session_for(committing_client, "ada@example.com"))["refresh_token"]

    responses = await asyncio.gather(*(refresh(committing_client, token) for _ in range(8)))

    statuses = sorted(r.status_code for r in responses)
    assert statuses == [200] + [401] * 7


async def test_the_losers_of_a_race_present_a_spent_token_so_the_family_is_revoked(
    committing_client: httpx.AsyncClient, db_session: AsyncSession
) -> None:
    token = (await session_for(committing_client, "ada@example.com"))["refresh_token"]

    responses = await asyncio.gather(*(refresh(committing_client, token) for _ in range(8)))

    [winner] = [r for r in responses if r.status_code == 200]
    assert (await refresh(committing_client, winner.json()["refresh_token"])).status_code == 401
    revoked = (await db_session.execute(select(refresh_families.c.revoked_at))).scalar_one()
    assert revoked is not None


async def test_a_second_spend_waits_for_the_first_and_then_finds_the_token_spent(
    committing_client: httpx.AsyncClient, settings: UsersSettings
) -> None:
    token = (await session_for(committing_client, "ada@example.com"))["refresh_token"]
    token_hash = refresh_token_hash(token)
    assert token_hash is not None
    database = Database(settings)
    try:
        async with database.transaction() as first:
            first_spend = await session_store.spend(first, token_hash)
            second = asyncio.create_task(_spend_in_own_transaction(database, token_hash))
            blocked = await _a_statement_waits_for_a_lock(database)
        second_spend = await second
    finally:
        await database.dispose()

    assert first_spend is not None
    assert blocked
    assert second_spend is None


async def _spend_in_own_transaction(database: Database, token_hash: bytes) -> uuid.UUID | None:
    async with database.transaction() as tx:
        return await session_store.spend(tx, token_hash)


async def _a_statement_waits_for_a_lock(database: Database) -> bool:
    """Whether some statement in this database comes to wait for a lock (within ~5 s)."""
    for _ in range(100):
        if await database.fetch_value(_WAITING_FOR_A_LOCK):
            return True
        await asyncio.sleep(0.05)
    return False
