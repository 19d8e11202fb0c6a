"""Conventions the gateway keeps for every route."""

import httpx


def test_a_given_request_id_comes_back(api: httpx.Client) -> None:
    response = api.get("/api/v1/items/", headers={"X-Request-ID": "e2e-trace.42"})

    assert response.headers["X-Request-ID"] == "e2e-trace.42"


def test_a_malformed_request_id_is_replaced(api: httpx.Client) -> None:
    response = api.get("/api/v1/items/", headers={"X-Request-ID": "not valid!"})

    assert response.headers["X-Request-ID"] not in ("", "not valid!")


def test_a_request_without_id_gets_one(api: httpx.Client) -> None:
    assert api.get("/api/v1/auth/jwks").headers["X-Request-ID"]


def test_an_unknown_path_is_404(api: httpx.Client) -> None:
    response = api.get("/api/v2/nothing-here")

    assert response.status_code == 404
    assert response.json() == {"detail": "Not Found"}


def test_the_gateway_is_ready_when_its_upstreams_are(api: httpx.Client) -> None:
    response = api.get("/readyz")

    assert response.status_code == 200
    assert response.json()["status"] == "ok"


def test_the_merged_openapi_covers_both_services(api: httpx.Client) -> None:
    paths = api.get("/openapi.json").json()["paths"]

    assert "/api/v1/auth/token" in paths
    assert "/api/v1/items/" in paths


def test_collections_answer_with_and_without_slash_without_redirect(api: httpx.Client) -> None:
    with_slash = api.get("/api/v1/items/")
    without = api.get("/api/v1/items")

    assert with_slash.status_code == without.status_code == 200
