"""Collection paths answer with and without the trailing slash; operations endpoints exist."""

import httpx
import pytest

from ..conftest import Headers


@pytest.mark.parametrize("path", ["/api/v1/items", "/api/v1/items/"])
async def test_the_collection_lists_with_and_without_a_slash(
    client: httpx.AsyncClient, path: str
) -> None:
    response = await client.get(path, params={"limit": 5})

    assert response.status_code == 200
    assert response.json() == {"items": [], "total": 0, "skip": 0, "limit": 5}


@pytest.mark.parametrize("path", ["/api/v1/items", "/api/v1/items/"])
async def test_the_collection_creates_with_and_without_a_slash(
    client: httpx.AsyncClient, owner: Headers, path: str
) -> None:
    response = await client.post(path, json={"name": "Lamp", "price": 1}, headers=owner)

    assert response.status_code == 201
    assert response.headers["Location"] == f"/api/v1/items/{response.json()['id']}"


async def test_an_item_path_with_a_trailing_slash_is_404_not_a_redirect(
    client: httpx.AsyncClient,
) -> None:
    response = await client.get("/api/v1/items/1/")

    assert response.status_code == 404
    assert "location" not in response.headers


async def test_openapi_documents_each_operation_once(client: httpx.AsyncClient) -> None:
    paths = (await client.get("/openapi.json")).json()["paths"]

    assert set(paths["/api/v1/items/"]) == {"get", "post"}
    assert set(paths["/api/v1/items/{item_id}"]) == {"get", "put", "patch", "delete"}
    assert "/api/v1/items" not in paths


async def test_openapi_documents_the_validation_rules(client: httpx.AsyncClient) -> None:
    schemas = (await client.get("/openapi.json")).json()["components"]["schemas"]

    assert schemas["ItemCreate"]["additionalProperties"] is False
    assert schemas["ItemCreate"]["properties"]["price"]["maximum"] == 2**63 - 1
    assert schemas["ItemCreate"]["properties"]["price"]["minimum"] == 0
    assert str(2**63 - 1) in schemas["ItemCreate"]["properties"]["price"]["description"]
    assert schemas["ItemCreate"]["properties"]["name"]["maxLength"] == 200
    assert schemas["ItemPatch"]["properties"]["name"]["type"] == "string"  # never null


async def test_healthz_answers_ok(client: httpx.AsyncClient) -> None:
    response = await client.get("/healthz")

    assert (response.status_code, response.json()) == (200, {"status": "ok"})


async def test_readyz_checks_the_database(client: httpx.AsyncClient) -> None:
    response = await client.get("/readyz")

    assert response.json() == {"status": "ok", "checks": {"database": "ok"}}


async def test_metrics_label_item_requests_by_route_template(
    client: httpx.AsyncClient,
) -> None:
    await client.get("/api/v1/items/12345")

    body = (await client.get("/metrics")).text

    assert 'route="/api/v1/items/{item_id}",status="404"} 1.0' in body
