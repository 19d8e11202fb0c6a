import pytest
from pydantic import ValidationError

from flotilla.settings import Environment
from gateway.settings import DEFAULT_ROUTES, GatewaySettings

#: These tests read the environment: only the variables each one sets.
pytestmark = pytest.mark.usefixtures("clean_environment")


def test_defaults_route_auth_and_users_to_users_and_items_to_items() -> None:
    settings = GatewaySettings()

    assert settings.routes == DEFAULT_ROUTES
    assert settings.upstreams == {
        "users": "http://127.0.0.1:8001",
        "items": "http://127.0.0.1:8002",
    }
    assert settings.max_body_bytes == 1024 * 1024


def test_settings_come_from_gateway_prefixed_variables(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("GATEWAY_ITEMS_URL", "http://items:8000/")
    monkeypatch.setenv("GATEWAY_ROUTES", '{"/api/v2/things": "items"}')
    monkeypatch.setenv("GATEWAY_MAX_BODY_BYTES", "2048")

    settings = GatewaySettings()

    assert settings.upstreams["items"] == "http://items:8000"
    assert settings.routes == {"/api/v2/things": "items"}
    assert settings.max_body_bytes == 2048


def test_a_route_to_an_unknown_upstream_is_refused() -> None:
    with pytest.raises(ValidationError, match="unknown upstream 'orders'"):
        GatewaySettings(routes={"/api/v1/orders": "orders"})


@pytest.mark.parametrize("prefix", ["api/v1/items", "/api/v1/items/", "/"])
def test_a_malformed_route_prefix_is_refused(prefix: str) -> None:
    with pytest.raises(ValidationError, match="must start and not end with '/'"):
        GatewaySettings(routes={prefix: "items"})


@pytest.mark.parametrize("prefix", ["/healthz", "/docs"])
def test_a_route_over_the_gateways_own_endpoints_is_refused(prefix: str) -> None:
    with pytest.raises(ValidationError, match="covers the gateway's own endpoints"):
        GatewaySettings(routes={prefix: "items"})


def test_production_starts_without_a_database_setting() -> None:
    settings = GatewaySettings(environment=Environment.PRODUCTION)

    assert settings.is_production
