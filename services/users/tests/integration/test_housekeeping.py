"""Expired and revoked sessions are deleted in bounded batches, by one replica at a time."""

import asyncio
import uuid
from datetime import UTC, datetime, timedelta

import httpx
from sqlalchemy import Table, func, insert, select
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession

from flotilla.db import Database
from flotilla.testing.pytest_plugin import truncate_all_tables
from users.housekeeping import delete_expired_sessions
from users.main import create_app
from users.models import refresh_families, refresh_tokens, users
from users.settings import UsersSettings

from ..conftest import PASSWORD, login, refresh, register, session_for

NOW = datetime.now(UTC)
LATER = NOW + timedelta(days=1)
EARLIER = NOW - timedelta(days=1)


async def add_family(
    db_session: AsyncSession, user_id: int, *, expires_at: datetime, tokens: list[datetime]
) -> uuid.UUID:
    family_id = uuid.uuid4()
    await db_session.execute(
        insert(refresh_families).values(id=family_id, user_id=user_id, expires_at=expires_at)
    )
    for expiry in tokens:
        await db_session.execute(
            insert(refresh_tokens).values(
                token_hash=uuid.uuid4().bytes * 2, family_id=family_id, expires_at=expiry
            )
        )
    return family_id


async def a_user(db_session: AsyncSession) -> int:
    user_id: int = await db_session.scalar(
        insert(users)
        .values(email="ada@example.com", email_identity="ada@example.com", hashed_password="x")
        .returning(users.c.id)
    )
    return user_id


async def count(db_session: AsyncSession, table: Table) -> int:
    return int(await db_session.scalar(select(func.count()).select_from(table)) or 0)


async def test_expired_families_go_with_their_tokens_and_live_ones_stay(
    rolled_back_database: Database, db_session: AsyncSession
) -> None:
    user_id = await a_user(db_session)
    live = await add_family(db_session, user_id, expires_at=LATER, tokens=[LATER])
    await add_family(db_session, user_id, expires_at=EARLIER, tokens=[EARLIER, EARLIER])

    deleted = await delete_expired_sessions(rolled_back_database, batch_size=100)

    assert deleted == 1  # the family; its tokens went with it (ON DELETE CASCADE)
    assert (await db_session.execute(select(refresh_families.c.id))).scalars().all() == [live]
    assert await count(db_session, refresh_tokens) == 1


async def test_a_live_familys_expired_tokens_are_deleted(
    rolled_back_database: Database, db_session: AsyncSession
) -> None:
    user_id = await a_user(db_session)
    await add_family(db_session, user_id, expires_at=LATER, tokens=[EARLIER, EARLIER, LATER])

    deleted = await delete_expired_sessions(rolled_back_database, batch_size=100)

    assert deleted == 2
    assert await count(db_session, refresh_families) == 1
    assert await count(db_session, refresh_tokens) == 1


async def test_revoked_families_are_deleted(
    client: httpx.AsyncClient, rolled_back_database: Database, db_session: AsyncSession
) -> None:
    token = (await session_for(client, "ada@example.com"))["refresh_token"]
    await client.post("/api/v1/auth/logout", json={"refresh_token": token})

    await delete_expired_sessions(rolled_back_database, batch_size=100)

    assert await count(db_session, refresh_families) == 0
    assert await count(db_session, refresh_tokens) == 0


async def test_it_deletes_batch_after_batch_until_nothing_expired_is_left(
    rolled_back_database: Database, db_session: AsyncSession
) -> None:
    user_id = await a_user(db_session)
    for _ in range(7):
        await add_family(db_session, user_id, expires_at=EARLIER, tokens=[EARLIER])

    await delete_expired_sessions(rolled_back_database, batch_size=2)

    assert await count(db_session, refresh_families) == 0
    assert await count(db_session, refresh_tokens) == 0


async def test_a_replica_skips_the_work_while_another_one_does_it(
    rolled_back_database: Database, db_session: AsyncSession, database_engine: AsyncEngine
) -> None:
    user_id = await a_user(db_session)
    await add_family(db_session, user_id, expires_at=EARLIER, tokens=[EARLIER])

    async with database_engine.connect() as other_replica, other_replica.begin():
        await other_replica.execute(select(func.pg_advisory_xact_lock(0x466C6F7473657373)))
        deleted = await delete_expired_sessions(rolled_back_database, batch_size=100)

    assert deleted == 0
    assert await count(db_session, refresh_families) == 1


async def test_a_session_in_use_survives_housekeeping(
    client: httpx.AsyncClient, rolled_back_database: Database, db_session: AsyncSession
) -> None:
    await register(client, "ada@example.com", PASSWORD)
    first = (await login(client, "ada@example.com")).json()["refresh_token"]
    second = (await refresh(client, first)).json()["refresh_token"]

    await delete_expired_sessions(rolled_back_database, batch_size=100)

    assert (await refresh(client, second)).status_code == 200
    assert (await refresh(client, first)).status_code == 401


async def test_the_running_service_deletes_expired_sessions_on_a_timer(
    settings: UsersSettings, database_engine: AsyncEngine
) -> None:
    app = create_app(settings.model_copy(update={"session_cleanup_interval_seconds": 0.05}))
    try:
        async with database_engine.begin() as connection:
            user_id = await connection.scalar(
                insert(users)
                .values(
                    email="ada@example.com", email_identity="ada@example.com", hashed_password="x"
                )
                .returning(users.c.id)
            )
            await connection.execute(
                insert(refresh_families).values(
                    id=uuid.uuid4(), user_id=user_id, expires_at=EARLIER
                )
            )
        async with app.router.lifespan_context(app):
            remaining = await _families_left_after_waiting(database_engine)
    finally:
        await truncate_all_tables(database_engine)

    assert remaining == 0


async def _families_left_after_waiting(engine: AsyncEngine) -> int:
    """Families in the table once it is empty, or after ~10 s."""
    left = -1
    for _ in range(200):
        async with engine.connect() as connection:
            left = int(
                await connection.scalar(select(func.count()).select_from(refresh_families)) or 0
            )
        if left == 0:
            break
        await asyncio.sleep(0.05)
    return left
