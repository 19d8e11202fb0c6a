"""The gateway served on loopback in front of two fake upstreams, over real HTTP."""

from collections.abc import AsyncIterator, Callable, Iterator
from contextlib import AbstractContextManager, contextmanager
from typing import Any

import httpx
import pytest

from flotilla.settings import Environment
from flotilla.testing.servers import free_port, serve_in_thread
from flotilla.testing.settings import settings_for_test
from gateway.main import create_app
from gateway.settings import GatewaySettings

from .fakes import FakeUpstream

#: Short enough that the timeout tests stay quick.
READ_TIMEOUT_SECONDS = 2.0

GatewayFactory = Callable[..., AbstractContextManager[str]]


@pytest.fixture(scope="session")
def users_upstream() -> Iterator[tuple[FakeUpstream, str]]:
    upstream = FakeUpstream("users", "/api/v1/users")
    with serve_in_thread(upstream.asgi_app()) as url:
        yield upstream, url


@pytest.fixture(scope="session")
def items_upstream() -> Iterator[tuple[FakeUpstream, str]]:
    upstream = FakeUpstream("items", "/api/v1/items")
    with serve_in_thread(upstream.asgi_app()) as url:
        yield upstream, url


@pytest.fixture
def users(users_upstream: tuple[FakeUpstream, str]) -> Iterator[FakeUpstream]:
    """The users fake, its records cleared, and made ready again after the test."""
    users_upstream[0].reset()
    yield users_upstream[0]
    users_upstream[0].reset()


@pytest.fixture
def items(items_upstream: tuple[FakeUpstream, str]) -> Iterator[FakeUpstream]:
    """The items fake, its records cleared, and made ready again after the test."""
    items_upstream[0].reset()
    yield items_upstream[0]
    items_upstream[0].reset()


#: The public API's routes (the contract): auth and users to users, items to items.
CONTRACT_ROUTES = {"users": ["/api/v1/auth", "/api/v1/users"], "items": ["/api/v1/items"]}


def contract_upstreams(users_url: str, items_url: str) -> dict[str, dict[str, Any]]:
    """The ``upstreams`` setting of a gateway in front of users and items at these URLs."""
    urls = {"users": users_url, "items": items_url}
    return {name: {"url": urls[name], "routes": routes} for name, routes in CONTRACT_ROUTES.items()}


def gateway_settings(**overrides: Any) -> GatewaySettings:
    values: dict[str, Any] = {
        "environment": Environment.TEST,
        "read_timeout_seconds": READ_TIMEOUT_SECONDS,
        "probe_timeout_seconds": READ_TIMEOUT_SECONDS,
        # No background readiness probes landing in the fakes' records mid-test; the
        # gateway's /readyz still probes on demand (test_balancing tests the refresh).
        "upstream_refresh_seconds": 3600,
        **overrides,
    }
    return settings_for_test(GatewaySettings, **values)


@pytest.fixture(scope="session")
def start_gateway(
    users_upstream: tuple[FakeUpstream, str], items_upstream: tuple[FakeUpstream, str]
) -> GatewayFactory:
    """Serve a gateway in front of the fakes; keyword arguments override its settings."""

    @contextmanager
    def start(
        *, users_url: str = users_upstream[1], items_url: str = items_upstream[1], **overrides: Any
    ) -> Iterator[str]:
        settings = gateway_settings(upstreams=contract_upstreams(users_url, items_url), **overrides)
        with serve_in_thread(create_app(settings)) as url:
            yield url

    return start


@pytest.fixture(scope="session")
def gateway_url(start_gateway: GatewayFactory) -> Iterator[str]:
    with start_gateway() as url:
        yield url


@pytest.fixture
async def client(
    gateway_url: str, users: FakeUpstream, items: FakeUpstream
) -> AsyncIterator[httpx.AsyncClient]:
    """A client of the shared gateway, the fakes' records cleared."""
    async with httpx.AsyncClient(base_url=gateway_url, timeout=10) as http_client:
        yield http_client


@pytest.fixture
def nothing_listening_url() -> str:
    """A loopback URL that refuses connections."""
    return f"http://127.0.0.1:{free_port()}"
