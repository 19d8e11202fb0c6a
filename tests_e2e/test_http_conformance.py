"""HTTP the gateway must refuse or answer a certain way, sent byte for byte over raw sockets.

A client library would add the ``Host``, drop a second one, refuse a 32 MiB
header or a broken request line; these tests send exactly what they say.
"""

import httpx
import pytest

from flotilla.testing.rawhttp import (
    RawResponse,
    exchange,
    header_total,
    request_bytes,
    stream_header,
)
from tests_e2e.stack import Stack

from .conftest import sign_up, unique_email

EDGE_MAX_HEADER_BYTES = 16 * 1024
EDGE_MAX_HEADER_FIELDS = 100
TOO_LARGE = b'{"detail": "Request header fields too large"}'
SECURITY_HEADERS = {"x-content-type-options": "nosniff", "x-frame-options": "DENY"}


@pytest.fixture
def url(stack: Stack) -> str:
    return stack.gateway_url


def host_of(url: str) -> tuple[str, str]:
    return ("Host", url.removeprefix("http://").rstrip("/"))


def carries_the_shared_headers(response: RawResponse) -> bool:
    return bool(response.header("x-request-id")) and all(
        response.header(name) == value for name, value in SECURITY_HEADERS.items()
    )


def padded(url: str, total: int, fields: int = 2) -> list[tuple[str, str]]:
    """Host, ``fields - 2`` one-byte fields and a filler, of ``total`` header bytes together."""
    headers = [host_of(url), *((f"X-{n:03d}", "1") for n in range(fields - 2))]
    return [*headers, ("X-Pad", "p" * (total - header_total(headers) - len("X-Pad")))]


def test_headers_at_the_limits_pass_the_gateway_and_its_upstream(url: str) -> None:
    headers = padded(url, EDGE_MAX_HEADER_BYTES, fields=EDGE_MAX_HEADER_FIELDS)
    assert (header_total(headers), len(headers)) == (EDGE_MAX_HEADER_BYTES, 100)

    response = exchange(url, request_bytes("GET", "/api/v1/auth/jwks", headers))

    assert response.status == 200  # users accepts what the gateway adds on top


@pytest.mark.parametrize(
    "shape",
    ["one-byte-over", "one-field-over", "100-kib", "10000-fields"],
)
def test_headers_past_the_limits_are_431(url: str, shape: str) -> None:
    headers = {
        "one-byte-over": padded(url, EDGE_MAX_HEADER_BYTES + 1),
        "one-field-over": padded(url, 1000, fields=EDGE_MAX_HEADER_FIELDS + 1),
        "100-kib": padded(url, 100 * 1024),
        "10000-fields": padded(url, 200_000, fields=10_000),
    }[shape]

    response = exchange(url, request_bytes("GET", "/api/v1/auth/jwks", headers))

    assert response.status == 431
    assert response.body == TOO_LARGE
    assert carries_the_shared_headers(response)


def test_a_32_mib_header_is_431(url: str) -> None:
    response = stream_header(url, 32 * 1024 * 1024, path="/api/v1/auth/jwks")

    assert response.status == 431
    assert response.body == TOO_LARGE
    assert carries_the_shared_headers(response)


@pytest.mark.parametrize(
    "hosts",
    [
        [],
        ["gateway.test", "gateway.test"],
        ["gateway.test", "other.test"],
        ["gateway test"],
        ["gateway.test:99999"],
        ["gateway.test/path"],
        ["user@gateway.test"],
    ],
    ids=["missing", "twice", "two", "space", "port-range", "path", "userinfo"],
)
def test_an_http_1_1_request_without_exactly_one_valid_host_is_400(
    url: str, hosts: list[str]
) -> None:
    headers = [("Host", host) for host in hosts]

    response = exchange(url, request_bytes("GET", "/api/v1/items/", headers))

    assert response.status == 400
    assert response.body == b'{"detail": "Request must carry exactly one valid Host header"}'
    assert carries_the_shared_headers(response)


def test_an_http_1_0_request_may_omit_host(url: str) -> None:
    response = exchange(url, request_bytes("GET", "/api/v1/auth/jwks", [], version="HTTP/1.0"))

    assert response.status == 200


