"""/openapi.json and /docs: one document for the whole public API, from the upstreams'."""

from typing import Any

import httpx

from ..conftest import GatewayFactory
from ..fakes import FakeUpstream

USERS_DOCUMENTED = "/api/v1/users/documented/{thing_id}"
ITEMS_DOCUMENTED = "/api/v1/items/documented/{thing_id}"


async def merged(client: httpx.AsyncClient) -> dict[str, Any]:
    response = await client.get("/openapi.json")
    assert response.status_code == 200
    document: dict[str, Any] = response.json()
    return document


async def test_the_document_has_every_upstreams_public_paths(client: httpx.AsyncClient) -> None:
    document = await merged(client)

    assert USERS_DOCUMENTED in document["paths"]
    assert ITEMS_DOCUMENTED in document["paths"]
    assert document["info"]["title"] == "Flotilla API"


async def test_the_operations_paths_are_the_gateways_own(client: httpx.AsyncClient) -> None:
    document = await merged(client)

    assert document["paths"]["/healthz"]["get"]["tags"] == ["operations"]
    assert "/openapi.json" not in document["paths"]


async def test_differing_schemas_of_one_name_are_kept_apart(client: httpx.AsyncClient) -> None:
    document = await merged(client)
    schemas = document["components"]["schemas"]

    assert "Profile" not in schemas
    assert set(schemas["users_Profile"]["properties"]) == {"label"}
    assert set(schemas["items_Profile"]["properties"]) == {"count"}
    items_200 = document["paths"][ITEMS_DOCUMENTED]["get"]["responses"]["200"]
    assert items_200["content"]["application/json"]["schema"] == {
        "$ref": "#/components/schemas/items_Profile"
    }


async def test_identical_schemas_are_kept_once(client: httpx.AsyncClient) -> None:
    document = await merged(client)

    assert "HTTPValidationError" in document["components"]["schemas"]
    assert "users_HTTPValidationError" not in document["components"]["schemas"]


async def test_security_schemes_are_merged_with_their_requirements(
    client: httpx.AsyncClient,
) -> None:
    document = await merged(client)
    schemes = document["components"]["securitySchemes"]

    assert schemes["items_HTTPBearer"]["description"] == "tokens for items"
    assert document["paths"][ITEMS_DOCUMENTED]["get"]["security"] == [{"items_HTTPBearer": []}]


async def test_a_missing_upstream_leaves_the_rest_of_the_document(
    start_gateway: GatewayFactory, nothing_listening_url: str
) -> None:
    with start_gateway(users_url=nothing_listening_url) as url:
        async with httpx.AsyncClient(base_url=url) as client:
            document = await merged(client)

    assert ITEMS_DOCUMENTED in document["paths"]
    assert USERS_DOCUMENTED not in document["paths"]
    assert "users" in document["info"]["description"]


async def test_upstream_documents_are_cached(
    start_gateway: GatewayFactory, users: FakeUpstream
) -> None:
    with start_gateway(docs_cache_seconds=60) as url:
        async with httpx.AsyncClient(base_url=url) as client:
            before = users.openapi_fetches
            await merged(client)
            await merged(client)

    assert users.openapi_fetches - before == 1


async def test_upstream_documents_are_fetched_again_after_the_cache_time(
    start_gateway: GatewayFactory, users: FakeUpstream
) -> None:
    with start_gateway(docs_cache_seconds=0) as url:
        async with httpx.AsyncClient(base_url=url) as client:
            before = users.openapi_fetches
            await merged(client)
            await merged(client)

    assert users.openapi_fetches - before == 2


async def test_the_docs_page_shows_the_merged_document(client: httpx.AsyncClient) -> None:
    response = await client.get("/docs")

    assert response.status_code == 200
    assert "swagger-ui" in response.text
    assert "/openapi.json" in response.text
    assert "<title>Flotilla API - Swagger UI</title>" in response.text
