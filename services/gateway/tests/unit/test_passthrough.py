"""Method, path, query and body go up unchanged; status, headers and body come back unchanged."""

import gzip
import hashlib
import os
from collections.abc import AsyncIterator

import httpx
import pytest

from ..fakes import STREAM_CHUNKS, FakeUpstream


@pytest.mark.parametrize("method", ["GET", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"])
async def test_the_method_is_passed(
    client: httpx.AsyncClient, items: FakeUpstream, method: str
) -> None:
    response = await client.request(method, "/api/v1/items/3")

    assert response.status_code == 200
    assert items.last.method == method


async def test_head_answers_the_upstreams_headers_without_a_body(
    client: httpx.AsyncClient, items: FakeUpstream
) -> None:
    response = await client.head("/api/v1/items/3")

    assert response.status_code == 200
    assert response.content == b""
    assert items.last.method == "HEAD"


async def test_the_raw_query_string_is_passed_byte_for_byte(
    client: httpx.AsyncClient, items: FakeUpstream
) -> None:
    query = "q=a%20b+c&q=second&empty=&flag&pct=%2F%3F"

    await client.get(f"/api/v1/items/?{query}")

    assert items.last.query_string == query


async def test_the_raw_path_keeps_its_percent_encoding(
    client: httpx.AsyncClient, items: FakeUpstream
) -> None:
    await client.get("/api/v1/items/a%2Fb/%C3%A9")

    assert items.last.raw_path == "/api/v1/items/a%2Fb/%C3%A9"


async def test_a_binary_body_and_its_content_type_arrive_intact(
    client: httpx.AsyncClient, items: FakeUpstream
) -> None:
    payload = os.urandom(100_000)

    response = await client.post(
        "/api/v1/items/", content=payload, headers={"Content-Type": "application/octet-stream"}
    )

    assert response.json()["body_sha256"] == hashlib.sha256(payload).hexdigest()
    assert items.last.body == payload
    assert items.last.header("content-type") == "application/octet-stream"
    assert items.last.header("content-length") == str(len(payload))


async def test_a_chunked_upload_within_the_limit_arrives_intact(
    client: httpx.AsyncClient, items: FakeUpstream
) -> None:
    parts = [os.urandom(10_000) for _ in range(5)]

    async def chunks() -> AsyncIterator[bytes]:
        for part in parts:
            yield part

    response = await client.post("/api/v1/items/", content=chunks())

    assert response.status_code == 200
    assert items.last.body == b"".join(parts)


async def test_a_form_body_passes_unchanged(client: httpx.AsyncClient, users: FakeUpstream) -> None:
    await client.post("/api/v1/auth/token", data={"username": "a@x.io", "password": "pw 1&2"})

    assert users.last.body == b"username=a%40x.io&password=pw+1%262"
    assert users.last.header("content-type") == "application/x-www-form-urlencoded"


async def test_created_keeps_its_status_and_location(client: httpx.AsyncClient) -> None:
    response = await client.post("/api/v1/items/special/created", json={"name": "x"})

    assert response.status_code == 201
    assert response.headers["Location"] == "/api/v1/items/7"
    assert response.json() == {"id": 7}


async def test_no_content_stays_empty(client: httpx.AsyncClient) -> None:
    response = await client.delete("/api/v1/items/special/empty")

    assert response.status_code == 204
    assert response.content == b""


async def test_retry_after_passes_back(client: httpx.AsyncClient) -> None:
    response = await client.post("/api/v1/users/special/throttled")

    assert response.status_code == 429
    assert response.headers["Retry-After"] == "30"
    assert response.json() == {"detail": "Too many"}


async def test_every_set_cookie_passes_back(client: httpx.AsyncClient) -> None:
    response = await client.get("/api/v1/users/special/cookies")

    assert sorted(c.split(";")[0] for c in response.headers.get_list("set-cookie")) == [
        "a=1",
        "b=2",
    ]


async def test_the_gateway_keeps_no_cookies_between_clients(
    client: httpx.AsyncClient, users: FakeUpstream
) -> None:
    await client.get("/api/v1/users/special/cookies")
    client.cookies.clear()

    await client.get("/api/v1/users/me")

    assert users.last.header("cookie") is None


async def test_an_encoded_body_is_passed_still_encoded(client: httpx.AsyncClient) -> None:
    async with client.stream(
        "GET", "/api/v1/items/special/gzipped", headers={"Accept-Encoding": "gzip"}
    ) as response:
        raw = b"".join([chunk async for chunk in response.aiter_raw()])

    assert response.headers["Content-Encoding"] == "gzip"
    assert gzip.decompress(raw) == b"compressed body"


async def test_a_streamed_response_arrives_whole(client: httpx.AsyncClient) -> None:
    async with client.stream("GET", "/api/v1/items/special/stream") as response:
        received = [chunk async for chunk in response.aiter_raw()]

    assert response.status_code == 200
    assert b"".join(received) == b"".join(STREAM_CHUNKS)
    assert "content-length" not in response.headers