@pytest.mark.parametrize(
    "raw",
    [
        b"GET /api/v1/items/ HTTP/1.1\r\nHost: a\r\nNo colon\r\n\r\n",
        b"GET /api/v1/items/ HTTP/9.9\r\nHost: a\r\n\r\n",
        b"GET\r\n\r\n",
        b"\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03\r\n\r\n",
    ],
    ids=["header-without-colon", "unknown-version", "no-target", "tls-hello"],
)
def test_a_request_the_parser_cannot_read_is_400_with_the_shared_headers(
    url: str, raw: bytes
) -> None:
    response = exchange(url, raw)

    assert response.status == 400
    assert response.body == b'{"detail": "Invalid HTTP request"}'
    assert carries_the_shared_headers(response)


def test_a_websocket_upgrade_gets_an_ordinary_answer(url: str) -> None:
    headers = [
        host_of(url),
        ("Connection", "Upgrade"),
        ("Upgrade", "websocket"),
        ("Sec-WebSocket-Version", "13"),
        ("Sec-WebSocket-Key", "dGhlIHNhbXBsZSBub25jZQ=="),
    ]

    response = exchange(url, request_bytes("GET", "/api/v1/items/", headers))

    assert response.status == 200
    assert response.header("upgrade") is None
    assert carries_the_shared_headers(response)


def test_a_transfer_coding_other_than_chunked_is_501(api: httpx.Client, url: str) -> None:
    _, auth = sign_up(api)
    headers = [
        host_of(url),
        *auth.items(),
        ("Content-Type", "application/json"),
        ("Transfer-Encoding", "gzip, chunked"),
    ]
    body = b'{"name": "coded", "price": 1}'
    chunked = b"%x\r\n%s\r\n0\r\n\r\n" % (len(body), body)

    response = exchange(url, request_bytes("POST", "/api/v1/items/", headers, chunked))

    assert response.status == 501
    assert carries_the_shared_headers(response)
    assert api.get("/api/v1/items/", params={"q": "coded"}).json()["total"] == 0


def test_head_answers_where_get_does_without_a_body(url: str) -> None:
    headers = [host_of(url), ("Connection", "close")]

    response = exchange(url, request_bytes("HEAD", "/api/v1/items/", headers))

    assert response.status == 200
    assert response.body == b""
    assert carries_the_shared_headers(response)


@pytest.mark.parametrize(
    ("method", "path", "allow"),
    [
        ("OPTIONS", "/api/v1/items/", "GET, HEAD, POST"),
        ("DELETE", "/api/v1/items", "GET, HEAD, POST"),
        ("OPTIONS", "/api/v1/items/1", "DELETE, GET, HEAD, PATCH, PUT"),
        ("OPTIONS", "/api/v1/users/", "GET, HEAD"),
        ("GET", "/api/v1/auth/token", "POST"),
        ("PUT", "/healthz", "GET, HEAD"),
    ],
)
def test_405_lists_every_method_the_path_serves(
    api: httpx.Client, method: str, path: str, allow: str
) -> None:
    response = api.request(method, path)

    assert response.status_code == 405
    assert response.headers["allow"] == allow
    assert response.headers["x-request-id"]


@pytest.mark.parametrize("path", ["/healthz", "/api/v1/auth/jwks", "/api/v1/items/"])
def test_no_server_header_is_sent(api: httpx.Client, path: str) -> None:
    assert "server" not in api.get(path).headers


def test_a_case_variant_of_a_non_ascii_email_is_the_same_account(api: httpx.Client) -> None:
    local = unique_email("ΣΊΣΥΦΟΣ-STRASSE")
    registered = api.post("/api/v1/auth/register", json={"email": local, "password": "pw-12345678"})
    variant = local.replace("ΣΊΣΥΦΟΣ-STRASSE", "σίσυφος-straße")

    again = api.post("/api/v1/auth/register", json={"email": variant, "password": "pw-12345678"})
    login = api.post("/api/v1/auth/token", data={"username": variant, "password": "pw-12345678"})

    assert registered.status_code == 201
    assert again.status_code == 409
    assert login.status_code == 200
