"""The real users and items services behind the gateway: a user's journey, end to end."""

import re
import uuid
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest

from .conftest import AccessLog

PASSWORD = "correct horse battery"


@pytest.fixture
async def client(gateway_url: str) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(base_url=gateway_url, timeout=30) as http_client:
        yield http_client


def unique_email() -> str:
    return f"user-{uuid.uuid4().hex[:12]}@example.com"


async def bearer_for(client: httpx.AsyncClient, email: str) -> dict[str, str]:
    registered = await client.post(
        "/api/v1/auth/register", json={"email": email, "password": PASSWORD}
    )
    assert registered.status_code == 201, registered.text
    login = await client.post("/api/v1/auth/token", data={"username": email, "password": PASSWORD})
    assert login.status_code == 200, login.text
    return {"Authorization": f"Bearer {login.json()['access_token']}"}


async def test_register_login_create_and_read_an_item(client: httpx.AsyncClient) -> None:
    email = unique_email()
    registered = await client.post(
        "/api/v1/auth/register", json={"email": email, "password": PASSWORD, "full_name": "Ann"}
    )
    login = await client.post("/api/v1/auth/token", data={"username": email, "password": PASSWORD})
    auth = {"Authorization": f"Bearer {login.json()['access_token']}"}
    created = await client.post(
        "/api/v1/items/", json={"name": "Lamp", "price": 1999}, headers=auth
    )
    read = await client.get(created.headers["Location"])

    assert registered.status_code == 201
    assert login.status_code == 200
    assert created.status_code == 201
    assert created.headers["Location"] == f"/api/v1/items/{created.json()['id']}"
    assert read.status_code == 200
    assert read.json() == created.json()
    assert read.json()["owner_id"] == registered.json()["id"]


async def test_the_token_from_login_works_for_users_me(client: httpx.AsyncClient) -> None:
    email = unique_email()
    auth = await bearer_for(client, email)

    response = await client.get("/api/v1/users/me", headers=auth)

    assert response.status_code == 200
    assert response.json()["email"] == email


async def test_the_services_own_401_passes_through(client: httpx.AsyncClient) -> None:
    response = await client.post("/api/v1/items/", json={"name": "Lamp", "price": 1})

    assert response.status_code == 401
    assert response.json() == {"detail": "Not authenticated"}
    assert response.headers["WWW-Authenticate"] == "Bearer"


async def test_a_services_validation_error_passes_through(client: httpx.AsyncClient) -> None:
    response = await client.get("/api/v1/items/not-a-number")

    assert response.status_code == 422
    assert response.json()["detail"][0]["loc"] == ["path", "item_id"]


async def test_a_request_id_is_in_the_gateways_and_the_services_log_lines(
    client: httpx.AsyncClient, access_log: AccessLog
) -> None:
    auth = await bearer_for(client, unique_email())
    request_id = f"journey-{uuid.uuid4().hex}"

    response = await client.post(
        "/api/v1/items/",
        json={"name": "Traced", "price": 5},
        headers={**auth, "X-Request-ID": request_id},
    )

    assert response.status_code == 201
    assert response.headers["X-Request-ID"] == request_id
    routes = access_log.routes_logged_for(request_id, expected=2)
    assert "/api/v1/items" in routes  # the gateway's line (its routing prefix)
    assert "/api/v1/items/" in routes  # the items service's line (its route template)


async def test_the_users_service_logs_the_gateways_request_id(
    client: httpx.AsyncClient, access_log: AccessLog
) -> None:
    request_id = f"journey-{uuid.uuid4().hex}"

    await client.post(
        "/api/v1/auth/register",
        json={"email": unique_email(), "password": PASSWORD},
        headers={"X-Request-ID": request_id},
    )

    routes = access_log.routes_logged_for(request_id, expected=2)
    assert "/api/v1/auth" in routes
    assert "/api/v1/auth/register" in routes


async def test_readyz_reports_both_real_services_ready(client: httpx.AsyncClient) -> None:
    response = await client.get("/readyz")

    assert response.status_code == 200
    assert response.json() == {"status": "ok", "checks": {"users": "ok", "items": "ok"}}


async def test_the_merged_document_has_both_services_paths(client: httpx.AsyncClient) -> None:
    document = (await client.get("/openapi.json")).json()

    assert "/api/v1/auth/register" in document["paths"]
    assert "/api/v1/users/me" in document["paths"]
    assert "/api/v1/items/{item_id}" in document["paths"]
    assert "HTTPValidationError" in document["components"]["schemas"]


def error_model(document: dict[str, Any], path: str, method: str, status: str) -> str:
    """The schema name of one documented error answer, as the merged document gives it."""
    content = document["paths"][path][method]["responses"][status]["content"]
    ref: str = content["application/json"]["schema"]["$ref"]
    return ref.rsplit("/", 1)[-1]


async def test_the_merged_document_has_the_session_endpoints_with_their_errors(
    client: httpx.AsyncClient,
) -> None:
    document = (await client.get("/openapi.json")).json()

    refresh_error = error_model(document, "/api/v1/auth/refresh", "post", "401")
    me_errors = document["paths"]["/api/v1/users/me"]["patch"]["responses"]
    assert set(document["paths"]["/api/v1/auth/logout"]["post"]["responses"]) >= {"204", "422"}
    assert set(me_errors) >= {"200", "401", "403", "422", "429"}
    assert refresh_error == error_model(document, "/api/v1/users/me", "patch", "403")
    assert document["components"]["schemas"][refresh_error]["required"] == ["detail"]


async def test_a_refresh_token_from_login_is_exchanged_through_the_gateway(
    client: httpx.AsyncClient,
) -> None:
    email = unique_email()
    await bearer_for(client, email)
    login = await client.post("/api/v1/auth/token", data={"username": email, "password": PASSWORD})

    refreshed = await client.post(
        "/api/v1/auth/refresh", json={"refresh_token": login.json()["refresh_token"]}
    )

    assert refreshed.status_code == 200
    me = await client.get(
        "/api/v1/users/me", headers={"Authorization": f"Bearer {refreshed.json()['access_token']}"}
    )
    assert me.json()["email"] == email


async def test_the_merged_document_logs_in_through_the_gateway(
    client: httpx.AsyncClient,
) -> None:
    document = (await client.get("/openapi.json")).json()

    schemes = document["components"]["securitySchemes"]
    assert schemes == {
        "OAuth2PasswordBearer": {
            "type": "oauth2",
            "description": "Log in with your email (as the username) and password.",
            "flows": {"password": {"scopes": {}, "tokenUrl": "/api/v1/auth/token"}},
        }
    }
    assert document["paths"]["/api/v1/users/me"]["get"]["security"] == [
        {"OAuth2PasswordBearer": []}
    ]


async def test_the_docs_pages_load_their_assets_from_the_gateway(
    client: httpx.AsyncClient,
) -> None:
    for page in ("/docs", "/redoc"):
        html = (await client.get(page)).text
        assets = re.findall(r'(?:src|href)="([^"]+)"', html)

        assert assets
        assert all(asset.startswith("/static-offline-docs/") for asset in assets), assets
        for asset in assets:
            assert (await client.get(asset)).status_code == 200
