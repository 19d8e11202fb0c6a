"""The seed article's item tests (shared/seed), adapted to the contract.

Its sync ``TestClient`` and SQLite become the async client on a real Postgres;
paths move under ``/api/v1``, creating needs a token and answers ``201``, and
the list is a page (``items``) rather than a bare array.
"""

import httpx

from ..conftest import Headers


async def test_create_item(client: httpx.AsyncClient, owner: Headers) -> None:
    """Test creating a new item in the database."""
    response = await client.post(
        "/api/v1/items/",
        json={"name": "Test Item", "description": "A test description", "price": 100},
        headers=owner,
    )
    assert response.status_code == 201
    data = response.json()
    assert data["name"] == "Test Item"
    assert "id" in data


async def test_read_items(client: httpx.AsyncClient, owner: Headers) -> None:
    """Test reading multiple items from the database."""
    await client.post(
        "/api/v1/items/",
        json={"name": "Item 1", "description": "Desc 1", "price": 10},
        headers=owner,
    )
    await client.post(
        "/api/v1/items/",
        json={"name": "Item 2", "description": "Desc 2", "price": 20},
        headers=owner,
    )
    response = await client.get("/api/v1/items/")
    assert response.status_code == 200
    data = response.json()["items"]
    assert len(data) == 2
    assert data[0]["name"] == "Item 1"
    assert data[1]["price"] == 20


async def test_read_single_item(client: httpx.AsyncClient, owner: Headers) -> None:
    """Test reading a single item by ID."""
    create_response = await client.post(
        "/api/v1/items/",
        json={"name": "Unique Item", "description": "Unique desc", "price": 50},
        headers=owner,
    )
    item_id = create_response.json()["id"]
    read_response = await client.get(f"/api/v1/items/{item_id}")
    assert read_response.status_code == 200
    assert read_response.json()["name"] == "Unique Item"


async def test_read_nonexistent_item(client: httpx.AsyncClient) -> None:
    """Test reading an item that does not exist."""
    response = await client.get("/api/v1/items/999")
    assert response.status_code == 404
    assert response.json() == {"detail": "Item not found"}


async def test_update_item_invalid_data(client: httpx.AsyncClient, owner: Headers) -> None:
    """Test updating an item with invalid data (e.g., missing 'name')."""
    create_response = await client.post(
        "/api/v1/items/", json={"name": "Foo", "price": 10}, headers=owner
    )
    item_id = create_response.json()["id"]
    response = await client.put(f"/api/v1/items/{item_id}", json={"price": 10}, headers=owner)
    assert response.status_code == 422  # Unprocessable Entity for Pydantic validation error
    assert "detail" in response.json()
    assert response.json()["detail"][0]["loc"] == ["body", "name"]
