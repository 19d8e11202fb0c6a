"""Hop-by-hop headers stop at the gateway; X-Forwarded-* and the request id are set."""

import httpx
import pytest

from gateway.headers import downstream_response_headers, upstream_request_head

from ..fakes import FakeUpstream

REQUEST_HOP_BY_HOP = {
    "connection": "keep-alive, X-Client-Hop",
    "x-client-hop": "secret",
    "keep-alive": "timeout=5",
    "proxy-authorization": "Basic dTpw",
    "proxy-connection": "keep-alive",
    "te": "trailers",
    "trailer": "X-Checksum",
    "upgrade": "h2c",
}


def scope_with(headers: dict[str, str]) -> dict[str, object]:
    return {
        "type": "http",
        "scheme": "http",
        "client": ("203.0.113.9", 50000),
        "headers": [(k.encode(), v.encode()) for k, v in headers.items()],
    }


def test_every_hop_by_hop_request_header_is_dropped() -> None:
    head = upstream_request_head(scope_with({**REQUEST_HOP_BY_HOP, "accept": "*/*"}), "rid")

    names = {name for name, _ in head.headers}

    assert names.isdisjoint(REQUEST_HOP_BY_HOP)
    assert "accept" in names


def test_the_clients_forwarding_headers_are_replaced_by_the_gateways_view() -> None:
    claimed = {
        "host": "api.example.com",
        "x-forwarded-for": "198.51.100.4",
        "x-forwarded-proto": "https",
        "x-forwarded-host": "evil.example",
        "forwarded": "for=198.51.100.4;proto=https",
    }

    head = upstream_request_head(scope_with(claimed), "rid")

    forwarding = [(n, v) for n, v in head.headers if "forwarded" in n]
    assert sorted(forwarding) == [
        ("x-forwarded-for", "203.0.113.9"),
        ("x-forwarded-host", "api.example.com"),
        ("x-forwarded-proto", "http"),
    ]


def test_a_chunked_request_is_recognised_and_its_transfer_encoding_dropped() -> None:
    head = upstream_request_head(scope_with({"transfer-encoding": "chunked"}), "rid")

    assert head.chunked
    assert head.content_length is None
    assert all(name != "transfer-encoding" for name, _ in head.headers)


def test_the_declared_length_is_kept() -> None:
    head = upstream_request_head(scope_with({"content-length": "12"}), "rid")

    assert head.content_length == 12
    assert ("content-length", "12") in head.headers


def test_every_hop_by_hop_response_header_is_dropped() -> None:
    raw = [
        (b"Connection", b"X-Upstream-Hop"),
        (b"X-Upstream-Hop", b"secret"),
        (b"Keep-Alive", b"timeout=5"),
        (b"Proxy-Authenticate", b"Basic"),
        (b"Transfer-Encoding", b"chunked"),
        (b"Trailer", b"X-Checksum"),
        (b"Upgrade", b"h2c"),
        (b"Content-Type", b"application/json"),
    ]

    assert downstream_response_headers(raw) == [(b"content-type", b"application/json")]


def test_the_upstreams_date_and_server_give_way_to_the_gateways() -> None:
    raw = [(b"date", b"Mon, 01 Jan 2024 00:00:00 GMT"), (b"server", b"uvicorn"), (b"etag", b"x")]

    assert downstream_response_headers(raw) == [(b"etag", b"x")]


async def test_hop_by_hop_request_headers_do_not_reach_the_upstream(
    client: httpx.AsyncClient, items: FakeUpstream
) -> None:
    headers = {
        "Connection": "keep-alive, X-Client-Hop",
        "X-Client-Hop": "secret",
        "Keep-Alive": "timeout=5",
        "Proxy-Authorization": "Basic dTpw",
        "TE": "trailers",
        "X-End-To-End": "kept",
    }

    await client.get("/api/v1/items/1", headers=headers)

    received = {name for name, _ in items.last.headers}
    assert received.isdisjoint({"x-client-hop", "keep-alive", "proxy-authorization", "te"})
    assert items.last.header("connection") in (None, "keep-alive")
    assert items.last.header("x-end-to-end") == "kept"


