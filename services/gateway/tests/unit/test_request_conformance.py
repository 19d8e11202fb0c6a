"""Requests refused at the gateway (headers, Host, transfer codings) never reach an upstream."""

import httpx
import pytest

from flotilla.testing.rawhttp import exchange, header_total, request_bytes
from flotilla.testing.settings import settings_for_test
from gateway.settings import GatewaySettings

from ..fakes import FakeUpstream

LIMITS = settings_for_test(GatewaySettings)
HOST = ("Host", "gateway.test")


def padded(total: int) -> list[tuple[str, str]]:
    """Host and one more field, of ``total`` header bytes together."""
    filler = total - header_total([HOST]) - len("X-Pad")
    return [HOST, ("X-Pad", "p" * filler)]


def test_the_gateways_limits_are_the_contracts_defaults() -> None:
    assert (LIMITS.max_header_bytes, LIMITS.max_header_fields) == (16 * 1024, 100)


def test_headers_of_exactly_the_limit_are_forwarded(gateway_url: str, items: FakeUpstream) -> None:
    headers = padded(LIMITS.max_header_bytes)

    response = exchange(gateway_url, request_bytes("GET", "/api/v1/items/1", headers))

    assert response.status == 200
    assert items.last.header("x-pad") == headers[1][1]


@pytest.mark.parametrize(
    "headers",
    [
        padded(LIMITS.max_header_bytes + 1),
        padded(100 * 1024),
        [HOST, *((f"X-F{n}", "1") for n in range(LIMITS.max_header_fields))],
        [HOST, *((f"X-F{n}", "1") for n in range(10_000))],
    ],
    ids=["one-byte-over", "100-kib", "101-fields", "10000-fields"],
)
def test_headers_over_the_limits_are_431_and_not_forwarded(
    gateway_url: str, items: FakeUpstream, headers: list[tuple[str, str]]
) -> None:
    response = exchange(gateway_url, request_bytes("GET", "/api/v1/items/1", headers))

    assert response.status == 431
    assert response.body == b'{"detail": "Request header fields too large"}'
    assert response.header("x-request-id")
    assert items.arrived == []


@pytest.mark.parametrize(
    "hosts",
    [[], [HOST, HOST], [("Host", "a.test"), ("Host", "b.test")], [("Host", "bad host")]],
    ids=["none", "twice-the-same", "two-different", "invalid"],
)
def test_an_http_1_1_request_without_exactly_one_valid_host_is_400_and_not_forwarded(
    gateway_url: str, items: FakeUpstream, hosts: list[tuple[str, str]]
) -> None:
    response = exchange(gateway_url, request_bytes("GET", "/api/v1/items/1", hosts))

    assert response.status == 400
    assert response.body == b'{"detail": "Request must carry exactly one valid Host header"}'
    assert items.arrived == []


def test_a_body_in_a_transfer_coding_other_than_chunked_is_501_and_not_forwarded(
    gateway_url: str, items: FakeUpstream
) -> None:
    headers = [HOST, ("Transfer-Encoding", "gzip, chunked"), ("Content-Type", "application/json")]
    request = request_bytes("POST", "/api/v1/items/", headers, b"5\r\nhello\r\n0\r\n\r\n")

    response = exchange(gateway_url, request)

    assert response.status == 501
    assert response.body == b'{"detail": "Transfer codings other than chunked are not supported"}'
    assert items.arrived == []


async def test_head_is_forwarded_as_head(client: httpx.AsyncClient, items: FakeUpstream) -> None:
    response = await client.head("/api/v1/items/1")

    assert response.status_code == 200
    assert items.arrived == ["/api/v1/items/1"]
    assert response.content == b""
