"""The gateway's own health, readiness (the upstreams' readiness) and metrics."""

import httpx

from ..conftest import GatewayFactory
from ..fakes import FakeUpstream


async def test_healthz_answers_ok(client: httpx.AsyncClient) -> None:
    response = await client.get("/healthz")

    assert response.status_code == 200
    assert response.json() == {"status": "ok"}


async def test_readyz_is_ok_when_every_upstream_is_ready(client: httpx.AsyncClient) -> None:
    response = await client.get("/readyz")

    assert response.status_code == 200
    assert response.json() == {"status": "ok", "checks": {"users": "ok", "items": "ok"}}


async def test_readyz_names_an_upstream_that_is_not_ready(
    client: httpx.AsyncClient, items: FakeUpstream
) -> None:
    items.ready = False

    response = await client.get("/readyz")

    assert response.status_code == 503
    assert response.json() == {
        "status": "unavailable",
        "checks": {"users": "ok", "items": "unavailable"},
    }


async def test_readyz_names_an_upstream_that_refuses_connections(
    start_gateway: GatewayFactory, nothing_listening_url: str
) -> None:
    with start_gateway(users_url=nothing_listening_url) as url:
        async with httpx.AsyncClient(base_url=url) as client:
            response = await client.get("/readyz")

    assert response.status_code == 503
    assert response.json()["checks"] == {"users": "unavailable", "items": "ok"}


async def test_proxied_requests_are_counted_by_route_prefix(
    start_gateway: GatewayFactory,
) -> None:
    with start_gateway() as url:
        async with httpx.AsyncClient(base_url=url) as client:
            await client.get("/api/v1/items/1")
            await client.get("/api/v1/items/2")
            await client.post("/api/v1/items/special/created")
            body = (await client.get("/metrics")).text

    assert 'http_requests_total{method="GET",route="/api/v1/items",status="200"} 2.0' in body
    assert 'http_requests_total{method="POST",route="/api/v1/items",status="201"} 1.0' in body


async def test_proxied_responses_carry_the_security_headers(client: httpx.AsyncClient) -> None:
    response = await client.get("/api/v1/items/1")

    assert response.headers["X-Content-Type-Options"] == "nosniff"