async def test_hop_by_hop_response_headers_do_not_reach_the_client(
    client: httpx.AsyncClient,
) -> None:
    response = await client.get("/api/v1/items/special/hop-headers")

    for name in ("x-upstream-hop", "keep-alive", "proxy-authenticate", "trailer"):
        assert name not in response.headers
    assert response.headers.get("connection") in (None, "keep-alive")
    assert response.headers["x-end-to-end"] == "kept"


async def test_end_to_end_request_headers_pass_unchanged(
    client: httpx.AsyncClient, items: FakeUpstream
) -> None:
    headers = {
        "Authorization": "Bearer abc.def.ghi",
        "Accept": "application/json",
        "Accept-Encoding": "identity",
        "User-Agent": "flotilla-test",
        "X-Custom": "one",
    }

    await client.get("/api/v1/items/1", headers=headers)

    for name, value in headers.items():
        assert items.last.header(name) == value


async def test_repeated_request_headers_all_pass(
    client: httpx.AsyncClient, items: FakeUpstream
) -> None:
    await client.get("/api/v1/items/1", headers=[("X-Multi", "a"), ("X-Multi", "b")])

    assert [v for k, v in items.last.headers if k == "x-multi"] == ["a", "b"]


async def test_the_upstream_gets_its_own_host_and_the_client_host_as_forwarded_host(
    client: httpx.AsyncClient, items_upstream: tuple[FakeUpstream, str], gateway_url: str
) -> None:
    await client.get("/api/v1/items/1")

    received = items_upstream[0].last
    assert received.header("host") == items_upstream[1].removeprefix("http://")
    assert received.header("x-forwarded-host") == gateway_url.removeprefix("http://")
    assert received.header("x-forwarded-proto") == "http"


async def test_the_client_address_is_forwarded(
    client: httpx.AsyncClient, items: FakeUpstream
) -> None:
    await client.get("/api/v1/items/1")

    assert items.last.header("x-forwarded-for") == "127.0.0.1"


async def test_forwarded_proto_and_host_from_the_client_are_replaced(
    client: httpx.AsyncClient, items: FakeUpstream
) -> None:
    await client.get(
        "/api/v1/items/1", headers={"X-Forwarded-Proto": "gopher", "X-Forwarded-Host": "evil"}
    )

    assert [v for k, v in items.last.headers if k == "x-forwarded-proto"] == ["http"]
    assert items.last.header("x-forwarded-host") != "evil"


async def test_a_valid_request_id_is_passed_upstream_and_echoed(
    client: httpx.AsyncClient, items: FakeUpstream
) -> None:
    response = await client.get("/api/v1/items/1", headers={"X-Request-ID": "trace-42.a_b"})

    assert items.last.header("x-request-id") == "trace-42.a_b"
    assert response.headers["X-Request-ID"] == "trace-42.a_b"


async def test_a_generated_request_id_is_the_one_passed_upstream(
    client: httpx.AsyncClient, items: FakeUpstream
) -> None:
    response = await client.get("/api/v1/items/1")

    generated = response.headers["X-Request-ID"]
    assert len(generated) == 32
    assert items.last.header("x-request-id") == generated


@pytest.mark.parametrize("bad_id", ["has space", "x" * 129, "semi;colon"])
async def test_a_malformed_request_id_is_replaced_before_it_goes_upstream(
    client: httpx.AsyncClient, items: FakeUpstream, bad_id: str
) -> None:
    response = await client.get("/api/v1/items/1", headers={"X-Request-ID": bad_id})

    assert response.headers["X-Request-ID"] != bad_id
    assert items.last.header("x-request-id") == response.headers["X-Request-ID"]
