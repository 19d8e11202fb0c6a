"""Bodies over the limit are refused with 413 and never reach the upstream."""

from collections.abc import AsyncIterator

import httpx

from ..conftest import GatewayFactory
from ..fakes import FakeUpstream

LIMIT = 1024 * 1024
TOO_LARGE = {"detail": "Request body too large"}


async def chunks_of(total: int, size: int = 64 * 1024) -> AsyncIterator[bytes]:
    sent = 0
    while sent < total:
        chunk = b"x" * min(size, total - sent)
        sent += len(chunk)
        yield chunk


async def test_a_declared_length_over_the_limit_is_413_and_not_forwarded(
    client: httpx.AsyncClient, items: FakeUpstream
) -> None:
    response = await client.post("/api/v1/items/", content=b"x" * (LIMIT + 1))

    assert response.status_code == 413
    assert response.json() == TOO_LARGE
    assert items.arrived == []


async def test_a_body_of_exactly_the_limit_is_forwarded(
    client: httpx.AsyncClient, items: FakeUpstream
) -> None:
    response = await client.post("/api/v1/items/", content=b"x" * LIMIT)

    assert response.status_code == 200
    assert len(items.last.body) == LIMIT


async def test_a_chunked_body_over_the_limit_is_413_and_no_upstream_request_completes(
    client: httpx.AsyncClient, items: FakeUpstream
) -> None:
    response = await client.post("/api/v1/items/", content=chunks_of(LIMIT + 1))

    assert response.status_code == 413
    assert response.json() == TOO_LARGE
    # The upstream request was cut before its body ended: no handler ever ran.
    assert items.completed == []


async def test_a_chunked_body_of_exactly_the_limit_is_forwarded(
    client: httpx.AsyncClient, items: FakeUpstream
) -> None:
    response = await client.post("/api/v1/items/", content=chunks_of(LIMIT))

    assert response.status_code == 200
    assert len(items.last.body) == LIMIT


async def test_the_limit_comes_from_the_settings(
    start_gateway: GatewayFactory, items: FakeUpstream
) -> None:
    with start_gateway(max_body_bytes=10) as url:
        async with httpx.AsyncClient(base_url=url) as client:
            small = await client.post("/api/v1/items/", content=b"0123456789")
            large = await client.post("/api/v1/items/", content=b"0123456789A")

    assert small.status_code == 200
    assert large.status_code == 413
    assert len(items.completed) == 1
