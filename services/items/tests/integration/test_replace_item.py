"""PUT /api/v1/items/{id}: the owner or an admin replaces name, description and price."""

from datetime import datetime

import httpx
import pytest
from sqlalchemy.ext.asyncio import AsyncSession

from ..conftest import OWNER_ID, AddItem, Headers, stored_item

NEW = {"name": "Teapot", "description": "Cast iron", "price": 3900}


async def test_the_owner_replaces_the_item(
    client: httpx.AsyncClient, owner: Headers, add_item: AddItem, db_session: AsyncSession
) -> None:
    item_id = await add_item("Kettle", price=2500, description="Steel")

    response = await client.put(f"/api/v1/items/{item_id}", json=NEW, headers=owner)

    assert response.status_code == 200
    body = response.json()
    assert {key: body[key] for key in NEW} == NEW
    assert (body["id"], body["owner_id"]) == (item_id, OWNER_ID)
    row = await stored_item(db_session, item_id)
    assert row is not None
    assert (row["name"], row["description"], row["price"]) == ("Teapot", "Cast iron", 3900)


async def test_replacing_moves_updated_at_and_keeps_created_at(
    client: httpx.AsyncClient, owner: Headers, add_item: AddItem, db_session: AsyncSession
) -> None:
    item_id = await add_item()
    before = await stored_item(db_session, item_id)

    response = await client.put(f"/api/v1/items/{item_id}", json=NEW, headers=owner)

    assert before is not None
    after = await stored_item(db_session, item_id)
    assert after is not None
    assert after["created_at"] == before["created_at"]
    assert after["updated_at"] > before["updated_at"]
    assert datetime.fromisoformat(response.json()["updated_at"]) == after["updated_at"]


async def test_an_omitted_description_becomes_null(
    client: httpx.AsyncClient, owner: Headers, add_item: AddItem, db_session: AsyncSession
) -> None:
    item_id = await add_item(description="old")

    response = await client.put(
        f"/api/v1/items/{item_id}", json={"name": "Teapot", "price": 1}, headers=owner
    )

    assert response.json()["description"] is None
    row = await stored_item(db_session, item_id)
    assert row is not None
    assert row["description"] is None


async def test_an_admin_replaces_another_users_item_which_keeps_its_owner(
    client: httpx.AsyncClient, admin: Headers, add_item: AddItem, db_session: AsyncSession
) -> None:
    item_id = await add_item(owner_id=OWNER_ID)

    response = await client.put(f"/api/v1/items/{item_id}", json=NEW, headers=admin)

    assert response.status_code == 200
    assert response.json()["owner_id"] == OWNER_ID
    row = await stored_item(db_session, item_id)
    assert row is not None
    assert (row["name"], row["owner_id"]) == ("Teapot", OWNER_ID)


async def test_another_user_is_403_and_the_item_is_unchanged(
    client: httpx.AsyncClient, other_user: Headers, add_item: AddItem, db_session: AsyncSession
) -> None:
    item_id = await add_item("Kettle")

    response = await client.put(f"/api/v1/items/{item_id}", json=NEW, headers=other_user)

    assert response.status_code == 403
    assert response.json() == {"detail": "Not enough permissions"}
    row = await stored_item(db_session, item_id)
    assert row is not None
    assert row["name"] == "Kettle"


async def test_another_user_with_an_invalid_body_is_still_403(
    client: httpx.AsyncClient, other_user: Headers, add_item: AddItem
) -> None:
    item_id = await add_item()

    response = await client.put(f"/api/v1/items/{item_id}", json={}, headers=other_user)

    assert response.status_code == 403


async def test_without_a_token_replace_is_401_and_the_item_is_unchanged(
    client: httpx.AsyncClient, add_item: AddItem, db_session: AsyncSession
) -> None:
    item_id = await add_item("Kettle")

    response = await client.put(f"/api/v1/items/{item_id}", json=NEW)

    assert response.status_code == 401
    assert response.json() == {"detail": "Not authenticated"}
    row = await stored_item(db_session, item_id)
    assert row is not None
    assert row["name"] == "Kettle"


async def test_replacing_a_missing_item_is_404(
    client: httpx.AsyncClient, owner: Headers, add_item: AddItem
) -> None:
    item_id = await add_item()

    response = await client.put(f"/api/v1/items/{item_id + 1}", json=NEW, headers=owner)

    assert response.status_code == 404
    assert response.json() == {"detail": "Item not found"}


@pytest.mark.parametrize(
    ("body", "loc"),
    [
        pytest.param({"price": 1}, ["body", "name"], id="missing-name"),
        pytest.param({"name": "Teapot"}, ["body", "price"], id="missing-price"),
        pytest.param({"name": "Teapot", "price": -5}, ["body", "price"], id="negative-price"),
        pytest.param({"name": "Teapot", "price": 1.5}, ["body", "price"], id="float-price"),
        pytest.param({"name": "x" * 201, "price": 1}, ["body", "name"], id="long-name"),
        pytest.param({**NEW, "owner_id": 2}, ["body", "owner_id"], id="owner-id"),
    ],
)
async def test_an_invalid_replacement_is_422_and_the_item_is_unchanged(
    client: httpx.AsyncClient,
    owner: Headers,
    add_item: AddItem,
    db_session: AsyncSession,
    body: dict[str, object],
    loc: list[str],
) -> None:
    item_id = await add_item("Kettle", price=2500)

    response = await client.put(f"/api/v1/items/{item_id}", json=body, headers=owner)

    assert response.status_code == 422
    assert response.json()["detail"][0]["loc"] == loc
    row = await stored_item(db_session, item_id)
    assert row is not None
    assert (row["name"], row["price"], row["owner_id"]) == ("Kettle", 2500, OWNER_ID)


async def test_replacing_a_non_integer_id_is_422(client: httpx.AsyncClient, owner: Headers) -> None:
    response = await client.put("/api/v1/items/abc", json=NEW, headers=owner)

    assert response.status_code == 422
    assert response.json()["detail"][0]["loc"] == ["path", "item_id"]
