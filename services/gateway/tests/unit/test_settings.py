import pytest
from pydantic import ValidationError

from flotilla.settings import Environment
from gateway.settings import GatewaySettings

ITEMS = {"url": "http://items:8000/", "routes": ["/api/v1/items"]}
#: These tests read the environment: only the variables each one sets.
pytestmark = pytest.mark.usefixtures("clean_environment")

#: These tests read the environment: only the variables each one sets.
pytestmark = pytest.mark.usefixtures("clean_environment")


def test_without_upstreams_the_gateway_routes_nothing() -> None:
    settings = GatewaySettings()

    assert settings.routes == {}
    assert settings.max_body_bytes == 1024 * 1024


def test_each_upstream_is_one_gateway_prefixed_variable(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(
        "GATEWAY_UPSTREAMS__ITEMS", '{"url": "http://items:8000/", "routes": ["/api/v1/items"]}'
    )
    monkeypatch.setenv(
        "GATEWAY_UPSTREAMS__ORDER_LINES",
        '{"url": "http://order-lines:8000", "routes": ["/api/v1/order-lines"]}',
    )
    monkeypatch.setenv("GATEWAY_MAX_BODY_BYTES", "2048")

    settings = GatewaySettings()

    assert settings.upstream_urls == {
        "items": "http://items:8000",
        "order_lines": "http://order-lines:8000",
    }
    assert settings.routes == {"/api/v1/items": "items", "/api/v1/order-lines": "order_lines"}
    assert settings.max_body_bytes == 2048


def test_one_prefix_for_two_upstreams_is_refused() -> None:
    with pytest.raises(ValidationError, match="goes to items and copy"):
        GatewaySettings(upstreams={"items": ITEMS, "copy": ITEMS})


@pytest.mark.parametrize("prefix", ["api/v1/items", "/api/v1/items/", "/"])
def test_a_malformed_route_prefix_is_refused(prefix: str) -> None:
    with pytest.raises(ValidationError, match="must start and not end with '/'"):
        GatewaySettings(upstreams={"items": {"url": "http://items", "routes": [prefix]}})


@pytest.mark.parametrize("prefix", ["/healthz", "/docs"])
def test_a_route_over_the_gateways_own_endpoints_is_refused(prefix: str) -> None:
    with pytest.raises(ValidationError, match="covers the gateway's own endpoints"):
        GatewaySettings(upstreams={"items": {"url": "http://items", "routes": [prefix]}})


def test_production_starts_without_a_database_setting() -> None:
    settings = GatewaySettings(environment=Environment.PRODUCTION)

    assert settings.is_production
