"""Login input the database cannot hold is a 422, never a 500 (found by ``nox -s fuzz``)."""

import httpx
import pytest

from ..conftest import PASSWORD


@pytest.mark.parametrize("username", ["a\x00b", "ada\x00@example.com"])
async def test_a_nul_in_the_username_is_422(client: httpx.AsyncClient, username: str) -> None:
    response = await client.post(
        "/api/v1/auth/token", data={"username": username, "password": PASSWORD}
    )

    assert response.status_code == 422
    assert [tuple(error["loc"]) for error in response.json()["detail"]] == [("body", "username")]


async def test_a_nul_in_the_password_is_just_a_wrong_password(client: httpx.AsyncClient) -> None:
    response = await client.post(
        "/api/v1/auth/token", data={"username": "ada@example.com", "password": "a\x00b"}
    )

    assert response.status_code == 401
