"""GET /api/v1/items/{id}: anyone reads one item."""

import httpx
import pytest

from ..conftest import OWNER_ID, AddItem


async def test_anyone_reads_an_item_without_a_token(
    client: httpx.AsyncClient, add_item: AddItem
) -> None:
    item_id = await add_item("Kettle", price=2500, description="Steel")

    response = await client.get(f"/api/v1/items/{item_id}")

    assert response.status_code == 200
    body = response.json()
    assert body == {
        "id": item_id,
        "name": "Kettle",
        "description": "Steel",
        "price": 2500,
        "owner_id": OWNER_ID,
        "created_at": body["created_at"],
        "updated_at": body["created_at"],
    }


async def test_a_missing_item_is_404(client: httpx.AsyncClient, add_item: AddItem) -> None:
    item_id = await add_item()

    response = await client.get(f"/api/v1/items/{item_id + 1}")

    assert response.status_code == 404
    assert response.json() == {"detail": "Item not found"}


@pytest.mark.parametrize("item_id", ["0", "-1", str(2**63 - 1), str(-(2**63))])
async def test_any_64_bit_integer_that_is_no_item_is_404(
    client: httpx.AsyncClient, item_id: str
) -> None:
    response = await client.get(f"/api/v1/items/{item_id}")

    assert response.status_code == 404
    assert response.json() == {"detail": "Item not found"}


@pytest.mark.parametrize(
    "item_id", ["abc", "1.5", "1e3", "0x10", str(2**63), str(-(2**63) - 1), "9" * 100]
)
async def test_a_non_integer_or_beyond_64_bit_id_is_422(
    client: httpx.AsyncClient, item_id: str
) -> None:
    response = await client.get(f"/api/v1/items/{item_id}")

    assert response.status_code == 422
    assert response.json()["detail"][0]["loc"] == ["path", "item_id"]
