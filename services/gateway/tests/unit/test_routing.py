"""Which upstream serves a path: prefixes match whole path segments; the rest is 404."""

import httpx
import pytest

from gateway.routing import RouteTable

from ..fakes import FakeUpstream

UPSTREAMS = {"users": "http://users", "items": "http://items"}
ROUTES = {"/api/v1/auth": "users", "/api/v1/users": "users", "/api/v1/items": "items"}


@pytest.fixture
def table() -> RouteTable:
    return RouteTable(ROUTES, UPSTREAMS)


@pytest.mark.parametrize(
    ("path", "upstream"),
    [
        ("/api/v1/auth/token", "users"),
        ("/api/v1/auth/jwks", "users"),
        ("/api/v1/users", "users"),
        ("/api/v1/users/", "users"),
        ("/api/v1/users/me", "users"),
        ("/api/v1/items", "items"),
        ("/api/v1/items/", "items"),
        ("/api/v1/items/42", "items"),
    ],
)
def test_a_path_under_a_prefix_goes_to_its_upstream(
    table: RouteTable, path: str, upstream: str
) -> None:
    route = table.match(path)

    assert route is not None
    assert route.upstream.name == upstream


@pytest.mark.parametrize(
    "path", ["/api/v1/usersX", "/api/v1/itemsfoo/1", "/api/v1", "/api/v1/", "/", "/api/v2/items"]
)
def test_a_path_only_sharing_characters_with_a_prefix_matches_nothing(
    table: RouteTable, path: str
) -> None:
    assert table.match(path) is None


def test_the_longest_prefix_wins() -> None:
    table = RouteTable({"/api": "users", "/api/v1/items": "items"}, UPSTREAMS)

    route = table.match("/api/v1/items/1")

    assert route is not None
    assert route.upstream.name == "items"


async def test_users_paths_reach_the_users_upstream(
    client: httpx.AsyncClient, users: FakeUpstream, items: FakeUpstream
) -> None:
    response = await client.get("/api/v1/users/me")

    assert response.json()["upstream"] == "users"
    assert items.arrived == []


async def test_auth_paths_reach_the_users_upstream(client: httpx.AsyncClient) -> None:
    response = await client.post("/api/v1/auth/token", data={"username": "a@x.io"})

    assert response.json()["upstream"] == "users"


async def test_items_paths_reach_the_items_upstream(client: httpx.AsyncClient) -> None:
    response = await client.get("/api/v1/items")

    assert response.json()["upstream"] == "items"


@pytest.mark.parametrize("path", ["/api/v1/usersX", "/api/v1/nothing", "/nothing", "/api"])
async def test_an_unrouted_path_is_404_and_reaches_no_upstream(
    client: httpx.AsyncClient, users: FakeUpstream, items: FakeUpstream, path: str
) -> None:
    response = await client.get(path)

    assert response.status_code == 404
    assert response.json() == {"detail": "Not Found"}
    assert users.arrived == items.arrived == []


async def test_the_operations_endpoints_are_the_gateways_own(
    client: httpx.AsyncClient, users: FakeUpstream, items: FakeUpstream
) -> None:
    response = await client.get("/healthz")

    assert response.json() == {"status": "ok"}
    assert users.arrived == items.arrived == []
