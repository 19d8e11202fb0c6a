"""Typical bodies of the items service's tests: write rows, run a query, check the result."""

import os

import pytest
from sqlalchemy import func, insert, select
from sqlalchemy.ext.asyncio import AsyncSession

from flotilla.pagination import PageParams
from flotilla.testing.pytest_plugin import database_on_session
from items import repository
from items.models import items

REPEATS = range(int(os.environ.get("BENCH_REPEATS", "8")))


async def add_items(session: AsyncSession, count: int, *, owner_id: int = 1) -> None:
    await session.execute(
        insert(items),
        [{"name": f"item {n}", "price": n, "owner_id": owner_id} for n in range(count)],
    )


@pytest.mark.parametrize("n", REPEATS)
async def test_a_created_item_reads_back(session: AsyncSession, n: int) -> None:
    db = await database_on_session(session)
    created = await repository.create_item(
        db, name=f"cup {n}", description=None, price=100 + n, owner_id=1
    )

    assert await repository.get_item(db, created.id) == created


@pytest.mark.parametrize("n", REPEATS)
async def test_every_test_starts_empty(session: AsyncSession, n: int) -> None:
    await add_items(session, 3)

    assert await session.scalar(select(func.count()).select_from(items)) == 3


@pytest.mark.parametrize("n", REPEATS)
async def test_the_last_page_is_short(session: AsyncSession, n: int) -> None:
    await add_items(session, 15)
    db = await database_on_session(session)

    found, total = await repository.list_items(db, PageParams(skip=10, limit=10))

    assert (len(found), total) == (5, 15)


@pytest.mark.parametrize("n", REPEATS)
async def test_search_and_owner_filter(session: AsyncSession, n: int) -> None:
    await add_items(session, 5, owner_id=1)
    await add_items(session, 5, owner_id=2)
    db = await database_on_session(session)

    found, total = await repository.list_items(
        db, PageParams(skip=0, limit=10), q="item 1", owner_id=2
    )

    assert total == 1
    assert found[0].owner_id == 2


@pytest.mark.parametrize("n", REPEATS)
async def test_an_update_changes_only_what_it_names(session: AsyncSession, n: int) -> None:
    db = await database_on_session(session)
    created = await repository.create_item(db, name="old", description=None, price=1, owner_id=1)

    updated = await repository.update_item(db, created.id, {"name": "new"})

    assert updated is not None
    assert (updated.name, updated.price) == ("new", 1)


@pytest.mark.parametrize("n", REPEATS)
async def test_a_deleted_item_is_gone(session: AsyncSession, n: int) -> None:
    db = await database_on_session(session)
    created = await repository.create_item(db, name="gone", description=None, price=1, owner_id=1)

    assert await repository.delete_item(db, created.id)
    assert await repository.get_item(db, created.id) is None
