"""Typical bodies of the items service's tests: write rows, run a query, check the result."""

import pytest
from sqlalchemy import func, insert, select
from sqlalchemy.ext.asyncio import AsyncSession

from flotilla.pagination import PageParams
from items import repository
from items.models import items
from items.schemas import ItemCreate

REPEATS = range(int(__import__("os").environ.get("BENCH_REPEATS", "8")))


async def add_items(session: AsyncSession, count: int, *, owner_id: int = 1) -> None:
    await session.execute(
        insert(items),
        [{"name": f"item {n}", "price": n, "owner_id": owner_id} for n in range(count)],
    )


@pytest.mark.parametrize("n", REPEATS)
async def test_a_created_item_reads_back(db_session: AsyncSession, n: int) -> None:
    created = await repository.create_item(
        db_session, ItemCreate(name=f"cup {n}", price=100 + n), owner_id=1
    )

    assert await repository.get_item(db_session, created.id) == created


@pytest.mark.parametrize("n", REPEATS)
async def test_every_test_starts_empty(db_session: AsyncSession, n: int) -> None:
    await add_items(db_session, 3)

    assert await db_session.scalar(select(func.count()).select_from(items)) == 3


@pytest.mark.parametrize("n", REPEATS)
async def test_the_last_page_is_short(db_session: AsyncSession, n: int) -> None:
    await add_items(db_session, 15)

    found, total = await repository.list_items(db_session, PageParams(skip=10, limit=10))

    assert (len(found), total) == (5, 15)


@pytest.mark.parametrize("n", REPEATS)
async def test_search_and_owner_filter(db_session: AsyncSession, n: int) -> None:
    await add_items(db_session, 5, owner_id=1)
    await add_items(db_session, 5, owner_id=2)

    found, total = await repository.list_items(
        db_session, PageParams(skip=0, limit=10), q="item 1", owner_id=2
    )

    assert total == 1
    assert found[0].owner_id == 2


@pytest.mark.parametrize("n", REPEATS)
async def test_an_update_changes_only_what_it_names(db_session: AsyncSession, n: int) -> None:
    created = await repository.create_item(db_session, ItemCreate(name="old", price=1), owner_id=1)

    updated = await repository.update_item(db_session, created.id, {"name": "new"})

    assert updated is not None
    assert (updated.name, updated.price) == ("new", 1)


@pytest.mark.parametrize("n", REPEATS)
async def test_a_deleted_item_is_gone(db_session: AsyncSession, n: int) -> None:
    created = await repository.create_item(db_session, ItemCreate(name="gone", price=1), owner_id=1)

    assert await repository.delete_item(db_session, created.id)
    assert await repository.get_item(db_session, created.id) is None
