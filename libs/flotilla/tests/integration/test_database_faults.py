"""Deadlocks are retried, timeouts are named: neither is an outage.

Each test runs on pooled connections of its own (not the rolled-back test
connection): a deadlock needs two sessions, and their work really commits.
"""

import asyncio
import json
from collections.abc import AsyncIterator, Awaitable, Callable

import httpx
import pytest
from fastapi import APIRouter, FastAPI
from sqlalchemy import Column, Integer, MetaData, String, Table, delete, insert, text, update
from sqlalchemy.exc import DBAPIError

from flotilla.app import create_service_app
from flotilla.db import Database, DatabaseDep, Transaction
from flotilla.db_errors import DatabaseFault, classify

from ..conftest import settings_for

notes = Table(
    "notes", MetaData(), Column("id", Integer, primary_key=True), Column("text", String(200))
)
FIRST, SECOND = 1, 2


@pytest.fixture
async def two_notes(database_url: str) -> AsyncIterator[None]:
    database = Database(settings_for(database_url))
    for note_id in (FIRST, SECOND):
        await database.execute(insert(notes), {"id": note_id, "text": ""})
    yield
    await database.execute(delete(notes))
    await database.dispose()


async def append(tx: Transaction, note_id: int, mark: str) -> None:
    await tx.execute(update(notes).where(notes.c.id == note_id).values(text=notes.c.text + mark))


def crossing_work(
    mark: str, first: int, second: int, both_hold_a_lock: asyncio.Barrier
) -> tuple[Callable[[Transaction], Awaitable[None]], list[int]]:
    """Work that locks ``first`` then ``second``; the first attempt waits until the other
    side holds its first lock too, so the two attempts deadlock."""
    attempts: list[int] = []

    async def work(tx: Transaction) -> None:
        attempts.append(len(attempts) + 1)
        await append(tx, first, mark)
        if len(attempts) == 1:
            await both_hold_a_lock.wait()
        await append(tx, second, mark)

    return work, attempts


@pytest.mark.usefixtures("two_notes")
async def test_a_deadlocked_transaction_is_run_again_and_both_commit(database_url: str) -> None:
    database = Database(settings_for(database_url))
    both_hold_a_lock = asyncio.Barrier(2)
    left, left_attempts = crossing_work("L", FIRST, SECOND, both_hold_a_lock)
    right, right_attempts = crossing_work("R", SECOND, FIRST, both_hold_a_lock)

    await asyncio.gather(database.run_in_transaction(left), database.run_in_transaction(right))
    texts: list[dict[str, str]] = await database.fetch_all(
        text("SELECT text FROM notes ORDER BY id"), model=dict
    )
    await database.dispose()

    # The deadlock's victim ran again (a retry can meet the other side once more).
    assert min(len(left_attempts), len(right_attempts)) == 1
    assert max(len(left_attempts), len(right_attempts)) >= 2
    assert [sorted(row["text"]) for row in texts] == [["L", "R"], ["L", "R"]]


@pytest.mark.usefixtures("two_notes")
async def test_a_deadlock_without_retries_left_is_a_conflict_not_an_outage(
    database_url: str,
) -> None:
    database = Database(settings_for(database_url, database_conflict_retries=0))
    both_hold_a_lock = asyncio.Barrier(2)
    left, _ = crossing_work("L", FIRST, SECOND, both_hold_a_lock)
    right, _ = crossing_work("R", SECOND, FIRST, both_hold_a_lock)

    outcomes = await asyncio.gather(
        database.run_in_transaction(left),
        database.run_in_transaction(right),
        return_exceptions=True,
    )
    await database.dispose()

    failures = [outcome for outcome in outcomes if isinstance(outcome, BaseException)]
    assert len(failures) == 1
    assert classify(failures[0]) is DatabaseFault.CONFLICT


async def test_a_statement_past_the_statement_timeout_is_a_timeout(database_url: str) -> None:
    database = Database(settings_for(database_url, database_statement_timeout_seconds=0.2))
    with pytest.raises(DBAPIError) as raised:
        await database.fetch_value(text("SELECT pg_sleep(2)"))
    await database.dispose()

    assert classify(raised.value) is DatabaseFault.TIMEOUT


@pytest.mark.usefixtures("two_notes")
async def test_waiting_on_a_lock_past_the_lock_timeout_is_a_timeout(database_url: str) -> None:
    holder = Database(settings_for(database_url))
    waiter = Database(settings_for(database_url, database_lock_timeout_seconds=0.2))
    try:
        async with holder.transaction() as tx:
            await append(tx, FIRST, "held")
            with pytest.raises(DBAPIError) as raised:
                await waiter.execute(update(notes).where(notes.c.id == FIRST).values(text="x"))
    finally:
        await holder.dispose()
        await waiter.dispose()

    assert classify(raised.value) is DatabaseFault.TIMEOUT


def sleeping_app(database_url: str) -> FastAPI:
    router = APIRouter()

    @router.get("/sleep")
    async def sleep(db: DatabaseDep) -> None:
        await db.fetch_value(text("SELECT pg_sleep(2)"))

    settings = settings_for(database_url, database_statement_timeout_seconds=0.2)
    return create_service_app(
        name="sleepy", version="0", settings=settings, routers=[router], database=Database(settings)
    )


async def test_a_statement_timeout_answers_503_and_is_logged_as_a_timeout(
    database_url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    app = sleeping_app(database_url)
    transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
    async with (
        app.router.lifespan_context(app),
        httpx.AsyncClient(transport=transport, base_url="http://testserver") as client,
    ):
        response = await client.get("/sleep")

    assert response.status_code == 503
    assert response.json() == {"detail": "Service temporarily unavailable"}
    logged = [json.loads(line) for line in capsys.readouterr().out.splitlines() if line]
    messages = [line["message"] for line in logged if line["logger"] == "flotilla.db"]
    assert any(message.startswith(DatabaseFault.TIMEOUT.value) for message in messages)
    assert not any(DatabaseFault.UNAVAILABLE.value in message for message in messages)
