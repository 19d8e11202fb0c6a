"""A path answers HEAD where it answers GET, and its 405 names every method it serves."""

from collections.abc import AsyncIterator

import httpx
import pytest
from fastapi import APIRouter, FastAPI

from flotilla.app import create_service_app
from flotilla.settings import Environment, ServiceSettings
from flotilla.testing.settings import settings_for_test

router = APIRouter()


@router.get("/things/")
async def list_things() -> list[str]:
    return ["lamp"]


@router.post("/things/", status_code=201)
async def add_thing() -> str:
    return "added"


@router.get("/things/{thing_id}")
async def read_thing(thing_id: int) -> int:
    return thing_id


@router.put("/things/{thing_id}")
async def replace_thing(thing_id: int) -> int:
    return thing_id


@router.delete("/things/{thing_id}", status_code=204)
async def delete_thing(thing_id: int) -> None:
    return None


@router.post("/actions/run")
async def run_action() -> str:
    return "ran"


def app_with(**settings: object) -> FastAPI:
    return create_service_app(
        name="things",
        version="1",
        settings=settings_for_test(ServiceSettings, environment=Environment.TEST, **settings),
        routers=[router],
    )


@pytest.fixture
async def client() -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(app=app_with())
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
        yield client


@pytest.mark.parametrize("path", ["/things/", "/things/7", "/healthz"])
async def test_head_answers_like_get(client: httpx.AsyncClient, path: str) -> None:
    get = await client.get(path)

    head = await client.head(path)

    assert head.status_code == get.status_code == 200
    assert head.headers["content-length"] == get.headers["content-length"]
    assert head.headers["content-type"] == get.headers["content-type"]


@pytest.mark.parametrize(
    ("method", "path", "allow"),
    [
        ("OPTIONS", "/things/", "GET, HEAD, POST"),
        ("PATCH", "/things/", "GET, HEAD, POST"),
        ("DELETE", "/things/", "GET, HEAD, POST"),
        ("OPTIONS", "/things/7", "DELETE, GET, HEAD, PUT"),
        ("POST", "/things/7", "DELETE, GET, HEAD, PUT"),
        ("HEAD", "/actions/run", "POST"),
        ("GET", "/actions/run", "POST"),
        ("POST", "/healthz", "GET, HEAD"),
    ],
)
async def test_405_lists_every_method_the_path_serves(
    client: httpx.AsyncClient, method: str, path: str, allow: str
) -> None:
    response = await client.request(method, path)

    assert response.status_code == 405
    assert response.headers["allow"] == allow
    if method != "HEAD":
        assert response.json() == {"detail": "Method Not Allowed"}


async def test_an_unknown_path_is_404_for_any_method(client: httpx.AsyncClient) -> None:
    response = await client.options("/nothing/here")

    assert response.status_code == 404


async def test_a_cors_preflight_is_answered_when_cors_is_configured() -> None:
    app = app_with(cors_allow_origins=["https://app.example"])
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
        response = await client.options(
            "/things/",
            headers={"Origin": "https://app.example", "Access-Control-Request-Method": "POST"},
        )

    assert response.status_code == 200
    assert response.headers["access-control-allow-origin"] == "https://app.example"


async def test_a_plain_options_stays_405_when_cors_is_configured() -> None:
    app = app_with(cors_allow_origins=["https://app.example"])
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
        response = await client.options("/things/")

    assert response.status_code == 405
    assert response.headers["allow"] == "GET, HEAD, POST"
