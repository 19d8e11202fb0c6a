"""PATCH /api/v1/items/{id}: the owner or an admin changes any subset of the fields."""

import httpx
import pytest
from sqlalchemy.ext.asyncio import AsyncSession

from ..conftest import OWNER_ID, AddItem, Headers, stored_item


async def test_patching_the_name_keeps_the_other_fields(
    client: httpx.AsyncClient, owner: Headers, add_item: AddItem, db_session: AsyncSession
) -> None:
    item_id = await add_item("Kettle", price=2500, description="Steel")

    response = await client.patch(
        f"/api/v1/items/{item_id}", json={"name": "Teapot"}, headers=owner
    )

    assert response.status_code == 200
    body = response.json()
    assert (body["name"], body["description"], body["price"]) == ("Teapot", "Steel", 2500)
    row = await stored_item(db_session, item_id)
    assert row is not None
    assert (row["name"], row["description"], row["price"]) == ("Teapot", "Steel", 2500)


async def test_patching_the_price_keeps_the_other_fields(
    client: httpx.AsyncClient, owner: Headers, add_item: AddItem, db_session: AsyncSession
) -> None:
    item_id = await add_item("Kettle", price=2500, description="Steel")

    response = await client.patch(f"/api/v1/items/{item_id}", json={"price": 0}, headers=owner)

    assert response.json()["price"] == 0
    row = await stored_item(db_session, item_id)
    assert row is not None
    assert (row["name"], row["description"], row["price"]) == ("Kettle", "Steel", 0)


async def test_a_null_description_clears_it(
    client: httpx.AsyncClient, owner: Headers, add_item: AddItem, db_session: AsyncSession
) -> None:
    item_id = await add_item(description="Steel")

    response = await client.patch(
        f"/api/v1/items/{item_id}", json={"description": None}, headers=owner
    )

    assert response.json()["description"] is None
    row = await stored_item(db_session, item_id)
    assert row is not None
    assert row["description"] is None


async def test_a_patch_moves_updated_at_and_keeps_created_at(
    client: httpx.AsyncClient, owner: Headers, add_item: AddItem, db_session: AsyncSession
) -> None:
    item_id = await add_item()
    before = await stored_item(db_session, item_id)

    await client.patch(f"/api/v1/items/{item_id}", json={"price": 7}, headers=owner)

    after = await stored_item(db_session, item_id)
    assert before is not None
    assert after is not None
    assert after["created_at"] == before["created_at"]
    assert after["updated_at"] > before["updated_at"]


async def test_an_empty_patch_changes_nothing(
    client: httpx.AsyncClient, owner: Headers, add_item: AddItem, db_session: AsyncSession
) -> None:
    item_id = await add_item("Kettle")
    before = await stored_item(db_session, item_id)

    response = await client.patch(f"/api/v1/items/{item_id}", json={}, headers=owner)

    assert response.status_code == 200
    assert response.json()["name"] == "Kettle"
    assert await stored_item(db_session, item_id) == before


@pytest.mark.parametrize(
    ("body", "loc"),
    [
        pytest.param({"name": None}, ["body", "name"], id="null-name"),
        pytest.param({"price": None}, ["body", "price"], id="null-price"),
        pytest.param({"name": ""}, ["body", "name"], id="empty-name"),
        pytest.param({"price": -1}, ["body", "price"], id="negative-price"),
        pytest.param({"price": "12"}, ["body", "price"], id="string-price"),
        pytest.param({"price": 2**63}, ["body", "price"], id="price-beyond-64-bit"),
        pytest.param({"description": "d" * 2001}, ["body", "description"], id="long-description"),
        pytest.param({"nmae": "Teapot"}, ["body", "nmae"], id="unknown-field"),
        pytest.param({"owner_id": 2}, ["body", "owner_id"], id="owner-id"),
    ],
)
async def test_an_invalid_patch_is_422_and_the_item_is_unchanged(
    client: httpx.AsyncClient,
    owner: Headers,
    add_item: AddItem,
    db_session: AsyncSession,
    body: dict[str, object],
    loc: list[str],
) -> None:
    item_id = await add_item("Kettle")
    before = await stored_item(db_session, item_id)

    response = await client.patch(f"/api/v1/items/{item_id}", json=body, headers=owner)

    assert response.status_code == 422
    assert response.json()["detail"][0]["loc"] == loc
    assert await stored_item(db_session, item_id) == before


async def test_an_admin_patches_another_users_item(
    client: httpx.AsyncClient, admin: Headers, add_item: AddItem, db_session: AsyncSession
) -> None:
    item_id = await add_item(owner_id=OWNER_ID)

    response = await client.patch(f"/api/v1/items/{item_id}", json={"price": 1}, headers=admin)

    assert response.status_code == 200
    row = await stored_item(db_session, item_id)
    assert row is not None
    assert (row["price"], row["owner_id"]) == (1, OWNER_ID)


async def test_another_user_is_403_and_the_item_is_unchanged(
    client: httpx.AsyncClient, other_user: Headers, add_item: AddItem, db_session: AsyncSession
) -> None:
    item_id = await add_item(price=100)

    response = await client.patch(f"/api/v1/items/{item_id}", json={"price": 1}, headers=other_user)

    assert response.status_code == 403
    assert response.json() == {"detail": "Not enough permissions"}
    row = await stored_item(db_session, item_id)
    assert row is not None
    assert row["price"] == 100


async def test_without_a_token_patch_is_401(client: httpx.AsyncClient, add_item: AddItem) -> None:
    item_id = await add_item()

    response = await client.patch(f"/api/v1/items/{item_id}", json={"price": 1})

    assert response.status_code == 401
    assert response.json() == {"detail": "Not authenticated"}


async def test_patching_a_missing_item_is_404(
    client: httpx.AsyncClient, owner: Headers, add_item: AddItem
) -> None:
    item_id = await add_item()

    response = await client.patch(f"/api/v1/items/{item_id + 1}", json={"price": 1}, headers=owner)

    assert response.status_code == 404
    assert response.json() == {"detail": "Item not found"}
