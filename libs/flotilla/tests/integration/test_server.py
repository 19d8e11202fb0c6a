"""The server every service runs (flotilla.server), spoken to over raw sockets."""

from collections.abc import Iterator

import pytest
from fastapi import APIRouter, FastAPI, Request

from flotilla.app import create_service_app
from flotilla.settings import Environment, ServiceSettings
from flotilla.testing.rawhttp import exchange, request_bytes, stream_header
from flotilla.testing.servers import serve_in_thread
from flotilla.testing.settings import settings_for_test

router = APIRouter()


@router.get("/things")
async def list_things() -> list[str]:
    return ["lamp"]


@router.get("/client")
async def client_address(request: Request) -> dict[str, str]:
    assert request.client is not None
    return {"host": request.client.host, "scheme": request.url.scheme}


def small_service(**settings: object) -> FastAPI:
    return create_service_app(
        name="things",
        version="1",
        settings=settings_for_test(ServiceSettings, environment=Environment.TEST, **settings),
        routers=[router],
    )


@pytest.fixture(scope="module")
def base_url() -> Iterator[str]:
    with serve_in_thread(small_service()) as url:
        yield url


HOST = [("Host", "things.test")]


def test_a_32_mib_header_is_refused_with_431_long_before_it_is_all_sent(base_url: str) -> None:
    response = stream_header(base_url, 32 * 1024 * 1024)

    assert response.status == 431
    assert response.body == b'{"detail": "Request header fields too large"}'
    assert response.header("connection") == "close"
    assert response.header("x-content-type-options") == "nosniff"
    assert len(response.header("x-request-id") or "") == 32


def test_the_parsers_own_400_carries_a_request_id_and_the_security_headers(
    base_url: str,
) -> None:
    response = exchange(base_url, b"GET /things HTTP/1.1\r\nHost: a\r\nNo colon here\r\n\r\n")

    assert response.status == 400
    assert response.body == b'{"detail": "Invalid HTTP request"}'
    assert len(response.header("x-request-id") or "") == 32
    assert response.header("x-frame-options") == "DENY"


def test_a_websocket_upgrade_is_answered_as_plain_http_by_the_app(base_url: str) -> None:
    upgrade = [
        *HOST,
        ("Connection", "Upgrade"),
        ("Upgrade", "websocket"),
        ("Sec-WebSocket-Version", "13"),
        ("Sec-WebSocket-Key", "dGhlIHNhbXBsZSBub25jZQ=="),
        ("X-Request-ID", "ws-1"),
    ]

    response = exchange(base_url, request_bytes("GET", "/things", upgrade))

    assert response.status == 200
    assert response.body == b'["lamp"]'
    assert response.header("x-request-id") == "ws-1"
    assert response.header("upgrade") is None


def test_no_server_header_is_sent(base_url: str) -> None:
    response = exchange(base_url, request_bytes("GET", "/things", HOST))

    assert response.status == 200
    assert response.header("server") is None
    assert response.header("date") is not None


def test_head_gets_the_get_headers_and_no_body(base_url: str) -> None:
    request = request_bytes("HEAD", "/things", [*HOST, ("Connection", "close")])

    response = exchange(base_url, request)

    assert response.status == 200
    assert response.header("content-length") == str(len(b'["lamp"]'))
    assert response.body == b""


def test_a_clients_x_forwarded_headers_are_not_believed(base_url: str) -> None:
    spoofed = [*HOST, ("X-Forwarded-For", "203.0.113.7"), ("X-Forwarded-Proto", "https")]

    response = exchange(base_url, request_bytes("GET", "/client", spoofed))

    assert response.body == b'{"host":"127.0.0.1","scheme":"http"}'


def test_x_forwarded_headers_are_believed_from_an_allowed_proxy() -> None:
    forwarded = [*HOST, ("X-Forwarded-For", "203.0.113.7"), ("X-Forwarded-Proto", "https")]

    with serve_in_thread(small_service(forwarded_allow_ips=["127.0.0.1"])) as url:
        response = exchange(url, request_bytes("GET", "/client", forwarded))

    assert response.body == b'{"host":"203.0.113.7","scheme":"https"}'
