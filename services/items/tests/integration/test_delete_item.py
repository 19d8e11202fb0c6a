"""DELETE /api/v1/items/{id}: the owner or an admin deletes; 204 with an empty body."""

import httpx
from sqlalchemy.ext.asyncio import AsyncSession

from ..conftest import OTHER_USER_ID, AddItem, Headers, stored_item


async def test_the_owner_deletes_the_item_with_an_empty_204(
    client: httpx.AsyncClient, owner: Headers, add_item: AddItem, db_session: AsyncSession
) -> None:
    item_id = await add_item()

    response = await client.delete(f"/api/v1/items/{item_id}", headers=owner)

    assert response.status_code == 204
    assert response.content == b""
    assert await stored_item(db_session, item_id) is None


async def test_a_deleted_item_is_gone_for_readers(
    client: httpx.AsyncClient, owner: Headers, add_item: AddItem
) -> None:
    item_id = await add_item()

    await client.delete(f"/api/v1/items/{item_id}", headers=owner)

    assert (await client.get(f"/api/v1/items/{item_id}")).status_code == 404
    assert (await client.get("/api/v1/items/")).json()["total"] == 0


async def test_deleting_twice_is_404_the_second_time(
    client: httpx.AsyncClient, owner: Headers, add_item: AddItem
) -> None:
    item_id = await add_item()
    await client.delete(f"/api/v1/items/{item_id}", headers=owner)

    response = await client.delete(f"/api/v1/items/{item_id}", headers=owner)

    assert response.status_code == 404
    assert response.json() == {"detail": "Item not found"}


async def test_an_admin_deletes_another_users_item(
    client: httpx.AsyncClient, admin: Headers, add_item: AddItem, db_session: AsyncSession
) -> None:
    item_id = await add_item(owner_id=OTHER_USER_ID)

    response = await client.delete(f"/api/v1/items/{item_id}", headers=admin)

    assert response.status_code == 204
    assert await stored_item(db_session, item_id) is None


async def test_another_user_is_403_and_the_item_stays(
    client: httpx.AsyncClient, other_user: Headers, add_item: AddItem, db_session: AsyncSession
) -> None:
    item_id = await add_item()

    response = await client.delete(f"/api/v1/items/{item_id}", headers=other_user)

    assert response.status_code == 403
    assert response.json() == {"detail": "Not enough permissions"}
    assert await stored_item(db_session, item_id) is not None


async def test_without_a_token_delete_is_401_and_the_item_stays(
    client: httpx.AsyncClient, add_item: AddItem, db_session: AsyncSession
) -> None:
    item_id = await add_item()

    response = await client.delete(f"/api/v1/items/{item_id}")

    assert response.status_code == 401
    assert response.headers["WWW-Authenticate"] == "Bearer"
    assert await stored_item(db_session, item_id) is not None


async def test_deleting_a_missing_item_is_404(
    client: httpx.AsyncClient, owner: Headers, add_item: AddItem
) -> None:
    item_id = await add_item()

    response = await client.delete(f"/api/v1/items/{item_id + 1}", headers=owner)

    assert response.status_code == 404
    assert response.json() == {"detail": "Item not found"}


async def test_deleting_a_non_integer_id_is_422(client: httpx.AsyncClient, owner: Headers) -> None:
    response = await client.delete("/api/v1/items/1.5", headers=owner)

    assert response.status_code == 422
    assert response.json()["detail"][0]["loc"] == ["path", "item_id"]
