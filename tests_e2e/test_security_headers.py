"""Security headers on every kind of response through the gateway; CORS closed to strangers."""

import httpx
import pytest

SECURITY_HEADERS = {
    "x-content-type-options": "nosniff",
    "x-frame-options": "DENY",
    "referrer-policy": "no-referrer",
    "cache-control": "no-store",
}
STRANGER = "https://evil.example.com"


@pytest.mark.parametrize(
    ("method", "path", "status"),
    [
        ("GET", "/api/v1/auth/jwks", 200),  # proxied to users
        ("GET", "/api/v1/items/", 200),  # proxied to items
        ("GET", "/api/v1/items/999999999999", 404),  # an upstream's error
        ("GET", "/api/v1/users/me", 401),  # an upstream's authentication error
        ("GET", "/api/v1/items/?limit=0", 422),  # an upstream's validation error
        ("GET", "/healthz", 200),  # the gateway's own
        ("GET", "/openapi.json", 200),
        ("GET", "/docs", 200),
        ("GET", "/api/v2/nothing-here", 404),  # the gateway's own error
    ],
)
def test_every_response_carries_the_security_headers_once(
    api: httpx.Client, method: str, path: str, status: int
) -> None:
    response = api.request(method, path)

    assert response.status_code == status
    for name, value in SECURITY_HEADERS.items():
        assert response.headers.get_list(name) == [value], name


def test_a_refused_oversized_body_carries_them_too(api: httpx.Client) -> None:
    response = api.post(
        "/api/v1/items/",
        content=b"x" * (1024 * 1024 + 1),
        headers={"Content-Type": "application/json"},
    )

    assert response.status_code == 413
    for name, value in SECURITY_HEADERS.items():
        assert response.headers.get_list(name) == [value], name


def test_cors_is_closed_to_an_unknown_origin(api: httpx.Client) -> None:
    preflight = api.options(
        "/api/v1/items/",
        headers={"Origin": STRANGER, "Access-Control-Request-Method": "POST"},
    )
    simple = api.get("/api/v1/items/", headers={"Origin": STRANGER})

    assert "access-control-allow-origin" not in preflight.headers
    assert "access-control-allow-origin" not in simple.headers
    assert "access-control-allow-credentials" not in simple.headers
