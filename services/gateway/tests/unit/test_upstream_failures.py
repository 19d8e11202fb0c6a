"""A refusing upstream is 502, a hung one 504; neither holds up the other upstream."""

import asyncio

import httpx
import pytest

from flotilla.testing.servers import free_port, serve_in_thread

from ..conftest import GatewayFactory
from ..fakes import HANG_SECONDS, FakeUpstream


async def test_a_refusing_upstream_is_502_bad_gateway(
    start_gateway: GatewayFactory, nothing_listening_url: str
) -> None:
    with start_gateway(items_url=nothing_listening_url) as url:
        async with httpx.AsyncClient(base_url=url) as client:
            response = await client.get("/api/v1/items/1")

    assert response.status_code == 502
    assert response.json() == {"detail": "Bad gateway"}
    assert "X-Request-ID" in response.headers


async def test_a_refusing_upstream_leaves_the_other_upstream_answering(
    start_gateway: GatewayFactory, nothing_listening_url: str
) -> None:
    with start_gateway(items_url=nothing_listening_url) as url:
        async with httpx.AsyncClient(base_url=url) as client:
            await client.get("/api/v1/items/1")
            response = await client.get("/api/v1/users/me")

    assert response.status_code == 200
    assert response.json()["upstream"] == "users"


async def test_a_hung_upstream_is_504_gateway_timeout(client: httpx.AsyncClient) -> None:
    response = await client.get("/api/v1/items/special/hang")

    # The fake would answer 200 after HANG_SECONDS; the read timeout is far shorter.
    assert response.status_code == 504
    assert response.json() == {"detail": "Gateway timeout"}
    assert response.elapsed.total_seconds() < HANG_SECONDS


async def test_the_other_upstream_answers_while_one_hangs(client: httpx.AsyncClient) -> None:
    hung = asyncio.create_task(client.get("/api/v1/items/special/hang"))
    await asyncio.sleep(0.1)  # the hung request is on its way

    answered = await client.get("/api/v1/users/me")
    still_waiting = not hung.done()
    timed_out = await hung

    assert answered.status_code == 200
    assert still_waiting
    assert timed_out.status_code == 504


async def test_the_same_upstream_answers_other_requests_while_one_hangs(
    client: httpx.AsyncClient,
) -> None:
    hung = asyncio.create_task(client.get("/api/v1/items/special/hang"))
    await asyncio.sleep(0.1)

    answered = await client.get("/api/v1/items/1")
    still_waiting = not hung.done()
    await hung

    assert answered.status_code == 200
    assert still_waiting


async def test_the_gateway_recovers_when_a_refusing_upstream_comes_back(
    start_gateway: GatewayFactory,
) -> None:
    port = free_port()
    returning = FakeUpstream("items", "/api/v1/items")
    with start_gateway(items_url=f"http://127.0.0.1:{port}") as url:
        async with httpx.AsyncClient(base_url=url) as client:
            while_down = await client.get("/api/v1/items/1")
            with serve_in_thread(returning.asgi_app(), port=port):
                once_back = await client.get("/api/v1/items/1")

    assert while_down.status_code == 502
    assert once_back.status_code == 200


async def test_a_full_pool_of_one_upstream_leaves_the_others_pool_free(
    start_gateway: GatewayFactory,
) -> None:
    with start_gateway(pool_size_per_upstream=1, pool_timeout_seconds=0.2) as url:
        async with httpx.AsyncClient(base_url=url) as client:
            hung = asyncio.create_task(client.get("/api/v1/items/special/hang"))
            await asyncio.sleep(0.1)  # the only items connection is taken

            users_answer = await client.get("/api/v1/users/me")
            items_answer = await client.get("/api/v1/items/1")
            await hung

    assert users_answer.status_code == 200
    assert items_answer.status_code == 504  # no items connection came free in time


async def test_an_upstream_dying_mid_body_cuts_the_clients_response_too(
    client: httpx.AsyncClient,
) -> None:
    # The status line is long gone; a cut connection is the only honest signal left.
    with pytest.raises(httpx.RemoteProtocolError):
        await client.get("/api/v1/items/special/broken-stream")
