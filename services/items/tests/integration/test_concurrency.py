"""Concurrent writes through real, committing transactions."""

import asyncio
from collections.abc import Callable
from datetime import datetime

import httpx
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncEngine

from items.models import items

from ..conftest import Headers

USERS = (11, 12, 13, 14, 15)
CREATES_PER_USER = 40


async def test_200_concurrent_creates_by_several_users_store_200_rows_with_their_owners(
    committing_client: httpx.AsyncClient,
    headers_for: Callable[..., Headers],
    database_engine: AsyncEngine,
) -> None:
    async def create(user_id: int, index: int) -> httpx.Response:
        body = {"name": f"user {user_id} item {index}", "price": index}
        return await committing_client.post(
            "/api/v1/items/", json=body, headers=headers_for(user_id)
        )

    responses = await asyncio.gather(
        *(create(user_id, index) for index in range(CREATES_PER_USER) for user_id in USERS)
    )

    assert [response.status_code for response in responses] == [201] * 200
    assert len({response.json()["id"] for response in responses}) == 200
    for response in responses:
        assert response.json()["name"].startswith(f"user {response.json()['owner_id']} ")
    async with database_engine.connect() as connection:
        per_owner = await connection.execute(
            select(items.c.owner_id, func.count()).group_by(items.c.owner_id)
        )
        stored_names = await connection.execute(select(items.c.owner_id, items.c.name))
        assert {owner: count for owner, count in per_owner} == dict.fromkeys(
            USERS, CREATES_PER_USER
        )
        assert all(name.startswith(f"user {owner} ") for owner, name in stored_names)


async def test_updated_at_never_goes_back_under_40_concurrent_patches_of_one_item(
    committing_client: httpx.AsyncClient, owner: Headers, database_engine: AsyncEngine
) -> None:
    created = await committing_client.post(
        "/api/v1/items/", json={"name": "contended", "price": 0}, headers=owner
    )
    url = f"/api/v1/items/{created.json()['id']}"

    responses = await asyncio.gather(
        *(committing_client.patch(url, json={"price": n}, headers=owner) for n in range(1, 41))
    )

    assert [response.status_code for response in responses] == [200] * 40
    last = max(responses, key=lambda r: datetime.fromisoformat(r.json()["updated_at"]))
    async with database_engine.connect() as connection:
        stored = (await connection.execute(select(items.c.price, items.c.updated_at))).one()
    # The latest acknowledged updated_at is the row's, and belongs to the update that won.
    assert stored.updated_at == datetime.fromisoformat(last.json()["updated_at"])
    assert stored.price == last.json()["price"]
